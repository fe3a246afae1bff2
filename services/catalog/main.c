/*
 * catalog service (3003): products, categories, search, inventory, images.
 *
 * service_main() brings the common machinery (configuration, database and
 * migrations, health/ready/metrics/docs, events); this file adds the
 * service's own routes. catalog.h lists which file does what.
 */
#include "catalog.h"

#include "core/service.h"

static int setup(struct http_server *srv)
{
    return routes_products(srv) | routes_search(srv) | routes_categories(srv) |
           routes_inventory(srv) | routes_images(srv);
}

int main(void)
{
    static const struct service_spec spec = {
        .name = "catalog",
        .port_env = "CATALOG_SERVICE_PORT",
        .default_port = 3003,
        .needs = SERVICE_DB | SERVICE_REDIS | SERVICE_EVENTS,
        .setup = setup,
    };
    return service_main(&spec);
}
