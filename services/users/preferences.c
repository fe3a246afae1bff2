/*
 * preferences.c - the caller's preferences: GET/PUT /users/me/preferences.
 *
 * PUT replaces the whole document (every member is required), so a client
 * never has to know what the server would merge. A user who never saved
 * preferences reads the defaults of SQL_PREFERENCES_JSON.
 */
#include "caller.h"
#include "fields.h"
#include "input.h"
#include "routes.h"
#include "sql.h"
#include "store.h"

#include <stdlib.h>

static const struct field_rule PREFERENCE_RULES[] = {
    {"language", FIELD_TEXT, true, false, 1, 35, users_check_language},
    {"currency", FIELD_TEXT, true, false, 1, 8, users_check_currency},
    {"notifications", FIELD_OBJECT, true, false, 0, 0, NULL},
    {"marketingOptIn", FIELD_BOOL, true, false, 0, 0, NULL},
};

static const struct field_rule CHANNEL_RULES[] = {
    {"email", FIELD_BOOL, true, false, 0, 0, NULL},
    {"sms", FIELD_BOOL, true, false, 0, 0, NULL},
    {"push", FIELD_BOOL, true, false, 0, 0, NULL},
};

static const char *const PREFERENCE_READ_ONLY[] = {"updatedAt", NULL};

/* clang-format off */
static const char SQL_PREFERENCES_GET[] =
    "SELECT " SQL_PREFERENCES_JSON " FROM profiles p "
    "LEFT JOIN preferences s ON s.user_id = p.id WHERE p.id = $1";

static const char SQL_PREFERENCES_PUT[] =
    "INSERT INTO preferences AS s (user_id, language, currency, notify_email, notify_sms, "
    "notify_push, marketing_opt_in) "
    "SELECT $1, i.b->>'language', i.b->>'currency', "
    "(i.b->'notifications'->>'email')::boolean, (i.b->'notifications'->>'sms')::boolean, "
    "(i.b->'notifications'->>'push')::boolean, (i.b->>'marketingOptIn')::boolean "
    "FROM (SELECT $2::jsonb AS b) i "
    "ON CONFLICT (user_id) DO UPDATE SET language = EXCLUDED.language, "
    "currency = EXCLUDED.currency, notify_email = EXCLUDED.notify_email, "
    "notify_sms = EXCLUDED.notify_sms, notify_push = EXCLUDED.notify_push, "
    "marketing_opt_in = EXCLUDED.marketing_opt_in, updated_at = now() "
    "RETURNING " SQL_PREFERENCES_JSON;
/* clang-format on */

static void get_preferences(struct http_exchange *x)
{
    const char *uid = caller_id(x);
    if (!uid)
        return;
    const char *params[] = {uid};
    store_answer(x, "users_preferences_get", SQL_PREFERENCES_GET, 1, params, store_profile_missing);
}

/* Validate a whole preferences document; false after sending 422. */
static bool valid_preferences(struct http_exchange *x)
{
    json_t *errors = NULL;
    input_validate(x->body, PREFERENCE_RULES, sizeof PREFERENCE_RULES / sizeof PREFERENCE_RULES[0],
                   PREFERENCE_READ_ONLY, INPUT_CREATE, &errors);
    input_validate_member(x->body, "notifications", CHANNEL_RULES,
                          sizeof CHANNEL_RULES / sizeof CHANNEL_RULES[0], INPUT_CREATE, &errors);
    if (!errors)
        return true;
    send_invalid(x, errors);
    return false;
}

/* An upsert that returned no row is a bug, not a missing resource. */
static void preferences_not_stored(struct http_exchange *x)
{
    http_problem(x, 500, "the preferences were not stored", NULL);
}

static void put_preferences(struct http_exchange *x)
{
    const char *uid = caller_id(x);
    char *body = uid && valid_preferences(x) ? store_body_text(x) : NULL;
    if (!body)
        return;
    const char *params[] = {uid, body};
    json_t *out = NULL;
    enum store_result res =
        store_locked_json(x, uid, "users_preferences_put", SQL_PREFERENCES_PUT, 2, params, &out);
    free(body);
    store_reply(x, res, out, 200, preferences_not_stored);
}

int preferences_routes(struct http_server *srv)
{
    int rc = 0;
    rc |= http_route(srv, "GET", "/users/me/preferences", get_preferences, 0, NULL);
    rc |= http_route(srv, "PUT", "/users/me/preferences", put_preferences, HTTP_JSON_BODY, NULL);
    return rc;
}
