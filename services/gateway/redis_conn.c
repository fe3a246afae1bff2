/*
 * redis_conn.c - the per-thread Redis connection on h2o sockets.
 *
 * States: DOWN (no socket; a call starts a connect unless backing off),
 * CONNECTING (calls are encoded and wait in the pipe), UP. Any failure
 * (connect, read, write, protocol, watchdog) closes the socket, fails every
 * pending call and goes DOWN with the next attempt allowed after the
 * backoff. AUTH and SELECT are the first commands of every connection.
 */
#include "redis_conn.h"

#include "core/log.h"
#include "core/redis.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define WATCHDOG_MS 1000
#define MAX_PENDING 10000

enum conn_state { DOWN, CONNECTING, UP };

struct gw_redis_conn {
    h2o_loop_t *loop;
    h2o_socket_t *sock;
    enum conn_state state;
    struct gw_redis_pipe pipe;
    char *writing; /* buffer of the write in flight; owned */
    h2o_timeout_t watchdog_timeout;
    h2o_timeout_entry_t watchdog;
    uint64_t retry_at, backoff_ms;
    bool reported_down; /* logged since the last success */
};

/* Shared, read-only after gw_redis_configure. */
static struct redis_url g_url;
static struct sockaddr_storage g_addr;
static socklen_t g_addrlen;

int gw_redis_configure(const char *url)
{
    if (redis_parse_url(url, &g_url) != 0) {
        log_error("REDIS_URL is not a valid redis:// URL");
        return -1;
    }
    char port[8];
    snprintf(port, sizeof port, "%d", g_url.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(g_url.host, port, &hints, &ai);
    if (rc != 0 || !ai || ai->ai_addrlen > sizeof g_addr) {
        log_error("REDIS_URL: cannot resolve %s: %s", g_url.host, rc ? gai_strerror(rc) : "?");
        if (ai)
            freeaddrinfo(ai);
        return -1;
    }
    memcpy(&g_addr, ai->ai_addr, ai->ai_addrlen);
    g_addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

/* ---- failure and backoff ------------------------------------------------ */

static void close_socket(struct gw_redis_conn *c)
{
    if (c->sock) {
        h2o_socket_close(c->sock);
        c->sock = NULL;
    }
    free(c->writing);
    c->writing = NULL;
    if (h2o_timeout_is_linked(&c->watchdog))
        h2o_timeout_unlink(&c->watchdog);
}

static void fail(struct gw_redis_conn *c, const char *why)
{
    if (!c->reported_down)
        log_warn("redis (rate limits): %s; retrying with backoff", why);
    c->reported_down = true;
    close_socket(c);
    c->state = DOWN;
    c->retry_at = h2o_now(c->loop) + c->backoff_ms;
    c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
    gw_redis_pipe_reset(&c->pipe); /* callbacks last: the state is consistent */
}

static void arm_watchdog(struct gw_redis_conn *c)
{
    if (h2o_timeout_is_linked(&c->watchdog))
        h2o_timeout_unlink(&c->watchdog);
    if (c->state == CONNECTING || c->pipe.pending > 0)
        h2o_timeout_link(c->loop, &c->watchdog_timeout, &c->watchdog);
}

static void on_watchdog(h2o_timeout_entry_t *entry)
{
    struct gw_redis_conn *c = H2O_STRUCT_FROM_MEMBER(struct gw_redis_conn, watchdog, entry);
    fail(c, c->state == CONNECTING ? "connect timed out" : "no reply in time");
}

/* ---- writing ------------------------------------------------------------ */

static void flush(struct gw_redis_conn *c);

static void on_write(h2o_socket_t *sock, const char *err)
{
    struct gw_redis_conn *c = sock->data;
    free(c->writing);
    c->writing = NULL;
    if (err) {
        fail(c, err);
        return;
    }
    flush(c);
}

/* Write what the pipe has encoded, one write in flight at a time. */
static void flush(struct gw_redis_conn *c)
{
    char *buf;
    size_t len;
    if (c->state != UP || c->writing || !gw_redis_pipe_take_output(&c->pipe, &buf, &len))
        return;
    c->writing = buf;
    h2o_iovec_t v = h2o_iovec_init(buf, len);
    h2o_socket_write(c->sock, &v, 1, on_write);
}

/* ---- reading ------------------------------------------------------------ */

static void on_read(h2o_socket_t *sock, const char *err)
{
    struct gw_redis_conn *c = sock->data;
    if (err) {
        fail(c, err);
        return;
    }
    h2o_buffer_t *in = sock->input;
    int rc = gw_redis_pipe_feed(&c->pipe, in->bytes, in->size);
    h2o_buffer_consume(&sock->input, in->size);
    if (rc != 0) {
        fail(c, "protocol error");
        return;
    }
    arm_watchdog(c);
    flush(c); /* callbacks may have queued commands */
}

/* ---- connecting --------------------------------------------------------- */

static void on_handshake(void *data, redisReply *reply)
{
    (void)data;
    if (reply && reply->type == REDIS_REPLY_ERROR)
        log_error("redis (rate limits): %s", reply->str);
}

/* AUTH and SELECT go first on a new connection. */
static int push_handshake(struct gw_redis_conn *c)
{
    if (g_url.password[0]) {
        const char *argv[] = {"AUTH", g_url.password};
        size_t lens[] = {4, strlen(g_url.password)};
        if (!gw_redis_pipe_push(&c->pipe, 2, argv, lens, on_handshake, NULL))
            return -1;
    }
    if (g_url.db) {
        char db[4];
        snprintf(db, sizeof db, "%d", g_url.db);
        const char *argv[] = {"SELECT", db};
        size_t lens[] = {6, strlen(db)};
        if (!gw_redis_pipe_push(&c->pipe, 2, argv, lens, on_handshake, NULL))
            return -1;
    }
    return 0;
}

static void on_connect(h2o_socket_t *sock, const char *err)
{
    struct gw_redis_conn *c = sock->data;
    if (err) {
        fail(c, err);
        return;
    }
    if (c->reported_down)
        log_info("redis (rate limits): connected again");
    c->reported_down = false;
    c->state = UP;
    c->backoff_ms = BACKOFF_MIN_MS;
    h2o_socket_read_start(sock, on_read);
    arm_watchdog(c);
    flush(c);
}

/* Start connecting; false when the attempt failed at once. */
static bool start_connect(struct gw_redis_conn *c)
{
    if (g_addrlen == 0 || push_handshake(c) != 0) {
        fail(c, "not configured or out of memory");
        return false;
    }
    c->sock = h2o_socket_connect(c->loop, (struct sockaddr *)&g_addr, g_addrlen, on_connect);
    if (!c->sock) {
        fail(c, "connect failed");
        return false;
    }
    c->sock->data = c;
    c->state = CONNECTING;
    arm_watchdog(c);
    return true;
}

/* ---- the API ------------------------------------------------------------ */

struct gw_redis_conn *gw_redis_conn_new(h2o_loop_t *loop)
{
    struct gw_redis_conn *c = calloc(1, sizeof *c);
    if (!c || gw_redis_pipe_init(&c->pipe) != 0) {
        free(c);
        return NULL;
    }
    c->loop = loop;
    c->state = DOWN;
    c->backoff_ms = BACKOFF_MIN_MS;
    c->watchdog.cb = on_watchdog;
    h2o_timeout_init(loop, &c->watchdog_timeout, WATCHDOG_MS);
    return c;
}

void gw_redis_conn_free(struct gw_redis_conn *c)
{
    if (!c)
        return;
    close_socket(c);
    gw_redis_pipe_dispose(&c->pipe);
    h2o_timeout_dispose(c->loop, &c->watchdog_timeout);
    h2o_evloop_run(c->loop, 0); /* h2o frees a closed socket from its loop */
    free(c);
}

struct gw_redis_call *gw_redis_conn_call(struct gw_redis_conn *c, int argc, const char **argv,
                                         const size_t *lens, gw_redis_cb cb, void *data)
{
    if (c->pipe.pending >= MAX_PENDING)
        return NULL;
    if (c->state == DOWN && (h2o_now(c->loop) < c->retry_at || !start_connect(c)))
        return NULL;
    struct gw_redis_call *call = gw_redis_pipe_push(&c->pipe, argc, argv, lens, cb, data);
    if (!call)
        return NULL;
    if (c->state == UP) {
        if (!h2o_timeout_is_linked(&c->watchdog))
            arm_watchdog(c);
        flush(c);
    }
    return call;
}
