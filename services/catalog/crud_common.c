/*
 * crud_common.c - shared plumbing of products.c and categories.c. See
 * crud_common.h.
 */
#include "crud_common.h"

#include "core/db.h"
#include "core/events.h"
#include "core/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int crud_optional_caller(struct http_exchange *x, const struct auth_claims **out)
{
    *out = NULL;
    if (!http_header(x, "Authorization"))
        return 0;
    *out = http_authenticate(x);
    return *out ? 0 : -1;
}

bool crud_is_admin(const struct auth_claims *c)
{
    return c && (!strcmp(c->role, "ADMIN") || !strcmp(c->role, "SUPERADMIN"));
}

const struct auth_claims *crud_require(struct http_exchange *x, const char *const *roles)
{
    const struct auth_claims *c = http_require_role(x, roles);
    if (!c)
        return NULL;
    /* seller_id is a uuid column: a subject that is not one could never own
     * anything, and would fail in the database instead of here. */
    if (!valid_uuid(c->sub)) {
        http_set_header(x, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        http_problem(x, 401, "token subject is not a user id", NULL);
        return NULL;
    }
    return c;
}

/* The statement's text, without the cache. */
static enum store_result fetch_text(struct http_exchange *x, const char *name, const char *sql,
                                    int n, const char *const *params, char **text, size_t *len)
{
    PGresult *r = db_exec(name, sql, n, params);
    if (!db_ok(r)) {
        http_db_problem(x, r);
        PQclear(r);
        return STORE_FAILED;
    }
    if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)) {
        PQclear(r);
        return STORE_NONE;
    }
    *text = json_text_compact(PQgetvalue(r, 0, 0), len);
    PQclear(r);
    if (!*text) {
        http_problem(x, 500, "out of memory", NULL);
        return STORE_FAILED;
    }
    return STORE_ROW;
}

enum store_result crud_cached_text(struct http_exchange *x, const char *key, const char *name,
                                   const char *sql, int n, const char *const *params, char **text,
                                   size_t *len)
{
    *text = cache_get(key, len);
    if (*text)
        return STORE_ROW;
    enum store_result res = fetch_text(x, name, sql, n, params, text, len);
    if (res == STORE_ROW)
        cache_put(key, *text, *len);
    return res;
}

void crud_reply_text(struct http_exchange *x, enum store_result res, char *text, size_t len,
                     void (*missing)(struct http_exchange *x))
{
    if (res == STORE_ROW)
        http_send_json_etag(x, text, len);
    else if (res == STORE_NONE)
        missing(x);
    free(text);
}

/* The unique constraints a client can run into, and the field each
 * guards. */
static const struct {
    const char *constraint, *field, *message;
} CONFLICTS[] = {
    {"products_sku_key", "sku", "is already used by another product (case-insensitive)"},
    {"products_slug_key", "slug", "is already used by another product"},
    {"categories_slug_key", "slug", "is already used by another category"},
    {"categories_path_key", "slug", "is already used by another category"},
};

/* 409 naming the field when 'r' is a unique violation of a known
 * constraint; false (nothing sent) otherwise. */
static bool send_conflict(struct http_exchange *x, const PGresult *r)
{
    if (strcmp(db_sqlstate(r), "23505"))
        return false;
    const char *c = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    for (size_t i = 0; c && i < sizeof CONFLICTS / sizeof CONFLICTS[0]; i++) {
        if (strcmp(c, CONFLICTS[i].constraint))
            continue;
        json_t *errors = NULL;
        http_field_error(&errors, CONFLICTS[i].field, CONFLICTS[i].message);
        http_problem(x, 409, "a unique value is already taken", errors);
        return true;
    }
    return false;
}

PGresult *crud_exec(struct http_exchange *x, const char *name, const char *sql, int n,
                    const char *const *params)
{
    PGresult *r = db_exec(name, sql, n, params);
    if (db_ok(r))
        return r;
    if (!send_conflict(x, r))
        http_db_problem(x, r);
    PQclear(r);
    return NULL;
}

int crud_emit(struct http_exchange *x, const char *routing_key, json_t *data)
{
    if (data && events_emit(routing_key, data) == 0)
        return 0;
    char detail[96];
    snprintf(detail, sizeof detail, "cannot record the %s event", routing_key);
    http_problem(x, 500, detail, NULL);
    return -1;
}

void crud_invalid(struct http_exchange *x, json_t *errors)
{
    http_problem(x, 422, "the request has invalid fields", errors);
}
