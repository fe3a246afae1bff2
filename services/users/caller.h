/*
 * caller.h - who is asking, and which resource a path names.
 */
#ifndef USERS_CALLER_H
#define USERS_CALLER_H

#include "core/http.h"

/* The verified caller's user id (the token's sub, a UUID), or NULL after
 * sending 401. Owned by the exchange. Any role may use /users/me. */
const char *caller_id(struct http_exchange *x);

/* Send 422 with the collected field errors (stolen). */
void send_invalid(struct http_exchange *x, json_t *errors);

#endif
