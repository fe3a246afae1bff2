/*
 * store.h - database plumbing for request handlers.
 *
 * Every function that can fail sends the matching problem+json itself, so a
 * handler only checks the result and returns. A failed statement is
 * answered by http_db_problem (core/http.h). Statements run on the thread's
 * connection (core/db.h); results are parsed JSON the caller owns.
 */
#ifndef CORE_STORE_H
#define CORE_STORE_H

#include "core/http.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

enum store_result {
    STORE_ROW,    /* a row came back; *out holds its JSON */
    STORE_NONE,   /* no row; nothing was sent */
    STORE_FAILED, /* the problem response was sent */
};

/* Run prepared statement 'name' whose first column is JSON text. On
 * STORE_ROW, *out is the first row's value (caller owns it). */
enum store_result store_json(struct http_exchange *x, const char *name, const char *sql, int n,
                             const char *const *params, json_t **out);

/* Run a statement that returns no data. Returns the number of affected rows,
 * or -1 after sending the problem. */
long store_exec(struct http_exchange *x, const char *name, const char *sql, int n,
                const char *const *params);

/* Transactions. store_begin/store_commit send 503/500 and return -1 on
 * failure (store_commit rolls back first). */
int store_begin(struct http_exchange *x);
int store_commit(struct http_exchange *x);
void store_rollback(void);

/* The steps of one write, run by store_tx inside its transaction with the
 * caller's 'arg'. They return like store_json and send their own problems. */
typedef enum store_result (*store_steps_fn)(struct http_exchange *x, void *arg, json_t **out);

/* Run 'steps' in a transaction of their own. STORE_ROW: committed, *out is
 * the row (caller owns it). Otherwise rolled back and *out NULL: on
 * STORE_FAILED the problem was sent (also when the commit failed), on
 * STORE_NONE nothing was. */
enum store_result store_tx(struct http_exchange *x, store_steps_fn steps, void *arg, json_t **out);

/* Answer what a statement or transaction gave: 'status' with 'out' (taken)
 * on STORE_ROW, 'missing' on STORE_NONE, nothing more on STORE_FAILED (its
 * problem was sent). */
void store_reply(struct http_exchange *x, enum store_result res, json_t *out, int status,
                 void (*missing)(struct http_exchange *x));

/* A read: run store_json and answer 200 with the row, or 'missing'. */
void store_answer(struct http_exchange *x, const char *name, const char *sql, int n,
                  const char *const *params, void (*missing)(struct http_exchange *x));

/* The validated request body as compact JSON text for a jsonb parameter.
 * Caller frees; NULL after sending 500. */
char *store_body_text(struct http_exchange *x);

#endif
