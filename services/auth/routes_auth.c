/*
 * routes_auth.c - register, login, refresh, logout, logout-all, me.
 */
#include "auth_svc.h"

#include "core/db.h"
#include "core/log.h"
#include "core/validate.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* POST /auth/register                                                       */

/* True (after answering 403) when the body asks for a role other than
 * CUSTOMER: privileged accounts are made by administrators only. */
static bool asks_for_privilege(struct http_exchange *x)
{
    json_t *role = json_object_get(x->body, "role");
    if (!role || json_is_null(role) ||
        (json_is_string(role) && !strcmp(json_string_value(role), "CUSTOMER")))
        return false;
    http_problem(x, 403,
                 "public registration creates CUSTOMER accounts only; SELLER and ADMIN accounts "
                 "are created by an administrator",
                 NULL);
    return true;
}

static void on_register(struct http_exchange *x)
{
    static const char *const fields[] = {"email",    "password", "firstName",
                                         "lastName", "role",     NULL};
    if (asks_for_privilege(x))
        return;
    json_t *errors = NULL;
    struct new_account a = {.role = "CUSTOMER", .email_verified = false};
    v_no_unknown(x->body, fields, &errors);
    account_read(x->body, &a, &errors);
    if (errors) {
        http_problem(x, 422, "the account data is invalid", errors);
        return;
    }
    account_create(x, &a);
}

/* ------------------------------------------------------------------------ */
/* POST /auth/login                                                          */

/* Open a session for user row 0 of 'u' and answer with the token pair. */
static void open_session(struct http_exchange *x, PGresult *u)
{
    char token[TOKEN_LEN + 1], digest[TOKEN_HASH_LEN + 1], ip[CLIENT_IP_LEN], sid[37];
    token_new(token);
    token_digest(token, digest);
    client_ip(x, ip);
    char *ua = client_user_agent(x);
    bool down = false;
    int rc = ua ? session_create(PQgetvalue(u, 0, U_ID), ua, ip, digest, sid, &down) : -1;
    free(ua);
    if (rc != 0) {
        http_db_problem(x, down ? NULL : u);
        return;
    }
    respond_token_pair(x, u, 0, sid, token);
}

/* Upgrade a hash made with older limits; best effort (the login goes on). */
static void maybe_rehash(const PGresult *u, const char *password)
{
    char hash[128];
    if (!password_needs_rehash(PQgetvalue(u, 0, U_HASH)) || password_hash(password, hash) != 0)
        return;
    if (user_set_password(PQgetvalue(u, 0, U_ID), hash) != 0)
        log_warn("could not upgrade the password hash of user %s", PQgetvalue(u, 0, U_ID));
}

static void login_failed(struct http_exchange *x, const char *acct, const char *ip)
{
    long n = lockout_fail(acct, ip);
    long ms = lockout_delay_ms(n);
    if (ms > 0)
        usleep((useconds_t)ms * 1000);
    http_set_header(x, "WWW-Authenticate", "Bearer");
    http_problem(x, 401, "invalid email or password", NULL);
}

static void login_succeeded(struct http_exchange *x, PGresult *u, const char *acct,
                            const char *password)
{
    if (strcmp(PQgetvalue(u, 0, U_ACTIVE), "t")) {
        http_problem(x, 403, "this account is deactivated", NULL);
        return;
    }
    lockout_clear_account(acct);
    maybe_rehash(u, password);
    open_session(x, u);
}

static void on_login(struct http_exchange *x)
{
    static const char *const fields[] = {"email", "password", NULL};
    json_t *errors = NULL;
    v_no_unknown(x->body, fields, &errors);
    const char *email = v_string(x->body, "email", true, 1, 254, true, &errors);
    const char *password = v_string(x->body, "password", true, 1, 1024, false, &errors);
    if (errors) {
        http_problem(x, 422, "email and password are required", errors);
        return;
    }
    PGresult *u = user_by_email(email);
    if (!db_ok(u)) {
        http_db_problem(x, u);
        PQclear(u);
        return;
    }
    bool found = PQntuples(u) == 1;
    char acct[80], ip[CLIENT_IP_LEN];
    lockout_account_key(found ? PQgetvalue(u, 0, U_ID) : NULL, email, acct);
    client_ip(x, ip);
    if (login_gate(x, acct, ip)) {
        if (password_verify(found ? PQgetvalue(u, 0, U_HASH) : NULL, password))
            login_succeeded(x, u, acct, password);
        else
            login_failed(x, acct, ip);
    }
    PQclear(u);
}

/* ------------------------------------------------------------------------ */
/* POST /auth/refresh                                                        */

static void refresh_refused(struct http_exchange *x, enum rotate_result rr)
{
    switch (rr) {
    case ROTATE_REUSED:
        http_problem(x, 401, "this refresh token was already used; its session has been revoked",
                     NULL);
        break;
    case ROTATE_INACTIVE:
        http_problem(x, 403, "this account is deactivated", NULL);
        break;
    case ROTATE_DB_ERROR:
        respond_db_failed(x);
        break;
    default:
        http_problem(x, 401, "invalid, expired or revoked refresh token", NULL);
    }
}

static void on_refresh(struct http_exchange *x)
{
    static const char *const fields[] = {"refreshToken", NULL};
    json_t *errors = NULL;
    v_no_unknown(x->body, fields, &errors);
    const char *token = v_string(x->body, "refreshToken", true, 1, 512, true, &errors);
    if (errors) {
        http_problem(x, 422, "refreshToken is required", errors);
        return;
    }
    if (!token_well_formed(token)) {
        refresh_refused(x, ROTATE_INVALID);
        return;
    }
    char digest[TOKEN_HASH_LEN + 1], next[TOKEN_LEN + 1], next_digest[TOKEN_HASH_LEN + 1];
    char sid[37], uid[37];
    token_digest(token, digest);
    token_new(next);
    token_digest(next, next_digest);
    enum rotate_result rr = session_rotate(digest, next_digest, sid, uid);
    if (rr != ROTATE_OK) {
        refresh_refused(x, rr);
        return;
    }
    PGresult *u = user_by_id(uid);
    if (db_ok(u) && PQntuples(u) == 1)
        respond_token_pair(x, u, 0, sid, next);
    else
        http_db_problem(x, u);
    PQclear(u);
}

/* ------------------------------------------------------------------------ */
/* POST /auth/logout, POST /auth/logout-all                                  */

/* The refresh token of a logout body; false after answering 422. */
static bool logout_token(struct http_exchange *x, json_t *body, const char **token)
{
    static const char *const fields[] = {"refreshToken", NULL};
    json_t *errors = NULL;
    *token = NULL;
    if (!body)
        return true;
    v_no_unknown(body, fields, &errors);
    *token = v_string(body, "refreshToken", false, 1, 512, true, &errors);
    if (errors) {
        http_problem(x, 422, "invalid logout request", errors);
        return false;
    }
    return true;
}

/* Revoke the session of a refresh token. Unknown tokens are not an error:
 * logging out is idempotent and says nothing about which tokens exist. */
static void logout_by_token(struct http_exchange *x, const char *token)
{
    char digest[TOKEN_HASH_LEN + 1];
    token_digest(token, digest);
    if (token_well_formed(token) && session_revoke_by_token(digest, "logout") < 0) {
        respond_db_failed(x);
        return;
    }
    http_json(x, 204, NULL);
}

static void on_logout(struct http_exchange *x)
{
    bool failed = false;
    json_t *body = optional_json_body(x, &failed);
    const char *token = NULL;
    if (!failed && logout_token(x, body, &token)) {
        if (token) {
            logout_by_token(x, token);
        } else {
            const struct auth_claims *c = http_authenticate(x);
            if (c && session_revoke(c->sid, c->sub, "logout") < 0)
                respond_db_failed(x);
            else if (c)
                http_json(x, 204, NULL);
        }
    }
    json_decref(body);
}

static void on_logout_all(struct http_exchange *x)
{
    const struct auth_claims *c = http_authenticate(x);
    if (!c || !session_check(x, c))
        return;
    if (session_revoke_all(c->sub, NULL, "logout-all") < 0) {
        respond_db_failed(x);
        return;
    }
    http_json(x, 204, NULL);
}

/* ------------------------------------------------------------------------ */
/* GET /auth/me                                                              */

static void on_me(struct http_exchange *x)
{
    const struct auth_claims *c = http_require(x, "profile:read");
    if (!c || !session_check(x, c))
        return;
    PGresult *u = user_by_id(c->sub);
    json_t *perms =
        db_ok(u) && PQntuples(u) == 1 ? role_permissions(PQgetvalue(u, 0, U_ROLE)) : NULL;
    if (!perms) {
        http_db_problem(x, u);
        PQclear(u);
        return;
    }
    json_t *user = user_json(u, 0);
    json_object_set_new(user, "permissions", perms);
    PQclear(u);
    http_set_header(x, "Cache-Control", "no-store");
    http_json(x, 200, user);
}

int routes_auth(struct http_server *srv)
{
    int rc = 0;
    rc |= http_route(srv, "POST", "/auth/register", on_register, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "POST", "/auth/login", on_login, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "POST", "/auth/refresh", on_refresh, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "POST", "/auth/logout", on_logout, 0, NULL);
    rc |= http_route(srv, "POST", "/auth/logout-all", on_logout_all, 0, NULL);
    rc |= http_route(srv, "GET", "/auth/me", on_me, 0, NULL);
    return rc;
}
