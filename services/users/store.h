/*
 * store.h - the users service's own database plumbing (profile locks);
 * core/store.h has the generic helpers every handler uses.
 */
#ifndef USERS_STORE_H
#define USERS_STORE_H

#include "core/store.h"

/* 404 for a caller whose profile does not exist (yet). */
void store_profile_missing(struct http_exchange *x);

/* Inside a transaction: lock the profile row of 'uid' (serialising every
 * write of one user, which is what keeps the address limit and the default
 * flags exact under concurrency) and report whether it is active. Returns 0,
 * or -1 after sending 404 or 5xx. */
int store_lock_profile(struct http_exchange *x, const char *uid, bool *active);

/* The same, and -1 after 403 when the account is deactivated (its access
 * token may live a few more minutes; it must not change anything). */
int store_lock_active_profile(struct http_exchange *x, const char *uid);

/* One write of an active user's data in its own transaction: begin, lock
 * the profile, run the statement, commit. Returns like store_tx. */
enum store_result store_locked_json(struct http_exchange *x, const char *uid, const char *name,
                                    const char *sql, int n, const char *const *params,
                                    json_t **out);

#endif
