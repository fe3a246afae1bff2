/*
 * db.h - PostgreSQL access: one connection per thread, prepared statements.
 *
 * Each worker thread lazily opens its own connection the first time it needs
 * one and keeps it for its life (libpq connections are not thread-safe, and a
 * pool with hand-off would add a lock to every query). Statements are
 * prepared once per connection, by name, the first time they run. A broken
 * connection is reset and the statement retried once when it is safe to do so
 * (outside a transaction).
 */
#ifndef CORE_DB_H
#define CORE_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

/* Set the connection string used by every thread (copied). Call once at start. */
int db_configure(const char *conninfo);

/* The calling thread's connection, opened on first use; NULL when the
 * database cannot be reached (logged). Owned by the thread: never PQfinish it. */
PGconn *db_conn(void);

/* Close the calling thread's connection now (it is also closed at thread exit). */
void db_disconnect(void);

/* Run prepared statement 'name' (prepared from 'sql' on first use on this
 * connection) with text parameters. Returns the result (caller PQclear()s it)
 * or NULL on connection failure. A result whose status is an error is
 * returned too: check it with db_ok(). */
PGresult *db_exec(const char *name, const char *sql, int nparams, const char *const *params);

/* Like db_exec, but planned anew for these parameter values each time
 * (PQexecParams, nothing prepared): for statements whose best plan depends
 * on the values, where a prepared statement's generic plan goes wrong
 * (a search whose price bound may match 1% or 100% of the rows). */
PGresult *db_exec_planned(const char *sql, int nparams, const char *const *params);

/* Run 'sql' without preparing (DDL, one-off statements). Same ownership. */
PGresult *db_exec_raw(const char *sql);

/* True when 'r' is a successful command or tuples result. */
bool db_ok(const PGresult *r);

/* SQLSTATE of an error result ("23505" unique violation, ...), or "". */
const char *db_sqlstate(const PGresult *r);

/* Transactions on the calling thread's connection. Return 0 or -1. */
int db_begin(void);
int db_commit(void);
void db_rollback(void);

/* SELECT 1 on the thread's connection; 0 when the database answers. */
int db_ping(void);

/* Free process-wide state (the conninfo). Call after all threads stopped. */
void db_shutdown(void);

#endif
