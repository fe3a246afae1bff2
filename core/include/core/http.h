/*
 * http.h - the HTTP server every Ulfius-based service runs on.
 *
 * A thin layer over Ulfius, started in libmicrohttpd's epoll internal thread
 * pool mode (thread-per-connection measured at half the throughput). Every
 * route goes through one wrapper that does the cross-cutting work once:
 * request id and trace context, body size limit (413), JSON content type (415)
 * and parsing (400), metrics, and a JSON access log line. Unknown paths answer
 * 404 and known paths with another method 405 with an Allow header, both as
 * problem+json.
 */
#ifndef CORE_HTTP_H
#define CORE_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct _u_request;
struct _u_response;
struct http_server;
struct auth_claims;
struct pg_result; /* libpq's PGresult */

/* What a handler sees: the request, the response it fills, and what the
 * wrapper already worked out. Everything here is owned by the wrapper. */
struct http_exchange {
    const struct _u_request *req;
    struct _u_response *resp;
    const char *method;
    const char *route;      /* the registered pattern, e.g. /users/:id */
    const char *request_id; /* from X-Request-Id, or generated */
    const char *traceparent;
    json_t *body;             /* parsed JSON body when the route asked for one */
    void *user_data;          /* given at registration */
    int status;               /* set by the response helpers */
    struct auth_claims *auth; /* set by http_authenticate (core/auth.h), freed by the wrapper */
    json_t *path_params;      /* ":name" segments of 'route', decoded; owned by the wrapper */
};

typedef void (*http_handler_fn)(struct http_exchange *x);

enum http_route_flags {
    HTTP_JSON_BODY = 1 << 0, /* body must be application/json and parse to an object */
};

/* Create a server listening on bind_addr:port with 'threads' workers and a body
 * limit in bytes. Returns NULL on failure. Free with http_server_free. */
struct http_server *http_server_new(const char *service, const char *bind_addr, int port,
                                    unsigned threads, size_t max_body);

/* Register a route. 'pattern' uses Ulfius syntax (/orders/:id). Returns 0/-1. */
int http_route(struct http_server *s, const char *method, const char *pattern, http_handler_fn fn,
               unsigned flags, void *user_data);

/* Like http_route, with a body limit of the route's own ('max_body' bytes;
 * 0: the server's), for the few routes that take more than the server's
 * limit (image uploads). The server buffers bodies up to the largest route
 * limit; each route answers 413 over its own, from Content-Length before
 * the handler runs. Register before http_server_start. Returns 0/-1. */
int http_route_limit(struct http_server *s, const char *method, const char *pattern,
                     http_handler_fn fn, unsigned flags, void *user_data, size_t max_body);

/* Start serving; returns 0 or -1 (port taken, ...). */
int http_server_start(struct http_server *s);

/* Stop serving and free everything. Safe on NULL. */
void http_server_free(struct http_server *s);

/* ---- request helpers (results owned by the request; do not free) ---- */
const char *http_header(const struct http_exchange *x, const char *name);
/* A ":name" segment of the route when the route has one (never shadowed by a
 * query parameter of the same name), else the query parameter. NULL when
 * absent, or when a path segment does not decode (%00, a bad escape). */
const char *http_param(const struct http_exchange *x, const char *name);
/* Parameter 'name' when it is a UUID, else NULL after sending 404 "<what>
 * not found" (an id that cannot exist names nothing). */
const char *http_param_uuid(struct http_exchange *x, const char *name, const char *what);

/* ---- response helpers ---- */

/* Send 'body' (stolen, may be NULL for an empty body) as JSON with 'status'. */
void http_json(struct http_exchange *x, int status, json_t *body);

/* Strong entity tags: a quoted hex digest (BLAKE2b-128) of the bytes. */
enum { HTTP_ETAG_LEN = 35 };
void http_etag_of(const void *data, size_t len, char out[HTTP_ETAG_LEN]);
/* True when an If-None-Match value ("*", or a list of tags, weak or not)
 * names 'etag'. NULL never matches. */
bool http_etag_matches(const char *if_none_match, const char *etag);
/* Answer a read: 'text' (JSON, copied) as 200 with its ETag and
 * Cache-Control: no-cache, or 304 without a body when the request's
 * If-None-Match names that ETag. */
void http_send_json_etag(struct http_exchange *x, const char *text, size_t len);

/* Send raw bytes with a content type; the bytes are copied. */
void http_send(struct http_exchange *x, int status, const char *content_type, const void *data,
               size_t len);

/* Set a response header (copied). */
void http_set_header(struct http_exchange *x, const char *name, const char *value);

/* RFC 9457 problem+json: {"type","title","status","detail","instance"}.
 * 'errors' (stolen, may be NULL) is an array of {"field","message"}. */
void http_problem(struct http_exchange *x, int status, const char *detail, json_t *errors);

/* Answer a failed database statement as problem+json, by what went wrong:
 *   503 with Retry-After when the database cannot be reached (r NULL, an
 *       error without SQLSTATE, class 08 connection or 57 operator
 *       intervention) or a concurrent change got in the way (class 40:
 *       serialization failure, deadlock): worth retrying;
 *   422 when it refused a value (class 22 data, 23 constraint): input the
 *       validation let through must still never be a 500;
 *   500 otherwise, also for a successful 'r' the caller could not use. */
void http_db_problem(struct http_exchange *x, const struct pg_result *r);

/* Append {"field","message"} to an errors array (created when *errors is NULL). */
void http_field_error(json_t **errors, const char *field, const char *message);

/* ---- pure helpers, exposed for unit tests ---- */

/* Standard reason phrase for a status ("Not Found"); "Error" when unknown. */
const char *http_status_title(int status);

/* Build a problem document; caller owns the result. */
json_t *http_problem_json(int status, const char *detail, const char *instance, json_t *errors);

/* True when 'id' is an acceptable X-Request-Id: 1..128 chars of [A-Za-z0-9._:-]. */
bool http_request_id_valid(const char *id);

/* True when 'tp' is a valid W3C traceparent (version 00). */
bool http_traceparent_valid(const char *tp);

/* Fill 'out' (37 bytes) with a random UUID v4 string. */
void http_uuid4(char out[37]);

/* Make a new traceparent (56 bytes incl NUL), continuing 'parent' when valid
 * (same trace id, new span id), else starting a new trace. */
void http_traceparent_child(const char *parent, char out[56]);

/* True when 'path' matches Ulfius-style 'pattern' (":name" matches one segment,
 * trailing slashes ignored). */
bool http_path_matches(const char *pattern, const char *path);

/* The ":name" segments of 'pattern' taken from 'path' (which must match it),
 * percent-decoded: {"name": "value"}. A segment holding %00 or a malformed
 * escape is left out. New reference (caller decrefs), NULL on OOM. */
json_t *http_path_params(const char *pattern, const char *path);

/* True when a body is over 'limit' bytes: 'received' bytes arrived, or the
 * Content-Length header (NULL when absent) announces more, or it is not a
 * plain decimal number. */
bool http_body_over_limit(size_t limit, size_t received, const char *content_length);

/* True when the Content-Type names JSON (application/json or +json), params ignored. */
bool http_is_json_type(const char *content_type);

#endif
