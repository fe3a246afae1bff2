/*
 * guard_routes.c - the public-route table and the strict-bucket table.
 *
 * Everything under a routed prefix (upstreams.c) needs a valid bearer token
 * unless a row below says otherwise. The auth routes are exact paths: a
 * prefix row for /auth/verify-email would also open /auth/verify-email/resend,
 * which needs a token. POST /auth/logout is public because it accepts the
 * refresh token in its body (the auth service authenticates the call itself
 * when the body has none). /socket.io is public: the realtime service checks
 * the token of the Socket.IO handshake itself. /services/<name>/health is the
 * services' liveness, as public as the gateway's own /health.
 */
#include "guard_routes.h"

#include <string.h>

static const struct gw_route_rule public_routes[] = {
    {GW_M_POST, GW_EXACT, "/auth/register"},
    {GW_M_POST, GW_EXACT, "/auth/login"},
    {GW_M_POST, GW_EXACT, "/auth/refresh"},
    {GW_M_POST, GW_EXACT, "/auth/logout"},
    {GW_M_POST, GW_EXACT, "/auth/password/forgot"},
    {GW_M_POST, GW_EXACT, "/auth/password/reset"},
    {GW_M_POST, GW_EXACT, "/auth/verify-email"},
    {GW_M_READ, GW_PREFIX, "/products"},
    {GW_M_READ, GW_PREFIX, "/categories"},
    {GW_M_ANY, GW_PREFIX, "/socket.io"},
    {GW_M_READ, GW_PREFIX, "/services"},
};

/* Brute-force targets: a tighter budget per client address. */
static const struct gw_route_rule auth_strict_routes[] = {
    {GW_M_POST, GW_EXACT, "/auth/login"},
    {GW_M_POST, GW_EXACT, "/auth/register"},
};

unsigned gw_method_bit(const char *method, size_t len)
{
    static const struct {
        const char *name;
        unsigned bit;
    } known[] = {{"GET", GW_M_GET},        {"HEAD", GW_M_HEAD},   {"POST", GW_M_POST},
                 {"PUT", GW_M_PUT},        {"PATCH", GW_M_PATCH}, {"DELETE", GW_M_DELETE},
                 {"OPTIONS", GW_M_OPTIONS}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (len == strlen(known[i].name) && memcmp(method, known[i].name, len) == 0)
            return known[i].bit;
    return GW_M_OTHER;
}

bool gw_rule_path_matches(const struct gw_route_rule *r, const char *path, size_t len)
{
    size_t n = strlen(r->path);
    if (len < n || memcmp(path, r->path, n) != 0)
        return false;
    if (len == n)
        return true;
    return r->match == GW_PREFIX && path[n] == '/';
}

bool gw_rules_match(const struct gw_route_rule *rules, size_t n, const char *method, size_t mlen,
                    const char *path, size_t plen)
{
    unsigned bit = gw_method_bit(method, mlen);
    for (size_t i = 0; i < n; i++)
        if ((rules[i].methods & bit) && gw_rule_path_matches(&rules[i], path, plen))
            return true;
    return false;
}

bool gw_route_is_public(const char *method, size_t mlen, const char *path, size_t plen)
{
    return gw_rules_match(public_routes, sizeof public_routes / sizeof public_routes[0], method,
                          mlen, path, plen);
}

bool gw_route_is_auth_strict(const char *method, size_t mlen, const char *path, size_t plen)
{
    return gw_rules_match(auth_strict_routes,
                          sizeof auth_strict_routes / sizeof auth_strict_routes[0], method, mlen,
                          path, plen);
}
