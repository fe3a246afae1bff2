/*
 * request_id.c - X-Request-Id and W3C traceparent.
 *
 * The first handler of every path: keeps a valid incoming X-Request-Id or
 * makes one (UUID v4), keeps a valid traceparent or starts a trace, writes
 * both into the request headers (so the proxy passes them upstream) and
 * returns -1 so the next handler of the chain runs. A filter echoes the id
 * on the response. The values are kept in the request's env for the filter
 * and the access log.
 */
#include "gateway.h"

#include "ids.h"

#include "core/http.h"
#include "core/metrics.h"

#include <string.h>

#define ENV_RID "gw.rid"
#define ENV_TP "gw.tp"
#define ENV_LIVE "gw.live" /* counted in the in-flight gauge */

/* ---- the handler ------------------------------------------------------ */

/* Copy of a header value as a C string in the request pool. */
static char *pool_cstr(h2o_req_t *req, h2o_iovec_t v)
{
    char *s = h2o_mem_alloc_pool(&req->pool, v.len + 1);
    memcpy(s, v.base, v.len);
    s[v.len] = '\0';
    return s;
}

/* Make 'name' appear exactly once in the request headers, with 'value'. */
static void set_single(h2o_req_t *req, const char *name, size_t name_len, const char *value)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, name_len, -1);
    if (i == -1) {
        h2o_add_header_by_str(&req->pool, &req->headers, name, name_len, 0, NULL, value,
                              strlen(value));
        return;
    }
    req->headers.entries[i].value = h2o_iovec_init(value, strlen(value));
    ssize_t dup;
    while ((dup = h2o_find_header_by_str(&req->headers, name, name_len, i)) != -1)
        h2o_delete_header(&req->headers, dup);
}

/* The first value of header 'name' when 'valid' accepts it, else NULL. */
static char *valid_header(h2o_req_t *req, const char *name, size_t name_len, size_t max_len,
                          bool (*valid)(const char *))
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, name_len, -1);
    if (i == -1 || req->headers.entries[i].value.len > max_len)
        return NULL;
    char *v = pool_cstr(req, req->headers.entries[i].value);
    return valid(v) ? v : NULL;
}

/* Settle the request's id and trace context (once) and put them in the
 * request headers for the upstream. */
static void assign(h2o_req_t *req)
{
    if (h2o_req_getenv(req, H2O_STRLIT(ENV_RID), 0) != NULL)
        return;
    char *rid = valid_header(req, H2O_STRLIT("x-request-id"), 128, http_request_id_valid);
    if (!rid) {
        rid = h2o_mem_alloc_pool(&req->pool, 37);
        gw_new_request_id(rid);
    }
    char *tp = valid_header(req, H2O_STRLIT("traceparent"), 55, http_traceparent_valid);
    if (!tp) {
        tp = h2o_mem_alloc_pool(&req->pool, 56);
        gw_new_traceparent(tp);
    }
    set_single(req, H2O_STRLIT("x-request-id"), rid);
    set_single(req, H2O_STRLIT("traceparent"), tp);
    *h2o_req_getenv(req, H2O_STRLIT(ENV_RID), 1) = h2o_iovec_init(rid, strlen(rid));
    *h2o_req_getenv(req, H2O_STRLIT(ENV_TP), 1) = h2o_iovec_init(tp, strlen(tp));
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    if (h2o_req_getenv(req, H2O_STRLIT(ENV_LIVE), 0) != NULL)
        return -1; /* already counted (reprocessed request) */
    assign(req);
    *h2o_req_getenv(req, H2O_STRLIT(ENV_LIVE), 1) = h2o_iovec_init(H2O_STRLIT("1"));
    metrics_inflight(1); /* the access logger takes it back */
    return -1;
}

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    /* Responses h2o makes before any handler ran (400, 413, ...) get an id
     * here; the others already have theirs. */
    assign(req);
    const h2o_iovec_t *rid = gw_request_id(req);
    h2o_set_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, rid->base,
                          rid->len, 1);
    h2o_setup_next_ostream(req, slot);
}

void gw_request_id_register(h2o_pathconf_t *pathconf)
{
    h2o_handler_t *h = h2o_create_handler(pathconf, sizeof *h);
    h->on_req = on_req;
    gw_request_id_register_filter(pathconf);
}

void gw_request_id_register_filter(h2o_pathconf_t *pathconf)
{
    h2o_filter_t *f = h2o_create_filter(pathconf, sizeof *f);
    f->on_setup_ostream = on_setup_ostream;
}

bool gw_request_counted(h2o_req_t *req)
{
    return h2o_req_getenv(req, H2O_STRLIT(ENV_LIVE), 0) != NULL;
}

const h2o_iovec_t *gw_request_id(h2o_req_t *req)
{
    return h2o_req_getenv(req, H2O_STRLIT(ENV_RID), 0);
}

const h2o_iovec_t *gw_traceparent(h2o_req_t *req)
{
    return h2o_req_getenv(req, H2O_STRLIT(ENV_TP), 0);
}
