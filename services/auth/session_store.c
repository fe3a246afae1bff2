/*
 * session_store.c - sessions and their refresh tokens.
 *
 * A session is one sign-in on one device: a family of refresh tokens of
 * which only the newest is usable. Every refresh marks the presented token
 * rotated and issues its successor. Presenting a rotated token again means
 * two parties hold the family (a stolen token, or a replay): the whole
 * session is revoked, so whichever of them refreshes next is signed out.
 *
 * The rotation is one transaction that locks the token and session rows
 * (SELECT ... FOR UPDATE): of two concurrent refreshes with one token, the
 * second waits, then sees the token rotated and revokes the family - it can
 * never also succeed.
 */
#include "auth_svc.h"

#include "core/db.h"
#include "core/log.h"
#include "core/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Drop this user's sessions long past use: expired for a day, or revoked for
 * 30 days (kept that long so a replayed old token still finds its revoked
 * family). Best effort. */
static void prune(const char *user_id)
{
    const char *p[] = {user_id};
    PQclear(db_exec("auth_session_prune",
                    "DELETE FROM sessions WHERE user_id = $1 AND "
                    "(expires_at < now() - interval '1 day' OR "
                    "revoked_at < now() - interval '30 days')",
                    1, p));
}

int session_create(const char *user_id, const char *user_agent, const char *ip,
                   const char *token_hash, char sid[37], bool *db_down)
{
    char ttl[32];
    snprintf(ttl, sizeof ttl, "%ld", settings()->refresh_ttl);
    prune(user_id);
    const char *p[] = {user_id, user_agent, ip, ttl, token_hash};
    PGresult *r =
        db_exec("auth_session_create",
                "WITH s AS (INSERT INTO sessions (user_id, user_agent, ip, expires_at) "
                "  VALUES ($1, $2, $3, now() + make_interval(secs => $4::double precision)) "
                "  RETURNING id, expires_at) "
                "INSERT INTO refresh_tokens (token_hash, session_id, expires_at) "
                "SELECT $5, id, expires_at FROM s RETURNING session_id",
                5, p);
    *db_down = (r == NULL);
    int rc = -1;
    if (db_ok(r) && PQntuples(r) == 1) {
        snprintf(sid, 37, "%s", PQgetvalue(r, 0, 0));
        rc = 0;
    }
    PQclear(r);
    return rc;
}

/* Rows changed by an UPDATE result, -1 on failure. Clears r. */
static int changed(PGresult *r)
{
    int n = db_ok(r) ? atoi(PQcmdTuples(r)) : -1;
    PQclear(r);
    return n;
}

/* For the rows of a revoking UPDATE ... RETURNING id: tell every service
 * (through Redis) that these sessions' access tokens are void. Returns the
 * number of sessions revoked, -1 on failure. Clears r.
 *
 * Redis is written before the caller commits. Should the transaction then
 * roll back, the session lives on in the database while its access tokens
 * are refused: its owner signs in again - the safe side of the failure. */
static int ended(PGresult *r)
{
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    for (int i = 0; i < n; i++)
        auth_session_end(PQgetvalue(r, i, 0)); /* logged when Redis is down */
    PQclear(r);
    return n;
}

int session_revoke(const char *sid, const char *user_id, const char *reason)
{
    if (!valid_uuid(sid))
        return 0;
    if (!user_id) {
        const char *p[] = {sid, reason};
        return ended(db_exec("auth_session_revoke_any",
                             "UPDATE sessions SET revoked_at = now(), revoked_reason = $2 "
                             "WHERE id = $1 AND revoked_at IS NULL RETURNING id",
                             2, p));
    }
    const char *p[] = {sid, user_id, reason};
    return ended(db_exec("auth_session_revoke",
                         "UPDATE sessions SET revoked_at = now(), revoked_reason = $3 "
                         "WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id",
                         3, p));
}

int session_revoke_by_token(const char *token_hash, const char *reason)
{
    const char *p[] = {token_hash, reason};
    return ended(db_exec("auth_session_revoke_by_token",
                         "UPDATE sessions SET revoked_at = now(), revoked_reason = $2 "
                         "WHERE id = (SELECT session_id FROM refresh_tokens "
                         "WHERE token_hash = $1) AND revoked_at IS NULL RETURNING id",
                         2, p));
}

int session_revoke_all(const char *user_id, const char *keep_sid, const char *reason)
{
    const char *p[] = {user_id, valid_uuid(keep_sid) ? keep_sid : NULL, reason};
    return ended(db_exec("auth_session_revoke_all",
                         "UPDATE sessions SET revoked_at = now(), revoked_reason = $3 "
                         "WHERE user_id = $1 AND revoked_at IS NULL "
                         "AND id IS DISTINCT FROM $2::uuid RETURNING id",
                         3, p));
}

int session_live(const char *sid, const char *user_id)
{
    if (!valid_uuid(sid) || !valid_uuid(user_id))
        return 0;
    const char *p[] = {sid, user_id};
    PGresult *r = db_exec("auth_session_live",
                          "SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id "
                          "WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL "
                          "AND u.is_active",
                          2, p);
    int rc = db_ok(r) ? PQntuples(r) == 1 : -1;
    PQclear(r);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* rotation                                                                  */

enum { R_SID, R_USER, R_ROTATED, R_EXPIRED, R_REVOKED, R_ACTIVE };

/* Lock the token and its session; the row or an empty result. */
static PGresult *lock_token(const char *digest)
{
    const char *p[] = {digest};
    return db_exec("auth_refresh_lock",
                   "SELECT s.id, s.user_id, rt.rotated_at IS NOT NULL, rt.expires_at <= now(), "
                   "s.revoked_at IS NOT NULL, u.is_active "
                   "FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id "
                   "JOIN users u ON u.id = s.user_id WHERE rt.token_hash = $1 "
                   "FOR UPDATE OF rt, s",
                   1, p);
}

static bool flag(const PGresult *r, int col)
{
    return !strcmp(PQgetvalue(r, 0, col), "t");
}

/* Mark 'digest' rotated, store its successor, touch the session. */
static int rotate(const char *digest, const char *next_digest, const char *sid)
{
    char ttl[32];
    snprintf(ttl, sizeof ttl, "%ld", settings()->refresh_ttl);
    const char *p1[] = {digest};
    const char *p2[] = {next_digest, sid, ttl};
    if (changed(db_exec("auth_refresh_mark",
                        "UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = $1", 1,
                        p1)) != 1)
        return -1;
    PGresult *r =
        db_exec("auth_refresh_next",
                "WITH t AS (INSERT INTO refresh_tokens (token_hash, session_id, expires_at) "
                "  VALUES ($1, $2, now() + make_interval(secs => $3::double precision)) "
                "  RETURNING expires_at) "
                "UPDATE sessions SET last_used_at = now(), expires_at = (SELECT expires_at FROM t) "
                "WHERE id = $2",
                3, p2);
    return changed(r) == 1 ? 0 : -1;
}

/* Decide what the locked row allows; runs the writes. */
static enum rotate_result judge(const PGresult *row, const char *digest, const char *next_digest)
{
    const char *sid = PQgetvalue(row, 0, R_SID);
    /* A deactivated account is told so (403) whatever state its token is in. */
    if (!flag(row, R_ACTIVE))
        return session_revoke(sid, NULL, "account inactive") < 0 ? ROTATE_DB_ERROR
                                                                 : ROTATE_INACTIVE;
    if (flag(row, R_REVOKED) || flag(row, R_EXPIRED))
        return ROTATE_INVALID;
    if (flag(row, R_ROTATED)) {
        log_warn("refresh token reuse in session %s: the session is revoked", sid);
        return session_revoke(sid, NULL, "refresh token reuse") < 0 ? ROTATE_DB_ERROR
                                                                    : ROTATE_REUSED;
    }
    return rotate(digest, next_digest, sid) == 0 ? ROTATE_OK : ROTATE_DB_ERROR;
}

enum rotate_result session_rotate(const char *digest, const char *next_digest, char sid[37],
                                  char user_id[37])
{
    if (db_begin() != 0)
        return ROTATE_DB_ERROR;
    PGresult *row = lock_token(digest);
    if (!db_ok(row) || PQntuples(row) != 1) {
        enum rotate_result rc = db_ok(row) ? ROTATE_INVALID : ROTATE_DB_ERROR;
        PQclear(row);
        db_rollback();
        return rc;
    }
    snprintf(sid, 37, "%s", PQgetvalue(row, 0, R_SID));
    snprintf(user_id, 37, "%s", PQgetvalue(row, 0, R_USER));
    enum rotate_result rc = judge(row, digest, next_digest);
    PQclear(row);
    /* Reuse and inactive accounts commit their revocation; an invalid token
     * changed nothing. */
    if (rc == ROTATE_DB_ERROR || rc == ROTATE_INVALID) {
        db_rollback();
        return rc;
    }
    if (db_commit() != 0)
        return ROTATE_DB_ERROR;
    return rc;
}
