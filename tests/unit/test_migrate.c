/* Unit tests for migration file discovery and checksums. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/migrate.h"

/* Make a temp dir holding the named empty files; returns its path (static). */
static const char *make_dir(const char *const *names)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/test-migrate-XXXXXX");
    assert_non_null(mkdtemp(dir));
    for (; *names; names++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, *names);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("SELECT 1;", f);
        fclose(f);
    }
    return dir;
}

static void remove_dir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void sorted_by_version(void **state)
{
    (void)state;
    const char *names[] = {"010_ten.sql", "002_two.sql", "001_one.sql", "README.md", NULL};
    const char *dir = make_dir(names);
    struct migration *m;
    int n = migrate_list(dir, &m);
    assert_int_equal(n, 3);
    assert_int_equal(m[0].version, 1);
    assert_int_equal(m[1].version, 2);
    assert_int_equal(m[2].version, 10);
    assert_string_equal(m[2].name, "010_ten.sql");
    migrate_list_free(m, n);
    remove_dir(dir);
}

static void rejects_bad_names_and_duplicates(void **state)
{
    (void)state;
    const char *bad[] = {"1_short.sql", NULL};
    const char *dir = make_dir(bad);
    struct migration *m;
    assert_int_equal(migrate_list(dir, &m), -1);
    remove_dir(dir);

    const char *dup[] = {"001_a.sql", "001_b.sql", NULL};
    dir = make_dir(dup);
    assert_int_equal(migrate_list(dir, &m), -1);
    remove_dir(dir);

    assert_int_equal(migrate_list("/nonexistent-dir", &m), -1);
}

static void checksum_is_sha256(void **state)
{
    (void)state;
    char out[65];
    migrate_checksum("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
    log_init("test");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sorted_by_version),
        cmocka_unit_test(rejects_bad_names_and_duplicates),
        cmocka_unit_test(checksum_is_sha256),
    };
    return cmocka_run_group_tests_name("migrate", tests, NULL, NULL);
}
