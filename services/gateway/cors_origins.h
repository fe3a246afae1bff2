/*
 * cors_origins.h - the CORS allow-list (CORS_ORIGINS), parsed once.
 *
 * No h2o: the unit tests include cors_origins.c.
 */
#ifndef GATEWAY_CORS_ORIGINS_H
#define GATEWAY_CORS_ORIGINS_H

#include <stdbool.h>
#include <stddef.h>

struct gw_origins {
    char **items; /* normalised origins ("http://localhost:3010"); owned */
    size_t n;
};

/* Parse a comma-separated list into 'out' (emptied first). Entries are
 * trimmed, lower-cased and lose a trailing '/'; empty ones are skipped, and
 * so are "*" and "null", which an allow-list with credentials must never
 * contain (their count goes to *rejected when not NULL). Returns 0, or -1 out
 * of memory (out is then empty). Free with gw_origins_free. */
int gw_origins_parse(const char *csv, struct gw_origins *out, size_t *rejected);

/* True when the Origin header value 'origin' (len bytes) is on the list;
 * compared case-insensitively, as browsers send scheme and host lower-case
 * anyway. */
bool gw_origins_allowed(const struct gw_origins *list, const char *origin, size_t len);

void gw_origins_free(struct gw_origins *list);

#endif
