/*
 * cors_origins.c - parse and look up the CORS allow-list.
 */
#include "cors_origins.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void gw_origins_free(struct gw_origins *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

/* The entry [b, e) trimmed, without a trailing '/', lower-cased; a new
 * string the caller frees. */
static char *normalise(const char *b, const char *e)
{
    while (b < e && isspace((unsigned char)*b))
        b++;
    while (e > b && isspace((unsigned char)e[-1]))
        e--;
    if (e > b && e[-1] == '/')
        e--;
    size_t n = (size_t)(e - b);
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++)
        s[i] = (char)tolower((unsigned char)b[i]);
    s[n] = '\0';
    return s;
}

static bool acceptable(const char *s)
{
    return s[0] && strcmp(s, "*") != 0 && strcmp(s, "null") != 0;
}

/* Append 's' (taken over) to the list; -1 out of memory ('s' freed). */
static int append(struct gw_origins *out, char *s)
{
    char **grown = realloc(out->items, (out->n + 1) * sizeof *grown);
    if (!grown) {
        free(s);
        return -1;
    }
    out->items = grown;
    out->items[out->n++] = s;
    return 0;
}

int gw_origins_parse(const char *csv, struct gw_origins *out, size_t *rejected)
{
    out->items = NULL;
    out->n = 0;
    if (rejected)
        *rejected = 0;
    for (const char *p = csv ? csv : ""; *p;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        char *s = normalise(p, end);
        if (!s) {
            gw_origins_free(out);
            return -1;
        }
        if (!acceptable(s)) {
            if (rejected && s[0])
                (*rejected)++;
            free(s);
        } else if (append(out, s) != 0) {
            gw_origins_free(out);
            return -1;
        }
        p = comma ? comma + 1 : end;
    }
    return 0;
}

bool gw_origins_allowed(const struct gw_origins *list, const char *origin, size_t len)
{
    for (size_t i = 0; i < list->n; i++)
        if (strlen(list->items[i]) == len && strncasecmp(list->items[i], origin, len) == 0)
            return true;
    return false;
}
