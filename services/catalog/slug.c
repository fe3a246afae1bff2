/*
 * slug.c - URL slugs from free text. See slug.h.
 */
#include "slug.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Latin-1 Supplement and Latin Extended-A letters and their ASCII
 * spellings, as ranges of code points that share one. Enough for the
 * product names of Western and Central European shops; anything else is
 * dropped rather than guessed at. */
struct translit {
    uint32_t first, last;
    const char *ascii;
};

static const struct translit TRANSLIT[] = {
    {0xC0, 0xC5, "a"},   {0xC6, 0xC6, "ae"},   {0xC7, 0xC7, "c"},   {0xC8, 0xCB, "e"},
    {0xCC, 0xCF, "i"},   {0xD0, 0xD0, "d"},    {0xD1, 0xD1, "n"},   {0xD2, 0xD6, "o"},
    {0xD8, 0xD8, "o"},   {0xD9, 0xDC, "u"},    {0xDD, 0xDD, "y"},   {0xDE, 0xDE, "th"},
    {0xDF, 0xDF, "ss"},  {0xE0, 0xE5, "a"},    {0xE6, 0xE6, "ae"},  {0xE7, 0xE7, "c"},
    {0xE8, 0xEB, "e"},   {0xEC, 0xEF, "i"},    {0xF0, 0xF0, "d"},   {0xF1, 0xF1, "n"},
    {0xF2, 0xF6, "o"},   {0xF8, 0xF8, "o"},    {0xF9, 0xFC, "u"},   {0xFD, 0xFD, "y"},
    {0xFE, 0xFE, "th"},  {0xFF, 0xFF, "y"},    {0x100, 0x105, "a"}, {0x106, 0x10D, "c"},
    {0x10E, 0x111, "d"}, {0x112, 0x11B, "e"},  {0x11C, 0x123, "g"}, {0x124, 0x127, "h"},
    {0x128, 0x131, "i"}, {0x132, 0x133, "ij"}, {0x134, 0x135, "j"}, {0x136, 0x138, "k"},
    {0x139, 0x142, "l"}, {0x143, 0x14B, "n"},  {0x14C, 0x151, "o"}, {0x152, 0x153, "oe"},
    {0x154, 0x159, "r"}, {0x15A, 0x161, "s"},  {0x162, 0x167, "t"}, {0x168, 0x173, "u"},
    {0x174, 0x175, "w"}, {0x176, 0x178, "y"},  {0x179, 0x17E, "z"}, {0x17F, 0x17F, "s"},
};

/* The ASCII spelling of code point 'cp', or NULL when it has none here. */
static const char *translit_of(uint32_t cp)
{
    for (size_t i = 0; i < sizeof TRANSLIT / sizeof TRANSLIT[0]; i++)
        if (cp >= TRANSLIT[i].first && cp <= TRANSLIT[i].last)
            return TRANSLIT[i].ascii;
    return NULL;
}

/* Decode one UTF-8 sequence at 's' into *cp; returns its length in bytes,
 * or 1 with *cp = UINT32_MAX for a byte that starts no valid sequence (so
 * the caller skips it: invalid input is dropped, never trusted). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 1;
    if (n == 1 || s[0] >= 0xF8) {
        *cp = s[0] < 0x80 ? s[0] : UINT32_MAX;
        return 1;
    }
    uint32_t v = s[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = UINT32_MAX;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return n;
}

/* The slug being built: at most 'max' bytes in 'buf'. */
struct slug_out {
    char *buf;
    size_t len, max;
    bool pending_sep; /* a separator was seen since the last letter */
};

/* Append letters/digits 'a' (ASCII, lower case), with a pending '-' before
 * them. Returns false once the slug is full. */
static bool put_word(struct slug_out *o, const char *a)
{
    size_t n = strlen(a) + (o->pending_sep && o->len > 0);
    if (o->len + n > o->max)
        return false;
    if (o->pending_sep && o->len > 0)
        o->buf[o->len++] = '-';
    o->pending_sep = false;
    for (; *a; a++)
        o->buf[o->len++] = *a;
    return true;
}

/* Feed one code point; false once the slug is full. */
static bool put_code_point(struct slug_out *o, uint32_t cp)
{
    if (cp < 0x80) {
        char c = (char)cp;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            return put_word(o, (char[]){c, '\0'});
        o->pending_sep = true;
        return true;
    }
    const char *t = translit_of(cp);
    return t ? put_word(o, t) : true;
}

/* A slug cut short ends on a whole word where one fits: "red-wool-sw" ->
 * "red-wool". */
static void cut_at_word(struct slug_out *o, bool full)
{
    if (!full)
        return;
    char *dash = memrchr(o->buf, '-', o->len);
    if (dash && dash > o->buf)
        o->len = (size_t)(dash - o->buf);
}

char *slug_from_text(const char *text, size_t max)
{
    struct slug_out o = {.buf = malloc(max + 1), .len = 0, .max = max, .pending_sep = false};
    if (!o.buf)
        return NULL;
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    bool full = false;
    while (*s && !full) {
        uint32_t cp;
        s += utf8_next(s, &cp);
        full = !put_code_point(&o, cp);
    }
    cut_at_word(&o, full);
    o.buf[o.len] = '\0';
    return o.buf;
}

bool slug_valid(const char *s, size_t max)
{
    if (!s || !*s || strlen(s) > max)
        return false;
    bool prev_dash = true; /* no leading '-' */
    for (; *s; s++) {
        bool dash = *s == '-';
        if (dash ? prev_dash : !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
            return false;
        prev_dash = dash;
    }
    return !prev_dash; /* no trailing '-' */
}
