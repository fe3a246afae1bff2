/*
 * server.c - the libwebsockets context, its one protocol callback, the
 * heartbeat timer and the session <-> connection callbacks.
 *
 * One protocol handles everything: lws gives plain HTTP to protocols[0] and
 * binds a WebSocket without Sec-WebSocket-Protocol (what socket.io-client
 * sends) to the vhost's default protocol, which is the same one.
 */
#include "conn.h"
#include "sio.h"

#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* WebSocket frames are reassembled in struct conn, so lws's own receive
 * buffer (allocated per WebSocket) can stay small: idle sockets are the
 * common case and each one pays for it. */
#define RX_BUFFER_SIZE 2048

_Static_assert(LWS_PRE <= RT_MSG_HEADROOM, "queued messages need LWS_PRE bytes of headroom");

int64_t rt_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t rt_now_ms(void)
{
    return rt_now_us() / 1000;
}

struct rt_server *conn_server(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* ------------------------------------------------------------------------ */
/* session -> connection                                                     */

static void net_wake(void *conn)
{
    struct conn *c = conn;
    lws_callback_on_writable(c->wsi);
}

void conn_drain_begin(struct conn *c)
{
    if (c->srv->shutting_down && !c->draining) {
        c->draining = true;
        c->srv->draining++;
    }
}

void conn_drained(struct conn *c)
{
    if (c->draining) {
        c->draining = false;
        c->srv->draining--;
    }
}

static void net_detach(void *conn)
{
    struct conn *c = conn;
    c->session = NULL;
    conn_drain_begin(c);
    if (c->is_ws) {
        c->closing = true;
    } else if (c->tx.parked) {
        /* A parked poll learns that the session is over from a close packet. */
        c->tx.parked = false;
        char *body = strdup("1");
        reply_set(&c->tx.reply, 200, "text/plain; charset=UTF-8", body, 1);
        http_respond(c);
        return;
    }
    lws_callback_on_writable(c->wsi);
}

const struct rt_net_ops conn_net_ops = {net_wake, net_detach};

/* ------------------------------------------------------------------------ */
/* metrics                                                                   */

char *server_metrics_extra(struct rt_server *srv)
{
    size_t polling = srv->hub ? hub_count(srv->hub, EIO_TRANSPORT_POLLING) : 0;
    size_t ws = srv->hub ? hub_count(srv->hub, EIO_TRANSPORT_WEBSOCKET) : 0;
    char *text = NULL;
    int n = asprintf(&text,
                     "# HELP realtime_sessions Engine.IO sessions open now, by transport.\n"
                     "# TYPE realtime_sessions gauge\n"
                     "realtime_sessions{service=\"realtime\",transport=\"polling\"} %zu\n"
                     "realtime_sessions{service=\"realtime\",transport=\"websocket\"} %zu\n"
                     "# HELP realtime_sockets_connected Socket.IO sockets connected to \"/\".\n"
                     "# TYPE realtime_sockets_connected gauge\n"
                     "realtime_sockets_connected{service=\"realtime\"} %zu\n",
                     polling, ws, sio_connected_count());
    return n < 0 ? NULL : text;
}

/* ------------------------------------------------------------------------ */
/* the protocol callback                                                     */

static void conn_bind(struct conn *c, struct lws *wsi)
{
    c->wsi = wsi;
    c->srv = conn_server(wsi);
}

/* Free what the connection owns and unhook it from its session. */
static void conn_release(struct conn *c)
{
    if (!c)
        return;
    http_closed(c);
    ws_release(c);
}

/* The events of a connection. Nonzero closes it. */
static int on_conn_event(struct conn *c, struct lws *wsi, enum lws_callback_reasons reason,
                         void *in, size_t len)
{
    switch (reason) {
    /* plain HTTP and long-polling */
    case LWS_CALLBACK_HTTP:
        conn_bind(c, wsi);
        return http_on_request(c, in);
    case LWS_CALLBACK_HTTP_BODY:
        return http_on_body(c, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return http_on_body_done(c);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_on_writable(c);
    /* WebSocket: upgrade checks, then frames */
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return ws_filter(c, wsi);
    case LWS_CALLBACK_ADD_HEADERS:
        return ws_add_headers(c, wsi, in);
    case LWS_CALLBACK_ESTABLISHED:
        return ws_established(c);
    case LWS_CALLBACK_RECEIVE:
        return ws_receive(c, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return ws_writable(c);
    default:
        return 0;
    }
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct conn *c = user;
    struct rt_server *srv = wsi ? conn_server(wsi) : NULL;
    int rc = 0;
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        /* Another thread woke the loop: a /ready result, or shutdown. */
        ready_collect(http_deliver_ready);
        break;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        conn_release(c);
        break;
    default:
        if (c)
            rc = on_conn_event(c, wsi, reason, in, len);
        break;
    }
    /* Sessions ended during this callback are freed now that nothing on
     * the stack points at them. */
    if (srv && srv->hub)
        hub_reap(srv->hub);
    log_clear_context();
    return rc;
}

static const struct lws_protocols g_protocols[] = {
    {"socket.io", callback, sizeof(struct conn), RX_BUFFER_SIZE, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ------------------------------------------------------------------------ */
/* heartbeat                                                                 */

static void on_tick(lws_sorted_usec_list_t *sul)
{
    struct rt_server *srv = lws_container_of(sul, struct rt_server, tick);
    if (!srv->hub)
        return;
    hub_tick(srv->hub, rt_now_ms());
    lws_sul_schedule(srv->ctx, 0, &srv->tick, on_tick, srv->tick_us);
}

/* A tenth of the ping interval, within [100 ms, 1 s]: timers fire at most
 * that late, which is nothing next to the 20 s the client allows, and one
 * walk over the sessions per second costs microseconds per thousand. */
static lws_usec_t tick_period(const struct rt_config *c)
{
    lws_usec_t us = (lws_usec_t)c->ping_interval_ms * 100;
    if (us < 100000)
        us = 100000;
    return us > LWS_US_PER_SEC ? LWS_US_PER_SEC : us;
}

/* ------------------------------------------------------------------------ */
/* shutdown                                                                  */

/* How long close frames and close packets get to reach clients at shutdown. */
#define DRAIN_MS 500

/* Only makes lws_service() return now and then, so the drain loop can look
 * at its deadline. */
static void on_drain_tick(lws_sorted_usec_list_t *sul)
{
    struct rt_server *srv = lws_container_of(sul, struct rt_server, tick);
    lws_sul_schedule(srv->ctx, 0, &srv->tick, on_drain_tick, 20 * LWS_US_PER_MS);
}

/* End every session and let the loop write the goodbyes: a close frame on
 * each WebSocket, a close packet on each parked poll. Clients then see an
 * orderly close instead of a reset, and reconnect elsewhere. */
static void drain(struct rt_server *srv)
{
    srv->shutting_down = true;
    struct rt_hub *hub = srv->hub;
    srv->hub = NULL;
    hub_free(hub);
    ready_collect(http_deliver_ready); /* checks that finished as the worker stopped */
    lws_sul_schedule(srv->ctx, 0, &srv->tick, on_drain_tick, 20 * LWS_US_PER_MS);
    int64_t deadline = rt_now_ms() + DRAIN_MS;
    while (srv->draining > 0 && rt_now_ms() < deadline)
        if (lws_service(srv->ctx, 0) < 0)
            break;
    lws_sul_cancel(&srv->tick);
}

/* ------------------------------------------------------------------------ */
/* lws logging into our JSON log                                             */

static void lws_log_bridge(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    log_msg(level == LLL_ERR ? LOG_ERROR : LOG_WARN, "lws: %.*s", (int)n, line);
}

/* ------------------------------------------------------------------------ */
/* life                                                                      */

static void wake_loop(void *arg)
{
    struct rt_server *srv = arg;
    lws_cancel_service(srv->ctx);
}

static struct lws_context *create_context(struct rt_server *srv)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    const char *bind = srv->cfg.bind_address;
    bool any = !bind || !*bind || !strcmp(bind, "0.0.0.0");
    info.port = srv->cfg.port;
    info.iface = any ? NULL : bind;
    info.protocols = g_protocols;
    info.vhost_name = "realtime";
    info.server_string = "realtime";
    info.user = srv;
    /* Without a cap lws allocates per-fd tables for the whole open-file
     * limit: ~16 MB of idle memory at the 1048576 common in containers. */
    info.fd_limit_per_thread = srv->cfg.max_fds;
    info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND | LWS_SERVER_OPTION_VALIDATE_UTF8;
    /* An IPv4 address to bind to cannot be bound on an IPv6 socket. */
    if (any || strchr(bind, '.'))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    return lws_create_context(&info);
}

struct rt_server *server_new(const struct rt_server_config *cfg)
{
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_bridge);
    struct rt_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    srv->cfg = *cfg;
    atomic_init(&srv->stop, false);
    srv->hub = hub_new(&cfg->rt, &conn_net_ops, &sio_app_ops);
    srv->ctx = srv->hub ? create_context(srv) : NULL;
    if (!srv->ctx) {
        log_error("cannot listen on %s:%d", cfg->bind_address, cfg->port);
        server_free(srv);
        return NULL;
    }
    if (ready_start(cfg->needs, wake_loop, srv) != 0) {
        server_free(srv);
        return NULL;
    }
    srv->ready_started = true;
    srv->tick_us = tick_period(&cfg->rt);
    lws_sul_schedule(srv->ctx, 0, &srv->tick, on_tick, srv->tick_us);
    return srv;
}

int server_run(struct rt_server *srv)
{
    while (!atomic_load(&srv->stop))
        if (lws_service(srv->ctx, 0) < 0)
            return -1;
    return 0;
}

void server_stop(struct rt_server *srv)
{
    atomic_store(&srv->stop, true);
    lws_cancel_service(srv->ctx);
}

void server_free(struct rt_server *srv)
{
    if (!srv)
        return;
    /* Order matters: the worker may still wake the loop, so it stops while
     * the context exists; sessions end (and say goodbye) before their
     * connections close, so no connection points at a freed session; jobs
     * are freed last, after their connections abandoned them. */
    if (srv->ready_started)
        ready_stop();
    if (srv->ctx) {
        lws_sul_cancel(&srv->tick);
        drain(srv);
        lws_context_destroy(srv->ctx);
    }
    hub_free(srv->hub); /* only left when the context failed */
    ready_free_all();
    free(srv);
}
