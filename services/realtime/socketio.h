/*
 * socketio.h - Socket.IO protocol v5 packet codec.
 *
 * Socket.IO packets ride inside Engine.IO message packets:
 *   <type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
 * e.g. "0" (connect to "/"), "2[\"echo\",1]" (event), "21[\"ping\"]" (event
 * with ack id 1), "31[\"pong\"]" (the ack), "0/admin,{}" (connect to /admin).
 *
 * Pure functions (jansson only), unit-tested by including socketio.c.
 */
#ifndef REALTIME_SOCKETIO_H
#define REALTIME_SOCKETIO_H

#include <jansson.h>
#include <stddef.h>

enum sio_packet_type {
    SIO_CONNECT = 0,
    SIO_DISCONNECT = 1,
    SIO_EVENT = 2,
    SIO_ACK = 3,
    SIO_CONNECT_ERROR = 4,
    SIO_BINARY_EVENT = 5,
    SIO_BINARY_ACK = 6,
};

/* No acknowledgement requested. Ack ids are JavaScript numbers, so they stay
 * within 2^53 - 1; larger ones are rejected. */
#define SIO_NO_ACK (-1LL)
#define SIO_MAX_ACK_ID 9007199254740991LL
/* Namespaces are short names like "/admin"; a longer one is an attack. */
#define SIO_MAX_NSP_LEN 256

struct sio_packet {
    enum sio_packet_type type;
    char *nsp;            /* owned; "/" when the packet names none */
    long long id;         /* ack id or SIO_NO_ACK */
    unsigned attachments; /* binary packets only */
    json_t *data;         /* owned; NULL when the packet has no payload */
};

/* Decode 'len' bytes into *out (caller clears it with sio_packet_clear, also
 * after a failure). Returns 0, or -1 with a short reason in *why (static).
 * Payloads are validated as the reference parser does: CONNECT takes an
 * object or nothing, DISCONNECT nothing, EVENT a non-empty array starting
 * with a string event name that is not reserved, ACK an array,
 * CONNECT_ERROR an object or string. */
int sio_decode(const char *buf, size_t len, struct sio_packet *out, const char **why);

void sio_packet_clear(struct sio_packet *p);

/* Encode a packet; 'data' is borrowed and may be NULL. Returns a string the
 * caller frees (its length in *len), or NULL on OOM or unencodable data. */
char *sio_encode(enum sio_packet_type type, const char *nsp, long long id, const json_t *data,
                 size_t *len);

/* True for names the protocol keeps for itself ("connect", "disconnect",
 * ...): a client must not emit them. */
int sio_reserved_event(const char *name);

#endif
