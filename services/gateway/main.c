/*
 * API gateway (3000): the one public entry point of the platform.
 *
 * Routes by path prefix to the services (upstreams.c), adds request ids and
 * trace context, answers failures as problem+json, logs and counts every
 * request, and serves /health, /ready, /metrics and the merged API docs at
 * /docs. gateway.h shows how the pieces fit; this file reads the settings,
 * builds the h2o configuration and runs the server until SIGTERM/SIGINT.
 *
 * Environment (see .env.example): BIND_ADDRESS, GATEWAY_PORT, *_SERVICE_URL,
 * GATEWAY_UPSTREAM_TIMEOUT (s), GATEWAY_MAX_URL_BYTES, GATEWAY_MAX_HEADER_BYTES,
 * HTTP_MAX_BODY_BYTES (x16 = largest request body passed through), GATEWAY_THREADS (default: CPUs),
 * GATEWAY_REUSEPORT (default on: one SO_REUSEPORT socket per thread; off: one shared), APP_ROOT,
 * SWAGGER_UI_DIR, LOG_LEVEL; JWT_SECRET/JWT_ISSUER/JWT_AUDIENCE (token check),
 * RATE_LIMIT_* and REDIS_URL (ratelimit.c), CORS_ORIGINS, TRUST_PROXY (default off:
 * X-Forwarded-For/-Proto of the peer are believed only when on).
 */
#include "gateway.h"
#include "openapi_merge.h"

#include "core/auth.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/service.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UPSTREAM_KEEPALIVE_MS 2000 /* idle pooled connections close after this */
#define SHUTDOWN_GRACE_MS 10000    /* open connections get this long to finish */

struct gw_settings gw_settings;

/* For LeakSanitizer (test build): h2o 2.2 keeps up to 16 freed memory-pool
 * chunks per thread in a static thread-local free list (lib/common/memory.c)
 * that no API releases; when an event-loop thread ends they are unreachable
 * though nothing leaked. Everything else is freed, and checked. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:h2o_mem_alloc_recycle\n";
}

static const char *const documented_services[] = {
    "auth", "users", "catalog", "cart", "orders", "payments", "notifications", "realtime", NULL};

/* The start-up script of Swagger UI, served as /docs/swagger-init.js: a file
 * rather than an inline <script>, so the page works under the CSP
 * script-src 'self' (security_headers.c). The document's URL stays in the
 * page (data-url), where readers of the page look for it. No validator
 * badge: it would load an image from validator.swagger.io, which img-src
 * does not allow. */
static const char docs_init[] =
    "window.ui = SwaggerUIBundle({url: document.getElementById(\"swagger-ui\").dataset.url, "
    "dom_id: \"#swagger-ui\", "
    "deepLinking: true, validatorUrl: null, presets: [SwaggerUIBundle.presets.apis, "
    "SwaggerUIStandalonePreset], layout: \"StandaloneLayout\"});\n";

static char *make_docs_page(void)
{
    char *page = NULL;
    int n = asprintf(&page, "%s",
                     "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<title>E-commerce platform API</title>"
                     "<link rel=\"icon\" type=\"image/png\" href=\"/docs/favicon-32x32.png\">"
                     "<link rel=\"stylesheet\" href=\"/docs/swagger-ui.css\"></head>"
                     "<body><div id=\"swagger-ui\" data-url=\"/docs/openapi.json\"></div>"
                     "<script src=\"/docs/swagger-ui-bundle.js\"></script>"
                     "<script src=\"/docs/swagger-ui-standalone-preset.js\"></script>"
                     "<script src=\"/docs/swagger-init.js\"></script>"
                     "</body></html>\n");
    return n < 0 ? NULL : page;
}

/* Every path gets the request-id handler first, then the CORS preflight
 * handler, the security-header and CORS filters, and (by the caller) the
 * access logger; the handlers that produce the response follow. */
static h2o_pathconf_t *add_path(h2o_hostconf_t *host, const char *path)
{
    h2o_pathconf_t *pc = h2o_config_register_path(host, path, 0);
    pc->error_log.emit_request_errors = 0; /* the access log reports them as JSON */
    gw_request_id_register(pc);
    gw_head_limits_register(pc);
    gw_cors_register(pc);
    gw_security_headers_register(pc);
    return pc;
}

/* Note: a pathconf pointer is valid only until the next path is registered
 * (h2o keeps them in a growing vector), so each is finished before the next. */
static void register_paths(h2o_globalconf_t *conf)
{
    h2o_hostconf_t *host =
        h2o_config_register_host(conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc;

    pc = add_path(host, "/health");
    gw_endpoint_register(pc, GW_HEALTH);
    gw_access_log_register(pc, "/health", NULL);

    pc = add_path(host, "/ready");
    gw_ready_register(pc);
    gw_access_log_register(pc, "/ready", NULL);

    pc = add_path(host, "/metrics");
    gw_endpoint_register(pc, GW_METRICS);
    gw_access_log_register(pc, "/metrics", NULL);

    pc = add_path(host, "/docs");
    gw_endpoint_register(pc, GW_DOCS);
    gw_access_log_register(pc, "/docs", NULL);

    for (size_t i = 0; i < gw_num_routes; i++) {
        const struct gw_route *r = &gw_routes[i];
        pc = add_path(host, r->prefix);
        gw_auth_register(pc);
        gw_ratelimit_register(pc);
        gw_proxy_register(pc, r->upstream);
        gw_problem_filter_register(pc, r->upstream);
        gw_access_log_register(pc, r->prefix, r->upstream->name);
    }

    /* /services/<name>/health: each service's liveness through the gateway. */
    for (size_t i = 0; i < gw_num_upstreams; i++) {
        struct gw_upstream *u = &gw_upstreams[i];
        pc = add_path(host, u->health_path);
        gw_ratelimit_register(pc);
        gw_proxy_register_fixed(pc, u, u->health_path, "/health");
        gw_problem_filter_register(pc, u);
        gw_access_log_register(pc, "/services/{name}/health", u->name);
    }

    /* "/" matches every path the ones above did not (h2o takes the first
     * match in registration order). */
    pc = add_path(host, "/");
    gw_endpoint_register(pc, GW_NOT_FOUND);
    gw_access_log_register(pc, "(unmatched)", NULL);

    /* h2o binds requests it rejects before routing (malformed: 400, body too
     * large: 413, ...) to the fallback path: give those ids, problem
     * documents and log lines too. */
    h2o_pathconf_t *fb = &host->fallback_path;
    fb->error_log.emit_request_errors = 0;
    gw_request_id_register_filter(fb);
    gw_cors_register_filter(fb);
    gw_security_headers_register(fb);
    gw_problem_filter_register(fb, NULL);
    gw_access_log_register(fb, "(rejected)", NULL);
}

static char *swagger_dir(void)
{
    const char *dir = config_str("SWAGGER_UI_DIR", "node_modules/swagger-ui-dist");
    char *out = NULL;
    if (dir[0] == '/')
        return strdup(dir);
    return asprintf(&out, "%s/%s", config_str("APP_ROOT", "."), dir) < 0 ? NULL : out;
}

int main(void)
{
    service_init_process("gateway");
    gw_access_log_init();
    if (sodium_init() < 0) {
        log_error("libsodium failed to initialise");
        return 1;
    }

    const char *bind_addr = config_str("BIND_ADDRESS", "127.0.0.1");
    int port = (int)config_long("GATEWAY_PORT", 3000, 1, 65535);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = (unsigned)config_long("GATEWAY_THREADS", cpus > 0 ? cpus : 1, 1, 256);
    bool reuseport = config_bool("GATEWAY_REUSEPORT", true);
    long timeout_s = config_long("GATEWAY_UPSTREAM_TIMEOUT", 30, 1, 86400);
    long max_body = config_long("HTTP_MAX_BODY_BYTES", 1048576, 1024, 1L << 30);
    gw_settings.upstream_timeout_ms = (uint64_t)timeout_s * 1000;
    gw_settings.trust_proxy = config_bool("TRUST_PROXY", false);
    gw_settings.max_url_bytes = (size_t)config_long("GATEWAY_MAX_URL_BYTES", 8192, 256, 65536);
    gw_settings.max_header_bytes =
        (size_t)config_long("GATEWAY_MAX_HEADER_BYTES", 16384, 1024, 262144);

    /* The gateway checks bearer tokens like every service: same secret,
     * issuer and audience (production refuses the default secret). */
    if (auth_configure() != 0)
        return 2;
    if (gw_upstreams_init() != 0 || gw_cors_init() != 0 || gw_ratelimit_init() != 0)
        return 2;
    char *openapi = openapi_build(config_str("APP_ROOT", "."), documented_services);
    char *docs = make_docs_page();
    char *swagger = swagger_dir();
    if (!openapi || !docs || !swagger) {
        log_error("out of memory");
        return 1;
    }
    gw_settings.openapi = openapi;
    gw_settings.openapi_len = strlen(openapi);
    gw_settings.docs_page = docs;
    gw_settings.docs_page_len = strlen(docs);
    gw_settings.swagger_dir = swagger;
    gw_settings.docs_init = docs_init;
    gw_settings.docs_init_len = sizeof docs_init - 1;

    h2o_globalconf_t conf;
    h2o_config_init(&conf);
    conf.server_name = h2o_iovec_init(H2O_STRLIT("gateway"));
    conf.max_request_entity_size = (size_t)max_body * 16;
    conf.http1.upgrade_to_http2 = 0;
    conf.proxy.io_timeout = gw_settings.upstream_timeout_ms;
    conf.proxy.emit_x_forwarded_headers = 1;
    conf.proxy.preserve_x_forwarded_proto = 0;
    conf.proxy.emit_via_header = 0;
    register_paths(&conf);

    service_block_signals();
    int rc = 1;
    struct gw_server *srv = gw_server_new(&conf, bind_addr, port, threads, reuseport);
    if (srv) {
        gw_upstreams_set_keepalive(gw_server_first_loop(srv), UPSTREAM_KEEPALIVE_MS);
        gw_server_start(srv);
        log_info("gateway listening on %s:%d (%u threads, upstream timeout %ld s)", bind_addr, port,
                 threads, timeout_s);
        service_wait_for_signal();
        gw_server_stop(srv, SHUTDOWN_GRACE_MS);
        rc = 0;
    }
    /* Pools go after the threads (no request uses them) and before the
     * loops (their expiry timer lives on the first one). */
    gw_server_free(srv, gw_upstreams_dispose);
    if (!srv)
        gw_upstreams_dispose();
    h2o_config_dispose(&conf);
    gw_cors_dispose();
    free(openapi);
    free(docs);
    free(swagger);
    metrics_reset();
    log_info("gateway stopped");
    return rc;
}
