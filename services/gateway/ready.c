/*
 * ready.c - GET /ready: 200 when every upstream's GET /health answers 200,
 * else 503 with {"status":"unavailable","checks":{"auth":"ok",...}}.
 *
 * The checks run concurrently on the event loop with h2o's HTTP/1 client,
 * through each upstream's kept-alive pool, with a 1 s io timeout (connect
 * and each read). Nothing blocks the loop. The state lives in memory tied to
 * the request's pool: if the request goes away first, the pending checks are
 * cancelled when h2o frees it.
 */
#include "gateway.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_TIMEOUT_MS 1000

struct ready_state;

struct check {
    struct ready_state *st;
    struct gw_upstream *up;
    h2o_http1client_t *client; /* non-NULL while h2o owns a client for us */
    h2o_iovec_t reqbuf;
    const char *result; /* "ok", an h2o error string, or 'status' */
    char status[16];
    bool done;
};

struct ready_state {
    h2o_req_t *req;
    size_t pending;
    struct check checks[];
};

static void respond(struct ready_state *st)
{
    bool ok = true;
    json_t *checks = json_object();
    for (size_t i = 0; i < gw_num_upstreams; i++) {
        const struct check *c = &st->checks[i];
        ok &= c->result && !strcmp(c->result, "ok");
        json_object_set_new(checks, c->up->name, json_string(c->result ? c->result : "unknown"));
    }
    json_t *doc = json_pack("{s:s, s:o}", "status", ok ? "ready" : "unavailable", "checks", checks);
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!s) {
        gw_send_problem(st->req, 500, "cannot build the readiness report");
        return;
    }
    gw_send(st->req, ok ? 200 : 503, "application/json", s, strlen(s));
    free(s);
}

static void finish(struct check *c, const char *err)
{
    c->client = NULL; /* h2o frees its client after the callback that ends it */
    if (c->done)
        return;
    c->done = true;
    if (err)
        c->result = err;
    if (--c->st->pending == 0)
        respond(c->st);
}

static int on_body(h2o_http1client_t *client, const char *errstr)
{
    struct check *c = client->data;
    /* Drain: a socket goes back to the pool only with nothing left unread. */
    h2o_buffer_consume(&client->sock->input, client->sock->input->size);
    if (errstr) {
        finish(c, errstr == h2o_http1client_error_is_eos ? NULL : errstr);
        return 0;
    }
    return 0;
}

static h2o_http1client_body_cb on_head(h2o_http1client_t *client, const char *errstr,
                                       int minor_version, int status, h2o_iovec_t msg,
                                       h2o_header_t *headers, size_t num_headers, int rlen)
{
    (void)minor_version;
    (void)msg;
    (void)headers;
    (void)num_headers;
    (void)rlen;
    struct check *c = client->data;
    if (errstr && errstr != h2o_http1client_error_is_eos) {
        finish(c, errstr);
        return NULL;
    }
    if (status == 200) {
        c->result = "ok";
    } else {
        snprintf(c->status, sizeof c->status, "status %d", status);
        c->result = c->status;
    }
    if (errstr == h2o_http1client_error_is_eos) { /* no body */
        finish(c, NULL);
        return NULL;
    }
    return on_body;
}

static h2o_http1client_head_cb on_connect(h2o_http1client_t *client, const char *errstr,
                                          h2o_iovec_t **reqbufs, size_t *reqbufcnt,
                                          int *method_is_head)
{
    struct check *c = client->data;
    if (errstr) {
        finish(c, errstr);
        return NULL;
    }
    *reqbufs = &c->reqbuf;
    *reqbufcnt = 1;
    *method_is_head = 0;
    return on_head;
}

/* The request is being freed: stop whatever is still running. */
static void on_state_dispose(void *p)
{
    struct ready_state *st = p;
    for (size_t i = 0; i < gw_num_upstreams; i++) {
        struct check *c = &st->checks[i];
        if (c->client) {
            h2o_http1client_cancel(c->client);
            c->client = NULL;
        }
    }
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    h2o_iovec_t p = req->path_normalized;
    if (!(p.len == 6 || (p.len == 7 && p.base[6] == '/'))) {
        gw_send_problem(req, 404, "no route for this path");
        return 0;
    }
    if (!gw_require_get(req))
        return 0;

    struct gw_worker *w = gw_worker_of(req->conn->ctx);
    size_t n = gw_num_upstreams;
    struct ready_state *st =
        h2o_mem_alloc_shared(&req->pool, sizeof *st + n * sizeof st->checks[0], on_state_dispose);
    memset(st, 0, sizeof *st + n * sizeof st->checks[0]);
    st->req = req;
    st->pending = n + 1; /* +1 until every check has started */

    const h2o_iovec_t *rid = gw_request_id(req);
    for (size_t i = 0; i < n; i++) {
        struct check *c = &st->checks[i];
        c->st = st;
        c->up = &gw_upstreams[i];
        h2o_iovec_t auth = c->up->url.authority;
        size_t cap = 128 + auth.len + (rid ? rid->len : 0);
        char *buf = h2o_mem_alloc_pool(&req->pool, cap);
        int len = snprintf(buf, cap,
                           "GET /health HTTP/1.1\r\nhost: %.*s\r\nuser-agent: gateway-readiness\r\n"
                           "x-request-id: %.*s\r\n\r\n",
                           (int)auth.len, auth.base, rid ? (int)rid->len : 0, rid ? rid->base : "");
        c->reqbuf = h2o_iovec_init(buf, (size_t)len);
        h2o_http1client_connect_with_pool(&c->client, c, &w->check_client, &c->up->pool,
                                          on_connect);
    }
    if (--st->pending == 0)
        respond(st);
    return 0;
}

void gw_ready_register(h2o_pathconf_t *pathconf)
{
    h2o_handler_t *h = h2o_create_handler(pathconf, sizeof *h);
    h->on_req = on_req;
}

void gw_ready_worker_init(struct gw_worker *w)
{
    h2o_timeout_init(w->loop, &w->check_timeout, CHECK_TIMEOUT_MS);
    w->check_client = (h2o_http1client_ctx_t){
        .loop = w->loop,
        .getaddr_receiver = &w->ctx.receivers.hostinfo_getaddr,
        .io_timeout = &w->check_timeout,
        .websocket_timeout = NULL,
        .ssl_ctx = NULL,
    };
}

void gw_ready_worker_dispose(struct gw_worker *w)
{
    h2o_timeout_dispose(w->loop, &w->check_timeout);
}
