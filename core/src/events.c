/*
 * events.c - domain events: lifecycle, emitting into the outbox, envelopes.
 * See core/events.h for the contract and events_internal.h for how the
 * module is split (relay and consumer threads live in their own files).
 *
 * Threads: events_start() spawns the relay and one consumer per subscription.
 * They share only the read-only configuration, the stop flag (an atomic plus a
 * condition variable so sleeps end at once on events_stop()) and the relay's
 * readiness (under a mutex).
 */
#include "events_internal.h"

#include "core/db.h"
#include "core/http.h"
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_wake;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static atomic_bool g_stop;

/* g_lock protects g_started, g_ready and g_why. The configuration and the
 * subscriptions are written only while no event thread runs (before
 * events_start() spawns them, after events_stop() joined them). */
static bool g_started;
static bool g_ready;
static char g_why[128] = "events not started";
static struct events_config g_cfg;
static pthread_t g_relay;
static bool g_relay_started;
static struct events_sub *g_subs;
static pthread_t *g_sub_threads;
static size_t g_nsubs, g_nthreads;

/* The envelope source; a fixed buffer (not freed by events_stop) so a late
 * events_emit() on another thread never reads freed memory. */
static char g_source[64] = "unknown";

static _Thread_local char t_traceparent[56];

/* ------------------------------------------------------------------------ */
/* stop flag, sleeps, backoff                                                */

/* Sleeps wait on a CLOCK_MONOTONIC condition so wall-clock jumps cannot
 * stretch or cut them. */
static void init_cond(void)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a) != 0 || pthread_condattr_setclock(&a, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&g_wake, &a) != 0) {
        /* Without a monotonic condition sleeps would be unbounded: fail hard. */
        log_error("events: cannot create the stop condition");
        abort();
    }
    pthread_condattr_destroy(&a);
}

bool events_stopping(void)
{
    return atomic_load(&g_stop);
}

static struct timespec deadline_after(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int events_sleep(long ms)
{
    pthread_once(&g_once, init_cond);
    struct timespec until = deadline_after(ms);
    pthread_mutex_lock(&g_lock);
    int rc = 0;
    while (!atomic_load(&g_stop) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&g_wake, &g_lock, &until);
    pthread_mutex_unlock(&g_lock);
    return atomic_load(&g_stop) ? -1 : 0;
}

void events_backoff_reset(struct events_backoff *b)
{
    b->ms = BACKOFF_MIN_MS;
}

int events_backoff_wait(struct events_backoff *b)
{
    if (b->ms < BACKOFF_MIN_MS)
        b->ms = BACKOFF_MIN_MS;
    long ms = b->ms;
    b->ms = ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
    return events_sleep(ms);
}

/* ------------------------------------------------------------------------ */
/* readiness                                                                 */

void events_set_ready(bool ready, const char *why)
{
    pthread_mutex_lock(&g_lock);
    g_ready = ready;
    snprintf(g_why, sizeof g_why, "%s", ready ? "" : (why ? why : "unknown"));
    pthread_mutex_unlock(&g_lock);
}

bool events_ready(char *why, size_t n)
{
    pthread_mutex_lock(&g_lock);
    bool ready = g_ready;
    if (why && n)
        snprintf(why, n, "%s", g_why);
    pthread_mutex_unlock(&g_lock);
    return ready;
}

/* ------------------------------------------------------------------------ */
/* envelope and emit                                                         */

/* Set key to a string, or to null when 's' is NULL or empty. */
static int set_str_or_null(json_t *o, const char *key, const char *s)
{
    return json_object_set_new(o, key, s && *s ? json_string(s) : json_null());
}

json_t *events_envelope(const char *id, const char *routing_key, const char *source,
                        const char *occurred_at, const char *request_id, const char *traceparent,
                        json_t *data)
{
    if (!id || !routing_key || !source || !occurred_at)
        return NULL;
    json_t *o = json_object();
    if (!o)
        return NULL;
    /* Only a well-formed traceparent travels on: a garbled one would break
     * every consumer's attempt to continue the trace. */
    bool tp_ok = http_traceparent_valid(traceparent);
    char trace_id[33] = "";
    if (tp_ok)
        snprintf(trace_id, sizeof trace_id, "%.32s", traceparent + 3);
    int rc = json_object_set_new(o, "id", json_string(id));
    rc |= json_object_set_new(o, "type", json_string(routing_key));
    rc |= json_object_set_new(o, "source", json_string(source));
    rc |= json_object_set_new(o, "occurredAt", json_string(occurred_at));
    rc |= set_str_or_null(o, "requestId", request_id);
    rc |= set_str_or_null(o, "traceparent", tp_ok ? traceparent : NULL);
    rc |= set_str_or_null(o, "traceId", trace_id);
    rc |= data ? json_object_set(o, "data", data) : json_object_set_new(o, "data", json_object());
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Now as UTC ISO 8601 with milliseconds ("2024-05-01T12:00:00.123Z"). */
static void now_iso8601(char out[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + k, 32 - k, ".%03ldZ", ts.tv_nsec / 1000000L);
}

void events_set_traceparent(const char *traceparent)
{
    snprintf(t_traceparent, sizeof t_traceparent, "%s", traceparent ? traceparent : "");
}

/* The traceparent for an event emitted now. log.h keeps only the trace id, so
 * the event continues that trace with a fresh span id; a consumer thread
 * handling an event knows the full parent and continues it. Without any
 * context the event starts a new trace, so consumers' logs still correlate. */
static void current_traceparent(char out[56])
{
    const char *trace = log_trace_id();
    char parent[56] = "";
    if (http_traceparent_valid(t_traceparent) && !strncmp(t_traceparent + 3, trace, 32))
        snprintf(parent, sizeof parent, "%s", t_traceparent);
    else if (strlen(trace) == 32)
        snprintf(parent, sizeof parent, "00-%s-0000000000000001-01", trace);
    http_traceparent_child(parent, out);
}

/* The envelope for an event emitted now by this thread; caller owns it. */
static json_t *new_envelope(const char *routing_key, json_t *data, char id[37])
{
    char at[32], tp[56];
    http_uuid4(id);
    now_iso8601(at);
    current_traceparent(tp);
    return events_envelope(id, routing_key, g_source, at, log_request_id(), tp, data);
}

/* INSERT the serialized envelope. clock_timestamp(), not now(): rows of one
 * transaction then keep the order they were emitted in. */
static int insert_outbox(const char *id, const char *routing_key, const char *payload)
{
    const char *p[] = {id, routing_key, payload};
    PGresult *r = db_exec("events_outbox_insert",
                          "INSERT INTO outbox (id, routing_key, payload, created_at) "
                          "VALUES ($1, $2, $3::jsonb, clock_timestamp())",
                          3, p);
    int rc = db_ok(r) ? 0 : -1;
    PQclear(r);
    return rc;
}

/* Wake the relay; the notification is delivered when the transaction commits. */
static int notify_relay(void)
{
    PGresult *r = db_exec("events_outbox_notify", "SELECT pg_notify('outbox', '')", 0, NULL);
    int rc = db_ok(r) ? 0 : -1;
    PQclear(r);
    return rc;
}

int events_emit(const char *routing_key, json_t *data)
{
    /* AMQP routing keys are short strings: at most 255 bytes. */
    if (!routing_key || !*routing_key || strlen(routing_key) > 255 ||
        (data && !json_is_object(data))) {
        log_error("events_emit: bad arguments (routing key %s)", routing_key ? routing_key : "-");
        return -1;
    }
    char id[37];
    json_t *env = new_envelope(routing_key, data, id);
    char *payload = env ? json_dumps(env, JSON_COMPACT) : NULL;
    json_decref(env);
    if (!payload) {
        log_error("events_emit: cannot build the envelope of %s", routing_key);
        return -1;
    }
    int rc = insert_outbox(id, routing_key, payload);
    free(payload);
    if (rc == 0)
        rc = notify_relay();
    if (rc != 0)
        log_error("events_emit: cannot write %s %s to the outbox", routing_key, id);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* subscriptions                                                             */

static void free_strv(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

/* A NULL-terminated deep copy of 'keys'; caller frees with free_strv. */
static char **copy_keys(const char *const *keys)
{
    size_t n = 0;
    while (keys[n])
        n++;
    char **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
        v[i] = strdup(keys[i]);
        if (!v[i]) {
            free_strv(v);
            return NULL;
        }
    }
    return v;
}

static void free_sub(struct events_sub *s)
{
    free(s->queue);
    free(s->name);
    free_strv(s->keys);
}

static bool valid_sub_args(const char *name, const char *const *keys, event_handler_fn fn)
{
    return name && *name && keys && keys[0] && fn;
}

int events_subscribe(const char *name, const char *const *keys, event_handler_fn fn,
                     void *user_data)
{
    if (!valid_sub_args(name, keys, fn)) {
        log_error("events_subscribe: bad arguments");
        return -1;
    }
    struct events_sub s = {
        .name = strdup(name), .keys = copy_keys(keys), .fn = fn, .user_data = user_data};
    pthread_mutex_lock(&g_lock);
    struct events_sub *grown = NULL;
    if (!g_started && s.name && s.keys)
        grown = realloc(g_subs, (g_nsubs + 1) * sizeof *g_subs);
    if (grown) {
        g_subs = grown;
        g_subs[g_nsubs++] = s;
    }
    bool started = g_started;
    pthread_mutex_unlock(&g_lock);
    if (!grown) {
        log_error("events_subscribe %s: %s", name, started ? "already started" : "out of memory");
        free_sub(&s);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* start / stop                                                              */

static void free_config(void)
{
    free((char *)g_cfg.service);
    free((char *)g_cfg.exchange);
    free((char *)g_cfg.conninfo);
    memset(&g_cfg, 0, sizeof g_cfg);
}

/* Copy the arguments into g_cfg. */
static int set_config(const char *service, const char *amqp_url, const char *exchange,
                      const char *db_conninfo)
{
    if (!service || !*service || !exchange || !*exchange || !db_conninfo ||
        events_parse_amqp_url(amqp_url, &g_cfg.url) != 0) {
        log_error("events_start: bad arguments (service, exchange, database or AMQP URL)");
        return -1;
    }
    g_cfg.service = strdup(service);
    g_cfg.exchange = strdup(exchange);
    g_cfg.conninfo = strdup(db_conninfo);
    if (!g_cfg.service || !g_cfg.exchange || !g_cfg.conninfo) {
        free_config();
        return -1;
    }
    snprintf(g_source, sizeof g_source, "%s", service);
    return 0;
}

/* Name every subscription's queue "<service>.<name>". */
static int name_queues(void)
{
    for (size_t i = 0; i < g_nsubs; i++) {
        g_subs[i].cfg = &g_cfg;
        if (asprintf(&g_subs[i].queue, "%s.%s", g_cfg.service, g_subs[i].name) < 0) {
            g_subs[i].queue = NULL;
            return -1;
        }
    }
    return 0;
}

static int spawn_threads(void)
{
    if (pthread_create(&g_relay, NULL, events_relay_main, &g_cfg) != 0)
        return -1;
    g_relay_started = true;
    g_sub_threads = calloc(g_nsubs ? g_nsubs : 1, sizeof *g_sub_threads);
    if (!g_sub_threads)
        return -1;
    for (; g_nthreads < g_nsubs; g_nthreads++)
        if (pthread_create(&g_sub_threads[g_nthreads], NULL, events_consumer_main,
                           &g_subs[g_nthreads]) != 0)
            return -1;
    return 0;
}

int events_start(const char *service, const char *amqp_url, const char *exchange,
                 const char *db_conninfo)
{
    pthread_once(&g_once, init_cond);
    pthread_mutex_lock(&g_lock);
    bool already = g_started;
    pthread_mutex_unlock(&g_lock);
    if (already) {
        log_error("events_start: already started");
        return -1;
    }
    if (set_config(service, amqp_url, exchange, db_conninfo) != 0 || name_queues() != 0) {
        free_config();
        return -1;
    }
    events_set_ready(false, "connecting to RabbitMQ");
    atomic_store(&g_stop, false);
    pthread_mutex_lock(&g_lock);
    g_started = true;
    pthread_mutex_unlock(&g_lock);
    if (spawn_threads() != 0) {
        log_error("events_start: cannot start threads");
        events_stop();
        return -1;
    }
    log_info("events: relay and %zu consumer(s) started on exchange %s", g_nsubs, exchange);
    return 0;
}

static void join_threads(void)
{
    for (size_t i = 0; i < g_nthreads; i++)
        pthread_join(g_sub_threads[i], NULL);
    free(g_sub_threads);
    g_sub_threads = NULL;
    g_nthreads = 0;
}

void events_stop(void)
{
    pthread_once(&g_once, init_cond);
    pthread_mutex_lock(&g_lock);
    bool started = g_started;
    atomic_store(&g_stop, true);
    pthread_cond_broadcast(&g_wake);
    pthread_mutex_unlock(&g_lock);
    if (started && g_relay_started)
        pthread_join(g_relay, NULL);
    g_relay_started = false;
    join_threads();
    for (size_t i = 0; i < g_nsubs; i++)
        free_sub(&g_subs[i]);
    free(g_subs);
    g_subs = NULL;
    g_nsubs = 0;
    free_config();
    pthread_mutex_lock(&g_lock);
    g_started = false;
    pthread_mutex_unlock(&g_lock);
    events_set_ready(false, "events stopped");
    atomic_store(&g_stop, false);
}
