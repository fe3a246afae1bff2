/*
 * respond.c - response helpers shared by the route files.
 */
#include "auth_svc.h"

#include "core/db.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ulfius.h>

void respond_db_failed(struct http_exchange *x)
{
    /* The caller only knows that something failed: a ping tells an outage
     * (503, worth retrying) from a bug (500). */
    if (db_ping() == 0) {
        http_problem(x, 500, "database error", NULL);
        return;
    }
    http_db_problem(x, NULL);
}

void respond_redis_down(struct http_exchange *x)
{
    /* Fail closed: see lockout.c for why. */
    http_set_header(x, "Retry-After", "30");
    http_problem(x, 503,
                 "sign-in is temporarily unavailable (the login rate limiter cannot be reached)",
                 NULL);
}

void respond_locked(struct http_exchange *x, long seconds, const char *detail)
{
    char v[32];
    snprintf(v, sizeof v, "%ld", seconds > 0 ? seconds : 1);
    http_set_header(x, "Retry-After", v);
    http_problem(x, 429, detail, NULL);
}

/* Claims of an access token for the user row and session. The permissions
 * are borrowed into the claims (one reference). */
static void fill_claims(struct auth_claims *c, const PGresult *r, int row, const char *sid,
                        json_t *perms)
{
    memset(c, 0, sizeof *c);
    snprintf(c->sub, sizeof c->sub, "%s", PQgetvalue(r, row, U_ID));
    snprintf(c->email, sizeof c->email, "%s", PQgetvalue(r, row, U_EMAIL));
    snprintf(c->role, sizeof c->role, "%s", PQgetvalue(r, row, U_ROLE));
    snprintf(c->sid, sizeof c->sid, "%s", sid);
    c->permissions = json_incref(perms);
}

void respond_token_pair(struct http_exchange *x, PGresult *r, int row, const char *sid,
                        const char *refresh_token)
{
    json_t *perms = role_permissions(PQgetvalue(r, row, U_ROLE));
    if (!perms) {
        http_problem(x, 503, "cannot read the role's permissions", NULL);
        return;
    }
    struct auth_claims c;
    fill_claims(&c, r, row, sid, perms);
    char *access = auth_sign(&c);
    auth_claims_clear(&c);
    json_t *user = user_json(r, row);
    if (!access || !user) {
        free(access);
        json_decref(user);
        json_decref(perms);
        http_problem(x, 500, "cannot sign the access token", NULL);
        return;
    }
    json_object_set_new(user, "permissions", perms);
    json_t *body = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:o}", "accessToken", access,
                             "refreshToken", refresh_token, "tokenType", "Bearer", "expiresIn",
                             (json_int_t)auth_access_ttl(), "refreshExpiresIn",
                             (json_int_t)settings()->refresh_ttl, "sessionId", sid, "user", user);
    free(access);
    http_set_header(x, "Cache-Control", "no-store");
    http_json(x, body ? 200 : 500, body);
}

json_t *optional_json_body(struct http_exchange *x, bool *failed)
{
    *failed = false;
    if (!x->req->binary_body_length)
        return NULL;
    *failed = true;
    if (!http_is_json_type(http_header(x, "Content-Type"))) {
        http_problem(x, 415, "expected Content-Type: application/json", NULL);
        return NULL;
    }
    json_t *body =
        json_loadb(x->req->binary_body, x->req->binary_body_length, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        http_problem(x, 400, "request body must be a JSON object", NULL);
        return NULL;
    }
    *failed = false;
    return body;
}

bool session_check(struct http_exchange *x, const struct auth_claims *c)
{
    int live = session_live(c->sid, c->sub);
    if (live == 1)
        return true;
    if (live < 0) {
        http_db_problem(x, NULL);
        return false;
    }
    http_set_header(x, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
    http_problem(x, 401, "this session has ended; sign in again", NULL);
    return false;
}

bool login_gate(struct http_exchange *x, const char *acct, const char *ip)
{
    long retry = 0;
    switch (lockout_check(acct, ip, &retry)) {
    case LOCK_OPEN:
        return true;
    case LOCK_LOCKED:
        respond_locked(x, retry, "too many failed sign-in attempts; try again later");
        return false;
    case LOCK_UNAVAILABLE:
    default:
        respond_redis_down(x);
        return false;
    }
}
