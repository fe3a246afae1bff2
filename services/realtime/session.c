/*
 * session.c - Engine.IO sessions. See session.h for the model.
 *
 * Heartbeat: the server pings every ping_interval and expects the pong within
 * ping_timeout (protocol v4: the server pings, the client answers). Timers
 * are not per session: hub_tick() walks the sessions once a second or so,
 * which costs a few microseconds per thousand sessions and avoids sorted
 * timer inserts for every ping.
 *
 * Upgrade (polling -> WebSocket): the client opens a WebSocket with the sid,
 * sends "2probe", we answer "3probe" on it and release the parked poll with a
 * noop so the client can pause polling; the client then sends "5" on the
 * WebSocket and from then on every packet goes there.
 */
#include "session.h"
#include "strmap.h"

#include "core/log.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct rt_session {
    char sid[EIO_SID_LEN + 1];
    enum eio_transport transport;
    struct rt_hub *hub;
    char *request_id; /* owned */
    void *app;        /* owned by the app layer */

    /* Connections, borrowed from the network layer; cleared when it reports
     * them gone or when the session detaches them. */
    void *poll_conn; /* parked GET */
    void *post_conn; /* POST being received */
    void *ws_conn;   /* the WebSocket transport, or the probe of an upgrade */

    bool upgrading;   /* probe answered, waiting for "5" */
    bool probe_reply; /* "3probe" not written yet */
    bool waiting_pong;

    struct rt_msg *out_head, *out_tail; /* owned */
    size_t out_bytes;

    int64_t next_ping_ms, pong_deadline_ms, upgrade_deadline_ms, app_deadline_ms;
    const char *app_deadline_reason;
    const char *end_reason; /* set once ended */

    struct rt_session *prev, *next; /* live sessions */
    struct rt_session *reap_next;   /* ended, waiting for hub_reap */
};

struct rt_hub {
    struct rt_config cfg;
    const struct rt_net_ops *net;
    const struct rt_app_ops *app;
    struct strmap *by_sid;
    struct rt_session *live;
    struct rt_session *ended;
    size_t count[2]; /* by transport */
};

/* ------------------------------------------------------------------------ */
/* messages                                                                  */

char *rt_msg_data(struct rt_msg *m)
{
    return m->buf + RT_MSG_HEADROOM;
}

void rt_msg_free(struct rt_msg *m)
{
    free(m);
}

/* A packet: type digit + data. NULL on OOM. */
static struct rt_msg *msg_new(enum eio_packet_type type, const char *data, size_t len)
{
    struct rt_msg *m = malloc(sizeof *m + RT_MSG_HEADROOM + len + 2);
    if (!m)
        return NULL;
    m->next = NULL;
    m->len = len + 1;
    char *p = rt_msg_data(m);
    p[0] = eio_type_char(type);
    if (len)
        memcpy(p + 1, data, len);
    p[len + 1] = '\0';
    return m;
}

static void queue_push(struct rt_session *s, struct rt_msg *m)
{
    if (s->out_tail)
        s->out_tail->next = m;
    else
        s->out_head = m;
    s->out_tail = m;
    s->out_bytes += m->len;
}

static struct rt_msg *queue_pop(struct rt_session *s)
{
    struct rt_msg *m = s->out_head;
    if (!m)
        return NULL;
    s->out_head = m->next;
    if (!s->out_head)
        s->out_tail = NULL;
    s->out_bytes -= m->len;
    m->next = NULL;
    return m;
}

static void queue_clear(struct rt_session *s)
{
    struct rt_msg *m;
    while ((m = queue_pop(s)))
        rt_msg_free(m);
}

/* ------------------------------------------------------------------------ */
/* the hub                                                                   */

struct rt_hub *hub_new(const struct rt_config *cfg, const struct rt_net_ops *net,
                       const struct rt_app_ops *app)
{
    if (sodium_init() < 0)
        return NULL;
    struct rt_hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->by_sid = strmap_new();
    if (!h->by_sid) {
        free(h);
        return NULL;
    }
    h->cfg = *cfg;
    h->net = net;
    h->app = app;
    return h;
}

void hub_free(struct rt_hub *h)
{
    if (!h)
        return;
    while (h->live)
        session_end(h->live, "server shutting down");
    hub_reap(h);
    strmap_free(h->by_sid);
    free(h);
}

const struct rt_config *hub_config(const struct rt_hub *h)
{
    return &h->cfg;
}

const struct rt_config *session_config(const struct rt_session *s)
{
    return &s->hub->cfg;
}

struct rt_session *hub_find(struct rt_hub *h, const char *sid)
{
    return sid ? strmap_get(h->by_sid, sid) : NULL;
}

size_t hub_count(const struct rt_hub *h, enum eio_transport t)
{
    return t <= EIO_TRANSPORT_WEBSOCKET ? h->count[t] : 0;
}

void hub_reap(struct rt_hub *h)
{
    while (h->ended) {
        struct rt_session *s = h->ended;
        h->ended = s->reap_next;
        queue_clear(s);
        if (s->app)
            h->app->on_free(s->app);
        free(s->request_id);
        free(s);
    }
}

/* A probe that will not complete: close it, the session stays on polling. */
static void abort_probe(struct rt_session *s)
{
    void *ws = s->ws_conn;
    s->ws_conn = NULL;
    s->upgrading = false;
    s->probe_reply = false;
    if (ws)
        s->hub->net->detach(ws);
}

static void send_ping(struct rt_session *s, int64_t now)
{
    s->waiting_pong = true;
    s->pong_deadline_ms = now + s->hub->cfg.ping_timeout_ms;
    (void)session_send(s, EIO_PING, NULL, 0); /* failure ends the session */
}

static void tick_one(struct rt_session *s, int64_t now)
{
    if (s->waiting_pong && now >= s->pong_deadline_ms) {
        session_end(s, "ping timeout");
        return;
    }
    if (s->app_deadline_ms && now >= s->app_deadline_ms) {
        session_end(s, s->app_deadline_reason);
        return;
    }
    if (s->upgrading && now >= s->upgrade_deadline_ms)
        abort_probe(s);
    if (!s->waiting_pong && now >= s->next_ping_ms)
        send_ping(s, now);
}

void hub_tick(struct rt_hub *h, int64_t now)
{
    struct rt_session *next;
    for (struct rt_session *s = h->live; s; s = next) {
        next = s->next; /* tick_one may end (unlink) s, never another */
        tick_one(s, now);
    }
    hub_reap(h);
}

/* ------------------------------------------------------------------------ */
/* session life                                                              */

static void link_live(struct rt_hub *h, struct rt_session *s)
{
    s->next = h->live;
    if (h->live)
        h->live->prev = s;
    h->live = s;
}

static void unlink_live(struct rt_hub *h, struct rt_session *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        h->live = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

/* A fresh session, in the table, with a unique id. NULL on OOM. */
static struct rt_session *session_alloc(struct rt_hub *h, enum eio_transport t,
                                        const char *request_id)
{
    struct rt_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->request_id = strdup(request_id ? request_id : "");
    if (!s->request_id) {
        free(s);
        return NULL;
    }
    int rc;
    do { /* a collision of 120 random bits will not happen, but is handled */
        eio_generate_sid(s->sid);
        rc = strmap_put(h->by_sid, s->sid, s);
    } while (rc == 1);
    if (rc != 0) {
        free(s->request_id);
        free(s);
        return NULL;
    }
    s->hub = h;
    s->transport = t;
    link_live(h, s);
    h->count[t]++;
    return s;
}

/* A log line about 's'. Inside a request the line carries that request's id;
 * elsewhere (heartbeat, WebSocket frames) the id of the handshake, so every
 * line of a session can be found from it. 'fields' is stolen. */
static void session_log(const struct rt_session *s, const char *msg, json_t *fields)
{
    if (fields && !*log_request_id())
        json_object_set_new(fields, "requestId", json_string(s->request_id));
    log_fields(LOG_INFO, msg, fields);
}

static int queue_open_packet(struct rt_session *s)
{
    const struct rt_config *c = &s->hub->cfg;
    char *json = eio_handshake_json(s->sid, s->transport == EIO_TRANSPORT_POLLING,
                                    c->ping_interval_ms, c->ping_timeout_ms, (long)c->max_payload);
    if (!json)
        return -1;
    int rc = session_send(s, EIO_OPEN, json, strlen(json));
    free(json);
    return rc;
}

struct rt_session *session_open(struct rt_hub *h, enum eio_transport t, void *conn,
                                const char *request_id, int64_t now)
{
    struct rt_session *s = session_alloc(h, t, request_id);
    if (!s)
        return NULL;
    s->next_ping_ms = now + h->cfg.ping_interval_ms;
    if (t == EIO_TRANSPORT_WEBSOCKET)
        s->ws_conn = conn;
    if (queue_open_packet(s) != 0 || h->app->on_open(s, now) != 0) {
        /* The caller still owns 'conn': do not detach it. */
        s->ws_conn = NULL;
        session_end(s, "handshake failed");
        return NULL;
    }
    session_log(s, "session opened",
                json_pack("{s:s, s:s}", "sid", s->sid, "transport", eio_transport_name(t)));
    return s;
}

/* Detach a connection slot: clear it first so the network layer's detach
 * callback cannot find it again. */
static void detach_slot(struct rt_session *s, void **slot)
{
    void *conn = *slot;
    *slot = NULL;
    if (conn)
        s->hub->net->detach(conn);
}

void session_end(struct rt_session *s, const char *reason)
{
    if (s->end_reason)
        return;
    struct rt_hub *h = s->hub;
    s->end_reason = reason;
    strmap_remove(h->by_sid, s->sid);
    h->count[s->transport]--;
    unlink_live(h, s);
    s->reap_next = h->ended;
    h->ended = s;
    detach_slot(s, &s->poll_conn);
    detach_slot(s, &s->post_conn);
    detach_slot(s, &s->ws_conn);
    h->app->on_close(s, reason);
    session_log(s, "session closed",
                json_pack("{s:s, s:s, s:s}", "sid", s->sid, "transport",
                          eio_transport_name(s->transport), "reason", reason));
}

bool session_ended(const struct rt_session *s)
{
    return s->end_reason != NULL;
}

const char *session_sid(const struct rt_session *s)
{
    return s->sid;
}

enum eio_transport session_transport(const struct rt_session *s)
{
    return s->transport;
}

const char *session_request_id(const struct rt_session *s)
{
    return s->request_id;
}

void *session_app(const struct rt_session *s)
{
    return s->app;
}

void session_set_app(struct rt_session *s, void *app)
{
    s->app = app;
}

void session_set_deadline(struct rt_session *s, int64_t at_ms, const char *reason)
{
    s->app_deadline_ms = at_ms;
    s->app_deadline_reason = reason;
}

/* The connection that writes queued packets now, or NULL. */
static void *writer(const struct rt_session *s)
{
    return s->transport == EIO_TRANSPORT_WEBSOCKET ? s->ws_conn : s->poll_conn;
}

int session_send(struct rt_session *s, enum eio_packet_type type, const char *data, size_t len)
{
    if (s->end_reason)
        return -1;
    if (s->out_bytes + len + 1 > s->hub->cfg.max_buffered) {
        session_end(s, "buffer overflow");
        return -1;
    }
    struct rt_msg *m = msg_new(type, data, len);
    if (!m) {
        session_end(s, "out of memory");
        return -1;
    }
    queue_push(s, m);
    void *w = writer(s);
    if (w)
        s->hub->net->wake(w);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* incoming packets                                                          */

static void on_packet(struct rt_session *s, const struct eio_packet *p, int64_t now)
{
    switch (p->type) {
    case EIO_PONG:
        s->waiting_pong = false;
        s->next_ping_ms = now + s->hub->cfg.ping_interval_ms;
        break;
    case EIO_MESSAGE:
        s->hub->app->on_message(s, p->data, p->len, p->binary, now);
        break;
    case EIO_CLOSE:
        session_end(s, "transport close");
        break;
    default:
        /* open/ping/upgrade/noop from a client on the transport mean nothing
         * in v4; the reference server ignores them too. */
        break;
    }
}

/* A binary message from a polling payload: base64 after the 'b'. */
static int on_base64_message(struct rt_session *s, const struct eio_packet *p, int64_t now)
{
    size_t cap = p->len / 4 * 3 + 3, n = 0;
    unsigned char *raw = malloc(cap ? cap : 1);
    if (!raw)
        return -1;
    int rc = sodium_base642bin(raw, cap, p->data, p->len, NULL, &n, NULL,
                               sodium_base64_VARIANT_ORIGINAL);
    if (rc == 0)
        s->hub->app->on_message(s, (const char *)raw, n, true, now);
    free(raw);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* long-polling                                                              */

bool session_poll_get(struct rt_session *s, void *conn, enum eio_error *err)
{
    *err = EIO_ERR_BAD_REQUEST;
    if (s->end_reason || s->transport != EIO_TRANSPORT_POLLING)
        return false;
    if (s->poll_conn) {
        /* Two polls at once: the reference server treats it as a broken
         * client and closes the session. */
        session_end(s, "transport error");
        return false;
    }
    s->poll_conn = conn;
    if (s->out_head || s->upgrading)
        s->hub->net->wake(conn);
    return true;
}

/* All queued packets joined by the separator. NULL on OOM. */
static char *join_queue(struct rt_session *s, size_t *len)
{
    size_t total = 0;
    for (struct rt_msg *m = s->out_head; m; m = m->next)
        total += m->len + 1;
    char *out = malloc(total + 1);
    if (!out)
        return NULL;
    size_t used = 0;
    struct rt_msg *m;
    while ((m = queue_pop(s))) {
        if (used)
            out[used++] = EIO_SEPARATOR;
        memcpy(out + used, rt_msg_data(m), m->len);
        used += m->len;
        rt_msg_free(m);
    }
    out[used] = '\0';
    *len = used;
    return out;
}

char *session_poll_drain(struct rt_session *s, void *conn, size_t *len)
{
    *len = 0;
    if (conn != s->poll_conn)
        return NULL;
    bool noop = s->transport == EIO_TRANSPORT_WEBSOCKET || (s->upgrading && !s->out_head);
    if (!noop && !s->out_head)
        return NULL; /* spurious wake-up: stay parked */
    /* A noop releases the poll so the client can finish the upgrade; after
     * it, queued packets belong to the WebSocket. */
    char *body = noop ? strdup("6") : join_queue(s, len);
    if (!body) {
        session_end(s, "out of memory");
        return NULL;
    }
    if (noop)
        *len = 1;
    s->poll_conn = NULL;
    return body;
}

bool session_post_begin(struct rt_session *s, void *conn, enum eio_error *err)
{
    *err = EIO_ERR_BAD_REQUEST;
    if (s->end_reason || s->transport != EIO_TRANSPORT_POLLING)
        return false;
    if (s->post_conn) {
        session_end(s, "transport error");
        return false;
    }
    s->post_conn = conn;
    return true;
}

int session_post_body(struct rt_session *s, void *conn, const char *body, size_t len, int64_t now)
{
    if (conn == s->post_conn)
        s->post_conn = NULL;
    const char *cur = body, *end = body + len, *pkt;
    size_t plen;
    while (!s->end_reason && eio_payload_next(&cur, end, &pkt, &plen)) {
        struct eio_packet p;
        if (eio_decode(pkt, plen, &p) != 0) {
            session_end(s, "parse error");
            return -1;
        }
        if (p.binary) {
            if (on_base64_message(s, &p, now) != 0) {
                session_end(s, "parse error");
                return -1;
            }
        } else
            on_packet(s, &p, now);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* WebSocket                                                                 */

bool session_ws_can_attach(const struct rt_session *s)
{
    return !s->end_reason && s->transport == EIO_TRANSPORT_POLLING && !s->ws_conn;
}

bool session_ws_attach(struct rt_session *s, void *conn)
{
    if (!session_ws_can_attach(s))
        return false;
    s->ws_conn = conn;
    return true;
}

/* "5" on the probe: from now on the WebSocket carries everything. */
static void finish_upgrade(struct rt_session *s)
{
    struct rt_hub *h = s->hub;
    s->upgrading = false;
    h->count[s->transport]--;
    s->transport = EIO_TRANSPORT_WEBSOCKET;
    h->count[s->transport]++;
    if (s->poll_conn) /* drain answers it with a noop */
        h->net->wake(s->poll_conn);
    if (s->out_head)
        h->net->wake(s->ws_conn);
    session_log(s, "session upgraded",
                json_pack("{s:s, s:s}", "sid", s->sid, "transport", "websocket"));
}

static void on_probe_message(struct rt_session *s, const struct eio_packet *p, int64_t now)
{
    if (p->type == EIO_PING && p->len == 5 && !memcmp(p->data, "probe", 5) && !s->upgrading) {
        s->upgrading = true;
        s->probe_reply = true;
        s->upgrade_deadline_ms = now + s->hub->cfg.upgrade_timeout_ms;
        s->hub->net->wake(s->ws_conn);
        if (s->poll_conn)
            s->hub->net->wake(s->poll_conn);
    } else if (p->type == EIO_UPGRADE && s->upgrading) {
        finish_upgrade(s);
    } else {
        abort_probe(s); /* anything else during an upgrade is a failed probe */
    }
}

void session_ws_message(struct rt_session *s, void *conn, const char *data, size_t len, bool binary,
                        int64_t now)
{
    if (s->end_reason || conn != s->ws_conn)
        return;
    if (binary) {
        if (s->transport == EIO_TRANSPORT_WEBSOCKET)
            s->hub->app->on_message(s, data, len, true, now);
        else
            abort_probe(s);
        return;
    }
    struct eio_packet p;
    if (eio_decode(data, len, &p) != 0 || p.binary) {
        /* 'b' packets exist only in polling payloads. */
        if (s->transport == EIO_TRANSPORT_WEBSOCKET)
            session_end(s, "parse error");
        else
            abort_probe(s);
        return;
    }
    if (s->transport == EIO_TRANSPORT_WEBSOCKET)
        on_packet(s, &p, now);
    else
        on_probe_message(s, &p, now);
}

struct rt_msg *session_ws_next(struct rt_session *s, void *conn)
{
    if (s->end_reason || conn != s->ws_conn)
        return NULL;
    if (s->probe_reply) {
        s->probe_reply = false;
        return msg_new(EIO_PONG, "probe", 5);
    }
    return s->transport == EIO_TRANSPORT_WEBSOCKET ? queue_pop(s) : NULL;
}

void session_conn_gone(struct rt_session *s, void *conn)
{
    if (conn == s->poll_conn)
        s->poll_conn = NULL;
    if (conn == s->post_conn)
        s->post_conn = NULL;
    if (conn != s->ws_conn)
        return;
    s->ws_conn = NULL;
    if (s->transport == EIO_TRANSPORT_WEBSOCKET)
        session_end(s, "transport close");
    else {
        s->upgrading = false;
        s->probe_reply = false;
    }
}
