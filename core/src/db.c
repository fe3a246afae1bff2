/*
 * db.c - per-thread PostgreSQL connections. See db.h.
 */
#include "core/db.h"
#include "core/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A thread's connection and the names of statements prepared on it. */
struct tconn {
    PGconn *conn;
    char **prepared;
    size_t nprepared, cap;
    bool in_tx; /* set by db_begin: libpq cannot tell once the link is gone */
};

static char *g_conninfo;
static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void tconn_forget_prepared(struct tconn *t)
{
    for (size_t i = 0; i < t->nprepared; i++)
        free(t->prepared[i]);
    t->nprepared = 0;
}

static void tconn_free(void *p)
{
    struct tconn *t = p;
    if (!t)
        return;
    if (t->conn)
        PQfinish(t->conn);
    tconn_forget_prepared(t);
    free(t->prepared);
    free(t);
}

static void make_key(void)
{
    pthread_key_create(&g_key, tconn_free);
}

int db_configure(const char *conninfo)
{
    pthread_once(&g_once, make_key);
    free(g_conninfo);
    g_conninfo = strdup(conninfo);
    return g_conninfo ? 0 : -1;
}

void db_shutdown(void)
{
    db_disconnect();
    free(g_conninfo);
    g_conninfo = NULL;
}

static struct tconn *tconn_get(void)
{
    pthread_once(&g_once, make_key);
    struct tconn *t = pthread_getspecific(g_key);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t || pthread_setspecific(g_key, t) != 0) {
            free(t);
            return NULL;
        }
    }
    return t;
}

/* Silence libpq's NOTICE output (e.g. "relation already exists, skipping"),
 * which would otherwise break the one-JSON-object-per-line log format. */
static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *db_conn(void)
{
    struct tconn *t = tconn_get();
    if (!t || !g_conninfo)
        return NULL;
    if (t->conn && PQstatus(t->conn) == CONNECTION_OK)
        return t->conn;
    /* The link died inside a transaction: its work is gone. Reconnecting here
     * would run the rest of it outside any transaction, so fail until the
     * caller rolls back. */
    if (t->in_tx)
        return NULL;
    if (t->conn) {
        PQfinish(t->conn);
        t->conn = NULL;
    }
    tconn_forget_prepared(t);
    PGconn *c = PQconnectdb(g_conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        log_error("postgres connect failed: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    t->conn = c;
    return c;
}

void db_disconnect(void)
{
    if (!g_conninfo && pthread_once(&g_once, make_key) != 0)
        return;
    struct tconn *t = pthread_getspecific(g_key);
    if (!t)
        return;
    pthread_setspecific(g_key, NULL);
    tconn_free(t);
}

static bool is_prepared(const struct tconn *t, const char *name)
{
    for (size_t i = 0; i < t->nprepared; i++)
        if (!strcmp(t->prepared[i], name))
            return true;
    return false;
}

/* Remember 'name' as prepared on t's connection. */
static int remember_prepared(struct tconn *t, const char *name)
{
    if (t->nprepared == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        char **np = realloc(t->prepared, ncap * sizeof *np);
        if (!np)
            return -1;
        t->prepared = np;
        t->cap = ncap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -1;
    t->prepared[t->nprepared++] = copy;
    return 0;
}

bool db_ok(const PGresult *r)
{
    if (!r)
        return false;
    ExecStatusType s = PQresultStatus(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

const char *db_sqlstate(const PGresult *r)
{
    const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

/* One attempt at preparing (if needed) and executing. */
/* name NULL: the unnamed statement, planned for these very values. */
static PGresult *exec_once(struct tconn *t, const char *name, const char *sql, int nparams,
                           const char *const *params)
{
    if (!name)
        return PQexecParams(t->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (!is_prepared(t, name)) {
        PGresult *p = PQprepare(t->conn, name, sql, nparams, NULL);
        if (!db_ok(p)) {
            log_error("prepare %s failed: %s", name, PQerrorMessage(t->conn));
            return p;
        }
        PQclear(p);
        if (remember_prepared(t, name) != 0)
            return NULL;
    }
    return PQexecPrepared(t->conn, name, nparams, params, NULL, NULL, 0);
}

PGresult *db_exec(const char *name, const char *sql, int nparams, const char *const *params)
{
    if (!db_conn())
        return NULL;
    struct tconn *t = tconn_get();
    PGresult *r = exec_once(t, name, sql, nparams, params);
    /* A dropped connection outside a transaction is retried once on a fresh
     * one: nothing was half-done, so the retry cannot apply anything twice. */
    if (PQstatus(t->conn) == CONNECTION_BAD && !t->in_tx) {
        PQclear(r);
        if (!db_conn())
            return NULL;
        r = exec_once(t, name, sql, nparams, params);
    }
    if (r && !db_ok(r))
        log_warn("query %s failed: %s", name ? name : "(unnamed)", PQresultErrorMessage(r));
    return r;
}

PGresult *db_exec_planned(const char *sql, int nparams, const char *const *params)
{
    return db_exec(NULL, sql, nparams, params);
}

PGresult *db_exec_raw(const char *sql)
{
    PGconn *c = db_conn();
    if (!c)
        return NULL;
    PGresult *r = PQexec(c, sql);
    if (r && !db_ok(r))
        log_warn("statement failed: %s", PQresultErrorMessage(r));
    return r;
}

/* Run a transaction-control statement; 0 on success. */
static int tx_stmt(const char *sql)
{
    PGresult *r = db_exec_raw(sql);
    int rc = db_ok(r) ? 0 : -1;
    PQclear(r);
    return rc;
}

static void set_in_tx(bool on)
{
    struct tconn *t = tconn_get();
    if (t)
        t->in_tx = on;
}

int db_begin(void)
{
    int rc = tx_stmt("BEGIN");
    set_in_tx(rc == 0);
    return rc;
}

int db_commit(void)
{
    /* COMMIT of a transaction that already failed "succeeds" with the
     * command tag ROLLBACK: that is a failure to the caller. */
    PGresult *r = db_exec_raw("COMMIT");
    int rc = (db_ok(r) && !strcmp(PQcmdStatus(r), "COMMIT")) ? 0 : -1;
    PQclear(r);
    set_in_tx(false);
    return rc;
}

void db_rollback(void)
{
    PQclear(db_exec_raw("ROLLBACK"));
    set_in_tx(false);
}

int db_ping(void)
{
    PGresult *r = db_exec_raw("SELECT 1");
    int rc = db_ok(r) ? 0 : -1;
    PQclear(r);
    return rc;
}
