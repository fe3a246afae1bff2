/*
 * auth service (3001): accounts, passwords, tokens, sessions, roles.
 *
 * service_main() brings the common machinery (configuration, database and
 * migrations, health/ready/metrics/docs, events); this file adds the
 * service's own routes.
 */
#include "core/service.h"

static int setup(struct http_server *srv)
{
    (void)srv; /* business routes arrive with their issues */
    return 0;
}

int main(void)
{
    static const struct service_spec spec = {
        .name = "auth",
        .port_env = "AUTH_SERVICE_PORT",
        .default_port = 3001,
        .needs = SERVICE_DB | SERVICE_REDIS | SERVICE_EVENTS,
        .setup = setup,
    };
    return service_main(&spec);
}
