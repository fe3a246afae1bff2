/*
 * redis_pipe.c - command encoding, call FIFO and reply matching.
 */
#include "redis_pipe.h"

#include <hiredis/read.h>
#include <stdlib.h>
#include <string.h>

int gw_redis_pipe_init(struct gw_redis_pipe *p)
{
    memset(p, 0, sizeof *p);
    p->reader = redisReaderCreate();
    return p->reader ? 0 : -1;
}

/* Unlink the first call; the caller frees it. */
static struct gw_redis_call *pop(struct gw_redis_pipe *p)
{
    struct gw_redis_call *c = p->head;
    if (!c)
        return NULL;
    p->head = c->next;
    if (!p->head)
        p->tail = NULL;
    p->pending--;
    return c;
}

static void run(struct gw_redis_call *c, redisReply *reply)
{
    if (c->cb)
        c->cb(c->data, reply);
    free(c);
}

void gw_redis_pipe_reset(struct gw_redis_pipe *p)
{
    /* Detach the list first: a callback may push onto the fresh pipe. */
    struct gw_redis_call *list = p->head;
    p->head = p->tail = NULL;
    p->pending = 0;
    p->out_len = 0;
    if (p->reader) {
        redisReaderFree(p->reader);
        p->reader = redisReaderCreate(); /* NULL (OOM): feed fails, reset retries */
    }
    while (list) {
        struct gw_redis_call *next = list->next;
        run(list, NULL);
        list = next;
    }
}

void gw_redis_pipe_dispose(struct gw_redis_pipe *p)
{
    gw_redis_pipe_reset(p);
    if (p->reader)
        redisReaderFree(p->reader);
    free(p->out);
    memset(p, 0, sizeof *p);
}

/* Make room for 'n' more output bytes; -1 out of memory. */
static int reserve(struct gw_redis_pipe *p, size_t n)
{
    if (p->out_cap - p->out_len >= n)
        return 0;
    size_t cap = p->out_cap ? p->out_cap : 256;
    while (cap - p->out_len < n)
        cap *= 2;
    char *grown = realloc(p->out, cap);
    if (!grown)
        return -1;
    p->out = grown;
    p->out_cap = cap;
    return 0;
}

struct gw_redis_call *gw_redis_pipe_push(struct gw_redis_pipe *p, int argc, const char **argv,
                                         const size_t *lens, gw_redis_cb cb, void *data)
{
    char *cmd = NULL;
    int n = redisFormatCommandArgv(&cmd, argc, argv, lens);
    struct gw_redis_call *c = n > 0 ? calloc(1, sizeof *c) : NULL;
    if (!c || reserve(p, (size_t)n) != 0) {
        free(c);
        redisFreeCommand(cmd);
        return NULL;
    }
    memcpy(p->out + p->out_len, cmd, (size_t)n);
    p->out_len += (size_t)n;
    redisFreeCommand(cmd);
    c->cb = cb;
    c->data = data;
    if (p->tail)
        p->tail->next = c;
    else
        p->head = c;
    p->tail = c;
    p->pending++;
    return c;
}

void gw_redis_call_detach(struct gw_redis_call *call)
{
    call->cb = NULL;
    call->data = NULL;
}

bool gw_redis_pipe_take_output(struct gw_redis_pipe *p, char **buf, size_t *len)
{
    if (p->out_len == 0)
        return false;
    *buf = p->out;
    *len = p->out_len;
    p->out = NULL;
    p->out_len = p->out_cap = 0;
    return true;
}

int gw_redis_pipe_feed(struct gw_redis_pipe *p, const char *buf, size_t len)
{
    if (!p->reader || redisReaderFeed(p->reader, buf, len) != REDIS_OK)
        return -1;
    for (;;) {
        void *reply = NULL;
        if (redisReaderGetReply(p->reader, &reply) != REDIS_OK)
            return -1;
        if (!reply)
            return 0;
        struct gw_redis_call *c = pop(p);
        if (!c) {
            freeReplyObject(reply);
            return -1;
        }
        run(c, reply);
        freeReplyObject(reply);
    }
}
