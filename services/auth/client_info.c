/*
 * client_info.c - who is calling: address and user agent, as stored with a
 * session and used for per-address login limits.
 *
 * Address: the gateway (h2o, emit_x_forwarded_headers) appends the address of
 * the peer it saw to X-Forwarded-For. That last entry is the one we trust:
 * entries to its left were sent by the client and can be anything. The
 * service listens only where the gateway reaches it (BIND_ADDRESS), so a
 * request without the header comes from a local tool and the TCP peer is
 * used.
 */
#include "auth_svc.h"

#include "core/validate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ulfius.h>

/* True when s[0..n) is an IPv4 or IPv6 address; its canonical form to out. */
static bool parse_ip(const char *s, size_t n, char out[CLIENT_IP_LEN])
{
    char buf[CLIENT_IP_LEN];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    unsigned char bin[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, buf, bin) == 1)
        return inet_ntop(AF_INET, bin, out, CLIENT_IP_LEN) != NULL;
    if (inet_pton(AF_INET6, buf, bin) == 1)
        return inet_ntop(AF_INET6, bin, out, CLIENT_IP_LEN) != NULL;
    return false;
}

bool xff_last_hop(const char *xff, char out[CLIENT_IP_LEN])
{
    if (!xff)
        return false;
    const char *end = xff + strlen(xff);
    /* the last comma-separated entry, trimmed */
    const char *start = end;
    while (start > xff && start[-1] != ',')
        start--;
    while (start < end && (*start == ' ' || *start == '\t'))
        start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return parse_ip(start, (size_t)(end - start), out);
}

/* The TCP peer's address into out; false when unknown. */
static bool peer_ip(const struct http_exchange *x, char out[CLIENT_IP_LEN])
{
    const struct sockaddr *sa = x->req ? x->req->client_address : NULL;
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET)
        return inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
                         CLIENT_IP_LEN) != NULL;
    if (sa->sa_family == AF_INET6)
        return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
                         CLIENT_IP_LEN) != NULL;
    return false;
}

void client_ip(const struct http_exchange *x, char out[CLIENT_IP_LEN])
{
    if (xff_last_hop(http_header(x, "X-Forwarded-For"), out) || peer_ip(x, out))
        return;
    snprintf(out, CLIENT_IP_LEN, "unknown");
}

/* Byte length of the UTF-8 sequence starting at p that is valid and not a
 * control character; 0 when it is not. */
static size_t good_char_len(const unsigned char *p)
{
    size_t n = *p < 0x80             ? 1
               : (*p & 0xe0) == 0xc0 ? 2
               : (*p & 0xf0) == 0xe0 ? 3
               : (*p & 0xf8) == 0xf0 ? 4
                                     : 0;
    if (n == 0)
        return 0;
    char one[5] = {0};
    for (size_t i = 0; i < n; i++) {
        if (!p[i])
            return 0;
        one[i] = (char)p[i];
    }
    if (utf8_length(one) != 1 || has_control_chars(one))
        return 0;
    return n;
}

char *text_sanitize(const char *s, size_t max_bytes)
{
    if (!s)
        s = "";
    size_t cap = strlen(s) < max_bytes ? strlen(s) : max_bytes;
    char *out = malloc(cap + 1);
    if (!out)
        return NULL;
    size_t used = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = good_char_len(p);
        size_t take = n ? n : 1; /* a bad byte is replaced by one '?' */
        if (used + take > cap)
            break;
        if (n)
            memcpy(out + used, p, n);
        else
            out[used] = '?';
        used += take;
        p += take;
    }
    out[used] = '\0';
    return out;
}

char *client_user_agent(const struct http_exchange *x)
{
    return text_sanitize(http_header(x, "User-Agent"), USER_AGENT_MAX);
}
