/*
 * auth service (3001): accounts, passwords, tokens, sessions, roles.
 *
 * service_main() brings the common machinery (configuration, database and
 * migrations, health/ready/metrics/docs, events); this file adds the
 * service's own start-up steps and routes. auth_svc.h lists which file does
 * what.
 */
#include "auth_svc.h"

#include "core/db.h"
#include "core/log.h"
#include "core/service.h"

/* Runs after migrations, before the server starts, on the main thread. */
static int setup(struct http_server *srv)
{
    if (settings_load() != 0 || password_init() != 0) {
        log_error("auth: configuration or libsodium initialisation failed");
        return -1;
    }
    int rc = bootstrap_superadmin();
    /* The main thread serves no requests: do not keep its connection. */
    db_disconnect();
    if (rc != 0)
        return -1;
    return routes_auth(srv) | routes_sessions(srv) | routes_email(srv) | routes_admin(srv);
}

int main(void)
{
    static const struct service_spec spec = {
        .name = "auth",
        .port_env = "AUTH_SERVICE_PORT",
        .default_port = 3001,
        .needs = SERVICE_DB | SERVICE_REDIS | SERVICE_EVENTS,
        .subscribe = user_status_subscribe,
        .setup = setup,
    };
    return service_main(&spec);
}
