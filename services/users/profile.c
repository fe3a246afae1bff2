/*
 * profile.c - the caller's own profile: GET/PATCH /users/me and
 * POST /users/me/deactivate.
 *
 * The profile row is created by the user.registered event (consumers.c);
 * email and role belong to the auth service and are read-only here.
 */
#include "caller.h"
#include "fields.h"
#include "input.h"
#include "routes.h"
#include "sql.h"
#include "store.h"

#include "core/events.h"
#include "core/log.h"

#include <stdlib.h>

static const struct field_rule PROFILE_RULES[] = {
    {"firstName", FIELD_TEXT, true, false, 1, 100, NULL},
    {"lastName", FIELD_TEXT, true, false, 1, 100, NULL},
    {"phone", FIELD_TEXT, false, true, 1, 32, users_check_phone},
    {"avatarUrl", FIELD_TEXT, false, true, 1, 2048, users_check_https_url},
    {"dateOfBirth", FIELD_TEXT, false, true, 1, 32, users_birth_date_error_now},
};

/* Members a client may read but not write here. */
static const char *const PROFILE_READ_ONLY[] = {
    "id",        "email",     "role", "emailVerified", "active", "deactivatedAt",
    "createdAt", "updatedAt", NULL};

/* clang-format off */
static const char SQL_PROFILE_GET[] =
    "SELECT " SQL_PROFILE_JSON " FROM profiles p WHERE p.id = $1";

static const char SQL_PROFILE_PATCH[] =
    "UPDATE profiles p SET "
    SQL_PATCH("p", "first_name", "firstName", "") ", "
    SQL_PATCH("p", "last_name", "lastName", "") ", "
    SQL_PATCH("p", "phone", "phone", "") ", "
    SQL_PATCH("p", "avatar_url", "avatarUrl", "") ", "
    SQL_PATCH("p", "date_of_birth", "dateOfBirth", "::date") ", "
    "updated_at = now() "
    "FROM (SELECT $2::jsonb AS b) i WHERE p.id = $1 RETURNING " SQL_PROFILE_JSON;

static const char SQL_PROFILE_DEACTIVATE[] =
    "UPDATE profiles p SET active = false, deactivated_at = now(), updated_at = now() "
    "WHERE p.id = $1 RETURNING " SQL_PROFILE_JSON;
/* clang-format on */

static void get_me(struct http_exchange *x)
{
    const char *uid = caller_id(x);
    if (!uid)
        return;
    const char *params[] = {uid};
    store_answer(x, "users_profile_get", SQL_PROFILE_GET, 1, params, store_profile_missing);
}

static void patch_me(struct http_exchange *x)
{
    const char *uid = caller_id(x);
    if (!uid)
        return;
    json_t *errors = NULL;
    input_validate(x->body, PROFILE_RULES, sizeof PROFILE_RULES / sizeof PROFILE_RULES[0],
                   PROFILE_READ_ONLY, INPUT_UPDATE, &errors);
    if (errors) {
        send_invalid(x, errors);
        return;
    }
    char *body = store_body_text(x);
    if (!body)
        return;
    const char *params[] = {uid, body};
    json_t *out = NULL;
    enum store_result res =
        store_locked_json(x, uid, "users_profile_patch", SQL_PROFILE_PATCH, 2, params, &out);
    free(body);
    /* STORE_NONE: the row was locked a moment ago, then gone */
    store_reply(x, res, out, 200, store_profile_missing);
}

/* Inside the transaction, with the profile locked and active: mark it
 * inactive and put user.deactivated into the outbox, so the auth service
 * blocks logins and revokes sessions exactly when this commits. */
static enum store_result deactivate_locked(struct http_exchange *x, const char *uid, json_t **out)
{
    const char *params[] = {uid};
    enum store_result res =
        store_json(x, "users_profile_deactivate", SQL_PROFILE_DEACTIVATE, 1, params, out);
    if (res != STORE_ROW)
        return res;
    json_t *data = json_pack("{s:O, s:s}", "userId", json_object_get(*out, "id"), "by", "self");
    int rc = data ? events_emit("user.deactivated", data) : -1;
    json_decref(data);
    if (rc != 0) {
        json_decref(*out);
        *out = NULL;
        http_problem(x, 500, "cannot record the user.deactivated event", NULL);
        return STORE_FAILED;
    }
    return STORE_ROW;
}

/* Already inactive: answer with the profile and emit nothing (the event was
 * sent when it became inactive). */
static enum store_result read_locked(struct http_exchange *x, const char *uid, json_t **out)
{
    const char *params[] = {uid};
    return store_json(x, "users_profile_get", SQL_PROFILE_GET, 1, params, out);
}

/* What deactivate_steps works on, and what it found. */
struct deactivation {
    const char *uid;
    bool was_active;
};

/* Lock the caller's profile (active or not) and deactivate it when it is
 * active; an inactive one is only read. */
static enum store_result deactivate_steps(struct http_exchange *x, void *arg, json_t **out)
{
    struct deactivation *d = arg;
    if (store_lock_profile(x, d->uid, &d->was_active) != 0)
        return STORE_FAILED;
    return d->was_active ? deactivate_locked(x, d->uid, out) : read_locked(x, d->uid, out);
}

static void deactivate_me(struct http_exchange *x)
{
    struct deactivation d = {.uid = caller_id(x), .was_active = false};
    if (!d.uid)
        return;
    json_t *out = NULL;
    enum store_result res = store_tx(x, deactivate_steps, &d, &out);
    if (res == STORE_ROW && d.was_active)
        log_info("user %s deactivated their account", d.uid);
    store_reply(x, res, out, 200, store_profile_missing);
}

int profile_routes(struct http_server *srv)
{
    int rc = 0;
    rc |= http_route(srv, "GET", "/users/me", get_me, 0, NULL);
    rc |= http_route(srv, "PATCH", "/users/me", patch_me, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "POST", "/users/me/deactivate", deactivate_me, 0, NULL);
    return rc;
}
