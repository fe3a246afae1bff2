/*
 * consumers.c - the auth service's events that shape a profile.
 *
 *   user.registered     {userId, email, firstName, lastName, role, emailVerified}
 *                       creates the profile
 *   user.role_changed   {userId, newRole}   keeps the role (admin filter)
 *   user.email_verified {userId}            keeps emailVerified
 *
 * The core runs each handler inside a transaction after recording the event
 * id in the inbox, so a redelivered event never runs twice. The INSERT is
 * idempotent on its own as well (ON CONFLICT DO NOTHING): a second
 * registration event with another id for the same user changes nothing.
 * A malformed event fails (-1): after the core's retries it lands in the
 * dead-letter queue, where it can be inspected, instead of being dropped.
 */
#include "fields.h"
#include "routes.h"

#include "core/db.h"
#include "core/events.h"
#include "core/log.h"
#include "core/validate.h"

#include <stdlib.h>
#include <string.h>

/* String member 'name' of 'data', 'def' when absent; NULL when present but
 * not a string or containing NUL (PostgreSQL text cannot hold it). */
static const char *data_string(json_t *data, const char *name, const char *def)
{
    json_t *v = json_object_get(data, name);
    if (!v || json_is_null(v))
        return def;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

/* Run one statement; 0 and the affected row count in *rows, or -1. */
static int run(const char *name, const char *sql, int n, const char *const *params, long *rows)
{
    PGresult *r = db_exec(name, sql, n, params);
    int rc = db_ok(r) ? 0 : -1;
    if (rc == 0 && rows)
        *rows = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return rc;
}

static int on_registered(json_t *data)
{
    const char *id = data_string(data, "userId", NULL);
    const char *email = data_string(data, "email", NULL);
    const char *first = data_string(data, "firstName", "");
    const char *last = data_string(data, "lastName", "");
    const char *role = data_string(data, "role", "CUSTOMER");
    json_t *verified = json_object_get(data, "emailVerified");
    if (!valid_uuid(id) || !email || !*email || !first || !last || !users_valid_role(role)) {
        log_error("user.registered: malformed payload");
        return -1;
    }
    const char *params[] = {id,   email, first,
                            last, role,  json_is_true(verified) ? "true" : "false"};
    long rows = 0;
    if (run("users_event_registered",
            "INSERT INTO profiles (id, email, first_name, last_name, role, email_verified) "
            "VALUES ($1, $2, $3, $4, $5, $6::boolean) ON CONFLICT (id) DO NOTHING",
            6, params, &rows) != 0)
        return -1;
    log_info("user.registered %s: %s", id, rows ? "profile created" : "profile already exists");
    return 0;
}

/* An update event for a profile that does not exist yet means its
 * user.registered is still on the way: fail, so the retry finds it. */
static int require_row(const char *event, const char *id, long rows)
{
    if (rows > 0)
        return 0;
    log_warn("%s for unknown user %s: retrying later", event, id);
    return -1;
}

static int on_role_changed(json_t *data)
{
    const char *id = data_string(data, "userId", NULL);
    const char *role = data_string(data, "newRole", NULL);
    if (!valid_uuid(id) || !users_valid_role(role)) {
        log_error("user.role_changed: malformed payload");
        return -1;
    }
    const char *params[] = {id, role};
    long rows = 0;
    if (run("users_event_role_changed",
            "UPDATE profiles SET role = $2, updated_at = now() WHERE id = $1", 2, params,
            &rows) != 0)
        return -1;
    return require_row("user.role_changed", id, rows);
}

static int on_email_verified(json_t *data)
{
    const char *id = data_string(data, "userId", NULL);
    if (!valid_uuid(id)) {
        log_error("user.email_verified: malformed payload");
        return -1;
    }
    const char *params[] = {id};
    long rows = 0;
    if (run("users_event_email_verified",
            "UPDATE profiles SET email_verified = true, updated_at = now() WHERE id = $1", 1,
            params, &rows) != 0)
        return -1;
    return require_row("user.email_verified", id, rows);
}

static int on_event(const char *routing_key, json_t *event, void *user_data)
{
    (void)user_data;
    json_t *data = json_object_get(event, "data");
    if (!json_is_object(data)) {
        log_error("%s: event without a data object", routing_key);
        return -1;
    }
    if (!strcmp(routing_key, "user.registered"))
        return on_registered(data);
    if (!strcmp(routing_key, "user.role_changed"))
        return on_role_changed(data);
    if (!strcmp(routing_key, "user.email_verified"))
        return on_email_verified(data);
    log_warn("%s: not an event this service handles (ignored)", routing_key);
    return 0;
}

int consumers_subscribe(void)
{
    static const char *const keys[] = {"user.registered", "user.role_changed",
                                       "user.email_verified", NULL};
    return events_subscribe("profiles", keys, on_event, NULL);
}
