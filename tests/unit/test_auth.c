/* Unit tests for access tokens: round trip, expiry, tampering, alg none,
 * issuer and audience. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/auth.h"

static char *sign_for(const char *role, long iat, long exp)
{
    struct auth_claims c = {0};
    snprintf(c.sub, sizeof c.sub, "%s", "0b6f4c1e-6d1e-4f7a-9a57-3f2d8e0c1a11");
    snprintf(c.email, sizeof c.email, "%s", "ann@example.com");
    snprintf(c.role, sizeof c.role, "%s", role);
    c.iat = iat;
    c.exp = exp;
    c.permissions = json_pack("[s,s]", "orders:read", "profile:write");
    char *t = auth_sign(&c);
    auth_claims_clear(&c);
    return t;
}

static void round_trip(void **state)
{
    (void)state;
    char *t = sign_for("CUSTOMER", 0, 0);
    assert_non_null(t);
    struct auth_claims c;
    char why[64];
    assert_int_equal(auth_verify(t, time(NULL), &c, why, sizeof why), 0);
    assert_string_equal(c.role, "CUSTOMER");
    assert_string_equal(c.email, "ann@example.com");
    assert_int_equal(c.exp - c.iat, auth_access_ttl());
    assert_int_equal(strlen(c.jti), 36);
    assert_true(auth_has_permission(&c, "orders:read"));
    assert_false(auth_has_permission(&c, "orders:write"));
    auth_claims_clear(&c);
    free(t);
}

static void expired_is_rejected(void **state)
{
    (void)state;
    time_t now = time(NULL);
    char *t = sign_for("ADMIN", (long)now - 1000, (long)now - 10);
    struct auth_claims c;
    char why[64];
    assert_int_equal(auth_verify(t, now, &c, why, sizeof why), -1);
    assert_string_equal(why, "token expired");
    free(t);
}

/* Flip one character of the signature (the last segment). */
static void tampered_signature(void **state)
{
    (void)state;
    char *t = sign_for("CUSTOMER", 0, 0);
    size_t n = strlen(t);
    t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';
    struct auth_claims c;
    char why[64];
    assert_int_equal(auth_verify(t, time(NULL), &c, why, sizeof why), -1);
    free(t);
}

/* Replace the payload with one claiming role ADMIN, keeping the signature. */
static void tampered_payload(void **state)
{
    (void)state;
    char *t = sign_for("CUSTOMER", 0, 0);
    char *dot1 = strchr(t, '.'), *dot2 = strrchr(t, '.');
    const char *payload =
        "{\"sub\":\"x\",\"role\":\"ADMIN\",\"jti\":\"j\",\"iat\":1,"
        "\"exp\":9999999999,\"iss\":\"ecommerce-auth\",\"aud\":\"ecommerce-api\"}";
    char b64[512];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)payload, strlen(payload),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char forged[1024];
    snprintf(forged, sizeof forged, "%.*s.%s%s", (int)(dot1 - t), t, b64, dot2);
    struct auth_claims c;
    char why[64];
    assert_int_equal(auth_verify(forged, time(NULL), &c, why, sizeof why), -1);
    free(t);
}

static void alg_none_is_rejected(void **state)
{
    (void)state;
    const char *header = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
    const char *payload =
        "{\"sub\":\"x\",\"role\":\"ADMIN\",\"jti\":\"j\",\"iat\":1,"
        "\"exp\":9999999999,\"iss\":\"ecommerce-auth\",\"aud\":\"ecommerce-api\"}";
    char h[128], p[512], tok[1024];
    sodium_bin2base64(h, sizeof h, (const unsigned char *)header, strlen(header),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_bin2base64(p, sizeof p, (const unsigned char *)payload, strlen(payload),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(tok, sizeof tok, "%s.%s.", h, p);
    struct auth_claims c;
    char why[64];
    assert_int_equal(auth_verify(tok, time(NULL), &c, why, sizeof why), -1);
    snprintf(tok, sizeof tok, "%s.%s", h, p);
    assert_int_equal(auth_verify(tok, time(NULL), &c, why, sizeof why), -1);
}

static void wrong_issuer_or_audience(void **state)
{
    (void)state;
    char *t = sign_for("CUSTOMER", 0, 0);
    setenv("JWT_ISSUER", "someone-else", 1);
    assert_int_equal(auth_configure(), 0);
    struct auth_claims c;
    char why[64];
    assert_int_equal(auth_verify(t, time(NULL), &c, why, sizeof why), -1);
    assert_string_equal(why, "wrong issuer");
    unsetenv("JWT_ISSUER");
    setenv("JWT_AUDIENCE", "other-api", 1);
    assert_int_equal(auth_configure(), 0);
    assert_int_equal(auth_verify(t, time(NULL), &c, why, sizeof why), -1);
    assert_string_equal(why, "wrong audience");
    unsetenv("JWT_AUDIENCE");
    assert_int_equal(auth_configure(), 0);
    assert_int_equal(auth_verify(t, time(NULL), &c, why, sizeof why), 0);
    auth_claims_clear(&c);
    free(t);
}

static void garbage_tokens(void **state)
{
    (void)state;
    const char *bad[] = {"", "abc", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9..", NULL};
    struct auth_claims c;
    char why[64];
    for (int i = 0; bad[i]; i++)
        assert_int_equal(auth_verify(bad[i], time(NULL), &c, why, sizeof why), -1);
    assert_int_equal(auth_verify(NULL, time(NULL), &c, why, sizeof why), -1);
}

int main(void)
{
    if (sodium_init() < 0 || auth_configure() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),           cmocka_unit_test(expired_is_rejected),
        cmocka_unit_test(tampered_signature),   cmocka_unit_test(tampered_payload),
        cmocka_unit_test(alg_none_is_rejected), cmocka_unit_test(wrong_issuer_or_audience),
        cmocka_unit_test(garbage_tokens),
    };
    return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
