/*
 * ratelimit.c - request budgets kept in Redis, shared by every gateway
 * thread and instance.
 *
 * Buckets (one per request):
 *   auth  POST /auth/login and /auth/register, per client address:
 *         RATE_LIMIT_AUTH_MAX per window (guard_routes.c lists them)
 *   user  requests with a valid bearer token, per user id (token subject):
 *         RATE_LIMIT_USER_MAX
 *   ip    other requests, per client address: RATE_LIMIT_ANON_MAX
 * The window is RATE_LIMIT_WINDOW seconds. The client address is the TCP
 * peer; with TRUST_PROXY on, the last X-Forwarded-For entry (the one the
 * trusted proxy in front appended) instead, since the peer is that proxy.
 *
 * Algorithm: GCRA (the generic cell rate algorithm, as in redis-cell), in one
 * Lua script, so the read-modify-write is atomic across threads and gateway
 * instances. A bucket is a single key holding its "theoretical arrival
 * time" (TAT); each request moves it on by window/max, and a request is
 * refused when that would put the TAT more than one window ahead of now.
 * That allows a burst of 'max' requests and then a steady max/window, with
 * one small key per bucket that expires by itself when the bucket is full
 * again. A sliding-window log would count exactly "max in any window" but
 * keep one sorted-set entry per request (600 per active user); a fixed
 * window lets 2 x max through around the window's edge. The clock is Redis's
 * (TIME), so gateways with skewed clocks share buckets correctly.
 *
 * Every counted response carries RateLimit-Limit, RateLimit-Remaining and
 * RateLimit-Reset (seconds until the bucket is full again); a refused one is
 * 429 problem+json with Retry-After (seconds until one request fits).
 *
 * The handler never blocks its event loop: it sends EVALSHA (EVAL when Redis
 * answers NOSCRIPT, e.g. after a restart) over the thread's non-blocking
 * connection (redis_conn.c), returns 0, and the reply (or the
 * RATE_LIMIT_REDIS_TIMEOUT_MS timeout) continues the request.
 *
 * Redis unavailable (down, slow, or erroring): the request passes unchecked
 * -- the limiter fails open. The shop stays up when the one Redis does not;
 * brute force on passwords is still held by the auth service's own login
 * lockout, which fails closed; and every service still checks every token.
 * Each such request counts in gateway_ratelimit_unavailable_total, and a
 * warning is logged at most once per 30 s.
 */
#include "gateway.h"

#include "guard_routes.h"
#include "redis_conn.h"

#include "core/config.h"
#include "core/log.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define ENV_STATE "gw.rl"
#define WARN_EVERY_S 30
#define MAX_ID_LEN 64 /* user ids are UUIDs; addresses are shorter */

/* KEYS[1] bucket; ARGV[1] max requests per window, ARGV[2] window in ms.
 * Times in microseconds (exact in Lua's doubles). Returns {allowed,
 * remaining, reset ms, retry-after ms}. */
static const char script[] =
    "local limit = tonumber(ARGV[1])\n"
    "local window = tonumber(ARGV[2]) * 1000\n"
    "local interval = math.floor(window / limit)\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now\n"
    "if tat < now then tat = now end\n"
    "local new_tat = tat + interval\n"
    "local allow_at = new_tat - window\n"
    "if allow_at > now then\n"
    "  return {0, 0, math.ceil((tat - now) / 1000), math.ceil((allow_at - now) / 1000)}\n"
    "end\n"
    "redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX',\n"
    "           math.ceil((new_tat - now) / 1000))\n"
    "return {1, math.floor((now - allow_at) / interval), math.ceil((new_tat - now) / 1000), 0}\n";

enum bucket { B_IP, B_USER, B_AUTH };
static const char *const bucket_names[] = {"ip", "user", "auth"};
static const enum gw_guard_counter bucket_counters[] = {GW_C_RL_IP, GW_C_RL_USER, GW_C_RL_AUTH};

static struct {
    bool enabled;
    long window_s;
    long max[3]; /* by enum bucket */
    uint64_t timeout_ms;
    const char *prefix;
    char sha[41];
    char window_ms[24];
    char max_text[3][24];
} g;

static _Atomic long g_last_warn;

struct ratelimit_handler {
    h2o_handler_t super;
};

/* Per request, in its pool; released with it (on_state_dispose). */
struct rl_state {
    h2o_req_t *req;
    struct ratelimit_handler *self;
    struct gw_redis_call *call; /* non-NULL while Redis owes us a reply */
    h2o_timeout_entry_t timeout;
    enum bucket bucket;
    h2o_iovec_t key;
    bool tried_eval, counted;
    long remaining, reset_s;
};

/* ---- settings ------------------------------------------------------------ */

static int script_sha1(char out[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(script, sizeof script - 1, md, &n, EVP_sha1(), NULL) != 1 || n != 20)
        return -1;
    for (unsigned i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

int gw_ratelimit_init(void)
{
    g.enabled = config_bool("RATE_LIMIT_ENABLED", true);
    g.window_s = config_long("RATE_LIMIT_WINDOW", 60, 1, 86400);
    g.max[B_IP] = config_long("RATE_LIMIT_ANON_MAX", 120, 1, 1000000);
    g.max[B_USER] = config_long("RATE_LIMIT_USER_MAX", 600, 1, 1000000);
    g.max[B_AUTH] = config_long("RATE_LIMIT_AUTH_MAX", 10, 1, 1000000);
    g.timeout_ms = (uint64_t)config_long("RATE_LIMIT_REDIS_TIMEOUT_MS", 50, 1, 10000);
    g.prefix = config_str("RATE_LIMIT_PREFIX", "gw:rl:");
    snprintf(g.window_ms, sizeof g.window_ms, "%ld", g.window_s * 1000);
    for (int b = 0; b < 3; b++)
        snprintf(g.max_text[b], sizeof g.max_text[b], "%ld", g.max[b]);
    if (!g.enabled) {
        log_warn("rate limits are off (RATE_LIMIT_ENABLED=false)");
        return 0;
    }
    if (script_sha1(g.sha) != 0) {
        log_error("cannot hash the rate-limit script");
        return -1;
    }
    return gw_redis_configure(config_str("REDIS_URL", "redis://127.0.0.1:6379/0"));
}

bool gw_ratelimit_enabled(void)
{
    return g.enabled;
}

/* ---- per thread ---------------------------------------------------------- */

void gw_ratelimit_worker_init(struct gw_worker *w)
{
    if (!g.enabled)
        return;
    h2o_timeout_init(w->loop, &w->ratelimit_timeout, g.timeout_ms);
    w->redis = gw_redis_conn_new(w->loop); /* NULL (OOM): every request fails open */
}

void gw_ratelimit_worker_dispose(struct gw_worker *w)
{
    if (!g.enabled)
        return;
    gw_redis_conn_free(w->redis);
    w->redis = NULL;
    h2o_timeout_dispose(w->loop, &w->ratelimit_timeout);
}

/* ---- the request's bucket ------------------------------------------------ */

/* The last entry of X-Forwarded-For when it looks like an address, else
 * an empty vector. */
static h2o_iovec_t forwarded_for(h2o_req_t *req)
{
    ssize_t i = -1, last = -1;
    while ((i = h2o_find_header(&req->headers, H2O_TOKEN_X_FORWARDED_FOR, i)) != -1)
        last = i;
    if (last == -1)
        return h2o_iovec_init(NULL, 0);
    h2o_iovec_t v = req->headers.entries[last].value;
    size_t start = v.len;
    while (start > 0 && v.base[start - 1] != ',')
        start--;
    h2o_iovec_t t = h2o_str_stripws(v.base + start, v.len - start);
    if (t.len == 0 || t.len > 45 || strspn(t.base, "0123456789abcdefABCDEF:.") < t.len)
        return h2o_iovec_init(NULL, 0);
    return t;
}

/* The client's address as text in the request pool ("unknown" if none). */
static h2o_iovec_t client_address(h2o_req_t *req)
{
    if (gw_settings.trust_proxy) {
        h2o_iovec_t f = forwarded_for(req);
        if (f.len)
            return f;
    }
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    char *buf = h2o_mem_alloc_pool(&req->pool, NI_MAXHOST);
    size_t n = len ? h2o_socket_getnumerichost((struct sockaddr *)&ss, len, buf) : SIZE_MAX;
    if (n == SIZE_MAX)
        return h2o_iovec_init(H2O_STRLIT("unknown"));
    return h2o_iovec_init(buf, n);
}

static void choose_bucket(struct rl_state *st)
{
    h2o_req_t *req = st->req;
    h2o_iovec_t m = req->method, p = req->path_normalized;
    const h2o_iovec_t *user = gw_user_id(req);
    h2o_iovec_t id;
    if (gw_route_is_auth_strict(m.base, m.len, p.base, p.len)) {
        st->bucket = B_AUTH;
        id = client_address(req);
    } else if (user && user->len > 0 && user->len <= MAX_ID_LEN) {
        st->bucket = B_USER;
        id = *user;
    } else {
        st->bucket = B_IP;
        id = client_address(req);
    }
    st->key = h2o_concat(&req->pool, h2o_iovec_init(g.prefix, strlen(g.prefix)),
                         h2o_iovec_init(bucket_names[st->bucket], strlen(bucket_names[st->bucket])),
                         h2o_iovec_init(H2O_STRLIT(":")), id);
}

/* ---- outcomes ------------------------------------------------------------ */

static void warn_unavailable(const char *why)
{
    long now = (long)time(NULL), last = atomic_load(&g_last_warn);
    if (now - last >= WARN_EVERY_S && atomic_compare_exchange_strong(&g_last_warn, &last, now))
        log_warn("rate limits not enforced (failing open): %s", why);
}

static void count_unavailable(const char *why)
{
    gw_guard_count(GW_C_RL_UNAVAILABLE);
    warn_unavailable(why);
}

/* Let a deferred request through unchecked. */
static void pass_unchecked(struct rl_state *st, const char *why)
{
    count_unavailable(why);
    h2o_delegate_request(st->req, &st->self->super);
}

static void send_limited(struct rl_state *st, long retry_ms)
{
    h2o_req_t *req = st->req;
    long retry_s = (retry_ms + 999) / 1000;
    if (retry_s < 1)
        retry_s = 1;
    char retry[24], detail[160];
    snprintf(retry, sizeof retry, "%ld", retry_s);
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, retry, strlen(retry), 1);
    snprintf(detail, sizeof detail, "rate limit of %ld requests per %ld s for this %s exceeded",
             g.max[st->bucket], g.window_s, st->bucket == B_USER ? "user" : "client address");
    gw_guard_count(bucket_counters[st->bucket]);
    gw_send_problem(req, 429, detail);
}

static bool integer_at(const redisReply *r, size_t i, long *out)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 4 ||
        r->element[i]->type != REDIS_REPLY_INTEGER)
        return false;
    *out = (long)r->element[i]->integer;
    return true;
}

static bool start_call(struct rl_state *st, bool eval);

static void on_reply(void *data, redisReply *reply)
{
    struct rl_state *st = data;
    st->call = NULL;
    if (h2o_timeout_is_linked(&st->timeout))
        h2o_timeout_unlink(&st->timeout);
    if (!reply) {
        pass_unchecked(st, "Redis connection failed");
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR && !st->tried_eval &&
        !strncmp(reply->str, "NOSCRIPT", 8)) {
        if (!start_call(st, true))
            pass_unchecked(st, "Redis unavailable");
        return;
    }
    long allowed, remaining, reset_ms, retry_ms;
    if (!integer_at(reply, 0, &allowed) || !integer_at(reply, 1, &remaining) ||
        !integer_at(reply, 2, &reset_ms) || !integer_at(reply, 3, &retry_ms)) {
        pass_unchecked(st, reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        return;
    }
    st->counted = true;
    st->remaining = remaining < 0 ? 0 : remaining;
    st->reset_s = (reset_ms + 999) / 1000;
    if (allowed)
        h2o_delegate_request(st->req, &st->self->super);
    else
        send_limited(st, retry_ms);
}

static void on_timeout(h2o_timeout_entry_t *entry)
{
    struct rl_state *st = H2O_STRUCT_FROM_MEMBER(struct rl_state, timeout, entry);
    if (st->call) {
        gw_redis_call_detach(st->call);
        st->call = NULL;
    }
    pass_unchecked(st, "Redis did not answer in time");
}

/* Send EVALSHA (or EVAL) for the request's bucket; false when Redis is
 * unavailable right now. */
static bool start_call(struct rl_state *st, bool eval)
{
    struct gw_worker *w = gw_worker_of(st->req->conn->ctx);
    const char *argv[] = {eval ? "EVAL" : "EVALSHA",
                          eval ? script : g.sha,
                          "1",
                          st->key.base,
                          g.max_text[st->bucket],
                          g.window_ms};
    size_t lens[6];
    for (int i = 0; i < 6; i++)
        lens[i] = i == 3 ? st->key.len : strlen(argv[i]);
    st->tried_eval = eval;
    st->call = w->redis ? gw_redis_conn_call(w->redis, 6, argv, lens, on_reply, st) : NULL;
    if (!st->call)
        return false;
    h2o_timeout_link(w->loop, &w->ratelimit_timeout, &st->timeout);
    return true;
}

/* The request is being freed (maybe while waiting: the client left). */
static void on_state_dispose(void *p)
{
    struct rl_state *st = p;
    if (st->call)
        gw_redis_call_detach(st->call);
    if (h2o_timeout_is_linked(&st->timeout))
        h2o_timeout_unlink(&st->timeout);
}

static int on_req(h2o_handler_t *_self, h2o_req_t *req)
{
    struct rl_state *st = h2o_mem_alloc_shared(&req->pool, sizeof *st, on_state_dispose);
    *st = (struct rl_state){.req = req, .self = (struct ratelimit_handler *)_self};
    st->timeout.cb = on_timeout;
    choose_bucket(st);
    *h2o_req_getenv(req, H2O_STRLIT(ENV_STATE), 1) = h2o_iovec_init((char *)st, sizeof *st);
    if (!start_call(st, false)) {
        count_unavailable("Redis unavailable");
        return -1;
    }
    return 0; /* on_reply or on_timeout goes on */
}

/* RateLimit-* on every response whose request was counted. */
static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    const h2o_iovec_t *v = h2o_req_getenv(req, H2O_STRLIT(ENV_STATE), 0);
    const struct rl_state *st = v ? (const struct rl_state *)v->base : NULL;
    if (st && st->counted) {
        char limit[24], remaining[24], reset[24];
        snprintf(limit, sizeof limit, "%ld", g.max[st->bucket]);
        snprintf(remaining, sizeof remaining, "%ld", st->remaining);
        snprintf(reset, sizeof reset, "%ld", st->reset_s);
        h2o_iovec_t values[] = {h2o_strdup(&req->pool, limit, SIZE_MAX),
                                h2o_strdup(&req->pool, remaining, SIZE_MAX),
                                h2o_strdup(&req->pool, reset, SIZE_MAX)};
        static const char *const names[] = {"ratelimit-limit", "ratelimit-remaining",
                                            "ratelimit-reset"};
        for (int i = 0; i < 3; i++)
            h2o_set_header_by_str(&req->pool, &req->res.headers, names[i], strlen(names[i]), 1,
                                  values[i].base, values[i].len, 1);
    }
    h2o_setup_next_ostream(req, slot);
}

void gw_ratelimit_register(h2o_pathconf_t *pathconf)
{
    if (!g.enabled)
        return;
    struct ratelimit_handler *h =
        (struct ratelimit_handler *)h2o_create_handler(pathconf, sizeof *h);
    h->super.on_req = on_req;
    h2o_filter_t *f = h2o_create_filter(pathconf, sizeof *f);
    f->on_setup_ostream = on_setup_ostream;
}
