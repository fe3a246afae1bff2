/*
 * routes.c - routing table and plain HTTP replies. See routes.h.
 */
#include "routes.h"

#include "core/http.h"
#include "core/metrics.h"
#include "core/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVICE_NAME "realtime"
#define PROBLEM_JSON "application/problem+json"

static const struct {
    const char *pattern;
    enum route_id id;
    const char *methods[3]; /* NULL-terminated */
    const char *allow;
} g_routes[] = {
    /* /docs/openapi.json before /docs/:asset, which would also match it */
    {"/health", ROUTE_HEALTH, {"GET"}, "GET"},
    {"/ready", ROUTE_READY, {"GET"}, "GET"},
    {"/metrics", ROUTE_METRICS, {"GET"}, "GET"},
    {"/docs", ROUTE_DOCS, {"GET"}, "GET"},
    {"/docs/openapi.json", ROUTE_OPENAPI, {"GET"}, "GET"},
    {"/docs/:asset", ROUTE_DOCS_ASSET, {"GET"}, "GET"},
    {"/socket.io/", ROUTE_SOCKETIO, {"GET", "POST"}, "GET, POST"},
};

void routes_match(const char *method, const char *path, struct route_match *out)
{
    *out = (struct route_match){ROUTE_NONE, "(unmatched)", false, NULL};
    for (size_t i = 0; i < sizeof g_routes / sizeof g_routes[0]; i++) {
        if (!http_path_matches(g_routes[i].pattern, path))
            continue;
        out->id = g_routes[i].id;
        out->pattern = g_routes[i].pattern;
        out->allow = g_routes[i].allow;
        for (size_t j = 0; j < 3 && g_routes[i].methods[j]; j++)
            if (method && !strcmp(method, g_routes[i].methods[j]))
                out->method_ok = true;
        return;
    }
}

/* ------------------------------------------------------------------------ */
/* replies                                                                   */

void reply_free(struct http_reply *r)
{
    free(r->body);
    *r = (struct http_reply){0};
}

static void reply_oom(struct http_reply *r)
{
    static const char body[] =
        "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\",\"status\":500}";
    reply_free(r);
    r->status = 500;
    r->content_type = PROBLEM_JSON;
    r->body = strdup(body);
    r->len = r->body ? sizeof body - 1 : 0;
}

void reply_set(struct http_reply *r, int status, const char *content_type, char *body, size_t len)
{
    if (!body && len) {
        reply_oom(r);
        return;
    }
    free(r->body);
    r->status = status;
    r->content_type = content_type;
    r->body = body;
    r->len = len;
}

/* 'doc' stolen. */
static void reply_doc(struct http_reply *r, int status, const char *type, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) {
        reply_oom(r);
        return;
    }
    reply_set(r, status, type, text, strlen(text));
}

void reply_json(struct http_reply *r, int status, json_t *body)
{
    reply_doc(r, status, "application/json", body);
}

void reply_problem(struct http_reply *r, int status, const char *detail, const char *instance)
{
    reply_doc(r, status, PROBLEM_JSON, http_problem_json(status, detail, instance, NULL));
}

void reply_eio_error(struct http_reply *r, enum eio_error e, const char *instance)
{
    const char *msg = eio_error_message(e);
    json_t *p = http_problem_json(400, msg, instance, NULL);
    if (p) {
        json_object_set_new(p, "code", json_integer(e));
        json_object_set_new(p, "message", json_string(msg));
    }
    reply_doc(r, 400, PROBLEM_JSON, p);
}

/* ------------------------------------------------------------------------ */
/* the routes that answer at once                                            */

static void serve_health(struct http_reply *r)
{
    reply_json(r, 200, json_pack("{s:s, s:s}", "status", "ok", "service", SERVICE_NAME));
}

static void serve_metrics(struct http_reply *r, const char *extra)
{
    char *core = metrics_render(SERVICE_NAME);
    char *text = NULL;
    if (!core || asprintf(&text, "%s%s", core, extra ? extra : "") < 0)
        text = NULL;
    free(core);
    if (!text) {
        reply_problem(r, 500, "cannot render metrics", "/metrics");
        return;
    }
    reply_set(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
}

static void serve_docs(struct http_reply *r)
{
    char *page = service_docs_page(SERVICE_NAME, "/docs/openapi.json");
    if (!page) {
        reply_problem(r, 500, "cannot build the docs page", "/docs");
        return;
    }
    reply_set(r, 200, "text/html; charset=utf-8", page, strlen(page));
}

static void serve_openapi(struct http_reply *r)
{
    size_t len = 0;
    char *doc = service_read_file("services/" SERVICE_NAME "/openapi.json", &len);
    if (!doc) {
        reply_problem(r, 404, "this service has no OpenAPI document", "/docs/openapi.json");
        return;
    }
    reply_set(r, 200, "application/json", doc, len);
}

static void serve_asset(struct http_reply *r, const char *path)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    size_t len = 0;
    char *data = service_swagger_asset(name, &len);
    if (!data) {
        reply_problem(r, 404, "no such documentation asset", path);
        return;
    }
    reply_set(r, 200, service_content_type(name), data, len);
    r->header_name = "Cache-Control";
    r->header_value = "public, max-age=3600";
}

void routes_serve(const struct route_match *m, const char *path, const char *metrics_extra,
                  struct http_reply *r)
{
    switch (m->id) {
    case ROUTE_HEALTH:
        serve_health(r);
        break;
    case ROUTE_METRICS:
        serve_metrics(r, metrics_extra);
        break;
    case ROUTE_DOCS:
        serve_docs(r);
        break;
    case ROUTE_OPENAPI:
        serve_openapi(r);
        break;
    case ROUTE_DOCS_ASSET:
        serve_asset(r, path);
        break;
    default:
        reply_problem(r, 500, "route has no immediate handler", path);
        break;
    }
}

void routes_ready_reply(int status, json_t *report, struct http_reply *r)
{
    if (!report) {
        reply_problem(r, 503, "readiness check failed", "/ready");
        return;
    }
    json_object_set_new(report, "service", json_string(SERVICE_NAME));
    if (status == 200) {
        reply_json(r, 200, report);
        return;
    }
    /* problem+json keeps 503s uniform with every other error; the checks
     * say which dependency failed. */
    json_t *p = http_problem_json(503, "a dependency is unavailable", "/ready", NULL);
    if (p)
        json_object_set(p, "checks", json_object_get(report, "checks"));
    json_decref(report);
    reply_doc(r, 503, PROBLEM_JSON, p);
}
