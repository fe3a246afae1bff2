/*
 * problem.c - RFC 9457 problem+json responses.
 *
 * Sending helpers for the gateway's own handlers, and a filter on proxied
 * paths that turns failures of the proxy into problem documents. h2o's proxy
 * answers its own failures (connection refused, I/O error, I/O timeout, ...)
 * with a plain-text 502 "Gateway Error" after recording the reason through
 * h2o_req_log_error(req, "lib/core/proxy.c", ...). The filter sees that
 * response before a byte of it is sent: a timeout becomes 504, anything else
 * stays 502, and the body is replaced. A 502/503/504 that an upstream sent
 * without a problem document is wrapped the same way; one that already is
 * application/problem+json (the services' own) passes untouched.
 */
#include "gateway.h"

#include "core/http.h"
#include "core/log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *gw_problem_body(int status, const char *detail, const char *instance)
{
    json_t *p = http_problem_json(status, detail, instance, NULL);
    char *s = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    return s;
}

static void set_status_and_type(h2o_req_t *req, int status, const char *content_type)
{
    req->res.status = status;
    req->res.reason = http_status_title(status);
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, content_type,
                   strlen(content_type), 1);
}

void gw_send(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len)
{
    set_status_and_type(req, status, content_type);
    req->res.content_length = len;
    h2o_send_inline(req, body, len); /* copies; sends no body to HEAD */
}

static void static_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    (void)g;
    (void)req;
}

void gw_send_static(h2o_req_t *req, int status, const char *content_type, const char *body,
                    size_t len)
{
    static h2o_generator_t generator = {static_proceed, NULL};
    set_status_and_type(req, status, content_type);
    req->res.content_length = len;
    h2o_start_response(req, &generator);
    if (gw_is_head(req)) {
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    h2o_iovec_t buf = h2o_iovec_init(body, len);
    h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

/* The request path without the query, as a C string in the pool. */
static const char *instance_of(h2o_req_t *req)
{
    size_t n = req->input.query_at != SIZE_MAX ? req->input.query_at : req->input.path.len;
    return h2o_strdup(&req->pool, req->input.path.base, n).base;
}

void gw_send_problem(h2o_req_t *req, int status, const char *detail)
{
    char *s = gw_problem_body(status, detail, instance_of(req));
    if (!s) {
        static const char oom[] =
            "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\",\"status\":500}";
        gw_send_static(req, 500, "application/problem+json", oom, sizeof oom - 1);
        return;
    }
    gw_send(req, status, "application/problem+json", s, strlen(s));
    free(s);
}

/* ------------------------------------------------------------------------ */
/* the filter                                                                */

struct problem_filter {
    h2o_filter_t super;
    const struct gw_upstream *upstream;
};

struct replace_ostream {
    h2o_ostream_t super;
    h2o_iovec_t body;
    bool sent;
    bool is_head;
};

/* Drop whatever the original body was; send ours once. */
static void replace_do_send(h2o_ostream_t *_self, h2o_req_t *req, h2o_iovec_t *bufs, size_t cnt,
                            h2o_send_state_t state)
{
    struct replace_ostream *self = (struct replace_ostream *)_self;
    (void)bufs;
    (void)cnt;
    if (!self->sent && !self->is_head) {
        self->sent = true;
        h2o_ostream_send_next(&self->super, req, &self->body, 1, state);
        return;
    }
    h2o_ostream_send_next(&self->super, req, NULL, 0, state);
}

/* The reason h2o's proxy recorded for its own error response, if any. */
static const h2o_req_error_log_t *proxy_error(h2o_req_t *req)
{
    for (size_t i = req->error_logs.size; i-- > 0;) {
        const h2o_req_error_log_t *e = &req->error_logs.entries[i];
        if (e->module && strstr(e->module, "proxy"))
            return e;
    }
    return NULL;
}

static bool is_problem_response(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i == -1)
        return false;
    h2o_iovec_t v = req->res.headers.entries[i].value;
    static const char want[] = "application/problem+json";
    return v.len >= sizeof want - 1 && strncasecmp(v.base, want, sizeof want - 1) == 0;
}

static bool mentions_timeout(h2o_iovec_t msg)
{
    return h2o_strstr(msg.base, msg.len, H2O_STRLIT("timeout")) != SIZE_MAX;
}

/* Detail for an error h2o produced itself, before any handler. */
static void protocol_detail(h2o_req_t *req, int status, char *detail, size_t n)
{
    switch (status) {
    case 400:
        snprintf(detail, n, "malformed HTTP request");
        break;
    case 413:
        snprintf(detail, n, "request body exceeds %zu bytes",
                 req->conn->ctx->globalconf->max_request_entity_size);
        break;
    case 417:
        snprintf(detail, n, "unsupported Expect header");
        break;
    default:
        snprintf(detail, n, "%s", http_status_title(status));
    }
}

static void on_setup_ostream(h2o_filter_t *_self, h2o_req_t *req, h2o_ostream_t **slot)
{
    struct problem_filter *self = (struct problem_filter *)_self;
    int status = req->res.status;
    bool wanted =
        self->upstream ? (status == 502 || status == 503 || status == 504) : status >= 400;
    if (!wanted || is_problem_response(req)) {
        h2o_setup_next_ostream(req, slot);
        return;
    }

    char detail[256];
    const h2o_req_error_log_t *err = proxy_error(req);
    if (!self->upstream) {
        protocol_detail(req, status, detail, sizeof detail);
    } else if (err && mentions_timeout(err->msg)) {
        status = 504;
        snprintf(detail, sizeof detail, "upstream service %s did not answer within %llu s (%.*s)",
                 self->upstream->name, (unsigned long long)(gw_settings.upstream_timeout_ms / 1000),
                 (int)err->msg.len, err->msg.base);
    } else if (err) {
        snprintf(detail, sizeof detail, "upstream service %s is unreachable (%.*s)",
                 self->upstream->name, (int)err->msg.len, err->msg.base);
    } else {
        snprintf(detail, sizeof detail, "upstream service %s answered %d", self->upstream->name,
                 status);
    }
    char *s = gw_problem_body(status, detail, instance_of(req));
    if (!s) {
        h2o_setup_next_ostream(req, slot);
        return;
    }
    h2o_iovec_t body = h2o_strdup(&req->pool, s, strlen(s));
    free(s);

    /* Headers that described the old body go. */
    static const h2o_token_t *const drop[] = {H2O_TOKEN_CONTENT_TYPE,   H2O_TOKEN_CONTENT_ENCODING,
                                              H2O_TOKEN_CONTENT_LENGTH, H2O_TOKEN_TRANSFER_ENCODING,
                                              H2O_TOKEN_ETAG,           H2O_TOKEN_LAST_MODIFIED,
                                              H2O_TOKEN_CONTENT_RANGE};
    for (size_t k = 0; k < sizeof drop / sizeof drop[0]; k++) {
        ssize_t i;
        while ((i = h2o_find_header(&req->res.headers, drop[k], -1)) != -1)
            h2o_delete_header(&req->res.headers, i);
    }
    set_status_and_type(req, status, "application/problem+json");
    req->res.content_length = body.len;

    struct replace_ostream *o = (struct replace_ostream *)h2o_add_ostream(req, sizeof *o, slot);
    o->super.do_send = replace_do_send;
    o->body = body;
    o->sent = false;
    o->is_head = gw_is_head(req);
    h2o_setup_next_ostream(req, &o->super.next);
}

void gw_problem_filter_register(h2o_pathconf_t *pathconf, const struct gw_upstream *upstream)
{
    struct problem_filter *f = (struct problem_filter *)h2o_create_filter(pathconf, sizeof *f);
    f->super.on_setup_ostream = on_setup_ostream;
    f->upstream = upstream;
    gw_filter_to_front(pathconf, &f->super);
}

void gw_filter_to_front(h2o_pathconf_t *pathconf, h2o_filter_t *filter)
{
    size_t n = pathconf->filters.size;
    if (n == 0 || pathconf->filters.entries[n - 1] != filter)
        return;
    memmove(pathconf->filters.entries + 1, pathconf->filters.entries,
            (n - 1) * sizeof pathconf->filters.entries[0]);
    pathconf->filters.entries[0] = filter;
}
