/*
 * cache.c - the catalog's Redis read cache. See catalog.h for the contract.
 *
 * Keys: "catalog:cache:<version>:<key>". The version is one counter
 * ("catalog:cache:version") that every committed write increments, so one
 * INCR retires every cached read at once, lists and searches included,
 * without tracking which pages a product appears on; the retired entries
 * simply expire. A read costs two round trips (version, then entry).
 *
 * Failure: when Redis does not answer, reads go to PostgreSQL. Should the
 * INCR after a write fail, cached reads could be stale for up to
 * CATALOG_CACHE_TTL seconds; that is logged as an error, and the TTL keeps
 * it short.
 */
#include "catalog.h"

#include "core/config.h"
#include "core/log.h"
#include "core/redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION_KEY "catalog:cache:version"

static long ttl_seconds(void)
{
    return config_long("CATALOG_CACHE_TTL", 60, 0, 86400);
}

/* The current cache version, or -1 when Redis cannot say. */
static long long version(void)
{
    redisReply *r = redis_cmd("GET " VERSION_KEY);
    long long v = -1;
    if (r && r->type == REDIS_REPLY_NIL)
        v = 0;
    else if (r && r->type == REDIS_REPLY_STRING)
        v = strtoll(r->str, NULL, 10);
    if (r)
        freeReplyObject(r);
    return v;
}

/* "catalog:cache:<version>:<key>" (caller frees), or NULL. */
static char *full_key(const char *key)
{
    long long v = version();
    char *k = NULL;
    if (v < 0 || asprintf(&k, "catalog:cache:%lld:%s", v, key) < 0)
        return NULL;
    return k;
}

char *cache_get(const char *key, size_t *len)
{
    if (ttl_seconds() == 0)
        return NULL;
    char *k = full_key(key);
    if (!k)
        return NULL;
    redisReply *r = redis_cmd("GET %s", k);
    free(k);
    char *text = NULL;
    if (r && r->type == REDIS_REPLY_STRING && (text = malloc(r->len + 1))) {
        memcpy(text, r->str, r->len);
        text[r->len] = '\0';
        *len = r->len;
    }
    if (r)
        freeReplyObject(r);
    return text;
}

void cache_put(const char *key, const char *text, size_t len)
{
    long ttl = ttl_seconds();
    if (ttl == 0)
        return;
    char *k = full_key(key);
    if (!k)
        return;
    redisReply *r = redis_cmd("SET %s %b EX %ld", k, text, len, ttl);
    free(k);
    if (r)
        freeReplyObject(r);
}

void cache_invalidate(void)
{
    redisReply *r = redis_cmd("INCR " VERSION_KEY);
    if (!r || r->type != REDIS_REPLY_INTEGER)
        log_error("catalog cache: INCR %s failed; cached reads may be stale for up to %ld s",
                  VERSION_KEY, ttl_seconds());
    if (r)
        freeReplyObject(r);
}
