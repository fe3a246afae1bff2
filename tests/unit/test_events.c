/* Unit tests for the pure helpers of the events module: AMQP URLs, envelopes,
 * and the lifecycle calls that must be safe without a broker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/events.h"

static void url_defaults(void **state)
{
    (void)state;
    struct amqp_url u;
    assert_int_equal(events_parse_amqp_url("amqp://", &u), 0);
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 5672);
    assert_string_equal(u.user, "guest");
    assert_string_equal(u.password, "guest");
    assert_string_equal(u.vhost, "/");

    assert_int_equal(events_parse_amqp_url("amqp://rabbit", &u), 0);
    assert_string_equal(u.host, "rabbit");
    assert_int_equal(u.port, 5672);
    assert_string_equal(u.vhost, "/");
}

static void url_full(void **state)
{
    (void)state;
    struct amqp_url u;
    assert_int_equal(events_parse_amqp_url("amqp://app:s3cret@10.0.0.5:5998/shop", &u), 0);
    assert_string_equal(u.host, "10.0.0.5");
    assert_int_equal(u.port, 5998);
    assert_string_equal(u.user, "app");
    assert_string_equal(u.password, "s3cret");
    assert_string_equal(u.vhost, "shop");

    /* The form .env.example uses: trailing slash means the default vhost. */
    assert_int_equal(events_parse_amqp_url("amqp://guest:guest@127.0.0.1:5672/", &u), 0);
    assert_string_equal(u.vhost, "/");
    assert_int_equal(u.port, 5672);

    /* A user without a password keeps the default password. */
    assert_int_equal(events_parse_amqp_url("amqp://bob@h", &u), 0);
    assert_string_equal(u.user, "bob");
    assert_string_equal(u.password, "guest");

    /* The query (other clients' options) is ignored. */
    assert_int_equal(events_parse_amqp_url("amqp://h:1/v?heartbeat=10", &u), 0);
    assert_string_equal(u.vhost, "v");
    assert_int_equal(u.port, 1);
}

static void url_percent_decoding(void **state)
{
    (void)state;
    struct amqp_url u;
    assert_int_equal(events_parse_amqp_url("amqp://h/%2f", &u), 0);
    assert_string_equal(u.vhost, "/");
    assert_int_equal(events_parse_amqp_url("amqp://h/%2Fprod", &u), 0);
    assert_string_equal(u.vhost, "/prod");
    assert_int_equal(events_parse_amqp_url("amqp://us%40r:p%3Aw%2Fd@h", &u), 0);
    assert_string_equal(u.user, "us@r");
    assert_string_equal(u.password, "p:w/d");
}

static void url_ipv6(void **state)
{
    (void)state;
    struct amqp_url u;
    assert_int_equal(events_parse_amqp_url("amqp://[::1]:5673/", &u), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 5673);
    assert_int_equal(events_parse_amqp_url("amqp://[::1", &u), -1);
}

static void url_rejected(void **state)
{
    (void)state;
    struct amqp_url u;
    const char *bad[] = {
        "",
        "http://h/",
        "amqps://h/", /* no TLS support: refuse rather than connect in clear */
        "amqp:/h",
        "amqp://h:",
        "amqp://h:0",
        "amqp://h:65536",
        "amqp://h:56x",
        "amqp://h:123456",
        "amqp://h/a/b",
        "amqp://h/%2",
        "amqp://h/%zz",
        "amqp://h/%00",
        "amqp://u:p@x@h/",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (events_parse_amqp_url(bad[i], &u) != -1)
            fail_msg("accepted %s", bad[i]);
    }
    assert_int_equal(events_parse_amqp_url(NULL, &u), -1);
}

static void url_too_long(void **state)
{
    (void)state;
    struct amqp_url u;
    char url[600];
    memset(url, 0, sizeof url);
    strcpy(url, "amqp://");
    memset(url + 7, 'h', 300); /* longer than the host field */
    assert_int_equal(events_parse_amqp_url(url, &u), -1);

    strcpy(url, "amqp://h/");
    memset(url + 9, 'v', 200); /* longer than the vhost field */
    url[209] = '\0';
    assert_int_equal(events_parse_amqp_url(url, &u), -1);

    /* Exactly as long as fits (127 chars + NUL) is fine. */
    url[9 + 127] = '\0';
    assert_int_equal(events_parse_amqp_url(url, &u), 0);
    assert_int_equal(strlen(u.vhost), 127);
}

static const char TP[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
static const char ID[] = "0b8a4f53-6a57-4c39-9a4c-1f2b3c4d5e6f";

static void envelope_fields(void **state)
{
    (void)state;
    json_t *data = json_pack("{s:s, s:i}", "orderId", "o-1", "total", 1299);
    json_t *e = events_envelope(ID, "order.created", "orders", "2024-05-01T12:00:00.123Z", "req-1",
                                TP, data);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "id")), ID);
    assert_string_equal(json_string_value(json_object_get(e, "type")), "order.created");
    assert_string_equal(json_string_value(json_object_get(e, "source")), "orders");
    assert_string_equal(json_string_value(json_object_get(e, "occurredAt")),
                        "2024-05-01T12:00:00.123Z");
    assert_string_equal(json_string_value(json_object_get(e, "requestId")), "req-1");
    assert_string_equal(json_string_value(json_object_get(e, "traceparent")), TP);
    assert_string_equal(json_string_value(json_object_get(e, "traceId")),
                        "4bf92f3577b34da6a3ce929d0e0e4736");
    /* data is borrowed and shared, not copied */
    assert_ptr_equal(json_object_get(e, "data"), data);
    assert_int_equal(json_integer_value(json_object_get(data, "total")), 1299);
    json_decref(e);
    assert_int_equal(data->refcount, 1);
    json_decref(data);
}

static void envelope_without_context(void **state)
{
    (void)state;
    json_t *e =
        events_envelope(ID, "cart.expired", "cart", "2024-05-01T12:00:00.000Z", NULL, "", NULL);
    assert_non_null(e);
    assert_true(json_is_null(json_object_get(e, "requestId")));
    assert_true(json_is_null(json_object_get(e, "traceparent")));
    assert_true(json_is_null(json_object_get(e, "traceId")));
    assert_true(json_is_object(json_object_get(e, "data")));
    assert_int_equal(json_object_size(json_object_get(e, "data")), 0);
    json_decref(e);

    /* A malformed traceparent is dropped rather than passed on. */
    e = events_envelope(ID, "cart.expired", "cart", "t", "r", "00-garbage", NULL);
    assert_true(json_is_null(json_object_get(e, "traceparent")));
    assert_true(json_is_null(json_object_get(e, "traceId")));
    json_decref(e);
}

static void envelope_required_fields(void **state)
{
    (void)state;
    assert_null(events_envelope(NULL, "k", "s", "t", NULL, NULL, NULL));
    assert_null(events_envelope(ID, NULL, "s", "t", NULL, NULL, NULL));
    assert_null(events_envelope(ID, "k", NULL, "t", NULL, NULL, NULL));
    assert_null(events_envelope(ID, "k", "s", NULL, NULL, NULL, NULL));
}

static int ok_handler(const char *key, json_t *event, void *user_data)
{
    (void)key;
    (void)event;
    (void)user_data;
    return 0;
}

/* Without events_start(): not ready, subscriptions freed by stop, bad
 * arguments refused, stop safe to call twice. */
static void lifecycle_without_broker(void **state)
{
    (void)state;
    char why[128];
    assert_false(events_ready(why, sizeof why));
    assert_true(strlen(why) > 0);
    const char *keys[] = {"order.*", NULL};
    const char *none[] = {NULL};
    assert_int_equal(events_subscribe("audit", keys, ok_handler, NULL), 0);
    assert_int_equal(events_subscribe("", keys, ok_handler, NULL), -1);
    assert_int_equal(events_subscribe("x", none, ok_handler, NULL), -1);
    assert_int_equal(events_subscribe("x", keys, NULL, NULL), -1);
    assert_int_equal(events_start("svc", "http://nope", "ex", "dbname=x"), -1);
    assert_int_equal(events_start("", "amqp://h/", "ex", "dbname=x"), -1);
    events_stop();
    events_stop();
    assert_false(events_ready(why, sizeof why));
}

static void emit_rejects_bad_arguments(void **state)
{
    (void)state;
    json_t *arr = json_array();
    assert_int_equal(events_emit(NULL, NULL), -1);
    assert_int_equal(events_emit("", NULL), -1);
    assert_int_equal(events_emit("order.created", arr), -1);
    json_decref(arr);
    char key[300];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    assert_int_equal(events_emit(key, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_defaults),
        cmocka_unit_test(url_full),
        cmocka_unit_test(url_percent_decoding),
        cmocka_unit_test(url_ipv6),
        cmocka_unit_test(url_rejected),
        cmocka_unit_test(url_too_long),
        cmocka_unit_test(envelope_fields),
        cmocka_unit_test(envelope_without_context),
        cmocka_unit_test(envelope_required_fields),
        cmocka_unit_test(lifecycle_without_broker),
        cmocka_unit_test(emit_rejects_bad_arguments),
    };
    return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
