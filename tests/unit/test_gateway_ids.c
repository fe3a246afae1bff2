/*
 * test_gateway_ids.c - request ids and trace contexts the gateway makes for
 * requests that come without valid ones (services/gateway/ids.c, compiled in).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../services/gateway/ids.c"

#include "core/http.h"

#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_request_ids(void **state)
{
    (void)state;
    enum { N = 2000 }; /* several refills of the 4 KiB buffer */
    char(*ids)[37] = calloc(N, sizeof *ids);
    assert_non_null(ids);
    for (int i = 0; i < N; i++) {
        gw_new_request_id(ids[i]);
        assert_int_equal(strlen(ids[i]), 36);
        assert_true(http_request_id_valid(ids[i]));
        /* UUID v4 layout: 8-4-4-4-12, version 4, variant 10xx */
        assert_int_equal(ids[i][8], '-');
        assert_int_equal(ids[i][13], '-');
        assert_int_equal(ids[i][18], '-');
        assert_int_equal(ids[i][23], '-');
        assert_int_equal(ids[i][14], '4');
        assert_non_null(strchr("89ab", ids[i][19]));
        for (int k = 0; k < 36; k++)
            if (k != 8 && k != 13 && k != 18 && k != 23)
                assert_non_null(strchr("0123456789abcdef", ids[i][k]));
    }
    qsort(ids, N, sizeof *ids, cmp);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
}

static void test_traceparents(void **state)
{
    (void)state;
    char a[56], b[56];
    for (int i = 0; i < 500; i++) {
        gw_new_traceparent(a);
        gw_new_traceparent(b);
        assert_int_equal(strlen(a), 55);
        assert_true(http_traceparent_valid(a));
        assert_true(http_traceparent_valid(b));
        assert_memory_equal(a, "00-", 3);
        assert_string_equal(a + 52, "-01");        /* sampled */
        assert_memory_not_equal(a + 3, b + 3, 32); /* new trace each time */
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_ids),
        cmocka_unit_test(test_traceparents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
