/*
 * auth.h - access tokens: signing (auth service) and verification (every
 * service, and the gateway).
 *
 * Access tokens are JWTs, HS256 over JWT_SECRET, with claims sub, email,
 * role, permissions, jti, iat, exp, iss (JWT_ISSUER) and aud (JWT_AUDIENCE).
 * Verification accepts exactly HS256: "alg":"none" or any other algorithm,
 * a bad signature, a wrong issuer or audience, a missing or past exp are all
 * rejected. Every service checks tokens itself rather than trusting the
 * gateway, so a request that bypasses the gateway gains nothing.
 */
#ifndef CORE_AUTH_H
#define CORE_AUTH_H

#include "core/http.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct auth_claims {
    char sub[64]; /* user id (UUID) */
    char email[321];
    char role[16]; /* SUPERADMIN | ADMIN | SELLER | CUSTOMER */
    char jti[64];
    char sid[64]; /* session id (optional; the auth service's session) */
    long iat, exp;
    json_t *permissions; /* array of "module:action"; owned, see auth_claims_clear */
};

/* Read JWT_SECRET (a secret: production refuses the default), JWT_ISSUER,
 * JWT_AUDIENCE and JWT_ACCESS_EXPIRES_IN. Call once at start. 0 or -1. */
int auth_configure(void);

/* Access token lifetime in seconds (JWT_ACCESS_EXPIRES_IN). */
long auth_access_ttl(void);

/* Sign an access token for the claims (iat/exp/jti are filled in when zero or
 * empty). Returns a string the caller frees, or NULL. */
char *auth_sign(struct auth_claims *c);

/* Verify 'token' at time 'now' into *out (caller clears with
 * auth_claims_clear). Returns 0, or -1 with a short reason in 'why'. */
int auth_verify(const char *token, time_t now, struct auth_claims *out, char *why, size_t n);

/* Free what a claims struct owns. */
void auth_claims_clear(struct auth_claims *c);

/* True when the claims carry permission 'perm' ("orders:read"). */
bool auth_has_permission(const struct auth_claims *c, const char *perm);

/* ---- ended sessions (Redis) ---- */

/* Refuse every access token of session 'sid' from now until it would have
 * expired (the auth service calls this whenever it ends a session). 0, or
 * -1 when Redis could not be written (logged). */
int auth_session_end(const char *sid);
/* 1 when session 'sid' has ended, 0 when not, -1 when Redis cannot tell. */
int auth_session_ended(const char *sid);

/* ---- for handlers: one line per route ---- */

/* The verified caller of this request, or NULL after sending 401
 * problem+json (missing, malformed, expired or tampered token, or one whose
 * session has ended; when Redis cannot tell, the token is accepted). The claims
 * belong to the exchange and are freed when the request ends. */
const struct auth_claims *http_authenticate(struct http_exchange *x);

/* The caller when it holds 'perm'; else NULL after sending 401 or 403. */
const struct auth_claims *http_require(struct http_exchange *x, const char *perm);

/* The caller when its role is one of 'roles' (NULL-terminated); else NULL
 * after sending 401 or 403. */
const struct auth_claims *http_require_role(struct http_exchange *x, const char *const *roles);

#endif
