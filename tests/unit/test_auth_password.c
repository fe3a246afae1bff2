/* Unit tests for the auth service's password policy and Argon2id hashing
 * (services/auth/password_policy.c, password_hash.c). The service sources
 * are compiled in directly: unit tests link only the core library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "../../services/auth/password_hash.c"
#include "../../services/auth/password_policy.c"

/* Number of errors the policy reports for 'pw' (0 when accepted), and
 * whether one of them contains 'needle'. */
static size_t policy_errors(const char *pw, const char *email, const char *needle, bool *found)
{
    json_t *errors = NULL;
    bool ok = password_policy_check(pw, email, "password", &errors);
    size_t n = json_array_size(errors);
    assert_int_equal(ok, n == 0);
    *found = false;
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        assert_string_equal(json_string_value(json_object_get(e, "field")), "password");
        if (needle && strstr(json_string_value(json_object_get(e, "message")), needle))
            *found = true;
    }
    json_decref(errors);
    return n;
}

static void accepts_good_passwords(void **state)
{
    (void)state;
    bool found;
    assert_int_equal(policy_errors("Correct-horse-42", "ann@example.com", NULL, &found), 0);
    assert_int_equal(policy_errors("abcdefghi1", NULL, NULL, &found), 0); /* exactly 10 */
    assert_int_equal(policy_errors("ééééééééé1", NULL, NULL, &found), 0); /* code points */
    char max[129];
    memset(max, 'a', 127);
    max[127] = '1';
    max[128] = '\0';
    assert_int_equal(policy_errors(max, NULL, NULL, &found), 0);
}

static void length_limits(void **state)
{
    (void)state;
    bool found;
    assert_int_equal(policy_errors("abcdefgh1", NULL, "at least 10", &found), 1);
    assert_true(found);
    char long_pw[130];
    memset(long_pw, 'a', 128);
    long_pw[128] = '1';
    long_pw[129] = '\0';
    assert_int_equal(policy_errors(long_pw, NULL, "at most 128", &found), 1);
    assert_true(found);
}

static void character_classes(void **state)
{
    (void)state;
    bool found;
    assert_int_equal(policy_errors("onlyletters", NULL, "letter and one digit", &found), 1);
    assert_true(found);
    assert_int_equal(policy_errors("1234567890", NULL, "letter and one digit", &found), 1);
    assert_true(found);
    /* Every broken rule is reported: too short and digits only. */
    assert_int_equal(policy_errors("123", NULL, NULL, &found), 2);
}

static void not_the_email(void **state)
{
    (void)state;
    bool found;
    assert_int_equal(policy_errors("Ann1@Example.com", "ann1@example.com", "email", &found), 1);
    assert_true(found);
}

static void invalid_utf8_is_refused(void **state)
{
    (void)state;
    bool found;
    assert_int_equal(policy_errors("abcdefghi1\xff", NULL, "UTF-8", &found), 1);
    assert_true(found);
}

static void hash_round_trip(void **state)
{
    (void)state;
    char hash[128];
    assert_int_equal(password_hash("Correct-horse-42", hash), 0);
    assert_true(strncmp(hash, "$argon2id$", 10) == 0);
    assert_true(password_verify(hash, "Correct-horse-42"));
    assert_false(password_verify(hash, "Correct-horse-43"));
    assert_false(password_needs_rehash(hash));
    /* Unknown account: the decoy is checked and the answer is no. */
    assert_false(password_verify(NULL, "Correct-horse-42"));
    assert_false(password_verify("", "Correct-horse-42"));
}

static void weaker_hashes_need_rehash(void **state)
{
    (void)state;
    char weak[crypto_pwhash_STRBYTES];
    assert_int_equal(crypto_pwhash_str_alg(weak, "pw", 2, crypto_pwhash_OPSLIMIT_MIN,
                                           crypto_pwhash_MEMLIMIT_MIN,
                                           crypto_pwhash_ALG_ARGON2ID13),
                     0);
    assert_true(password_needs_rehash(weak));
    assert_true(password_verify(weak, "pw"));
}

int main(void)
{
    if (password_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_good_passwords),    cmocka_unit_test(length_limits),
        cmocka_unit_test(character_classes),         cmocka_unit_test(not_the_email),
        cmocka_unit_test(invalid_utf8_is_refused),   cmocka_unit_test(hash_round_trip),
        cmocka_unit_test(weaker_hashes_need_rehash),
    };
    return cmocka_run_group_tests_name("auth password", tests, NULL, NULL);
}
