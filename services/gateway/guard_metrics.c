/*
 * guard_metrics.c - Prometheus counters of the guard handlers (JWT check,
 * rate limiter), rendered after core's http_* families at /metrics.
 *
 * http_requests_total already counts 401 and 429 by route, but cannot tell a
 * gateway rejection from an upstream's own answer, nor why: these can.
 * Label values are fixed here, so clients cannot grow the series.
 */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>

static atomic_ullong g_counters[GW_C_COUNT];

void gw_guard_count(enum gw_guard_counter c)
{
    if (c >= 0 && c < GW_C_COUNT)
        atomic_fetch_add_explicit(&g_counters[c], 1, memory_order_relaxed);
}

static unsigned long long value(enum gw_guard_counter c)
{
    return atomic_load_explicit(&g_counters[c], memory_order_relaxed);
}

char *gw_guard_metrics_render(void)
{
    char *out = NULL;
    int n = asprintf(
        &out,
        "# HELP gateway_auth_rejected_total Requests the gateway answered 401: bearer token "
        "missing or invalid.\n"
        "# TYPE gateway_auth_rejected_total counter\n"
        "gateway_auth_rejected_total{service=\"gateway\",reason=\"missing\"} %llu\n"
        "gateway_auth_rejected_total{service=\"gateway\",reason=\"invalid\"} %llu\n"
        "# HELP gateway_ratelimit_limited_total Requests the gateway answered 429, by bucket.\n"
        "# TYPE gateway_ratelimit_limited_total counter\n"
        "gateway_ratelimit_limited_total{service=\"gateway\",bucket=\"ip\"} %llu\n"
        "gateway_ratelimit_limited_total{service=\"gateway\",bucket=\"user\"} %llu\n"
        "gateway_ratelimit_limited_total{service=\"gateway\",bucket=\"auth\"} %llu\n"
        "# HELP gateway_ratelimit_unavailable_total Requests let through unchecked because "
        "Redis did not answer in time (the limiter fails open).\n"
        "# TYPE gateway_ratelimit_unavailable_total counter\n"
        "gateway_ratelimit_unavailable_total{service=\"gateway\"} %llu\n",
        value(GW_C_AUTH_MISSING), value(GW_C_AUTH_INVALID), value(GW_C_RL_IP), value(GW_C_RL_USER),
        value(GW_C_RL_AUTH), value(GW_C_RL_UNAVAILABLE));
    return n < 0 ? NULL : out;
}
