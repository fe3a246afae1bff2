/*
 * user_status.c - follows account activation owned by the users service.
 *
 * user.deactivated {userId}: the account may no longer sign in or refresh,
 * and its sessions are revoked at once. user.activated {userId}: sign-in is
 * allowed again (revoked sessions stay revoked). The handler runs inside the
 * consumer's transaction with the inbox record (core/events.h), so a
 * redelivered event has no second effect.
 */
#include "auth_svc.h"

#include "core/db.h"
#include "core/events.h"
#include "core/log.h"
#include "core/validate.h"

#include <string.h>

static int set_active(const char *user_id, bool active)
{
    const char *p[] = {user_id, active ? "true" : "false"};
    PGresult *r =
        db_exec("auth_user_set_active",
                "UPDATE users SET is_active = $2, updated_at = now() WHERE id = $1", 2, p);
    int rc = db_ok(r) ? 0 : -1;
    PQclear(r);
    return rc;
}

static int on_status_event(const char *routing_key, json_t *event, void *user_data)
{
    (void)user_data;
    const char *id = json_string_value(json_object_get(json_object_get(event, "data"), "userId"));
    if (!valid_uuid(id)) {
        /* Retrying cannot repair a malformed event: acknowledge it. */
        log_warn("%s without a valid data.userId: ignored", routing_key);
        return 0;
    }
    bool active = !strcmp(routing_key, "user.activated");
    if (set_active(id, active) != 0)
        return -1;
    if (!active && session_revoke_all(id, NULL, "account deactivated") < 0)
        return -1;
    log_info("user %s %s", id, active ? "activated" : "deactivated");
    return 0;
}

int user_status_subscribe(void)
{
    static const char *const keys[] = {"user.deactivated", "user.activated", NULL};
    return events_subscribe("user-status", keys, on_status_event, NULL);
}
