/*
 * events_relay.c - the outbox relay thread.
 *
 * One loop, two connections it owns: a plain libpq connection (not db.h's
 * per-thread one: it LISTENs and must never be shared) and an AMQP connection
 * in confirm mode. Each batch runs in one transaction:
 *
 *   SELECT ... FOR UPDATE SKIP LOCKED    (other instances skip these rows)
 *   publish each row, wait for the broker's confirms
 *   mark acked rows published; count an attempt on the others
 *   COMMIT
 *
 * A row is marked published only after its confirm, so nothing is lost; a
 * crash between confirm and COMMIT publishes it again (consumers deduplicate).
 * Between batches the thread sleeps in poll() on the database socket (NOTIFY
 * outbox wakes it) for at most 1 s, servicing AMQP heartbeats meanwhile. Any
 * failure closes the failing connection and reconnects with backoff.
 */
#include "events_internal.h"

#include "core/log.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 100 /* rows per transaction; also the LIMIT of SELECT_SQL */
#define STR(x) STR_(x)
#define STR_(x) #x
#define CONFIRM_TIMEOUT_MS 5000
#define IDLE_WAIT_MS 1000

/* relay_batch() results besides a row count. */
#define BATCH_FAILED (-1) /* a connection failed: r->why says which */
#define BATCH_RETRY (-2)  /* some rows were not confirmed; connections are fine */

enum confirm_state { PENDING, ACKED, NACKED };

struct relay {
    const struct events_config *cfg;
    PGconn *pg;
    bool pg_bad;
    struct evamqp amqp;
    uint64_t next_tag; /* delivery tag of the next publish on the channel */
    char why[256];
};

/* Confirm bookkeeping of one batch: tags first .. first+n-1. */
struct confirms {
    uint64_t first;
    int n, pending;
    unsigned char *state; /* enum confirm_state per row */
};

/* ------------------------------------------------------------------------ */
/* PostgreSQL                                                                */

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void pg_fail(struct relay *r, const char *what)
{
    snprintf(r->why, sizeof r->why, "postgres %s: %s", what,
             r->pg ? PQerrorMessage(r->pg) : "no connection");
    r->pg_bad = true;
}

/* Run a statement; 0 when it succeeded. Failures mark the connection bad:
 * reconnecting is cheap and leaves no half-done transaction behind. */
static int pg_run(struct relay *r, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = PQexecParams(r->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    int rc = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : -1;
    PQclear(res);
    if (rc != 0)
        pg_fail(r, sql);
    return rc;
}

/* Connect with bounded waits (connect and TCP timeouts: a hung database must
 * not hang the relay forever) and LISTEN. The service's conninfo comes last
 * so it can override these defaults. */
static int pg_connect(struct relay *r)
{
    const char *keys[] = {"connect_timeout",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "tcp_user_timeout",
                          "application_name",
                          "dbname",
                          NULL};
    const char *vals[] = {"3", "10", "5", "3", "10000", "outbox-relay", r->cfg->conninfo, NULL};
    r->pg_bad = false;
    r->pg = PQconnectdbParams(keys, vals, 1);
    if (!r->pg || PQstatus(r->pg) != CONNECTION_OK) {
        pg_fail(r, "connect");
        return -1;
    }
    PQsetNoticeProcessor(r->pg, quiet_notice, NULL);
    return pg_run(r, "LISTEN outbox", 0, NULL);
}

static void pg_close(struct relay *r)
{
    PQfinish(r->pg);
    r->pg = NULL;
    r->pg_bad = false;
}

/* Read what arrived on the socket and discard queued notifications (a batch
 * follows anyway). Returns how many there were, or -1. */
static int drain_notifies(struct relay *r)
{
    if (!PQconsumeInput(r->pg)) {
        pg_fail(r, "read");
        return -1;
    }
    int n = 0;
    PGnotify *nt;
    while ((nt = PQnotifies(r->pg)) != NULL) {
        n++;
        PQfreemem(nt);
    }
    return n;
}

/* ------------------------------------------------------------------------ */
/* AMQP                                                                      */

static int amqp_connect(struct relay *r)
{
    if (evamqp_open(&r->amqp, &r->cfg->url, r->why, sizeof r->why) != 0)
        return -1;
    if (evamqp_declare_topic(&r->amqp, r->cfg->exchange, r->why, sizeof r->why) != 0)
        return -1;
    (void)amqp_confirm_select(r->amqp.conn, EVENTS_CHANNEL);
    if (evamqp_check(&r->amqp, "amqp confirm.select", r->why, sizeof r->why) != 0)
        return -1;
    r->next_tag = 1; /* confirm mode numbers publishes from 1 on each channel */
    events_set_ready(true, NULL);
    log_info("events relay: connected to RabbitMQ %s:%d", r->cfg->url.host, r->cfg->url.port);
    return 0;
}

static void confirm_mark(struct confirms *c, uint64_t tag, bool multiple, unsigned char st)
{
    uint64_t last = c->first + (uint64_t)c->n - 1;
    uint64_t lo = multiple ? c->first : tag;
    for (uint64_t t = lo < c->first ? c->first : lo; t <= tag && t <= last; t++) {
        if (c->state[t - c->first] == PENDING) {
            c->state[t - c->first] = st;
            c->pending--;
        }
    }
}

/* Act on one frame: confirms update 'c' (NULL between batches: late confirms
 * of an abandoned batch are stale); a close fails the link. 0 or -1. */
static int handle_frame(struct relay *r, const amqp_frame_t *f, struct confirms *c)
{
    if (evamqp_frame_closes(&r->amqp, f, r->why, sizeof r->why) != 0)
        return -1;
    if (f->frame_type != AMQP_FRAME_METHOD || !c)
        return 0;
    if (f->payload.method.id == AMQP_BASIC_ACK_METHOD) {
        const amqp_basic_ack_t *a = f->payload.method.decoded;
        confirm_mark(c, a->delivery_tag, a->multiple, ACKED);
    } else if (f->payload.method.id == AMQP_BASIC_NACK_METHOD) {
        const amqp_basic_nack_t *a = f->payload.method.decoded;
        confirm_mark(c, a->delivery_tag, a->multiple, NACKED);
    }
    return 0;
}

/* Read frames that are already there (heartbeats are answered inside the
 * library, which also sends ours when due and notices a silent broker). */
static int service_amqp(struct relay *r)
{
    for (;;) {
        amqp_frame_t f;
        /* 1 ms, not 0: with a zero timeout the library never reports a
         * missed heartbeat. */
        struct timeval tv = {.tv_usec = 1000};
        int rc = amqp_simple_wait_frame_noblock(r->amqp.conn, &f, &tv);
        if (rc == AMQP_STATUS_TIMEOUT)
            break;
        if (evamqp_status(&r->amqp, rc, "amqp read", r->why, sizeof r->why) != 0 ||
            handle_frame(r, &f, NULL) != 0)
            return -1;
    }
    amqp_maybe_release_buffers(r->amqp.conn);
    return 0;
}

static long ms_until(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (deadline->tv_sec - now.tv_sec) * 1000L + (deadline->tv_nsec - now.tv_nsec) / 1000000L;
}

/* Wait until every publish of 'c' is confirmed. 0 when none is pending, 1 on
 * timeout or stop, -1 when the link failed. Waits in slices of at most 1 s so
 * events_stop() is noticed. */
static int wait_confirms(struct relay *r, struct confirms *c)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += CONFIRM_TIMEOUT_MS / 1000;
    while (c->pending > 0) {
        long left = ms_until(&deadline);
        if (left <= 0 || events_stopping())
            return 1;
        if (left > 1000)
            left = 1000;
        struct timeval tv = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
        amqp_frame_t f;
        int rc = amqp_simple_wait_frame_noblock(r->amqp.conn, &f, &tv);
        if (rc == AMQP_STATUS_TIMEOUT)
            continue;
        if (evamqp_status(&r->amqp, rc, "amqp confirm wait", r->why, sizeof r->why) != 0 ||
            handle_frame(r, &f, c) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* one batch                                                                 */

/* Columns of the batch query. */
enum { COL_ID, COL_KEY, COL_PAYLOAD, COL_REQUEST_ID, COL_TRACEPARENT };

static const char SELECT_SQL[] =
    "SELECT id, routing_key, payload::text, coalesce(payload->>'requestId', ''), "
    "coalesce(payload->>'traceparent', '') FROM outbox WHERE published_at IS NULL "
    "ORDER BY created_at LIMIT " STR(BATCH) " FOR UPDATE SKIP LOCKED";

/* Publish row i of 'rows' (persistent, with the envelope's ids as message
 * properties and headers). */
static int publish_row(struct relay *r, const PGresult *rows, int i)
{
    const char *rid = PQgetvalue(rows, i, COL_REQUEST_ID);
    const char *tp = PQgetvalue(rows, i, COL_TRACEPARENT);
    amqp_table_entry_t headers[2];
    int nh = 0;
    if (*rid)
        headers[nh++] = evamqp_str_entry("x-request-id", rid);
    if (*tp)
        headers[nh++] = evamqp_str_entry("traceparent", tp);
    amqp_basic_properties_t p;
    memset(&p, 0, sizeof p);
    p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
               AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_APP_ID_FLAG |
               AMQP_BASIC_HEADERS_FLAG;
    p.content_type = amqp_cstring_bytes("application/json");
    p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    p.message_id = amqp_cstring_bytes(PQgetvalue(rows, i, COL_ID));
    p.type = amqp_cstring_bytes(PQgetvalue(rows, i, COL_KEY));
    p.app_id = amqp_cstring_bytes(r->cfg->service);
    p.headers.num_entries = nh;
    p.headers.entries = headers;
    int rc = amqp_basic_publish(r->amqp.conn, EVENTS_CHANNEL, amqp_cstring_bytes(r->cfg->exchange),
                                amqp_cstring_bytes(PQgetvalue(rows, i, COL_KEY)), 0, 0, &p,
                                amqp_cstring_bytes(PQgetvalue(rows, i, COL_PAYLOAD)));
    if (evamqp_status(&r->amqp, rc, "amqp basic.publish", r->why, sizeof r->why) != 0)
        return -1;
    r->next_tag++;
    return 0;
}

/* "{id,id,...}" of the rows whose confirm state is 'st'; caller frees. *count
 * gets how many. NULL on OOM. Ids come from the uuid column: no quoting needed. */
static char *uuid_array(const PGresult *rows, const struct confirms *c, unsigned char st,
                        int *count)
{
    char *buf = malloc((size_t)c->n * 37 + 3);
    if (!buf)
        return NULL;
    size_t k = 0;
    *count = 0;
    buf[k++] = '{';
    for (int i = 0; i < c->n; i++) {
        if (c->state[i] != st)
            continue;
        if (*count)
            buf[k++] = ',';
        const char *id = PQgetvalue(rows, i, COL_ID);
        size_t len = strnlen(id, 36);
        memcpy(buf + k, id, len);
        k += len;
        (*count)++;
    }
    buf[k++] = '}';
    buf[k] = '\0';
    return buf;
}

/* Record the outcome of each row. Rows not acked keep published_at NULL and
 * get an attempt and the reason. Returns how many were not acked, or -1. */
static int record_outcome(struct relay *r, const PGresult *rows, const struct confirms *c,
                          const char *error)
{
    int acked = 0, failed = 0, rc = 0;
    char *ok_ids = uuid_array(rows, c, ACKED, &acked);
    char *nack_ids = uuid_array(rows, c, NACKED, &failed);
    if (!ok_ids || !nack_ids) {
        snprintf(r->why, sizeof r->why, "out of memory");
        rc = -1;
    }
    const char *p1[] = {ok_ids};
    if (rc == 0 && acked)
        rc = pg_run(r, "UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])", 1, p1);
    const char *p2[] = {nack_ids, error};
    if (rc == 0 && failed)
        rc = pg_run(r,
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $2 "
                    "WHERE id = ANY($1::uuid[])",
                    2, p2);
    free(ok_ids);
    free(nack_ids);
    return rc == 0 ? failed : -1;
}

/* Publish the selected rows and wait for their confirms. Fills c and, when
 * some rows failed, 'error' (n bytes). Returns 0, or -1 when publishing failed
 * (the transaction must roll back). */
static int publish_rows(struct relay *r, const PGresult *rows, struct confirms *c, char *error,
                        size_t n)
{
    c->first = r->next_tag;
    for (int i = 0; i < c->n; i++)
        if (publish_row(r, rows, i) != 0)
            return -1;
    int w = wait_confirms(r, c);
    if (w > 0 && !events_stopping()) {
        /* A broker that confirms nothing for 5 s is stuck or blocking us
         * (resource alarm). Reconnect: rabbitmq-c has no send timeout, so
         * publishing more into a stalled socket could block this thread. */
        snprintf(r->why, sizeof r->why, "amqp: no publisher confirm within %d s",
                 CONFIRM_TIMEOUT_MS / 1000);
        r->amqp.broken = true;
    }
    if (w != 0)
        snprintf(error, n, "%s", w < 0 || !events_stopping() ? r->why : "stopped");
    /* Whatever is still pending failed this attempt; it is retried later. */
    for (int i = 0; i < c->n; i++)
        if (c->state[i] == PENDING)
            c->state[i] = NACKED;
    return 0;
}

/* The batch after the SELECT: publish, record, commit. */
static int finish_batch(struct relay *r, PGresult *rows)
{
    struct confirms c = {.n = PQntuples(rows)};
    c.pending = c.n;
    c.state = calloc((size_t)c.n, 1);
    if (!c.state) {
        snprintf(r->why, sizeof r->why, "out of memory");
        (void)pg_run(r, "ROLLBACK", 0, NULL);
        return BATCH_RETRY;
    }
    char error[sizeof r->why] = "nacked by the broker";
    int rc;
    if (publish_rows(r, rows, &c, error, sizeof error) != 0) {
        (void)pg_run(r, "ROLLBACK", 0, NULL);
        rc = BATCH_FAILED;
    } else {
        int failed = record_outcome(r, rows, &c, error);
        if (failed < 0 || pg_run(r, "COMMIT", 0, NULL) != 0)
            rc = BATCH_FAILED;
        else if (r->amqp.broken)
            rc = BATCH_FAILED;
        else if (failed > 0) {
            snprintf(r->why, sizeof r->why, "%d of %d events not confirmed: %.200s", failed, c.n,
                     error);
            rc = BATCH_RETRY;
        } else
            rc = c.n;
    }
    free(c.state);
    amqp_maybe_release_buffers(r->amqp.conn);
    return rc;
}

/* Publish up to BATCH unsent rows. Returns how many were published, or
 * BATCH_FAILED / BATCH_RETRY. */
static int relay_batch(struct relay *r)
{
    if (pg_run(r, "BEGIN", 0, NULL) != 0)
        return BATCH_FAILED;
    PGresult *rows = PQexecParams(r->pg, SELECT_SQL, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(rows) != PGRES_TUPLES_OK) {
        PQclear(rows);
        pg_fail(r, "select outbox");
        return BATCH_FAILED;
    }
    int rc;
    if (PQntuples(rows) == 0)
        rc = pg_run(r, "COMMIT", 0, NULL) == 0 ? 0 : BATCH_FAILED;
    else
        rc = finish_batch(r, rows);
    PQclear(rows);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the loop                                                                  */

/* Sleep until a NOTIFY, AMQP traffic or IDLE_WAIT_MS. 0 or -1. */
static int relay_wait(struct relay *r)
{
    int n = drain_notifies(r);
    if (n != 0)
        return n > 0 ? 0 : -1;
    struct pollfd fds[2] = {{.fd = PQsocket(r->pg), .events = POLLIN},
                            {.fd = amqp_get_sockfd(r->amqp.conn), .events = POLLIN}};
    if (poll(fds, 2, IDLE_WAIT_MS) < 0 && errno != EINTR) {
        snprintf(r->why, sizeof r->why, "poll: %s", strerror(errno));
        return -1;
    }
    if (service_amqp(r) != 0)
        return -1;
    return drain_notifies(r) < 0 ? -1 : 0;
}

/* Connect whatever is not connected. 0 when both links are up. */
static int relay_connect(struct relay *r)
{
    if (!r->pg && pg_connect(r) != 0)
        return -1;
    if (!r->amqp.conn && amqp_connect(r) != 0)
        return -1;
    return 0;
}

/* Close what failed; a lost AMQP link also makes the service not ready. */
static void drop_failed(struct relay *r)
{
    if (r->pg && (r->pg_bad || PQstatus(r->pg) != CONNECTION_OK))
        pg_close(r);
    if (r->amqp.conn && r->amqp.broken) {
        evamqp_close(&r->amqp);
        events_set_ready(false, r->why);
    } else if (!r->amqp.conn) {
        events_set_ready(false, r->why);
    }
}

/* Log the failure and close what failed. An AMQP link that survived is
 * serviced once per retry (backoff <= 5 s, heartbeats every 15 s), so a long
 * database outage does not also cost the broker connection, and readiness
 * notices if it dies meanwhile. */
static void relay_failed(struct relay *r)
{
    log_warn("events relay: %s", r->why);
    drop_failed(r);
    if (r->amqp.conn && service_amqp(r) != 0) {
        log_warn("events relay: %s", r->why);
        drop_failed(r);
    }
}

/* Batches until the backlog is gone, then one wait. 0, or -1 on a failure
 * (already described in r->why). */
static int relay_cycle(struct relay *r)
{
    int n;
    do
        n = relay_batch(r);
    while (n == BATCH && !events_stopping());
    if (n < 0)
        return -1;
    return relay_wait(r);
}

void *events_relay_main(void *arg)
{
    struct relay r = {.cfg = arg};
    struct events_backoff backoff;
    events_backoff_reset(&backoff);
    while (!events_stopping()) {
        if (relay_connect(&r) == 0 && relay_cycle(&r) == 0) {
            events_backoff_reset(&backoff);
            continue;
        }
        relay_failed(&r);
        if (events_backoff_wait(&backoff) != 0)
            break;
    }
    if (r.pg)
        pg_close(&r);
    evamqp_close(&r.amqp);
    events_set_ready(false, "events stopped");
    return NULL;
}
