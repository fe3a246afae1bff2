/*
 * payments service (3006): payment intents, transactions, refunds.
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
        .name = "payments",
        .port_env = "PAYMENTS_SERVICE_PORT",
        .default_port = 3006,
        .needs = SERVICE_DB | SERVICE_EVENTS,
        .setup = setup,
    };
    return service_main(&spec);
}
