/*
 * events_internal.h - what the pieces of the events module share (not part of
 * the public contract in core/events.h).
 *
 *   events.c           lifecycle (subscribe/start/stop/ready), emit, envelope,
 *                      the stop flag and interruptible sleeps
 *   events_url.c       amqp:// URL parsing
 *   events_amqp.c      AMQP connection helpers (connect, declare, errors)
 *   events_relay.c     the outbox relay thread
 *   events_consumer.c  one consumer thread per subscription
 */
#ifndef CORE_EVENTS_INTERNAL_H
#define CORE_EVENTS_INTERNAL_H

#include "core/events.h"

#include <amqp.h>
#include <stdbool.h>
#include <stddef.h>

/* The single AMQP channel every connection of this module uses. */
#define EVENTS_CHANNEL 1

/* Settings fixed by events_start(); read-only while the threads run. */
struct events_config {
    const char *service;  /* envelope source, queue name prefix */
    const char *exchange; /* topic exchange */
    const char *conninfo; /* the service's database */
    struct amqp_url url;
};

/* One events_subscribe() registration; owned by events.c. */
struct events_sub {
    char *queue; /* "<service>.<name>", also the inbox consumer name; set by events_start */
    char *name;
    char **keys; /* NULL-terminated */
    event_handler_fn fn;
    void *user_data;
    const struct events_config *cfg;
};

/* ---- events.c ---- */

/* True once events_stop() was called: threads finish what they do and exit. */
bool events_stopping(void);

/* Sleep 'ms' milliseconds or until events_stop(); -1 when stopping. */
int events_sleep(long ms);

/* Record the relay's AMQP state for events_ready(). */
void events_set_ready(bool ready, const char *why);

/* The W3C traceparent of the event a consumer thread is handling, so events
 * its handler emits continue that trace. NULL clears it. */
void events_set_traceparent(const char *traceparent);

/* Exponential reconnect delay: 100 ms doubling up to 5 s. */
struct events_backoff {
    long ms;
};
void events_backoff_reset(struct events_backoff *b);
/* Sleep the current delay and double it; -1 when stopping. */
int events_backoff_wait(struct events_backoff *b);

/* ---- events_amqp.c ---- */

/* An AMQP connection with channel EVENTS_CHANNEL open. */
struct evamqp {
    amqp_connection_state_t conn; /* NULL when closed */
    bool broken;                  /* I/O failed: close without the close handshake */
};

/* Connect, log in (heartbeat 30 s) and open the channel. On failure the link
 * stays closed and 'why' says what went wrong. Returns 0 or -1. */
int evamqp_open(struct evamqp *l, const struct amqp_url *u, char *why, size_t n);

/* Close (politely unless broken) and free the connection. Safe when closed. */
void evamqp_close(struct evamqp *l);

/* Describe the last RPC reply on 'l' in 'why'. Returns 0 when it was normal,
 * else -1 (and marks the link broken). */
int evamqp_check(struct evamqp *l, const char *what, char *why, size_t n);

/* Same for a reply returned by a call (amqp_consume_message, ...). */
int evamqp_reply(struct evamqp *l, amqp_rpc_reply_t r, const char *what, char *why, size_t n);

/* Mark the link broken when a library status is an error; 'why' describes it.
 * Returns 0 for AMQP_STATUS_OK, else -1. */
int evamqp_status(struct evamqp *l, int status, const char *what, char *why, size_t n);

/* Declare the durable topic exchange 'name'. Returns 0 or -1. */
int evamqp_declare_topic(struct evamqp *l, const char *name, char *why, size_t n);

/* Declare the queue 'queue' with its dead-letter exchange "<exchange>.dlx"
 * and dead-letter queue "<queue>.dlq", and bind it to 'exchange' with 'keys'.
 * Returns 0 or -1. */
int evamqp_declare_queue(struct evamqp *l, const char *exchange, const char *queue,
                         char *const *keys, char *why, size_t n);

/* When frame 'f' closes the channel or the connection: mark the link broken,
 * describe the reason in 'why' and return -1; else 0. */
int evamqp_frame_closes(struct evamqp *l, const amqp_frame_t *f, char *why, size_t n);

/* A UTF-8 string entry of an AMQP table; borrows both strings. */
amqp_table_entry_t evamqp_str_entry(const char *key, const char *value);

/* A NUL-terminated copy of 'b'; caller frees. NULL on OOM. */
char *evamqp_strdup(amqp_bytes_t b);

/* ---- events_relay.c, events_consumer.c: thread bodies ---- */

/* arg: const struct events_config *. */
void *events_relay_main(void *arg);
/* arg: struct events_sub *. */
void *events_consumer_main(void *arg);

#endif
