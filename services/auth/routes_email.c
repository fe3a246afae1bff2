/*
 * routes_email.c - email verification and passwords: verify-email, resend,
 * forgot, reset, change.
 *
 * The tokens travel by email (user.*_requested events -> notification
 * service); see email_tokens.c for how they are kept. Issuing is capped at
 * EMAIL_TOKENS_PER_HOUR per account and purpose so nobody can flood a
 * mailbox through these endpoints.
 */
#include "auth_svc.h"

#include "core/db.h"
#include "core/log.h"
#include "core/validate.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char BAD_TOKEN[] = "the token is invalid, already used or expired";

/* The "token" field of the body as a digest; false after answering 422/400. */
static bool body_token_digest(struct http_exchange *x, json_t **errors,
                              char digest[TOKEN_HASH_LEN + 1])
{
    const char *token = v_string(x->body, "token", true, 1, 512, true, errors);
    if (*errors)
        return false;
    if (!token_well_formed(token)) {
        http_problem(x, 400, BAD_TOKEN, NULL);
        return false;
    }
    token_digest(token, digest);
    return true;
}

/* ------------------------------------------------------------------------ */
/* POST /auth/verify-email                                                   */

static PGresult *mark_verified(const char *user_id)
{
    const char *p[] = {user_id};
    return db_exec("auth_user_mark_verified",
                   "UPDATE users u SET email_verified = true, updated_at = now() "
                   "WHERE u.id = $1 RETURNING " USER_COLS,
                   1, p);
}

/* Consume the token and verify its user; answers. Runs in a transaction. */
static void verify_tx(struct http_exchange *x, const char *digest)
{
    char uid[37];
    int found = email_token_consume(digest, PURPOSE_VERIFY, uid);
    if (found <= 0) {
        db_rollback();
        if (found == 0)
            http_problem(x, 400, BAD_TOKEN, NULL);
        else
            respond_db_failed(x);
        return;
    }
    PGresult *u = mark_verified(uid);
    if (!db_ok(u) || PQntuples(u) != 1 ||
        emit_email_verified(uid, PQgetvalue(u, 0, U_EMAIL)) != 0 || db_commit() != 0) {
        db_rollback();
        http_db_problem(x, u);
        PQclear(u);
        return;
    }
    http_json(x, 200, user_json(u, 0));
    PQclear(u);
}

static void on_verify(struct http_exchange *x)
{
    static const char *const fields[] = {"token", NULL};
    json_t *errors = NULL;
    char digest[TOKEN_HASH_LEN + 1];
    v_no_unknown(x->body, fields, &errors);
    if (!body_token_digest(x, &errors, digest)) {
        if (errors)
            http_problem(x, 422, "token is required", errors);
        return;
    }
    if (db_begin() != 0) {
        http_db_problem(x, NULL);
        return;
    }
    verify_tx(x, digest);
}

/* ------------------------------------------------------------------------ */
/* issuing tokens (resend, forgot)                                           */

/* Issue a token of 'purpose' for user row 0 of 'u' and emit its event, in
 * one transaction. 0 or -1. */
static int issue_tx(PGresult *u, enum email_purpose purpose)
{
    const struct auth_settings *s = settings();
    char token[TOKEN_LEN + 1], expires[40];
    if (db_begin() != 0)
        return -1;
    long ttl = purpose == PURPOSE_VERIFY ? s->verify_ttl : s->reset_ttl;
    int rc = email_token_create(PQgetvalue(u, 0, U_ID), purpose, ttl, token, expires);
    if (rc == 0)
        rc = purpose == PURPOSE_VERIFY ? emit_verification_requested(u, 0, token, expires)
                                       : emit_reset_requested(u, 0, token, expires);
    if (rc == 0 && db_commit() == 0)
        return 0;
    db_rollback();
    return -1;
}

/* ------------------------------------------------------------------------ */
/* POST /auth/verify-email/resend                                            */

static void resend_for(struct http_exchange *x, PGresult *u)
{
    if (!strcmp(PQgetvalue(u, 0, U_VERIFIED), "t")) {
        http_problem(x, 409, "the email address is already verified", NULL);
        return;
    }
    int recent = email_token_recent(PQgetvalue(u, 0, U_ID), PURPOSE_VERIFY);
    if (recent < 0) {
        respond_db_failed(x);
        return;
    }
    if (recent >= EMAIL_TOKENS_PER_HOUR) {
        respond_locked(x, 3600, "too many verification emails in the last hour");
        return;
    }
    if (issue_tx(u, PURPOSE_VERIFY) != 0) {
        respond_db_failed(x);
        return;
    }
    http_json(x, 202, json_pack("{s:s}", "status", "verification email requested"));
}

static void on_resend(struct http_exchange *x)
{
    const struct auth_claims *c = http_require(x, "profile:write");
    if (!c || !session_check(x, c))
        return;
    PGresult *u = user_by_id(c->sub);
    if (db_ok(u) && PQntuples(u) == 1)
        resend_for(x, u);
    else
        http_db_problem(x, u);
    PQclear(u);
}

/* ------------------------------------------------------------------------ */
/* POST /auth/password/forgot                                                */

/* Request a reset for 'email' if it names an active account. Everything
 * after the look-up is only logged: the answer must not depend on whether
 * the account exists. Returns -1 only when the look-up itself failed. */
static int forgot(const char *email)
{
    PGresult *u = user_by_email(email);
    if (!db_ok(u)) {
        PQclear(u);
        return -1;
    }
    if (PQntuples(u) == 1 && !strcmp(PQgetvalue(u, 0, U_ACTIVE), "t")) {
        int recent = email_token_recent(PQgetvalue(u, 0, U_ID), PURPOSE_RESET);
        if (recent >= EMAIL_TOKENS_PER_HOUR)
            log_info("password reset for %s skipped: hourly limit", PQgetvalue(u, 0, U_ID));
        else if (recent < 0 || issue_tx(u, PURPOSE_RESET) != 0)
            log_error("password reset for %s failed", PQgetvalue(u, 0, U_ID));
    }
    PQclear(u);
    return 0;
}

static void on_forgot(struct http_exchange *x)
{
    static const char *const fields[] = {"email", NULL};
    json_t *errors = NULL;
    v_no_unknown(x->body, fields, &errors);
    const char *email = v_string(x->body, "email", true, 1, 254, true, &errors);
    if (errors) {
        http_problem(x, 422, "email is required", errors);
        return;
    }
    if (forgot(email) != 0) {
        http_db_problem(x, NULL);
        return;
    }
    http_json(x, 202,
              json_pack("{s:s}", "status",
                        "if an account exists for this address, a reset link is on its way"));
}

/* ------------------------------------------------------------------------ */
/* POST /auth/password/reset                                                 */

/* Set the new password: consume the token (again, atomically: a concurrent
 * reset with the same token loses here), revoke every session, emit. */
static void reset_tx(struct http_exchange *x, const char *digest, PGresult *u, const char *hash)
{
    const char *uid = PQgetvalue(u, 0, U_ID);
    char consumed[37];
    if (db_begin() != 0) {
        http_db_problem(x, NULL);
        return;
    }
    int found = email_token_consume(digest, PURPOSE_RESET, consumed);
    if (found == 0) {
        db_rollback();
        http_problem(x, 400, BAD_TOKEN, NULL);
        return;
    }
    if (found < 0 || user_set_password(uid, hash) != 0 ||
        session_revoke_all(uid, NULL, "password reset") < 0 ||
        emit_password_changed(uid, PQgetvalue(u, 0, U_EMAIL), "reset") != 0 || db_commit() != 0) {
        db_rollback();
        respond_db_failed(x);
        return;
    }
    char acct[80];
    lockout_account_key(uid, NULL, acct);
    lockout_clear_account(acct); /* proven owner of the mailbox: lift a lock */
    http_json(x, 204, NULL);
}

/* With the token's user known: check the policy, hash, then reset. */
static void reset_user(struct http_exchange *x, const char *digest, const char *uid,
                       const char *password)
{
    PGresult *u = user_by_id(uid);
    if (!db_ok(u) || PQntuples(u) != 1) {
        http_db_problem(x, u);
        PQclear(u);
        return;
    }
    json_t *errors = NULL;
    char hash[128];
    if (!password_policy_check(password, PQgetvalue(u, 0, U_EMAIL), "password", &errors))
        http_problem(x, 422, "the new password does not meet the policy", errors);
    else if (password_hash(password, hash) != 0)
        http_problem(x, 503, "cannot hash the password right now", NULL);
    else
        reset_tx(x, digest, u, hash);
    PQclear(u);
}

static void on_reset(struct http_exchange *x)
{
    static const char *const fields[] = {"token", "password", NULL};
    json_t *errors = NULL;
    char digest[TOKEN_HASH_LEN + 1], uid[37];
    v_no_unknown(x->body, fields, &errors);
    const char *password = v_string(x->body, "password", true, 0, (size_t)-1, false, &errors);
    if (!body_token_digest(x, &errors, digest)) {
        if (errors)
            http_problem(x, 422, "token and password are required", errors);
        return;
    }
    /* Look before consuming: a password the policy refuses must not burn
     * the link. */
    int found = email_token_peek(digest, PURPOSE_RESET, uid);
    if (found < 0)
        respond_db_failed(x);
    else if (found == 0)
        http_problem(x, 400, BAD_TOKEN, NULL);
    else
        reset_user(x, digest, uid, password);
}

/* ------------------------------------------------------------------------ */
/* POST /auth/password/change                                                */

/* Inside the lockout gate: check the current password, then change. */
static void change_checked(struct http_exchange *x, const struct auth_claims *c, PGresult *u,
                           const char *acct, const char *current, const char *next)
{
    json_t *errors = NULL;
    const char *old_hash = PQgetvalue(u, 0, U_HASH);
    char ip[CLIENT_IP_LEN], hash[128];
    if (!password_verify(old_hash, current)) {
        /* A wrong current password counts like a failed login: this
         * endpoint must not become a way around the login limit. */
        client_ip(x, ip);
        long ms = lockout_delay_ms(lockout_fail(acct, ip));
        if (ms > 0)
            usleep((useconds_t)ms * 1000);
        http_field_error(&errors, "currentPassword", "is incorrect");
        http_problem(x, 422, "the current password is incorrect", errors);
        return;
    }
    if (password_policy_check(next, PQgetvalue(u, 0, U_EMAIL), "newPassword", &errors) &&
        password_verify(old_hash, next))
        http_field_error(&errors, "newPassword", "must differ from the current password");
    if (errors) {
        http_problem(x, 422, "the new password does not meet the policy", errors);
        return;
    }
    if (password_hash(next, hash) != 0) {
        http_problem(x, 503, "cannot hash the password right now", NULL);
        return;
    }
    if (db_begin() != 0 || user_set_password(c->sub, hash) != 0 ||
        session_revoke_all(c->sub, c->sid, "password changed") < 0 ||
        emit_password_changed(c->sub, PQgetvalue(u, 0, U_EMAIL), "change") != 0 ||
        db_commit() != 0) {
        db_rollback();
        respond_db_failed(x);
        return;
    }
    http_json(x, 204, NULL);
}

static void on_change(struct http_exchange *x)
{
    static const char *const fields[] = {"currentPassword", "newPassword", NULL};
    const struct auth_claims *c = http_require(x, "profile:write");
    if (!c || !session_check(x, c))
        return;
    json_t *errors = NULL;
    v_no_unknown(x->body, fields, &errors);
    const char *current = v_string(x->body, "currentPassword", true, 1, 1024, false, &errors);
    const char *next = v_string(x->body, "newPassword", true, 0, (size_t)-1, false, &errors);
    if (errors) {
        http_problem(x, 422, "currentPassword and newPassword are required", errors);
        return;
    }
    PGresult *u = user_by_id(c->sub);
    char acct[80], ip[CLIENT_IP_LEN];
    lockout_account_key(c->sub, NULL, acct);
    client_ip(x, ip);
    if (!db_ok(u) || PQntuples(u) != 1)
        http_db_problem(x, u);
    else if (login_gate(x, acct, ip))
        change_checked(x, c, u, acct, current, next);
    PQclear(u);
}

int routes_email(struct http_server *srv)
{
    int rc = 0;
    rc |= http_route(srv, "POST", "/auth/verify-email", on_verify, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "POST", "/auth/verify-email/resend", on_resend, 0, NULL);
    rc |= http_route(srv, "POST", "/auth/password/forgot", on_forgot, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "POST", "/auth/password/reset", on_reset, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "POST", "/auth/password/change", on_change, HTTP_JSON_BODY, NULL);
    return rc;
}
