/*
 * upstreams.c - where each path prefix goes, and one kept-alive socket pool
 * per upstream service (shared by every event-loop thread and every prefix
 * that routes to the service).
 */
#include "gateway.h"

#include "core/config.h"
#include "core/log.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct gw_upstream gw_upstreams[] = {
    {.name = "auth",
     .url_env = "AUTH_SERVICE_URL",
     .def_url = "http://127.0.0.1:3001",
     .health_path = "/services/auth/health"},
    {.name = "users",
     .url_env = "USERS_SERVICE_URL",
     .def_url = "http://127.0.0.1:3002",
     .health_path = "/services/users/health"},
    {.name = "catalog",
     .url_env = "CATALOG_SERVICE_URL",
     .def_url = "http://127.0.0.1:3003",
     .health_path = "/services/catalog/health"},
    {.name = "cart",
     .url_env = "CART_SERVICE_URL",
     .def_url = "http://127.0.0.1:3004",
     .health_path = "/services/cart/health"},
    {.name = "orders",
     .url_env = "ORDERS_SERVICE_URL",
     .def_url = "http://127.0.0.1:3005",
     .health_path = "/services/orders/health"},
    {.name = "payments",
     .url_env = "PAYMENTS_SERVICE_URL",
     .def_url = "http://127.0.0.1:3006",
     .health_path = "/services/payments/health"},
    {.name = "notifications",
     .url_env = "NOTIFICATIONS_SERVICE_URL",
     .def_url = "http://127.0.0.1:3007",
     .health_path = "/services/notifications/health"},
    {.name = "realtime",
     .url_env = "REALTIME_SERVICE_URL",
     .def_url = "http://127.0.0.1:3008",
     .health_path = "/services/realtime/health"},
};
const size_t gw_num_upstreams = sizeof gw_upstreams / sizeof gw_upstreams[0];

enum { AUTH, USERS, CATALOG, CART, ORDERS, PAYMENTS, NOTIFICATIONS, REALTIME };

/* Paths are forwarded unchanged: the services register their routes with the
 * full prefix (the auth service serves /auth/login). */
const struct gw_route gw_routes[] = {
    {"/auth", &gw_upstreams[AUTH]},
    {"/users", &gw_upstreams[USERS]},
    {"/products", &gw_upstreams[CATALOG]},
    {"/categories", &gw_upstreams[CATALOG]},
    {"/inventory", &gw_upstreams[CATALOG]},
    {"/cart", &gw_upstreams[CART]},
    {"/orders", &gw_upstreams[ORDERS]},
    {"/payments", &gw_upstreams[PAYMENTS]},
    {"/notifications", &gw_upstreams[NOTIFICATIONS]},
    {"/socket.io", &gw_upstreams[REALTIME]},
};
const size_t gw_num_routes = sizeof gw_routes / sizeof gw_routes[0];

/* The URL strings the parsed h2o_url_t point into. */
static char *g_url_text[sizeof gw_upstreams / sizeof gw_upstreams[0]];

static int init_one(struct gw_upstream *u, size_t i)
{
    g_url_text[i] = strdup(config_str(u->url_env, u->def_url));
    if (!g_url_text[i])
        return -1;
    if (h2o_url_parse(g_url_text[i], strlen(g_url_text[i]), &u->url) != 0 ||
        u->url.scheme != &H2O_URL_SCHEME_HTTP) {
        log_error("%s=%s: expected an http://host:port URL", u->url_env, g_url_text[i]);
        return -1;
    }
    /* A numeric IPv4 host needs no resolver thread: connect by address. */
    struct in_addr a;
    if (h2o_hostinfo_aton(u->url.host, &a) == 0) {
        struct sockaddr_in sin = {
            .sin_family = AF_INET, .sin_port = htons(h2o_url_get_port(&u->url)), .sin_addr = a};
        h2o_socketpool_init_by_address(&u->pool, (struct sockaddr *)&sin, sizeof sin, 0, SIZE_MAX);
    } else {
        h2o_socketpool_init_by_hostport(&u->pool, u->url.host, h2o_url_get_port(&u->url), 0,
                                        SIZE_MAX);
    }
    u->pool_ready = true;
    return 0;
}

int gw_upstreams_init(void)
{
    for (size_t i = 0; i < gw_num_upstreams; i++) {
        if (init_one(&gw_upstreams[i], i) != 0) {
            gw_upstreams_dispose();
            return -1;
        }
    }
    return 0;
}

void gw_upstreams_set_keepalive(h2o_loop_t *loop, uint64_t keepalive_ms)
{
    for (size_t i = 0; i < gw_num_upstreams; i++)
        if (gw_upstreams[i].pool_ready)
            h2o_socketpool_set_timeout(&gw_upstreams[i].pool, loop, keepalive_ms);
}

void gw_upstreams_dispose(void)
{
    for (size_t i = 0; i < gw_num_upstreams; i++) {
        if (gw_upstreams[i].pool_ready)
            h2o_socketpool_dispose(&gw_upstreams[i].pool);
        gw_upstreams[i].pool_ready = false;
        free(g_url_text[i]);
        g_url_text[i] = NULL;
    }
}
