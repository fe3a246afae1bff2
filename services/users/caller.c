/*
 * caller.c - who is asking, and which resource a path names. See caller.h.
 */
#include "caller.h"

#include "core/auth.h"
#include "core/validate.h"

#include <stdio.h>

const char *caller_id(struct http_exchange *x)
{
    const struct auth_claims *c = http_authenticate(x);
    if (!c)
        return NULL;
    /* The auth service only signs UUID subjects; anything else would reach
     * a uuid column and fail there, so stop it here. */
    if (!valid_uuid(c->sub)) {
        http_set_header(x, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        http_problem(x, 401, "token subject is not a user id", NULL);
        return NULL;
    }
    return c->sub;
}

void send_invalid(struct http_exchange *x, json_t *errors)
{
    http_problem(x, 422, "the request has invalid fields", errors);
}
