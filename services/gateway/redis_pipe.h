/*
 * redis_pipe.h - the protocol half of the gateway's non-blocking Redis
 * client: commands encoded into an output buffer, a FIFO of the calls
 * waiting for replies (Redis answers a pipelined connection in order), and
 * hiredis's standalone reply parser matching each reply to its call.
 *
 * No sockets and no h2o: redis_conn.c moves the bytes, the unit tests feed
 * them by hand (they include redis_pipe.c).
 */
#ifndef GATEWAY_REDIS_PIPE_H
#define GATEWAY_REDIS_PIPE_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

/* Called once per call: with its reply, or with NULL when the connection
 * failed first. The reply belongs to the pipe and is freed when the callback
 * returns. The callback may push new calls. */
typedef void (*gw_redis_cb)(void *data, redisReply *reply);

struct gw_redis_call {
    struct gw_redis_call *next;
    gw_redis_cb cb; /* NULL: detached, the reply is read and dropped */
    void *data;
};

struct gw_redis_pipe {
    redisReader *reader;
    struct gw_redis_call *head, *tail; /* owned; in the order sent */
    size_t pending;
    char *out; /* encoded commands not yet taken for writing; owned */
    size_t out_len, out_cap;
};

/* 0, or -1 out of memory. */
int gw_redis_pipe_init(struct gw_redis_pipe *p);

/* Fail every pending call (callbacks get NULL), drop unsent output and any
 * partly read reply: the state of a fresh connection. */
void gw_redis_pipe_reset(struct gw_redis_pipe *p);

/* Reset, then free everything the pipe owns. */
void gw_redis_pipe_dispose(struct gw_redis_pipe *p);

/* Encode a command and queue its call. Returns the call (a handle for
 * gw_redis_call_detach, valid until its callback runs) or NULL out of
 * memory; never calls 'cb' itself. */
struct gw_redis_call *gw_redis_pipe_push(struct gw_redis_pipe *p, int argc, const char **argv,
                                         const size_t *lens, gw_redis_cb cb, void *data);

/* The caller no longer wants the reply (its request went away or timed
 * out); the call stays queued so later replies still match their calls. */
void gw_redis_call_detach(struct gw_redis_call *call);

/* Take the encoded output: *buf (caller frees) and *len, or false when
 * there is none. */
bool gw_redis_pipe_take_output(struct gw_redis_pipe *p, char **buf, size_t *len);

/* Parse received bytes and run the callbacks of complete replies, in order.
 * 0, or -1 on a protocol error or a reply nobody asked for (the connection
 * must then be dropped: call gw_redis_pipe_reset). */
int gw_redis_pipe_feed(struct gw_redis_pipe *p, const char *buf, size_t len);

#endif
