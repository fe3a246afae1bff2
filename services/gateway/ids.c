/*
 * ids.c - request ids and trace ids for requests that come without them.
 * See ids.h.
 */
#include "ids.h"

#include <sodium.h>
#include <stdbool.h>
#include <string.h>

/* Ids are public, so handing out bytes from a buffer filled ahead of time
 * costs nothing in secrecy; each byte is used once. */
static _Thread_local struct {
    unsigned char buf[4096];
    size_t used;
} t_random = {.used = sizeof t_random.buf};

static void random_bytes(unsigned char *out, size_t n)
{
    if (t_random.used + n > sizeof t_random.buf) {
        randombytes_buf(t_random.buf, sizeof t_random.buf);
        t_random.used = 0;
    }
    memcpy(out, t_random.buf + t_random.used, n);
    t_random.used += n;
}

static char *hex(char *out, const unsigned char *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        *out++ = digits[b[i] >> 4];
        *out++ = digits[b[i] & 15];
    }
    return out;
}

static bool all_zero(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

void gw_new_request_id(char out[37])
{
    unsigned char b[16];
    random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char *p = hex(out, b, 4);
    *p++ = '-';
    p = hex(p, b + 4, 2);
    *p++ = '-';
    p = hex(p, b + 6, 2);
    *p++ = '-';
    p = hex(p, b + 8, 2);
    *p++ = '-';
    p = hex(p, b + 10, 6);
    *p = '\0';
}

void gw_new_traceparent(char out[56])
{
    unsigned char trace[16], span[8];
    do
        random_bytes(trace, sizeof trace);
    while (all_zero(trace, sizeof trace));
    do
        random_bytes(span, sizeof span);
    while (all_zero(span, sizeof span));
    memcpy(out, "00-", 3);
    char *p = hex(out + 3, trace, sizeof trace);
    *p++ = '-';
    p = hex(p, span, sizeof span);
    memcpy(p, "-01", 4);
}
