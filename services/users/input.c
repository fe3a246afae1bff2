/*
 * input.c - table-driven validation of JSON request bodies. See input.h.
 */
#include "input.h"
#include "fields.h"

#include "core/http.h"
#include "core/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct field_rule *find_rule(const struct field_rule *rules, size_t n,
                                          const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rules[i].name, name))
            return &rules[i];
    return NULL;
}

static bool listed(const char *const *names, const char *name)
{
    for (; names && *names; names++)
        if (!strcmp(*names, name))
            return true;
    return false;
}

/* One error per member the table does not know. */
static void check_unknown(json_t *body, const struct field_rule *rules, size_t n,
                          const char *const *read_only, json_t **errors)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (find_rule(rules, n, key))
            continue;
        if (listed(read_only, key))
            http_field_error(errors, key, "is read-only here");
        else
            http_field_error(errors, utf8_length(key) < 0 ? "(invalid)" : key,
                             "is not a known field");
    }
}

/* Type, length, blankness and format of one present, non-null text member. */
static void check_text(json_t *body, const struct field_rule *r, json_t **errors)
{
    const char *s = v_string(body, r->name, false, r->min_len, r->max_len, true, errors);
    if (!s)
        return;
    if (r->min_len > 0 && users_blank(s)) {
        http_field_error(errors, r->name, "must not be blank");
        return;
    }
    const char *why = r->check ? r->check(s) : NULL;
    if (why)
        http_field_error(errors, r->name, why);
}

static void check_rule(json_t *body, const struct field_rule *r, enum input_mode mode,
                       json_t **errors)
{
    json_t *v = json_object_get(body, r->name);
    if (!v) {
        if (mode == INPUT_CREATE && r->required)
            http_field_error(errors, r->name, "is required");
        return;
    }
    if (json_is_null(v)) {
        if (!r->nullable)
            http_field_error(errors, r->name, "must not be null");
        return;
    }
    if (r->kind == FIELD_BOOL)
        (void)v_bool(body, r->name, false, errors); /* adds the error itself */
    else if (r->kind == FIELD_OBJECT && !json_is_object(v))
        http_field_error(errors, r->name, "must be an object");
    else if (r->kind == FIELD_TEXT)
        check_text(body, r, errors);
}

void input_validate(json_t *body, const struct field_rule *rules, size_t n,
                    const char *const *read_only, enum input_mode mode, json_t **errors)
{
    check_unknown(body, rules, n, read_only, errors);
    for (size_t i = 0; i < n; i++)
        check_rule(body, &rules[i], mode, errors);
}

/* Move the errors of 'nested' into *errors with "prefix." before each field. */
static void append_prefixed(json_t *nested, const char *prefix, json_t **errors)
{
    size_t i;
    json_t *e;
    json_array_foreach(nested, i, e)
    {
        const char *field = json_string_value(json_object_get(e, "field"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        char *name = NULL;
        if (asprintf(&name, "%s.%s", prefix, field ? field : "?") < 0) {
            http_field_error(errors, prefix, "is invalid");
            continue;
        }
        http_field_error(errors, name, msg ? msg : "is invalid");
        free(name);
    }
}

void input_validate_member(json_t *body, const char *name, const struct field_rule *rules, size_t n,
                           enum input_mode mode, json_t **errors)
{
    json_t *member = json_object_get(body, name);
    if (!json_is_object(member))
        return;
    json_t *nested = NULL;
    input_validate(member, rules, n, NULL, mode, &nested);
    append_prefixed(nested, name, errors);
    json_decref(nested);
}

bool input_is_true(json_t *body, const char *name)
{
    return json_is_true(json_object_get(body, name));
}
