/*
 * strmap.h - a hash map from strings to pointers.
 *
 * The realtime service keys its connection table by Engine.IO session id,
 * and later its rooms by room name. Room names come from clients, so the
 * hash is SipHash with a random key per map: nobody can craft names that
 * all land in one bucket and turn lookups into list walks.
 *
 * Ownership: the map copies keys and owns the copies; values are borrowed
 * (the map never frees them). Not thread-safe: the event loop owns it.
 */
#ifndef REALTIME_STRMAP_H
#define REALTIME_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap;

/* An empty map, or NULL on OOM. */
struct strmap *strmap_new(void);

/* Free the map and its key copies, not the values. Safe on NULL. */
void strmap_free(struct strmap *m);

/* Insert 'key' -> 'value'. Returns 0, 1 when the key already exists (nothing
 * changed), or -1 on OOM. */
int strmap_put(struct strmap *m, const char *key, void *value);

/* The value for 'key', or NULL. */
void *strmap_get(const struct strmap *m, const char *key);

/* Remove 'key'; returns its value, or NULL when absent. */
void *strmap_remove(struct strmap *m, const char *key);

size_t strmap_count(const struct strmap *m);

#endif
