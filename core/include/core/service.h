/*
 * service.h - the common life of a service binary.
 *
 * service_main() does everything a service needs before and around its own
 * routes: loads .env, reads configuration, connects to and migrates its
 * database (core scope first, then its own), registers /health, /ready,
 * /metrics, /docs and /docs/openapi.json, starts the event threads, serves
 * until SIGTERM/SIGINT, then shuts down in order and frees everything (so
 * LeakSanitizer sees a clean exit).
 *
 * Paths are relative to APP_ROOT (default "."):
 *   core/migrations, services/<name>/migrations, services/<name>/openapi.json,
 *   and SWAGGER_UI_DIR (default node_modules/swagger-ui-dist).
 */
#ifndef CORE_SERVICE_H
#define CORE_SERVICE_H

#include "core/http.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum service_needs {
    SERVICE_DB = 1 << 0,     /* <NAME>_DATABASE_URL, migrations */
    SERVICE_REDIS = 1 << 1,  /* REDIS_URL */
    SERVICE_EVENTS = 1 << 2, /* RABBITMQ_URL, outbox relay (requires SERVICE_DB) */
};

struct service_spec {
    const char *name;     /* "auth": logs, metrics, queues, <NAME>_DATABASE_URL */
    const char *port_env; /* "AUTH_SERVICE_PORT" */
    int default_port;
    unsigned needs; /* enum service_needs */
    /* Optional: register event consumers (events_subscribe). Runs before the
     * event threads start. 0 or -1. */
    int (*subscribe)(void);
    /* Register routes. 0 or -1. */
    int (*setup)(struct http_server *srv);
    /* Optional: free what setup() allocated. Called after the server stopped. */
    void (*teardown)(void);
};

/* Run the service; returns the process exit code. */
int service_main(const struct service_spec *spec);

/* ---- pieces shared with services that do not run on Ulfius (realtime) ---- */

/* Everything service_main() does before serving HTTP: .env, logging, signal
 * mask (SIGTERM/SIGINT blocked in every thread started afterwards), token
 * verification settings (auth_configure), database and migrations, Redis,
 * subscribe(), event threads. 0 or -1 (already cleaned up). */
int service_start(const struct service_spec *spec);

/* Everything after serving: event threads, teardown(), connections, metrics. */
void service_stop(const struct service_spec *spec);

/* Check the dependencies in 'needs' from the calling thread. Returns 200 when
 * all answer, else 503; *report (caller owns) is
 * {"status":"ready"|"unavailable","checks":{"postgres":"ok"|"<reason>",...}}. */
int service_readiness(unsigned needs, json_t **report);

/* A file under APP_ROOT/'rel' read whole; caller frees. NULL when missing. */
char *service_read_file(const char *rel, size_t *len);

/* Content type from a file name's extension. */
const char *service_content_type(const char *name);

/* The service's OpenAPI document (services/<name>/openapi.json) with the
 * standard endpoints and the Problem schema of core/openapi/standard.json
 * merged in where the service does not define them. Caller owns it; NULL
 * when the service has no document. */
json_t *service_openapi(const char *name);

/* The Swagger UI page for an OpenAPI document at 'spec_url'; caller frees. */
char *service_docs_page(const char *title, const char *spec_url);

/* Read a swagger-ui-dist asset by bare file name (no '/' or ".." accepted);
 * caller frees. NULL when not found or the name is unsafe. */
char *service_swagger_asset(const char *name, size_t *len);

/* Block until SIGTERM or SIGINT (which must be blocked in all threads: call
 * service_block_signals() first, before starting any thread). */
void service_block_signals(void);
void service_wait_for_signal(void);

/* Load .env, init logging for 'name'. Call first. */
void service_init_process(const char *name);

/* Database URL for service 'name': <NAME>_DATABASE_URL or a local default;
 * production requires it to be set. Returned string is from the environment
 * or static; do not free. */
const char *service_database_url(const char *name);

#endif
