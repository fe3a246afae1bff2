/* Unit tests for the catalog's slugs (services/catalog/slug.c).
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

#include "../../services/catalog/slug.c"

/* slug_from_text(text, max) equals 'want'. */
static void expect_slug(const char *text, size_t max, const char *want)
{
    char *s = slug_from_text(text, max);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

static void ascii(void **state)
{
    (void)state;
    expect_slug("Red Wool Sweater", 100, "red-wool-sweater");
    expect_slug("  --Hello,   World!!  ", 100, "hello-world");
    expect_slug("Men's T-Shirt (XL) 2024", 100, "men-s-t-shirt-xl-2024");
    expect_slug("a_b.c/d\\e", 100, "a-b-c-d-e");
    expect_slug("UPPER lower 123", 100, "upper-lower-123");
}

static void transliterated(void **state)
{
    (void)state;
    expect_slug("Crème Brûlée", 100, "creme-brulee");
    expect_slug("Straße", 100, "strasse");
    expect_slug("Ærøskøbing Œuvre", 100, "aeroskobing-oeuvre");
    expect_slug("Łódź Żółć", 100, "lodz-zolc");
    expect_slug("ÀÁÂÃÄÅ àáâãäå Çç Ññ Ÿÿ", 100, "aaaaaa-aaaaaa-cc-nn-yy");
}

static void dropped(void **state)
{
    (void)state;
    expect_slug("日本語 Mug", 100, "mug");
    expect_slug("Tea🍮Cup", 100, "teacup"); /* dropped, not a separator */
    expect_slug("🍮🍮", 100, "");
    expect_slug("", 100, "");
    expect_slug(NULL, 100, "");
    expect_slug("5 × 3 ÷ 1", 100, "5-3-1");
    expect_slug("bad\xff\xfe utf8 \xc3", 100, "bad-utf8");
    expect_slug("trunc\xe2\x82", 100, "trunc");
}

static void bounded(void **state)
{
    (void)state;
    expect_slug("red wool sweater", 12, "red-wool"); /* cut at a word */
    expect_slug("abcdefghijklmnop", 5, "abcde");     /* one long word: cut inside */
    expect_slug("ab cd", 3, "ab");
    expect_slug("ßßß", 4, "ssss"); /* a transliteration never overflows */
    char *long_text = malloc(5001);
    assert_non_null(long_text);
    memset(long_text, 'x', 5000);
    long_text[5000] = '\0';
    char *s = slug_from_text(long_text, 180);
    assert_int_equal(strlen(s), 180);
    free(s);
    free(long_text);
}

static void every_result_is_valid(void **state)
{
    (void)state;
    const char *inputs[] = {"Crème Brûlée", "  a  ", "--x--", "Zoë & Ünïcödé", "1", "a-b"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char *s = slug_from_text(inputs[i], 50);
        assert_true(slug_valid(s, 50));
        free(s);
    }
}

static void validity(void **state)
{
    (void)state;
    assert_true(slug_valid("a", 10));
    assert_true(slug_valid("red-wool-2", 10));
    assert_false(slug_valid("", 10));
    assert_false(slug_valid(NULL, 10));
    assert_false(slug_valid("-a", 10));
    assert_false(slug_valid("a-", 10));
    assert_false(slug_valid("a--b", 10));
    assert_false(slug_valid("A", 10));
    assert_false(slug_valid("a b", 10));
    assert_false(slug_valid("a_b", 10));
    assert_false(slug_valid("ü", 10));
    assert_false(slug_valid("abcdefghijk", 10));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ascii),
        cmocka_unit_test(transliterated),
        cmocka_unit_test(dropped),
        cmocka_unit_test(bounded),
        cmocka_unit_test(every_result_is_valid),
        cmocka_unit_test(validity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
