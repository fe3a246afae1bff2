/*
 * http_tx.c - one HTTP request/response on libwebsockets: request ids,
 * body, routing, writing the reply, the access log line and metrics.
 *
 * A reply is decided first (struct http_reply, fully built in memory) and
 * written afterwards from the writable callback, headers first, then the body
 * in chunks. It is only written once the request body has been read, so a
 * keep-alive connection never mistakes unread body bytes for the next
 * request. Long-polls and /ready decide their reply later (parked / job).
 */
#include "conn.h"

#include "core/http.h"
#include "core/log.h"
#include "core/metrics.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes handed to lws per writable callback. */
#define CHUNK 16384
/* Longest a /ready request waits for its checks (a few 1 s timeouts). */
#define READY_TIMEOUT_S 30

/* ------------------------------------------------------------------------ */
/* request facts                                                             */

/* A custom header's value into 'buf', or false when absent or too long. */
static bool custom_header(struct lws *wsi, const char *name, char *buf, size_t size)
{
    int nlen = (int)strlen(name);
    int n = lws_hdr_custom_length(wsi, name, nlen);
    if (n <= 0 || (size_t)n >= size)
        return false;
    return lws_hdr_custom_copy(wsi, buf, (int)size, name, nlen) >= 0;
}

void http_read_ids(struct lws *wsi, char rid[RID_MAX + 1], char trace_id[33])
{
    char buf[RID_MAX + 1];
    if (custom_header(wsi, "x-request-id:", buf, sizeof buf) && http_request_id_valid(buf))
        memcpy(rid, buf, strlen(buf) + 1);
    else
        http_uuid4(rid);
    char tp[64], child[56];
    if (!custom_header(wsi, "traceparent:", tp, sizeof tp) || !http_traceparent_valid(tp)) {
        http_traceparent_child(NULL, child);
        memcpy(tp, child, sizeof child);
    }
    /* 00-<32 hex trace id>-... */
    memcpy(trace_id, tp + 3, 32);
    trace_id[32] = '\0';
}

static const char *method_name(struct lws *wsi)
{
    char *uri = NULL;
    int len = 0;
    switch (lws_http_get_uri_and_method(wsi, &uri, &len)) {
    case LWSHUMETH_GET:
        return "GET";
    case LWSHUMETH_POST:
        return "POST";
    case LWSHUMETH_OPTIONS:
        return "OPTIONS";
    case LWSHUMETH_PUT:
        return "PUT";
    case LWSHUMETH_PATCH:
        return "PATCH";
    case LWSHUMETH_DELETE:
        return "DELETE";
    case LWSHUMETH_HEAD:
        return "HEAD";
    default:
        return "OTHER";
    }
}

/* Content-Length, 0 when absent; -1 when malformed. */
static long long content_length(struct lws *wsi)
{
    char buf[24];
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
    if (n <= 0)
        return 0;
    if ((size_t)n >= sizeof buf ||
        lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_CONTENT_LENGTH) < 0)
        return -1;
    char *end = NULL;
    long long v = strtoll(buf, &end, 10);
    return (end == buf || *end || v < 0) ? -1 : v;
}

/* ------------------------------------------------------------------------ */
/* logging                                                                   */

void http_log_request(const char *method, const char *route, const char *path, const char *rid,
                      const char *trace_id, int status, int64_t t0_us)
{
    double secs = (double)(rt_now_us() - t0_us) / 1e6;
    metrics_observe(method, route, status, secs);
    log_set_context(rid, trace_id);
    log_fields(status >= 500 ? LOG_ERROR : LOG_INFO, "request",
               json_pack("{s:s, s:s, s:s, s:i, s:f}", "method", method, "route", route, "path",
                         path ? path : "", "status", status, "durationMs", secs * 1000.0));
}

/* ------------------------------------------------------------------------ */
/* transaction life                                                          */

void http_release(struct conn *c)
{
    struct http_tx *tx = &c->tx;
    if (!tx->active)
        return;
    if (!c->is_ws && c->session) {
        /* The client went away with a poll parked or a POST half read. */
        session_conn_gone(c->session, c);
        c->session = NULL;
    }
    ready_abandon(tx->job);
    free(tx->path);
    free(tx->body);
    reply_free(&tx->reply);
    metrics_inflight(-1);
    memset(tx, 0, sizeof *tx);
}

/* The reply is out: log, free, and keep the connection for the next request
 * unless it has to close. Returns what the callback must return. */
static int http_finish(struct conn *c)
{
    struct http_tx *tx = &c->tx;
    bool close = tx->close_after || c->srv->shutting_down;
    http_log_request(tx->method, tx->route.pattern, tx->path, tx->rid, tx->trace_id,
                     tx->reply.status, tx->t0_us);
    http_release(c);
    conn_drained(c);
    if (close)
        return -1;
    return lws_http_transaction_completed(c->wsi) ? -1 : 0;
}

/* Client went away mid-request: still one log line per request. 499 is the
 * usual "client closed request" status. */
static void http_abort(struct conn *c)
{
    struct http_tx *tx = &c->tx;
    if (tx->active)
        http_log_request(tx->method, tx->route.pattern, tx->path, tx->rid, tx->trace_id, 499,
                         tx->t0_us);
}

void http_closed(struct conn *c)
{
    http_abort(c);
    http_release(c);
    conn_drained(c);
}

void http_respond(struct conn *c)
{
    struct http_tx *tx = &c->tx;
    if (!tx->reply.status || tx->writing)
        return;
    if (tx->expect_body && !tx->body_done && !tx->close_after)
        return; /* written once the body is in */
    tx->writing = true;
    lws_callback_on_writable(c->wsi);
}

/* ------------------------------------------------------------------------ */
/* incoming                                                                  */

static void dispatch(struct conn *c)
{
    struct http_tx *tx = &c->tx;
    if (tx->route.id == ROUTE_NONE) {
        reply_problem(&tx->reply, 404, "no such resource", tx->path);
    } else if (!tx->route.method_ok) {
        reply_problem(&tx->reply, 405, "method not allowed on this resource", tx->path);
        tx->reply.header_name = "Allow";
        tx->reply.header_value = tx->route.allow;
    } else if (tx->route.id == ROUTE_READY) {
        tx->job = ready_submit(c);
        if (!tx->job)
            reply_problem(&tx->reply, 503, "too many readiness checks waiting", tx->path);
        else /* the checks may take a few seconds when a dependency hangs */
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, READY_TIMEOUT_S);
    } else if (tx->route.id == ROUTE_SOCKETIO) {
        polling_on_request(c);
    } else {
        char *extra = tx->route.id == ROUTE_METRICS ? server_metrics_extra(c->srv) : NULL;
        routes_serve(&tx->route, tx->path, extra, &tx->reply);
        free(extra);
    }
}

int http_on_request(struct conn *c, const char *path)
{
    http_closed(c); /* nothing should be left, but never leak a transaction */
    struct http_tx *tx = &c->tx;
    tx->active = true;
    tx->t0_us = rt_now_us();
    metrics_inflight(1);
    tx->method = method_name(c->wsi);
    tx->path = strdup(path ? path : "/");
    if (!tx->path)
        return -1;
    http_read_ids(c->wsi, tx->rid, tx->trace_id);
    log_set_context(tx->rid, tx->trace_id);
    routes_match(tx->method, tx->path, &tx->route);

    long long cl = content_length(c->wsi);
    bool chunked = lws_hdr_total_length(c->wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
    tx->expect_body = cl != 0 || chunked;
    if (cl < 0 || (size_t)cl > c->srv->cfg.rt.max_payload) {
        /* Refuse before reading it; close so its bytes are never parsed. */
        reply_problem(&tx->reply, cl < 0 ? 400 : 413,
                      cl < 0 ? "malformed Content-Length" : "request body too large", tx->path);
        tx->close_after = true;
    } else {
        dispatch(c);
    }
    http_respond(c);
    return 0;
}

int http_on_body(struct conn *c, const void *in, size_t len)
{
    struct http_tx *tx = &c->tx;
    if (!tx->store_body)
        return 0; /* not wanted: read and dropped */
    size_t max = c->srv->cfg.rt.max_payload;
    if (tx->body_len + len > max) {
        /* Chunked bodies have no Content-Length to check up front. */
        tx->store_body = false;
        reply_problem(&tx->reply, 413, "request body too large", tx->path);
        tx->close_after = true;
        http_respond(c);
        return 0;
    }
    if (tx->body_len + len + 1 > tx->body_cap) {
        size_t cap = tx->body_cap ? tx->body_cap : 1024;
        while (cap < tx->body_len + len + 1)
            cap *= 2;
        char *p = realloc(tx->body, cap);
        if (!p)
            return -1;
        tx->body = p;
        tx->body_cap = cap;
    }
    memcpy(tx->body + tx->body_len, in, len);
    tx->body_len += len;
    tx->body[tx->body_len] = '\0';
    return 0;
}

int http_on_body_done(struct conn *c)
{
    struct http_tx *tx = &c->tx;
    tx->body_done = true;
    log_set_context(tx->rid, tx->trace_id);
    if (tx->store_body && !tx->reply.status)
        polling_on_body(c);
    http_respond(c);
    return 0;
}

void http_deliver_ready(void *owner, int status, json_t *report)
{
    struct conn *c = owner;
    c->tx.job = NULL;
    routes_ready_reply(status, report, &c->tx.reply);
    conn_drain_begin(c);
    http_respond(c);
}

/* ------------------------------------------------------------------------ */
/* outgoing                                                                  */

/* "Allow" -> "allow:" as lws wants header names. */
static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                      unsigned char *end)
{
    char lname[64];
    size_t n = strlen(name);
    if (n + 2 > sizeof lname)
        return -1;
    for (size_t i = 0; i < n; i++)
        lname[i] = (char)tolower((unsigned char)name[i]);
    lname[n] = ':';
    lname[n + 1] = '\0';
    return lws_add_http_header_by_name(wsi, (const unsigned char *)lname,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

/* Status line and headers into [start, end); *p advances. 0 or -1. */
static int build_headers(struct lws *wsi, const char *rid, const struct http_reply *r,
                         unsigned char **p, unsigned char *end)
{
    if (lws_add_http_common_headers(wsi, (unsigned)r->status, r->content_type, r->len, p, end))
        return -1;
    if (add_header(wsi, "X-Request-Id", rid, p, end))
        return -1;
    if (r->header_name && add_header(wsi, r->header_name, r->header_value, p, end))
        return -1;
    return 0;
}

static int write_headers(struct conn *c)
{
    unsigned char buf[LWS_PRE + 2048];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (build_headers(c->wsi, c->tx.rid, &c->tx.reply, &p, end) != 0 ||
        lws_finalize_write_http_header(c->wsi, start, &p, end) != 0)
        return -1;
    c->tx.headers_sent = true;
    if (c->tx.reply.len == 0)
        return http_finish(c);
    lws_callback_on_writable(c->wsi);
    return 0;
}

static int write_body_chunk(struct conn *c)
{
    /* One event-loop thread: a static buffer is safe and keeps the stack small. */
    static unsigned char buf[LWS_PRE + CHUNK];
    struct http_tx *tx = &c->tx;
    size_t n = tx->reply.len - tx->sent;
    if (n > CHUNK)
        n = CHUNK;
    memcpy(buf + LWS_PRE, tx->reply.body + tx->sent, n);
    bool last = tx->sent + n == tx->reply.len;
    int w = lws_write(c->wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
    if (w < 0 || (size_t)w != n)
        return -1;
    tx->sent += n;
    if (last)
        return http_finish(c);
    lws_callback_on_writable(c->wsi);
    return 0;
}

int http_on_writable(struct conn *c)
{
    struct http_tx *tx = &c->tx;
    if (!tx->active)
        return 0;
    if (tx->parked && !polling_drain(c))
        return 0;
    if (!tx->writing)
        return 0;
    return tx->headers_sent ? write_body_chunk(c) : write_headers(c);
}
