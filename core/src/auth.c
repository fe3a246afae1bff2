/*
 * auth.c - JWT access tokens. See auth.h.
 */
#include "core/auth.h"
#include "core/config.h"
#include "core/log.h"
#include "core/redis.h"

#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEV_SECRET "dev-access-secret-change-me-in-production-0123456789"

static const char *g_secret = DEV_SECRET;
static const char *g_issuer = "ecommerce-auth";
static const char *g_audience = "ecommerce-api";
static long g_ttl = 900;

int auth_configure(void)
{
    g_secret = config_secret("JWT_SECRET", DEV_SECRET, 32);
    g_issuer = config_str("JWT_ISSUER", "ecommerce-auth");
    g_audience = config_str("JWT_AUDIENCE", "ecommerce-api");
    g_ttl = config_duration("JWT_ACCESS_EXPIRES_IN", "15m");
    if (g_ttl <= 0) {
        log_error("JWT_ACCESS_EXPIRES_IN must be positive");
        return -1;
    }
    return 0;
}

long auth_access_ttl(void)
{
    return g_ttl;
}

void auth_claims_clear(struct auth_claims *c)
{
    if (!c)
        return;
    json_decref(c->permissions);
    c->permissions = NULL;
}

bool auth_has_permission(const struct auth_claims *c, const char *perm)
{
    size_t i;
    json_t *v;
    json_array_foreach(c->permissions, i, v)
    {
        if (json_is_string(v) && !strcmp(json_string_value(v), perm))
            return true;
    }
    return false;
}

/* Copy a string claim into a fixed field; -1 when missing or too long (a
 * token we signed never has an over-long claim, so that means tampering). */
static int copy_claim(json_t *grants, const char *name, char *dst, size_t n)
{
    const char *v = json_string_value(json_object_get(grants, name));
    if (!v || strlen(v) >= n)
        return -1;
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* True when the aud claim (string or array) contains our audience. */
static bool audience_ok(json_t *aud)
{
    if (json_is_string(aud))
        return !strcmp(json_string_value(aud), g_audience);
    size_t i;
    json_t *v;
    json_array_foreach(aud, i, v)
    {
        if (json_is_string(v) && !strcmp(json_string_value(v), g_audience))
            return true;
    }
    return false;
}

static int fail(char *why, size_t n, const char *reason)
{
    snprintf(why, n, "%s", reason);
    return -1;
}

/* Check the registered and private claims of a decoded token. */
static int check_claims(json_t *g, time_t now, struct auth_claims *out, char *why, size_t n)
{
    json_t *exp = json_object_get(g, "exp"), *iat = json_object_get(g, "iat");
    if (!json_is_integer(exp) || !json_is_integer(iat))
        return fail(why, n, "token lacks exp/iat");
    out->exp = (long)json_integer_value(exp);
    out->iat = (long)json_integer_value(iat);
    if (out->exp <= now)
        return fail(why, n, "token expired");
    if (out->iat > now + 60) /* a minute of clock skew between hosts is tolerated */
        return fail(why, n, "token issued in the future");
    const char *iss = json_string_value(json_object_get(g, "iss"));
    if (!iss || strcmp(iss, g_issuer))
        return fail(why, n, "wrong issuer");
    if (!audience_ok(json_object_get(g, "aud")))
        return fail(why, n, "wrong audience");
    if (copy_claim(g, "sub", out->sub, sizeof out->sub) ||
        copy_claim(g, "role", out->role, sizeof out->role) ||
        copy_claim(g, "jti", out->jti, sizeof out->jti))
        return fail(why, n, "token lacks sub/role/jti");
    if (copy_claim(g, "email", out->email, sizeof out->email))
        out->email[0] = '\0';
    if (copy_claim(g, "sid", out->sid, sizeof out->sid))
        out->sid[0] = '\0';
    json_t *perms = json_object_get(g, "permissions");
    out->permissions = json_is_array(perms) ? json_incref(perms) : json_array();
    return 0;
}

int auth_verify(const char *token, time_t now, struct auth_claims *out, char *why, size_t n)
{
    memset(out, 0, sizeof *out);
    if (!token || !*token || strlen(token) > 8192)
        return fail(why, n, "missing or oversized token");
    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, token, (const unsigned char *)g_secret, (int)strlen(g_secret)) != 0 ||
        !jwt)
        return fail(why, n, "bad token or signature");
    /* libjwt verifies with the algorithm the token names; insist on ours so
     * "alg":"none" or an algorithm switch cannot pass. */
    if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
        jwt_free(jwt);
        return fail(why, n, "unexpected algorithm");
    }
    char *grants = jwt_get_grants_json(jwt, NULL);
    jwt_free(jwt);
    json_t *g = grants ? json_loads(grants, 0, NULL) : NULL;
    free(grants);
    if (!json_is_object(g)) {
        json_decref(g);
        return fail(why, n, "unreadable claims");
    }
    int rc = check_claims(g, now, out, why, n);
    json_decref(g);
    if (rc != 0)
        auth_claims_clear(out);
    return rc;
}

char *auth_sign(struct auth_claims *c)
{
    time_t now = time(NULL);
    if (!c->iat)
        c->iat = (long)now;
    if (!c->exp)
        c->exp = c->iat + g_ttl;
    if (!c->jti[0])
        http_uuid4(c->jti);
    json_t *perms = c->permissions ? json_incref(c->permissions) : json_array();
    json_t *claims =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:o}", "sub", c->sub, "email", c->email,
                  "role", c->role, "jti", c->jti, "iat", (json_int_t)c->iat, "exp",
                  (json_int_t)c->exp, "iss", g_issuer, "aud", g_audience, "permissions", perms);
    if (claims && c->sid[0])
        json_object_set_new(claims, "sid", json_string(c->sid));
    char *text = claims ? json_dumps(claims, JSON_COMPACT) : NULL;
    json_decref(claims);
    jwt_t *jwt = NULL;
    char *out = NULL;
    if (text && jwt_new(&jwt) == 0 && jwt_add_grants_json(jwt, text) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)g_secret, (int)strlen(g_secret)) ==
            0)
        out = jwt_encode_str(jwt);
    jwt_free(jwt);
    free(text);
    return out;
}

/* ------------------------------------------------------------------------ */
/* ended sessions                                                            */

/* An access token cannot be recalled once issued, so ending a session (logout,
 * revocation, role change, deactivation) also writes this key: every service
 * then refuses tokens carrying the session's id until they would have expired
 * anyway (the key lives as long as an access token). */
#define ENDED_SESSION_KEY "auth:ended-session:%s"

int auth_session_end(const char *sid)
{
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%ld", auth_access_ttl());
    redisReply *r = redis_cmd("SET " ENDED_SESSION_KEY " 1 EX %s", sid, ttl);
    int ok = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    if (!ok)
        log_warn("cannot mark session %s ended in Redis: its access tokens stay valid until "
                 "they expire",
                 sid);
    return ok ? 0 : -1;
}

int auth_session_ended(const char *sid)
{
    redisReply *r = redis_cmd("EXISTS " ENDED_SESSION_KEY, sid);
    int ended = r && r->type == REDIS_REPLY_INTEGER ? r->integer > 0 : -1;
    if (r)
        freeReplyObject(r);
    return ended;
}

/* ------------------------------------------------------------------------ */
/* handler helpers                                                           */

const struct auth_claims *http_authenticate(struct http_exchange *x)
{
    if (x->auth)
        return x->auth;
    const char *h = http_header(x, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        http_set_header(x, "WWW-Authenticate", "Bearer");
        http_problem(x, 401, "missing bearer token", NULL);
        return NULL;
    }
    struct auth_claims *c = calloc(1, sizeof *c);
    char why[64];
    if (!c) {
        http_problem(x, 500, "out of memory", NULL);
        return NULL;
    }
    if (auth_verify(h + 7, time(NULL), c, why, sizeof why) != 0) {
        free(c);
        http_set_header(x, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        http_problem(x, 401, why, NULL);
        return NULL;
    }
    /* Redis unavailable (-1): the token is accepted, as every signature
     * check still holds; only a logout in the last JWT_ACCESS_EXPIRES_IN
     * goes unnoticed while Redis is down. */
    if (c->sid[0] && auth_session_ended(c->sid) == 1) {
        auth_claims_clear(c);
        free(c);
        http_set_header(x, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        http_problem(x, 401, "the session of this token has ended", NULL);
        return NULL;
    }
    x->auth = c;
    return c;
}

const struct auth_claims *http_require(struct http_exchange *x, const char *perm)
{
    const struct auth_claims *c = http_authenticate(x);
    if (c && !auth_has_permission(c, perm)) {
        char detail[128];
        snprintf(detail, sizeof detail, "requires permission %s", perm);
        http_problem(x, 403, detail, NULL);
        return NULL;
    }
    return c;
}

const struct auth_claims *http_require_role(struct http_exchange *x, const char *const *roles)
{
    const struct auth_claims *c = http_authenticate(x);
    if (!c)
        return NULL;
    for (; *roles; roles++)
        if (!strcmp(c->role, *roles))
            return c;
    http_problem(x, 403, "your role may not do this", NULL);
    return NULL;
}
