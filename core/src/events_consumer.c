/*
 * events_consumer.c - one consumer thread per subscription.
 *
 * The thread owns an AMQP connection consuming "<service>.<name>" with manual
 * acks (prefetch 16) and uses its db.h connection for the inbox. A delivery
 * is acked only after the transaction that recorded it in the inbox (and ran
 * the handler) committed, so a crash at any point leads to a redelivery that
 * the inbox turns into a no-op. Outcomes:
 *
 *   handled or duplicate        commit, ack
 *   not a valid envelope        reject without requeue (dead-lettered)
 *   handler keeps failing       4 attempts (backoff 100/400/1600 ms), then
 *                               reject without requeue (dead-lettered)
 *   database unreachable        no ack; the AMQP connection is closed so the
 *                               broker redelivers; reconnect (with backoff)
 *                               once the database answers again
 */
#include "events_internal.h"

#include "core/db.h"
#include "core/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFETCH 16
#define CONSUME_WAIT_S 1

static const long retry_delay_ms[] = {100, 400, 1600};
#define MAX_RETRIES ((int)(sizeof retry_delay_ms / sizeof retry_delay_ms[0]))

/* What to do with a delivery. */
enum disposition {
    DISP_ACK,
    DISP_REJECT,    /* dead-letter it */
    DISP_RECONNECT, /* database trouble: leave it unacked, drop the AMQP link */
};

/* One attempt's outcome. */
enum attempt { ATTEMPT_DONE, ATTEMPT_FAILED, ATTEMPT_DB_DOWN };

struct consumer {
    struct events_sub *sub;
    struct evamqp amqp;
    bool db_down; /* the last delivery failed for want of the database */
    char why[256];
};

/* A delivery being handled; every pointer is owned by the caller. */
struct delivery {
    json_t *event;           /* parsed envelope */
    const char *id;          /* event id (a UUID), inside 'event' */
    const char *routing_key; /* NUL-terminated copy of the delivery's key */
};

/* ------------------------------------------------------------------------ */
/* one delivery                                                              */

static bool is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* Parse the body; the caller owns the result. NULL (logged) when it is not
 * an envelope with a UUID id. */
static json_t *parse_envelope(const struct consumer *c, amqp_bytes_t body)
{
    json_error_t err;
    json_t *ev = json_loadb(body.bytes, body.len, 0, &err);
    const char *id = json_string_value(json_object_get(ev, "id"));
    if (json_is_object(ev) && is_uuid(id))
        return ev;
    json_decref(ev);
    log_error("events %s: dropping a delivery that is not a valid envelope (%s)", c->sub->queue,
              ev ? "no UUID id" : err.text);
    return NULL;
}

/* The database is down when even a ping fails after rolling back. */
static enum attempt classify_failure(void)
{
    return db_ping() == 0 ? ATTEMPT_FAILED : ATTEMPT_DB_DOWN;
}

/* Record the id in the inbox. 1 when new, 0 when already there, -1 on error. */
static int inbox_insert(const struct consumer *c, const struct delivery *d)
{
    const char *p[] = {c->sub->queue, d->id, d->routing_key};
    PGresult *r = db_exec("events_inbox_insert",
                          "INSERT INTO inbox (consumer, event_id, routing_key) "
                          "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                          3, p);
    int rc = db_ok(r) ? !strcmp(PQcmdTuples(r), "1") : -1;
    PQclear(r);
    return rc;
}

/* Commit unless a statement of the handler failed: COMMIT of an aborted
 * transaction "succeeds" as a rollback, and acking then would lose the event. */
static int commit_checked(void)
{
    PGconn *conn = db_conn();
    if (!conn || PQtransactionStatus(conn) != PQTRANS_INTRANS)
        return -1;
    return db_commit();
}

/* One transaction: inbox row, handler (for a new event), commit. */
static enum attempt attempt_once(struct consumer *c, const struct delivery *d)
{
    if (db_begin() != 0)
        return ATTEMPT_DB_DOWN;
    int fresh = inbox_insert(c, d);
    if (fresh < 0) {
        /* Not the handler's fault (e.g. no inbox table): dead-lettering would
         * throw good events away, so treat it like an unusable database. */
        db_rollback();
        log_error("events %s: cannot record event %s in the inbox", c->sub->queue, d->id);
        return ATTEMPT_DB_DOWN;
    }
    if (fresh && c->sub->fn(d->routing_key, d->event, c->sub->user_data) != 0) {
        db_rollback();
        return classify_failure();
    }
    if (commit_checked() != 0) {
        db_rollback();
        return classify_failure();
    }
    return ATTEMPT_DONE;
}

/* Attempts with backoff; the disposition of the delivery. */
static enum disposition process(struct consumer *c, const struct delivery *d)
{
    for (int attempt = 0;; attempt++) {
        enum attempt a = attempt_once(c, d);
        if (a == ATTEMPT_DONE)
            return DISP_ACK;
        if (a == ATTEMPT_DB_DOWN) {
            snprintf(c->why, sizeof c->why, "database unavailable while handling event %s", d->id);
            c->db_down = true;
            return DISP_RECONNECT;
        }
        if (attempt == MAX_RETRIES) {
            log_error("events %s: handler failed %d times for event %s (%s): dead-lettered",
                      c->sub->queue, attempt + 1, d->id, d->routing_key);
            return DISP_REJECT;
        }
        log_warn("events %s: handler failed for event %s, retrying", c->sub->queue, d->id);
        if (events_sleep(retry_delay_ms[attempt]) != 0) {
            snprintf(c->why, sizeof c->why, "stopping");
            return DISP_RECONNECT; /* unacked: the broker redelivers it */
        }
    }
}

/* Run 'process' with the log context (and traceparent) of the event, so the
 * handler's logs and any events it emits carry the original request's ids. */
static enum disposition process_in_context(struct consumer *c, const struct delivery *d)
{
    const char *rid = json_string_value(json_object_get(d->event, "requestId"));
    const char *tid = json_string_value(json_object_get(d->event, "traceId"));
    log_set_context(rid, tid);
    events_set_traceparent(json_string_value(json_object_get(d->event, "traceparent")));
    enum disposition disp = process(c, d);
    events_set_traceparent(NULL);
    log_clear_context();
    return disp;
}

/* Decide what to do with one delivery. */
static enum disposition handle_delivery(struct consumer *c, const amqp_envelope_t *env)
{
    json_t *event = parse_envelope(c, env->message.body);
    if (!event)
        return DISP_REJECT;
    char *key = evamqp_strdup(env->routing_key);
    enum disposition disp = DISP_RECONNECT;
    if (key) {
        struct delivery d = {.event = event,
                             .id = json_string_value(json_object_get(event, "id")),
                             .routing_key = key};
        disp = process_in_context(c, &d);
    } else {
        snprintf(c->why, sizeof c->why, "out of memory");
    }
    free(key);
    json_decref(event);
    return disp;
}

/* Ack, reject or (for database trouble) fail the link. 0 or -1. */
static int settle(struct consumer *c, const amqp_envelope_t *env, enum disposition disp)
{
    int rc;
    switch (disp) {
    case DISP_ACK:
        rc = amqp_basic_ack(c->amqp.conn, EVENTS_CHANNEL, env->delivery_tag, 0);
        return evamqp_status(&c->amqp, rc, "amqp basic.ack", c->why, sizeof c->why);
    case DISP_REJECT:
        rc = amqp_basic_reject(c->amqp.conn, EVENTS_CHANNEL, env->delivery_tag, 0);
        return evamqp_status(&c->amqp, rc, "amqp basic.reject", c->why, sizeof c->why);
    case DISP_RECONNECT:
        /* Closing the connection returns every unacked delivery to the queue;
         * a nack with requeue would bring it straight back in a hot loop. */
        return -1;
    }
    return -1;
}

/* ------------------------------------------------------------------------ */
/* the AMQP side                                                             */

/* Connect, declare the topology, start consuming. 0 or -1. */
static int consumer_connect(struct consumer *c)
{
    struct evamqp *l = &c->amqp;
    const struct events_config *cfg = c->sub->cfg;
    if (evamqp_open(l, &cfg->url, c->why, sizeof c->why) != 0)
        return -1;
    if (evamqp_declare_queue(l, cfg->exchange, c->sub->queue, c->sub->keys, c->why,
                             sizeof c->why) != 0)
        return -1;
    (void)amqp_basic_qos(l->conn, EVENTS_CHANNEL, 0, PREFETCH, 0);
    if (evamqp_check(l, "amqp basic.qos", c->why, sizeof c->why) != 0)
        return -1;
    (void)amqp_basic_consume(l->conn, EVENTS_CHANNEL, amqp_cstring_bytes(c->sub->queue),
                             amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    if (evamqp_check(l, "amqp basic.consume", c->why, sizeof c->why) != 0)
        return -1;
    log_info("events %s: consuming", c->sub->queue);
    return 0;
}

/* A frame other than a delivery arrived: read it; a close (or a cancel of our
 * consumer, e.g. the queue was deleted) fails the link so we redeclare. */
static int consume_other_frame(struct consumer *c)
{
    amqp_frame_t f;
    struct timeval tv = {.tv_sec = CONSUME_WAIT_S};
    int rc = amqp_simple_wait_frame_noblock(c->amqp.conn, &f, &tv);
    if (rc == AMQP_STATUS_TIMEOUT)
        return 0;
    if (evamqp_status(&c->amqp, rc, "amqp read", c->why, sizeof c->why) != 0 ||
        evamqp_frame_closes(&c->amqp, &f, c->why, sizeof c->why) != 0)
        return -1;
    if (f.frame_type == AMQP_FRAME_METHOD && f.payload.method.id == AMQP_BASIC_CANCEL_METHOD) {
        snprintf(c->why, sizeof c->why, "consumer cancelled by the broker");
        c->amqp.broken = true;
        return -1;
    }
    return 0;
}

/* Wait up to 1 s for one delivery and settle it. 0, or -1 when the link must
 * be dropped. */
static int consume_one(struct consumer *c)
{
    amqp_maybe_release_buffers(c->amqp.conn);
    amqp_envelope_t env;
    struct timeval tv = {.tv_sec = CONSUME_WAIT_S};
    amqp_rpc_reply_t r = amqp_consume_message(c->amqp.conn, &env, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        int rc = settle(c, &env, handle_delivery(c, &env));
        amqp_destroy_envelope(&env);
        return rc;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
        if (r.library_error == AMQP_STATUS_TIMEOUT)
            return 0;
        if (r.library_error == AMQP_STATUS_UNEXPECTED_STATE)
            return consume_other_frame(c);
    }
    return evamqp_reply(&c->amqp, r, "amqp consume", c->why, sizeof c->why);
}

/* Connect unless connected. While the database is known to be away, wait
 * for it first: consuming would only bounce deliveries back to the queue. */
static int consumer_ensure_connected(struct consumer *c)
{
    if (c->amqp.conn)
        return 0;
    if (c->db_down) {
        if (db_ping() != 0) {
            snprintf(c->why, sizeof c->why, "waiting for the database");
            return -1;
        }
        c->db_down = false;
    }
    return consumer_connect(c);
}

void *events_consumer_main(void *arg)
{
    struct consumer c = {.sub = arg};
    struct events_backoff backoff;
    events_backoff_reset(&backoff);
    while (!events_stopping()) {
        if (consumer_ensure_connected(&c) == 0 && consume_one(&c) == 0) {
            events_backoff_reset(&backoff);
            continue;
        }
        if (!events_stopping())
            log_warn("events %s: %s", c.sub->queue, c.why);
        evamqp_close(&c.amqp);
        if (events_backoff_wait(&backoff) != 0)
            break;
    }
    evamqp_close(&c.amqp);
    db_disconnect();
    return NULL;
}
