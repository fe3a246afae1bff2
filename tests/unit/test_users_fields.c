/* Unit tests for the users service's field format checks.
 *
 * The Makefile links unit tests against the core library only, so the
 * service's pure source file is compiled into this test directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../services/users/fields.c"

static void phones(void **state)
{
    (void)state;
    assert_true(users_valid_phone("+14155550123"));
    assert_true(users_valid_phone("+351 912 345 678"));
    assert_true(users_valid_phone("+1 415-555-0123"));
    assert_true(users_valid_phone("+1234567"));           /* 7 digits */
    assert_true(users_valid_phone("+123456789012345"));   /* 15 digits */
    assert_false(users_valid_phone("+123456"));           /* 6 digits */
    assert_false(users_valid_phone("+1234567890123456")); /* 16 digits */
    assert_false(users_valid_phone("14155550123"));       /* no '+' */
    assert_false(users_valid_phone("+04155550123"));      /* leading 0 */
    assert_false(users_valid_phone("+1  4155550123"));    /* double separator */
    assert_false(users_valid_phone("+1 415 555 0123 "));  /* trailing separator */
    assert_false(users_valid_phone("+1 (415) 5550123"));
    assert_false(users_valid_phone("+1415555O123")); /* letter O */
    assert_false(users_valid_phone("+"));
    assert_false(users_valid_phone(""));
    assert_false(users_valid_phone(NULL));
}

static void urls(void **state)
{
    (void)state;
    assert_true(users_valid_https_url("https://cdn.example.com/a/b.png?s=64#x"));
    assert_true(users_valid_https_url("HTTPS://Example.COM"));
    assert_true(users_valid_https_url("https://img.example.com:8443/a%20b.png"));
    assert_false(users_valid_https_url("http://example.com/a.png"));
    assert_false(users_valid_https_url("https://"));
    assert_false(users_valid_https_url("https://localhost/a.png")); /* no dot */
    assert_false(users_valid_https_url("https://user@evil.example/"));
    assert_false(users_valid_https_url("https://exa mple.com/"));
    assert_false(users_valid_https_url("https://example.com/a b"));
    assert_false(users_valid_https_url("https://example.com/\xc3\xa9")); /* raw UTF-8 */
    assert_false(users_valid_https_url("https://-bad.example.com/"));
    assert_false(users_valid_https_url("https://bad-.example.com/"));
    assert_false(users_valid_https_url("https://a..example.com/"));
    assert_false(users_valid_https_url("https://example.com./"));
    assert_false(users_valid_https_url("https://example.com:/"));
    assert_false(users_valid_https_url("https://example.com:123456/"));
    assert_false(users_valid_https_url("javascript:alert(1)"));
    assert_false(users_valid_https_url("https:/example.com"));
    assert_false(users_valid_https_url(NULL));

    size_t n = 2100;
    char *long_url = malloc(n + 1);
    assert_non_null(long_url);
    memcpy(long_url, "https://example.com/", 20);
    memset(long_url + 20, 'a', n - 20);
    long_url[n] = '\0';
    assert_false(users_valid_https_url(long_url));
    long_url[2048] = '\0';
    assert_true(users_valid_https_url(long_url));
    free(long_url);
}

static void birth_dates(void **state)
{
    (void)state;
    assert_null(users_birth_date_error("1990-02-28", 2024, 6, 15));
    assert_null(users_birth_date_error("2000-02-29", 2024, 6, 15)); /* leap (400) */
    assert_null(users_birth_date_error("2024-06-15", 2024, 6, 15)); /* today */
    assert_null(users_birth_date_error("1900-01-01", 2024, 6, 15));
    assert_non_null(users_birth_date_error("1900-02-29", 2024, 6, 15)); /* not leap (100) */
    assert_non_null(users_birth_date_error("2001-02-29", 2024, 6, 15));
    assert_non_null(users_birth_date_error("2024-06-16", 2024, 6, 15)); /* tomorrow */
    assert_non_null(users_birth_date_error("1899-12-31", 2024, 6, 15));
    assert_non_null(users_birth_date_error("1990-04-31", 2024, 6, 15));
    assert_non_null(users_birth_date_error("1990-13-01", 2024, 6, 15));
    assert_non_null(users_birth_date_error("1990-00-10", 2024, 6, 15));
    assert_non_null(users_birth_date_error("1990-1-1", 2024, 6, 15));
    assert_non_null(users_birth_date_error("1990/01/01", 2024, 6, 15));
    assert_non_null(users_birth_date_error("199O-01-01", 2024, 6, 15));
    assert_non_null(users_birth_date_error("", 2024, 6, 15));
    assert_non_null(users_birth_date_error(NULL, 2024, 6, 15));
    assert_null(users_birth_date_error_now("1990-02-28"));
    assert_non_null(users_birth_date_error_now("9999-12-31"));
}

static void countries(void **state)
{
    (void)state;
    assert_true(users_valid_country("PT"));
    assert_true(users_valid_country("AD")); /* first in the table */
    assert_true(users_valid_country("ZW")); /* last */
    assert_true(users_valid_country("US"));
    assert_false(users_valid_country("pt"));
    assert_false(users_valid_country("XX"));
    assert_false(users_valid_country("UK")); /* GB is the code */
    assert_false(users_valid_country("PRT"));
    assert_false(users_valid_country("P"));
    assert_false(users_valid_country("D "));
    assert_false(users_valid_country(" A"));
    assert_false(users_valid_country(""));
    assert_false(users_valid_country(NULL));
    /* the table really has 249 codes, each upper case and valid */
    int count = 0;
    for (char a = 'A'; a <= 'Z'; a++)
        for (char b = 'A'; b <= 'Z'; b++)
            count += users_valid_country((char[]){a, b, '\0'});
    assert_int_equal(count, 249);
}

static void languages(void **state)
{
    (void)state;
    assert_true(users_valid_language("en"));
    assert_true(users_valid_language("pt-BR"));
    assert_true(users_valid_language("pt-br"));
    assert_true(users_valid_language("zh-Hant-TW"));
    assert_true(users_valid_language("es-419"));
    assert_true(users_valid_language("de-CH-1901"));
    assert_true(users_valid_language("sl-rozaj"));
    assert_true(users_valid_language("ast"));
    assert_false(users_valid_language("e"));
    assert_false(users_valid_language("english"));
    assert_false(users_valid_language("en_US"));
    assert_false(users_valid_language("en-"));
    assert_false(users_valid_language("-en"));
    assert_false(users_valid_language("en--US"));
    assert_false(users_valid_language("en-US-Latn")); /* script after region */
    assert_false(users_valid_language("en-U"));
    assert_false(users_valid_language("e1"));
    assert_false(users_valid_language("en-US-abcdefghi"));
    assert_false(users_valid_language(""));
    assert_false(users_valid_language(NULL));
}

static void currencies_and_postal_codes(void **state)
{
    (void)state;
    assert_true(users_valid_currency("EUR"));
    assert_false(users_valid_currency("eur"));
    assert_false(users_valid_currency("EU"));
    assert_false(users_valid_currency("EURO"));
    assert_false(users_valid_currency("E1R"));
    assert_false(users_valid_currency(NULL));

    assert_true(users_valid_postal_code("1100-048"));
    assert_true(users_valid_postal_code("SW1A 1AA"));
    assert_true(users_valid_postal_code("10115"));
    assert_false(users_valid_postal_code(""));
    assert_false(users_valid_postal_code(" 10115"));
    assert_false(users_valid_postal_code("10115-"));
    assert_false(users_valid_postal_code("12 -34"));
    assert_false(users_valid_postal_code("12345678901234567")); /* 17 */
    assert_false(users_valid_postal_code("1'; DROP"));
}

static void like_patterns(void **state)
{
    (void)state;
    struct {
        const char *in, *out;
    } cases[] = {
        {"ann", "%ann%"},
        {"%", "%\\%%"},
        {"_", "%\\_%"},
        {"\\", "%\\\\%"},
        {"50%_off\\", "%50\\%\\_off\\\\%"},
        {"", "%%"},
        {"Zo\xc3\xab", "%Zo\xc3\xab%"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = users_like_pattern(cases[i].in);
        assert_non_null(p);
        assert_string_equal(p, cases[i].out);
        free(p);
    }
}

static void roles_and_blank(void **state)
{
    (void)state;
    assert_int_equal(users_role_rank("SUPERADMIN"), 4);
    assert_int_equal(users_role_rank("ADMIN"), 3);
    assert_int_equal(users_role_rank("SELLER"), 2);
    assert_int_equal(users_role_rank("CUSTOMER"), 1);
    assert_int_equal(users_role_rank("admin"), 0);
    assert_int_equal(users_role_rank(NULL), 0);
    assert_true(users_valid_role("SELLER"));
    assert_false(users_valid_role("ROOT"));
    assert_true(users_blank(""));
    assert_true(users_blank(" \t "));
    assert_false(users_blank(" a "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(phones),        cmocka_unit_test(urls),
        cmocka_unit_test(birth_dates),   cmocka_unit_test(countries),
        cmocka_unit_test(languages),     cmocka_unit_test(currencies_and_postal_codes),
        cmocka_unit_test(like_patterns), cmocka_unit_test(roles_and_blank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
