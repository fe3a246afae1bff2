/*
 * strmap.c - separate-chaining hash map with SipHash. See strmap.h.
 *
 * The bucket array doubles when the map holds more entries than buckets, so
 * chains stay around one entry long; it never shrinks (a burst of 10k
 * connections costs 10k pointers afterwards, which is nothing).
 */
#include "strmap.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    struct entry *next;
    uint64_t hash;
    void *value;
    char key[]; /* NUL-terminated copy */
};

struct strmap {
    struct entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
    unsigned char seed[crypto_shorthash_KEYBYTES];
};

enum { INITIAL_BUCKETS = 64 };

static uint64_t hash_key(const struct strmap *m, const char *key)
{
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)key, strlen(key), m->seed);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

struct strmap *strmap_new(void)
{
    /* randombytes needs libsodium initialised; sodium_init is idempotent. */
    if (sodium_init() < 0)
        return NULL;
    struct strmap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->buckets = calloc(INITIAL_BUCKETS, sizeof *m->buckets);
    if (!m->buckets) {
        free(m);
        return NULL;
    }
    m->nbuckets = INITIAL_BUCKETS;
    crypto_shorthash_keygen(m->seed);
    return m;
}

void strmap_free(struct strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct entry *e = m->buckets[i];
        while (e) {
            struct entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    free(m);
}

/* Double the bucket array. On OOM the map keeps working, only slower. */
static void grow(struct strmap *m)
{
    size_t n = m->nbuckets * 2;
    struct entry **b = calloc(n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct entry *e = m->buckets[i];
        while (e) {
            struct entry *next = e->next;
            size_t j = e->hash & (n - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

/* The link pointing at the entry for 'key' (or at the NULL ending its chain). */
static struct entry **find_link(const struct strmap *m, const char *key, uint64_t h)
{
    struct entry **link = &m->buckets[h & (m->nbuckets - 1)];
    while (*link && ((*link)->hash != h || strcmp((*link)->key, key) != 0))
        link = &(*link)->next;
    return link;
}

int strmap_put(struct strmap *m, const char *key, void *value)
{
    uint64_t h = hash_key(m, key);
    struct entry **link = find_link(m, key, h);
    if (*link)
        return 1;
    size_t len = strlen(key);
    struct entry *e = malloc(sizeof *e + len + 1);
    if (!e)
        return -1;
    memcpy(e->key, key, len + 1);
    e->hash = h;
    e->value = value;
    e->next = NULL;
    *link = e;
    if (++m->count > m->nbuckets)
        grow(m);
    return 0;
}

void *strmap_get(const struct strmap *m, const char *key)
{
    struct entry *e = *find_link(m, key, hash_key(m, key));
    return e ? e->value : NULL;
}

void *strmap_remove(struct strmap *m, const char *key)
{
    struct entry **link = find_link(m, key, hash_key(m, key));
    struct entry *e = *link;
    if (!e)
        return NULL;
    void *value = e->value;
    *link = e->next;
    free(e);
    m->count--;
    return value;
}

size_t strmap_count(const struct strmap *m)
{
    return m->count;
}
