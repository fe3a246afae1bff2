/*
 * validate.h - input validation for JSON request bodies and query strings.
 *
 * Each check appends {"field","message"} to an errors array (see
 * http_field_error) instead of failing fast, so a client learns about every
 * bad field in one 422 response. Lengths are counted in Unicode code points,
 * not bytes, so "Zoë" is 3 long; control characters are refused in
 * single-line text fields.
 */
#ifndef CORE_VALIDATE_H
#define CORE_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Number of code points in valid UTF-8 's', or -1 when not valid UTF-8. */
long utf8_length(const char *s);

/* True when 's' holds a control character (C0, DEL, C1). */
bool has_control_chars(const char *s);

/* A plausible email address: one '@', non-empty local part (<= 64 bytes),
 * a domain with a dot, no spaces or control characters, <= 254 bytes. */
bool valid_email(const char *s);

/* True when 's' is a canonical lower- or upper-case UUID string. */
bool valid_uuid(const char *s);

/* Percent-decode in[0..n) into out ('cap' bytes, the NUL included). Returns
 * the decoded length, or -1 for a malformed escape, an escaped NUL (no C
 * string, and no PostgreSQL text, can carry one) or a result that does not
 * fit. '+' is left alone: it means a space only in form bodies. */
long percent_decode(const char *in, size_t n, char *out, size_t cap);

/* String field 'name' of 'body'. Returns the value (owned by body) or NULL.
 * Adds an error when required and missing, not a string, shorter than
 * min_len or longer than max_len code points, or (single_line) holding
 * control characters. A missing optional field returns NULL silently. */
const char *v_string(json_t *body, const char *name, bool required, size_t min_len, size_t max_len,
                     bool single_line, json_t **errors);

/* Boolean field; returns 1/0, or -1 when missing (error when required) or
 * not a boolean (error). */
int v_bool(json_t *body, const char *name, bool required, json_t **errors);

/* Integer field within [min, max]; returns true and sets *out when present
 * and valid. Adds an error when required and missing or invalid. */
bool v_int(json_t *body, const char *name, bool required, long long min, long long max,
           long long *out, json_t **errors);

/* One of the NULL-terminated 'allowed' strings; same contract as v_string. */
const char *v_enum(json_t *body, const char *name, bool required, const char *const *allowed,
                   json_t **errors);

/* Reject fields of 'body' not in the NULL-terminated 'known' list (typos
 * and mass-assignment attempts), one error each. */
void v_no_unknown(json_t *body, const char *const *known, json_t **errors);

/* Pagination from query strings: page >= 1 (default 1), 1 <= limit <= max
 * (default def). Adds errors for malformed values. */
void v_page(const char *page_s, const char *limit_s, long def, long max, long *page, long *limit,
            json_t **errors);

#endif
