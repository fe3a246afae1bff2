/*
 * handlers.c - the Socket.IO events this service answers.
 *
 * For now two demo events that exercise the protocol end to end:
 *   ping  -> acknowledged with "pong" (or a "pong" event without callback)
 *   echo  -> acknowledged with its own arguments (or echoed as an event)
 * Room joins, subscriptions and the like come with later issues: add a
 * function and a line in the table.
 */
#include "sio.h"

#include <string.h>

static void on_ping(const struct sio_call *call)
{
    if (call->ack_id != SIO_NO_ACK)
        (void)sio_ack(call, json_pack("[s]", "pong"));
    else
        (void)sio_emit(call->session, "pong", NULL);
}

static void on_echo(const struct sio_call *call)
{
    json_t *args = json_incref(call->args);
    if (call->ack_id != SIO_NO_ACK)
        (void)sio_ack(call, args);
    else
        (void)sio_emit(call->session, "echo", args);
}

static const struct {
    const char *event;
    sio_handler_fn fn;
} g_handlers[] = {
    {"ping", on_ping},
    {"echo", on_echo},
};

sio_handler_fn sio_handler_find(const char *event)
{
    for (size_t i = 0; event && i < sizeof g_handlers / sizeof g_handlers[0]; i++)
        if (!strcmp(g_handlers[i].event, event))
            return g_handlers[i].fn;
    return NULL;
}
