/*
 * lockout.c - failed logins are slowed down, then locked, per account and
 * per client address, with counters in Redis (shared by every instance).
 *
 * Keys (TTL'd, nothing to clean up):
 *   auth:login:fails:<acct>      failures in the current LOGIN_WINDOW
 *   auth:login:lock:<acct>       present while locked (TTL = LOGIN_LOCK)
 *   auth:login:fails:ip:<addr>   same per client address
 *   auth:login:lock:ip:<addr>
 * Counting and locking run as one Lua script, so concurrent failures cannot
 * both miss the limit and a counter never lives without its expiry.
 *
 * Redis unreachable: FAIL CLOSED. A login that cannot be counted is refused
 * with 503 + Retry-After rather than allowed: otherwise an outage (or an
 * attacker who can cause one) would remove the brute-force limit entirely.
 * Only new logins are affected: refresh, logout and everything else in this
 * service do not need Redis, so signed-in users keep working.
 */
#include "auth_svc.h"

#include "core/log.h"
#include "core/redis.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void lockout_account_key(const char *user_id, const char *email, char out[80])
{
    if (user_id) {
        snprintf(out, 80, "u:%s", user_id);
        return;
    }
    /* Unknown account: key by the email, lower-cased (ASCII: a case variant
     * of a non-ASCII address of an account that does not exist protects
     * nothing), hashed so the key length is bounded whatever was sent. */
    size_t n = strlen(email);
    char lower[256];
    if (n >= sizeof lower)
        n = sizeof lower - 1;
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)tolower((unsigned char)email[i]);
    lower[n] = '\0';
    char digest[TOKEN_HASH_LEN + 1];
    token_digest(lower, digest);
    snprintf(out, 80, "e:%s", digest);
}

/* Seconds left on the longer of the two locks (<= 0: none). */
static const char CHECK_LUA[] =
    "local a = redis.call('TTL', KEYS[1]) local b = redis.call('TTL', KEYS[2]) "
    "if b > a then a = b end return a";

enum lock_state lockout_check(const char *account, const char *ip, long *retry_after)
{
    redisReply *r =
        redis_cmd("EVAL %s 2 auth:login:lock:%s auth:login:lock:ip:%s", CHECK_LUA, account, ip);
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        if (r) {
            log_warn("lockout check: unexpected Redis reply type %d", r->type);
            freeReplyObject(r);
        }
        return LOCK_UNAVAILABLE;
    }
    long long ttl = r->integer;
    freeReplyObject(r);
    if (ttl == -2) /* no lock key */
        return LOCK_OPEN;
    /* -1 (a lock without expiry) cannot come from our script; treat it as a
     * fresh lock rather than as no lock. */
    *retry_after = ttl > 0 ? (long)ttl : settings()->login_lock;
    return LOCK_LOCKED;
}

/* KEYS: acct fails, acct lock, ip fails, ip lock. ARGV: window, acct max,
 * ip max, lock seconds. Returns the account's count. */
static const char FAIL_LUA[] =
    "local function hit(fk, lk, max) "
    "  local n = redis.call('INCR', fk) "
    "  if n == 1 then redis.call('EXPIRE', fk, ARGV[1]) end "
    "  if n >= max then redis.call('SET', lk, '1', 'EX', ARGV[4]) redis.call('DEL', fk) end "
    "  return n "
    "end "
    "local a = hit(KEYS[1], KEYS[2], tonumber(ARGV[2])) "
    "hit(KEYS[3], KEYS[4], tonumber(ARGV[3])) "
    "return a";

long lockout_fail(const char *account, const char *ip)
{
    const struct auth_settings *s = settings();
    redisReply *r =
        redis_cmd("EVAL %s 4 auth:login:fails:%s auth:login:lock:%s auth:login:fails:ip:%s "
                  "auth:login:lock:ip:%s %ld %ld %ld %ld",
                  FAIL_LUA, account, account, ip, ip, s->login_window, s->login_max,
                  s->login_ip_max, s->login_lock);
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        if (r) {
            log_warn("lockout count: unexpected Redis reply type %d", r->type);
            freeReplyObject(r);
        }
        return -1;
    }
    long n = (long)r->integer;
    freeReplyObject(r);
    return n;
}

void lockout_clear_account(const char *account)
{
    redisReply *r = redis_cmd("DEL auth:login:fails:%s auth:login:lock:%s", account, account);
    if (!r || r->type == REDIS_REPLY_ERROR)
        log_warn("could not clear the failed-login counter of %s", account);
    if (r)
        freeReplyObject(r);
}

long lockout_delay_ms(long failures)
{
    /* The first failure is a typo and answers at once; then 150 ms more per
     * failure, at most 1 s, so guessing is slowed long before the lock
     * without tying up a worker thread for long. */
    if (failures <= 1)
        return 0;
    long ms = (failures - 1) * 150;
    return ms > 1000 ? 1000 : ms;
}
