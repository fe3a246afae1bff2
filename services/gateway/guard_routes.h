/*
 * guard_routes.h - which requests the gateway lets through without a token,
 * and which get the strict (login/register) rate-limit bucket.
 *
 * Declarative tables of (methods, path, exact or prefix): a later issue that
 * opens or restricts a route adds or edits one row in guard_routes.c. No h2o
 * here: the unit tests include guard_routes.c.
 */
#ifndef GATEWAY_GUARD_ROUTES_H
#define GATEWAY_GUARD_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

/* Methods as bits, so one row can name several. */
enum {
    GW_M_GET = 1u << 0,
    GW_M_HEAD = 1u << 1,
    GW_M_POST = 1u << 2,
    GW_M_PUT = 1u << 3,
    GW_M_PATCH = 1u << 4,
    GW_M_DELETE = 1u << 5,
    GW_M_OPTIONS = 1u << 6,
    GW_M_OTHER = 1u << 7, /* any method not listed above */
    GW_M_READ = GW_M_GET | GW_M_HEAD,
    GW_M_ANY = 0xffu,
};

enum gw_path_match {
    GW_EXACT,  /* the path itself (no trailing slash, no sub-path) */
    GW_PREFIX, /* the path, or the path followed by '/' and anything */
};

struct gw_route_rule {
    unsigned methods; /* GW_M_* bits */
    enum gw_path_match match;
    const char *path;
};

/* The bit of a method name ("GET" -> GW_M_GET); GW_M_OTHER when unknown. */
unsigned gw_method_bit(const char *method, size_t len);

/* True when 'path' (normalised, without the query) matches the rule's path. */
bool gw_rule_path_matches(const struct gw_route_rule *r, const char *path, size_t len);

/* True when some rule of the table accepts method and path. */
bool gw_rules_match(const struct gw_route_rule *rules, size_t n, const char *method, size_t mlen,
                    const char *path, size_t plen);

/* Requests that need no bearer token. */
bool gw_route_is_public(const char *method, size_t mlen, const char *path, size_t plen);

/* Requests counted in the strict per-address bucket (RATE_LIMIT_AUTH_MAX). */
bool gw_route_is_auth_strict(const char *method, size_t mlen, const char *path, size_t plen);

#endif
