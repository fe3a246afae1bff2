/* Unit tests for the auth service's opaque tokens, client address and user
 * agent handling, and login slow-down (services/auth/tokens.c,
 * client_info.c, lockout.c). Service sources are compiled in directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/auth/client_info.c"
#include "../../services/auth/lockout.c"
#include "../../services/auth/settings.c"
#include "../../services/auth/tokens.c"

static void tokens_are_43_base64url_chars_and_differ(void **state)
{
    (void)state;
    char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1];
    token_new(a);
    token_new(b);
    assert_int_equal(strlen(a), 43);
    assert_true(token_well_formed(a));
    assert_true(token_well_formed(b));
    assert_string_not_equal(a, b);
}

static void malformed_tokens_are_refused(void **state)
{
    (void)state;
    assert_false(token_well_formed(NULL));
    assert_false(token_well_formed(""));
    assert_false(token_well_formed("abc"));
    char t[TOKEN_LEN + 2];
    memset(t, 'A', TOKEN_LEN);
    t[TOKEN_LEN] = '\0';
    assert_true(token_well_formed(t));
    t[5] = '+'; /* standard base64, not url-safe */
    assert_false(token_well_formed(t));
    t[5] = 'A';
    t[TOKEN_LEN] = 'A';
    t[TOKEN_LEN + 1] = '\0';
    assert_false(token_well_formed(t));
}

static void digest_is_hex_sha256(void **state)
{
    (void)state;
    char d[TOKEN_HASH_LEN + 1];
    token_digest("abc", d);
    assert_string_equal(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void xff_takes_the_last_valid_hop(void **state)
{
    (void)state;
    char ip[CLIENT_IP_LEN];
    assert_true(xff_last_hop("1.2.3.4", ip));
    assert_string_equal(ip, "1.2.3.4");
    assert_true(xff_last_hop("6.6.6.6, 10.0.0.1 ,  192.0.2.7 ", ip));
    assert_string_equal(ip, "192.0.2.7");
    assert_true(xff_last_hop("spoofed, 2001:DB8::1", ip));
    assert_string_equal(ip, "2001:db8::1");
    assert_false(xff_last_hop("1.2.3.4, not-an-ip", ip));
    assert_false(xff_last_hop("", ip));
    assert_false(xff_last_hop(NULL, ip));
    assert_false(xff_last_hop("1.2.3.4,", ip));
    assert_false(xff_last_hop("1111:2222:3333:4444:5555:6666:7777:8888:9999:0000", ip));
}

static void sanitize_keeps_utf8_and_cuts_at_boundaries(void **state)
{
    (void)state;
    char *s = text_sanitize("Mozilla/5.0 Zoë", 512);
    assert_string_equal(s, "Mozilla/5.0 Zoë");
    free(s);
    s = text_sanitize("bad\xff\x01line\n", 512);
    assert_string_equal(s, "bad??line?");
    free(s);
    s = text_sanitize("aé", 2); /* é is 2 bytes: never cut in half */
    assert_string_equal(s, "a");
    free(s);
    s = text_sanitize(NULL, 10);
    assert_string_equal(s, "");
    free(s);
}

static void slowdown_grows_and_is_capped(void **state)
{
    (void)state;
    assert_int_equal(lockout_delay_ms(-1), 0);
    assert_int_equal(lockout_delay_ms(1), 0);
    assert_int_equal(lockout_delay_ms(2), 150);
    assert_int_equal(lockout_delay_ms(5), 600);
    assert_int_equal(lockout_delay_ms(100), 1000);
}

static void account_keys(void **state)
{
    (void)state;
    char a[80], b[80];
    lockout_account_key("0b6f4c1e-6d1e-4f7a-9a57-3f2d8e0c1a11", "x@y.z", a);
    assert_string_equal(a, "u:0b6f4c1e-6d1e-4f7a-9a57-3f2d8e0c1a11");
    lockout_account_key(NULL, "Ann@Example.COM", a);
    lockout_account_key(NULL, "ann@example.com", b);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), 2 + 64);
    char huge[4000];
    memset(huge, 'q', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    lockout_account_key(NULL, huge, a);
    assert_int_equal(strlen(a), 2 + 64);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tokens_are_43_base64url_chars_and_differ),
        cmocka_unit_test(malformed_tokens_are_refused),
        cmocka_unit_test(digest_is_hex_sha256),
        cmocka_unit_test(xff_takes_the_last_valid_hop),
        cmocka_unit_test(sanitize_keeps_utf8_and_cuts_at_boundaries),
        cmocka_unit_test(slowdown_grows_and_is_capped),
        cmocka_unit_test(account_keys),
    };
    return cmocka_run_group_tests_name("auth tokens", tests, NULL, NULL);
}
