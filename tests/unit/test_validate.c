/* Unit tests for input validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/validate.h"

static void utf8(void **state)
{
    (void)state;
    assert_int_equal(utf8_length("abc"), 3);
    assert_int_equal(utf8_length("Zo\xc3\xab"), 3);        /* Zoë */
    assert_int_equal(utf8_length("\xf0\x9f\x9b\x92"), 1);  /* 🛒 */
    assert_int_equal(utf8_length("\xc3"), -1);             /* truncated */
    assert_int_equal(utf8_length("\xc0\xaf"), -1);         /* overlong '/' */
    assert_int_equal(utf8_length("\xed\xa0\x80"), -1);     /* surrogate */
    assert_int_equal(utf8_length("\xf4\x90\x80\x80"), -1); /* > U+10FFFF */
    assert_true(has_control_chars("a\nb"));
    assert_true(has_control_chars("a\xc2\x85"));
    assert_false(has_control_chars("Robert'); DROP TABLE users;--"));
}

static void emails(void **state)
{
    (void)state;
    assert_true(valid_email("ann@example.com"));
    assert_true(valid_email("o'brien+shop@mail.example.co.uk"));
    assert_false(valid_email("ann"));
    assert_false(valid_email("ann@"));
    assert_false(valid_email("@example.com"));
    assert_false(valid_email("ann@example"));
    assert_false(valid_email("ann@@example.com"));
    assert_false(valid_email("a nn@example.com"));
    assert_false(valid_email("ann@example..com"));
    assert_false(valid_email("ann@example.com\n"));
}

static void uuids(void **state)
{
    (void)state;
    assert_true(valid_uuid("0b6f4c1e-6d1e-4f7a-9a57-3f2d8e0c1a11"));
    assert_false(valid_uuid("0b6f4c1e6d1e4f7a9a573f2d8e0c1a11"));
    assert_false(valid_uuid("zb6f4c1e-6d1e-4f7a-9a57-3f2d8e0c1a11"));
    assert_false(valid_uuid(NULL));
}

static void strings_and_errors(void **state)
{
    (void)state;
    json_t *body = json_pack("{s:s, s:i, s:s, s:s, s:b}", "name", "Zo\xc3\xab", "age", 5, "bio",
                             "line1\nline2", "role", "ROOT", "ok", 1);
    json_t *errors = NULL;
    assert_string_equal(v_string(body, "name", true, 1, 3, true, &errors), "Zo\xc3\xab");
    assert_null(errors);
    assert_null(v_string(body, "name", true, 1, 2, true, &errors)); /* too long */
    assert_null(v_string(body, "age", true, 1, 2, true, &errors));  /* not a string */
    assert_null(v_string(body, "missing", true, 1, 2, true, &errors));
    assert_null(v_string(body, "optional", false, 1, 2, true, &errors)); /* no error */
    assert_null(v_string(body, "bio", true, 1, 100, true, &errors));     /* control chars */
    assert_non_null(v_string(body, "bio", true, 1, 100, false, &errors));
    const char *roles[] = {"CUSTOMER", "SELLER", NULL};
    assert_null(v_enum(body, "role", true, roles, &errors));
    assert_int_equal(v_bool(body, "ok", true, &errors), 1);
    long long n = 0;
    assert_true(v_int(body, "age", true, 0, 10, &n, &errors));
    assert_int_equal(n, 5);
    assert_false(v_int(body, "age", true, 6, 10, &n, &errors));
    assert_int_equal(json_array_size(errors), 6);
    json_decref(errors);
    errors = NULL;
    const char *known[] = {"name", "age", NULL};
    v_no_unknown(body, known, &errors);
    assert_int_equal(json_array_size(errors), 3);
    json_decref(errors);
    json_decref(body);
}

static void pagination(void **state)
{
    (void)state;
    long page, limit;
    json_t *errors = NULL;
    v_page(NULL, NULL, 20, 100, &page, &limit, &errors);
    assert_int_equal(page, 1);
    assert_int_equal(limit, 20);
    v_page("3", "50", 20, 100, &page, &limit, &errors);
    assert_int_equal(page, 3);
    assert_int_equal(limit, 50);
    assert_null(errors);
    v_page("0", "1000", 20, 100, &page, &limit, &errors);
    assert_int_equal(json_array_size(errors), 2);
    json_decref(errors);
    errors = NULL;
    v_page("1; DROP", "-1", 20, 100, &page, &limit, &errors);
    assert_int_equal(json_array_size(errors), 2);
    json_decref(errors);
}

static void percent_decoding(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(percent_decode("a%20b%2Cc+d", 11, out, sizeof out), 7);
    assert_string_equal(out, "a b,c+d");
    assert_int_equal(percent_decode("%C3%ab", 6, out, sizeof out), 2); /* either case */
    assert_memory_equal(out, "\xc3\xab", 3);
    assert_int_equal(percent_decode("", 0, out, sizeof out), 0);
    assert_string_equal(out, "");
    /* malformed, NUL, or too long for 'out' */
    const char *bad[] = {"%", "%2", "a%2", "%zz", "%0g", "%00", "x%00y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(percent_decode(bad[i], strlen(bad[i]), out, sizeof out), -1);
    assert_int_equal(percent_decode("abcd", 4, out, 4), -1); /* no room for the NUL */
    assert_int_equal(percent_decode("abc", 3, out, 4), 3);
    assert_int_equal(percent_decode("a", 1, out, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8),       cmocka_unit_test(emails),
        cmocka_unit_test(uuids),      cmocka_unit_test(strings_and_errors),
        cmocka_unit_test(pagination), cmocka_unit_test(percent_decoding),
    };
    return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
