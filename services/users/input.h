/*
 * input.h - table-driven validation of JSON request bodies.
 *
 * A resource lists its writable fields once (name, length limits, whether
 * it is required on create, whether null clears it, a format check); the
 * same table then validates both the create body (POST) and a partial
 * update (PATCH), so the two can never disagree. Every problem is collected
 * in the errors array (see http_field_error) for one 422 answer.
 */
#ifndef USERS_INPUT_H
#define USERS_INPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum field_kind { FIELD_TEXT, FIELD_BOOL, FIELD_OBJECT };

struct field_rule {
    const char *name; /* JSON member */
    enum field_kind kind;
    bool required;  /* must be present (and non-null) when creating */
    bool nullable;  /* null is accepted and clears the value */
    size_t min_len; /* code points (text) */
    size_t max_len;
    /* Optional format check of a text value: NULL when valid, else the
     * message for the client. */
    const char *(*check)(const char *value);
};

enum input_mode { INPUT_CREATE, INPUT_UPDATE };

/* Validate 'body' against the 'n' rules: unknown members (those in
 * 'read_only' get a message saying so), types, null where not allowed,
 * lengths, blank required text, formats. In INPUT_CREATE mode required
 * members must be present. Appends to *errors. */
void input_validate(json_t *body, const struct field_rule *rules, size_t n,
                    const char *const *read_only, enum input_mode mode, json_t **errors);

/* Validate the object member 'name' of 'body' (already checked to be an
 * object, or absent) against nested 'rules'; errors name the fields
 * "name.field". */
void input_validate_member(json_t *body, const char *name, const struct field_rule *rules, size_t n,
                           enum input_mode mode, json_t **errors);

/* True when 'body' has member 'name' set to JSON true. */
bool input_is_true(json_t *body, const char *name);

#endif
