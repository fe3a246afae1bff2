/*
 * session.h - Engine.IO sessions and the table that holds them (the hub).
 *
 * A session is one Engine.IO socket: it outlives the HTTP requests of
 * long-polling and survives the switch to WebSocket. This layer knows the
 * protocol rules (handshake, heartbeat, upgrade, payload batching, bounded
 * outgoing queue) but no network code: the network layer hands it opaque
 * connection pointers and is called back through struct rt_net_ops, and the
 * Socket.IO layer on top is called through struct rt_app_ops. That keeps it
 * testable with fake connections and a fake clock.
 *
 * Threading: everything runs on the event-loop thread.
 *
 * Lifetime: session_end() retires a session at once (it leaves the table,
 * its connections are detached, the app layer is told) but its memory stays
 * valid until hub_reap(), which the network layer calls when no callback
 * holds a session pointer any more. So code that sends on a session and
 * makes it overflow, or handles a close packet, can safely keep using the
 * pointer until it returns; it checks session_ended() before doing more.
 */
#ifndef REALTIME_SESSION_H
#define REALTIME_SESSION_H

#include "engineio.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rt_hub;
struct rt_session;

struct rt_config {
    long ping_interval_ms;   /* server ping every ... */
    long ping_timeout_ms;    /* ... and the pong must come within this */
    long upgrade_timeout_ms; /* a probed WebSocket must send "5" within this */
    long connect_timeout_ms; /* Socket.IO CONNECT must come within this */
    size_t max_payload;      /* largest message / polling body accepted */
    size_t max_buffered;     /* bytes queued for one client before it is dropped */
};

/* What the session layer asks of the network layer. 'conn' is whatever the
 * network layer attached. */
struct rt_net_ops {
    /* 'conn' has something to write (queued packets, the probe answer). */
    void (*wake)(void *conn);
    /* The session ended: 'conn' must forget it and finish (a parked poll
     * answers with a close packet, a WebSocket closes). */
    void (*detach)(void *conn);
};

/* What the session layer tells the application (Socket.IO) layer. */
struct rt_app_ops {
    /* A session opened; returns 0, or -1 to refuse it. */
    int (*on_open)(struct rt_session *s, int64_t now_ms);
    /* A message packet arrived (binary: raw bytes). */
    void (*on_message)(struct rt_session *s, const char *data, size_t len, bool binary,
                       int64_t now_ms);
    /* The session ended (it is out of the table; sends fail from now on). */
    void (*on_close)(struct rt_session *s, const char *reason);
    /* Free the state set with session_set_app(). Called from hub_reap(), so
     * the state outlives any callback that is still using it. */
    void (*on_free)(void *app);
};

/* One queued outgoing packet. The network layer may write in front of the
 * data (WebSocket framing needs room there), hence the headroom. */
#define RT_MSG_HEADROOM 32
struct rt_msg {
    struct rt_msg *next;
    size_t len;
    char buf[]; /* RT_MSG_HEADROOM bytes, then len bytes of packet, then NUL */
};

/* The packet bytes of 'm'. */
char *rt_msg_data(struct rt_msg *m);
void rt_msg_free(struct rt_msg *m);

/* ---- the hub ---- */

/* Returns NULL on OOM. 'net' and 'app' are borrowed for the hub's life. */
struct rt_hub *hub_new(const struct rt_config *cfg, const struct rt_net_ops *net,
                       const struct rt_app_ops *app);

/* End every session ("server shutting down"), reap and free. Safe on NULL. */
void hub_free(struct rt_hub *h);

const struct rt_config *hub_config(const struct rt_hub *h);
const struct rt_config *session_config(const struct rt_session *s);

/* The live session with this id, or NULL. */
struct rt_session *hub_find(struct rt_hub *h, const char *sid);

/* Live sessions whose current transport is 't'. */
size_t hub_count(const struct rt_hub *h, enum eio_transport t);

/* Heartbeat and deadlines: send due pings, end sessions whose pong, upgrade
 * or app deadline passed. Then reaps. */
void hub_tick(struct rt_hub *h, int64_t now_ms);

/* Free the sessions that ended. See "Lifetime" above. */
void hub_reap(struct rt_hub *h);

/* ---- one session ---- */

/* Create a session for a handshake on 't' and queue the open packet. For a
 * WebSocket, 'conn' becomes its transport; for polling pass NULL and then
 * session_poll_get() the handshake request. 'request_id' (copied) ties the
 * session's log lines to the handshake. NULL on OOM or refusal. */
struct rt_session *session_open(struct rt_hub *h, enum eio_transport t, void *conn,
                                const char *request_id, int64_t now_ms);

/* Retire the session (idempotent). 'reason' must be a static string. */
void session_end(struct rt_session *s, const char *reason);

bool session_ended(const struct rt_session *s);
const char *session_sid(const struct rt_session *s);
enum eio_transport session_transport(const struct rt_session *s);
const char *session_request_id(const struct rt_session *s);

/* The application layer's state for this session (set in on_open). */
void *session_app(const struct rt_session *s);
void session_set_app(struct rt_session *s, void *app);

/* End the session with 'reason' (static) at 'at_ms' unless cleared with
 * at_ms = 0. One deadline per session, for the application layer. */
void session_set_deadline(struct rt_session *s, int64_t at_ms, const char *reason);

/* Queue a packet. Returns 0, or -1 when the session has ended or the queue
 * would exceed max_buffered (the session is then ended: a client that does
 * not read must not make the server hold unbounded memory). */
int session_send(struct rt_session *s, enum eio_packet_type type, const char *data, size_t len);

/* ---- long-polling ---- */

/* A GET poll arrived on 'conn'. Returns true when it is attached (it is woken
 * when there is something to answer); false with *err when it must be
 * answered 400 (the session may have ended: overlapping polls). */
bool session_poll_get(struct rt_session *s, void *conn, enum eio_error *err);

/* The body for the woken poll 'conn': queued packets joined by the record
 * separator, or a noop while upgrading. Returns NULL with *len 0 when there is
 * nothing to say (stay parked); else a string the caller frees, and 'conn' is
 * detached from the session. */
char *session_poll_drain(struct rt_session *s, void *conn, size_t *len);

/* A POST arrived on 'conn'; its body follows. Same contract as
 * session_poll_get. */
bool session_post_begin(struct rt_session *s, void *conn, enum eio_error *err);

/* The complete POST body of 'conn'. Returns 0, or -1 when the payload was
 * malformed (the session is ended; answer 400). */
int session_post_body(struct rt_session *s, void *conn, const char *body, size_t len,
                      int64_t now_ms);

/* ---- WebSocket ---- */

/* A WebSocket 'conn' opened for this existing (polling) session: it becomes
 * the probe of an upgrade. Returns false when the session cannot take one
 * (already on WebSocket, or another probe running). */
bool session_ws_attach(struct rt_session *s, void *conn);

/* True when session_ws_attach() would succeed now. */
bool session_ws_can_attach(const struct rt_session *s);

/* A complete WebSocket message on 'conn'. */
void session_ws_message(struct rt_session *s, void *conn, const char *data, size_t len, bool binary,
                        int64_t now_ms);

/* The next frame to write on WebSocket 'conn' (caller frees), or NULL. */
struct rt_msg *session_ws_next(struct rt_session *s, void *conn);

/* 'conn' closed or failed. A lost WebSocket transport ends the session; a
 * lost probe or poll does not. */
void session_conn_gone(struct rt_session *s, void *conn);

#endif
