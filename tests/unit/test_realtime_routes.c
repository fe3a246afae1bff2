/* Unit tests for the realtime service's routing table and plain HTTP
 * replies (404 vs 405 and Allow, problem documents, Engine.IO errors,
 * /ready). routes.c has no network code, so it is included directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../services/realtime/engineio.c"
#include "../../services/realtime/routes.c"

static void matching(void **state)
{
    (void)state;
    struct route_match m;
    routes_match("GET", "/health", &m);
    assert_int_equal(m.id, ROUTE_HEALTH);
    assert_true(m.method_ok);
    assert_string_equal(m.pattern, "/health");

    routes_match("POST", "/health", &m);
    assert_int_equal(m.id, ROUTE_HEALTH);
    assert_false(m.method_ok);
    assert_string_equal(m.allow, "GET");

    routes_match("GET", "/docs/openapi.json", &m);
    assert_int_equal(m.id, ROUTE_OPENAPI);
    routes_match("GET", "/docs/swagger-ui.css", &m);
    assert_int_equal(m.id, ROUTE_DOCS_ASSET);
    assert_string_equal(m.pattern, "/docs/:asset");
    routes_match("GET", "/docs", &m);
    assert_int_equal(m.id, ROUTE_DOCS);

    routes_match("POST", "/socket.io/", &m);
    assert_int_equal(m.id, ROUTE_SOCKETIO);
    assert_true(m.method_ok);
    routes_match("GET", "/socket.io", &m); /* trailing slash optional */
    assert_int_equal(m.id, ROUTE_SOCKETIO);
    routes_match("DELETE", "/socket.io/", &m);
    assert_false(m.method_ok);
    assert_string_equal(m.allow, "GET, POST");

    routes_match("GET", "/nope", &m);
    assert_int_equal(m.id, ROUTE_NONE);
    assert_string_equal(m.pattern, "(unmatched)");
    routes_match("GET", "/docs/a/b", &m);
    assert_int_equal(m.id, ROUTE_NONE);
}

static json_t *body_json(const struct http_reply *r)
{
    json_t *j = json_loadb(r->body, r->len, 0, NULL);
    assert_non_null(j);
    return j;
}

static void problems(void **state)
{
    (void)state;
    struct http_reply r = {0};
    reply_problem(&r, 404, "no such resource", "/x");
    assert_int_equal(r.status, 404);
    assert_string_equal(r.content_type, "application/problem+json");
    json_t *j = body_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
    assert_string_equal(json_string_value(json_object_get(j, "title")), "Not Found");
    assert_string_equal(json_string_value(json_object_get(j, "instance")), "/x");
    json_decref(j);

    reply_eio_error(&r, EIO_ERR_UNKNOWN_SID, "/socket.io/");
    assert_int_equal(r.status, 400);
    j = body_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "code")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "message")), "Session ID unknown");
    json_decref(j);
    reply_free(&r);
    assert_null(r.body);

    /* a failed allocation becomes a 500, never a crash */
    reply_set(&r, 200, "text/plain", NULL, 5);
    assert_int_equal(r.status, 500);
    reply_free(&r);
}

static void health_and_ready(void **state)
{
    (void)state;
    struct http_reply r = {0};
    struct route_match m;
    routes_match("GET", "/health", &m);
    routes_serve(&m, "/health", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"status\":\"ok\",\"service\":\"realtime\"}");
    reply_free(&r);

    json_t *ok = json_pack("{s:s, s:{s:s}}", "status", "ready", "checks", "redis", "ok");
    routes_ready_reply(200, ok, &r);
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "service")), "realtime");
    json_decref(j);
    reply_free(&r);

    json_t *bad =
        json_pack("{s:s, s:{s:s}}", "status", "unavailable", "checks", "redis", "unreachable");
    routes_ready_reply(503, bad, &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.content_type, "application/problem+json");
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "checks"), "redis")),
                        "unreachable");
    json_decref(j);
    reply_free(&r);
}

static void metrics_text(void **state)
{
    (void)state;
    struct http_reply r = {0};
    struct route_match m;
    routes_match("GET", "/metrics", &m);
    routes_serve(&m, "/metrics", "realtime_sessions{transport=\"websocket\"} 3\n", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "http_requests_in_flight"));
    assert_non_null(strstr(r.body, "realtime_sessions{transport=\"websocket\"} 3\n"));
    reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matching),
        cmocka_unit_test(problems),
        cmocka_unit_test(health_and_ready),
        cmocka_unit_test(metrics_text),
    };
    return cmocka_run_group_tests_name("realtime_routes", tests, NULL, NULL);
}
