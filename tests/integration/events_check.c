/*
 * events_check.c - end-to-end check of the events module against a real
 * PostgreSQL and RabbitMQ (not a unit test: it needs both servers, and can
 * kill and restart them through the commands it is given).
 *
 * What it checks, in order:
 *   1. 100 events emitted in transactions, every 10th rolled back: exactly the
 *      90 committed ones are handled, each once, with the request id of the
 *      emitting request in the handler's log context.
 *   2. Forced redeliveries (the same message published twice by hand, and
 *      outbox rows reset so the relay publishes them again) have no second
 *      effect.
 *   3. A bad envelope and an event whose handler always fails end up in the
 *      dead-letter queue, the latter after 4 attempts.
 *   4. With EVCHECK_BROKER_KILL / EVCHECK_BROKER_START: events keep being
 *      emitted while RabbitMQ is killed (SIGKILL) and restarted; /ready goes
 *      false then true, and the relay catches up with nothing lost.
 *      With EVCHECK_BROKER_FREEZE / EVCHECK_BROKER_THAW (SIGSTOP/SIGCONT): the
 *      same for a broker that hangs without closing its sockets.
 *      With EVCHECK_IDLE_S=70: links survive idling past two heartbeat periods.
 *   5. With EVCHECK_PG_STOP / EVCHECK_PG_START: messages published while
 *      PostgreSQL is down are handled once it is back (no ack meanwhile).
 *   6. With EVCHECK_BENCH=N: N events emitted (100 per transaction), time
 *      until all are published and until all are handled.
 *   7. events_stop() returns promptly; under ASan, LeakSanitizer checks the exit.
 *
 * Build and run from the repository root (after `make FLAVOUR=test build/test/libcore.a`):
 *
 *   cc -std=c17 -D_GNU_SOURCE -Icore/include $(pkg-config --cflags jansson libpq librabbitmq) \
 *      -fsanitize=address,undefined -g -o build/test/events_check \
 *      tests/integration/events_check.c build/test/libcore.a \
 *      $(pkg-config --libs libulfius jansson libpq hiredis librabbitmq libsodium libjwt \
 *      libcurl) -lmicrohttpd -lpthread -lm
 *   EVCHECK_DB=postgresql://u:p@127.0.0.1:5999/db EVCHECK_AMQP=amqp://guest:guest@127.0.0.1:5998/ \
 *   EVCHECK_BROKER_KILL='...' EVCHECK_BROKER_START='...' build/test/events_check
 *
 * Exit status 0 when every check passed.
 */
#include "core/db.h"
#include "core/events.h"
#include "core/log.h"
#include "core/migrate.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SEQ 20000

static struct {
    pthread_mutex_t lock;
    int calls[MAX_SEQ]; /* handler invocations per seq */
    int committed[MAX_SEQ];
    int context_mismatch;
    int flaky_calls;
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static atomic_int g_next_seq;
static int g_failures;
static char g_service[64], g_exchange[64];

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            printf("  ok   ");                                                                     \
        } else {                                                                                   \
            printf("  FAIL ");                                                                     \
            g_failures++;                                                                          \
        }                                                                                          \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        fflush(stdout);                                                                            \
    } while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

/* ---- database helpers (calling thread's db.h connection) ---- */

static long scalar(const char *sql)
{
    PGresult *r = db_exec_raw(sql);
    long v = db_ok(r) && PQntuples(r) == 1 ? atol(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return v;
}

static int run_sql(const char *sql)
{
    PGresult *r = db_exec_raw(sql);
    int rc = db_ok(r) ? 0 : -1;
    PQclear(r);
    return rc;
}

/* ---- handlers ---- */

static int sink_handler(const char *key, json_t *event, void *user_data)
{
    (void)key;
    (void)user_data;
    json_t *data = json_object_get(event, "data");
    int seq = (int)json_integer_value(json_object_get(data, "seq"));
    if (seq < 0 || seq >= MAX_SEQ)
        return -1;
    const char *rid = json_string_value(json_object_get(event, "requestId"));
    char seqs[16];
    snprintf(seqs, sizeof seqs, "%d", seq);
    const char *p[] = {json_string_value(json_object_get(event, "id")), seqs};
    PGresult *r = db_exec("evcheck_handled",
                          "INSERT INTO evcheck_handled (event_id, seq) VALUES ($1, $2)", 2, p);
    int rc = db_ok(r) ? 0 : -1;
    PQclear(r);
    pthread_mutex_lock(&S.lock);
    S.calls[seq]++;
    if (rid && strcmp(rid, log_request_id()) != 0)
        S.context_mismatch++;
    pthread_mutex_unlock(&S.lock);
    return rc;
}

static int flaky_handler(const char *key, json_t *event, void *user_data)
{
    (void)key;
    (void)event;
    (void)user_data;
    pthread_mutex_lock(&S.lock);
    S.flaky_calls++;
    pthread_mutex_unlock(&S.lock);
    return -1;
}

/* ---- emitting ---- */

/* Emit 'n' check.created events in one transaction; commit or roll back. */
static int emit_tx(int n, bool commit)
{
    if (db_begin() != 0)
        return -1;
    int seqs[100];
    for (int i = 0; i < n; i++) {
        seqs[i] = atomic_fetch_add(&g_next_seq, 1);
        char rid[32], tid[33];
        snprintf(rid, sizeof rid, "req-%d", seqs[i]);
        snprintf(tid, sizeof tid, "%032x", seqs[i] + 1);
        log_set_context(rid, tid);
        json_t *data = json_pack("{s:i}", "seq", seqs[i]);
        int rc = events_emit("check.created", data);
        json_decref(data);
        log_clear_context();
        if (rc != 0) {
            db_rollback();
            return -1;
        }
    }
    if (!commit) {
        db_rollback();
        return 0;
    }
    if (db_commit() != 0)
        return -1;
    pthread_mutex_lock(&S.lock);
    for (int i = 0; i < n; i++)
        S.committed[seqs[i]] = 1;
    pthread_mutex_unlock(&S.lock);
    return 0;
}

/* ---- counting ---- */

struct tally {
    int committed, handled_once, handled_twice_or_more, handled_rolled_back, missing;
};

static struct tally tally(void)
{
    struct tally t = {0};
    int n = atomic_load(&g_next_seq);
    pthread_mutex_lock(&S.lock);
    for (int i = 0; i < n; i++) {
        t.committed += S.committed[i];
        if (S.committed[i] && S.calls[i] == 1)
            t.handled_once++;
        if (S.calls[i] > 1)
            t.handled_twice_or_more++;
        if (!S.committed[i] && S.calls[i])
            t.handled_rolled_back++;
        if (S.committed[i] && !S.calls[i])
            t.missing++;
    }
    pthread_mutex_unlock(&S.lock);
    return t;
}

/* Wait up to 'secs' until every committed event was handled. */
static bool wait_all_handled(double secs)
{
    double end = now_s() + secs;
    while (now_s() < end) {
        if (tally().missing == 0)
            return true;
        usleep(50 * 1000);
    }
    return false;
}

static bool wait_ready(bool want, double secs)
{
    double end = now_s() + secs;
    char why[128];
    while (now_s() < end) {
        if (events_ready(why, sizeof why) == want)
            return true;
        usleep(50 * 1000);
    }
    return false;
}

/* ---- a plain AMQP client for publishing by hand and counting queues ---- */

static amqp_connection_state_t side_open(const char *url_text)
{
    struct amqp_url u;
    if (events_parse_amqp_url(url_text, &u) != 0)
        return NULL;
    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *s = c ? amqp_tcp_socket_new(c) : NULL;
    if (!s || amqp_socket_open(s, u.host, u.port) != AMQP_STATUS_OK ||
        amqp_login(c, u.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, u.user, u.password)
                .reply_type != AMQP_RESPONSE_NORMAL) {
        if (c)
            amqp_destroy_connection(c);
        return NULL;
    }
    amqp_channel_open(c, 1);
    if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL) {
        amqp_destroy_connection(c);
        return NULL;
    }
    return c;
}

static void side_close(amqp_connection_state_t c)
{
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
}

static int side_publish(amqp_connection_state_t c, const char *key, const char *body)
{
    return amqp_basic_publish(c, 1, amqp_cstring_bytes(g_exchange), amqp_cstring_bytes(key), 0, 0,
                              NULL, amqp_cstring_bytes(body));
}

/* Messages ready in 'queue' (passive declare), or -1. */
static long side_count(amqp_connection_state_t c, const char *queue)
{
    amqp_queue_declare_ok_t *ok =
        amqp_queue_declare(c, 1, amqp_cstring_bytes(queue), 1, 0, 0, 0, amqp_empty_table);
    return ok ? (long)ok->message_count : -1;
}

/* ---- phases ---- */

static void phase_commit_and_rollback(void)
{
    printf("phase 1: 100 events, every 10th transaction rolled back\n");
    for (int i = 0; i < 100; i++)
        if (emit_tx(1, i % 10 != 3) != 0)
            CHECK(false, "emit %d", i);
    bool all = wait_all_handled(30);
    usleep(500 * 1000); /* a rolled-back event would show up by now */
    struct tally t = tally();
    CHECK(all && t.committed == 90 && t.handled_once == 90, "committed %d, handled exactly once %d",
          t.committed, t.handled_once);
    CHECK(t.handled_rolled_back == 0, "rolled-back events handled: %d", t.handled_rolled_back);
    CHECK(scalar("SELECT count(*) FROM outbox") == 90, "outbox holds only the committed 90");
    pthread_mutex_lock(&S.lock);
    int mismatch = S.context_mismatch;
    pthread_mutex_unlock(&S.lock);
    CHECK(mismatch == 0, "handler ran with the emitter's request id in its log context");
}

/* Publish one committed event twice by hand and make the relay republish
 * five more; nothing may be handled twice. */
static void phase_redelivery(const char *amqp_url)
{
    printf("phase 2: forced redeliveries\n");
    PGresult *r = db_exec_raw("SELECT payload::text FROM outbox ORDER BY created_at LIMIT 1");
    amqp_connection_state_t c = side_open(amqp_url);
    CHECK(db_ok(r) && PQntuples(r) == 1 && c, "side connection and a payload");
    if (c && db_ok(r) && PQntuples(r) == 1) {
        CHECK(side_publish(c, "check.created", PQgetvalue(r, 0, 0)) == 0 &&
                  side_publish(c, "check.created", PQgetvalue(r, 0, 0)) == 0,
              "published the same message twice by hand");
    }
    PQclear(r);
    if (c)
        side_close(c);
    CHECK(run_sql("UPDATE outbox SET published_at = NULL WHERE id IN "
                  "(SELECT id FROM outbox ORDER BY created_at OFFSET 10 LIMIT 5)") == 0,
          "reset 5 outbox rows so the relay publishes them again");
    double end = now_s() + 10;
    while (now_s() < end && scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL") != 0)
        usleep(50 * 1000);
    sleep(1);
    struct tally t = tally();
    CHECK(t.handled_twice_or_more == 0 && t.handled_once == 90,
          "still 90 handled once, %d handled more than once", t.handled_twice_or_more);
    CHECK(scalar("SELECT count(*) FROM evcheck_handled") == 90, "90 effects committed");
}

static void phase_dead_letters(const char *amqp_url)
{
    printf("phase 3: dead letters\n");
    if (db_begin() == 0) {
        json_t *d = json_pack("{s:s}", "why", "handler always fails");
        CHECK(events_emit("flaky.fail", d) == 0 && db_commit() == 0, "emitted flaky.fail");
        json_decref(d);
    }
    amqp_connection_state_t c = side_open(amqp_url);
    if (!c) {
        CHECK(false, "side connection");
        return;
    }
    CHECK(side_publish(c, "flaky.bad", "this is not json") == 0, "published a bad envelope");
    char dlq[128];
    snprintf(dlq, sizeof dlq, "%s.flaky.dlq", g_service);
    double end = now_s() + 15;
    long n = 0;
    while (now_s() < end && (n = side_count(c, dlq)) < 2)
        usleep(100 * 1000);
    pthread_mutex_lock(&S.lock);
    int calls = S.flaky_calls;
    pthread_mutex_unlock(&S.lock);
    CHECK(n == 2, "%s holds %ld messages (want 2)", dlq, n);
    CHECK(calls == 4, "failing handler ran %d times (want 4)", calls);
    side_close(c);
}

/* Emits 300 events, 2 per transaction every 20 ms, on its own thread. */
static void *emitter(void *arg)
{
    (void)arg;
    for (int i = 0; i < 150; i++) {
        if (emit_tx(2, true) != 0)
            fprintf(stderr, "emitter: emit failed\n");
        usleep(20 * 1000);
    }
    db_disconnect();
    return NULL;
}

static void phase_broker_restart(void)
{
    const char *kill_cmd = getenv("EVCHECK_BROKER_KILL");
    const char *start_cmd = getenv("EVCHECK_BROKER_START");
    if (!kill_cmd || !start_cmd) {
        printf("phase 4: skipped (EVCHECK_BROKER_KILL / EVCHECK_BROKER_START unset)\n");
        return;
    }
    printf("phase 4: RabbitMQ killed and restarted while events are emitted\n");
    struct tally before = tally();
    pthread_t th;
    if (pthread_create(&th, NULL, emitter, NULL) != 0) {
        CHECK(false, "emitter thread");
        return;
    }
    usleep(1000 * 1000);
    CHECK(system(kill_cmd) == 0, "broker killed");
    CHECK(wait_ready(false, 5), "events_ready went false");
    pthread_join(th, NULL);
    long unsent = scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL");
    printf("       %ld events waiting in the outbox while the broker is down\n", unsent);
    double t0 = now_s();
    CHECK(system(start_cmd) == 0, "broker restarted (%.1f s)", now_s() - t0);
    t0 = now_s();
    CHECK(wait_ready(true, 30), "events_ready back to true");
    bool all = wait_all_handled(60);
    printf("       caught up %.1f s after the broker answered (reconnect backoff is at most 5 s)\n",
           now_s() - t0);
    struct tally t = tally();
    CHECK(all && t.committed == before.committed + 300, "all %d committed events handled",
          t.committed);
    CHECK(t.handled_once == t.committed && t.handled_twice_or_more == 0,
          "each handled exactly once (%d once, %d more)", t.handled_once, t.handled_twice_or_more);
    CHECK(scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0,
          "outbox fully published");
}

/* The broker stops answering without closing anything (SIGSTOP): the relay
 * must notice through its confirm timeout, go not-ready, and catch up once
 * the broker runs again. */
static void phase_broker_freeze(void)
{
    const char *freeze = getenv("EVCHECK_BROKER_FREEZE");
    const char *thaw = getenv("EVCHECK_BROKER_THAW");
    if (!freeze || !thaw) {
        printf("phase 4b: skipped (EVCHECK_BROKER_FREEZE / EVCHECK_BROKER_THAW unset)\n");
        return;
    }
    printf("phase 4b: RabbitMQ frozen (no FIN, no answers) then resumed\n");
    CHECK(system(freeze) == 0, "broker frozen");
    double t0 = now_s();
    for (int i = 0; i < 10; i++)
        if (emit_tx(1, true) != 0)
            CHECK(false, "emit %d", i);
    bool went = wait_ready(false, 30);
    CHECK(went, "events_ready went false after %.1f s", now_s() - t0);
    CHECK(system(thaw) == 0, "broker resumed");
    t0 = now_s();
    CHECK(wait_ready(true, 30), "events_ready back to true after %.1f s", now_s() - t0);
    bool all = wait_all_handled(60);
    struct tally t = tally();
    CHECK(all && t.handled_once == t.committed && t.handled_twice_or_more == 0,
          "all %d committed events handled once after %.1f s", t.committed, now_s() - t0);
}

/* Idle for longer than two heartbeat intervals: no connection may drop. */
static void phase_idle(void)
{
    long secs = atol(env_or("EVCHECK_IDLE_S", "0"));
    if (secs <= 0) {
        printf("phase 4c: skipped (EVCHECK_IDLE_S unset)\n");
        return;
    }
    printf("phase 4c: idle for %ld s (heartbeats keep the links)\n", secs);
    double end = now_s() + (double)secs;
    bool always = true;
    char why[128];
    while (now_s() < end) {
        always &= events_ready(why, sizeof why);
        usleep(50 * 1000);
    }
    CHECK(always, "relay stayed ready throughout");
    double t0 = now_s();
    for (int i = 0; i < 10; i++)
        if (emit_tx(1, true) != 0)
            CHECK(false, "emit %d", i);
    bool all = wait_all_handled(10);
    CHECK(all, "10 more events handled %.2f s after emitting", now_s() - t0);
}

static void phase_db_down(const char *amqp_url)
{
    const char *stop_cmd = getenv("EVCHECK_PG_STOP");
    const char *start_cmd = getenv("EVCHECK_PG_START");
    if (!stop_cmd || !start_cmd) {
        printf("phase 5: skipped (EVCHECK_PG_STOP / EVCHECK_PG_START unset)\n");
        return;
    }
    printf("phase 5: PostgreSQL down while events arrive\n");
    amqp_connection_state_t c = side_open(amqp_url);
    if (!c) {
        CHECK(false, "side connection");
        return;
    }
    db_disconnect(); /* this thread's connection would die with the server */
    CHECK(system(stop_cmd) == 0, "postgres stopped");
    int seqs[5];
    for (int i = 0; i < 5; i++) {
        seqs[i] = atomic_fetch_add(&g_next_seq, 1);
        char body[256];
        snprintf(body, sizeof body,
                 "{\"id\":\"00000000-0000-4000-8000-%012d\",\"type\":\"check.created\","
                 "\"data\":{\"seq\":%d}}",
                 seqs[i], seqs[i]);
        side_publish(c, "check.created", body);
    }
    side_close(c);
    /* EVCHECK_PG_DOWN_S > 60 also shows the relay's AMQP link outliving a
     * database outage longer than two heartbeat periods. */
    long down_s = atol(env_or("EVCHECK_PG_DOWN_S", "3"));
    double end = now_s() + (double)(down_s > 0 ? down_s : 3);
    bool ready_throughout = true;
    char why[128];
    while (now_s() < end) {
        ready_throughout &= events_ready(why, sizeof why);
        usleep(50 * 1000);
    }
    CHECK(ready_throughout, "relay's AMQP link stayed up for the %ld s outage", down_s);
    struct tally t = tally();
    int seen = 0;
    pthread_mutex_lock(&S.lock);
    for (int i = 0; i < 5; i++)
        seen += S.calls[seqs[i]];
    pthread_mutex_unlock(&S.lock);
    CHECK(seen == 0, "nothing handled while the database is down (%d handler calls)", seen);
    CHECK(system(start_cmd) == 0, "postgres started");
    pthread_mutex_lock(&S.lock);
    for (int i = 0; i < 5; i++)
        S.committed[seqs[i]] = 1;
    pthread_mutex_unlock(&S.lock);
    bool all = wait_all_handled(30);
    t = tally();
    CHECK(all && t.handled_once == t.committed && t.handled_twice_or_more == 0,
          "the 5 events handled once after the database came back (%d/%d)", t.handled_once,
          t.committed);
}

static void phase_bench(void)
{
    long n = atol(env_or("EVCHECK_BENCH", "0"));
    if (n <= 0) {
        printf("phase 6: skipped (EVCHECK_BENCH unset)\n");
        return;
    }
    n = (n + 99) / 100 * 100;
    if (atomic_load(&g_next_seq) + n > MAX_SEQ)
        n = (MAX_SEQ - atomic_load(&g_next_seq)) / 100 * 100;
    printf("phase 6: %ld events, 100 per transaction\n", n);
    double t0 = now_s();
    for (long i = 0; i < n / 100; i++)
        if (emit_tx(100, true) != 0)
            CHECK(false, "emit batch %ld", i);
    double t_emit = now_s() - t0;
    while (scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL") > 0 &&
           now_s() - t0 < 120)
        usleep(10 * 1000);
    double t_pub = now_s() - t0;
    bool all = wait_all_handled(120);
    double t_all = now_s() - t0;
    printf("       emitted in %.2f s (%.0f/s), published after %.2f s (%.0f/s), "
           "handled after %.2f s (%.0f/s)\n",
           t_emit, (double)n / t_emit, t_pub, (double)n / t_pub, t_all, (double)n / t_all);
    struct tally t = tally();
    CHECK(all && t.handled_once == t.committed, "all handled once (%d/%d)", t.handled_once,
          t.committed);
}

static int setup_schema(void)
{
    if (migrate_run("core", "core/migrations") < 0)
        return -1;
    return run_sql("DROP TABLE IF EXISTS evcheck_handled") == 0 &&
                   run_sql("CREATE TABLE evcheck_handled (event_id uuid NOT NULL, seq int)") == 0 &&
                   run_sql("TRUNCATE outbox, inbox") == 0
               ? 0
               : -1;
}

int main(void)
{
    const char *db = env_or("EVCHECK_DB", "postgresql://evt:evtpass@127.0.0.1:5999/evt");
    const char *amqp = env_or("EVCHECK_AMQP", "amqp://guest:guest@127.0.0.1:5998/");
    snprintf(g_service, sizeof g_service, "evcheck%d", (int)getpid());
    snprintf(g_exchange, sizeof g_exchange, "evcheck%d.events", (int)getpid());
    log_init(g_service);
    if (db_configure(db) != 0 || setup_schema() != 0) {
        fprintf(stderr, "cannot prepare the database %s\n", db);
        db_shutdown();
        return 2;
    }
    const char *sink_keys[] = {"check.*", NULL};
    const char *flaky_keys[] = {"flaky.#", NULL};
    if (events_subscribe("sink", sink_keys, sink_handler, NULL) != 0 ||
        events_subscribe("flaky", flaky_keys, flaky_handler, NULL) != 0 ||
        events_start(g_service, amqp, g_exchange, db) != 0) {
        fprintf(stderr, "cannot start events\n");
        events_stop();
        db_shutdown();
        return 2;
    }
    CHECK(wait_ready(true, 10), "relay ready");
    sleep(1); /* consumers declare their queues before the first publish */
    phase_commit_and_rollback();
    phase_redelivery(amqp);
    phase_dead_letters(amqp);
    phase_broker_restart();
    phase_broker_freeze();
    phase_idle();
    phase_db_down(amqp);
    phase_bench();
    double t0 = now_s();
    events_stop();
    double dt = now_s() - t0;
    CHECK(dt < 2.5, "events_stop took %.2f s", dt);
    db_shutdown();
    printf("%s: %d failure(s)\n", g_failures ? "FAILED" : "PASSED", g_failures);
    return g_failures ? 1 : 0;
}
