/*
 * user_events.c - the user.* events of this service, written to the outbox
 * (core/events.h) inside the caller's transaction: an event exists exactly
 * when its change committed. The notification service turns the *_requested
 * events into emails, so they carry the token and the ready link.
 */
#include "auth_svc.h"

#include "core/events.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Emit and free 'data'. */
static int emit(const char *key, json_t *data)
{
    if (!data) {
        log_error("cannot build event %s (out of memory)", key);
        return -1;
    }
    int rc = events_emit(key, data);
    json_decref(data);
    return rc;
}

static const char *col(const PGresult *r, int row, int c)
{
    return PQgetvalue(r, row, c);
}

/* PUBLIC_APP_URL + path + token; caller frees. A trailing slash of the base
 * is dropped so the link has no "//". */
static char *app_link(const char *path, const char *token)
{
    const char *base = settings()->public_app_url;
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    char *url = NULL;
    if (asprintf(&url, "%.*s%s%s", (int)n, base, path, token) < 0)
        return NULL;
    return url;
}

int emit_user_registered(const PGresult *r, int row)
{
    return emit("user.registered",
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "userId", col(r, row, U_ID), "email",
                          col(r, row, U_EMAIL), "firstName", col(r, row, U_FIRST), "lastName",
                          col(r, row, U_LAST), "role", col(r, row, U_ROLE), "emailVerified",
                          !strcmp(col(r, row, U_VERIFIED), "t")));
}

/* The shared shape of the two *_requested events. */
static int emit_link_event(const char *key, const char *url_key, const char *path,
                           const PGresult *r, int row, const char *token, const char *expires_at)
{
    char *url = app_link(path, token);
    if (!url)
        return -1;
    int rc = emit(key, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "userId", col(r, row, U_ID),
                                 "email", col(r, row, U_EMAIL), "firstName", col(r, row, U_FIRST),
                                 "token", token, "expiresAt", expires_at, url_key, url));
    free(url);
    return rc;
}

int emit_verification_requested(const PGresult *r, int row, const char *token,
                                const char *expires_at)
{
    return emit_link_event("user.email_verification_requested", "verifyUrl",
                           "/verify-email?token=", r, row, token, expires_at);
}

int emit_reset_requested(const PGresult *r, int row, const char *token, const char *expires_at)
{
    return emit_link_event("user.password_reset_requested", "resetUrl", "/reset-password?token=", r,
                           row, token, expires_at);
}

int emit_email_verified(const char *user_id, const char *email)
{
    return emit("user.email_verified", json_pack("{s:s, s:s}", "userId", user_id, "email", email));
}

int emit_password_changed(const char *user_id, const char *email, const char *reason)
{
    return emit("user.password_changed",
                json_pack("{s:s, s:s, s:s}", "userId", user_id, "email", email, "reason", reason));
}

int emit_role_changed(const char *user_id, const char *old_role, const char *new_role,
                      const char *changed_by)
{
    return emit("user.role_changed",
                json_pack("{s:s, s:s, s:s, s:s}", "userId", user_id, "oldRole", old_role, "newRole",
                          new_role, "changedBy", changed_by));
}
