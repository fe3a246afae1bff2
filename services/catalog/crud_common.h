/*
 * crud_common.h - what the product and category handlers share: who the
 * caller is, cached reads, statements whose unique violations are 409s, and
 * events.
 */
#ifndef CATALOG_CRUD_COMMON_H
#define CATALOG_CRUD_COMMON_H

#include "catalog.h"

#include "core/auth.h"
#include "core/store.h"

/* The caller of a public route: *out NULL for an anonymous request (no
 * Authorization header), the verified claims otherwise. Returns 0, or -1
 * after sending 401 for a token that does not verify (a bad token is an
 * error even where none is needed, so a client learns its token is bad). */
int crud_optional_caller(struct http_exchange *x, const struct auth_claims **out);

/* True for ADMIN and SUPERADMIN. */
bool crud_is_admin(const struct auth_claims *c);

/* The caller when its role is one of 'roles' (NULL-terminated) and its
 * subject a UUID; else NULL after sending 401 or 403. */
const struct auth_claims *crud_require(struct http_exchange *x, const char *const *roles);

/* A read through the cache: the text under 'key', or else the first
 * column of statement 'name' (then cached). STORE_ROW: *text (caller
 * frees) and *len are set; STORE_NONE: no row; STORE_FAILED: sent. */
enum store_result crud_cached_text(struct http_exchange *x, const char *key, const char *name,
                                   const char *sql, int n, const char *const *params, char **text,
                                   size_t *len);

/* Answer a read from what crud_cached_text gave: 200 with the text and
 * its ETag (or 304), 'missing' on STORE_NONE, nothing more on STORE_FAILED.
 * Frees 'text'. */
void crud_reply_text(struct http_exchange *x, enum store_result res, char *text, size_t len,
                     void (*missing)(struct http_exchange *x));

/* Run a statement of a write. Returns its result (caller PQclear()s), or
 * NULL after sending: 409 naming the field when a unique constraint the
 * catalog knows (sku, slugs) refused the value, else http_db_problem. */
PGresult *crud_exec(struct http_exchange *x, const char *name, const char *sql, int n,
                    const char *const *params);

/* events_emit inside the open transaction; -1 after sending 500. */
int crud_emit(struct http_exchange *x, const char *routing_key, json_t *data);

/* 422 with the collected field errors (stolen). */
void crud_invalid(struct http_exchange *x, json_t *errors);

#endif
