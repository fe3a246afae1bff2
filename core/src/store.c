/*
 * store.c - the database plumbing of request handlers. See core/store.h.
 */
#include "core/store.h"

#include "core/db.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

/* Parse the JSON text of row 0, column 0 of 'r'; NULL when not valid
 * (logged: PostgreSQL built it, so that is a bug, not bad input). */
static json_t *row_json(const PGresult *r)
{
    json_error_t err;
    json_t *v = json_loads(PQgetvalue(r, 0, 0), JSON_DECODE_ANY, &err);
    if (!v)
        log_error("unreadable JSON from the database: %s", err.text);
    return v;
}

enum store_result store_json(struct http_exchange *x, const char *name, const char *sql, int n,
                             const char *const *params, json_t **out)
{
    *out = NULL;
    PGresult *r = db_exec(name, sql, n, params);
    if (!db_ok(r)) {
        http_db_problem(x, r);
        PQclear(r);
        return STORE_FAILED;
    }
    if (PQntuples(r) == 0 || PQnfields(r) < 1 || PQgetisnull(r, 0, 0)) {
        PQclear(r);
        return STORE_NONE;
    }
    *out = row_json(r);
    PQclear(r);
    if (!*out) {
        http_problem(x, 500, "cannot read the database's answer", NULL);
        return STORE_FAILED;
    }
    return STORE_ROW;
}

long store_exec(struct http_exchange *x, const char *name, const char *sql, int n,
                const char *const *params)
{
    PGresult *r = db_exec(name, sql, n, params);
    if (!db_ok(r)) {
        http_db_problem(x, r);
        PQclear(r);
        return -1;
    }
    long rows = strtol(PQcmdTuples(r), NULL, 10); /* "" for statements without a count */
    PQclear(r);
    return rows;
}

int store_begin(struct http_exchange *x)
{
    if (db_begin() == 0)
        return 0;
    http_problem(x, 503, "the database is unavailable, retry later", NULL);
    return -1;
}

int store_commit(struct http_exchange *x)
{
    if (db_commit() == 0)
        return 0;
    db_rollback();
    http_problem(x, 503, "the change could not be committed, retry", NULL);
    return -1;
}

void store_rollback(void)
{
    db_rollback();
}

enum store_result store_tx(struct http_exchange *x, store_steps_fn steps, void *arg, json_t **out)
{
    *out = NULL;
    if (store_begin(x) != 0)
        return STORE_FAILED;
    enum store_result res = steps(x, arg, out);
    if (res != STORE_ROW) {
        json_decref(*out); /* steps that failed half-way may have left a row */
        *out = NULL;
        store_rollback();
        return res;
    }
    if (store_commit(x) != 0) {
        json_decref(*out);
        *out = NULL;
        return STORE_FAILED;
    }
    return STORE_ROW;
}

void store_reply(struct http_exchange *x, enum store_result res, json_t *out, int status,
                 void (*missing)(struct http_exchange *x))
{
    if (res == STORE_ROW)
        http_json(x, status, out);
    else if (res == STORE_NONE)
        missing(x);
    else
        json_decref(out); /* NULL after a failure; the problem was sent */
}

void store_answer(struct http_exchange *x, const char *name, const char *sql, int n,
                  const char *const *params, void (*missing)(struct http_exchange *x))
{
    json_t *out = NULL;
    enum store_result res = store_json(x, name, sql, n, params, &out);
    store_reply(x, res, out, 200, missing);
}

char *store_body_text(struct http_exchange *x)
{
    char *s = json_dumps(x->body, JSON_COMPACT);
    if (!s)
        http_problem(x, 500, "out of memory", NULL);
    return s;
}
