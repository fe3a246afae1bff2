/*
 * security_headers.c - helmet's default response headers, on every response
 * the gateway sends: its own, the problem documents, h2o's protocol errors
 * and the proxied ones. A header the upstream already set is left as it is
 * (a service that knows better, say a stricter CSP, wins).
 *
 * Content-Security-Policy is helmet's default policy, which the gateway's
 * Swagger UI page at /docs satisfies: its start-up script is a file
 * (/docs/swagger-init.js), not an inline block, and its inline styles are
 * allowed by style-src 'unsafe-inline'. Two directives depend on HTTPS:
 * Strict-Transport-Security and upgrade-insecure-requests are sent only when
 * the request came over TLS, or carried "X-Forwarded-Proto: https" and
 * TRUST_PROXY is on (a TLS-terminating proxy in front). Over plain HTTP the
 * first is ignored by browsers anyway, and the second would make them fetch
 * /docs' scripts over an HTTPS port nobody listens on.
 */
#include "gateway.h"

#include <strings.h>

struct header {
    const char *name; /* lower case, as h2o keeps names */
    const char *value;
};

#define CSP_BASE                                                                                   \
    "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';"          \
    "frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';"             \
    "script-src-attr 'none';style-src 'self' https: 'unsafe-inline'"

static const struct header always[] = {
    {"cross-origin-opener-policy", "same-origin"},
    {"cross-origin-resource-policy", "same-origin"},
    {"origin-agent-cluster", "?1"},
    {"referrer-policy", "no-referrer"},
    {"x-content-type-options", "nosniff"},
    {"x-dns-prefetch-control", "off"},
    {"x-download-options", "noopen"},
    {"x-frame-options", "SAMEORIGIN"},
    {"x-permitted-cross-domain-policies", "none"},
    {"x-xss-protection", "0"},
};

static const struct header over_http = {"content-security-policy", CSP_BASE};
static const struct header over_https[] = {
    {"content-security-policy", CSP_BASE ";upgrade-insecure-requests"},
    {"strict-transport-security", "max-age=15552000; includeSubDomains"},
};

static bool came_over_https(h2o_req_t *req)
{
    if (req->scheme == &H2O_URL_SCHEME_HTTPS)
        return true;
    if (!gw_settings.trust_proxy)
        return false;
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-forwarded-proto"), -1);
    if (i == -1)
        return false;
    h2o_iovec_t v = req->headers.entries[i].value;
    return v.len == 5 && strncasecmp(v.base, "https", 5) == 0;
}

static void add_missing(h2o_req_t *req, const struct header *h)
{
    size_t n = strlen(h->name);
    if (h2o_find_header_by_str(&req->res.headers, h->name, n, -1) != -1)
        return;
    h2o_add_header_by_str(&req->pool, &req->res.headers, h->name, n, 1, NULL, h->value,
                          strlen(h->value));
}

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        add_missing(req, &always[i]);
    if (came_over_https(req)) {
        for (size_t i = 0; i < sizeof over_https / sizeof over_https[0]; i++)
            add_missing(req, &over_https[i]);
    } else {
        add_missing(req, &over_http);
    }
    h2o_setup_next_ostream(req, slot);
}

void gw_security_headers_register(h2o_pathconf_t *pathconf)
{
    h2o_filter_t *f = h2o_create_filter(pathconf, sizeof *f);
    f->on_setup_ostream = on_setup_ostream;
}
