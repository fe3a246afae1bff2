/*
 * fields.h - format checks for the users service's input fields.
 *
 * Pure functions (no I/O, no allocation except users_like_pattern), so the
 * unit tests can exercise every rule directly. Each check answers "is this
 * value acceptable as is": values are stored exactly as sent, never
 * rewritten, so what a client reads back is what it wrote.
 */
#ifndef USERS_FIELDS_H
#define USERS_FIELDS_H

#include <stdbool.h>

/* E.164-ish phone: '+', then 7 to 15 digits (the first not 0), optionally
 * grouped by single spaces or hyphens: "+14155550123", "+351 912-345-678". */
bool users_valid_phone(const char *s);

/* An absolute https URL with a dotted host name, printable ASCII only (other
 * characters must be percent-encoded), no user info, at most 2048 bytes. */
bool users_valid_https_url(const char *s);

/* A date of birth "YYYY-MM-DD": a real calendar date from 1900-01-01 up to
 * 'today' (given as year, month, day so tests do not depend on the clock).
 * Returns NULL when valid, else a message for the client. */
const char *users_birth_date_error(const char *s, int today_y, int today_m, int today_d);

/* The same check against the current UTC date. */
const char *users_birth_date_error_now(const char *s);

/* An officially assigned ISO 3166-1 alpha-2 code, upper case ("PT"). */
bool users_valid_country(const char *s);

/* A well-formed BCP 47 language tag of the common shape
 * language[-Script][-REGION][-variant...] ("en", "pt-BR", "zh-Hant-TW",
 * "es-419"), any letter case, at most 35 characters. */
bool users_valid_language(const char *s);

/* An ISO 4217 currency code shape: exactly three upper-case letters. */
bool users_valid_currency(const char *s);

/* A postal code: letters, digits, single spaces or hyphens inside, 1 to 16
 * characters ("1000-001", "SW1A 1AA", "10115"). */
bool users_valid_postal_code(const char *s);

/* True when 's' is empty or only ASCII white space. */
bool users_blank(const char *s);

/* The ILIKE pattern "%<s>%" in which %, _ and \ of 's' match literally (each
 * escaped with a backslash, the default LIKE escape character). Caller frees;
 * NULL on OOM. */
char *users_like_pattern(const char *s);

/* Rank of a role for administrative decisions: SUPERADMIN 4, ADMIN 3,
 * SELLER 2, CUSTOMER 1, anything else 0. */
int users_role_rank(const char *role);

/* True for one of the four platform roles. */
bool users_valid_role(const char *role);

/* ---- the same checks as messages for input rules (NULL when valid) ---- */
const char *users_check_phone(const char *s);
const char *users_check_https_url(const char *s);
const char *users_check_country(const char *s);
const char *users_check_postal_code(const char *s);
const char *users_check_language(const char *s);
const char *users_check_currency(const char *s);

#endif
