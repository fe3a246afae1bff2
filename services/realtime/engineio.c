/*
 * engineio.c - Engine.IO protocol v4 codec. See engineio.h.
 */
#include "engineio.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int eio_decode(const char *buf, size_t len, struct eio_packet *out)
{
    if (!buf || len == 0)
        return -1;
    if (buf[0] == 'b') {
        /* Only polling payloads carry this form: base64 of a binary message. */
        *out = (struct eio_packet){EIO_MESSAGE, true, buf + 1, len - 1};
        return 0;
    }
    if (buf[0] < '0' || buf[0] > '6')
        return -1;
    *out = (struct eio_packet){(enum eio_packet_type)(buf[0] - '0'), false, buf + 1, len - 1};
    return 0;
}

bool eio_payload_next(const char **cursor, const char *end, const char **pkt, size_t *len)
{
    const char *p = *cursor;
    if (!p || p >= end)
        return false;
    const char *sep = memchr(p, EIO_SEPARATOR, (size_t)(end - p));
    const char *stop = sep ? sep : end;
    *pkt = p;
    *len = (size_t)(stop - p);
    /* After a trailing separator the cursor lands on 'end': one more empty
     * packet is not invented, which matches the reference parser. */
    *cursor = sep ? sep + 1 : end;
    return true;
}

char eio_type_char(enum eio_packet_type type)
{
    return (char)('0' + (int)type);
}

char *eio_handshake_json(const char *sid, bool offer_websocket, long ping_interval_ms,
                         long ping_timeout_ms, long max_payload)
{
    char *out = NULL;
    /* sid is validated (URL-safe base64), so it needs no JSON escaping. */
    int n = asprintf(&out,
                     "{\"sid\":\"%s\",\"upgrades\":[%s],\"pingInterval\":%ld,"
                     "\"pingTimeout\":%ld,\"maxPayload\":%ld}",
                     sid, offer_websocket ? "\"websocket\"" : "", ping_interval_ms, ping_timeout_ms,
                     max_payload);
    return n < 0 ? NULL : out;
}

void eio_generate_sid(char out[EIO_SID_LEN + 1])
{
    /* 15 bytes encode to exactly 20 URL-safe base64 characters, no padding.
     * The id is the only credential of a polling session, hence 120 random
     * bits from the OS generator. */
    unsigned char raw[15];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, EIO_SID_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool eio_sid_valid(const char *sid)
{
    if (!sid)
        return false;
    size_t n = 0;
    for (; sid[n]; n++) {
        char c = sid[n];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok || n >= EIO_SID_LEN)
            return false;
    }
    return n == EIO_SID_LEN;
}

enum eio_transport eio_transport_parse(const char *name)
{
    if (name && !strcmp(name, "polling"))
        return EIO_TRANSPORT_POLLING;
    if (name && !strcmp(name, "websocket"))
        return EIO_TRANSPORT_WEBSOCKET;
    return EIO_TRANSPORT_UNKNOWN;
}

const char *eio_transport_name(enum eio_transport t)
{
    switch (t) {
    case EIO_TRANSPORT_POLLING:
        return "polling";
    case EIO_TRANSPORT_WEBSOCKET:
        return "websocket";
    default:
        return "unknown";
    }
}

const char *eio_error_message(enum eio_error e)
{
    /* The reference server's wording: clients and tooling match on it. */
    switch (e) {
    case EIO_ERR_UNKNOWN_TRANSPORT:
        return "Transport unknown";
    case EIO_ERR_UNKNOWN_SID:
        return "Session ID unknown";
    case EIO_ERR_BAD_HANDSHAKE_METHOD:
        return "Bad handshake method";
    case EIO_ERR_BAD_REQUEST:
        return "Bad request";
    case EIO_ERR_FORBIDDEN:
        return "Forbidden";
    case EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION:
        return "Unsupported protocol version";
    }
    return "Bad request";
}

bool eio_check_request(const char *eio, const char *transport, const char *sid, bool upgrade,
                       bool is_get, struct eio_request *out, enum eio_error *err)
{
    enum eio_transport t = eio_transport_parse(transport);
    if (!eio || strcmp(eio, "4") != 0)
        *err = EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION;
    else if (t == EIO_TRANSPORT_UNKNOWN)
        *err = EIO_ERR_UNKNOWN_TRANSPORT;
    else if (sid && !eio_sid_valid(sid))
        *err = EIO_ERR_UNKNOWN_SID;
    else if (upgrade != (t == EIO_TRANSPORT_WEBSOCKET))
        /* A WebSocket transport needs an upgrade request and vice versa. */
        *err = EIO_ERR_BAD_REQUEST;
    else if (!sid && !is_get)
        *err = EIO_ERR_BAD_HANDSHAKE_METHOD;
    else {
        *out = (struct eio_request){t, sid};
        return true;
    }
    return false;
}
