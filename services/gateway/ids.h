/*
 * ids.h - new request ids and trace contexts, cheaply.
 *
 * The same formats as core's http_uuid4 and http_traceparent_child(NULL, ..),
 * which cost three getrandom() system calls and some thirty snprintf calls
 * per request: measurable at proxy rates. Here the random bytes come from a
 * per-thread buffer of libsodium randomness refilled 4 KiB at a time, and
 * the hex is written by table. No h2o: the unit tests include ids.c.
 */
#ifndef GATEWAY_IDS_H
#define GATEWAY_IDS_H

/* A random UUID v4: 36 characters and a NUL. */
void gw_new_request_id(char out[37]);

/* A new W3C trace context "00-<32 hex trace id>-<16 hex span id>-01":
 * 55 characters and a NUL; ids never all zero. */
void gw_new_traceparent(char out[56]);

#endif
