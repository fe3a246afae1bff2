/*
 * migrate.h - SQL migrations.
 *
 * Files named NNN_name.sql in a directory are applied once each, in numeric
 * order, each in its own transaction, and recorded in schema_migrations with a
 * checksum. A session-level advisory lock serialises concurrent starters, so
 * two instances of a service cannot apply the same migration twice. An
 * already-applied file whose content changed stops the service: history is
 * never rewritten silently.
 *
 * Migrations come in scopes: "core" (the outbox and inbox tables every
 * service shares, from core/migrations) and the service's own.
 */
#ifndef CORE_MIGRATE_H
#define CORE_MIGRATE_H

#include <stddef.h>

struct migration {
    int version;
    char *name; /* file name */
    char *path; /* full path */
};

/* List NNN_*.sql files of 'dir' sorted by version into *out (caller frees
 * with migrate_list_free). Returns the count, or -1 on error (unreadable dir,
 * bad name, duplicate version). */
int migrate_list(const char *dir, struct migration **out);
void migrate_list_free(struct migration *m, int n);

/* Apply pending migrations of 'dir' under 'scope' on the calling thread's
 * connection. Returns the number applied, or -1 on failure (logged). */
int migrate_run(const char *scope, const char *dir);

/* Hex SHA-256 of 'len' bytes into out (65 bytes). */
void migrate_checksum(const void *data, size_t len, char out[65]);

#endif
