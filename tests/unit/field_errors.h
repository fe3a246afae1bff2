/*
 * field_errors.h - for unit tests of validators that collect a 422's
 * errors[] ({"field", "message"} objects, core/validate.h).
 */
#ifndef TEST_FIELD_ERRORS_H
#define TEST_FIELD_ERRORS_H

#include <jansson.h>
#include <stdbool.h>
#include <string.h>

/* True when 'errors' has an entry for 'field' whose message contains 'what'. */
static inline bool has_error(json_t *errors, const char *field, const char *what)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        const char *f = json_string_value(json_object_get(e, "field"));
        const char *m = json_string_value(json_object_get(e, "message"));
        if (f && m && !strcmp(f, field) && strstr(m, what))
            return true;
    }
    return false;
}

#endif
