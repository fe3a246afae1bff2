/*
 * guard_auth.c - bearer-token check at the door.
 *
 * On a routed path, after the request id and CORS handlers: a request that
 * guard_routes.c does not list as public needs "Authorization: Bearer <jwt>"
 * that core's auth_verify accepts (HS256 over JWT_SECRET, issuer, audience,
 * expiry; "alg":"none" and algorithm switches fail); otherwise the gateway
 * answers 401 problem+json with WWW-Authenticate, as the services would, and
 * the request never costs an upstream anything. The services still verify
 * every token themselves (defence in depth; sessions, permissions and
 * revocation are theirs to check). A valid token on a public route is noted
 * too, and an invalid one there is ignored: the route needs none.
 *
 * The verified subject goes into the request's env ("gw.sub") for the rate
 * limiter (per-user bucket) and the access log.
 */
#include "gateway.h"

#include "guard_routes.h"

#include "core/auth.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#define ENV_SUB "gw.sub"
#define MAX_TOKEN_LEN 8192 /* auth_verify refuses longer ones too */

enum token_state { TOKEN_NONE, TOKEN_VALID, TOKEN_INVALID };

/* The token of an "Authorization: Bearer <token>" header as a C string in
 * the request pool; NULL when the header is absent, of another scheme, empty
 * or oversized. */
static const char *bearer_token(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i == -1)
        return NULL;
    h2o_iovec_t v = req->headers.entries[i].value;
    if (v.len < 7 || strncasecmp(v.base, "Bearer ", 7) != 0)
        return NULL;
    size_t at = 7;
    while (at < v.len && v.base[at] == ' ')
        at++;
    if (at == v.len || v.len - at > MAX_TOKEN_LEN)
        return NULL;
    return h2o_strdup(&req->pool, v.base + at, v.len - at).base;
}

/* Verify the request's token; on success note its subject. 'why' gets the
 * reason of an invalid one. */
static enum token_state check_token(h2o_req_t *req, char *why, size_t n)
{
    const char *token = bearer_token(req);
    if (!token)
        return TOKEN_NONE;
    struct auth_claims c;
    if (auth_verify(token, time(NULL), &c, why, n) != 0)
        return TOKEN_INVALID;
    h2o_iovec_t sub = h2o_strdup(&req->pool, c.sub, strlen(c.sub));
    auth_claims_clear(&c);
    *h2o_req_getenv(req, H2O_STRLIT(ENV_SUB), 1) = sub;
    return TOKEN_VALID;
}

static void reject(h2o_req_t *req, enum token_state st, const char *why)
{
    bool missing = st == TOKEN_NONE;
    gw_guard_count(missing ? GW_C_AUTH_MISSING : GW_C_AUTH_INVALID);
    static const char plain[] = "Bearer";
    static const char invalid[] = "Bearer error=\"invalid_token\"";
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE,
                   missing ? plain : invalid, missing ? sizeof plain - 1 : sizeof invalid - 1, 1);
    gw_send_problem(req, 401, missing ? "missing bearer token" : why);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    h2o_iovec_t m = req->method, p = req->path_normalized;
    char why[64] = "invalid token";
    enum token_state st = check_token(req, why, sizeof why);
    if (st == TOKEN_VALID || gw_route_is_public(m.base, m.len, p.base, p.len))
        return -1;
    reject(req, st, why);
    return 0;
}

void gw_auth_register(h2o_pathconf_t *pathconf)
{
    h2o_handler_t *h = h2o_create_handler(pathconf, sizeof *h);
    h->on_req = on_req;
}

const h2o_iovec_t *gw_user_id(h2o_req_t *req)
{
    return h2o_req_getenv(req, H2O_STRLIT(ENV_SUB), 0);
}
