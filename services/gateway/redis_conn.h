/*
 * redis_conn.h - one non-blocking Redis connection per event-loop thread.
 *
 * Bytes move through an h2o socket on the thread's loop, so a slow or absent
 * Redis never blocks the loop; redis_pipe.c encodes commands and matches
 * replies. Calls are pipelined. The connection is opened on first use and
 * reopened after a failure with exponential backoff (100 ms doubling to 5 s);
 * while it backs off, calls are refused at once, which the rate limiter
 * takes as "Redis unavailable". A watchdog drops the connection when a
 * connect or a pending reply takes longer than 1 s, so a hung Redis cannot
 * keep calls queued without bound.
 */
#ifndef GATEWAY_REDIS_CONN_H
#define GATEWAY_REDIS_CONN_H

#include "redis_pipe.h"

#include <h2o.h>

struct gw_redis_conn;

/* Read the server address from 'url' (REDIS_URL) for every thread's
 * connection; resolves the host name once, here. 0 or -1 (logged). */
int gw_redis_configure(const char *url);

/* A connection on 'loop' (not yet connected); the caller frees it with
 * gw_redis_conn_free on the loop's thread. NULL out of memory. */
struct gw_redis_conn *gw_redis_conn_new(h2o_loop_t *loop);

/* Close and free; pending calls get NULL. Runs the loop once so that h2o
 * releases the closed socket. */
void gw_redis_conn_free(struct gw_redis_conn *c);

/* Send a command. Returns the call (see gw_redis_call_detach), or NULL when
 * Redis is unavailable right now (backing off, too many calls pending, out
 * of memory). 'cb' runs later from the loop, never from this function. */
struct gw_redis_call *gw_redis_conn_call(struct gw_redis_conn *c, int argc, const char **argv,
                                         const size_t *lens, gw_redis_cb cb, void *data);

#endif
