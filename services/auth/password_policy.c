/*
 * password_policy.c - the rules a new password must follow.
 *
 * Rules (each broken one is reported, so a form can show them all at once):
 *   - 10 to 128 characters (Unicode code points, so "Zoë" counts 3); the
 *     upper bound keeps hashing cost predictable and is far beyond what a
 *     passphrase needs;
 *   - at least one letter and one digit ("not all one character class");
 *     letters are ASCII letters or any non-ASCII character: the service does
 *     not carry Unicode tables, and non-ASCII characters in passwords are
 *     nearly always letters of another alphabet;
 *   - not the account's email address (compared case-insensitively).
 * Pure: no I/O, unit-tested in tests/unit/test_auth_password.c.
 */
#include "auth_svc.h"

#include "core/validate.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

/* Which character classes 'p' holds. */
static void classes(const char *p, bool *letter, bool *digit)
{
    *letter = *digit = false;
    for (const unsigned char *c = (const unsigned char *)p; *c; c++) {
        if (isdigit(*c))
            *digit = true;
        else if (isalpha(*c) || *c >= 0x80)
            *letter = true;
    }
}

bool password_policy_check(const char *password, const char *email, const char *field,
                           json_t **errors)
{
    long len = utf8_length(password);
    if (len < 0) {
        http_field_error(errors, field, "must be valid UTF-8");
        return false;
    }
    bool ok = true;
    char msg[96];
    if (len < PASSWORD_MIN_LEN) {
        snprintf(msg, sizeof msg, "must be at least %d characters", PASSWORD_MIN_LEN);
        http_field_error(errors, field, msg);
        ok = false;
    }
    if (len > PASSWORD_MAX_LEN) {
        snprintf(msg, sizeof msg, "must be at most %d characters", PASSWORD_MAX_LEN);
        http_field_error(errors, field, msg);
        ok = false;
    }
    bool letter, digit;
    classes(password, &letter, &digit);
    if (!letter || !digit) {
        http_field_error(errors, field, "must contain at least one letter and one digit");
        ok = false;
    }
    if (email && !strcasecmp(password, email)) {
        http_field_error(errors, field, "must not be the same as the email address");
        ok = false;
    }
    return ok;
}
