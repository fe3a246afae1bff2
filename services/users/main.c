/*
 * users service (3002): profiles, addresses, preferences, user administration.
 *
 * service_main() brings the common machinery (configuration, database and
 * migrations, health/ready/metrics/docs, events); this file lists the
 * service's own parts. Each part registers its routes (see routes.h).
 */
#include "routes.h"

#include "core/log.h"
#include "core/service.h"

static int setup(struct http_server *srv)
{
    if (profile_routes(srv) || addresses_routes(srv) || preferences_routes(srv) ||
        admin_routes(srv)) {
        log_error("users: route registration failed");
        return -1;
    }
    return 0;
}

int main(void)
{
    static const struct service_spec spec = {
        .name = "users",
        .port_env = "USERS_SERVICE_PORT",
        .default_port = 3002,
        .needs = SERVICE_DB | SERVICE_EVENTS,
        .subscribe = consumers_subscribe,
        .setup = setup,
    };
    return service_main(&spec);
}
