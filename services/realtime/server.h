/*
 * server.h - the realtime server: one libwebsockets event loop serving the
 * plain HTTP routes, Engine.IO long-polling and WebSockets on one port.
 */
#ifndef REALTIME_SERVER_H
#define REALTIME_SERVER_H

#include "session.h"

struct rt_server;

struct rt_server_config {
    const char *bind_address; /* "127.0.0.1"; "0.0.0.0" or "" for every interface */
    int port;
    unsigned needs;   /* enum service_needs, for /ready */
    unsigned max_fds; /* REALTIME_MAX_FDS: open sockets at most (lws sizes its tables by it) */
    struct rt_config rt;
};

/* Create the listening server (the port is bound here). NULL on failure
 * (logged). */
struct rt_server *server_new(const struct rt_server_config *cfg);

/* Serve on the calling thread until server_stop() is called. Returns 0, or
 * -1 when the event loop failed. */
int server_run(struct rt_server *srv);

/* Ask server_run() to return. Thread-safe, async-signal-unsafe. */
void server_stop(struct rt_server *srv);

/* Close every connection and free everything. Safe on NULL. */
void server_free(struct rt_server *srv);

#endif
