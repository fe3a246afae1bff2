/* Unit tests for REDIS_URL parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/redis.h"

static void parses_urls(void **state)
{
    (void)state;
    struct redis_url u;
    assert_int_equal(redis_parse_url("redis://127.0.0.1:6379/0", &u), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_string_equal(u.password, "");

    assert_int_equal(redis_parse_url("redis://:s3cret@cache:7000/3", &u), 0);
    assert_string_equal(u.host, "cache");
    assert_int_equal(u.port, 7000);
    assert_int_equal(u.db, 3);
    assert_string_equal(u.password, "s3cret");

    assert_int_equal(redis_parse_url("redis://user:pw@h", &u), 0);
    assert_string_equal(u.password, "pw");
    assert_int_equal(u.port, 6379);
}

static void rejects_bad_urls(void **state)
{
    (void)state;
    struct redis_url u;
    assert_int_equal(redis_parse_url("http://x:1", &u), -1);
    assert_int_equal(redis_parse_url("redis://", &u), -1);
    assert_int_equal(redis_parse_url("redis://h:0", &u), -1);
    assert_int_equal(redis_parse_url("redis://h:70000", &u), -1);
    assert_int_equal(redis_parse_url("redis://h:1/99", &u), -1);
    assert_int_equal(redis_parse_url("redis://h:1/x", &u), -1);
    assert_int_equal(redis_parse_url(NULL, &u), -1);
    char big[600] = "redis://";
    memset(big + 8, 'a', 500);
    assert_int_equal(redis_parse_url(big, &u), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_urls),
        cmocka_unit_test(rejects_bad_urls),
    };
    return cmocka_run_group_tests_name("redis", tests, NULL, NULL);
}
