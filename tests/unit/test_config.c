/* Unit tests for configuration: .env loading, numbers, durations, secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/config.h"

static void durations(void **state)
{
    (void)state;
    assert_int_equal(config_parse_duration("15m"), 900);
    assert_int_equal(config_parse_duration("7d"), 604800);
    assert_int_equal(config_parse_duration("30s"), 30);
    assert_int_equal(config_parse_duration("2h"), 7200);
    assert_int_equal(config_parse_duration("45"), 45);
    assert_int_equal(config_parse_duration("-5m"), -1);
    assert_int_equal(config_parse_duration("5x"), -1);
    assert_int_equal(config_parse_duration(""), -1);
    assert_int_equal(config_parse_duration("m"), -1);
    assert_int_equal(config_parse_duration("99999999999d"), -1);
}

static void dotenv_does_not_override(void **state)
{
    (void)state;
    char path[] = "/tmp/test-dotenv-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "# comment\n\nT_A=from_file\nexport T_B = \"quoted value\"\nT_C='x'\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    setenv("T_A", "from_env", 1);
    unsetenv("T_B");
    assert_int_equal(config_load_dotenv(path), 0);
    assert_string_equal(getenv("T_A"), "from_env");
    assert_string_equal(getenv("T_B"), "quoted value");
    assert_string_equal(getenv("T_C"), "x");
    unlink(path);
    assert_int_equal(config_load_dotenv("/nonexistent/.env"), 0);
}

static void dotenv_malformed(void **state)
{
    (void)state;
    char path[] = "/tmp/test-dotenv-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "NOEQUALS\n=novalue\nT_OK=1\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(config_load_dotenv(path), -1);
    assert_string_equal(getenv("T_OK"), "1");
    unlink(path);
}

static void numbers_and_bools(void **state)
{
    (void)state;
    unsetenv("T_NUM");
    assert_int_equal(config_long("T_NUM", 7, 0, 10), 7);
    setenv("T_NUM", "9", 1);
    assert_int_equal(config_long("T_NUM", 7, 0, 10), 9);
    setenv("T_BOOL", "yes", 1);
    assert_true(config_bool("T_BOOL", false));
    setenv("T_BOOL", "off", 1);
    assert_false(config_bool("T_BOOL", true));
}

/* Run config_secret in a child (it exits on refusal); returns exit status. */
static int secret_in_child(const char *value)
{
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        if (value)
            setenv("T_SECRET", value, 1);
        else
            unsetenv("T_SECRET");
        config_secret("T_SECRET", "dev-default", 16);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void secrets_in_production(void **state)
{
    (void)state;
    unsetenv("APP_ENV");
    setenv("NODE_ENV", "development", 1);
    unsetenv("T_SECRET");
    assert_string_equal(config_secret("T_SECRET", "dev-default", 16), "dev-default");
    assert_false(config_is_production());

    setenv("NODE_ENV", "production", 1);
    assert_true(config_is_production());
    assert_int_equal(secret_in_child(NULL), 2);
    assert_int_equal(secret_in_child("dev-default"), 2);
    assert_int_equal(secret_in_child("short"), 2);
    assert_int_equal(secret_in_child("a-long-enough-real-secret-value"), 0);
    setenv("NODE_ENV", "development", 1);
    setenv("APP_ENV", "production", 1);
    assert_true(config_is_production());
    unsetenv("APP_ENV");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations),
        cmocka_unit_test(dotenv_does_not_override),
        cmocka_unit_test(dotenv_malformed),
        cmocka_unit_test(numbers_and_bools),
        cmocka_unit_test(secrets_in_production),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
