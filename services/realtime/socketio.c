/*
 * socketio.c - Socket.IO protocol v5 codec. See socketio.h.
 *
 * The decoder walks the packet left to right like the reference parser
 * (socket.io-parser's decodeString) so both accept and reject the same
 * inputs; every step checks the remaining length, never a terminator, since
 * the input is a view into a network buffer.
 */
#include "socketio.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sio_reserved_event(const char *name)
{
    static const char *const reserved[] = {"connect",       "connect_error", "disconnect",
                                           "disconnecting", "newListener",   "removeListener"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (!strcmp(name, reserved[i]))
            return 1;
    return 0;
}

void sio_packet_clear(struct sio_packet *p)
{
    free(p->nsp);
    json_decref(p->data);
    p->nsp = NULL;
    p->data = NULL;
}

/* Read the decimal number at buf[*i..len) into *out; digits are required.
 * Returns 0 or -1 (no digits or above 'max'). */
static int read_number(const char *buf, size_t len, size_t *i, long long max, long long *out)
{
    long long v = 0;
    size_t start = *i;
    while (*i < len && buf[*i] >= '0' && buf[*i] <= '9') {
        int d = buf[*i] - '0';
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
        (*i)++;
    }
    if (*i == start)
        return -1;
    *out = v;
    return 0;
}

/* "<n>-" after the type of a binary packet. */
static int read_attachments(const char *buf, size_t len, size_t *i, struct sio_packet *p)
{
    long long n = 0;
    if (read_number(buf, len, i, 1000, &n) != 0 || *i >= len || buf[*i] != '-')
        return -1;
    (*i)++;
    p->attachments = (unsigned)n;
    return 0;
}

/* "/name," (the comma is optional at the end of the packet). */
static int read_namespace(const char *buf, size_t len, size_t *i, struct sio_packet *p)
{
    size_t start = *i;
    const char *comma = memchr(buf + start, ',', len - start);
    size_t end = comma ? (size_t)(comma - buf) : len;
    if (end - start > SIO_MAX_NSP_LEN || memchr(buf + start, '\0', end - start))
        return -1;
    free(p->nsp);
    p->nsp = strndup(buf + start, end - start);
    if (!p->nsp)
        return -1;
    *i = comma ? end + 1 : end;
    return 0;
}

static int payload_valid(enum sio_packet_type type, const json_t *data)
{
    switch (type) {
    case SIO_CONNECT:
        return !data || json_is_object(data);
    case SIO_DISCONNECT:
        return !data;
    case SIO_CONNECT_ERROR:
        return data && (json_is_object(data) || json_is_string(data));
    case SIO_EVENT:
    case SIO_BINARY_EVENT: {
        const json_t *name = json_array_get(data, 0);
        return json_is_array(data) && json_is_string(name) &&
               !sio_reserved_event(json_string_value(name));
    }
    case SIO_ACK:
    case SIO_BINARY_ACK:
        return json_is_array(data);
    }
    return 0;
}

/* Everything after the type digit. */
static int decode_rest(const char *buf, size_t len, size_t i, struct sio_packet *p,
                       const char **why)
{
    if ((p->type == SIO_BINARY_EVENT || p->type == SIO_BINARY_ACK) &&
        read_attachments(buf, len, &i, p) != 0) {
        *why = "illegal attachments";
        return -1;
    }
    if (i < len && buf[i] == '/' && read_namespace(buf, len, &i, p) != 0) {
        *why = "invalid namespace";
        return -1;
    }
    if (i < len && buf[i] >= '0' && buf[i] <= '9' &&
        read_number(buf, len, &i, SIO_MAX_ACK_ID, &p->id) != 0) {
        *why = "invalid ack id";
        return -1;
    }
    if (i < len) {
        json_error_t err;
        p->data = json_loadb(buf + i, len - i, JSON_DECODE_ANY, &err);
        if (!p->data) {
            *why = "invalid payload";
            return -1;
        }
    }
    if (!payload_valid(p->type, p->data)) {
        *why = "invalid payload";
        return -1;
    }
    return 0;
}

int sio_decode(const char *buf, size_t len, struct sio_packet *out, const char **why)
{
    *out = (struct sio_packet){.id = SIO_NO_ACK};
    *why = "";
    if (!buf || len == 0 || buf[0] < '0' || buf[0] > '6') {
        *why = "unknown packet type";
        return -1;
    }
    out->type = (enum sio_packet_type)(buf[0] - '0');
    out->nsp = strdup("/");
    if (!out->nsp) {
        *why = "out of memory";
        return -1;
    }
    return decode_rest(buf, len, 1, out, why);
}

char *sio_encode(enum sio_packet_type type, const char *nsp, long long id, const json_t *data,
                 size_t *len)
{
    char *json = NULL;
    if (data) {
        json = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!json)
            return NULL;
    }
    char idtext[24] = "";
    if (id != SIO_NO_ACK)
        snprintf(idtext, sizeof idtext, "%lld", id);
    bool named = nsp && strcmp(nsp, "/") != 0;
    char *out = NULL;
    int n = asprintf(&out, "%d%s%s%s%s", (int)type, named ? nsp : "", named ? "," : "", idtext,
                     json ? json : "");
    free(json);
    if (n < 0)
        return NULL;
    *len = (size_t)n;
    return out;
}
