/*
 * engineio.h - Engine.IO protocol v4: packets, payloads, handshake, errors.
 *
 * Pure functions with no network code, so tests/unit/test_engineio.c can
 * include engineio.c directly.
 *
 * A packet is one type digit and its data: "4hello" is a message, "2" a ping,
 * "2probe" the ping that tests a WebSocket during an upgrade. Over HTTP
 * long-polling several packets travel in one body separated by the record
 * separator 0x1e; a binary message is then written as 'b' + base64. Over
 * WebSocket each packet is one frame and binary messages are binary frames.
 */
#ifndef REALTIME_ENGINEIO_H
#define REALTIME_ENGINEIO_H

#include <stdbool.h>
#include <stddef.h>

#define EIO_PROTOCOL 4
#define EIO_SEPARATOR '\x1e'
/* Session ids: 15 random bytes in URL-safe base64, as the reference server. */
#define EIO_SID_LEN 20

enum eio_packet_type {
    EIO_OPEN = 0,
    EIO_CLOSE = 1,
    EIO_PING = 2,
    EIO_PONG = 3,
    EIO_MESSAGE = 4,
    EIO_UPGRADE = 5,
    EIO_NOOP = 6,
};

/* A decoded packet: a view into the caller's buffer, nothing is copied.
 * For a binary message from a polling payload, 'data' is still base64. */
struct eio_packet {
    enum eio_packet_type type;
    bool binary;
    const char *data;
    size_t len;
};

/* Decode one text-encoded packet of 'len' bytes. Returns 0, or -1 when the
 * type is unknown or the packet is empty. */
int eio_decode(const char *buf, size_t len, struct eio_packet *out);

/* Split a polling payload: sets *pkt and *len to the next packet and advances
 * *cursor past it and its separator. Returns false when the payload is used
 * up. An empty payload yields no packet; "a\x1e\x1eb" yields an empty packet
 * between, which eio_decode then rejects. */
bool eio_payload_next(const char **cursor, const char *end, const char **pkt, size_t *len);

/* The digit of a packet type ('0'..'6'). */
char eio_type_char(enum eio_packet_type type);

/* The data of the open packet (without the leading '0'):
 * {"sid":...,"upgrades":[...],"pingInterval":...,"pingTimeout":...,"maxPayload":...}.
 * Caller frees; NULL on OOM. */
char *eio_handshake_json(const char *sid, bool offer_websocket, long ping_interval_ms,
                         long ping_timeout_ms, long max_payload);

/* Fill 'out' with a new random session id (also used for Socket.IO ids). */
void eio_generate_sid(char out[EIO_SID_LEN + 1]);

/* True for a well-formed session id: EIO_SID_LEN characters of URL-safe base64. */
bool eio_sid_valid(const char *sid);

enum eio_transport { EIO_TRANSPORT_POLLING, EIO_TRANSPORT_WEBSOCKET, EIO_TRANSPORT_UNKNOWN };

/* "polling" / "websocket" -> the transport; anything else (or NULL) UNKNOWN. */
enum eio_transport eio_transport_parse(const char *name);
const char *eio_transport_name(enum eio_transport t);

/* Errors the reference server answers with HTTP 400 and {"code","message"}. */
enum eio_error {
    EIO_ERR_UNKNOWN_TRANSPORT = 0,
    EIO_ERR_UNKNOWN_SID = 1,
    EIO_ERR_BAD_HANDSHAKE_METHOD = 2,
    EIO_ERR_BAD_REQUEST = 3,
    EIO_ERR_FORBIDDEN = 4,
    EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION = 5,
};

const char *eio_error_message(enum eio_error e);

/* What a request to /socket.io/ asks for, from its query parameters. */
struct eio_request {
    enum eio_transport transport;
    const char *sid; /* borrowed; NULL for a handshake */
};

/* Check the query of an Engine.IO request ('eio', 'transport', 'sid' are the
 * query values or NULL). 'upgrade' is true for a WebSocket upgrade request,
 * 'is_get' for GET (else POST). Returns true and fills *out when the request
 * is acceptable, else false with the error to answer in *err. Whether the
 * sid names a live session is for the caller to find out. */
bool eio_check_request(const char *eio, const char *transport, const char *sid, bool upgrade,
                       bool is_get, struct eio_request *out, enum eio_error *err);

#endif
