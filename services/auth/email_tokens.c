/*
 * email_tokens.c - single-use, expiring tokens sent by email: email
 * verification and password reset.
 *
 * Only the SHA-256 digest is stored. Consuming is one UPDATE ... WHERE
 * used_at IS NULL AND expires_at > now(), so a token works once even under
 * concurrent use. Consuming also spends the user's other unused tokens of the
 * same purpose: only the link just used ever works.
 */
#include "auth_svc.h"

#include "core/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *purpose_name(enum email_purpose p)
{
    return p == PURPOSE_VERIFY ? "verify_email" : "password_reset";
}

int email_token_create(const char *user_id, enum email_purpose purpose, long ttl,
                       char token[TOKEN_LEN + 1], char expires_at[40])
{
    char digest[TOKEN_HASH_LEN + 1], secs[32];
    token_new(token);
    token_digest(token, digest);
    snprintf(secs, sizeof secs, "%ld", ttl);
    const char *p[] = {digest, user_id, purpose_name(purpose), secs};
    PGresult *r =
        db_exec("auth_email_token_create",
                "INSERT INTO email_tokens (token_hash, user_id, purpose, expires_at) "
                "VALUES ($1, $2, $3, now() + make_interval(secs => $4::double precision)) "
                "RETURNING " ISO_UTC("expires_at"),
                4, p);
    int rc = -1;
    if (db_ok(r) && PQntuples(r) == 1) {
        snprintf(expires_at, 40, "%s", PQgetvalue(r, 0, 0));
        rc = 0;
    }
    PQclear(r);
    return rc;
}

/* 1 with the user id copied from a one-row result, 0 when empty, -1 on error.
 * Clears r. */
static int user_of(PGresult *r, char user_id[37])
{
    int rc = !db_ok(r) ? -1 : PQntuples(r) == 1 ? 1 : 0;
    if (rc == 1)
        snprintf(user_id, 37, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

int email_token_consume(const char *digest, enum email_purpose purpose, char user_id[37])
{
    const char *p[] = {digest, purpose_name(purpose)};
    return user_of(db_exec("auth_email_token_consume",
                           "WITH t AS (UPDATE email_tokens SET used_at = now() "
                           "  WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL "
                           "  AND expires_at > now() RETURNING user_id), "
                           "o AS (UPDATE email_tokens e SET used_at = now() FROM t "
                           "  WHERE e.user_id = t.user_id AND e.purpose = $2 "
                           "  AND e.used_at IS NULL AND e.token_hash <> $1) "
                           "SELECT user_id FROM t",
                           2, p),
                   user_id);
}

int email_token_peek(const char *digest, enum email_purpose purpose, char user_id[37])
{
    const char *p[] = {digest, purpose_name(purpose)};
    return user_of(db_exec("auth_email_token_peek",
                           "SELECT user_id FROM email_tokens WHERE token_hash = $1 "
                           "AND purpose = $2 AND used_at IS NULL AND expires_at > now()",
                           2, p),
                   user_id);
}

int email_token_recent(const char *user_id, enum email_purpose purpose)
{
    const char *p[] = {user_id, purpose_name(purpose)};
    PGresult *r = db_exec("auth_email_token_recent",
                          "SELECT count(*) FROM email_tokens WHERE user_id = $1 "
                          "AND purpose = $2 AND created_at > now() - interval '1 hour'",
                          2, p);
    int n = db_ok(r) && PQntuples(r) == 1 ? (int)strtol(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return n;
}
