/*
 * test_gateway_cors.c - the gateway's CORS allow-list parsing and lookup
 * (services/gateway/cors_origins.c, compiled in).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../services/gateway/cors_origins.c"

static bool allowed(const struct gw_origins *l, const char *origin)
{
    return gw_origins_allowed(l, origin, strlen(origin));
}

static void test_parse_trims_and_normalises(void **state)
{
    (void)state;
    struct gw_origins l;
    size_t rejected = 99;
    assert_int_equal(
        gw_origins_parse(" http://localhost:3010 ,HTTPS://Shop.Example/,, http://127.0.0.1:3010",
                         &l, &rejected),
        0);
    assert_int_equal(rejected, 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.items[0], "http://localhost:3010");
    assert_string_equal(l.items[1], "https://shop.example");
    assert_string_equal(l.items[2], "http://127.0.0.1:3010");
    assert_true(allowed(&l, "http://localhost:3010"));
    assert_true(allowed(&l, "https://shop.example"));
    assert_true(allowed(&l, "https://SHOP.example"));
    assert_false(allowed(&l, "http://localhost:3011"));
    assert_false(allowed(&l, "http://localhost:301"));
    assert_false(allowed(&l, "http://localhost:3010.evil.example"));
    assert_false(allowed(&l, "https://localhost:3010"));
    assert_false(allowed(&l, ""));
    gw_origins_free(&l);
    assert_int_equal(l.n, 0);
}

static void test_wildcard_and_null_are_refused(void **state)
{
    (void)state;
    struct gw_origins l;
    size_t rejected = 0;
    assert_int_equal(gw_origins_parse("*, null ,http://a.example", &l, &rejected), 0);
    assert_int_equal(rejected, 2);
    assert_int_equal(l.n, 1);
    assert_false(allowed(&l, "*"));
    assert_false(allowed(&l, "null"));
    assert_true(allowed(&l, "http://a.example"));
    gw_origins_free(&l);
}

static void test_empty_lists(void **state)
{
    (void)state;
    struct gw_origins l;
    assert_int_equal(gw_origins_parse("", &l, NULL), 0);
    assert_int_equal(l.n, 0);
    assert_false(allowed(&l, "http://localhost:3010"));
    gw_origins_free(&l);
    assert_int_equal(gw_origins_parse(NULL, &l, NULL), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(gw_origins_parse(" , ,", &l, NULL), 0);
    assert_int_equal(l.n, 0);
    gw_origins_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_trims_and_normalises),
        cmocka_unit_test(test_wildcard_and_null_are_refused),
        cmocka_unit_test(test_empty_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
