/*
 * test_gateway_routes.c - the gateway's public-route and strict-bucket tables
 * (services/gateway/guard_routes.c, compiled in).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../services/gateway/guard_routes.c"

static bool is_public(const char *method, const char *path)
{
    return gw_route_is_public(method, strlen(method), path, strlen(path));
}

static bool is_strict(const char *method, const char *path)
{
    return gw_route_is_auth_strict(method, strlen(method), path, strlen(path));
}

static void test_method_bits(void **state)
{
    (void)state;
    assert_int_equal(gw_method_bit("GET", 3), GW_M_GET);
    assert_int_equal(gw_method_bit("HEAD", 4), GW_M_HEAD);
    assert_int_equal(gw_method_bit("OPTIONS", 7), GW_M_OPTIONS);
    assert_int_equal(gw_method_bit("get", 3), GW_M_OTHER); /* methods are case-sensitive */
    assert_int_equal(gw_method_bit("GETX", 4), GW_M_OTHER);
    assert_int_equal(gw_method_bit("", 0), GW_M_OTHER);
}

static void test_exact_and_prefix(void **state)
{
    (void)state;
    struct gw_route_rule exact = {GW_M_POST, GW_EXACT, "/auth/login"};
    struct gw_route_rule prefix = {GW_M_READ, GW_PREFIX, "/products"};
    assert_true(gw_rule_path_matches(&exact, "/auth/login", 11));
    assert_false(gw_rule_path_matches(&exact, "/auth/login/", 12));
    assert_false(gw_rule_path_matches(&exact, "/auth/logi", 10));
    assert_false(gw_rule_path_matches(&exact, "/auth/loginx", 12));
    assert_true(gw_rule_path_matches(&prefix, "/products", 9));
    assert_true(gw_rule_path_matches(&prefix, "/products/", 10));
    assert_true(gw_rule_path_matches(&prefix, "/products/42/reviews", 20));
    assert_false(gw_rule_path_matches(&prefix, "/productsx", 10));
    assert_false(gw_rule_path_matches(&prefix, "/product", 8));
    /* only the given length counts: no reading past it */
    assert_false(gw_rule_path_matches(&prefix, "/products", 5));
}

static void test_public_routes(void **state)
{
    (void)state;
    static const char *const auth_public[] = {
        "/auth/register",        "/auth/login",          "/auth/refresh",     "/auth/logout",
        "/auth/password/forgot", "/auth/password/reset", "/auth/verify-email"};
    for (size_t i = 0; i < sizeof auth_public / sizeof auth_public[0]; i++) {
        assert_true(is_public("POST", auth_public[i]));
        assert_false(is_public("GET", auth_public[i]));
        assert_false(is_public("DELETE", auth_public[i]));
    }
    assert_true(is_public("GET", "/products"));
    assert_true(is_public("HEAD", "/products/abc"));
    assert_true(is_public("GET", "/categories/1/products"));
    assert_true(is_public("POST", "/socket.io/"));
    assert_true(is_public("GET", "/socket.io"));
    assert_true(is_public("GET", "/services/auth/health"));
}

static void test_protected_routes(void **state)
{
    (void)state;
    assert_false(is_public("POST", "/products"));
    assert_false(is_public("PATCH", "/products/1"));
    assert_false(is_public("DELETE", "/categories/1"));
    assert_false(is_public("GET", "/auth/me"));
    assert_false(is_public("POST", "/auth/logout-all"));
    assert_false(is_public("POST", "/auth/verify-email/resend"));
    assert_false(is_public("POST", "/auth/password/change"));
    assert_false(is_public("GET", "/users/me"));
    assert_false(is_public("GET", "/orders"));
    assert_false(is_public("GET", "/cart"));
    assert_false(is_public("GET", "/inventory"));
    assert_false(is_public("GET", "/productsx"));
    assert_false(is_public("BREW", "/products"));
    assert_false(is_public("POST", "/services/auth/health"));
}

static void test_strict_bucket(void **state)
{
    (void)state;
    assert_true(is_strict("POST", "/auth/login"));
    assert_true(is_strict("POST", "/auth/register"));
    assert_false(is_strict("GET", "/auth/login"));
    assert_false(is_strict("POST", "/auth/refresh"));
    assert_false(is_strict("POST", "/auth/login/x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_bits),   cmocka_unit_test(test_exact_and_prefix),
        cmocka_unit_test(test_public_routes), cmocka_unit_test(test_protected_routes),
        cmocka_unit_test(test_strict_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
