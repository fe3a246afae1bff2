/*
 * rbac.c - roles and what they may do.
 *
 * Four fixed roles, most powerful first: SUPERADMIN, ADMIN, SELLER,
 * CUSTOMER. Their permissions ("module:action") live in the database
 * (role_permissions, seeded by migrations/001_rbac.sql, which documents each
 * permission) and travel in the access token. The rules about who may hand
 * out which role are code, below, because they protect the table itself.
 */
#include "auth_svc.h"

#include "core/db.h"

#include <string.h>

const char *const ROLE_NAMES[] = {"SUPERADMIN", "ADMIN", "SELLER", "CUSTOMER", NULL};

bool role_valid(const char *role)
{
    for (const char *const *r = ROLE_NAMES; role && *r; r++)
        if (!strcmp(role, *r))
            return true;
    return false;
}

/* ADMIN and SUPERADMIN can manage other accounts: only a SUPERADMIN may
 * make or unmake one, or an admin could promote accomplices. */
static bool privileged(const char *role)
{
    return !strcmp(role, "SUPERADMIN") || !strcmp(role, "ADMIN");
}

bool role_may_create(const char *actor, const char *role)
{
    if (!role_valid(actor) || !role_valid(role))
        return false;
    if (!strcmp(actor, "SUPERADMIN"))
        return true;
    return !strcmp(actor, "ADMIN") && !privileged(role);
}

bool role_may_change(const char *actor, const char *from, const char *to)
{
    if (!role_valid(actor) || !role_valid(from) || !role_valid(to))
        return false;
    if (!strcmp(actor, "SUPERADMIN"))
        return true;
    return !strcmp(actor, "ADMIN") && !privileged(from) && !privileged(to);
}

json_t *role_permissions(const char *role)
{
    const char *p[] = {role};
    PGresult *r = db_exec("auth_role_permissions",
                          "SELECT permission FROM role_permissions WHERE role = $1 "
                          "ORDER BY permission",
                          1, p);
    if (!db_ok(r)) {
        PQclear(r);
        return NULL;
    }
    json_t *perms = json_array();
    for (int i = 0; perms && i < PQntuples(r); i++)
        json_array_append_new(perms, json_string(PQgetvalue(r, i, 0)));
    PQclear(r);
    return perms;
}
