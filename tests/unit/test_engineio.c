/* Unit tests for the realtime service's protocol codecs: Engine.IO v4
 * packets, payloads, handshake and request checks, and Socket.IO v5
 * packets. The codecs are pure, so their sources are included directly
 * (the unit test binaries link only the core library). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../services/realtime/engineio.c"
#include "../../services/realtime/socketio.c"

/* ---- Engine.IO ---- */

static void eio_decodes_packets(void **state)
{
    (void)state;
    struct eio_packet p;
    assert_int_equal(eio_decode("4hello", 6, &p), 0);
    assert_int_equal(p.type, EIO_MESSAGE);
    assert_false(p.binary);
    assert_int_equal(p.len, 5);
    assert_memory_equal(p.data, "hello", 5);

    assert_int_equal(eio_decode("2probe", 6, &p), 0);
    assert_int_equal(p.type, EIO_PING);
    assert_int_equal(p.len, 5);

    assert_int_equal(eio_decode("3", 1, &p), 0);
    assert_int_equal(p.type, EIO_PONG);
    assert_int_equal(p.len, 0);

    assert_int_equal(eio_decode("bAQID", 5, &p), 0);
    assert_int_equal(p.type, EIO_MESSAGE);
    assert_true(p.binary);
    assert_memory_equal(p.data, "AQID", 4);

    assert_int_equal(eio_decode("6", 1, &p), 0);
    assert_int_equal(p.type, EIO_NOOP);
}

static void eio_rejects_bad_packets(void **state)
{
    (void)state;
    struct eio_packet p;
    assert_int_equal(eio_decode("", 0, &p), -1);
    assert_int_equal(eio_decode(NULL, 3, &p), -1);
    assert_int_equal(eio_decode("7", 1, &p), -1);
    assert_int_equal(eio_decode("x4", 2, &p), -1);
    /* length wins over content: "4" inside a longer buffer */
    assert_int_equal(eio_decode("9abc", 0, &p), -1);
}

static void eio_splits_payloads(void **state)
{
    (void)state;
    const char body[] = "40\x1e"
                        "42[\"a\"]\x1e"
                        "3";
    const char *cur = body, *end = body + sizeof body - 1, *pkt;
    size_t len;
    assert_true(eio_payload_next(&cur, end, &pkt, &len));
    assert_int_equal(len, 2);
    assert_memory_equal(pkt, "40", 2);
    assert_true(eio_payload_next(&cur, end, &pkt, &len));
    assert_int_equal(len, 7);
    assert_true(eio_payload_next(&cur, end, &pkt, &len));
    assert_int_equal(len, 1);
    assert_false(eio_payload_next(&cur, end, &pkt, &len));

    /* an empty packet between separators is reported (and then rejected) */
    const char two[] = "4a\x1e\x1e"
                       "4b";
    cur = two;
    end = two + sizeof two - 1;
    assert_true(eio_payload_next(&cur, end, &pkt, &len));
    assert_true(eio_payload_next(&cur, end, &pkt, &len));
    assert_int_equal(len, 0);
    struct eio_packet p;
    assert_int_equal(eio_decode(pkt, len, &p), -1);

    /* an empty body has no packet */
    cur = two;
    assert_false(eio_payload_next(&cur, two, &pkt, &len));
}

static void eio_handshake_document(void **state)
{
    (void)state;
    char *h = eio_handshake_json("abcdefghij0123456789", true, 25000, 20000, 1000000);
    assert_non_null(h);
    assert_string_equal(h, "{\"sid\":\"abcdefghij0123456789\",\"upgrades\":[\"websocket\"],"
                           "\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}");
    free(h);
    h = eio_handshake_json("abcdefghij0123456789", false, 1, 2, 3);
    assert_non_null(strstr(h, "\"upgrades\":[]"));
    free(h);
}

static void eio_sids(void **state)
{
    (void)state;
    char a[EIO_SID_LEN + 1], b[EIO_SID_LEN + 1];
    eio_generate_sid(a);
    eio_generate_sid(b);
    assert_int_equal(strlen(a), EIO_SID_LEN);
    assert_true(eio_sid_valid(a));
    assert_string_not_equal(a, b);
    assert_true(eio_sid_valid("AZaz09-_AZaz09-_AZaz"));
    assert_false(eio_sid_valid("AZaz09-_AZaz09-_AZa"));   /* 19 */
    assert_false(eio_sid_valid("AZaz09-_AZaz09-_AZazz")); /* 21 */
    assert_false(eio_sid_valid("AZaz09-_AZaz09-_AZa+"));
    assert_false(eio_sid_valid("AZaz09-_AZaz09-_AZa/"));
    assert_false(eio_sid_valid(""));
    assert_false(eio_sid_valid(NULL));
}

static void eio_request_checks(void **state)
{
    (void)state;
    struct eio_request r;
    enum eio_error e;
    const char *sid = "AZaz09-_AZaz09-_AZaz";
    assert_true(eio_check_request("4", "polling", NULL, false, true, &r, &e));
    assert_int_equal(r.transport, EIO_TRANSPORT_POLLING);
    assert_null(r.sid);
    assert_true(eio_check_request("4", "polling", sid, false, false, &r, &e));
    assert_ptr_equal(r.sid, sid);
    assert_true(eio_check_request("4", "websocket", NULL, true, true, &r, &e));
    assert_int_equal(r.transport, EIO_TRANSPORT_WEBSOCKET);

    assert_false(eio_check_request("3", "polling", NULL, false, true, &r, &e));
    assert_int_equal(e, EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION);
    assert_false(eio_check_request(NULL, "polling", NULL, false, true, &r, &e));
    assert_int_equal(e, EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION);
    assert_false(eio_check_request("4", "flash", NULL, false, true, &r, &e));
    assert_int_equal(e, EIO_ERR_UNKNOWN_TRANSPORT);
    assert_false(eio_check_request("4", NULL, NULL, false, true, &r, &e));
    assert_int_equal(e, EIO_ERR_UNKNOWN_TRANSPORT);
    assert_false(eio_check_request("4", "polling", "short", false, true, &r, &e));
    assert_int_equal(e, EIO_ERR_UNKNOWN_SID);
    assert_false(eio_check_request("4", "websocket", NULL, false, true, &r, &e));
    assert_int_equal(e, EIO_ERR_BAD_REQUEST);
    assert_false(eio_check_request("4", "polling", NULL, true, true, &r, &e));
    assert_int_equal(e, EIO_ERR_BAD_REQUEST);
    assert_false(eio_check_request("4", "polling", NULL, false, false, &r, &e));
    assert_int_equal(e, EIO_ERR_BAD_HANDSHAKE_METHOD);
    assert_string_equal(eio_error_message(EIO_ERR_UNKNOWN_SID), "Session ID unknown");
}

/* ---- Socket.IO ---- */

/* Decode a NUL-terminated packet. */
static int decode(const char *text, struct sio_packet *p, const char **why)
{
    return sio_decode(text, strlen(text), p, why);
}

static void sio_decodes_connect(void **state)
{
    (void)state;
    struct sio_packet p;
    const char *why;
    assert_int_equal(decode("0", &p, &why), 0);
    assert_int_equal(p.type, SIO_CONNECT);
    assert_string_equal(p.nsp, "/");
    assert_int_equal(p.id, SIO_NO_ACK);
    assert_null(p.data);
    sio_packet_clear(&p);

    assert_int_equal(decode("0/admin,{\"token\":\"x\"}", &p, &why), 0);
    assert_string_equal(p.nsp, "/admin");
    assert_string_equal(json_string_value(json_object_get(p.data, "token")), "x");
    sio_packet_clear(&p);

    assert_int_equal(decode("0/admin", &p, &why), 0);
    assert_string_equal(p.nsp, "/admin");
    sio_packet_clear(&p);

    assert_int_equal(decode("0[1]", &p, &why), -1); /* CONNECT data must be an object */
    assert_string_equal(why, "invalid payload");
    sio_packet_clear(&p);
}

static void sio_decodes_events_and_acks(void **state)
{
    (void)state;
    struct sio_packet p;
    const char *why;
    assert_int_equal(decode("2[\"echo\",1,{\"a\":[true,null]}]", &p, &why), 0);
    assert_int_equal(p.type, SIO_EVENT);
    assert_int_equal(p.id, SIO_NO_ACK);
    assert_int_equal(json_array_size(p.data), 3);
    sio_packet_clear(&p);

    assert_int_equal(decode("212[\"ping\"]", &p, &why), 0);
    assert_int_equal(p.id, 12);
    assert_string_equal(json_string_value(json_array_get(p.data, 0)), "ping");
    sio_packet_clear(&p);

    assert_int_equal(decode("2/chat,7[\"m\"]", &p, &why), 0);
    assert_string_equal(p.nsp, "/chat");
    assert_int_equal(p.id, 7);
    sio_packet_clear(&p);

    assert_int_equal(decode("30[]", &p, &why), 0);
    assert_int_equal(p.type, SIO_ACK);
    assert_int_equal(p.id, 0);
    sio_packet_clear(&p);

    assert_int_equal(decode("1", &p, &why), 0);
    assert_int_equal(p.type, SIO_DISCONNECT);
    sio_packet_clear(&p);

    assert_int_equal(decode("51-[\"up\",{\"_placeholder\":true,\"num\":0}]", &p, &why), 0);
    assert_int_equal(p.type, SIO_BINARY_EVENT);
    assert_int_equal(p.attachments, 1);
    sio_packet_clear(&p);
}

static void sio_rejects_bad_packets(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                            /* empty */
        "7",                           /* unknown type */
        "x",                           /* not a digit */
        "2",                           /* EVENT without payload */
        "2[]",                         /* EVENT without a name */
        "2[1]",                        /* name not a string */
        "2{\"a\":1}",                  /* EVENT payload not an array */
        "2[\"connect\"]",              /* reserved name */
        "2[\"disconnect\",1]",         /* reserved name */
        "2[\"a\"",                     /* broken JSON */
        "1{}",                         /* DISCONNECT with payload */
        "3{}",                         /* ACK payload not an array */
        "5[\"a\"]",                    /* binary without attachments */
        "5x-[\"a\"]",                  /* bad attachment count */
        "21234567890123456789[\"a\"]", /* ack id beyond 2^53 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sio_packet p;
        const char *why = NULL;
        assert_int_equal(decode(bad[i], &p, &why), -1);
        assert_non_null(why);
        assert_true(*why);
        sio_packet_clear(&p);
    }
    /* a namespace longer than SIO_MAX_NSP_LEN */
    char big[400] = "0/";
    memset(big + 2, 'n', 300);
    big[302] = '\0';
    struct sio_packet p;
    const char *why;
    assert_int_equal(decode(big, &p, &why), -1);
    sio_packet_clear(&p);
    /* an embedded NUL is judged by length, not by the terminator */
    assert_int_equal(sio_decode("2[\"a\"]\0junk", 10, &p, &why), -1);
    sio_packet_clear(&p);
}

static void sio_encodes(void **state)
{
    (void)state;
    size_t len;
    json_t *d = json_pack("{s:s}", "sid", "abc");
    char *s = sio_encode(SIO_CONNECT, "/", SIO_NO_ACK, d, &len);
    assert_string_equal(s, "0{\"sid\":\"abc\"}");
    assert_int_equal(len, strlen(s));
    free(s);
    json_decref(d);

    d = json_pack("[s]", "pong");
    s = sio_encode(SIO_ACK, "/", 42, d, &len);
    assert_string_equal(s, "342[\"pong\"]");
    free(s);
    s = sio_encode(SIO_EVENT, "/chat", SIO_NO_ACK, d, &len);
    assert_string_equal(s, "2/chat,[\"pong\"]");
    free(s);
    json_decref(d);

    d = json_pack("{s:s}", "message", "Invalid namespace");
    s = sio_encode(SIO_CONNECT_ERROR, "/admin", SIO_NO_ACK, d, &len);
    assert_string_equal(s, "4/admin,{\"message\":\"Invalid namespace\"}");
    free(s);
    json_decref(d);

    s = sio_encode(SIO_DISCONNECT, "/", SIO_NO_ACK, NULL, &len);
    assert_string_equal(s, "1");
    free(s);
}

static void sio_round_trip(void **state)
{
    (void)state;
    json_t *d = json_pack("[s, i, s, {s:[b, n]}]", "echo", 1, "\xc3\xa9", "k", 1);
    size_t len;
    char *s = sio_encode(SIO_EVENT, "/", 9, d, &len);
    struct sio_packet p;
    const char *why;
    assert_int_equal(sio_decode(s, len, &p, &why), 0);
    assert_int_equal(p.id, 9);
    assert_true(json_equal(p.data, d));
    sio_packet_clear(&p);
    free(s);
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eio_decodes_packets),
        cmocka_unit_test(eio_rejects_bad_packets),
        cmocka_unit_test(eio_splits_payloads),
        cmocka_unit_test(eio_handshake_document),
        cmocka_unit_test(eio_sids),
        cmocka_unit_test(eio_request_checks),
        cmocka_unit_test(sio_decodes_connect),
        cmocka_unit_test(sio_decodes_events_and_acks),
        cmocka_unit_test(sio_rejects_bad_packets),
        cmocka_unit_test(sio_encodes),
        cmocka_unit_test(sio_round_trip),
    };
    return cmocka_run_group_tests_name("engineio", tests, NULL, NULL);
}
