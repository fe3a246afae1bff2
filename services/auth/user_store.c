/*
 * user_store.c - the users table: accounts, password hashes, roles.
 *
 * Emails are stored exactly as given and compared lower-cased
 * (lower(email) has a unique index, see migrations/002_users.sql), always by
 * PostgreSQL's lower() so look-up and uniqueness agree for non-ASCII
 * addresses too.
 */
#include "auth_svc.h"

#include "core/db.h"

#include <string.h>

static json_t *bool_col(const PGresult *r, int row, int col)
{
    return json_boolean(!strcmp(PQgetvalue(r, row, col), "t"));
}

json_t *user_json(const PGresult *r, int row)
{
    json_t *u = json_object();
    if (!u)
        return NULL;
    json_object_set_new(u, "id", json_string(PQgetvalue(r, row, U_ID)));
    json_object_set_new(u, "email", json_string(PQgetvalue(r, row, U_EMAIL)));
    json_object_set_new(u, "firstName", json_string(PQgetvalue(r, row, U_FIRST)));
    json_object_set_new(u, "lastName", json_string(PQgetvalue(r, row, U_LAST)));
    json_object_set_new(u, "role", json_string(PQgetvalue(r, row, U_ROLE)));
    json_object_set_new(u, "emailVerified", bool_col(r, row, U_VERIFIED));
    json_object_set_new(u, "isActive", bool_col(r, row, U_ACTIVE));
    json_object_set_new(u, "createdAt", json_string(PQgetvalue(r, row, U_CREATED)));
    json_object_set_new(u, "updatedAt", json_string(PQgetvalue(r, row, U_UPDATED)));
    return u;
}

PGresult *user_by_email(const char *email)
{
    const char *p[] = {email};
    return db_exec("auth_user_by_email",
                   "SELECT " USER_COLS " FROM users u WHERE lower(u.email) = lower($1)", 1, p);
}

PGresult *user_by_id(const char *id)
{
    const char *p[] = {id};
    return db_exec("auth_user_by_id", "SELECT " USER_COLS " FROM users u WHERE u.id = $1", 1, p);
}

PGresult *user_insert(const char *email, const char *hash, const char *first, const char *last,
                      const char *role, bool email_verified)
{
    const char *p[] = {email, hash, first, last, role, email_verified ? "true" : "false"};
    return db_exec("auth_user_insert",
                   "INSERT INTO users AS u (email, password_hash, first_name, last_name, role, "
                   "email_verified) VALUES ($1, $2, $3, $4, $5, $6) RETURNING " USER_COLS,
                   6, p);
}

int user_set_password(const char *id, const char *hash)
{
    const char *p[] = {id, hash};
    PGresult *r = db_exec("auth_user_set_password",
                          "UPDATE users SET password_hash = $2, password_changed_at = now(), "
                          "updated_at = now() WHERE id = $1",
                          2, p);
    int rc = db_ok(r) ? 0 : -1;
    PQclear(r);
    return rc;
}
