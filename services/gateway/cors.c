/*
 * cors.c - Cross-Origin Resource Sharing for the storefront and admin UIs.
 *
 * Origins on CORS_ORIGINS (cors_origins.c) may call the API with credentials:
 * a response to a request with such an Origin echoes it in
 * Access-Control-Allow-Origin with Access-Control-Allow-Credentials: true and
 * exposes X-Request-Id, the RateLimit-* headers and Retry-After. Every
 * response carries "Vary: Origin", since it depends on the Origin header.
 *
 * Preflights (OPTIONS with Origin and Access-Control-Request-Method) are
 * answered here, before the token check and the rate limiter, and never
 * reach a service: 204 with the allowed methods and headers (cached by the
 * browser for 600 s) for an allowed origin; 403 problem+json otherwise, so
 * that a misconfigured origin shows up plainly in the browser's network tab
 * and in the access log rather than as a CORS error with a 204 behind it.
 * Other OPTIONS requests go on like any request.
 */
#include "gateway.h"

#include "cors_origins.h"

#include "core/config.h"
#include "core/log.h"

static struct gw_origins g_origins;

static const char allow_methods[] = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
static const char allow_headers[] = "Authorization, Content-Type, X-Request-Id, traceparent";
static const char expose_headers[] =
    "X-Request-Id, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After";
static const char max_age[] = "600";

int gw_cors_init(void)
{
    size_t rejected = 0;
    if (gw_origins_parse(config_str("CORS_ORIGINS", ""), &g_origins, &rejected) != 0) {
        log_error("out of memory reading CORS_ORIGINS");
        return -1;
    }
    if (rejected)
        log_warn("CORS_ORIGINS: %zu entr%s ignored (\"*\" and \"null\" cannot be allowed with "
                 "credentials; list the origins)",
                 rejected, rejected == 1 ? "y" : "ies");
    return 0;
}

void gw_cors_dispose(void)
{
    gw_origins_free(&g_origins);
}

/* The request's Origin header, or NULL. */
static const h2o_iovec_t *origin_of(h2o_req_t *req)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("origin"), -1);
    return i == -1 ? NULL : &req->headers.entries[i].value;
}

static bool is_preflight(h2o_req_t *req)
{
    return gw_method_is(req, H2O_STRLIT("OPTIONS")) && origin_of(req) &&
           h2o_find_header_by_str(&req->headers, H2O_STRLIT("access-control-request-method"), -1) !=
               -1;
}

static void set_str(h2o_req_t *req, const char *name, size_t name_len, const char *value,
                    size_t len)
{
    h2o_set_header_by_str(&req->pool, &req->res.headers, name, name_len, 1, value, len, 1);
}

static void send_no_content(h2o_req_t *req)
{
    static h2o_generator_t generator = {NULL, NULL};
    req->res.status = 204;
    req->res.reason = "No Content";
    h2o_start_response(req, &generator);
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    if (!is_preflight(req))
        return -1;
    const h2o_iovec_t *origin = origin_of(req);
    if (!gw_origins_allowed(&g_origins, origin->base, origin->len)) {
        gw_send_problem(req, 403, "origin not allowed by CORS_ORIGINS");
        return 0;
    }
    set_str(req, H2O_STRLIT("access-control-allow-methods"), H2O_STRLIT(allow_methods));
    set_str(req, H2O_STRLIT("access-control-allow-headers"), H2O_STRLIT(allow_headers));
    set_str(req, H2O_STRLIT("access-control-max-age"), H2O_STRLIT(max_age));
    send_no_content(req);
    return 0;
}

/* The response headers for an allowed origin (preflight or not). */
static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    h2o_set_header_token(&req->pool, &req->res.headers, H2O_TOKEN_VARY, H2O_STRLIT("Origin"));
    const h2o_iovec_t *origin = origin_of(req);
    if (origin && gw_origins_allowed(&g_origins, origin->base, origin->len)) {
        h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN,
                       origin->base, origin->len, 1);
        set_str(req, H2O_STRLIT("access-control-allow-credentials"), H2O_STRLIT("true"));
        if (!is_preflight(req))
            set_str(req, H2O_STRLIT("access-control-expose-headers"), H2O_STRLIT(expose_headers));
    }
    h2o_setup_next_ostream(req, slot);
}

void gw_cors_register(h2o_pathconf_t *pathconf)
{
    h2o_handler_t *h = h2o_create_handler(pathconf, sizeof *h);
    h->on_req = on_req;
    gw_cors_register_filter(pathconf);
}

void gw_cors_register_filter(h2o_pathconf_t *pathconf)
{
    h2o_filter_t *f = h2o_create_filter(pathconf, sizeof *f);
    f->on_setup_ostream = on_setup_ostream;
}
