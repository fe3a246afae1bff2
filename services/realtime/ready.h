/*
 * ready.h - /ready checks on a worker thread.
 *
 * service_readiness() pings PostgreSQL and Redis with blocking calls (about
 * a second each when a dependency hangs). Run on the event loop, that would
 * freeze every socket for as long, so one worker thread runs the checks (it
 * keeps its own PostgreSQL and Redis connections, as the core gives each
 * thread its own) and hands results back through a wake-up of the loop.
 *
 * Ownership: jobs belong to this module. The event loop submits a job for a
 * request and keeps a borrowed pointer; if the request goes away first it
 * calls ready_abandon() and the result is dropped when collected.
 */
#ifndef REALTIME_READY_H
#define REALTIME_READY_H

#include <jansson.h>

struct ready_job;

/* Called from the worker thread when a result is waiting; must be
 * thread-safe (lws_cancel_service). */
typedef void (*ready_wake_fn)(void *arg);

/* Receives one finished check on the event loop: 'report' is stolen. */
typedef void (*ready_deliver_fn)(void *owner, int status, json_t *report);

/* Start the worker for 'needs' (enum service_needs). Returns 0 or -1. */
int ready_start(unsigned needs, ready_wake_fn wake, void *wake_arg);

/* Stop and join the worker. Jobs not yet run stay unanswered; owners are
 * expected to abandon them as their connections close. Safe if never
 * started. */
void ready_stop(void);

/* Free every job left. Call after ready_stop() and after the owners are gone. */
void ready_free_all(void);

/* Queue a check for 'owner'. NULL when too many checks are waiting (answer
 * 503 at once) or on OOM. */
struct ready_job *ready_submit(void *owner);

/* The owner of 'job' is gone; its result will be dropped. */
void ready_abandon(struct ready_job *job);

/* Hand every finished, not abandoned job to 'deliver' and free them all.
 * Event-loop thread. */
void ready_collect(ready_deliver_fn deliver);

#endif
