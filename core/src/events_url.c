/*
 * events_url.c - amqp:// URL parsing (RabbitMQ URI spec, without TLS).
 *
 *   amqp://[user[:password]@]host[:port][/vhost][?query]
 *
 * Missing parts take the RabbitMQ defaults (guest, guest, localhost, 5672,
 * "/"); user, password and vhost are percent-decoded, so the default vhost can
 * also be written "%2f". The query (heartbeat=..., used by other clients) is
 * ignored: this module picks its own settings.
 */
#include "core/events.h"
#include "core/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Percent-decode s[0..len) into out (cap bytes incl. NUL). -1 on a bad escape,
 * an encoded NUL, or when the result does not fit. */
static int decode(const char *s, size_t len, char *out, size_t cap)
{
    return percent_decode(s, len, out, cap) < 0 ? -1 : 0;
}

/* Parse the decimal port s[0..len) (1..65535). */
static int parse_port(const char *s, size_t len, int *port)
{
    if (len == 0 || len > 5)
        return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *port = v;
    return 0;
}

/* "user[:password]" of s[0..len). */
static int parse_userinfo(const char *s, size_t len, struct amqp_url *out)
{
    const char *colon = memchr(s, ':', len);
    size_t ulen = colon ? (size_t)(colon - s) : len;
    if (decode(s, ulen, out->user, sizeof out->user) != 0)
        return -1;
    if (!colon)
        return 0;
    return decode(colon + 1, len - ulen - 1, out->password, sizeof out->password);
}

/* "host[:port]" or "[v6addr][:port]" of s[0..len). */
static int parse_hostport(const char *s, size_t len, struct amqp_url *out)
{
    const char *host = s, *after;
    size_t hlen;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return -1;
        host = s + 1;
        hlen = (size_t)(close - host);
        after = close + 1;
    } else {
        const char *colon = memchr(s, ':', len);
        hlen = colon ? (size_t)(colon - s) : len;
        after = s + hlen;
    }
    size_t rest = len - (size_t)(after - s);
    if (rest > 0 && (after[0] != ':' || parse_port(after + 1, rest - 1, &out->port) != 0))
        return -1;
    if (hlen == 0)
        return 0; /* keep the default host */
    if (hlen >= sizeof out->host || memchr(host, '@', hlen))
        return -1;
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    return 0;
}

/* The vhost from the path s[0..len) (without the leading '/'). */
static int parse_vhost(const char *s, size_t len, struct amqp_url *out)
{
    if (len == 0)
        return 0; /* keep "/" */
    if (memchr(s, '/', len))
        return -1; /* a vhost is one path segment; a literal '/' is "%2f" */
    return decode(s, len, out->vhost, sizeof out->vhost);
}

static void set_defaults(struct amqp_url *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->host, sizeof out->host, "localhost");
    out->port = 5672;
    snprintf(out->user, sizeof out->user, "guest");
    snprintf(out->password, sizeof out->password, "guest");
    snprintf(out->vhost, sizeof out->vhost, "/");
}

int events_parse_amqp_url(const char *url, struct amqp_url *out)
{
    static const char scheme[] = "amqp://";
    if (!url || !out || strncmp(url, scheme, sizeof scheme - 1) != 0)
        return -1;
    set_defaults(out);
    const char *p = url + sizeof scheme - 1;
    size_t end = strcspn(p, "?#");
    size_t auth_len = strcspn(p, "/?#");
    const char *at = memchr(p, '@', auth_len);
    const char *hp = p;
    if (at) {
        if (parse_userinfo(p, (size_t)(at - p), out) != 0)
            return -1;
        hp = at + 1;
    }
    if (parse_hostport(hp, auth_len - (size_t)(hp - p), out) != 0)
        return -1;
    if (auth_len < end && parse_vhost(p + auth_len + 1, end - auth_len - 1, out) != 0)
        return -1;
    return 0;
}
