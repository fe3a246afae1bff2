/* Unit tests for the realtime service's Engine.IO sessions and Socket.IO
 * layer: handshake, long-polling, heartbeat, upgrade, limits, events and
 * acks, driven through fake connections and a fake clock. The sources have
 * no network code, so they are included directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../services/realtime/engineio.c"
#include "../../services/realtime/handlers.c"
#include "../../services/realtime/session.c"
#include "../../services/realtime/sio.c"
#include "../../services/realtime/socketio.c"
#include "../../services/realtime/strmap.c"

/* ---- fakes ---- */

struct fake_conn {
    int woken;
    int detached;
};

static void fake_wake(void *conn)
{
    ((struct fake_conn *)conn)->woken++;
}

static void fake_detach(void *conn)
{
    ((struct fake_conn *)conn)->detached++;
}

static const struct rt_net_ops fake_net = {fake_wake, fake_detach};

static const struct rt_config cfg = {
    .ping_interval_ms = 25000,
    .ping_timeout_ms = 20000,
    .upgrade_timeout_ms = 10000,
    .connect_timeout_ms = 45000,
    .max_payload = 1000000,
    .max_buffered = 4096,
};

static int setup(void **state)
{
    *state = hub_new(&cfg, &fake_net, &sio_app_ops);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    hub_free(*state);
    return 0;
}

/* The body a woken poll on 'conn' would get; caller frees. */
static char *drain(struct rt_session *s, struct fake_conn *conn)
{
    size_t len = 0;
    char *body = session_poll_drain(s, conn, &len);
    if (body)
        assert_int_equal(len, strlen(body));
    return body;
}

/* POST 'body' to the session. */
static int post(struct rt_session *s, const char *body, int64_t now)
{
    struct fake_conn c = {0};
    enum eio_error err;
    assert_true(session_post_begin(s, &c, &err));
    return session_post_body(s, &c, body, strlen(body), now);
}

/* Poll once and expect exactly 'expected'. */
static void expect_poll(struct rt_session *s, const char *expected)
{
    struct fake_conn c = {0};
    enum eio_error err;
    assert_true(session_poll_get(s, &c, &err));
    assert_int_equal(c.woken, 1);
    char *body = drain(s, &c);
    assert_non_null(body);
    assert_string_equal(body, expected);
    free(body);
}

/* A polling session past the Socket.IO CONNECT; returns its sid in 'sid'. */
static struct rt_session *connected_session(struct rt_hub *h, char sid[EIO_SID_LEN + 1])
{
    struct rt_session *s = session_open(h, EIO_TRANSPORT_POLLING, NULL, "rid-1", 0);
    assert_non_null(s);
    struct fake_conn c = {0};
    enum eio_error err;
    assert_true(session_poll_get(s, &c, &err));
    free(drain(s, &c)); /* the open packet */
    assert_int_equal(post(s, "40", 0), 0);
    assert_true(session_poll_get(s, &c, &err));
    char *body = drain(s, &c);
    assert_non_null(body);
    assert_memory_equal(body, "40{\"sid\":\"", 10);
    free(body);
    memcpy(sid, session_sid(s), EIO_SID_LEN + 1);
    return s;
}

/* Session open/close lines are info; keep the test output readable. */
static int quiet_logs(void **state)
{
    (void)state;
    setenv("LOG_LEVEL", "error", 1);
    log_init("test");
    return 0;
}

/* ---- tests ---- */

static void polling_handshake(void **state)
{
    struct rt_hub *h = *state;
    struct rt_session *s = session_open(h, EIO_TRANSPORT_POLLING, NULL, "rid-1", 0);
    assert_non_null(s);
    assert_ptr_equal(hub_find(h, session_sid(s)), s);
    assert_int_equal(hub_count(h, EIO_TRANSPORT_POLLING), 1);
    struct fake_conn c = {0};
    enum eio_error err;
    assert_true(session_poll_get(s, &c, &err));
    assert_int_equal(c.woken, 1); /* the open packet is waiting */
    char *body = drain(s, &c);
    char expected[256];
    snprintf(expected, sizeof expected,
             "0{\"sid\":\"%s\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,"
             "\"pingTimeout\":20000,\"maxPayload\":1000000}",
             session_sid(s));
    assert_string_equal(body, expected);
    free(body);
    /* nothing queued: the next poll stays parked */
    assert_true(session_poll_get(s, &c, &err));
    assert_int_equal(c.woken, 1);
    assert_null(drain(s, &c));
    /* a send wakes it */
    assert_int_equal(session_send(s, EIO_MESSAGE, "x", 1), 0);
    assert_int_equal(c.woken, 2);
    body = drain(s, &c);
    assert_string_equal(body, "4x");
    free(body);
}

static void events_and_acks(void **state)
{
    struct rt_hub *h = *state;
    char sid[EIO_SID_LEN + 1];
    struct rt_session *s = connected_session(h, sid);
    assert_true(sio_connected(s));
    assert_int_equal(sio_connected_count(), 1);
    assert_int_equal(post(s,
                          "421[\"ping\"]\x1e"
                          "422[\"echo\",1,\"two\",{\"3\":[null]}]\x1e"
                          "42[\"ping\"]\x1e"
                          "42[\"unknown\",1]",
                          0),
                     0);
    expect_poll(s, "431[\"pong\"]\x1e"
                   "432[1,\"two\",{\"3\":[null]}]\x1e"
                   "42[\"pong\"]");
}

static void unknown_namespace(void **state)
{
    struct rt_hub *h = *state;
    struct rt_session *s = session_open(h, EIO_TRANSPORT_POLLING, NULL, "r", 0);
    struct fake_conn c = {0};
    enum eio_error err;
    assert_true(session_poll_get(s, &c, &err));
    free(drain(s, &c));
    assert_int_equal(post(s, "40/admin,", 0), 0);
    expect_poll(s, "44/admin,{\"message\":\"Invalid namespace\"}");
    /* events before CONNECT are ignored */
    assert_int_equal(post(s, "421[\"ping\"]", 0), 0);
    assert_null(drain(s, &c));
}

static void heartbeat(void **state)
{
    struct rt_hub *h = *state;
    char sid[EIO_SID_LEN + 1];
    struct rt_session *s = connected_session(h, sid);
    hub_tick(h, 24999);
    struct fake_conn c = {0};
    enum eio_error err;
    assert_true(session_poll_get(s, &c, &err));
    assert_int_equal(c.woken, 0);
    hub_tick(h, 25000);
    assert_int_equal(c.woken, 1);
    char *body = drain(s, &c);
    assert_string_equal(body, "2");
    free(body);
    /* pong in time: no timeout, next ping one interval after the pong */
    assert_int_equal(post(s, "3", 30000), 0);
    hub_tick(h, 45001);
    assert_ptr_equal(hub_find(h, sid), s);
    hub_tick(h, 55000);
    assert_true(session_poll_get(s, &c, &err));
    body = drain(s, &c);
    assert_string_equal(body, "2");
    free(body);
    /* no pong: ended after ping_timeout, the parked poll is detached */
    assert_true(session_poll_get(s, &c, &err));
    hub_tick(h, 74999);
    assert_ptr_equal(hub_find(h, sid), s);
    hub_tick(h, 75000);
    assert_null(hub_find(h, sid));
    assert_int_equal(c.detached, 1);
    assert_int_equal(sio_connected_count(), 0);
}

static void connect_timeout(void **state)
{
    struct rt_hub *h = *state;
    struct fake_conn ws = {0};
    struct rt_session *s = session_open(h, EIO_TRANSPORT_WEBSOCKET, &ws, "r", 0);
    char sid[EIO_SID_LEN + 1];
    memcpy(sid, session_sid(s), sizeof sid);
    /* keep the heartbeat happy so only the connect deadline can fire */
    hub_tick(h, 25000);
    session_ws_message(s, &ws, "3", 1, false, 25000);
    hub_tick(h, 44999);
    assert_ptr_equal(hub_find(h, sid), s);
    hub_tick(h, 45000);
    assert_null(hub_find(h, sid));
}

static void direct_websocket(void **state)
{
    struct rt_hub *h = *state;
    struct fake_conn ws = {0};
    struct rt_session *s = session_open(h, EIO_TRANSPORT_WEBSOCKET, &ws, "r", 0);
    assert_non_null(s);
    assert_int_equal(ws.woken, 1);
    assert_int_equal(hub_count(h, EIO_TRANSPORT_WEBSOCKET), 1);
    struct rt_msg *m = session_ws_next(s, &ws);
    assert_non_null(m);
    assert_non_null(strstr(rt_msg_data(m), "\"upgrades\":[]"));
    rt_msg_free(m);
    assert_null(session_ws_next(s, &ws));
    assert_null(session_ws_next(s, &(struct fake_conn){0})); /* not its connection */
    session_ws_message(s, &ws, "40", 2, false, 0);
    m = session_ws_next(s, &ws);
    assert_memory_equal(rt_msg_data(m), "40{\"sid\":", 9);
    rt_msg_free(m);
    session_ws_message(s, &ws, "421[\"ping\"]", 11, false, 0);
    m = session_ws_next(s, &ws);
    assert_string_equal(rt_msg_data(m), "431[\"pong\"]");
    rt_msg_free(m);
    /* polling requests for a WebSocket session are refused */
    enum eio_error err;
    assert_false(session_poll_get(s, &(struct fake_conn){0}, &err));
    assert_int_equal(err, EIO_ERR_BAD_REQUEST);
    /* losing the socket ends the session */
    char sid[EIO_SID_LEN + 1];
    memcpy(sid, session_sid(s), sizeof sid);
    session_conn_gone(s, &ws);
    assert_null(hub_find(h, sid));
    assert_int_equal(hub_count(h, EIO_TRANSPORT_WEBSOCKET), 0);
    hub_reap(h);
}

static void upgrade(void **state)
{
    struct rt_hub *h = *state;
    char sid[EIO_SID_LEN + 1];
    struct rt_session *s = connected_session(h, sid);
    struct fake_conn poll = {0}, ws = {0};
    enum eio_error err;
    assert_true(session_poll_get(s, &poll, &err)); /* parked */
    assert_true(session_ws_can_attach(s));
    assert_true(session_ws_attach(s, &ws));
    assert_false(session_ws_can_attach(s)); /* one probe at a time */
    session_ws_message(s, &ws, "2probe", 6, false, 0);
    struct rt_msg *m = session_ws_next(s, &ws);
    assert_string_equal(rt_msg_data(m), "3probe");
    rt_msg_free(m);
    /* the parked poll is released with a noop */
    assert_int_equal(poll.woken, 1);
    char *body = drain(s, &poll);
    assert_string_equal(body, "6");
    free(body);
    /* packets sent during the upgrade still go to polling */
    assert_null(session_ws_next(s, &ws));
    session_ws_message(s, &ws, "5", 1, false, 0);
    assert_int_equal(session_transport(s), EIO_TRANSPORT_WEBSOCKET);
    assert_int_equal(hub_count(h, EIO_TRANSPORT_WEBSOCKET), 1);
    assert_int_equal(hub_count(h, EIO_TRANSPORT_POLLING), 0);
    session_ws_message(s, &ws, "421[\"ping\"]", 11, false, 0);
    m = session_ws_next(s, &ws);
    assert_string_equal(rt_msg_data(m), "431[\"pong\"]");
    rt_msg_free(m);
    assert_false(session_poll_get(s, &poll, &err));
}

static void failed_probe(void **state)
{
    struct rt_hub *h = *state;
    char sid[EIO_SID_LEN + 1];
    struct rt_session *s = connected_session(h, sid);
    struct fake_conn ws = {0};
    assert_true(session_ws_attach(s, &ws));
    session_ws_message(s, &ws, "4hello", 6, false, 0); /* not a probe */
    assert_int_equal(ws.detached, 1);
    assert_int_equal(session_transport(s), EIO_TRANSPORT_POLLING);
    assert_ptr_equal(hub_find(h, sid), s);
    /* a probe that never sends "5" times out */
    struct fake_conn ws2 = {0};
    assert_true(session_ws_attach(s, &ws2));
    session_ws_message(s, &ws2, "2probe", 6, false, 1000);
    assert_int_equal(post(s, "3", 1000), 0);
    hub_tick(h, 11000);
    assert_int_equal(ws2.detached, 1);
    assert_true(session_ws_can_attach(s));
    /* a probe socket closing does not end the session */
    struct fake_conn ws3 = {0};
    assert_true(session_ws_attach(s, &ws3));
    session_conn_gone(s, &ws3);
    assert_ptr_equal(hub_find(h, sid), s);
}

static void limits_and_errors(void **state)
{
    struct rt_hub *h = *state;
    char sid[EIO_SID_LEN + 1];
    /* overlapping polls end the session */
    struct rt_session *s = connected_session(h, sid);
    struct fake_conn a = {0}, b = {0};
    enum eio_error err;
    assert_true(session_poll_get(s, &a, &err));
    assert_false(session_poll_get(s, &b, &err));
    assert_null(hub_find(h, sid));
    assert_int_equal(a.detached, 1);
    hub_reap(h);

    /* a malformed payload ends the session */
    s = connected_session(h, sid);
    assert_int_equal(post(s,
                          "40\x1e"
                          "9",
                          0),
                     -1);
    assert_null(hub_find(h, sid));

    /* a Socket.IO parse error ends it too */
    s = connected_session(h, sid);
    assert_int_equal(post(s, "42[\"connect\"]", 0), 0);
    assert_null(hub_find(h, sid));

    /* a client that never reads: the queue is bounded */
    s = connected_session(h, sid);
    char big[1000];
    memset(big, 'x', sizeof big);
    int rc = 0;
    for (int i = 0; i < 10 && rc == 0; i++)
        rc = session_send(s, EIO_MESSAGE, big, sizeof big);
    assert_int_equal(rc, -1);
    assert_null(hub_find(h, sid));
    assert_int_equal(session_send(s, EIO_MESSAGE, "x", 1), -1); /* ended: no more sends */

    /* a close packet ends the session */
    s = connected_session(h, sid);
    assert_int_equal(post(s, "1", 0), 0);
    assert_null(hub_find(h, sid));

    /* a base64 binary message is accepted (and ignored by Socket.IO) */
    s = connected_session(h, sid);
    assert_int_equal(post(s, "bAQID", 0), 0);
    assert_ptr_equal(hub_find(h, sid), s);
    assert_int_equal(post(s, "b!!!", 0), -1);
    hub_reap(h);
}

static void shutdown_detaches_everything(void **state)
{
    struct rt_hub *h = *state;
    char sid[EIO_SID_LEN + 1];
    struct rt_session *s = connected_session(h, sid);
    struct fake_conn poll = {0}, ws = {0};
    enum eio_error err;
    assert_true(session_poll_get(s, &poll, &err));
    struct rt_session *w = session_open(h, EIO_TRANSPORT_WEBSOCKET, &ws, "r", 0);
    assert_non_null(w);
    hub_free(h);
    *state = NULL;
    assert_int_equal(poll.detached, 1);
    assert_int_equal(ws.detached, 1);
}

static void strmap_basics(void **state)
{
    (void)state;
    struct strmap *m = strmap_new();
    assert_non_null(m);
    char key[32];
    int values[1000];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "room-%d", i);
        values[i] = i;
        assert_int_equal(strmap_put(m, key, &values[i]), 0);
    }
    assert_int_equal(strmap_put(m, "room-7", &values[0]), 1);
    assert_int_equal(strmap_count(m), 1000);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "room-%d", i);
        assert_ptr_equal(strmap_get(m, key), &values[i]);
    }
    assert_ptr_equal(strmap_remove(m, "room-7"), &values[7]);
    assert_null(strmap_get(m, "room-7"));
    assert_null(strmap_remove(m, "room-7"));
    assert_null(strmap_get(m, "nope"));
    assert_int_equal(strmap_count(m), 999);
    strmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(polling_handshake, setup, teardown),
        cmocka_unit_test_setup_teardown(events_and_acks, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(heartbeat, setup, teardown),
        cmocka_unit_test_setup_teardown(connect_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(direct_websocket, setup, teardown),
        cmocka_unit_test_setup_teardown(upgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(limits_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(shutdown_detaches_everything, setup, teardown),
        cmocka_unit_test(strmap_basics),
    };
    return cmocka_run_group_tests_name("realtime_session", tests, quiet_logs, NULL);
}
