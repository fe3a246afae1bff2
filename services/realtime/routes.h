/*
 * routes.h - which path is what, and the replies of the plain HTTP routes.
 *
 * Kept apart from the libwebsockets glue: matching and building a reply are
 * pure, so the routing rules (404 vs 405, Allow) are unit-tested.
 */
#ifndef REALTIME_ROUTES_H
#define REALTIME_ROUTES_H

#include "engineio.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum route_id {
    ROUTE_NONE,
    ROUTE_HEALTH,
    ROUTE_READY,
    ROUTE_METRICS,
    ROUTE_DOCS,
    ROUTE_OPENAPI,
    ROUTE_DOCS_ASSET,
    ROUTE_SOCKETIO,
};

struct route_match {
    enum route_id id;    /* ROUTE_NONE: no such path */
    const char *pattern; /* for logs and metrics: "/docs/:asset", "(unmatched)" */
    bool method_ok;      /* false: answer 405 */
    const char *allow;   /* the Allow header value for that 405 */
};

/* Match 'method' and 'path' (no query string). */
void routes_match(const char *method, const char *path, struct route_match *out);

/* A complete response, built before any byte is written. */
struct http_reply {
    int status;               /* 0 while no reply is decided */
    const char *content_type; /* static */
    char *body;               /* owned, malloc'd; NULL for an empty body */
    size_t len;
    const char *header_name;  /* one optional extra header ("Allow"), static */
    const char *header_value; /* static */
};

void reply_free(struct http_reply *r);

/* Set the reply; 'body' (malloc'd, may be NULL) is stolen. A NULL body with
 * len > 0 means the allocation failed: the reply becomes a 500. */
void reply_set(struct http_reply *r, int status, const char *content_type, char *body, size_t len);

/* 'body' stolen; serialised compactly. */
void reply_json(struct http_reply *r, int status, json_t *body);

/* RFC 9457 problem+json for 'status', 'instance' = the request path. */
void reply_problem(struct http_reply *r, int status, const char *detail, const char *instance);

/* An Engine.IO error: 400 problem+json that also carries the reference
 * server's {"code","message"} so Socket.IO tooling understands it. */
void reply_eio_error(struct http_reply *r, enum eio_error e, const char *instance);

/* The routes that answer at once: health, metrics, docs, openapi, assets.
 * 'metrics_extra' is appended to the core's metrics text. */
void routes_serve(const struct route_match *m, const char *path, const char *metrics_extra,
                  struct http_reply *r);

/* /ready from service_readiness()'s result; 'report' is stolen. */
void routes_ready_reply(int status, json_t *report, struct http_reply *r);

#endif
