/*
 * validate.c - input validation helpers. See validate.h.
 */
#include "core/validate.h"
#include "core/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long utf8_length(const char *s)
{
    long n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int extra;
        unsigned cp;
        if (*p < 0x80) {
            extra = 0;
            cp = *p;
        } else if ((*p & 0xe0) == 0xc0) {
            extra = 1;
            cp = *p & 0x1f;
        } else if ((*p & 0xf0) == 0xe0) {
            extra = 2;
            cp = *p & 0x0f;
        } else if ((*p & 0xf8) == 0xf0) {
            extra = 3;
            cp = *p & 0x07;
        } else {
            return -1;
        }
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                return -1;
            cp = (cp << 6) | (*p & 0x3f);
        }
        /* overlong forms, surrogates and values past U+10FFFF are invalid */
        static const unsigned min_cp[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[extra] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return -1;
        n++;
    }
    return n;
}

bool has_control_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return true;
        /* C1 controls U+0080..U+009F are encoded as C2 80..C2 9F */
        if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return true;
    }
    return false;
}

bool valid_email(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 254 || has_control_chars(s) || utf8_length(s) < 0)
        return false;
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@') || at - s > 64)
        return false;
    const char *domain = at + 1;
    const char *dot = strrchr(domain, '.');
    if (!dot || dot == domain || !dot[1] || domain[0] == '.' || strstr(domain, ".."))
        return false;
    for (const char *p = s; *p; p++)
        if (isspace((unsigned char)*p) || strchr("<>()[],;:\\\"", *p))
            return false;
    return true;
}

bool valid_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

/* Add "<what>" for field 'name'. */
static void err(json_t **errors, const char *name, const char *what)
{
    http_field_error(errors, name, what);
}

const char *v_string(json_t *body, const char *name, bool required, size_t min_len, size_t max_len,
                     bool single_line, json_t **errors)
{
    json_t *v = json_object_get(body, name);
    if (!v || json_is_null(v)) {
        if (required)
            err(errors, name, "is required");
        return NULL;
    }
    if (!json_is_string(v)) {
        err(errors, name, "must be a string");
        return NULL;
    }
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        err(errors, name, "must not contain NUL characters");
        return NULL;
    }
    long len = utf8_length(s);
    char msg[96];
    if (len < 0) {
        err(errors, name, "must be valid UTF-8");
        return NULL;
    }
    if ((size_t)len < min_len) {
        snprintf(msg, sizeof msg, "must be at least %zu characters", min_len);
        err(errors, name, msg);
        return NULL;
    }
    if ((size_t)len > max_len) {
        snprintf(msg, sizeof msg, "must be at most %zu characters", max_len);
        err(errors, name, msg);
        return NULL;
    }
    if (single_line && has_control_chars(s)) {
        err(errors, name, "must not contain control characters");
        return NULL;
    }
    return s;
}

int v_bool(json_t *body, const char *name, bool required, json_t **errors)
{
    json_t *v = json_object_get(body, name);
    if (!v) {
        if (required)
            err(errors, name, "is required");
        return -1;
    }
    if (!json_is_boolean(v)) {
        err(errors, name, "must be true or false");
        return -1;
    }
    return json_is_true(v) ? 1 : 0;
}

bool v_int(json_t *body, const char *name, bool required, long long min, long long max,
           long long *out, json_t **errors)
{
    json_t *v = json_object_get(body, name);
    if (!v) {
        if (required)
            err(errors, name, "is required");
        return false;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        char msg[96];
        snprintf(msg, sizeof msg, "must be an integer between %lld and %lld", min, max);
        err(errors, name, msg);
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

const char *v_enum(json_t *body, const char *name, bool required, const char *const *allowed,
                   json_t **errors)
{
    const char *s = v_string(body, name, required, 1, 64, true, errors);
    if (!s)
        return NULL;
    for (const char *const *a = allowed; *a; a++)
        if (!strcmp(s, *a))
            return s;
    char msg[256] = "must be one of:";
    size_t used = strlen(msg);
    for (const char *const *a = allowed; *a && used < sizeof msg - 2; a++) {
        int k = snprintf(msg + used, sizeof msg - used, " %s", *a);
        if (k < 0)
            break;
        used += (size_t)k;
    }
    err(errors, name, msg);
    return NULL;
}

void v_no_unknown(json_t *body, const char *const *known, json_t **errors)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = !strcmp(key, *k);
        if (!ok)
            err(errors, utf8_length(key) < 0 ? "(invalid)" : key, "is not a known field");
    }
}

/* Parse a decimal query value within [min, max]; -1 when malformed. */
static long parse_query_long(const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    return v;
}

void v_page(const char *page_s, const char *limit_s, long def, long max, long *page, long *limit,
            json_t **errors)
{
    *page = 1;
    *limit = def;
    if (page_s) {
        long p = parse_query_long(page_s, 1, 1000000);
        if (p < 0)
            err(errors, "page", "must be an integer >= 1");
        else
            *page = p;
    }
    if (limit_s) {
        long l = parse_query_long(limit_s, 1, max);
        char msg[64];
        snprintf(msg, sizeof msg, "must be an integer between 1 and %ld", max);
        if (l < 0)
            err(errors, "limit", msg);
        else
            *limit = l;
    }
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long percent_decode(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i];
        if (c == '%') {
            if (n - i < 3)
                return -1;
            int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = hi << 4 | lo;
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    if (cap == 0)
        return -1;
    out[o] = '\0';
    return (long)o;
}
