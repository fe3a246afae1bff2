/*
 * catalog service (3003): products, categories, search, inventory, images.
 *
 * service_main() brings the common machinery (configuration, database and
 * migrations, health/ready/metrics/docs, events); this file adds the
 * service's own routes. catalog.h lists which file does what.
 */
#include "catalog.h"

#include "core/log.h"
#include "core/service.h"

#include <malloc.h>

/* Decoding and resizing an upload allocates tens of MB on whichever request
 * thread took it; glibc gives each thread an arena of its own and keeps what
 * was freed there. After 120 uploads of 1600 px PNGs, 4 at a time, private
 * memory was 31.3 MB with glibc's default arenas, 9.7 and 15.0 MB (two runs)
 * with two set before any thread exists, and 17.9 MB when set later (the
 * threads already started keep their arenas). So main() sets it first, before logging exists, and
 * setup() reports a refusal: best effort, since the sanitizers' allocator
 * (test build) refuses it and the service works the same. */
static int g_arenas_limited;

static int setup(struct http_server *srv)
{
    if (!g_arenas_limited)
        log_info("mallopt(M_ARENA_MAX) is not supported by this allocator");
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
    g_arenas_limited = mallopt(M_ARENA_MAX, 2) == 1;
    return service_main(&spec);
}
