/*
 * test_gateway_jsonline.c - the gateway's access-line writer
 * (services/gateway/jsonline.c, compiled in) must write what core's
 * log_fields writes: valid, ASCII-only JSON with the same keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../services/gateway/jsonline.c"

#include <jansson.h>
#include <string.h>

/* Finish 'j', check it is one ASCII line of JSON, return it parsed. */
static json_t *finish(struct jsonline *j)
{
    size_t n = 0;
    const char *line = jsonline_end(j, &n);
    assert_non_null(line);
    assert_true(n > 2);
    assert_int_equal(line[n - 1], '\n');
    for (size_t i = 0; i + 1 < n; i++) {
        assert_true((unsigned char)line[i] < 0x80);
        assert_true(line[i] != '\n');
    }
    json_error_t err;
    json_t *doc = json_loadb(line, n - 1, 0, &err);
    if (!doc)
        fail_msg("not JSON (%s): %.*s", err.text, (int)n, line);
    jsonline_free(j);
    return doc;
}

static const char *get(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void test_core_format(void **state)
{
    (void)state;
    struct jsonline j;
    jsonline_begin(&j, "info", "gateway", "request", "rid-1", "0af7651916cd43dd8448eb211c80319c");
    jsonline_str(&j, "method", "GET", 3);
    jsonline_int(&j, "status", 200);
    jsonline_ms(&j, "durationMs", 1.23456);
    jsonline_null(&j, "upstream");
    json_t *doc = finish(&j);
    const char *keys[] = {"time",    "level",  "service", "msg",        "requestId",
                          "traceId", "method", "status",  "durationMs", "upstream"};
    const char *key;
    json_t *v;
    size_t i = 0;
    json_object_foreach(doc, key, v)
    {
        assert_true(i < sizeof keys / sizeof keys[0]);
        assert_string_equal(key, keys[i++]); /* same order as log_fields */
    }
    assert_int_equal(i, sizeof keys / sizeof keys[0]);
    const char *t = get(doc, "time");
    assert_int_equal(strlen(t), 24); /* 2026-11-27T00:14:00.419Z */
    assert_int_equal(t[10], 'T');
    assert_int_equal(t[19], '.');
    assert_int_equal(t[23], 'Z');
    assert_string_equal(get(doc, "level"), "info");
    assert_string_equal(get(doc, "service"), "gateway");
    assert_string_equal(get(doc, "requestId"), "rid-1");
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 200);
    assert_true(json_real_value(json_object_get(doc, "durationMs")) == 1.235);
    assert_true(json_is_null(json_object_get(doc, "upstream")));
    json_decref(doc);
}

static void test_no_ids(void **state)
{
    (void)state;
    struct jsonline j;
    jsonline_begin(&j, "error", "gateway", "request", "", NULL);
    json_t *doc = finish(&j);
    assert_null(json_object_get(doc, "requestId"));
    assert_null(json_object_get(doc, "traceId"));
    assert_string_equal(get(doc, "level"), "error");
    json_decref(doc);
}

static void test_escapes(void **state)
{
    (void)state;
    static const char nasty[] =
        "/a\"b\\c\n\r\t\b\f\x01\x1f\x7f/caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80";
    struct jsonline j;
    jsonline_begin(&j, "info", "gateway", "request", NULL, NULL);
    jsonline_str(&j, "path", nasty, sizeof nasty - 1);
    jsonline_str(&j, "bad", "\xff\xfe", 2);
    jsonline_str(&j, "overlong", "\xc0\xaf", 2);
    jsonline_str(&j, "surrogate", "\xed\xa0\x80", 3);
    jsonline_str(&j, "cut", "abc\xe2\x82", 5);
    json_t *doc = finish(&j);
    /* round trip: jansson decodes the escapes back to the original bytes */
    assert_string_equal(get(doc, "path"), nasty);
    assert_string_equal(get(doc, "bad"), "(not UTF-8)");
    assert_string_equal(get(doc, "overlong"), "(not UTF-8)");
    assert_string_equal(get(doc, "surrogate"), "(not UTF-8)");
    assert_string_equal(get(doc, "cut"), "(not UTF-8)");
    json_decref(doc);
}

static void test_embedded_nul_and_long_values(void **state)
{
    (void)state;
    enum { N = 10000 }; /* beyond the inline buffer */
    char *big = malloc(N);
    assert_non_null(big);
    for (int i = 0; i < N; i++)
        big[i] = (char)('a' + i % 26);
    struct jsonline j;
    jsonline_begin(&j, "info", "gateway", "request", NULL, NULL);
    jsonline_str(&j, "nul", "a\0b", 3);
    jsonline_str(&j, "big", big, N);
    json_error_t err;
    size_t n = 0;
    const char *line = jsonline_end(&j, &n);
    assert_non_null(line);
    json_t *doc = json_loadb(line, n - 1, JSON_ALLOW_NUL, &err);
    assert_non_null(doc);
    size_t len = 0;
    json_t *nul = json_object_get(doc, "nul");
    len = json_string_length(nul);
    assert_int_equal(len, 3);
    assert_memory_equal(json_string_value(nul), "a\0b", 3);
    assert_int_equal(json_string_length(json_object_get(doc, "big")), N);
    assert_memory_equal(json_string_value(json_object_get(doc, "big")), big, N);
    json_decref(doc);
    jsonline_free(&j);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core_format),
        cmocka_unit_test(test_no_ids),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_embedded_nul_and_long_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
