/*
 * redis.c - per-thread Redis connections. See redis.h.
 */
#include "core/redis.h"
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct redis_url g_url;
static int g_configured;
static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void conn_free(void *p)
{
    if (p)
        redisFree(p);
}

static void make_key(void)
{
    pthread_key_create(&g_key, conn_free);
}

int redis_parse_url(const char *url, struct redis_url *out)
{
    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (!url || strncmp(url, "redis://", 8))
        return -1;
    const char *p = url + 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        size_t n = (size_t)(at - pw);
        if (n >= sizeof out->password)
            return -1;
        memcpy(out->password, pw, n);
        out->password[n] = '\0';
        p = at + 1;
    }
    size_t hn = strcspn(p, ":/");
    if (hn == 0 || hn >= sizeof out->host)
        return -1;
    memcpy(out->host, p, hn);
    out->host[hn] = '\0';
    p += hn;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port <= 0 || port > 65535)
            return -1;
        out->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1]) {
        char *end;
        long db = strtol(p + 1, &end, 10);
        if (end == p + 1 || *end || db < 0 || db > 15)
            return -1;
        out->db = (int)db;
    } else if (*p && strcmp(p, "/")) {
        return -1;
    }
    return 0;
}

int redis_configure(const char *url)
{
    pthread_once(&g_once, make_key);
    if (redis_parse_url(url, &g_url) != 0) {
        log_error("REDIS_URL is not a valid redis:// URL");
        return -1;
    }
    g_configured = 1;
    return 0;
}

void redis_disconnect(void)
{
    pthread_once(&g_once, make_key);
    redisContext *c = pthread_getspecific(g_key);
    if (c) {
        pthread_setspecific(g_key, NULL);
        redisFree(c);
    }
}

/* Run one setup command (AUTH, SELECT); 0 when it succeeds. */
static int setup_cmd(redisContext *c, const char *fmt, const char *arg)
{
    redisReply *r = redisCommand(c, fmt, arg);
    int ok = r && r->type != REDIS_REPLY_ERROR;
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

/* While Redis is down every request that asks it something fails to
 * connect; one warning per WARN_EVERY_S seconds says so without flooding
 * the log. */
#define WARN_EVERY_S 10
static _Atomic long long g_last_warn;

static bool warn_now(void)
{
    long long now = (long long)time(NULL), last = atomic_load(&g_last_warn);
    return now - last >= WARN_EVERY_S && atomic_compare_exchange_strong(&g_last_warn, &last, now);
}

static redisContext *conn_get(void)
{
    pthread_once(&g_once, make_key);
    if (!g_configured)
        return NULL;
    redisContext *c = pthread_getspecific(g_key);
    if (c)
        return c;
    struct timeval tv = {1, 0};
    c = redisConnectWithTimeout(g_url.host, g_url.port, tv);
    if (!c || c->err) {
        if (warn_now())
            log_warn("redis connect %s:%d failed: %s", g_url.host, g_url.port,
                     c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    char db[16];
    snprintf(db, sizeof db, "%d", g_url.db);
    if ((g_url.password[0] && setup_cmd(c, "AUTH %s", g_url.password) != 0) ||
        (g_url.db && setup_cmd(c, "SELECT %s", db) != 0)) {
        log_warn("redis AUTH/SELECT failed");
        redisFree(c);
        return NULL;
    }
    pthread_setspecific(g_key, c);
    return c;
}

/* After a failed call the context is unusable (hiredis sets c->err): drop
 * it so the next call reconnects. Returns the reply or NULL. */
static redisReply *checked(redisContext *c, void *reply)
{
    if (!reply || c->err) {
        if (warn_now())
            log_warn("redis command failed: %s", c->errstr[0] ? c->errstr : "no reply");
        if (reply)
            freeReplyObject(reply);
        redis_disconnect();
        return NULL;
    }
    return reply;
}

/* True when the thread already holds a connection (it may have gone stale:
 * Redis restarted, or closed it as idle). */
static int has_conn(void)
{
    pthread_once(&g_once, make_key);
    return pthread_getspecific(g_key) != NULL;
}

redisReply *redis_cmd(const char *fmt, ...)
{
    /* A kept connection that fails is retried once on a fresh one, so the
     * first command after a Redis restart does not fail needlessly. The
     * retry could repeat a command whose reply was lost in flight; for the
     * counters and caches kept here that is harmless. */
    for (int attempt = 0; attempt < 2; attempt++) {
        int reused = has_conn();
        redisContext *c = conn_get();
        if (!c)
            return NULL;
        va_list ap;
        va_start(ap, fmt);
        redisReply *r = checked(c, redisvCommand(c, fmt, ap));
        va_end(ap);
        if (r || !reused)
            return r;
    }
    return NULL;
}

redisReply *redis_cmd_argv(int argc, const char **argv, const size_t *lens)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int reused = has_conn();
        redisContext *c = conn_get();
        if (!c)
            return NULL;
        redisReply *r = checked(c, redisCommandArgv(c, argc, argv, lens));
        if (r || !reused)
            return r;
    }
    return NULL;
}

int redis_ping(void)
{
    redisReply *r = redis_cmd("PING");
    int ok = r && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "PONG");
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}
