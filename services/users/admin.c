/*
 * admin.c - user administration: GET /users, GET /users/:id,
 * PATCH /users/:id {active}.
 *
 * Reads need the users:read permission, the status change users:write (the
 * auth service grants both to ADMIN and SUPERADMIN). On top of the
 * permission, a status change must go down the hierarchy: nobody changes
 * their own status here (that is POST /users/me/deactivate), and only a
 * SUPERADMIN changes the status of an ADMIN or another SUPERADMIN, so one
 * administrator cannot lock out the others.
 */
#include "caller.h"
#include "fields.h"
#include "input.h"
#include "routes.h"
#include "sql.h"
#include "store.h"

#include "core/auth.h"
#include "core/events.h"
#include "core/log.h"
#include "core/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_LIMIT 20
#define MAX_LIMIT 100
#define MAX_SEARCH 100

/* clang-format off */
/* NULL parameters switch a filter off. The search pattern ($3) escapes its
 * metacharacters with backslashes, ILIKE's default escape character; it is
 * matched against the generated search_text column (email, first name,
 * last name), which a trigram index serves. */
static const char SQL_USERS_LIST[] =
    "WITH f AS (SELECT * FROM profiles p "
    "WHERE ($1::text IS NULL OR p.role = $1::text) "
    "AND ($2::boolean IS NULL OR p.active = $2::boolean) "
    "AND ($3::text IS NULL OR p.search_text ILIKE $3::text)) "
    "SELECT json_build_object("
    "'items', coalesce((SELECT json_agg(" SQL_PROFILE_JSON " ORDER BY p.created_at DESC, p.id) "
    "FROM (SELECT * FROM f ORDER BY created_at DESC, id LIMIT $4::bigint OFFSET $5::bigint) p), "
    "'[]'::json), "
    "'total', (SELECT count(*) FROM f))";

static const char SQL_USER_GET[] =
    "SELECT " SQL_PROFILE_JSON " FROM profiles p WHERE p.id = $1";

static const char SQL_USER_LOCK[] =
    "SELECT json_build_object('id', p.id, 'role', p.role, 'active', p.active) "
    "FROM profiles p WHERE p.id = $1 FOR UPDATE";

static const char SQL_USER_SET_ACTIVE[] =
    "UPDATE profiles p SET active = $2::boolean, "
    "deactivated_at = CASE WHEN $2::boolean THEN NULL ELSE now() END, updated_at = now() "
    "WHERE p.id = $1 RETURNING " SQL_PROFILE_JSON;
/* clang-format on */

/* The list filters from the query string, validated. */
struct list_query {
    const char *role;   /* NULL: any */
    const char *active; /* "true" | "false" | NULL */
    char *pattern;      /* ILIKE pattern or NULL; owned, see list_query_free */
    long page, limit;
};

static void list_query_free(struct list_query *q)
{
    free(q->pattern);
    q->pattern = NULL;
}

/* A single-line text query parameter of at most 'max' code points, or an
 * error. Empty means "not given". */
static const char *text_param(struct http_exchange *x, const char *name, size_t max,
                              json_t **errors)
{
    const char *v = http_param(x, name);
    if (!v || !*v)
        return NULL;
    long len = utf8_length(v);
    if (len < 0 || (size_t)len > max || has_control_chars(v)) {
        char msg[96];
        snprintf(msg, sizeof msg, "must be valid text of at most %zu characters", max);
        http_field_error(errors, name, msg);
        return NULL;
    }
    return v;
}

static void parse_role_and_active(struct http_exchange *x, struct list_query *q, json_t **errors)
{
    q->role = text_param(x, "role", 16, errors);
    if (q->role && !users_valid_role(q->role)) {
        http_field_error(errors, "role", "must be one of: SUPERADMIN ADMIN SELLER CUSTOMER");
        q->role = NULL;
    }
    q->active = text_param(x, "active", 8, errors);
    if (q->active && strcmp(q->active, "true") && strcmp(q->active, "false")) {
        http_field_error(errors, "active", "must be true or false");
        q->active = NULL;
    }
}

/* Fill *q from the query string; false after sending 422 (or 500). */
static bool parse_list_query(struct http_exchange *x, struct list_query *q)
{
    json_t *errors = NULL;
    parse_role_and_active(x, q, &errors);
    v_page(http_param(x, "page"), http_param(x, "limit"), DEFAULT_LIMIT, MAX_LIMIT, &q->page,
           &q->limit, &errors);
    const char *search = text_param(x, "search", MAX_SEARCH, &errors);
    if (errors) {
        send_invalid(x, errors);
        return false;
    }
    if (search && !(q->pattern = users_like_pattern(search))) {
        http_problem(x, 500, "out of memory", NULL);
        return false;
    }
    return true;
}

static void list_users(struct http_exchange *x)
{
    if (!http_require(x, "users:read"))
        return;
    struct list_query q = {0};
    if (!parse_list_query(x, &q))
        return;
    char limit[24], offset[24];
    snprintf(limit, sizeof limit, "%ld", q.limit);
    snprintf(offset, sizeof offset, "%ld", (q.page - 1) * q.limit);
    const char *params[] = {q.role, q.active, q.pattern, limit, offset};
    json_t *out = NULL;
    enum store_result res = store_json(x, "users_admin_list", SQL_USERS_LIST, 5, params, &out);
    list_query_free(&q);
    if (res == STORE_FAILED)
        return;
    if (res == STORE_NONE) {
        http_problem(x, 500, "the list query returned nothing", NULL);
        return;
    }
    json_object_set_new(out, "page", json_integer(q.page));
    json_object_set_new(out, "limit", json_integer(q.limit));
    http_json(x, 200, out);
}

static void user_missing(struct http_exchange *x)
{
    http_problem(x, 404, "user not found", NULL);
}

static void get_user(struct http_exchange *x)
{
    if (!http_require(x, "users:read"))
        return;
    const char *id = http_param_uuid(x, "id", "user");
    if (!id)
        return;
    const char *params[] = {id};
    store_answer(x, "users_admin_get", SQL_USER_GET, 1, params, user_missing);
}

/* May 'actor' change the status of 'target' (role 'target_role')? NULL when
 * yes, else why not. */
static const char *status_change_denied(const struct auth_claims *actor, const char *target_id,
                                        const char *target_role)
{
    if (!strcasecmp(actor->sub, target_id))
        return "you cannot change your own status here; use POST /users/me/deactivate";
    int a = users_role_rank(actor->role), t = users_role_rank(target_role);
    if (a < 4 && t >= a)
        return "only a SUPERADMIN may change the status of an account of this role";
    return NULL;
}

/* Record user.activated / user.deactivated for 'profile' in the outbox. 0 or -1. */
static int emit_status_event(const json_t *profile, bool active, const char *by)
{
    json_t *data = json_pack("{s:O, s:s}", "userId", json_object_get(profile, "id"), "by", by);
    int rc = data ? events_emit(active ? "user.activated" : "user.deactivated", data) : -1;
    json_decref(data);
    return rc;
}

/* Apply the status change in the open transaction; the target is locked. */
static enum store_result set_active_locked(struct http_exchange *x, const struct auth_claims *actor,
                                           json_t *target, bool active, json_t **out)
{
    const char *id = json_string_value(json_object_get(target, "id"));
    const char *why = status_change_denied(actor, id ? id : "",
                                           json_string_value(json_object_get(target, "role")));
    if (!id || why) {
        http_problem(x, 403, why ? why : "cannot read the target account", NULL);
        return STORE_FAILED;
    }
    const char *params[] = {id, active ? "true" : "false"};
    if (json_is_true(json_object_get(target, "active")) == active) /* nothing changes */
        return store_json(x, "users_admin_get", SQL_USER_GET, 1, params, out);
    enum store_result res =
        store_json(x, "users_admin_set_active", SQL_USER_SET_ACTIVE, 2, params, out);
    if (res == STORE_ROW && emit_status_event(*out, active, actor->sub) != 0) {
        json_decref(*out);
        *out = NULL;
        http_problem(x, 500, "cannot record the status event", NULL);
        return STORE_FAILED;
    }
    return res;
}

static const struct field_rule STATUS_RULES[] = {
    {"active", FIELD_BOOL, true, false, 0, 0, NULL},
};

/* A status change: who asks, of whom, to what. */
struct status_change {
    const struct auth_claims *actor;
    const char *id;
    bool active;
};

/* Lock the target and apply; on STORE_ROW *out is the updated profile. */
static enum store_result status_steps(struct http_exchange *x, void *arg, json_t **out)
{
    const struct status_change *c = arg;
    const char *params[] = {c->id};
    json_t *target = NULL;
    enum store_result res = store_json(x, "users_admin_lock", SQL_USER_LOCK, 1, params, &target);
    if (res == STORE_ROW)
        res = set_active_locked(x, c->actor, target, c->active, out);
    json_decref(target);
    return res;
}

static void patch_user(struct http_exchange *x)
{
    struct status_change c = {.actor = http_require(x, "users:write")};
    c.id = c.actor ? http_param_uuid(x, "id", "user") : NULL;
    if (!c.id)
        return;
    json_t *errors = NULL;
    input_validate(x->body, STATUS_RULES, 1, NULL, INPUT_CREATE, &errors);
    if (errors) {
        send_invalid(x, errors);
        return;
    }
    c.active = input_is_true(x->body, "active");
    json_t *out = NULL;
    enum store_result res = store_tx(x, status_steps, &c, &out);
    if (res == STORE_ROW)
        log_info("user %s set active=%s by %s", c.id, c.active ? "true" : "false", c.actor->sub);
    store_reply(x, res, out, 200, user_missing);
}

int admin_routes(struct http_server *srv)
{
    int rc = 0;
    rc |= http_route(srv, "GET", "/users", list_users, 0, NULL);
    rc |= http_route(srv, "GET", "/users/:id", get_user, 0, NULL);
    rc |= http_route(srv, "PATCH", "/users/:id", patch_user, HTTP_JSON_BODY, NULL);
    return rc;
}
