/*
 * auth_svc.h - what the auth service's files share (not used by other services).
 *
 * Layout, one job per file:
 *   main.c             service spec, startup order, route table
 *   settings.c         configuration read once at start
 *   password_policy.c  the password rules (pure)
 *   password_hash.c    Argon2id hashing and verification (libsodium)
 *   tokens.c           opaque random tokens and their SHA-256 digests
 *   client_info.c      client address and user agent of a request
 *   lockout.c          failed-login counting and locks in Redis
 *   rbac.c             role rules (pure) and role -> permissions
 *   user_store.c       the users table
 *   session_store.c    sessions (refresh-token families) and refresh tokens
 *   email_tokens.c     single-use email verification / password reset tokens
 *   user_events.c      the user.* events this service emits
 *   accounts.c         creating an account (register and admin create)
 *   respond.c          shared response helpers (token pair, lockout, sessions)
 *   routes_auth.c      register, login, refresh, logout, me
 *   routes_sessions.c  the caller's sessions
 *   routes_email.c     email verification, password forgot/reset/change
 *   routes_admin.c     admin user management and roles
 *   user_status.c      consumer of user.deactivated / user.activated
 *   bootstrap.c        the first SUPERADMIN
 */
#ifndef AUTH_SVC_H
#define AUTH_SVC_H

#include "core/auth.h"
#include "core/http.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- settings.c ---- */

struct auth_settings {
    long refresh_ttl;           /* JWT_REFRESH_EXPIRES_IN, seconds */
    long verify_ttl;            /* EMAIL_VERIFICATION_EXPIRES_IN */
    long reset_ttl;             /* PASSWORD_RESET_EXPIRES_IN */
    long login_max;             /* LOGIN_MAX_ATTEMPTS: failures per account */
    long login_ip_max;          /* LOGIN_IP_MAX_ATTEMPTS: failures per client address */
    long login_window;          /* LOGIN_WINDOW: failures older than this are forgotten */
    long login_lock;            /* LOGIN_LOCK: how long a lock lasts */
    const char *public_app_url; /* PUBLIC_APP_URL; owned by the environment */
};

/* Read the settings (exits on malformed values, see core/config.h). 0 or -1. */
int settings_load(void);
const struct auth_settings *settings(void);

/* ---- password_policy.c ---- */

enum { PASSWORD_MIN_LEN = 10, PASSWORD_MAX_LEN = 128 };

/* Check 'password' against the policy (length 10..128 code points, at least
 * one letter and one digit, not the email). Adds one error per broken rule
 * on 'field'. True when acceptable. 'email' may be NULL. */
bool password_policy_check(const char *password, const char *email, const char *field,
                           json_t **errors);

/* ---- password_hash.c ---- */

/* Initialise libsodium and compute the decoy hash used for unknown emails.
 * Call once at start. 0 or -1. */
int password_init(void);

/* Argon2id hash (crypto_pwhash_str, INTERACTIVE limits) of 'password' into
 * 'out' (crypto_pwhash_STRBYTES = 128 bytes). 0, or -1 when out of memory. */
int password_hash(const char *password, char out[128]);

/* True when 'password' matches 'hash'. With hash NULL (unknown account) the
 * decoy hash is checked instead and the result is false, so the time spent
 * does not tell whether the account exists. */
bool password_verify(const char *hash, const char *password);

/* True when 'hash' was made with weaker limits than the current ones. */
bool password_needs_rehash(const char *hash);

/* ---- tokens.c ---- */

enum { TOKEN_LEN = 43, TOKEN_HASH_LEN = 64 };

/* A fresh token: 256 random bits as unpadded base64url (43 characters). */
void token_new(char out[TOKEN_LEN + 1]);

/* True when 'token' has the shape of one of ours (43 base64url characters):
 * anything else is rejected before it reaches the database. */
bool token_well_formed(const char *token);

/* Lower-case hex SHA-256 of 'text'. The database stores only this. */
void token_digest(const char *text, char out[TOKEN_HASH_LEN + 1]);

/* ---- client_info.c ---- */

enum { CLIENT_IP_LEN = 46 /* INET6_ADDRSTRLEN */, USER_AGENT_MAX = 512 };

/* The last well-formed address of an X-Forwarded-For value into 'out'.
 * False when there is none. Pure. */
bool xff_last_hop(const char *xff, char out[CLIENT_IP_LEN]);

/* The client's address: the hop the gateway saw (last X-Forwarded-For entry),
 * else the TCP peer, else "unknown". */
void client_ip(const struct http_exchange *x, char out[CLIENT_IP_LEN]);

/* At most 'max_bytes' of 's' as valid UTF-8 without control characters
 * (invalid bytes and controls become '?', cut at a character boundary).
 * Caller frees; NULL when out of memory. */
char *text_sanitize(const char *s, size_t max_bytes);

/* The request's User-Agent, sanitized; caller frees. */
char *client_user_agent(const struct http_exchange *x);

/* ---- lockout.c ---- */

enum lock_state { LOCK_OPEN, LOCK_LOCKED, LOCK_UNAVAILABLE };

/* Redis key part naming an account: "u:<id>" for a known account, else
 * "e:<sha256 of the lower-cased email>" so unknown emails lock the same way
 * (no account enumeration). */
void lockout_account_key(const char *user_id, const char *email, char out[80]);

/* Is the account or the address locked? *retry_after gets the seconds left.
 * LOCK_UNAVAILABLE when Redis does not answer (callers fail closed). */
enum lock_state lockout_check(const char *account, const char *ip, long *retry_after);

/* Count one failure for the account and the address; locks them at their
 * limits. Returns the account's failure count in the window, -1 when Redis
 * does not answer. */
long lockout_fail(const char *account, const char *ip);

/* Forget the account's failures and lock (successful login, reset). */
void lockout_clear_account(const char *account);

/* Delay in ms before answering failure number 'failures' (pure). */
long lockout_delay_ms(long failures);

/* ---- rbac.c ---- */

extern const char *const ROLE_NAMES[]; /* NULL-terminated, most powerful first */

bool role_valid(const char *role);

/* May an actor with role 'actor' create an account with role 'role'? */
bool role_may_create(const char *actor, const char *role);

/* May 'actor' change an account's role from 'from' to 'to'? */
bool role_may_change(const char *actor, const char *from, const char *to);

/* The permissions of 'role' as a JSON array (caller owns), NULL on database
 * failure. */
json_t *role_permissions(const char *role);

/* ---- respond.c ---- */

/* Answer a failure of a store function that gave no result to inspect:
 * 503 when the database does not answer a ping, else 500. */
void respond_db_failed(struct http_exchange *x);

/* 503 with Retry-After when Redis is down (login fails closed). */
void respond_redis_down(struct http_exchange *x);

/* Before checking a password: true when neither the account nor the address
 * is locked; else answers 429 (locked) or 503 (Redis down: fail closed). */
bool login_gate(struct http_exchange *x, const char *acct, const char *ip);

/* 429 with Retry-After 'seconds'. */
void respond_locked(struct http_exchange *x, long seconds, const char *detail);

/* Sign an access token for user row 'row' of 'r' (USER_COLS) in session
 * 'sid' and answer 200 {accessToken, refreshToken, tokenType, expiresIn,
 * refreshExpiresIn, user}. */
void respond_token_pair(struct http_exchange *x, PGresult *r, int row, const char *sid,
                        const char *refresh_token);

/* The request body when it is a JSON object, NULL when there is none; sends
 * 400/415 and sets *failed when a body is present but unusable. Caller owns. */
json_t *optional_json_body(struct http_exchange *x, bool *failed);

/* After http_require/http_authenticate: true while the token's session is
 * live (not revoked, account active); else sends 401 (or 503) and false. */
bool session_check(struct http_exchange *x, const struct auth_claims *c);

/* ---- user_store.c ---- */

/* ISO_UTC: a timestamp column as UTC ISO 8601 with milliseconds.
 * USER_COLS: the columns of every user query, in the order of enum user_col. */
// clang-format off
#define ISO_UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define USER_COLS                                                                     \
    "u.id, u.email, u.first_name, u.last_name, u.role, u.email_verified, u.is_active, " \
    ISO_UTC("u.created_at") ", " ISO_UTC("u.updated_at") ", u.password_hash"
// clang-format on
enum user_col {
    U_ID,
    U_EMAIL,
    U_FIRST,
    U_LAST,
    U_ROLE,
    U_VERIFIED,
    U_ACTIVE,
    U_CREATED,
    U_UPDATED,
    U_HASH,
};

/* Public JSON of a user row (never the hash). Caller owns. */
json_t *user_json(const PGresult *r, int row);

/* Look-ups: the result (caller PQclear()s) with 0 or 1 rows, NULL when the
 * database is unreachable; an error result is returned as is (check db_ok). */
PGresult *user_by_email(const char *email);
PGresult *user_by_id(const char *id);

/* Insert a user; the result holds the new row, or a 23505 error when the
 * email is taken (case-insensitively). */
PGresult *user_insert(const char *email, const char *hash, const char *first, const char *last,
                      const char *role, bool email_verified);

/* Replace the password hash. 0 or -1. */
int user_set_password(const char *id, const char *hash);

/* ---- session_store.c ---- */

/* Create a session (a refresh-token family) for 'user_id' whose first
 * refresh token has digest 'token_hash'; its id into sid. 0, or -1 (logged;
 * *db_down set when the database was unreachable). */
int session_create(const char *user_id, const char *user_agent, const char *ip,
                   const char *token_hash, char sid[37], bool *db_down);

/* Revoke one session of 'user_id' (user_id NULL: any owner). Returns the
 * number revoked (0 or 1), -1 on failure. */
int session_revoke(const char *sid, const char *user_id, const char *reason);

/* Revoke the session a refresh token belongs to (rotated or not). */
int session_revoke_by_token(const char *token_hash, const char *reason);

/* Revoke every session of 'user_id' except 'keep_sid' (NULL: all). Returns the
 * number revoked or -1. */
int session_revoke_all(const char *user_id, const char *keep_sid, const char *reason);

/* True when session 'sid' of 'user_id' is live. -1 when the database is
 * unreachable, else 1 / 0. */
int session_live(const char *sid, const char *user_id);

enum rotate_result {
    ROTATE_OK,       /* rotated: sid and user_id filled */
    ROTATE_INVALID,  /* unknown, expired or revoked */
    ROTATE_REUSED,   /* an already rotated token: its session is now revoked */
    ROTATE_INACTIVE, /* the account is deactivated: its session is now revoked */
    ROTATE_DB_ERROR,
};

/* Atomically rotate the refresh token with digest 'digest' to its successor
 * 'next_digest' (own transaction, rows locked). */
enum rotate_result session_rotate(const char *digest, const char *next_digest, char sid[37],
                                  char user_id[37]);

/* ---- email_tokens.c ---- */

enum email_purpose { PURPOSE_VERIFY, PURPOSE_RESET };

/* Inside the caller's transaction: store a new token of 'purpose' for
 * 'user_id' lasting 'ttl' seconds; the token into 'token' and its expiry
 * (ISO 8601) into 'expires_at'. 0 or -1. */
int email_token_create(const char *user_id, enum email_purpose purpose, long ttl,
                       char token[TOKEN_LEN + 1], char expires_at[40]);

/* Inside the caller's transaction: mark the unused, unexpired token with
 * digest 'digest' used and put its user into 'user_id'. 1 when consumed, 0
 * when invalid/used/expired, -1 on failure. Other unused tokens of that user
 * and purpose are spent too (only the newest link should work). */
int email_token_consume(const char *digest, enum email_purpose purpose, char user_id[37]);

/* The user of a valid token without consuming it: 1 / 0 / -1 like above. */
int email_token_peek(const char *digest, enum email_purpose purpose, char user_id[37]);

/* Tokens of 'purpose' issued to 'user_id' in the last hour, -1 on failure. */
int email_token_recent(const char *user_id, enum email_purpose purpose);

enum { EMAIL_TOKENS_PER_HOUR = 5 };

/* ---- user_events.c (all inside the caller's transaction; 0 or -1) ---- */

int emit_user_registered(const PGresult *r, int row);
int emit_verification_requested(const PGresult *r, int row, const char *token,
                                const char *expires_at);
int emit_reset_requested(const PGresult *r, int row, const char *token, const char *expires_at);
int emit_email_verified(const char *user_id, const char *email);
int emit_password_changed(const char *user_id, const char *email, const char *reason);
int emit_role_changed(const char *user_id, const char *old_role, const char *new_role,
                      const char *changed_by);

/* ---- accounts.c ---- */

struct new_account {
    const char *email, *password, *first_name, *last_name; /* owned by the body */
    const char *role;
    bool email_verified;
};

/* Validate the shared fields of a new account from 'body' into 'a' (strings
 * borrowed from body); adds errors. */
void account_read(json_t *body, struct new_account *a, json_t **errors);

/* Create the account (hash, insert, verification token, events) and answer
 * 201 with the user, 409 for a taken email, 5xx on failure. */
void account_create(struct http_exchange *x, const struct new_account *a);

/* Create an account outside a request (bootstrap). 1 created, 0 email taken,
 * -1 failure. The caller holds an open transaction. */
int account_insert_tx(const struct new_account *a, const char *hash, PGresult **out);

/* ---- route tables ---- */

int routes_auth(struct http_server *srv);
int routes_sessions(struct http_server *srv);
int routes_email(struct http_server *srv);
int routes_admin(struct http_server *srv);

/* ---- user_status.c ---- */

/* Subscribe to user.deactivated / user.activated (before events start). */
int user_status_subscribe(void);

/* ---- bootstrap.c ---- */

/* Create the first SUPERADMIN from SUPERADMIN_EMAIL / SUPERADMIN_PASSWORD
 * when none exists. 0, or -1 when the configuration is unusable. */
int bootstrap_superadmin(void);

#endif
