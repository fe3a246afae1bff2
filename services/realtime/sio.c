/*
 * sio.c - the Socket.IO layer. See sio.h.
 *
 * Per-session state is a struct sio_socket hung on the session (session_app).
 * Later issues add rooms and the authenticated user here; the room index
 * itself will be a strmap from room name to member sessions, cleaned up in
 * on_close.
 */
#include "sio.h"
#include "socketio.h"

#include "core/log.h"

#include <stdlib.h>
#include <string.h>

struct sio_socket {
    bool connected;
    char id[EIO_SID_LEN + 1]; /* Socket.IO id, distinct from the Engine.IO sid */
};

/* Event-loop thread only. */
static size_t g_connected;

size_t sio_connected_count(void)
{
    return g_connected;
}

bool sio_connected(const struct rt_session *s)
{
    const struct sio_socket *sock = session_app(s);
    return sock && sock->connected;
}

/* Encode and queue one Socket.IO packet on "/". 'data' is borrowed. */
static int send_packet(struct rt_session *s, enum sio_packet_type type, const char *nsp,
                       long long id, const json_t *data)
{
    size_t len = 0;
    char *text = sio_encode(type, nsp, id, data, &len);
    if (!text)
        return -1;
    int rc = session_send(s, EIO_MESSAGE, text, len);
    free(text);
    return rc;
}

int sio_ack(const struct sio_call *call, json_t *args)
{
    int rc = -1;
    if (args && call->ack_id != SIO_NO_ACK)
        rc = send_packet(call->session, SIO_ACK, "/", call->ack_id, args);
    json_decref(args);
    return rc;
}

int sio_emit(struct rt_session *s, const char *event, json_t *args)
{
    json_t *data = json_pack("[s]", event);
    int rc = -1;
    if (data && (!args || json_array_extend(data, args) == 0) && sio_connected(s))
        rc = send_packet(s, SIO_EVENT, "/", SIO_NO_ACK, data);
    json_decref(data);
    json_decref(args);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* packets from the client                                                   */

static void on_connect(struct rt_session *s, struct sio_socket *sock, const struct sio_packet *p)
{
    if (strcmp(p->nsp, "/") != 0) {
        json_t *err = json_pack("{s:s}", "message", "Invalid namespace");
        (void)send_packet(s, SIO_CONNECT_ERROR, p->nsp, SIO_NO_ACK, err);
        json_decref(err);
        return;
    }
    if (sock->connected)
        return; /* a repeated CONNECT changes nothing */
    eio_generate_sid(sock->id);
    json_t *ok = json_pack("{s:s}", "sid", sock->id);
    if (send_packet(s, SIO_CONNECT, "/", SIO_NO_ACK, ok) == 0) {
        sock->connected = true;
        g_connected++;
        session_set_deadline(s, 0, NULL);
    }
    json_decref(ok);
}

static void on_disconnect(struct sio_socket *sock, const struct sio_packet *p)
{
    if (strcmp(p->nsp, "/") != 0 || !sock->connected)
        return;
    /* The client left "/"; it closes the Engine.IO session itself. */
    sock->connected = false;
    g_connected--;
}

/* The arguments after the event name, as a new array. NULL on OOM. */
static json_t *event_args(const json_t *data)
{
    json_t *args = json_array();
    for (size_t i = 1; args && i < json_array_size(data); i++)
        if (json_array_append(args, json_array_get(data, i)) != 0) {
            json_decref(args);
            return NULL;
        }
    return args;
}

static void on_event(struct rt_session *s, const struct sio_socket *sock,
                     const struct sio_packet *p)
{
    if (!sock->connected || strcmp(p->nsp, "/") != 0)
        return; /* not connected to that namespace: ignored, as the reference does */
    const char *name = json_string_value(json_array_get(p->data, 0));
    sio_handler_fn fn = sio_handler_find(name);
    if (!fn) {
        log_debug("no handler for event \"%s\"", name);
        return;
    }
    json_t *args = event_args(p->data);
    if (!args) {
        session_end(s, "out of memory");
        return;
    }
    struct sio_call call = {s, name, args, p->id};
    fn(&call);
    json_decref(args);
}

static void dispatch(struct rt_session *s, struct sio_socket *sock, const struct sio_packet *p)
{
    switch (p->type) {
    case SIO_CONNECT:
        on_connect(s, sock, p);
        break;
    case SIO_DISCONNECT:
        on_disconnect(sock, p);
        break;
    case SIO_EVENT:
        on_event(s, sock, p);
        break;
    case SIO_BINARY_EVENT:
    case SIO_BINARY_ACK:
        log_warn("binary Socket.IO packets are not supported; dropped (sid %s)", session_sid(s));
        break;
    default:
        /* ACK: no server emit asks for one yet. CONNECT_ERROR: server-sent only. */
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* rt_app_ops                                                                */

static int on_open(struct rt_session *s, int64_t now)
{
    struct sio_socket *sock = calloc(1, sizeof *sock);
    if (!sock)
        return -1;
    session_set_app(s, sock);
    session_set_deadline(s, now + session_config(s)->connect_timeout_ms, "connect timeout");
    return 0;
}

static void on_message(struct rt_session *s, const char *data, size_t len, bool binary, int64_t now)
{
    (void)now;
    struct sio_socket *sock = session_app(s);
    if (!sock)
        return;
    if (binary) {
        /* Attachments of a binary event; binary events are not supported. */
        return;
    }
    struct sio_packet p;
    const char *why = "";
    if (sio_decode(data, len, &p, &why) != 0) {
        log_fields(LOG_WARN, "malformed Socket.IO packet",
                   json_pack("{s:s, s:s}", "sid", session_sid(s), "error", why));
        session_end(s, "parse error");
    } else
        dispatch(s, sock, &p);
    sio_packet_clear(&p);
}

static void on_close(struct rt_session *s, const char *reason)
{
    (void)reason;
    struct sio_socket *sock = session_app(s);
    if (sock && sock->connected) {
        sock->connected = false;
        g_connected--;
    }
}

static void on_free(void *app)
{
    free(app);
}

const struct rt_app_ops sio_app_ops = {on_open, on_message, on_close, on_free};
