/*
 * service.c - the common life of a service binary. See service.h.
 */
#include "core/service.h"
#include "core/auth.h"
#include "core/config.h"
#include "core/db.h"
#include "core/events.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/migrate.h"
#include "core/redis.h"

#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct service_spec *g_spec;

/* ------------------------------------------------------------------------ */
/* files                                                                     */

/* Path APP_ROOT/rel; caller frees. */
static char *app_path(const char *rel)
{
    char *p = NULL;
    if (rel[0] == '/')
        return strdup(rel);
    if (asprintf(&p, "%s/%s", config_str("APP_ROOT", "."), rel) < 0)
        return NULL;
    return p;
}

char *service_read_file(const char *rel, size_t *len)
{
    char *path = app_path(rel);
    if (!path)
        return NULL;
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f)
        return NULL;
    char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0)
        buf = malloc((size_t)size + 1);
    if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[size] = '\0';
    *len = (size_t)size;
    return buf;
}

/* Parse APP_ROOT/rel as JSON; caller owns the result. NULL when missing or
 * malformed (logged). */
static json_t *json_load_file_app(const char *rel)
{
    size_t len = 0;
    char *text = service_read_file(rel, &len);
    if (!text)
        return NULL;
    json_error_t err;
    json_t *doc = json_loadb(text, len, 0, &err);
    free(text);
    if (!doc)
        log_error("%s: invalid JSON at line %d: %s", rel, err.line, err.text);
    return doc;
}

const char *service_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "application/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".png", "image/png"},
        {".map", "application/json"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

char *service_swagger_asset(const char *name, size_t *len)
{
    if (!name || !*name || strchr(name, '/') || strstr(name, "..") || name[0] == '.')
        return NULL;
    char *rel = NULL;
    if (asprintf(&rel, "%s/%s", config_str("SWAGGER_UI_DIR", "node_modules/swagger-ui-dist"),
                 name) < 0)
        return NULL;
    char *data = service_read_file(rel, len);
    free(rel);
    return data;
}

char *service_docs_page(const char *title, const char *spec_url)
{
    char *page = NULL;
    int n = asprintf(&page,
                     "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<title>%s API</title>"
                     "<link rel=\"stylesheet\" href=\"/docs/swagger-ui.css\"></head>"
                     "<body><div id=\"swagger-ui\"></div>"
                     "<script src=\"/docs/swagger-ui-bundle.js\"></script>"
                     "<script>window.ui = SwaggerUIBundle({url: \"%s\", dom_id: "
                     "\"#swagger-ui\"});</script>"
                     "</body></html>\n",
                     title, spec_url);
    return n < 0 ? NULL : page;
}

/* ------------------------------------------------------------------------ */
/* readiness                                                                 */

int service_readiness(unsigned needs, json_t **report)
{
    json_t *checks = json_object();
    int ok = 1;
    if (needs & SERVICE_DB) {
        int up = db_ping() == 0;
        json_object_set_new(checks, "postgres", json_string(up ? "ok" : "unreachable"));
        ok &= up;
    }
    if (needs & SERVICE_REDIS) {
        int up = redis_ping() == 0;
        json_object_set_new(checks, "redis", json_string(up ? "ok" : "unreachable"));
        ok &= up;
    }
    if (needs & SERVICE_EVENTS) {
        char why[128] = "";
        int up = events_ready(why, sizeof why);
        json_object_set_new(checks, "rabbitmq", json_string(up ? "ok" : why));
        ok &= up;
    }
    *report = json_pack("{s:s, s:o}", "status", ok ? "ready" : "unavailable", "checks", checks);
    return ok ? 200 : 503;
}

/* ------------------------------------------------------------------------ */
/* standard routes                                                           */

static void on_health(struct http_exchange *x)
{
    http_json(x, 200, json_pack("{s:s, s:s}", "status", "ok", "service", g_spec->name));
}

static void on_ready(struct http_exchange *x)
{
    json_t *report = NULL;
    int status = service_readiness(g_spec->needs, &report);
    json_object_set_new(report, "service", json_string(g_spec->name));
    if (status != 200) {
        /* problem+json keeps 503s uniform with every other error, and the
         * checks say which dependency failed. */
        json_t *p = http_problem_json(503, "a dependency is unavailable", "/ready", NULL);
        json_object_set(p, "checks", json_object_get(report, "checks"));
        char *s = json_dumps(p, JSON_COMPACT);
        json_decref(p);
        json_decref(report);
        http_send(x, 503, "application/problem+json", s ? s : "{}", s ? strlen(s) : 2);
        free(s);
        return;
    }
    http_json(x, 200, report);
}

static void on_metrics(struct http_exchange *x)
{
    char *text = metrics_render(g_spec->name);
    if (!text) {
        http_problem(x, 500, "cannot render metrics", NULL);
        return;
    }
    http_send(x, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
}

static void on_docs(struct http_exchange *x)
{
    char *page = service_docs_page(g_spec->name, "/docs/openapi.json");
    if (!page) {
        http_problem(x, 500, "cannot build the docs page", NULL);
        return;
    }
    http_send(x, 200, "text/html; charset=utf-8", page, strlen(page));
    free(page);
}

/* Copy every member of src[key] that dst[key] lacks (dst's own win). */
static void merge_missing(json_t *dst, json_t *src, const char *key)
{
    json_t *from = json_object_get(src, key);
    if (!json_is_object(from))
        return;
    json_t *to = json_object_get(dst, key);
    if (!json_is_object(to)) {
        to = json_object();
        json_object_set_new(dst, key, to);
    }
    const char *k;
    json_t *v;
    json_object_foreach(from, k, v)
    {
        if (!json_object_get(to, k))
            json_object_set(to, k, v);
    }
}

json_t *service_openapi(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "services/%s/openapi.json", name);
    json_t *doc = json_load_file_app(rel);
    json_t *std = json_load_file_app("core/openapi/standard.json");
    if (doc && std) {
        merge_missing(doc, std, "paths");
        json_t *comp = json_object_get(doc, "components");
        if (!json_is_object(comp)) {
            comp = json_object();
            json_object_set_new(doc, "components", comp);
        }
        merge_missing(comp, json_object_get(std, "components"), "schemas");
        merge_missing(comp, json_object_get(std, "components"), "securitySchemes");
    }
    json_decref(std);
    return doc;
}

static void on_openapi(struct http_exchange *x)
{
    json_t *doc = service_openapi(g_spec->name);
    if (!doc) {
        http_problem(x, 404, "this service has no OpenAPI document", NULL);
        return;
    }
    http_json(x, 200, doc);
}

static void on_docs_asset(struct http_exchange *x)
{
    const char *name = http_param(x, "asset");
    size_t len = 0;
    char *data = service_swagger_asset(name, &len);
    if (!data) {
        http_problem(x, 404, "no such documentation asset", NULL);
        return;
    }
    http_set_header(x, "Cache-Control", "public, max-age=3600");
    http_send(x, 200, service_content_type(name), data, len);
    free(data);
}

static int register_standard_routes(struct http_server *srv)
{
    int rc = 0;
    rc |= http_route(srv, "GET", "/health", on_health, 0, NULL);
    rc |= http_route(srv, "GET", "/ready", on_ready, 0, NULL);
    rc |= http_route(srv, "GET", "/metrics", on_metrics, 0, NULL);
    rc |= http_route(srv, "GET", "/docs", on_docs, 0, NULL);
    rc |= http_route(srv, "GET", "/docs/openapi.json", on_openapi, 0, NULL);
    rc |= http_route(srv, "GET", "/docs/:asset", on_docs_asset, 0, NULL);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* process life                                                              */

void service_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client hanging up must not kill the service */
}

void service_wait_for_signal(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;
    log_info("signal %d: shutting down", sig);
}

void service_init_process(const char *name)
{
    if (config_load_dotenv(".env") != 0)
        fprintf(stderr, "warning: .env has malformed lines (ignored)\n");
    log_init(name);
}

const char *service_database_url(const char *name)
{
    char var[64], def[256];
    size_t i = 0;
    for (; name[i] && i < 40; i++)
        var[i] = (char)toupper((unsigned char)name[i]);
    snprintf(var + i, sizeof var - i, "_DATABASE_URL");
    snprintf(def, sizeof def, "postgresql://%s:%s_dev_password@127.0.0.1:5432/%s", name, name,
             name);
    /* The URL carries the password, so it is treated as a secret: in
     * production it must be set and must not be the development default. */
    static _Thread_local char def_copy[256];
    snprintf(def_copy, sizeof def_copy, "%s", def);
    return config_secret(var, def_copy, 1);
}

/* Connect and migrate, waiting for the database for up to DB_WAIT_SECONDS
 * (services may start before PostgreSQL accepts connections). */
static int setup_database(const char *name)
{
    if (db_configure(service_database_url(name)) != 0)
        return -1;
    long wait_s = config_long("DB_WAIT_SECONDS", 30, 0, 3600);
    for (long i = 0; db_ping() != 0; i++) {
        if (i >= wait_s * 2) {
            log_error("database unreachable after %ld s", wait_s);
            return -1;
        }
        usleep(500 * 1000);
    }
    char dir[128];
    snprintf(dir, sizeof dir, "services/%s/migrations", name);
    char *core_dir = app_path("core/migrations");
    char *own_dir = app_path(dir);
    int rc = -1;
    if (core_dir && own_dir && migrate_run("core", core_dir) >= 0 &&
        migrate_run(name, own_dir) >= 0)
        rc = 0;
    free(core_dir);
    free(own_dir);
    /* The main thread's connection is not used for serving; close it. */
    db_disconnect();
    return rc;
}

/* Everything before serving. Returns 0 or -1. */
static int service_prepare(const struct service_spec *spec)
{
    /* Every service verifies tokens itself, so every service reads the JWT
     * settings (production refuses a default JWT_SECRET here). */
    if (auth_configure() != 0)
        return -1;
    if ((spec->needs & SERVICE_DB) && setup_database(spec->name) != 0)
        return -1;
    /* Every service also asks Redis whether a token's session has ended
     * (auth_session_ended), so Redis is configured everywhere; SERVICE_REDIS
     * only makes /ready depend on it. */
    if (redis_configure(config_str("REDIS_URL", "redis://127.0.0.1:6379/0")) != 0)
        return -1;
    return 0;
}

static int start_events(const struct service_spec *spec)
{
    if (!(spec->needs & SERVICE_EVENTS))
        return 0;
    const char *url = config_secret("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/", 1);
    return events_start(spec->name, url, config_str("RABBITMQ_EXCHANGE", "ecommerce.events"),
                        service_database_url(spec->name));
}

static struct http_server *make_server(const struct service_spec *spec)
{
    int port = (int)config_long(spec->port_env, spec->default_port, 1, 65535);
    unsigned threads = (unsigned)config_long("HTTP_THREADS", 4, 1, 256);
    size_t max_body = (size_t)config_long("HTTP_MAX_BODY_BYTES", 1048576, 1024, 1L << 30);
    struct http_server *srv = http_server_new(spec->name, config_str("BIND_ADDRESS", "127.0.0.1"),
                                              port, threads, max_body);
    if (!srv)
        return NULL;
    if (register_standard_routes(srv) != 0 || (spec->setup && spec->setup(srv) != 0)) {
        log_error("route registration failed");
        http_server_free(srv);
        return NULL;
    }
    return srv;
}

int service_start(const struct service_spec *spec)
{
    g_spec = spec;
    service_init_process(spec->name);
    service_block_signals();
    if (service_prepare(spec) != 0 || (spec->subscribe && spec->subscribe() != 0) ||
        start_events(spec) != 0) {
        service_stop(spec);
        return -1;
    }
    return 0;
}

void service_stop(const struct service_spec *spec)
{
    events_stop();
    if (spec->teardown)
        spec->teardown();
    redis_disconnect();
    db_shutdown();
    metrics_reset();
    log_info("%s stopped", spec->name);
}

int service_main(const struct service_spec *spec)
{
    if (service_start(spec) != 0)
        return 1;
    struct http_server *srv = make_server(spec);
    int rc = 1;
    if (srv && http_server_start(srv) == 0) {
        log_info("%s listening on port %ld", spec->name,
                 config_long(spec->port_env, spec->default_port, 1, 65535));
        service_wait_for_signal();
        rc = 0;
    }
    /* The server goes first: no request may run while the rest is freed. */
    http_server_free(srv);
    service_stop(spec);
    return rc;
}
