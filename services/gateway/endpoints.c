/*
 * endpoints.c - the gateway's own endpoints: GET /health, /metrics, /docs
 * (Swagger UI page, its assets and the merged OpenAPI document), and the
 * catch-all that answers 404 for paths no route claims. /ready is ready.c.
 */
#include "gateway.h"

#include "core/metrics.h"
#include "core/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct endpoint_handler {
    h2o_handler_t super;
    enum gw_endpoint which;
};

bool gw_require_get(h2o_req_t *req)
{
    if (gw_method_is(req, H2O_STRLIT("GET")) || gw_is_head(req))
        return true;
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, H2O_STRLIT("GET, HEAD"), 1);
    gw_send_problem(req, 405, "method not allowed on this resource");
    return false;
}

/* True when the normalised path is exactly 'p' (a trailing slash allowed). */
static bool path_is(h2o_req_t *req, const char *p)
{
    h2o_iovec_t n = req->path_normalized;
    size_t len = strlen(p);
    if (n.len == len + 1 && n.base[len] == '/')
        n.len--;
    return n.len == len && memcmp(n.base, p, len) == 0;
}

static void on_health(h2o_req_t *req)
{
    static const char body[] = "{\"status\":\"ok\"}";
    gw_send_static(req, 200, "application/json", body, sizeof body - 1);
}

static void on_metrics(h2o_req_t *req)
{
    char *text = metrics_render("gateway");
    char *guard = gw_guard_metrics_render();
    char *all = NULL;
    if (!text || !guard || asprintf(&all, "%s%s", text, guard) < 0)
        all = NULL;
    free(text);
    free(guard);
    if (!all) {
        gw_send_problem(req, 500, "cannot render metrics");
        return;
    }
    gw_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", all, strlen(all));
    free(all);
}

/* /docs/<name>: a file of the Swagger UI distribution, by plain name only. */
static void on_asset(h2o_req_t *req, h2o_iovec_t name)
{
    if (name.len == 0 || name.len > 128 || memchr(name.base, '/', name.len) ||
        memchr(name.base, '\0', name.len) || name.base[0] == '.' ||
        h2o_strstr(name.base, name.len, H2O_STRLIT("..")) != SIZE_MAX) {
        gw_send_problem(req, 404, "no such documentation asset");
        return;
    }
    char file[128 + 1];
    memcpy(file, name.base, name.len);
    file[name.len] = '\0';
    char *path = NULL;
    if (asprintf(&path, "%s/%s", gw_settings.swagger_dir, file) < 0) {
        gw_send_problem(req, 500, "out of memory");
        return;
    }
    const char *type = service_content_type(file);
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL,
                   H2O_STRLIT("public, max-age=3600"), 1);
    int rc = h2o_file_send(req, 200, "OK", path, h2o_iovec_init(type, strlen(type)), 0);
    free(path);
    if (rc != 0) {
        ssize_t i = h2o_find_header(&req->res.headers, H2O_TOKEN_CACHE_CONTROL, -1);
        if (i != -1)
            h2o_delete_header(&req->res.headers, i);
        gw_send_problem(req, 404, "no such documentation asset");
    }
}

static void on_docs(h2o_req_t *req)
{
    if (path_is(req, "/docs")) {
        gw_send_static(req, 200, "text/html; charset=utf-8", gw_settings.docs_page,
                       gw_settings.docs_page_len);
        return;
    }
    if (path_is(req, "/docs/swagger-init.js")) {
        gw_send_static(req, 200, "application/javascript; charset=utf-8", gw_settings.docs_init,
                       gw_settings.docs_init_len);
        return;
    }
    if (path_is(req, "/docs/openapi.json")) {
        gw_send_static(req, 200, "application/json", gw_settings.openapi, gw_settings.openapi_len);
        return;
    }
    h2o_iovec_t p = req->path_normalized;
    static const char prefix[] = "/docs/";
    on_asset(req, h2o_iovec_init(p.base + sizeof prefix - 1, p.len - (sizeof prefix - 1)));
}

static int on_req(h2o_handler_t *_self, h2o_req_t *req)
{
    struct endpoint_handler *self = (struct endpoint_handler *)_self;
    if (self->which == GW_NOT_FOUND) {
        gw_send_problem(req, 404, "no route for this path");
        return 0;
    }
    if (!gw_require_get(req))
        return 0;
    switch (self->which) {
    case GW_HEALTH:
        if (path_is(req, "/health"))
            on_health(req);
        else
            gw_send_problem(req, 404, "no route for this path");
        break;
    case GW_METRICS:
        if (path_is(req, "/metrics"))
            on_metrics(req);
        else
            gw_send_problem(req, 404, "no route for this path");
        break;
    case GW_DOCS:
        on_docs(req);
        break;
    case GW_NOT_FOUND:
        break;
    }
    return 0;
}

void gw_endpoint_register(h2o_pathconf_t *pathconf, enum gw_endpoint which)
{
    struct endpoint_handler *h = (struct endpoint_handler *)h2o_create_handler(pathconf, sizeof *h);
    h->super.on_req = on_req;
    h->which = which;
}
