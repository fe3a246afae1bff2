/*
 * head_limits.c - the gateway refuses request heads the services would.
 *
 * h2o accepts request heads of several hundred kilobytes; the services'
 * HTTP layer (libmicrohttpd) keeps about 32 kB for the whole head and
 * answers anything longer itself, with an HTML page, before any service
 * code runs. So the edge sets the limits, and answers them the platform's
 * way (problem+json, request id, logged): a request target (path and query)
 * longer than GATEWAY_MAX_URL_BYTES is 414, request headers (names and
 * values) longer in total than GATEWAY_MAX_HEADER_BYTES are 431. The
 * defaults, 8 kB and 16 kB, are what nginx and most proxies allow.
 *
 * Heads beyond h2o's own limit (H2O_MAX_REQLEN) never reach a handler: h2o
 * writes its plain-text 400 straight to the socket and closes.
 */
#include "gateway.h"

#include <stdio.h>

static size_t header_bytes(const h2o_req_t *req)
{
    size_t n = 0;
    for (size_t i = 0; i < req->headers.size; i++)
        n += req->headers.entries[i].name->len + req->headers.entries[i].value.len;
    return n;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    char detail[96];
    if (req->input.path.len > gw_settings.max_url_bytes) {
        snprintf(detail, sizeof detail, "request target longer than %zu bytes",
                 gw_settings.max_url_bytes);
        gw_send_problem(req, 414, detail);
        return 0;
    }
    if (header_bytes(req) > gw_settings.max_header_bytes) {
        snprintf(detail, sizeof detail, "request headers longer than %zu bytes in total",
                 gw_settings.max_header_bytes);
        gw_send_problem(req, 431, detail);
        return 0;
    }
    return -1;
}

void gw_head_limits_register(h2o_pathconf_t *pathconf)
{
    h2o_handler_t *h = h2o_create_handler(pathconf, sizeof *h);
    h->on_req = on_req;
}
