/*
 * sio.h - the Socket.IO layer: namespaces, events and acknowledgements on
 * top of Engine.IO sessions.
 *
 * Only the default namespace "/" exists; a CONNECT to another one gets a
 * CONNECT_ERROR "Invalid namespace" like the reference server. A session that
 * does not CONNECT within connect_timeout is closed. Events are routed by
 * name to the handlers in handlers.c. Binary events (attachments) are not
 * supported yet: they are logged and dropped.
 *
 * Everything runs on the event-loop thread.
 */
#ifndef REALTIME_SIO_H
#define REALTIME_SIO_H

#include "session.h"
#include "socketio.h"

#include <jansson.h>
#include <stdbool.h>

/* Plug into hub_new(). */
extern const struct rt_app_ops sio_app_ops;

/* One event from a client, as a handler sees it. */
struct sio_call {
    struct rt_session *session;
    const char *event;
    json_t *args;     /* borrowed: the arguments after the event name (an array) */
    long long ack_id; /* SIO_NO_ACK when the client passed no callback */
};

typedef void (*sio_handler_fn)(const struct sio_call *call);

/* The handler for 'event', or NULL (the event is then ignored, as the
 * reference server ignores events nobody listens to). In handlers.c. */
sio_handler_fn sio_handler_find(const char *event);

/* Answer the call's acknowledgement with 'args' (an array, stolen). Returns
 * 0, or -1 when the client asked for none or the send failed. */
int sio_ack(const struct sio_call *call, json_t *args);

/* Emit 'event' with 'args' (an array, stolen; NULL for none) to the
 * session's socket on "/". Returns 0 or -1 (not connected, send failed). */
int sio_emit(struct rt_session *s, const char *event, json_t *args);

/* True when the session's client is connected to "/". */
bool sio_connected(const struct rt_session *s);

/* Sockets connected to "/" right now (for /metrics). */
size_t sio_connected_count(void);

#endif
