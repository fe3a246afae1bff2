/*
 * accounts.c - creating an account: public registration and admin creation
 * share validation, hashing, the insert and the events.
 *
 * Names and emails are stored exactly as sent (SQL metacharacters, any
 * Unicode) once they pass validation: names 1..100 code points on one line
 * and not blank, emails valid and at most 254 bytes. Everything else is a
 * 422, never a database error.
 */
#include "auth_svc.h"

#include "core/db.h"
#include "core/log.h"
#include "core/validate.h"

#include <ctype.h>
#include <string.h>

enum { NAME_MAX_LEN = 100, EMAIL_MAX_BYTES = 254 };

static bool blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

static const char *read_name(json_t *body, const char *field, json_t **errors)
{
    const char *v = v_string(body, field, true, 1, NAME_MAX_LEN, true, errors);
    if (v && blank(v)) {
        http_field_error(errors, field, "must not be blank");
        return NULL;
    }
    return v;
}

void account_read(json_t *body, struct new_account *a, json_t **errors)
{
    a->email = v_string(body, "email", true, 3, EMAIL_MAX_BYTES, true, errors);
    if (a->email && !valid_email(a->email)) {
        http_field_error(errors, "email", "must be a valid email address of at most 254 bytes");
        a->email = NULL;
    }
    /* The password's own limits are the policy's: read it unbounded here
     * (the body size limit bounds it) so the policy reports its length. */
    a->password = v_string(body, "password", true, 0, (size_t)-1, false, errors);
    if (a->password && !password_policy_check(a->password, a->email, "password", errors))
        a->password = NULL;
    a->first_name = read_name(body, "firstName", errors);
    a->last_name = read_name(body, "lastName", errors);
}

int account_insert_tx(const struct new_account *a, const char *hash, PGresult **out)
{
    PGresult *r =
        user_insert(a->email, hash, a->first_name, a->last_name, a->role, a->email_verified);
    *out = r;
    if (!db_ok(r))
        return !strcmp(db_sqlstate(r), "23505") ? 0 : -1;
    if (emit_user_registered(r, 0) != 0)
        return -1;
    return 1;
}

/* Inside the transaction: a verification token and its event for a new,
 * unverified account. */
static int request_verification(const PGresult *r)
{
    char token[TOKEN_LEN + 1], expires[40];
    if (email_token_create(PQgetvalue(r, 0, U_ID), PURPOSE_VERIFY, settings()->verify_ttl, token,
                           expires) != 0)
        return -1;
    return emit_verification_requested(r, 0, token, expires);
}

void account_create(struct http_exchange *x, const struct new_account *a)
{
    char hash[128];
    if (password_hash(a->password, hash) != 0) {
        http_problem(x, 503, "cannot hash the password right now", NULL);
        return;
    }
    if (db_begin() != 0) {
        http_db_problem(x, NULL);
        return;
    }
    PGresult *r = NULL;
    int rc = account_insert_tx(a, hash, &r);
    if (rc == 1 && !a->email_verified && request_verification(r) != 0)
        rc = -1;
    if (rc == 1 && db_commit() != 0)
        rc = -1;
    if (rc == 1) {
        http_set_header(x, "Cache-Control", "no-store");
        http_json(x, 201, user_json(r, 0));
    } else if (rc == 0) {
        db_rollback();
        http_problem(x, 409, "an account with this email already exists", NULL);
    } else {
        db_rollback();
        http_db_problem(x, r);
    }
    PQclear(r);
}
