/*
 * http.c - Ulfius glue: one wrapper around every route. See http.h.
 */
#include "core/http.h"
#include "core/auth.h"
#include "core/db.h"
#include "core/log.h"
#include "core/validate.h"
#include "core/metrics.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include <time.h>
#include <ulfius.h>

struct route {
    struct route *next;
    struct http_server *srv;
    char *method;
    char *pattern;
    http_handler_fn fn;
    unsigned flags;
    size_t max_body; /* this route's body limit in bytes */
    void *user_data;
};

struct http_server {
    struct _u_instance inst;
    struct sockaddr_in addr;
    char *service;
    unsigned threads;
    size_t max_body;
    struct route *routes;
    int started;
};

/* ------------------------------------------------------------------------ */
/* pure helpers                                                              */

const char *http_status_title(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 423:
        return "Locked";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Error";
    }
}

json_t *http_problem_json(int status, const char *detail, const char *instance, json_t *errors)
{
    json_t *p = json_pack("{s:s, s:s, s:i}", "type", "about:blank", "title",
                          http_status_title(status), "status", status);
    if (!p) {
        json_decref(errors);
        return NULL;
    }
    if (errors)
        json_object_set_new(p, "type", json_string("/problems/validation-error"));
    if (detail)
        json_object_set_new(p, "detail", json_string(detail));
    if (instance)
        json_object_set_new(p, "instance", json_string(instance));
    if (errors)
        json_object_set_new(p, "errors", errors);
    return p;
}

void http_field_error(json_t **errors, const char *field, const char *message)
{
    if (!*errors)
        *errors = json_array();
    if (*errors)
        json_array_append_new(*errors, json_pack("{s:s, s:s}", "field", field, "message", message));
}

bool http_request_id_valid(const char *id)
{
    if (!id)
        return false;
    size_t n = 0;
    for (const char *p = id; *p; p++, n++) {
        if (n >= 128)
            return false;
        if (!isalnum((unsigned char)*p) && !strchr("._:-", *p))
            return false;
    }
    return n > 0;
}

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return false;
    return true;
}

static bool all_zero(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '0')
            return false;
    return true;
}

bool http_traceparent_valid(const char *tp)
{
    /* 00-<32 hex trace id>-<16 hex span id>-<2 hex flags> */
    if (!tp || strlen(tp) != 55)
        return false;
    if (strncmp(tp, "00-", 3) || tp[35] != '-' || tp[52] != '-')
        return false;
    return all_hex(tp + 3, 32) && all_hex(tp + 36, 16) && all_hex(tp + 53, 2) &&
           !all_zero(tp + 3, 32) && !all_zero(tp + 36, 16);
}

static void hex_random(char *out, size_t nbytes)
{
    unsigned char raw[32];
    randombytes_buf(raw, nbytes);
    for (size_t i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

void http_uuid4(char out[37])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

void http_traceparent_child(const char *parent, char out[56])
{
    char trace[33], span[17];
    const char *flags = "01";
    if (http_traceparent_valid(parent)) {
        memcpy(trace, parent + 3, 32);
        trace[32] = '\0';
        flags = parent + 53;
    } else {
        do
            hex_random(trace, 16);
        while (all_zero(trace, 32));
    }
    do
        hex_random(span, 8);
    while (all_zero(span, 16));
    snprintf(out, 56, "00-%s-%s-%.2s", trace, span, flags);
}

/* Length of the path segment starting at p. */
static size_t seg_len(const char *p)
{
    const char *e = strchr(p, '/');
    return e ? (size_t)(e - p) : strlen(p);
}

bool http_path_matches(const char *pattern, const char *path)
{
    const char *a = pattern, *b = path;
    for (;;) {
        while (*a == '/')
            a++;
        while (*b == '/')
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        size_t la = seg_len(a), lb = seg_len(b);
        bool param = (*a == ':' || *a == '*');
        if (!param && (la != lb || strncmp(a, b, la)))
            return false;
        a += la;
        b += lb;
    }
}

/* True when 'pattern' has the segment ":name". */
static bool pattern_has_param(const char *pattern, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strchr(pattern, ':'); p; p = strchr(p + 1, ':'))
        if (p > pattern && p[-1] == '/' && !strncmp(p + 1, name, n) &&
            (p[n + 1] == '/' || !p[n + 1]))
            return true;
    return false;
}

/* params[name] = decoded value; a value that does not decode is left out.
 * 0, or -1 on OOM. */
static int add_param(json_t *params, const char *name, size_t name_len, const char *raw,
                     size_t raw_len)
{
    char *key = strndup(name, name_len);
    char *value = malloc(raw_len + 1);
    int rc = -1;
    if (key && value) {
        long n = percent_decode(raw, raw_len, value, raw_len + 1);
        /* nocheck: the value is bytes from the URL, validated by the handler */
        rc = n < 0 ? 0 : json_object_set_new(params, key, json_stringn_nocheck(value, (size_t)n));
    }
    free(key);
    free(value);
    return rc;
}

json_t *http_path_params(const char *pattern, const char *path)
{
    json_t *params = json_object();
    const char *a = pattern, *b = path;
    while (params) {
        while (*a == '/')
            a++;
        while (*b == '/')
            b++;
        if (!*a || !*b)
            break;
        size_t la = seg_len(a), lb = seg_len(b);
        if (*a == ':' && la > 1 && add_param(params, a + 1, la - 1, b, lb) != 0) {
            json_decref(params);
            params = NULL;
        }
        a += la;
        b += lb;
    }
    return params;
}

bool http_is_json_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; ");
    if (n == 16 && !strncasecmp(ct, "application/json", 16))
        return true;
    /* application/<something>+json, e.g. application/merge-patch+json */
    return n > 17 && !strncasecmp(ct, "application/", 12) && !strncasecmp(ct + n - 5, "+json", 5);
}

/* ------------------------------------------------------------------------ */
/* request / response helpers                                                */

const char *http_header(const struct http_exchange *x, const char *name)
{
    return u_map_get_case(x->req->map_header, name);
}

const char *http_param(const struct http_exchange *x, const char *name)
{
    /* Ulfius keeps path and query parameters in one map and joins a clash
     * as "query,path": /users/:id?id=x would read "x,<id>". The route's own
     * segments are therefore taken from the path (serve() decodes them). */
    if (x->route && pattern_has_param(x->route, name))
        return json_string_value(json_object_get(x->path_params, name));
    return u_map_get(x->req->map_url, name);
}

const char *http_param_uuid(struct http_exchange *x, const char *name, const char *what)
{
    const char *v = http_param(x, name);
    if (valid_uuid(v))
        return v;
    char detail[64];
    snprintf(detail, sizeof detail, "%.40s not found", what);
    http_problem(x, 404, detail, NULL);
    return NULL;
}

void http_set_header(struct http_exchange *x, const char *name, const char *value)
{
    u_map_put(x->resp->map_header, name, value);
}

void http_send(struct http_exchange *x, int status, const char *content_type, const void *data,
               size_t len)
{
    x->status = status;
    if (content_type)
        u_map_put(x->resp->map_header, "Content-Type", content_type);
    int rc = len ? ulfius_set_binary_body_response(x->resp, (unsigned)status, data, len)
                 : ulfius_set_empty_body_response(x->resp, (unsigned)status);
    if (rc != U_OK)
        x->resp->status = x->status = 500;
}

void http_etag_of(const void *data, size_t len, char out[HTTP_ETAG_LEN])
{
    unsigned char h[16];
    crypto_generichash(h, sizeof h, data, len, NULL, 0);
    out[0] = '"';
    sodium_bin2hex(out + 1, 33, h, sizeof h);
    out[33] = '"';
    out[34] = '\0';
}

bool http_etag_matches(const char *if_none_match, const char *etag)
{
    if (!if_none_match)
        return false;
    size_t elen = strlen(etag);
    for (const char *p = if_none_match; *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '*')
            return true;
        if (!strncmp(p, "W/", 2)) /* weak comparison, as If-None-Match asks */
            p += 2;
        size_t n = strcspn(p, ",");
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == elen && !memcmp(p, etag, n))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

void http_send_json_etag(struct http_exchange *x, const char *text, size_t len)
{
    char etag[HTTP_ETAG_LEN];
    http_etag_of(text, len, etag);
    http_set_header(x, "ETag", etag);
    /* Clients and proxies may keep the answer but must ask again each time:
     * a write is visible to the next read, and an unchanged answer costs a
     * 304 without a body. */
    http_set_header(x, "Cache-Control", "no-cache");
    if (http_etag_matches(http_header(x, "If-None-Match"), etag)) {
        http_send(x, 304, NULL, NULL, 0);
        return;
    }
    http_send(x, 200, "application/json", text, len);
}

void http_json(struct http_exchange *x, int status, json_t *body)
{
    if (!body) {
        http_send(x, status, NULL, NULL, 0);
        return;
    }
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!s) {
        http_send(x, 500, "application/problem+json",
                  "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\",\"status\":500}",
                  67);
        return;
    }
    http_send(x, status, "application/json", s, strlen(s));
    free(s);
}

void http_problem(struct http_exchange *x, int status, const char *detail, json_t *errors)
{
    json_t *p = http_problem_json(status, detail, x->req ? x->req->url_path : NULL, errors);
    char *s = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!s) {
        http_send(x, 500, "application/problem+json",
                  "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\",\"status\":500}",
                  67);
        return;
    }
    http_send(x, status, "application/problem+json", s, strlen(s));
    free(s);
}

void http_db_problem(struct http_exchange *x, const PGresult *r)
{
    if (r && db_ok(r)) {
        http_problem(x, 500, "database error", NULL);
        return;
    }
    const char *state = db_sqlstate(r);
    /* No SQLSTATE at all means the connection itself failed. */
    if (!*state || !strncmp(state, "08", 2) || !strncmp(state, "57", 2)) {
        http_set_header(x, "Retry-After", "5");
        http_problem(x, 503, "the database is unavailable, retry later", NULL);
    } else if (!strncmp(state, "22", 2) || !strncmp(state, "23", 2)) {
        http_problem(x, 422, "a value was rejected by the database", NULL);
    } else if (!strncmp(state, "40", 2)) {
        http_set_header(x, "Retry-After", "1");
        http_problem(x, 503, "a concurrent change got in the way, retry", NULL);
    } else {
        http_problem(x, 500, "database error", NULL);
    }
}

/* ------------------------------------------------------------------------ */
/* the wrapper                                                               */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Methods outside this set are counted as OTHER so clients cannot grow the
 * metric series without bound. */
static const char *metric_method(const char *m)
{
    static const char *known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(m, known[i]))
            return known[i];
    return "OTHER";
}

bool http_body_over_limit(size_t limit, size_t received, const char *content_length)
{
    if (received > limit)
        return true;
    if (!content_length)
        return false;
    /* Digits only: strtoull would read "-1" as a huge number and " 5" as 5,
     * and a value that does not parse cannot promise a small body. */
    size_t n = strspn(content_length, "0123456789");
    if (n == 0 || content_length[n] != '\0' || n > 19)
        return true;
    return strtoull(content_length, NULL, 10) > limit;
}

/* Checks that need no handler: body size, media type, JSON syntax.
 * Returns true when the request may go on to the handler. */
static bool precheck(struct http_exchange *x, size_t max_body, unsigned flags)
{
    const struct _u_request *req = x->req;
    if (http_body_over_limit(max_body, req->binary_body_length, http_header(x, "Content-Length"))) {
        char detail[96];
        snprintf(detail, sizeof detail, "request body exceeds %zu bytes", max_body);
        http_problem(x, 413, detail, NULL);
        return false;
    }
    if (!(flags & HTTP_JSON_BODY))
        return true;
    if (!http_is_json_type(http_header(x, "Content-Type"))) {
        http_problem(x, 415, "expected Content-Type: application/json", NULL);
        return false;
    }
    json_error_t err;
    x->body = json_loadb(req->binary_body, req->binary_body_length, JSON_REJECT_DUPLICATES, &err);
    if (!x->body) {
        char detail[256];
        snprintf(detail, sizeof detail, "malformed JSON at line %d column %d: %s", err.line,
                 err.column, err.text);
        http_problem(x, 400, detail, NULL);
        return false;
    }
    if (!json_is_object(x->body)) {
        http_problem(x, 400, "request body must be a JSON object", NULL);
        return false;
    }
    return true;
}

/* Runs 'fn' for one request with everything the platform promises around it. */
static void serve(size_t max_body, const struct _u_request *req, struct _u_response *resp,
                  const char *route, unsigned flags, http_handler_fn fn, void *user_data)
{
    double t0 = now_seconds();
    metrics_inflight(1);
    char rid[129], tp[56];
    const char *in_rid = u_map_get_case(req->map_header, "X-Request-Id");
    if (http_request_id_valid(in_rid))
        snprintf(rid, sizeof rid, "%s", in_rid);
    else
        http_uuid4(rid);
    const char *in_tp = u_map_get_case(req->map_header, "traceparent");
    if (http_traceparent_valid(in_tp))
        snprintf(tp, sizeof tp, "%s", in_tp);
    else
        http_traceparent_child(NULL, tp);
    char trace_id[33];
    snprintf(trace_id, sizeof trace_id, "%.32s", tp + 3);
    log_set_context(rid, trace_id);

    struct http_exchange x = {.req = req,
                              .resp = resp,
                              .method = req->http_verb,
                              .route = route,
                              .request_id = rid,
                              .traceparent = tp,
                              .user_data = user_data,
                              .status = 0};
    if (strchr(route, ':') && req->url_path)
        x.path_params = http_path_params(route, req->url_path);
    if (precheck(&x, max_body, flags))
        fn(&x);
    if (x.status == 0) /* a handler that sent nothing is a bug, not a success */
        http_problem(&x, 500, "handler produced no response", NULL);
    json_decref(x.body);
    json_decref(x.path_params);
    auth_claims_clear(x.auth);
    free(x.auth);
    u_map_put(resp->map_header, "X-Request-Id", rid);

    double dt = now_seconds() - t0;
    metrics_observe(metric_method(req->http_verb), route, x.status, dt);
    metrics_inflight(-1);
    json_t *f = json_pack("{s:s, s:s, s:s, s:i, s:f}", "method", metric_method(req->http_verb),
                          "route", route, "path", req->url_path ? req->url_path : "", "status",
                          x.status, "durationMs", dt * 1000.0);
    log_fields(x.status >= 500 ? LOG_ERROR : LOG_INFO, "request", f);
    log_clear_context();
}

static int route_cb(const struct _u_request *req, struct _u_response *resp, void *data)
{
    struct route *r = data;
    serve(r->max_body, req, resp, r->pattern, r->flags, r->fn, r->user_data);
    return U_CALLBACK_COMPLETE;
}

/* Handler for paths no route matched: 405 when the path exists with another
 * method (with Allow listing those), else 404. */
static void not_found(struct http_exchange *x)
{
    struct http_server *srv = x->user_data;
    char allow[128] = "";
    size_t used = 0;
    for (struct route *r = srv->routes; r; r = r->next) {
        if (!http_path_matches(r->pattern, x->req->url_path) || strstr(allow, r->method))
            continue;
        int n = snprintf(allow + used, sizeof allow - used, "%s%s", used ? ", " : "", r->method);
        if (n < 0 || (size_t)n >= sizeof allow - used)
            break;
        used += (size_t)n;
    }
    if (used) {
        http_set_header(x, "Allow", allow);
        http_problem(x, 405, "method not allowed on this resource", NULL);
    } else {
        http_problem(x, 404, "no such resource", NULL);
    }
}

static int default_cb(const struct _u_request *req, struct _u_response *resp, void *data)
{
    struct http_server *srv = data;
    serve(srv->max_body, req, resp, "(unmatched)", 0, not_found, srv);
    return U_CALLBACK_COMPLETE;
}

/* ------------------------------------------------------------------------ */
/* server lifecycle                                                          */

struct http_server *http_server_new(const char *service, const char *bind_addr, int port,
                                    unsigned threads, size_t max_body)
{
    if (sodium_init() < 0)
        return NULL;
    struct http_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->service = strdup(service);
    s->threads = threads ? threads : 1;
    s->max_body = max_body;
    s->addr.sin_family = AF_INET;
    s->addr.sin_port = htons((uint16_t)port);
    if (!s->service || inet_pton(AF_INET, bind_addr, &s->addr.sin_addr) != 1) {
        log_error("invalid bind address %s", bind_addr);
        free(s->service);
        free(s);
        return NULL;
    }
    if (ulfius_init_instance(&s->inst, (unsigned)port, &s->addr, NULL) != U_OK) {
        free(s->service);
        free(s);
        return NULL;
    }
    /* One byte over the limit lets the wrapper tell "at the limit" from
     * "over it": Ulfius silently truncates at max_post_body_size. */
    s->inst.max_post_body_size = max_body + 1;
    /* Handlers read the raw body (binary_body): Ulfius's form parser would
     * only keep a second copy of every upload in map_post_body, and it cuts
     * binary values at their first NUL byte. */
    s->inst.allowed_post_processor = U_POST_PROCESS_NONE;
    ulfius_set_default_endpoint(&s->inst, default_cb, s);
    return s;
}

int http_route(struct http_server *s, const char *method, const char *pattern, http_handler_fn fn,
               unsigned flags, void *user_data)
{
    return http_route_limit(s, method, pattern, fn, flags, user_data, 0);
}

int http_route_limit(struct http_server *s, const char *method, const char *pattern,
                     http_handler_fn fn, unsigned flags, void *user_data, size_t max_body)
{
    if (s->started) /* Ulfius reads the instance limit per connection */
        return -1;
    struct route *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->srv = s;
    r->max_body = max_body ? max_body : s->max_body;
    r->method = strdup(method);
    r->pattern = strdup(pattern);
    r->fn = fn;
    r->flags = flags;
    r->user_data = user_data;
    /* Ulfius runs the first matching endpoint by priority (0 first): literal
     * segments must win over parameters, so /docs/openapi.json beats
     * /docs/:asset. Priority = number of parameter segments. */
    unsigned priority = 0;
    for (const char *p = pattern; *p; p++)
        priority += (*p == ':' || *p == '*');
    if (!r->method || !r->pattern ||
        ulfius_add_endpoint_by_val(&s->inst, method, NULL, pattern, priority, route_cb, r) !=
            U_OK) {
        free(r->method);
        free(r->pattern);
        free(r);
        return -1;
    }
    r->next = s->routes;
    s->routes = r;
    /* Ulfius stops buffering a body at the instance limit (one byte over
     * the largest route limit, see http_server_new); each route's own
     * limit is enforced by precheck(). */
    if (r->max_body + 1 > s->inst.max_post_body_size)
        s->inst.max_post_body_size = r->max_body + 1;
    return 0;
}

int http_server_start(struct http_server *s)
{
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)s->threads, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, (void *)&s->addr},
        {MHD_OPTION_CONNECTION_TIMEOUT, 120, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, 4096, NULL},
        {MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ulfius_uri_logger, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ERROR_LOG;
    if (ulfius_start_framework_with_mhd_options(&s->inst, flags, ops) != U_OK) {
        log_error("cannot listen on port %u", s->inst.port);
        return -1;
    }
    s->started = 1;
    return 0;
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    if (s->started)
        ulfius_stop_framework(&s->inst);
    ulfius_clean_instance(&s->inst);
    struct route *r = s->routes;
    while (r) {
        struct route *next = r->next;
        free(r->method);
        free(r->pattern);
        free(r);
        r = next;
    }
    free(s->service);
    free(s);
}
