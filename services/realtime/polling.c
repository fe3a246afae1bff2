/*
 * polling.c - Engine.IO over HTTP long-polling.
 *
 *   GET  /socket.io/?EIO=4&transport=polling           handshake: the open packet
 *   GET  /socket.io/?EIO=4&transport=polling&sid=...   parked until the session
 *                                                      has packets, then all of them
 *   POST /socket.io/?EIO=4&transport=polling&sid=...   packets from the client; "ok"
 */
#include "conn.h"

#include <stdlib.h>
#include <string.h>

#define POLL_TYPE "text/plain; charset=UTF-8"

/* The value of query argument 'name' ("sid=") into buf, or NULL. lws gives
 * the arguments as urldecoded fragments "name=value"; one too long for
 * 'buf' is skipped rather than ending the search. */
static const char *query_arg(struct lws *wsi, const char *name, char *buf, size_t size)
{
    size_t nlen = strlen(name);
    for (int i = 0;; i++) {
        int flen = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (flen <= 0)
            return NULL;
        if ((size_t)flen >= size)
            continue;
        if (lws_hdr_copy_fragment(wsi, buf, (int)size, WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
            return NULL;
        if (!strncmp(buf, name, nlen))
            return buf + nlen;
    }
}

void polling_read_query(struct lws *wsi, struct eio_query *q)
{
    q->eio_v = query_arg(wsi, "EIO=", q->eio, sizeof q->eio);
    q->transport_v = query_arg(wsi, "transport=", q->transport, sizeof q->transport);
    q->sid_v = query_arg(wsi, "sid=", q->sid, sizeof q->sid);
}

/* Park the GET on the session; it is woken when there is something to say. */
static void poll_get(struct conn *c, struct rt_session *s)
{
    enum eio_error err;
    if (!session_poll_get(s, c, &err)) {
        reply_eio_error(&c->tx.reply, err, c->tx.path);
        return;
    }
    c->session = s;
    c->tx.parked = true;
    /* lws ends a request that has not answered within 5 s; a parked poll
     * legitimately waits up to a ping interval (the ping then answers it).
     * Keep a generous limit as a safety net against a poll nobody wakes. */
    const struct rt_config *rc = &c->srv->cfg.rt;
    int secs = (int)((rc->ping_interval_ms + rc->ping_timeout_ms) / 1000) + 10;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, secs);
}

static void handshake(struct conn *c)
{
    struct rt_session *s =
        session_open(c->srv->hub, EIO_TRANSPORT_POLLING, NULL, c->tx.rid, rt_now_ms());
    if (!s) {
        reply_problem(&c->tx.reply, 503, "cannot open a session", c->tx.path);
        return;
    }
    poll_get(c, s);
}

static void post_begin(struct conn *c, struct rt_session *s)
{
    enum eio_error err;
    if (!session_post_begin(s, c, &err)) {
        reply_eio_error(&c->tx.reply, err, c->tx.path);
        return;
    }
    c->session = s;
    if (c->tx.expect_body)
        c->tx.store_body = true;
    else
        polling_on_body(c); /* an empty POST: nothing to wait for */
}

void polling_on_request(struct conn *c)
{
    struct http_tx *tx = &c->tx;
    if (!c->srv->hub) { /* draining at shutdown */
        reply_problem(&tx->reply, 503, "shutting down", tx->path);
        return;
    }
    struct eio_query q;
    polling_read_query(c->wsi, &q);
    bool is_get = !strcmp(tx->method, "GET");
    struct eio_request req;
    enum eio_error err;
    if (!eio_check_request(q.eio_v, q.transport_v, q.sid_v, false, is_get, &req, &err)) {
        reply_eio_error(&tx->reply, err, tx->path);
        return;
    }
    if (!req.sid) {
        handshake(c);
        return;
    }
    struct rt_session *s = hub_find(c->srv->hub, req.sid);
    if (!s)
        reply_eio_error(&tx->reply, EIO_ERR_UNKNOWN_SID, tx->path);
    else if (is_get)
        poll_get(c, s);
    else
        post_begin(c, s);
}

void polling_on_body(struct conn *c)
{
    struct http_tx *tx = &c->tx;
    struct rt_session *s = c->session;
    c->session = NULL;
    if (!s) {
        /* The session ended while the body was arriving. */
        reply_eio_error(&tx->reply, EIO_ERR_UNKNOWN_SID, tx->path);
        return;
    }
    if (session_post_body(s, c, tx->body ? tx->body : "", tx->body_len, rt_now_ms()) != 0) {
        reply_eio_error(&tx->reply, EIO_ERR_BAD_REQUEST, tx->path);
        return;
    }
    reply_set(&tx->reply, 200, "text/html", strdup("ok"), 2);
}

bool polling_drain(struct conn *c)
{
    if (!c->session)
        return false;
    size_t len = 0;
    char *body = session_poll_drain(c->session, c, &len);
    if (!body)
        return false;
    c->session = NULL;
    c->tx.parked = false;
    reply_set(&c->tx.reply, 200, POLL_TYPE, body, len);
    c->tx.writing = true;
    return true;
}
