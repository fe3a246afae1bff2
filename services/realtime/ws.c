/*
 * ws.c - Engine.IO over WebSocket: the upgrade checks, frames in and out.
 *
 * GET /socket.io/?EIO=4&transport=websocket           a direct WebSocket session
 * GET /socket.io/?EIO=4&transport=websocket&sid=...   the probe of an upgrade
 *
 * lws calls, in order: FILTER_PROTOCOL_CONNECTION on a fresh user space (we
 * check the request and copy what we need from the headers, which lws drops
 * after the handshake), ADD_HEADERS (X-Request-Id on the 101), ESTABLISHED.
 *
 * A refused upgrade (bad path, query or sid) is closed without an HTTP
 * answer. The reference server would answer 400, and lws can do that from
 * HTTP_CONFIRM_UPGRADE, but CVE-2025-11677 is a use-after-free in lws
 * (fixed after 4.1.6) reachable exactly when that callback is handled.
 * Clients treat both the same way: the probe or connection failed.
 */
#include "conn.h"

#include "core/log.h"

#include <stdlib.h>
#include <string.h>

#define SOCKETIO_ROUTE "/socket.io/"

/* The request path of an upgrade, malloc'd; NULL on OOM. */
static char *upgrade_path(struct lws *wsi)
{
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI);
    char *path = malloc(n > 0 ? (size_t)n + 1 : 2);
    if (!path)
        return NULL;
    if (n <= 0 || lws_hdr_copy(wsi, path, n + 1, WSI_TOKEN_GET_URI) < 0)
        strcpy(path, "/");
    return path;
}

/* The answer to an upgrade request, or a reply with status 0 to accept it. */
static void check_upgrade(struct rt_server *srv, struct lws *wsi, const char *path,
                          struct http_reply *r)
{
    struct route_match m;
    routes_match("GET", path, &m);
    if (m.id != ROUTE_SOCKETIO) {
        reply_problem(r, 404, "no WebSocket endpoint at this path", path);
        return;
    }
    struct eio_query q;
    polling_read_query(wsi, &q);
    struct eio_request req;
    enum eio_error err;
    if (!eio_check_request(q.eio_v, q.transport_v, q.sid_v, true, true, &req, &err)) {
        reply_eio_error(r, err, path);
        return;
    }
    if (req.sid) {
        struct rt_session *s = hub_find(srv->hub, req.sid);
        if (!s)
            reply_eio_error(r, EIO_ERR_UNKNOWN_SID, path);
        else if (!session_ws_can_attach(s))
            reply_eio_error(r, EIO_ERR_BAD_REQUEST, path);
    }
}

int ws_filter(struct conn *c, struct lws *wsi)
{
    c->wsi = wsi;
    c->srv = conn_server(wsi);
    c->is_ws = true;
    c->tx.t0_us = rt_now_us();
    http_read_ids(wsi, c->tx.rid, c->tx.trace_id);
    char *path = upgrade_path(wsi);
    if (!path || !c->srv->hub) {
        free(path);
        return -1;
    }
    struct http_reply r = {0};
    check_upgrade(c->srv, wsi, path, &r);
    if (r.status) {
        /* Refused: lws closes the connection without an HTTP answer (see
         * the top of the file). The access log still says why. */
        struct route_match m;
        routes_match("GET", path, &m);
        http_log_request("GET", m.pattern, path, c->tx.rid, c->tx.trace_id, r.status, c->tx.t0_us);
    } else {
        struct eio_query q;
        polling_read_query(wsi, &q);
        if (q.sid_v && eio_sid_valid(q.sid_v))
            memcpy(c->ws_sid, q.sid_v, EIO_SID_LEN + 1);
    }
    int rc = r.status ? -1 : 0;
    reply_free(&r);
    free(path);
    return rc;
}

int ws_add_headers(struct conn *c, struct lws *wsi, void *in)
{
    if (!c->is_ws)
        return 0;
    struct lws_process_html_args *args = in;
    unsigned char *p = (unsigned char *)args->p;
    if (lws_add_http_header_by_name(
            wsi, (const unsigned char *)"x-request-id:", (const unsigned char *)c->tx.rid,
            (int)strlen(c->tx.rid), &p, (unsigned char *)args->p + args->max_len))
        return 1;
    args->p = (char *)p;
    return 0;
}

int ws_established(struct conn *c)
{
    struct rt_hub *hub = c->srv->hub;
    log_set_context(c->tx.rid, c->tx.trace_id);
    http_log_request("GET", SOCKETIO_ROUTE, SOCKETIO_ROUTE, c->tx.rid, c->tx.trace_id, 101,
                     c->tx.t0_us);
    if (!hub)
        return -1;
    if (c->ws_sid[0]) {
        /* The session was checked at the upgrade, but may have ended since. */
        struct rt_session *s = hub_find(hub, c->ws_sid);
        if (!s || !session_ws_attach(s, c))
            return -1;
        c->session = s;
        return 0;
    }
    c->session = session_open(hub, EIO_TRANSPORT_WEBSOCKET, c, c->tx.rid, rt_now_ms());
    return c->session ? 0 : -1;
}

static void deliver(struct conn *c, const char *data, size_t len)
{
    if (c->session)
        session_ws_message(c->session, c, data, len, c->rx_binary, rt_now_ms());
}

/* Append a fragment to the message being reassembled. 0 or -1 (OOM). */
static int rx_append(struct conn *c, const void *in, size_t len)
{
    if (c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 4096;
        while (cap < c->rx_len + len)
            cap *= 2;
        char *p = realloc(c->rx, cap);
        if (!p)
            return -1;
        c->rx = p;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    return 0;
}

int ws_receive(struct conn *c, const void *in, size_t len)
{
    bool first = c->rx_len == 0;
    bool last = lws_is_final_fragment(c->wsi) && !lws_remaining_packet_payload(c->wsi);
    if (first)
        c->rx_binary = lws_frame_is_binary(c->wsi);
    if (c->rx_len + len > c->srv->cfg.rt.max_payload) {
        static const char why[] = "message too large";
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why,
                         sizeof why - 1);
        return -1;
    }
    if (first && last) { /* the usual case: one frame, no copy */
        deliver(c, in, len);
        return 0;
    }
    if (rx_append(c, in, len) != 0)
        return -1;
    if (last) {
        deliver(c, c->rx, c->rx_len);
        c->rx_len = 0;
    }
    return 0;
}

int ws_writable(struct conn *c)
{
    if (c->closing) {
        /* 1001 "going away" at shutdown, as browsers expect from a server
         * that restarts; 1000 when the session simply ended. */
        lws_close_reason(
            c->wsi, c->srv->shutting_down ? LWS_CLOSE_STATUS_GOINGAWAY : LWS_CLOSE_STATUS_NORMAL,
            NULL, 0);
        return -1;
    }
    if (!c->session)
        return 0;
    struct rt_msg *m = session_ws_next(c->session, c);
    if (!m)
        return 0;
    size_t len = m->len;
    int w = lws_write(c->wsi, (unsigned char *)rt_msg_data(m), len, LWS_WRITE_TEXT);
    rt_msg_free(m);
    if (w < 0 || (size_t)w < len)
        return -1;
    lws_callback_on_writable(c->wsi); /* there may be more queued */
    return 0;
}

void ws_release(struct conn *c)
{
    if (!c->is_ws)
        return;
    conn_drained(c);
    if (c->session) {
        session_conn_gone(c->session, c);
        c->session = NULL;
    }
    free(c->rx);
    c->rx = NULL;
    c->rx_len = c->rx_cap = 0;
}
