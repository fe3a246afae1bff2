/*
 * conn.h - internals shared by the libwebsockets glue (server.c, http_tx.c,
 * polling.c, ws.c). Not for the protocol layers, which never see lws.
 *
 * struct conn is lws's per-connection user space ("pss"): lws allocates it
 * zeroed for each connection and frees it when the connection closes, and
 * again (fresh) when the connection upgrades to WebSocket. Whatever it owns
 * is freed by conn_release() from the close callbacks.
 */
#ifndef REALTIME_CONN_H
#define REALTIME_CONN_H

#include "ready.h"
#include "routes.h"
#include "server.h"
#include "session.h"

#include <libwebsockets.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* X-Request-Id is at most 128 characters (http_request_id_valid). */
#define RID_MAX 128

struct rt_server {
    struct lws_context *ctx;
    struct rt_hub *hub; /* NULL once shut down */
    struct rt_server_config cfg;
    lws_sorted_usec_list_t tick;
    lws_usec_t tick_us; /* heartbeat period */
    atomic_bool stop;
    bool ready_started;
    bool shutting_down;
    size_t draining; /* connections still finishing their goodbye */
};

/* One HTTP request/response on a connection (HTTP/1.1 keep-alive runs
 * several in turn). */
struct http_tx {
    bool active;
    const char *method; /* static */
    char *path;         /* owned */
    struct route_match route;
    char rid[RID_MAX + 1];
    char trace_id[33];
    int64_t t0_us;

    bool expect_body; /* a body follows the headers */
    bool body_done;   /* ... and has arrived */
    bool store_body;  /* keep it (a polling POST), else discard it */
    char *body;       /* owned */
    size_t body_len, body_cap;
    bool close_after; /* close the connection after the reply (413) */

    struct http_reply reply; /* decided when reply.status != 0 */
    bool writing;
    bool headers_sent;
    size_t sent;

    bool parked;           /* a long-poll waiting for its session */
    struct ready_job *job; /* a /ready check running for this request */
};

struct conn {
    struct lws *wsi;
    struct rt_server *srv;
    bool is_ws;
    /* The Engine.IO session this connection serves, borrowed: set only
     * while the session has this connection in one of its slots, so the
     * session's detach callback can clear it before the session goes. */
    struct rt_session *session;
    struct http_tx tx;

    /* WebSocket */
    char ws_sid[EIO_SID_LEN + 1]; /* sid of an upgrade, "" for a direct WebSocket */
    char *rx;                     /* owned: a message being reassembled */
    size_t rx_len, rx_cap;
    bool rx_binary;
    bool closing;  /* close at the next writable callback */
    bool draining; /* counted in srv->draining until its goodbye is out */
};

/* server.c */
struct rt_server *conn_server(struct lws *wsi);
int64_t rt_now_ms(void);
int64_t rt_now_us(void);
/* Text appended to /metrics: the socket gauges. Caller frees; NULL on OOM. */
char *server_metrics_extra(struct rt_server *srv);
extern const struct rt_net_ops conn_net_ops;
/* At shutdown: wait (briefly) for this connection's last reply or close. */
void conn_drain_begin(struct conn *c);
/* The connection's goodbye is out (or it is gone): stop waiting for it. */
void conn_drained(struct conn *c);

/* http_tx.c */
void http_read_ids(struct lws *wsi, char rid[RID_MAX + 1], char trace_id[33]);
int http_on_request(struct conn *c, const char *path);
int http_on_body(struct conn *c, const void *in, size_t len);
int http_on_body_done(struct conn *c);
int http_on_writable(struct conn *c);
/* Decide the reply (already set in c->tx.reply) and write it when the body
 * has been read. */
void http_respond(struct conn *c);
/* Free the transaction; http_closed() also logs an unfinished one (499). */
void http_release(struct conn *c);
void http_closed(struct conn *c);
void http_deliver_ready(void *owner, int status, json_t *report);
/* Count and log one finished request (metrics + the JSON access line). */
void http_log_request(const char *method, const char *route, const char *path, const char *rid,
                      const char *trace_id, int status, int64_t t0_us);

/* polling.c */
void polling_on_request(struct conn *c);
void polling_on_body(struct conn *c);
/* The reply for a woken long-poll; true when one was set. */
bool polling_drain(struct conn *c);
/* Query arguments of the Engine.IO request on 'wsi'. */
struct eio_query {
    char eio[64], transport[64], sid[64];    /* "name=value" buffers */
    const char *eio_v, *transport_v, *sid_v; /* values inside them, or NULL */
};
void polling_read_query(struct lws *wsi, struct eio_query *q);

/* ws.c */
int ws_filter(struct conn *c, struct lws *wsi);
int ws_add_headers(struct conn *c, struct lws *wsi, void *in);
int ws_established(struct conn *c);
int ws_receive(struct conn *c, const void *in, size_t len);
int ws_writable(struct conn *c);
void ws_release(struct conn *c);

#endif
