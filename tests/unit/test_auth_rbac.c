/* Unit tests for the auth service's role rules (services/auth/rbac.c): who
 * may create which accounts and change which roles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../services/auth/rbac.c"

static void roles_are_known(void **state)
{
    (void)state;
    for (const char *const *r = ROLE_NAMES; *r; r++)
        assert_true(role_valid(*r));
    assert_false(role_valid("superadmin"));
    assert_false(role_valid(""));
    assert_false(role_valid(NULL));
    assert_false(role_valid("ROOT"));
}

static void who_may_create_what(void **state)
{
    (void)state;
    for (const char *const *r = ROLE_NAMES; *r; r++)
        assert_true(role_may_create("SUPERADMIN", *r));
    assert_true(role_may_create("ADMIN", "SELLER"));
    assert_true(role_may_create("ADMIN", "CUSTOMER"));
    assert_false(role_may_create("ADMIN", "ADMIN"));
    assert_false(role_may_create("ADMIN", "SUPERADMIN"));
    for (const char *const *r = ROLE_NAMES; *r; r++) {
        assert_false(role_may_create("SELLER", *r));
        assert_false(role_may_create("CUSTOMER", *r));
    }
    assert_false(role_may_create("SUPERADMIN", "KING"));
    assert_false(role_may_create("KING", "CUSTOMER"));
}

static void who_may_change_what(void **state)
{
    (void)state;
    assert_true(role_may_change("ADMIN", "CUSTOMER", "SELLER"));
    assert_true(role_may_change("ADMIN", "SELLER", "CUSTOMER"));
    assert_false(role_may_change("ADMIN", "CUSTOMER", "ADMIN"));
    assert_false(role_may_change("ADMIN", "ADMIN", "CUSTOMER"));
    assert_false(role_may_change("ADMIN", "SUPERADMIN", "ADMIN"));
    assert_false(role_may_change("ADMIN", "SELLER", "SUPERADMIN"));
    assert_true(role_may_change("SUPERADMIN", "CUSTOMER", "ADMIN"));
    assert_true(role_may_change("SUPERADMIN", "ADMIN", "SUPERADMIN"));
    assert_true(role_may_change("SUPERADMIN", "SUPERADMIN", "CUSTOMER"));
    assert_false(role_may_change("SELLER", "CUSTOMER", "SELLER"));
    assert_false(role_may_change("CUSTOMER", "CUSTOMER", "SELLER"));
    assert_false(role_may_change("SUPERADMIN", "CUSTOMER", "KING"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roles_are_known),
        cmocka_unit_test(who_may_create_what),
        cmocka_unit_test(who_may_change_what),
    };
    return cmocka_run_group_tests_name("auth rbac", tests, NULL, NULL);
}
