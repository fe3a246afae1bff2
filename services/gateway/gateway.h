/*
 * gateway.h - the pieces of the API gateway and how they fit together.
 *
 * The gateway is an h2o (evloop flavour) reverse proxy. Every path
 * configuration runs a small chain of handlers, each in its own file:
 *
 *   request_id.c  X-Request-Id / traceparent: kept when valid, else generated
 *                 (ids.c); passed upstream and echoed to the client (returns
 *                 -1: the next handler runs)
 *   cors.c        answers CORS preflights (204, or 403 for an origin not on
 *                 CORS_ORIGINS); other requests pass on (-1)
 *   guard_auth.c  bearer token on every route guard_routes.c does not list as
 *                 public: 401 problem+json, or -1 with the user id noted
 *   ratelimit.c   per-IP / per-user / login-register buckets in Redis (an
 *                 atomic Lua script over a non-blocking connection per
 *                 thread, redis_conn.c): 429 problem+json, or -1
 *   proxy.c       hands the request to the upstream's kept-alive socket pool
 *   endpoints.c   or one of the gateway's own endpoints (/health, /metrics,
 *                 /docs...), ready.c for /ready, and the 404 catch-all
 *
 * and on the way back:
 *   security_headers.c  helmet-like headers on every response
 *   cors.c        filter: Access-Control-Allow-Origin etc. for allowed origins
 *   ratelimit.c   filter: RateLimit-* headers on the requests it counted
 *   problem.c     filter: proxy failures (and upstream 5xx without a problem
 *                 document) become RFC 9457 problem+json, timeouts 504
 *   access_log.c  logger: one JSON line per request (jsonline.c) plus
 *                 Prometheus metrics
 *
 * Requests h2o rejects before routing (400, 413, 417) land on the host's
 * fallback path, which has the id filter, the problem filter and the logger.
 * upstreams.c holds the route table and one socket pool per upstream;
 * server.c the listening socket, the event-loop threads and shutdown;
 * openapi_merge.c the merged document served at /docs/openapi.json.
 */
#ifndef GATEWAY_H
#define GATEWAY_H

#include <h2o.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- upstreams and routes (upstreams.c) ---- */

struct gw_upstream {
    const char *name;        /* "auth": logs, metrics, /ready checks */
    const char *url_env;     /* "AUTH_SERVICE_URL" */
    const char *def_url;     /* default from .env.example */
    const char *health_path; /* "/services/auth/health" */
    h2o_url_t url;           /* parsed; strings owned (h2o_url_copy) */
    h2o_socketpool_t pool;
    bool pool_ready;
};

struct gw_route {
    const char *prefix; /* "/auth": matches /auth and /auth/... */
    struct gw_upstream *upstream;
};

extern struct gw_upstream gw_upstreams[];
extern const size_t gw_num_upstreams;
extern const struct gw_route gw_routes[];
extern const size_t gw_num_routes;

/* Read the *_SERVICE_URL variables and create the socket pools. 0 or -1
 * (an invalid URL; logged). */
int gw_upstreams_init(void);
/* Close idle pooled connections after this many ms (timer runs on 'loop'). */
void gw_upstreams_set_keepalive(h2o_loop_t *loop, uint64_t keepalive_ms);
void gw_upstreams_dispose(void);

/* ---- settings read once at start (main.c) ---- */

struct gw_settings {
    uint64_t upstream_timeout_ms; /* GATEWAY_UPSTREAM_TIMEOUT */
    const char *openapi;          /* merged document */
    size_t openapi_len;
    const char *docs_page; /* Swagger UI HTML */
    size_t docs_page_len;
    const char *swagger_dir; /* absolute or APP_ROOT-relative directory */
    const char *docs_init;   /* /docs/swagger-init.js (static) */
    size_t docs_init_len;
    bool trust_proxy;        /* TRUST_PROXY: believe X-Forwarded-For/-Proto of the peer */
    size_t max_url_bytes;    /* GATEWAY_MAX_URL_BYTES: longer targets are 414 */
    size_t max_header_bytes; /* GATEWAY_MAX_HEADER_BYTES: more header bytes are 431 */
};
extern struct gw_settings gw_settings;

/* ---- per-thread state (server.c) ---- */

struct gw_worker {
    h2o_context_t ctx; /* first: handlers find their worker from req->conn->ctx */
    h2o_loop_t *loop;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    int listen_fd;
    h2o_multithread_receiver_t stop_receiver;
    atomic_int stopping;  /* set by the main thread */
    h2o_linklist_t conns; /* struct gw_conn: open client connections */
    size_t num_conns;
    h2o_timeout_t websocket_timeout; /* idle timeout of proxied WebSockets */
    h2o_timeout_t check_timeout;     /* io timeout of /ready checks */
    h2o_http1client_ctx_t check_client;
    struct gw_redis_conn *redis;     /* rate limits (redis_conn.c); NULL when off */
    h2o_timeout_t ratelimit_timeout; /* RATE_LIMIT_REDIS_TIMEOUT_MS */
    pthread_t tid;
};

static inline struct gw_worker *gw_worker_of(h2o_context_t *ctx)
{
    return (struct gw_worker *)ctx;
}

struct gw_server;
/* Bind 'addr:port' and prepare 'threads' event loops on 'conf'. NULL on error. */
struct gw_server *gw_server_new(h2o_globalconf_t *conf, const char *addr, int port,
                                unsigned threads, bool reuseport);
/* The first loop (timers shared by all threads, e.g. socket pool expiry). */
h2o_loop_t *gw_server_first_loop(struct gw_server *s);
int gw_server_start(struct gw_server *s);
/* Stop accepting, let open connections finish (up to grace_ms), join. */
void gw_server_stop(struct gw_server *s, uint64_t grace_ms);
/* Free everything; call after gw_server_stop and before disposing 'conf'.
 * 'before_loops_destroyed' runs when contexts are gone but loops still exist
 * (the place to dispose socket pools, whose timers live on the first loop). */
void gw_server_free(struct gw_server *s, void (*before_loops_destroyed)(void));

/* ---- handlers, filters, loggers: one file per concern ---- */

/* request_id.c: first handler of every path, plus the filter that echoes the
 * id on the response. The filter alone serves the fallback path, where h2o
 * answers requests it rejects before any handler (400, 413, 417). */
void gw_request_id_register(h2o_pathconf_t *pathconf);
void gw_request_id_register_filter(h2o_pathconf_t *pathconf);
/* True when the handler ran (and counted the request as in flight). */
bool gw_request_counted(h2o_req_t *req);
/* The request's id and traceparent as set by the handler (NULL when the
 * request never reached it). */
const h2o_iovec_t *gw_request_id(h2o_req_t *req);
const h2o_iovec_t *gw_traceparent(h2o_req_t *req);

/* head_limits.c: 414/431 problem+json for request heads past the limits in
 * gw_settings (the second handler of every path, after the request id). */
void gw_head_limits_register(h2o_pathconf_t *pathconf);

/* proxy.c */
void gw_proxy_register(h2o_pathconf_t *pathconf, struct gw_upstream *upstream);
/* Only GET/HEAD of exactly 'exact' (404 otherwise), sent upstream as
 * 'upstream_path'. Both strings must outlive the configuration. */
void gw_proxy_register_fixed(h2o_pathconf_t *pathconf, struct gw_upstream *upstream,
                             const char *exact, const char *upstream_path);

/* problem.c: with an upstream, for a routed path (proxy failures, upstream
 * 5xx without a problem document); with NULL, for the fallback path (h2o's
 * own plain-text 4xx/5xx). */
void gw_problem_filter_register(h2o_pathconf_t *pathconf, const struct gw_upstream *upstream);
void gw_send(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len);
/* Like gw_send, but 'body' is not copied: it must outlive the request. */
void gw_send_static(h2o_req_t *req, int status, const char *content_type, const char *body,
                    size_t len);
void gw_send_problem(h2o_req_t *req, int status, const char *detail);
/* The problem document as a string (caller frees); NULL on OOM. */
char *gw_problem_body(int status, const char *detail, const char *instance);

/* access_log.c; 'upstream' may be NULL for the gateway's own endpoints.
 * gw_access_log_init reads LOG_LEVEL (after log_init). */
void gw_access_log_init(void);
void gw_access_log_register(h2o_pathconf_t *pathconf, const char *route, const char *upstream);

/* cors.c: gw_cors_init reads CORS_ORIGINS (0, or -1 out of memory). The
 * handler answers preflights; the filter alone serves the fallback path. */
int gw_cors_init(void);
void gw_cors_dispose(void);
void gw_cors_register(h2o_pathconf_t *pathconf);
void gw_cors_register_filter(h2o_pathconf_t *pathconf);

/* security_headers.c: filter for every path. */
void gw_security_headers_register(h2o_pathconf_t *pathconf);

/* guard_auth.c: the bearer-token check (routed paths). */
void gw_auth_register(h2o_pathconf_t *pathconf);
/* The verified user id (token subject) of the request; NULL when anonymous. */
const h2o_iovec_t *gw_user_id(h2o_req_t *req);

/* ratelimit.c: gw_ratelimit_init reads the RATE_LIMIT_* settings and
 * REDIS_URL (0 or -1, logged); the handler and its RateLimit-* filter are
 * registered only when RATE_LIMIT_ENABLED. */
int gw_ratelimit_init(void);
bool gw_ratelimit_enabled(void);
void gw_ratelimit_register(h2o_pathconf_t *pathconf);
void gw_ratelimit_worker_init(struct gw_worker *w);
void gw_ratelimit_worker_dispose(struct gw_worker *w);

/* guard_metrics.c: counters of the guard handlers, shown at /metrics. */
enum gw_guard_counter {
    GW_C_AUTH_MISSING,
    GW_C_AUTH_INVALID,
    GW_C_RL_IP,
    GW_C_RL_USER,
    GW_C_RL_AUTH,
    GW_C_RL_UNAVAILABLE,
    GW_C_COUNT
};
void gw_guard_count(enum gw_guard_counter c);
/* The counters in Prometheus text (caller frees); NULL on OOM. */
char *gw_guard_metrics_render(void);

/* endpoints.c */
enum gw_endpoint { GW_HEALTH, GW_METRICS, GW_DOCS, GW_NOT_FOUND };
void gw_endpoint_register(h2o_pathconf_t *pathconf, enum gw_endpoint which);
/* 405 unless GET or HEAD; returns true when the method is acceptable. */
bool gw_require_get(h2o_req_t *req);

/* ready.c */
void gw_ready_register(h2o_pathconf_t *pathconf);
void gw_ready_worker_init(struct gw_worker *w);
void gw_ready_worker_dispose(struct gw_worker *w);

static inline bool gw_method_is(const h2o_req_t *req, const char *m, size_t len)
{
    return req->input.method.len == len && memcmp(req->input.method.base, m, len) == 0;
}
static inline bool gw_is_head(const h2o_req_t *req)
{
    return gw_method_is(req, H2O_STRLIT("HEAD"));
}

/* Move the filter just created with h2o_create_filter to the front, ahead of
 * h2o's chunked encoder, so it may still change status, headers and length. */
void gw_filter_to_front(h2o_pathconf_t *pathconf, h2o_filter_t *filter);

#endif
