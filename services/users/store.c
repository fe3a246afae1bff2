/*
 * store.c - the users service's own database plumbing: the profile lock that
 * serialises one user's writes. The generic parts are core/store.h.
 */
#include "store.h"

#include "core/db.h"

#include <string.h>

void store_profile_missing(struct http_exchange *x)
{
    http_problem(x, 404,
                 "profile not found: it is created shortly after registration (from the "
                 "user.registered event); retry in a moment",
                 NULL);
}

int store_lock_profile(struct http_exchange *x, const char *uid, bool *active)
{
    const char *params[] = {uid};
    PGresult *r = db_exec("users_profile_lock",
                          "SELECT p.active FROM profiles p WHERE p.id = $1 FOR UPDATE", 1, params);
    if (!db_ok(r)) {
        http_db_problem(x, r);
        PQclear(r);
        return -1;
    }
    bool found = PQntuples(r) == 1;
    if (found)
        *active = !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    if (!found)
        store_profile_missing(x);
    return found ? 0 : -1;
}

int store_lock_active_profile(struct http_exchange *x, const char *uid)
{
    bool active = false;
    if (store_lock_profile(x, uid, &active) != 0)
        return -1;
    if (!active) {
        http_problem(x, 403, "this account is deactivated", NULL);
        return -1;
    }
    return 0;
}

/* One statement on the user's locked, active profile (store_locked_json). */
struct locked_statement {
    const char *uid, *name, *sql;
    int n;
    const char *const *params;
};

static enum store_result locked_statement_steps(struct http_exchange *x, void *arg, json_t **out)
{
    const struct locked_statement *st = arg;
    if (store_lock_active_profile(x, st->uid) != 0)
        return STORE_FAILED;
    return store_json(x, st->name, st->sql, st->n, st->params, out);
}

enum store_result store_locked_json(struct http_exchange *x, const char *uid, const char *name,
                                    const char *sql, int n, const char *const *params, json_t **out)
{
    struct locked_statement st = {.uid = uid, .name = name, .sql = sql, .n = n, .params = params};
    return store_tx(x, locked_statement_steps, &st, out);
}
