/*
 * image_format.c - see image_format.h. Pure functions over bytes: nothing
 * here allocates, so nothing here needs freeing.
 */
#include "image_format.h"

#include <string.h>
#include <strings.h>

enum image_type image_sniff(const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return IMAGE_JPEG;
    if (len >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
        return IMAGE_PNG;
    if (len >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
        return IMAGE_WEBP;
    if (len >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6)))
        return IMAGE_GIF;
    return IMAGE_UNKNOWN;
}

const char *image_mime(enum image_type t)
{
    switch (t) {
    case IMAGE_JPEG:
        return "image/jpeg";
    case IMAGE_PNG:
        return "image/png";
    case IMAGE_WEBP:
        return "image/webp";
    case IMAGE_GIF:
        return "image/gif";
    default:
        return NULL;
    }
}

static unsigned long le32(const unsigned char *p)
{
    return (unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 |
           (unsigned long)p[3] << 24;
}

/* The bytes of the chunk at 'off' (header, payload, padding to even), or 0
 * when it overruns the file. */
static size_t webp_chunk_size(const unsigned char *b, size_t len, size_t off)
{
    if (len - off < 8)
        return 0;
    unsigned long payload = le32(b + off + 4);
    size_t total = 8 + (size_t)payload + (payload & 1);
    return total > len - off || total < 8 ? 0 : total;
}

static bool webp_is_metadata(const unsigned char *chunk)
{
    return !memcmp(chunk, "EXIF", 4) || !memcmp(chunk, "XMP ", 4);
}

size_t webp_strip_metadata(unsigned char *b, size_t len)
{
    if (len < 20 || memcmp(b, "RIFF", 4) || memcmp(b + 8, "WEBP", 4))
        return len;
    /* Check the whole chunk list before moving a byte. */
    for (size_t off = 12; off < len;) {
        size_t n = webp_chunk_size(b, len, off);
        if (!n)
            return len;
        off += n;
    }
    size_t out = 12;
    for (size_t off = 12; off < len;) {
        size_t n = webp_chunk_size(b, len, off);
        if (!webp_is_metadata(b + off)) {
            memmove(b + out, b + off, n);
            out += n;
        }
        off += n;
    }
    unsigned long riff = (unsigned long)(out - 8);
    for (int i = 0; i < 4; i++)
        b[4 + i] = (unsigned char)(riff >> (8 * i));
    /* VP8X flags: 0x08 EXIF present, 0x04 XMP present */
    if (!memcmp(b + 12, "VP8X", 4) && out > 20)
        b[20] &= (unsigned char)~0x0C;
    return out;
}

/* Characters RFC 2046 allows in a boundary (a space only inside). */
static bool boundary_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

bool multipart_boundary(const char *ct, const char **boundary, size_t *len)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    if (strncasecmp(ct, "multipart/form-data", 19) || (ct[19] && ct[19] != ';' && ct[19] != ' '))
        return false;
    for (const char *p = strchr(ct, ';'); p; p = strchr(p + 1, ';')) {
        const char *k = p + 1;
        while (*k == ' ')
            k++;
        if (strncasecmp(k, "boundary=", 9))
            continue;
        const char *v = k + 9;
        size_t n;
        if (*v == '"') {
            const char *q = strchr(++v, '"');
            if (!q)
                return false;
            n = (size_t)(q - v);
        } else {
            n = strcspn(v, "; ");
        }
        if (n == 0 || n > MULTIPART_BOUNDARY_MAX || !boundary_char(v[0]))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!boundary_char(v[i]) || !v[i])
                return false;
        *boundary = v;
        *len = n;
        return true;
    }
    return false;
}

/* The value of parameter 'key' in one header line's parameters (after the
 * first ';'), as *v and *vlen pointing into the line. */
static bool header_param(const char *line, size_t n, const char *key, const char **v, size_t *vlen)
{
    const char *end = line + n, *p = memchr(line, ';', n);
    size_t klen = strlen(key);
    while (p && p < end) {
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            return false;
        bool match = (size_t)(eq - p) == klen && !strncasecmp(p, key, klen);
        const char *val = eq + 1, *val_end;
        if (val < end && *val == '"') {
            val++;
            val_end = memchr(val, '"', (size_t)(end - val));
            if (!val_end)
                return false;
            p = memchr(val_end, ';', (size_t)(end - val_end));
        } else {
            val_end = memchr(val, ';', (size_t)(end - val));
            if (!val_end)
                val_end = end;
            p = val_end < end ? val_end : NULL;
        }
        if (match) {
            *v = val;
            *vlen = (size_t)(val_end - val);
            return true;
        }
    }
    return false;
}

/* True when the part headers h[0..n) carry Content-Disposition: form-data
 * with name="<name>". */
static bool part_named(const char *h, size_t n, const char *name)
{
    static const char cd[] = "content-disposition:";
    const char *end = h + n;
    for (const char *line = h; line < end;) {
        const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        size_t len = eol ? (size_t)(eol - line) : (size_t)(end - line);
        const char *v;
        size_t vlen;
        if (len > sizeof cd - 1 && !strncasecmp(line, cd, sizeof cd - 1))
            return header_param(line, len, "name", &v, &vlen) && vlen == strlen(name) &&
                   !memcmp(v, name, vlen);
        line += len + 2;
    }
    return false;
}

int multipart_find(const char *body, size_t len, const char *boundary, size_t blen,
                   const char *name, struct multipart_part *out)
{
    if (blen == 0 || blen > MULTIPART_BOUNDARY_MAX)
        return -1;
    /* "\r\n--<boundary>": every delimiter but a first one at offset 0. */
    char delim[MULTIPART_BOUNDARY_MAX + 4] = "\r\n--";
    memcpy(delim + 4, boundary, blen);
    size_t dlen = blen + 4;
    const char *end = body + len, *pos;
    if (len >= dlen - 2 && !memcmp(body, delim + 2, dlen - 2))
        pos = body + dlen - 2;
    else if ((pos = memmem(body, len, delim, dlen)))
        pos += dlen;
    else
        return -1;
    for (;;) {
        /* pos is just after a delimiter: "--" ends the body, "\r\n" starts a part */
        if (end - pos >= 2 && pos[0] == '-' && pos[1] == '-')
            return 0;
        if (end - pos < 2 || pos[0] != '\r' || pos[1] != '\n')
            return -1;
        /* Searched from pos so that a part without headers ("\r\n\r\n"
         * right after the delimiter) is one, not the next part's headers. */
        const char *hend = memmem(pos, (size_t)(end - pos), "\r\n\r\n", 4);
        if (!hend)
            return -1;
        const char *headers = pos + 2;
        size_t hlen = hend > pos ? (size_t)(hend - headers) : 0;
        const char *data = hend + 4;
        const char *next = memmem(data, (size_t)(end - data), delim, dlen);
        if (!next)
            return -1;
        if (part_named(headers, hlen, name)) {
            out->data = data;
            out->len = (size_t)(next - data);
            return 1;
        }
        pos = next + dlen;
    }
}
