/* Unit tests for the users service's table-driven body validation.
 *
 * The Makefile links unit tests against the core library only, so the
 * service's pure source files are compiled into this test directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../services/users/fields.c"
#include "../../services/users/input.c"
#include "field_errors.h"

static const struct field_rule RULES[] = {
    {"name", FIELD_TEXT, true, false, 1, 5, NULL},
    {"note", FIELD_TEXT, false, true, 0, 10, NULL},
    {"country", FIELD_TEXT, true, false, 1, 8, users_check_country},
    {"flag", FIELD_BOOL, false, false, 0, 0, NULL},
    {"inner", FIELD_OBJECT, false, false, 0, 0, NULL},
};
#define N_RULES (sizeof RULES / sizeof RULES[0])

static const struct field_rule INNER[] = {
    {"on", FIELD_BOOL, true, false, 0, 0, NULL},
};

static const char *const READ_ONLY[] = {"id", NULL};

/* Validate JSON text; returns the errors array (caller decrefs) or NULL. */
static json_t *run(const char *text, enum input_mode mode)
{
    json_t *body = json_loads(text, 0, NULL);
    assert_non_null(body);
    json_t *errors = NULL;
    input_validate(body, RULES, N_RULES, READ_ONLY, mode, &errors);
    input_validate_member(body, "inner", INNER, 1, mode, &errors);
    json_decref(body);
    return errors;
}

static void valid_bodies(void **state)
{
    (void)state;
    assert_null(run("{\"name\":\"Zo\\u00eb\",\"country\":\"PT\"}", INPUT_CREATE));
    assert_null(run("{\"name\":\"Ann\",\"country\":\"PT\",\"note\":null,\"flag\":true,"
                    "\"inner\":{\"on\":false}}",
                    INPUT_CREATE));
    assert_null(run("{}", INPUT_UPDATE)); /* nothing required in an update */
    assert_null(run("{\"note\":\"\"}", INPUT_UPDATE));
}

static void create_requires(void **state)
{
    (void)state;
    json_t *e = run("{}", INPUT_CREATE);
    assert_int_equal(json_array_size(e), 2);
    assert_true(has_error(e, "name", "required"));
    assert_true(has_error(e, "country", "required"));
    json_decref(e);
}

static void every_problem_reported(void **state)
{
    (void)state;
    json_t *e =
        run("{\"name\":\"   \",\"country\":\"pt\",\"note\":\"12345678901\",\"flag\":\"yes\","
            "\"id\":1,\"bogus\":2,\"inner\":{\"on\":1,\"x\":true}}",
            INPUT_UPDATE);
    assert_true(has_error(e, "name", "blank"));
    assert_true(has_error(e, "country", "ISO 3166-1"));
    assert_true(has_error(e, "note", "at most 10"));
    assert_true(has_error(e, "flag", "true or false"));
    assert_true(has_error(e, "id", "read-only"));
    assert_true(has_error(e, "bogus", "not a known field"));
    assert_true(has_error(e, "inner.on", "true or false"));
    assert_true(has_error(e, "inner.x", "not a known field"));
    assert_int_equal(json_array_size(e), 8);
    json_decref(e);
}

static void nulls_and_types(void **state)
{
    (void)state;
    json_t *e = run("{\"name\":null,\"flag\":null,\"inner\":[],\"country\":7}", INPUT_UPDATE);
    assert_true(has_error(e, "name", "must not be null"));
    assert_true(has_error(e, "flag", "must not be null"));
    assert_true(has_error(e, "inner", "must be an object"));
    assert_true(has_error(e, "country", "must be a string"));
    json_decref(e);

    e = run(
        "{\"name\":\"a\\nb\",\"note\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
        "\\u00e9\\u00e9\"}",
        INPUT_UPDATE);
    assert_true(has_error(e, "name", "control"));
    assert_int_equal(json_array_size(e), 1); /* 10 code points fit, 20 bytes or not */
    json_decref(e);
}

static void is_true(void **state)
{
    (void)state;
    json_t *body = json_pack("{s:b, s:b, s:s}", "a", 1, "b", 0, "c", "true");
    assert_true(input_is_true(body, "a"));
    assert_false(input_is_true(body, "b"));
    assert_false(input_is_true(body, "c"));
    assert_false(input_is_true(body, "missing"));
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_bodies),
        cmocka_unit_test(create_requires),
        cmocka_unit_test(every_problem_reported),
        cmocka_unit_test(nulls_and_types),
        cmocka_unit_test(is_true),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
