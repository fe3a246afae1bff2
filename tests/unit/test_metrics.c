/* Unit tests for the Prometheus exposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"

static void counts_and_histogram(void **state)
{
    (void)state;
    metrics_reset();
    metrics_observe("GET", "/orders/:id", 200, 0.003);
    metrics_observe("GET", "/orders/:id", 200, 0.2);
    metrics_observe("GET", "/orders/:id", 404, 20.0);
    metrics_inflight(1);
    char *t = metrics_render("orders");
    assert_non_null(t);
    assert_non_null(strstr(t, "http_requests_total{service=\"orders\",method=\"GET\","
                              "route=\"/orders/:id\",status=\"200\"} 2\n"));
    assert_non_null(strstr(t, "status=\"404\"} 1\n"));
    /* cumulative buckets: 0.005 holds one, 0.25 holds two, +Inf all three */
    assert_non_null(strstr(t, "le=\"0.005\"} 1\n"));
    assert_non_null(strstr(t, "le=\"0.25\"} 2\n"));
    assert_non_null(strstr(t, "le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(t, "http_request_duration_seconds_count{service=\"orders\","
                              "method=\"GET\",route=\"/orders/:id\"} 3\n"));
    assert_non_null(strstr(t, "http_requests_in_flight{service=\"orders\"} 1\n"));
    assert_non_null(strstr(t, "# TYPE http_request_duration_seconds histogram"));
    free(t);
    metrics_inflight(-1);
    metrics_reset();
}

static void many_statuses_stay_bounded(void **state)
{
    (void)state;
    metrics_reset();
    for (int s = 200; s < 220; s++)
        metrics_observe("GET", "/x", s, 0.001);
    char *t = metrics_render("svc");
    assert_non_null(t);
    /* eight series per route at most */
    int n = 0;
    for (char *p = t; (p = strstr(p, "http_requests_total{")); p++)
        n++;
    assert_int_equal(n, 8);
    free(t);
    metrics_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_and_histogram),
        cmocka_unit_test(many_statuses_stay_bounded),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
