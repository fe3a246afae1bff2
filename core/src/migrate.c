/*
 * migrate.c - SQL migrations runner. See migrate.h.
 */
#include "core/migrate.h"
#include "core/db.h"
#include "core/log.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Advisory lock key: any constant works as long as every instance agrees. */
#define MIGRATE_LOCK_KEY "7411520339"

void migrate_checksum(const void *data, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    for (size_t i = 0; i < sizeof h; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Version from a file name "NNN_name.sql", or -1 when it is not one. */
static int version_of(const char *name)
{
    size_t n = strlen(name);
    if (n < 9 || strcmp(name + n - 4, ".sql"))
        return -1;
    int v = 0, digits = 0;
    const char *p = name;
    while (isdigit((unsigned char)*p) && digits < 9) {
        v = v * 10 + (*p - '0');
        p++;
        digits++;
    }
    return (digits >= 3 && *p == '_') ? v : -1;
}

static int cmp_migration(const void *a, const void *b)
{
    const struct migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

void migrate_list_free(struct migration *m, int n)
{
    for (int i = 0; i < n; i++) {
        free(m[i].name);
        free(m[i].path);
    }
    free(m);
}

int migrate_list(const char *dir, struct migration **out)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d) {
        log_error("migrations: cannot open %s: %s", dir, strerror(errno));
        return -1;
    }
    struct migration *m = NULL;
    int n = 0, cap = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !strstr(e->d_name, ".sql"))
            continue;
        int v = version_of(e->d_name);
        if (v < 0) {
            log_error("migrations: %s/%s is not named NNN_name.sql", dir, e->d_name);
            rc = -1;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct migration *nm = realloc(m, (size_t)cap * sizeof *nm);
            if (!nm) {
                rc = -1;
                break;
            }
            m = nm;
        }
        m[n].version = v;
        m[n].name = strdup(e->d_name);
        if (asprintf(&m[n].path, "%s/%s", dir, e->d_name) < 0)
            m[n].path = NULL;
        n++;
        if (!m[n - 1].name || !m[n - 1].path) {
            rc = -1;
            break;
        }
    }
    closedir(d);
    if (rc == 0 && n > 1) {
        qsort(m, (size_t)n, sizeof *m, cmp_migration);
        for (int i = 1; i < n; i++)
            if (m[i].version == m[i - 1].version) {
                log_error("migrations: two files with version %d in %s", m[i].version, dir);
                rc = -1;
            }
    }
    if (rc != 0) {
        migrate_list_free(m, n);
        return -1;
    }
    *out = m;
    return n;
}

/* Read a whole file; caller frees. NULL on error. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int exec_ok(PGresult *r)
{
    int ok = db_ok(r);
    PQclear(r);
    return ok ? 0 : -1;
}

/* The checksum recorded for scope/version: 1 found, 0 not applied, -1 error. */
static int applied_checksum(const char *scope, int version, char out[65])
{
    char vbuf[16];
    snprintf(vbuf, sizeof vbuf, "%d", version);
    const char *p[] = {scope, vbuf};
    PGresult *r =
        db_exec("migrate_get",
                "SELECT checksum FROM schema_migrations WHERE scope = $1 AND version = $2", 2, p);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    int found = PQntuples(r) == 1;
    if (found)
        snprintf(out, 65, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return found;
}

/* Apply one file in a transaction and record it. */
static int apply_one(const char *scope, const struct migration *m, const char *sql, const char *sum)
{
    if (db_begin() != 0)
        return -1;
    PGresult *r = db_exec_raw(sql);
    if (!db_ok(r)) {
        log_error("migration %s/%s failed: %s", scope, m->name,
                  r ? PQresultErrorMessage(r) : "no connection");
        PQclear(r);
        db_rollback();
        return -1;
    }
    PQclear(r);
    char vbuf[16];
    snprintf(vbuf, sizeof vbuf, "%d", m->version);
    const char *p[] = {scope, vbuf, m->name, sum};
    if (exec_ok(db_exec("migrate_put",
                        "INSERT INTO schema_migrations (scope, version, name, checksum) "
                        "VALUES ($1, $2, $3, $4)",
                        4, p)) != 0 ||
        db_commit() != 0) {
        db_rollback();
        return -1;
    }
    log_info("migration applied: %s/%s", scope, m->name);
    return 0;
}

/* Apply every pending file of the list; returns count applied or -1. */
static int apply_all(const char *scope, const struct migration *m, int n)
{
    int applied = 0;
    for (int i = 0; i < n; i++) {
        size_t len = 0;
        char *sql = slurp(m[i].path, &len);
        if (!sql) {
            log_error("migrations: cannot read %s", m[i].path);
            return -1;
        }
        char sum[65], have[65];
        migrate_checksum(sql, len, sum);
        int st = applied_checksum(scope, m[i].version, have);
        int rc = 0;
        if (st < 0) {
            rc = -1;
        } else if (st == 1 && strcmp(have, sum) != 0) {
            log_error("migration %s/%s was changed after it was applied; add a new migration "
                      "instead",
                      scope, m[i].name);
            rc = -1;
        } else if (st == 0) {
            rc = apply_one(scope, &m[i], sql, sum);
            applied += rc == 0;
        }
        free(sql);
        if (rc != 0)
            return -1;
    }
    return applied;
}

int migrate_run(const char *scope, const char *dir)
{
    struct migration *m;
    int n = migrate_list(dir, &m);
    if (n < 0)
        return -1;
    int rc = -1;
    if (exec_ok(db_exec_raw("SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")")) != 0) {
        migrate_list_free(m, n);
        return -1;
    }
    if (exec_ok(db_exec_raw("CREATE TABLE IF NOT EXISTS schema_migrations ("
                            " scope text NOT NULL, version integer NOT NULL,"
                            " name text NOT NULL, checksum text NOT NULL,"
                            " applied_at timestamptz NOT NULL DEFAULT now(),"
                            " PRIMARY KEY (scope, version))")) == 0)
        rc = apply_all(scope, m, n);
    PQclear(db_exec_raw("SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
    migrate_list_free(m, n);
    return rc;
}
