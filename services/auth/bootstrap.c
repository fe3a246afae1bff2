/*
 * bootstrap.c - the first SUPERADMIN.
 *
 * At start, when no SUPERADMIN exists, one is created from SUPERADMIN_EMAIL
 * and SUPERADMIN_PASSWORD (a secret: production refuses the development
 * default, see core/config.h). The password must meet the policy. If the
 * email already belongs to another account, nothing is promoted - whoever
 * registered that address must not become SUPERADMIN - and the service logs
 * an error and goes on serving. An advisory lock makes two instances
 * starting together create at most one.
 */
#include "auth_svc.h"

#include "core/config.h"
#include "core/db.h"
#include "core/log.h"
#include "core/validate.h"

#include <string.h>

#define DEV_PASSWORD "Admin-dev-password-123!"

/* 1 when a SUPERADMIN exists, 0 when not, -1 on failure (in the tx). */
static int superadmin_exists(void)
{
    PGresult *l = db_exec_raw("SELECT pg_advisory_xact_lock(hashtext('auth.bootstrap'))");
    bool ok = db_ok(l);
    PQclear(l);
    PGresult *r = ok ? db_exec_raw("SELECT 1 FROM users WHERE role = 'SUPERADMIN' LIMIT 1") : NULL;
    int rc = !db_ok(r) ? -1 : PQntuples(r) > 0;
    PQclear(r);
    return rc;
}

/* Inside the transaction: create the account. 1 created, 0 the email is
 * taken (the transaction is then aborted), -1 failure. */
static int create(const struct new_account *a)
{
    char hash[128];
    if (password_hash(a->password, hash) != 0)
        return -1;
    PGresult *r = NULL;
    int rc = account_insert_tx(a, hash, &r);
    PQclear(r);
    if (rc == 0)
        log_error("no SUPERADMIN exists and %s belongs to another account: none was created; "
                  "set SUPERADMIN_EMAIL to an unused address",
                  a->email);
    else if (rc == 1)
        log_info("created the first SUPERADMIN %s", a->email);
    return rc;
}

/* The configured account; false (logged) when it is unusable. */
static bool read_config(struct new_account *a)
{
    *a = (struct new_account){
        .email = config_str("SUPERADMIN_EMAIL", "admin@shop.local"),
        .password = config_secret("SUPERADMIN_PASSWORD", DEV_PASSWORD, PASSWORD_MIN_LEN),
        .first_name = "Super",
        .last_name = "Admin",
        .role = "SUPERADMIN",
        .email_verified = true,
    };
    json_t *errors = NULL;
    bool ok = password_policy_check(a->password, a->email, "SUPERADMIN_PASSWORD", &errors);
    json_decref(errors);
    if (!ok)
        log_error("SUPERADMIN_PASSWORD does not meet the password policy");
    if (!valid_email(a->email) || strlen(a->email) > 254) {
        log_error("SUPERADMIN_EMAIL is not a valid email address");
        ok = false;
    }
    return ok;
}

int bootstrap_superadmin(void)
{
    struct new_account a;
    if (!read_config(&a) || db_begin() != 0)
        return -1;
    int exists = superadmin_exists();
    int rc = exists != 0 ? exists : create(&a);
    if (rc == 1 && db_commit() == 0)
        return 0;
    db_rollback();
    return rc == 0 ? 0 : -1;
}
