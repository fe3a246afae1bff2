/*
 * access_log.c - one JSON line per request on stderr, in the format of core's
 * log_fields (written by jsonline.c, five times cheaper: see jsonline.h), and
 * the Prometheus series, from an h2o logger: h2o calls it when the request is
 * disposed, so it sees the final status, whichever piece produced it.
 */
#include "gateway.h"

#include "jsonline.h"

#include "core/metrics.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

/* Whether info lines pass LOG_LEVEL: the rule of core's log_init ("warn" and
 * "error" hide them, anything else shows them). Error lines always pass. */
static bool g_log_requests = true;

void gw_access_log_init(void)
{
    const char *lv = getenv("LOG_LEVEL");
    g_log_requests = !(lv && (!strcasecmp(lv, "warn") || !strcasecmp(lv, "error")));
}

struct access_logger {
    h2o_logger_t super;
    const char *route;    /* "/auth", "/health", "(unmatched)" */
    const char *upstream; /* service name, NULL for the gateway's own paths */
};

/* Methods outside this set count as OTHER: clients cannot grow the series. */
static const char *metric_method(h2o_iovec_t m)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (m.len == strlen(known[i]) && memcmp(m.base, known[i], m.len) == 0)
            return known[i];
    return "OTHER";
}

static double seconds_since(const struct timeval *t0)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    double dt = (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_usec - t0->tv_usec) / 1e6;
    return dt < 0 ? 0 : dt;
}

static void log_access(h2o_logger_t *_self, h2o_req_t *req)
{
    struct access_logger *self = (struct access_logger *)_self;
    /* 0: the client went away before any response (nginx's 499). */
    int status = req->res.status ? req->res.status : 499;
    double dt = seconds_since(&req->timestamps.request_begin_at);
    const char *method = metric_method(req->input.method);
    metrics_observe(method, self->route, status, dt);

    if (gw_request_counted(req))
        metrics_inflight(-1); /* taken by the request-id handler */
    const h2o_iovec_t *rid = gw_request_id(req);
    if (!g_log_requests && status < 500)
        return;
    const h2o_iovec_t *tp = gw_traceparent(req);

    char rid_s[129] = "", trace_s[33] = "";
    if (rid)
        memcpy(rid_s, rid->base, rid->len < 128 ? rid->len : 128);
    if (tp && tp->len == 55)
        memcpy(trace_s, tp->base + 3, 32);
    /* the path without its query, which may carry tokens */
    size_t plen = req->input.query_at != SIZE_MAX ? req->input.query_at : req->input.path.len;
    struct jsonline j;
    jsonline_begin(&j, status >= 500 ? "error" : "info", "gateway", "request", rid_s, trace_s);
    jsonline_str(&j, "method", req->input.method.base, req->input.method.len);
    jsonline_str(&j, "path", req->input.path.base, plen);
    jsonline_str(&j, "route", self->route, strlen(self->route));
    jsonline_int(&j, "status", status);
    jsonline_ms(&j, "durationMs", dt * 1000.0);
    const h2o_iovec_t *uid = gw_user_id(req);
    if (uid)
        jsonline_str(&j, "userId", uid->base, uid->len);
    if (self->upstream)
        jsonline_str(&j, "upstream", self->upstream, strlen(self->upstream));
    else
        jsonline_null(&j, "upstream");
    if (req->error_logs.size > 0) { /* e.g. the proxy's "connection failed" */
        h2o_iovec_t e = req->error_logs.entries[req->error_logs.size - 1].msg;
        jsonline_str(&j, "error", e.base, e.len);
    }
    jsonline_write(&j, stderr);
}

void gw_access_log_register(h2o_pathconf_t *pathconf, const char *route, const char *upstream)
{
    struct access_logger *l = (struct access_logger *)h2o_create_logger(pathconf, sizeof *l);
    l->super.log_access = log_access;
    l->route = route;
    l->upstream = upstream;
}
