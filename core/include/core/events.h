/*
 * events.h - domain events: transactional outbox, relay, consumers, inbox.
 *
 * Producing: inside the same database transaction as the change it
 * describes, a service calls events_emit(); the event lands in the service's
 * `outbox` table and commits (or rolls back) with the change. A relay thread
 * publishes unsent outbox rows to the RabbitMQ topic exchange with publisher
 * confirms and marks them sent only after the broker confirmed them, so an
 * event is never lost and never published for a change that rolled back (it
 * may be published twice after a crash; consumers deduplicate).
 *
 * Consuming: events_subscribe() binds a durable queue "<service>.<name>" to
 * routing keys. For each delivery a consumer thread opens a transaction,
 * records the event id in the `inbox` table (unique per consumer), runs the
 * handler, commits, then acks. A redelivered event finds its id already in
 * the inbox and is acked without running the handler again. A handler that
 * keeps failing is retried a few times, then dead-lettered to
 * "<service>.<name>.dlq" rather than blocking the queue forever.
 *
 * Envelope (JSON, also the AMQP body):
 *   {"id": uuid, "type": routing key, "source": service, "occurredAt": ISO 8601,
 *    "requestId": ..., "traceparent": ..., "data": {...}}
 * AMQP properties: message_id = id, type = routing key, content_type
 * application/json, delivery_mode persistent, headers x-request-id and
 * traceparent.
 */
#ifndef CORE_EVENTS_H
#define CORE_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Write an event into the outbox on the calling thread's database connection
 * (db_conn()), inside the caller's open transaction. 'data' is borrowed.
 * The request id and trace id come from the thread's log context. Wakes the
 * relay with NOTIFY (delivered at commit). Returns 0 or -1. */
int events_emit(const char *routing_key, json_t *data);

/* Handler for one event: runs inside an open transaction on the consumer
 * thread's database connection (db_conn()). 'event' is the envelope
 * (borrowed). Return 0 to commit and ack, -1 to roll back and retry. */
typedef int (*event_handler_fn)(const char *routing_key, json_t *event, void *user_data);

/* Register a consumer before events_start(). 'keys' is a NULL-terminated list
 * of binding keys ("user.registered", "order.*"). Returns 0 or -1. */
int events_subscribe(const char *name, const char *const *keys, event_handler_fn fn,
                     void *user_data);

/* Start the outbox relay thread and one thread per subscription. 'service'
 * names queues and the envelope source; 'amqp_url' like amqp://guest:guest@host:5672/;
 * 'exchange' the topic exchange (declared durable if missing); 'db_conninfo'
 * the service's database (each thread opens its own connection). Threads
 * reconnect with backoff when RabbitMQ or PostgreSQL go away. Returns 0 or -1. */
int events_start(const char *service, const char *amqp_url, const char *exchange,
                 const char *db_conninfo);

/* True when the relay holds an open AMQP connection; else false with a reason
 * in 'why'. For /ready. */
bool events_ready(char *why, size_t n);

/* Stop all event threads, join them and free everything. Safe to call when
 * events_start() was never called. */
void events_stop(void);

/* ---- pure helpers, exposed for unit tests ---- */

struct amqp_url {
    char host[256];
    int port;
    char user[128];
    char password[128];
    char vhost[128];
};

/* Parse amqp://user:pass@host:port/vhost (vhost "/" when the path is empty or
 * "/"; "%2f" decoded). Returns 0 or -1. */
int events_parse_amqp_url(const char *url, struct amqp_url *out);

/* Build an envelope; caller owns it. 'data' is borrowed (copied by reference). */
json_t *events_envelope(const char *id, const char *routing_key, const char *source,
                        const char *occurred_at, const char *request_id, const char *traceparent,
                        json_t *data);

#endif
