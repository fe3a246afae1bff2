/* Unit tests for the pure HTTP helpers: ids, trace context, path matching,
 * media types, problem documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <ulfius.h>

#include "core/http.h"

static void request_id_validation(void **state)
{
    (void)state;
    assert_true(http_request_id_valid("abc-123_x.y:z"));
    assert_false(http_request_id_valid(""));
    assert_false(http_request_id_valid(NULL));
    assert_false(http_request_id_valid("has space"));
    assert_false(http_request_id_valid("new\nline"));
    assert_false(http_request_id_valid("quote\""));
    char big[200];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(http_request_id_valid(big));
    big[128] = '\0';
    assert_true(http_request_id_valid(big));
    big[129 - 1] = 'a';
    big[129] = '\0';
    assert_false(http_request_id_valid(big));
}

static void uuid_shape(void **state)
{
    (void)state;
    char a[37], b[37];
    http_uuid4(a);
    http_uuid4(b);
    assert_int_equal(strlen(a), 36);
    assert_int_equal(a[8], '-');
    assert_int_equal(a[14], '4');
    assert_true(strchr("89ab", a[19]) != NULL);
    assert_string_not_equal(a, b);
    assert_true(http_request_id_valid(a));
}

static void traceparent(void **state)
{
    (void)state;
    const char *ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    assert_true(http_traceparent_valid(ok));
    assert_false(http_traceparent_valid("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"));
    assert_false(http_traceparent_valid("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    assert_false(http_traceparent_valid("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
    assert_false(http_traceparent_valid("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
    assert_false(http_traceparent_valid("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
    char child[56];
    http_traceparent_child(ok, child);
    assert_true(http_traceparent_valid(child));
    assert_memory_equal(child, ok, 35);               /* same trace id */
    assert_memory_not_equal(child + 36, ok + 36, 16); /* new span */
    http_traceparent_child("garbage", child);
    assert_true(http_traceparent_valid(child));
}

static void path_matching(void **state)
{
    (void)state;
    assert_true(http_path_matches("/health", "/health"));
    assert_true(http_path_matches("/health", "/health/"));
    assert_false(http_path_matches("/health", "/healthz"));
    assert_true(http_path_matches("/orders/:id", "/orders/42"));
    assert_false(http_path_matches("/orders/:id", "/orders"));
    assert_false(http_path_matches("/orders/:id", "/orders/42/items"));
    assert_true(http_path_matches("/docs/:asset", "/docs/swagger-ui.css"));
    assert_true(http_path_matches("/", "/"));
}

/* The value of 'name' in the object, or NULL. */
static const char *param_of(json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

static void path_params(void **state)
{
    (void)state;
    json_t *p =
        http_path_params("/users/:id/addresses/:addressId", "/users/42/addresses/a%20b%2Cc");
    assert_non_null(p);
    assert_string_equal(param_of(p, "id"), "42");
    assert_string_equal(param_of(p, "addressId"), "a b,c"); /* decoded, a comma is data */
    assert_int_equal(json_object_size(p), 2);
    json_decref(p);

    /* UTF-8 passes through byte for byte; '+' is not a space in a path */
    p = http_path_params("/x/:v", "/x/Zo%C3%AB+1");
    assert_string_equal(param_of(p, "v"), "Zo\xc3\xab+1");
    json_decref(p);

    /* an escaped NUL or a malformed escape leaves the parameter out */
    const char *bad[] = {"/x/a%00b", "/x/a%2", "/x/a%zz", "/x/%"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = http_path_params("/x/:v", bad[i]);
        assert_non_null(p);
        assert_null(param_of(p, "v"));
        json_decref(p);
    }

    p = http_path_params("/health", "/health");
    assert_int_equal(json_object_size(p), 0);
    json_decref(p);
}

static void etags(void **state)
{
    (void)state;
    char a[HTTP_ETAG_LEN], b[HTTP_ETAG_LEN];
    http_etag_of("{\"a\":1}", 7, a);
    http_etag_of("{\"a\":2}", 7, b);
    assert_int_equal(strlen(a), HTTP_ETAG_LEN - 1);
    assert_true(a[0] == '"' && a[HTTP_ETAG_LEN - 2] == '"');
    assert_string_not_equal(a, b);
    http_etag_of("{\"a\":1}", 7, b);
    assert_string_equal(a, b); /* the same bytes, the same tag */

    char list[128];
    snprintf(list, sizeof list, "\"x\", W/%s , \"y\"", a);
    assert_true(http_etag_matches(list, a));
    assert_true(http_etag_matches(a, a));
    assert_true(http_etag_matches("*", a));
    assert_false(http_etag_matches("\"nope\"", a));
    assert_false(http_etag_matches("", a));
    assert_false(http_etag_matches(NULL, a));
    /* a prefix of the tag is not the tag */
    char cut[HTTP_ETAG_LEN];
    snprintf(cut, sizeof cut, "%.20s\"", a);
    assert_false(http_etag_matches(cut, a));
}

static void json_types(void **state)
{
    (void)state;
    assert_true(http_is_json_type("application/json"));
    assert_true(http_is_json_type("application/json; charset=utf-8"));
    assert_true(http_is_json_type("Application/JSON"));
    assert_true(http_is_json_type("application/merge-patch+json"));
    assert_false(http_is_json_type("text/plain"));
    assert_false(http_is_json_type("application/jsonp"));
    assert_false(http_is_json_type(NULL));
}

static void problem_documents(void **state)
{
    (void)state;
    json_t *p = http_problem_json(404, "no such resource", "/x", NULL);
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "type")), "about:blank");
    assert_string_equal(json_string_value(json_object_get(p, "title")), "Not Found");
    assert_int_equal(json_integer_value(json_object_get(p, "status")), 404);
    assert_string_equal(json_string_value(json_object_get(p, "detail")), "no such resource");
    assert_string_equal(json_string_value(json_object_get(p, "instance")), "/x");
    json_decref(p);

    json_t *errors = NULL;
    http_field_error(&errors, "email", "must be an email address");
    http_field_error(&errors, "password", "too short");
    p = http_problem_json(422, "invalid input", NULL, errors);
    assert_int_equal(json_array_size(json_object_get(p, "errors")), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(p, "errors"), 0), "field")),
                        "email");
    assert_null(json_object_get(p, "instance"));
    json_decref(p);

    const int statuses[] = {400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 502, 503, 504};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        assert_string_not_equal(http_status_title(statuses[i]), "Error");
}

/* The status http_db_problem answers for 'r'; its Retry-After header (or
 * "") into retry_after. */
static int db_problem_status(const PGresult *r, char retry_after[8])
{
    struct _u_response resp;
    assert_int_equal(ulfius_init_response(&resp), U_OK);
    struct http_exchange x = {.resp = &resp};
    http_db_problem(&x, r);
    const char *ra = u_map_get(resp.map_header, "Retry-After");
    snprintf(retry_after, 8, "%s", ra ? ra : "");
    assert_string_equal(u_map_get(resp.map_header, "Content-Type"), "application/problem+json");
    ulfius_clean_response(&resp);
    return x.status;
}

static void db_problems(void **state)
{
    (void)state;
    char ra[8];
    /* no result: the database cannot be reached */
    assert_int_equal(db_problem_status(NULL, ra), 503);
    assert_string_equal(ra, "5");
    /* an error without SQLSTATE: the connection failed mid-statement */
    PGresult *failed = PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
    assert_non_null(failed);
    assert_int_equal(db_problem_status(failed, ra), 503);
    PQclear(failed);
    /* a successful result the caller could not use is a bug, not an outage */
    PGresult *ok = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    assert_non_null(ok);
    assert_int_equal(db_problem_status(ok, ra), 500);
    assert_string_equal(ra, "");
    PQclear(ok);
}

static void body_limits(void **state)
{
    (void)state;
    /* what arrived */
    assert_false(http_body_over_limit(10, 10, NULL));
    assert_true(http_body_over_limit(10, 11, NULL));
    /* what Content-Length announces, checked before the handler runs */
    assert_false(http_body_over_limit(10, 0, "10"));
    assert_false(http_body_over_limit(10, 0, "0"));
    assert_true(http_body_over_limit(10, 0, "11"));
    assert_true(http_body_over_limit(10485760, 0, "10485761"));
    assert_false(http_body_over_limit(10485760, 0, "10485760"));
    /* values that promise nothing: refused rather than read as small */
    assert_true(http_body_over_limit(10, 0, "-1"));
    assert_true(http_body_over_limit(10, 0, ""));
    assert_true(http_body_over_limit(10, 0, " 5"));
    assert_true(http_body_over_limit(10, 0, "5x"));
    assert_true(http_body_over_limit(10, 0, "99999999999999999999999"));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_id_validation),
        cmocka_unit_test(uuid_shape),
        cmocka_unit_test(traceparent),
        cmocka_unit_test(path_matching),
        cmocka_unit_test(path_params),
        cmocka_unit_test(json_types),
        cmocka_unit_test(problem_documents),
        cmocka_unit_test(db_problems),
        cmocka_unit_test(etags),
        cmocka_unit_test(body_limits),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
