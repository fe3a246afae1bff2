/*
 * proxy.c - the last handler of a routed path: send the request, path and
 * query unchanged, to the upstream service.
 *
 * This is what h2o_proxy_register_reverse_proxy's handler does, minus its one
 * socket pool per path: here every prefix of a service (the catalog has
 * three) shares that service's pool from upstreams.c. h2o's proxy core does
 * the rest: HTTP/1.1 to the upstream with kept-alive connections,
 * X-Forwarded-For/-Proto (globalconf.proxy.emit_x_forwarded_headers),
 * streaming both ways, and WebSocket upgrades (the per-thread client context
 * has a websocket timeout, see server.c). The io timeout of that context is
 * GATEWAY_UPSTREAM_TIMEOUT; it also bounds the connect.
 *
 * gw_proxy_register_fixed serves /services/<name>/health: one exact public
 * path mapped to one path of the service (its own /health), so operators and
 * bench/gateway.sh can reach a service's liveness through the gateway
 * without exposing its other unprefixed endpoints (/metrics, /docs).
 */
#include "gateway.h"

struct proxy_handler {
    h2o_handler_t super;
    struct gw_upstream *upstream;
    h2o_iovec_t fixed_path; /* empty: forward the client's path */
    h2o_iovec_t exact;      /* with fixed_path: the only path accepted */
};

static int on_req(h2o_handler_t *_self, h2o_req_t *req)
{
    struct proxy_handler *self = (struct proxy_handler *)_self;
    struct gw_upstream *up = self->upstream;
    h2o_iovec_t path = req->path;
    if (self->fixed_path.len) {
        /* h2o matched a prefix: /services/auth/health/x must not reach
         * the service as /health. */
        if (!h2o_memis(req->path_normalized.base, req->path_normalized.len, self->exact.base,
                       self->exact.len)) {
            gw_send_problem(req, 404, "no route for this path");
            return 0;
        }
        if (!gw_require_get(req))
            return 0;
        path = self->fixed_path;
    }
    h2o_req_overrides_t *ov = h2o_mem_alloc_pool(&req->pool, sizeof *ov);
    *ov = (h2o_req_overrides_t){NULL};
    ov->socketpool = &up->pool; /* keep-alive to the upstream */
    /* Location: http://<upstream>/x -> http://<client's authority>/x */
    ov->location_rewrite.match = &up->url;
    ov->location_rewrite.path_prefix = h2o_iovec_init(H2O_STRLIT("/"));
    /* With overrides set, h2o goes straight to its proxy with this path's
     * filters and loggers still bound. */
    h2o_reprocess_request(req, req->method, up->url.scheme, up->url.authority, path, ov, 0);
    return 0;
}

void gw_proxy_register(h2o_pathconf_t *pathconf, struct gw_upstream *upstream)
{
    struct proxy_handler *h = (struct proxy_handler *)h2o_create_handler(pathconf, sizeof *h);
    h->super.on_req = on_req;
    h->upstream = upstream;
}

void gw_proxy_register_fixed(h2o_pathconf_t *pathconf, struct gw_upstream *upstream,
                             const char *exact, const char *upstream_path)
{
    struct proxy_handler *h = (struct proxy_handler *)h2o_create_handler(pathconf, sizeof *h);
    h->super.on_req = on_req;
    h->upstream = upstream;
    h->exact = h2o_iovec_init(exact, strlen(exact));
    h->fixed_path = h2o_iovec_init(upstream_path, strlen(upstream_path));
}
