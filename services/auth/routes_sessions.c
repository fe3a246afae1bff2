/*
 * routes_sessions.c - the caller's own sessions (signed-in devices).
 */
#include "auth_svc.h"

#include "core/db.h"
#include "core/validate.h"

#include <string.h>

enum { S_ID, S_UA, S_IP, S_CREATED, S_USED, S_EXPIRES };

/* Live sessions only: revoked and expired ones cannot come back. */
// clang-format off
static const char LIST_SQL[] =
    "SELECT id, user_agent, ip, "
    ISO_UTC("created_at") ", " ISO_UTC("last_used_at") ", " ISO_UTC("expires_at")
    " FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()"
    " ORDER BY last_used_at DESC, id";
// clang-format on

static json_t *session_json(const PGresult *r, int i, const char *current_sid)
{
    const char *id = PQgetvalue(r, i, S_ID);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "id", id, "userAgent",
                     PQgetvalue(r, i, S_UA), "ip", PQgetvalue(r, i, S_IP), "createdAt",
                     PQgetvalue(r, i, S_CREATED), "lastUsedAt", PQgetvalue(r, i, S_USED),
                     "expiresAt", PQgetvalue(r, i, S_EXPIRES), "current", !strcmp(id, current_sid));
}

static void on_list(struct http_exchange *x)
{
    const struct auth_claims *c = http_require(x, "profile:read");
    if (!c || !session_check(x, c))
        return;
    const char *p[] = {c->sub};
    PGresult *r = db_exec("auth_sessions_list", LIST_SQL, 1, p);
    if (!db_ok(r)) {
        http_db_problem(x, r);
        PQclear(r);
        return;
    }
    json_t *items = json_array();
    for (int i = 0; items && i < PQntuples(r); i++)
        json_array_append_new(items, session_json(r, i, c->sid));
    PQclear(r);
    http_set_header(x, "Cache-Control", "no-store");
    http_json(x, 200, json_pack("{s:o}", "items", items));
}

static void on_delete(struct http_exchange *x)
{
    const struct auth_claims *c = http_require(x, "profile:write");
    if (!c || !session_check(x, c))
        return;
    /* Another user's session answers exactly like a missing one (404): the
     * caller learns nothing about ids that are not theirs. */
    int n = session_revoke(http_param(x, "id"), c->sub, "ended by user");
    if (n < 0)
        respond_db_failed(x);
    else if (n == 0)
        http_problem(x, 404, "no such session", NULL);
    else
        http_json(x, 204, NULL);
}

int routes_sessions(struct http_server *srv)
{
    int rc = 0;
    rc |= http_route(srv, "GET", "/auth/sessions", on_list, 0, NULL);
    rc |= http_route(srv, "DELETE", "/auth/sessions/:id", on_delete, 0, NULL);
    return rc;
}
