/*
 * routes_admin.c - administration: list and create users, change roles, and
 * the role/permission catalogue.
 *
 * Guards: a permission per route (http_require), then the role rules of
 * rbac.c (only a SUPERADMIN makes or unmakes ADMIN/SUPERADMIN), then the
 * invariant that at least one active SUPERADMIN remains (409).
 */
#include "auth_svc.h"

#include "core/db.h"
#include "core/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* GET /auth/admin/users                                                     */

/* $1 role or NULL, $2 search text or NULL (substring of email or name,
 * case-insensitive; strpos, not LIKE, so % and _ are plain characters). */
#define USER_FILTER                                                                                \
    " FROM users u WHERE ($1::text IS NULL OR u.role = $1) AND ($2::text IS NULL "                 \
    "OR strpos(lower(u.email), lower($2)) > 0 "                                                    \
    "OR strpos(lower(u.first_name || ' ' || u.last_name), lower($2)) > 0)"

struct user_query {
    const char *role, *search;
    long page, limit;
};

/* Read and check the query string; false after answering 422. */
static bool read_query(struct http_exchange *x, struct user_query *q)
{
    json_t *errors = NULL;
    q->role = http_param(x, "role");
    q->search = http_param(x, "search");
    if (q->role && !role_valid(q->role))
        http_field_error(&errors, "role", "must be one of: SUPERADMIN ADMIN SELLER CUSTOMER");
    if (q->search && (utf8_length(q->search) < 0 || utf8_length(q->search) > 100 ||
                      has_control_chars(q->search)))
        http_field_error(&errors, "search", "must be at most 100 characters of plain text");
    if (q->search && !*q->search)
        q->search = NULL;
    v_page(http_param(x, "page"), http_param(x, "limit"), 20, 100, &q->page, &q->limit, &errors);
    if (errors) {
        http_problem(x, 422, "invalid query parameters", errors);
        return false;
    }
    return true;
}

/* {items, total, page, limit} built from the page's rows and the count. */
static json_t *page_json(const PGresult *rows, const PGresult *count, const struct user_query *q)
{
    json_t *items = json_array();
    for (int i = 0; items && i < PQntuples(rows); i++)
        json_array_append_new(items, user_json(rows, i));
    return json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total",
                     (json_int_t)strtoll(PQgetvalue(count, 0, 0), NULL, 10), "page",
                     (json_int_t)q->page, "limit", (json_int_t)q->limit);
}

/* The page for the query, or NULL with the failed result in *failed. */
static json_t *user_page(const struct user_query *q, PGresult **failed)
{
    char lim[24], off[24];
    snprintf(lim, sizeof lim, "%ld", q->limit);
    snprintf(off, sizeof off, "%ld", (q->page - 1) * q->limit);
    const char *p[] = {q->role, q->search, lim, off};
    PGresult *rows = db_exec("auth_admin_users",
                             "SELECT " USER_COLS USER_FILTER
                             " ORDER BY u.created_at DESC, u.id LIMIT $3 OFFSET $4",
                             4, p);
    if (!db_ok(rows)) {
        *failed = rows;
        return NULL;
    }
    PGresult *count = db_exec("auth_admin_users_count", "SELECT count(*)" USER_FILTER, 2, p);
    if (!db_ok(count)) {
        PQclear(rows);
        *failed = count;
        return NULL;
    }
    json_t *page = page_json(rows, count, q);
    PQclear(rows);
    PQclear(count);
    return page;
}

static void on_list_users(struct http_exchange *x)
{
    const struct auth_claims *c = http_require(x, "users:read");
    struct user_query q;
    if (!c || !session_check(x, c) || !read_query(x, &q))
        return;
    PGresult *failed = NULL;
    json_t *page = user_page(&q, &failed);
    if (page) {
        http_json(x, 200, page);
        return;
    }
    http_db_problem(x, failed);
    PQclear(failed);
}

/* ------------------------------------------------------------------------ */
/* POST /auth/admin/users                                                    */

static void on_create_user(struct http_exchange *x)
{
    static const char *const fields[] = {"email", "password",      "firstName", "lastName",
                                         "role",  "emailVerified", NULL};
    const struct auth_claims *c = http_require(x, "users:write");
    if (!c || !session_check(x, c))
        return;
    json_t *errors = NULL;
    struct new_account a = {0};
    v_no_unknown(x->body, fields, &errors);
    account_read(x->body, &a, &errors);
    a.role = v_enum(x->body, "role", true, ROLE_NAMES, &errors);
    a.email_verified = v_bool(x->body, "emailVerified", false, &errors) == 1;
    if (errors) {
        http_problem(x, 422, "the account data is invalid", errors);
        return;
    }
    if (!role_may_create(c->role, a.role)) {
        http_problem(x, 403, "your role may not create accounts with this role", NULL);
        return;
    }
    account_create(x, &a);
}

/* ------------------------------------------------------------------------ */
/* PATCH /auth/admin/users/:id/role                                          */

/* Inside the transaction: the target's current role into 'role' (locked).
 * 1 found, 0 not, -1 failure. */
static int lock_target(const char *id, char role[16])
{
    const char *p[] = {id};
    /* Role changes are rare: one transaction-scoped advisory lock
     * serialises them all, so two SUPERADMINs demoting each other at once
     * cannot both pass the last-SUPERADMIN check (and cannot deadlock). */
    PGresult *l =
        db_exec("auth_role_lock", "SELECT pg_advisory_xact_lock(hashtext('auth.role'))", 0, NULL);
    bool locked = db_ok(l);
    PQclear(l);
    if (!locked)
        return -1;
    PGresult *r =
        db_exec("auth_role_target", "SELECT role FROM users WHERE id = $1 FOR UPDATE", 1, p);
    int rc = !db_ok(r) ? -1 : PQntuples(r) == 1 ? 1 : 0;
    if (rc == 1)
        snprintf(role, 16, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

/* Other active SUPERADMINs besides 'id', -1 on failure. */
static long other_superadmins(const char *id)
{
    const char *p[] = {id};
    PGresult *r = db_exec("auth_role_other_supers",
                          "SELECT count(*) FROM users WHERE role = 'SUPERADMIN' AND is_active "
                          "AND id <> $1",
                          1, p);
    long n = db_ok(r) ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return n;
}

/* Write the change: role, sessions (new permissions apply at the next
 * sign-in), event. Returns the updated row or NULL. */
static PGresult *apply_role(const char *id, const char *from, const char *to, const char *by)
{
    const char *p[] = {id, to};
    PGresult *r = db_exec("auth_role_set",
                          "UPDATE users u SET role = $2, updated_at = now() WHERE u.id = $1 "
                          "RETURNING " USER_COLS,
                          2, p);
    if (!db_ok(r) || PQntuples(r) != 1 || session_revoke_all(id, NULL, "role changed") < 0 ||
        emit_role_changed(id, from, to, by) != 0) {
        PQclear(r);
        return NULL;
    }
    return r;
}

/* The checks and the change, inside the transaction; answers. */
static void change_role_tx(struct http_exchange *x, const struct auth_claims *c, const char *id,
                           const char *to)
{
    char from[16];
    int found = lock_target(id, from);
    if (found <= 0) {
        db_rollback();
        if (found == 0)
            http_problem(x, 404, "no such user", NULL);
        else
            respond_db_failed(x);
        return;
    }
    if (!role_may_change(c->role, from, to)) {
        db_rollback();
        http_problem(x, 403, "only a SUPERADMIN may grant or revoke ADMIN or SUPERADMIN", NULL);
        return;
    }
    long others =
        strcmp(from, "SUPERADMIN") || !strcmp(to, "SUPERADMIN") ? 1 : other_superadmins(id);
    if (others <= 0) {
        db_rollback();
        if (others == 0)
            http_problem(x, 409, "the last SUPERADMIN cannot lose that role", NULL);
        else
            respond_db_failed(x);
        return;
    }
    PGresult *r = !strcmp(from, to) ? user_by_id(id) : apply_role(id, from, to, c->sub);
    if (!db_ok(r) || PQntuples(r) != 1 || db_commit() != 0) {
        PQclear(r);
        db_rollback();
        respond_db_failed(x);
        return;
    }
    http_json(x, 200, user_json(r, 0));
    PQclear(r);
}

static void on_change_role(struct http_exchange *x)
{
    static const char *const fields[] = {"role", NULL};
    const struct auth_claims *c = http_require(x, "users:write");
    if (!c || !session_check(x, c))
        return;
    json_t *errors = NULL;
    v_no_unknown(x->body, fields, &errors);
    const char *to = v_enum(x->body, "role", true, ROLE_NAMES, &errors);
    if (errors) {
        http_problem(x, 422, "role must be one of SUPERADMIN, ADMIN, SELLER, CUSTOMER", errors);
        return;
    }
    const char *id = http_param(x, "id");
    if (!valid_uuid(id)) {
        http_problem(x, 404, "no such user", NULL);
        return;
    }
    if (db_begin() != 0) {
        http_db_problem(x, NULL);
        return;
    }
    change_role_tx(x, c, id, to);
}

/* ------------------------------------------------------------------------ */
/* GET /auth/roles                                                           */

static const char ROLES_SQL[] =
    "SELECT r.name, r.description, coalesce(json_agg(rp.permission ORDER BY rp.permission) "
    "FILTER (WHERE rp.permission IS NOT NULL), '[]')::text "
    "FROM roles r LEFT JOIN role_permissions rp ON rp.role = r.name "
    "GROUP BY r.name, r.description, r.rank ORDER BY r.rank DESC";

static json_t *roles_json(const PGresult *r)
{
    json_t *items = json_array();
    for (int i = 0; items && i < PQntuples(r); i++) {
        json_t *perms = json_loads(PQgetvalue(r, i, 2), 0, NULL);
        json_array_append_new(items, json_pack("{s:s, s:s, s:o}", "name", PQgetvalue(r, i, 0),
                                               "description", PQgetvalue(r, i, 1), "permissions",
                                               perms ? perms : json_array()));
    }
    return items;
}

static json_t *permissions_json(const PGresult *r)
{
    json_t *items = json_array();
    for (int i = 0; items && i < PQntuples(r); i++)
        json_array_append_new(items, json_pack("{s:s, s:s}", "name", PQgetvalue(r, i, 0),
                                               "description", PQgetvalue(r, i, 1)));
    return items;
}

static void on_roles(struct http_exchange *x)
{
    const struct auth_claims *c = http_require(x, "roles:read");
    if (!c || !session_check(x, c))
        return;
    PGresult *roles = db_exec("auth_roles", ROLES_SQL, 0, NULL);
    PGresult *perms = db_ok(roles) ? db_exec("auth_permissions",
                                             "SELECT name, description FROM permissions "
                                             "ORDER BY name",
                                             0, NULL)
                                   : NULL;
    if (db_ok(roles) && db_ok(perms))
        http_json(x, 200,
                  json_pack("{s:o, s:o}", "items", roles_json(roles), "permissions",
                            permissions_json(perms)));
    else
        http_db_problem(x, db_ok(roles) ? perms : roles);
    PQclear(roles);
    PQclear(perms);
}

int routes_admin(struct http_server *srv)
{
    int rc = 0;
    rc |= http_route(srv, "GET", "/auth/admin/users", on_list_users, 0, NULL);
    rc |= http_route(srv, "POST", "/auth/admin/users", on_create_user, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "PATCH", "/auth/admin/users/:id/role", on_change_role, HTTP_JSON_BODY,
                     NULL);
    rc |= http_route(srv, "GET", "/auth/roles", on_roles, 0, NULL);
    return rc;
}
