/*
 * redis.h - Redis access: one connection per thread, reconnect on failure.
 */
#ifndef CORE_REDIS_H
#define CORE_REDIS_H

#include <hiredis.h>

struct redis_url {
    char host[256];
    int port;
    int db;
    char password[256];
};

/* Parse redis://[:password@]host[:port][/db]. Returns 0 or -1. */
int redis_parse_url(const char *url, struct redis_url *out);

/* Set the server every thread connects to. Returns 0 or -1 (bad URL). */
int redis_configure(const char *url);

/* Run a command on the thread's connection (opened on first use, 1 s
 * timeouts). Returns the reply (caller frees with freeReplyObject) or NULL
 * when Redis cannot be reached; the connection is then dropped so the next
 * call reconnects. An error reply is returned as REDIS_REPLY_ERROR. */
redisReply *redis_cmd(const char *fmt, ...);
redisReply *redis_cmd_argv(int argc, const char **argv, const size_t *lens);

/* PING; 0 when Redis answers PONG. */
int redis_ping(void);

/* Close the calling thread's connection. */
void redis_disconnect(void);

#endif
