/*
 * jsonline.c - JSON log lines in core's format. See jsonline.h.
 */
#include "jsonline.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void grow(struct jsonline *j, size_t need)
{
    if (j->oom || j->len + need <= j->cap)
        return;
    size_t cap = j->cap * 2;
    while (cap < j->len + need)
        cap *= 2;
    char *np = j->p == j->inline_buf ? malloc(cap) : realloc(j->p, cap);
    if (!np) {
        j->oom = true;
        return;
    }
    if (j->p == j->inline_buf)
        memcpy(np, j->inline_buf, j->len);
    j->p = np;
    j->cap = cap;
}

static void put(struct jsonline *j, const char *s, size_t n)
{
    grow(j, n);
    if (j->oom)
        return;
    memcpy(j->p + j->len, s, n);
    j->len += n;
}

static void puts_lit(struct jsonline *j, const char *s)
{
    put(j, s, strlen(s));
}

/* Length of the UTF-8 sequence at s (n bytes left) and its code point, or 0
 * when it is not well-formed (overlong, surrogate, > U+10FFFF, truncated). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_decode(s + i, n - i, &cp);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

static void put_u(struct jsonline *j, uint32_t u)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = {'\\',       'u', hex[(u >> 12) & 15], hex[(u >> 8) & 15], hex[(u >> 4) & 15],
                 hex[u & 15]};
    put(j, e, sizeof e);
}

/* A JSON string, ASCII only, as jansson's JSON_ENSURE_ASCII writes it. */
static void put_string(struct jsonline *j, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t plain = 0; /* the common case: nothing to escape */
    while (plain < n && s[plain] >= 0x20 && s[plain] < 0x80 && s[plain] != '"' && s[plain] != '\\')
        plain++;
    if (plain == n) {
        grow(j, n + 2);
        if (j->oom)
            return;
        j->p[j->len++] = '"';
        memcpy(j->p + j->len, str, n);
        j->len += n;
        j->p[j->len++] = '"';
        return;
    }
    if (!utf8_valid(s + plain, n - plain)) {
        puts_lit(j, "\"(not UTF-8)\"");
        return;
    }
    put(j, "\"", 1);
    size_t run = 0; /* start of the pending run of plain characters */
    for (size_t i = plain; i < n;) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        put(j, str + run, i - run);
        uint32_t cp;
        size_t k = utf8_decode(s + i, n - i, &cp);
        switch (cp) {
        case '"':
            puts_lit(j, "\\\"");
            break;
        case '\\':
            puts_lit(j, "\\\\");
            break;
        case '\b':
            puts_lit(j, "\\b");
            break;
        case '\f':
            puts_lit(j, "\\f");
            break;
        case '\n':
            puts_lit(j, "\\n");
            break;
        case '\r':
            puts_lit(j, "\\r");
            break;
        case '\t':
            puts_lit(j, "\\t");
            break;
        default:
            if (cp >= 0x10000) {
                cp -= 0x10000;
                put_u(j, 0xd800 | (cp >> 10));
                put_u(j, 0xdc00 | (cp & 0x3ff));
            } else {
                put_u(j, cp);
            }
        }
        i += k;
        run = i;
    }
    put(j, str + run, n - run);
    put(j, "\"", 1);
}

static void put_key(struct jsonline *j, const char *key)
{
    put(j, ",", 1);
    put_string(j, key, strlen(key));
    put(j, ":", 1);
}

/* "2026-11-27T00:14:00.419Z"; the part up to the seconds is cached per thread. */
static void put_time(struct jsonline *j)
{
    static _Thread_local time_t t_sec = (time_t)-1;
    static _Thread_local char t_prefix[32];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != t_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(t_prefix, sizeof t_prefix, "%Y-%m-%dT%H:%M:%S", &tm);
        t_sec = ts.tv_sec;
    }
    char frac[8];
    int ms = (int)(ts.tv_nsec / 1000000);
    frac[0] = '.';
    frac[1] = (char)('0' + ms / 100);
    frac[2] = (char)('0' + ms / 10 % 10);
    frac[3] = (char)('0' + ms % 10);
    frac[4] = 'Z';
    put(j, "\"", 1);
    puts_lit(j, t_prefix);
    put(j, frac, 5);
    put(j, "\"", 1);
}

void jsonline_begin(struct jsonline *j, const char *level, const char *service, const char *msg,
                    const char *request_id, const char *trace_id)
{
    j->p = j->inline_buf;
    j->len = 0;
    j->cap = sizeof j->inline_buf;
    j->oom = false;
    puts_lit(j, "{\"time\":");
    put_time(j);
    jsonline_str(j, "level", level, strlen(level));
    jsonline_str(j, "service", service, strlen(service));
    jsonline_str(j, "msg", msg, strlen(msg));
    if (request_id && *request_id)
        jsonline_str(j, "requestId", request_id, strlen(request_id));
    if (trace_id && *trace_id)
        jsonline_str(j, "traceId", trace_id, strlen(trace_id));
}

void jsonline_str(struct jsonline *j, const char *key, const char *s, size_t n)
{
    put_key(j, key);
    put_string(j, s, n);
}

void jsonline_int(struct jsonline *j, const char *key, long long v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", v);
    put_key(j, key);
    put(j, num, (size_t)n);
}

void jsonline_ms(struct jsonline *j, const char *key, double ms)
{
    char num[40];
    int n = snprintf(num, sizeof num, "%.3f", ms >= 0 && ms < 1e15 ? ms : 0.0);
    put_key(j, key);
    put(j, num, (size_t)n);
}

void jsonline_null(struct jsonline *j, const char *key)
{
    put_key(j, key);
    puts_lit(j, "null");
}

const char *jsonline_end(struct jsonline *j, size_t *len)
{
    put(j, "}\n", 2);
    if (j->oom)
        return NULL;
    *len = j->len;
    return j->p;
}

void jsonline_write(struct jsonline *j, FILE *f)
{
    size_t n = 0;
    const char *line = jsonline_end(j, &n);
    if (line) {
        flockfile(f);
        fwrite(line, 1, n, f);
        fflush(f);
        funlockfile(f);
    }
    jsonline_free(j);
}

void jsonline_free(struct jsonline *j)
{
    if (j->p != j->inline_buf)
        free(j->p);
    j->p = j->inline_buf;
    j->len = 0;
    j->cap = sizeof j->inline_buf;
}
