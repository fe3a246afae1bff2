/*
 * events_amqp.c - AMQP connection helpers shared by the relay and consumers.
 *
 * Every blocking call has a bound (connect 2 s, handshake and RPCs 5 s) so a
 * broker that hangs cannot keep a thread from noticing events_stop() for
 * long, and any I/O failure marks the link broken: the owner then closes it
 * and reconnects with backoff rather than reusing a connection in an unknown
 * state.
 */
#include "events_internal.h"

#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_S 2
#define RPC_TIMEOUT_S 5
#define HEARTBEAT_S 30
#define FRAME_MAX 131072

char *evamqp_strdup(amqp_bytes_t b)
{
    char *s = malloc(b.len + 1);
    if (!s)
        return NULL;
    if (b.len)
        memcpy(s, b.bytes, b.len);
    s[b.len] = '\0';
    return s;
}

/* "what: <code> <text>" of a server close method. */
static void describe_close(const amqp_method_t *m, const char *what, char *why, size_t n)
{
    amqp_bytes_t text = amqp_empty_bytes;
    unsigned code = 0;
    if (m->id == AMQP_CONNECTION_CLOSE_METHOD) {
        const amqp_connection_close_t *c = m->decoded;
        code = c->reply_code;
        text = c->reply_text;
    } else if (m->id == AMQP_CHANNEL_CLOSE_METHOD) {
        const amqp_channel_close_t *c = m->decoded;
        code = c->reply_code;
        text = c->reply_text;
    }
    snprintf(why, n, "%s: server closed (%u %.*s)", what, code, (int)text.len,
             text.bytes ? (const char *)text.bytes : "");
}

int evamqp_check(struct evamqp *l, const char *what, char *why, size_t n)
{
    return evamqp_reply(l, amqp_get_rpc_reply(l->conn), what, why, n);
}

int evamqp_reply(struct evamqp *l, amqp_rpc_reply_t r, const char *what, char *why, size_t n)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return 0;
    case AMQP_RESPONSE_NONE:
        snprintf(why, n, "%s: missing RPC reply", what);
        break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        snprintf(why, n, "%s: %s", what, amqp_error_string2(r.library_error));
        break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        describe_close(&r.reply, what, why, n);
        break;
    }
    l->broken = true;
    return -1;
}

int evamqp_frame_closes(struct evamqp *l, const amqp_frame_t *f, char *why, size_t n)
{
    if (f->frame_type != AMQP_FRAME_METHOD)
        return 0;
    amqp_method_number_t id = f->payload.method.id;
    if (id != AMQP_CHANNEL_CLOSE_METHOD && id != AMQP_CONNECTION_CLOSE_METHOD)
        return 0;
    describe_close(&f->payload.method, "amqp", why, n);
    l->broken = true;
    return -1;
}

int evamqp_status(struct evamqp *l, int status, const char *what, char *why, size_t n)
{
    if (status == AMQP_STATUS_OK)
        return 0;
    snprintf(why, n, "%s: %s", what, amqp_error_string2(status));
    l->broken = true;
    return -1;
}

void evamqp_close(struct evamqp *l)
{
    if (!l->conn)
        return;
    /* The close handshake only makes sense on a healthy link; on a broken
     * one it would wait out the RPC timeout for nothing. */
    if (!l->broken)
        (void)amqp_connection_close(l->conn, AMQP_REPLY_SUCCESS);
    (void)amqp_destroy_connection(l->conn);
    l->conn = NULL;
    l->broken = false;
}

/* TCP connect with a bounded wait. */
static int open_socket(struct evamqp *l, const struct amqp_url *u, char *why, size_t n)
{
    amqp_socket_t *s = amqp_tcp_socket_new(l->conn);
    if (!s) {
        snprintf(why, n, "amqp: cannot create socket");
        return -1;
    }
    struct timeval tv = {.tv_sec = CONNECT_TIMEOUT_S};
    int rc = amqp_socket_open_noblock(s, u->host, u->port, &tv);
    if (rc != AMQP_STATUS_OK) {
        snprintf(why, n, "amqp connect %s:%d: %s", u->host, u->port, amqp_error_string2(rc));
        return -1;
    }
    return 0;
}

/* Bound the handshake and every later RPC. */
static int set_timeouts(struct evamqp *l, char *why, size_t n)
{
    struct timeval tv = {.tv_sec = RPC_TIMEOUT_S};
    if (amqp_set_handshake_timeout(l->conn, &tv) != AMQP_STATUS_OK ||
        amqp_set_rpc_timeout(l->conn, &tv) != AMQP_STATUS_OK) {
        snprintf(why, n, "amqp: cannot set timeouts");
        return -1;
    }
    return 0;
}

static int login(struct evamqp *l, const struct amqp_url *u, char *why, size_t n)
{
    amqp_rpc_reply_t r = amqp_login(l->conn, u->vhost, 0, FRAME_MAX, HEARTBEAT_S,
                                    AMQP_SASL_METHOD_PLAIN, u->user, u->password);
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return 0;
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION)
        describe_close(&r.reply, "amqp login", why, n);
    else
        snprintf(why, n, "amqp login: %s", amqp_error_string2(r.library_error));
    return -1;
}

int evamqp_open(struct evamqp *l, const struct amqp_url *u, char *why, size_t n)
{
    l->broken = false;
    l->conn = amqp_new_connection();
    if (!l->conn) {
        snprintf(why, n, "amqp: out of memory");
        return -1;
    }
    if (set_timeouts(l, why, n) != 0 || open_socket(l, u, why, n) != 0 ||
        login(l, u, why, n) != 0) {
        l->broken = true;
        evamqp_close(l);
        return -1;
    }
    (void)amqp_channel_open(l->conn, EVENTS_CHANNEL);
    if (evamqp_check(l, "amqp channel.open", why, n) != 0) {
        evamqp_close(l);
        return -1;
    }
    return 0;
}

int evamqp_declare_topic(struct evamqp *l, const char *name, char *why, size_t n)
{
    (void)amqp_exchange_declare(l->conn, EVENTS_CHANNEL, amqp_cstring_bytes(name),
                                amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
    return evamqp_check(l, "amqp exchange.declare", why, n);
}

amqp_table_entry_t evamqp_str_entry(const char *key, const char *value)
{
    amqp_table_entry_t e;
    e.key = amqp_cstring_bytes(key);
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = amqp_cstring_bytes(value);
    return e;
}

/* The dead-letter side: direct exchange "<exchange>.dlx" and the durable
 * queue "<queue>.dlq" bound with the queue's own name as routing key (the
 * main queue dead-letters with x-dead-letter-routing-key = its name). */
static int declare_dead_letter(struct evamqp *l, const char *dlx, const char *queue, char *why,
                               size_t n)
{
    char *dlq = NULL;
    if (asprintf(&dlq, "%s.dlq", queue) < 0) {
        snprintf(why, n, "amqp: out of memory");
        return -1;
    }
    int rc = -1;
    (void)amqp_exchange_declare(l->conn, EVENTS_CHANNEL, amqp_cstring_bytes(dlx),
                                amqp_cstring_bytes("direct"), 0, 1, 0, 0, amqp_empty_table);
    if (evamqp_check(l, "amqp exchange.declare (dlx)", why, n) != 0)
        goto out;
    (void)amqp_queue_declare(l->conn, EVENTS_CHANNEL, amqp_cstring_bytes(dlq), 0, 1, 0, 0,
                             amqp_empty_table);
    if (evamqp_check(l, "amqp queue.declare (dlq)", why, n) != 0)
        goto out;
    (void)amqp_queue_bind(l->conn, EVENTS_CHANNEL, amqp_cstring_bytes(dlq), amqp_cstring_bytes(dlx),
                          amqp_cstring_bytes(queue), amqp_empty_table);
    rc = evamqp_check(l, "amqp queue.bind (dlq)", why, n);
out:
    free(dlq);
    return rc;
}

/* The main queue, dead-lettering to 'dlx', bound to 'exchange' by 'keys'. */
static int declare_main_queue(struct evamqp *l, const char *exchange, const char *dlx,
                              const char *queue, char *const *keys, char *why, size_t n)
{
    amqp_table_entry_t args[2] = {evamqp_str_entry("x-dead-letter-exchange", dlx),
                                  evamqp_str_entry("x-dead-letter-routing-key", queue)};
    amqp_table_t table = {.num_entries = 2, .entries = args};
    (void)amqp_queue_declare(l->conn, EVENTS_CHANNEL, amqp_cstring_bytes(queue), 0, 1, 0, 0, table);
    if (evamqp_check(l, "amqp queue.declare", why, n) != 0)
        return -1;
    for (char *const *k = keys; *k; k++) {
        (void)amqp_queue_bind(l->conn, EVENTS_CHANNEL, amqp_cstring_bytes(queue),
                              amqp_cstring_bytes(exchange), amqp_cstring_bytes(*k),
                              amqp_empty_table);
        if (evamqp_check(l, "amqp queue.bind", why, n) != 0)
            return -1;
    }
    return 0;
}

int evamqp_declare_queue(struct evamqp *l, const char *exchange, const char *queue,
                         char *const *keys, char *why, size_t n)
{
    char *dlx = NULL;
    if (asprintf(&dlx, "%s.dlx", exchange) < 0) {
        snprintf(why, n, "amqp: out of memory");
        return -1;
    }
    int rc = -1;
    if (evamqp_declare_topic(l, exchange, why, n) == 0 &&
        declare_dead_letter(l, dlx, queue, why, n) == 0 &&
        declare_main_queue(l, exchange, dlx, queue, keys, why, n) == 0)
        rc = 0;
    free(dlx);
    return rc;
}
