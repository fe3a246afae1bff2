/*
 * test_gateway_redis_pipe.c - the gateway's pipelined Redis protocol layer
 * (services/gateway/redis_pipe.c, compiled in): encoding, replies matched to
 * calls in order across arbitrary read boundaries, detached calls, failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../services/gateway/redis_pipe.c"

#include <stdio.h>

/* A string literal and its length. */
#define STRLIT(s) (s), sizeof(s) - 1

struct seen {
    int calls, nulls;
    char log[256];
};

static void record(void *data, redisReply *r)
{
    struct seen *s = data;
    s->calls++;
    char item[64];
    if (!r) {
        s->nulls++;
        snprintf(item, sizeof item, "null;");
    } else if (r->type == REDIS_REPLY_INTEGER) {
        snprintf(item, sizeof item, "i%lld;", r->integer);
    } else if (r->type == REDIS_REPLY_ARRAY) {
        snprintf(item, sizeof item, "a%zu;", r->elements);
    } else {
        snprintf(item, sizeof item, "%d:%s;", r->type, r->str ? r->str : "");
    }
    strncat(s->log, item, sizeof s->log - strlen(s->log) - 1);
}

static struct gw_redis_call *push2(struct gw_redis_pipe *p, const char *a, const char *b,
                                   struct seen *s)
{
    const char *argv[] = {a, b};
    size_t lens[] = {strlen(a), strlen(b)};
    return gw_redis_pipe_push(p, 2, argv, lens, record, s);
}

static void test_encoding(void **state)
{
    (void)state;
    struct gw_redis_pipe p;
    struct seen s = {0};
    assert_int_equal(gw_redis_pipe_init(&p), 0);
    assert_non_null(push2(&p, "GET", "k", &s));
    const char *argv[] = {"SET", "key with space", "v\r\n"};
    size_t lens[] = {3, 14, 3};
    assert_non_null(gw_redis_pipe_push(&p, 3, argv, lens, record, &s));
    char *out;
    size_t len;
    assert_true(gw_redis_pipe_take_output(&p, &out, &len));
    const char want[] = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
                        "*3\r\n$3\r\nSET\r\n$14\r\nkey with space\r\n$3\r\nv\r\n\r\n";
    assert_int_equal(len, sizeof want - 1);
    assert_memory_equal(out, want, len);
    free(out);
    assert_false(gw_redis_pipe_take_output(&p, &out, &len));
    assert_int_equal(p.pending, 2);
    gw_redis_pipe_dispose(&p);
    assert_int_equal(s.nulls, 2); /* dispose fails what is still pending */
}

static void test_replies_in_order_across_chunks(void **state)
{
    (void)state;
    struct gw_redis_pipe p;
    struct seen s = {0};
    assert_int_equal(gw_redis_pipe_init(&p), 0);
    for (int i = 0; i < 4; i++)
        assert_non_null(push2(&p, "EVALSHA", "x", &s));
    const char in[] =
        "+OK\r\n:42\r\n*4\r\n:1\r\n:2\r\n:3\r\n:0\r\n-NOSCRIPT No matching script\r\n";
    /* one byte at a time: every boundary is a read boundary somewhere */
    for (size_t i = 0; i < sizeof in - 1; i++)
        assert_int_equal(gw_redis_pipe_feed(&p, in + i, 1), 0);
    assert_int_equal(s.calls, 4);
    assert_string_equal(s.log, "5:OK;i42;a4;6:NOSCRIPT No matching script;");
    assert_int_equal(p.pending, 0);
    gw_redis_pipe_dispose(&p);
}

static void test_detached_calls_keep_their_place(void **state)
{
    (void)state;
    struct gw_redis_pipe p;
    struct seen a = {0}, b = {0};
    assert_int_equal(gw_redis_pipe_init(&p), 0);
    struct gw_redis_call *first = push2(&p, "GET", "a", &a);
    assert_non_null(push2(&p, "GET", "b", &b));
    gw_redis_call_detach(first); /* its request timed out */
    assert_int_equal(gw_redis_pipe_feed(&p, STRLIT(":1\r\n:2\r\n")), 0);
    assert_int_equal(a.calls, 0);
    assert_string_equal(b.log, "i2;"); /* the second reply went to the second call */
    gw_redis_pipe_dispose(&p);
}

static void test_unasked_reply_and_garbage_fail(void **state)
{
    (void)state;
    struct gw_redis_pipe p;
    struct seen s = {0};
    assert_int_equal(gw_redis_pipe_init(&p), 0);
    assert_int_equal(gw_redis_pipe_feed(&p, STRLIT(":1\r\n")), -1);
    gw_redis_pipe_reset(&p);
    assert_non_null(push2(&p, "GET", "a", &s));
    assert_int_equal(gw_redis_pipe_feed(&p, STRLIT("?bogus\r\n")), -1);
    gw_redis_pipe_reset(&p); /* what the connection does on -1 */
    assert_int_equal(s.nulls, 1);
    /* the reset pipe works like a fresh one */
    assert_non_null(push2(&p, "GET", "a", &s));
    assert_int_equal(gw_redis_pipe_feed(&p, STRLIT("$-1\r\n")), 0);
    assert_int_equal(s.calls, 2);
    gw_redis_pipe_dispose(&p);
}

static struct gw_redis_pipe *g_pipe;
static struct seen g_again;

/* A callback that queues another command (the NOSCRIPT -> EVAL retry). */
static void push_again(void *data, redisReply *r)
{
    (void)data;
    assert_non_null(r);
    assert_non_null(push2(g_pipe, "EVAL", "script", &g_again));
}

static void test_callback_may_push(void **state)
{
    (void)state;
    struct gw_redis_pipe p;
    g_pipe = &p;
    memset(&g_again, 0, sizeof g_again);
    assert_int_equal(gw_redis_pipe_init(&p), 0);
    const char *argv[] = {"EVALSHA", "x"};
    size_t lens[] = {7, 1};
    assert_non_null(gw_redis_pipe_push(&p, 2, argv, lens, push_again, NULL));
    assert_int_equal(gw_redis_pipe_feed(&p, STRLIT("-NOSCRIPT\r\n:7\r\n")), 0);
    assert_string_equal(g_again.log, "i7;");
    gw_redis_pipe_dispose(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_replies_in_order_across_chunks),
        cmocka_unit_test(test_detached_calls_keep_their_place),
        cmocka_unit_test(test_unasked_reply_and_garbage_fail),
        cmocka_unit_test(test_callback_may_push),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
