/*
 * product_input.c - validation of product write bodies. See product_input.h.
 */
#include "product_input.h"
#include "slug.h"

#include "core/http.h"
#include "core/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum rule_kind { K_TEXT, K_MULTILINE, K_INT, K_BOOL, K_ATTRS, K_CATS, K_SLUG, K_UUID };

/* One writable member. 'modes' is a bit set of (1 << product_mode) in
 * which the member may appear; 'nullable' says null resets it. */
struct rule {
    const char *name;
    enum rule_kind kind;
    unsigned modes;
    bool required; /* in CREATE and REPLACE */
    bool nullable;
    long long min, max; /* code points of text, bounds of integers */
    bool (*check)(const char *s);
    const char *check_msg;
};

#define ALL_MODES ((1u << PRODUCT_CREATE) | (1u << PRODUCT_REPLACE) | (1u << PRODUCT_PATCH))
#define CREATE_ONLY (1u << PRODUCT_CREATE)

static bool not_blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] != '\0';
}

static const struct rule RULES[] = {
    {"name", K_TEXT, ALL_MODES, true, false, 1, PRODUCT_NAME_MAX, not_blank, "must not be blank"},
    {"sku", K_TEXT, ALL_MODES, true, false, 1, PRODUCT_SKU_MAX, product_valid_sku,
     "must be 1 to 64 characters of A-Z a-z 0-9 . _ -"},
    {"description", K_MULTILINE, ALL_MODES, false, true, 0, PRODUCT_DESCRIPTION_MAX, NULL, NULL},
    {"price", K_INT, ALL_MODES, true, false, 0, PRODUCT_PRICE_MAX, NULL, NULL},
    {"currency", K_TEXT, ALL_MODES, true, false, 3, 3, product_valid_currency,
     "must be an ISO 4217 code: three upper-case letters"},
    {"quantity", K_INT, CREATE_ONLY, false, true, 0, PRODUCT_QUANTITY_MAX, NULL, NULL},
    {"lowStockThreshold", K_INT, ALL_MODES, false, true, 0, PRODUCT_QUANTITY_MAX, NULL, NULL},
    {"attributes", K_ATTRS, ALL_MODES, false, true, 0, 0, NULL, NULL},
    {"categories", K_CATS, ALL_MODES, false, true, 0, 0, NULL, NULL},
    {"isActive", K_BOOL, ALL_MODES, false, false, 0, 0, NULL, NULL},
    {"slug", K_SLUG, ALL_MODES, false, false, 1, PRODUCT_SLUG_MAX, NULL, NULL},
    {"sellerId", K_UUID, CREATE_ONLY, false, true, 0, 0, NULL, NULL},
};
#define N_RULES (sizeof RULES / sizeof RULES[0])

/* Members of the product a client reads but never writes. */
static const char *const READ_ONLY[] = {"id", "createdAt", "updatedAt", "images", "inStock", NULL};

static const struct rule *find_rule(const char *name)
{
    for (size_t i = 0; i < N_RULES; i++)
        if (!strcmp(RULES[i].name, name))
            return &RULES[i];
    return NULL;
}

static bool listed(const char *const *names, const char *name)
{
    for (; *names; names++)
        if (!strcmp(*names, name))
            return true;
    return false;
}

/* The message for a member that may not appear in 'mode'. */
static const char *refusal(const char *name, enum product_mode mode)
{
    if (!strcmp(name, "quantity") && mode != PRODUCT_CREATE)
        return "is the stock: change it through the /inventory/{productId} endpoints";
    if (!strcmp(name, "sellerId") && mode != PRODUCT_CREATE)
        return "is read-only: a product keeps its seller";
    if (listed(READ_ONLY, name))
        return "is read-only";
    return "is not a known field";
}

/* One error per member that is unknown or not writable in 'mode'. A key
 * too long to echo back is named "(unknown)". */
static void check_members(json_t *body, enum product_mode mode, json_t **errors)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        const struct rule *r = find_rule(key);
        if (r && (r->modes & (1u << mode)))
            continue;
        http_field_error(errors, strlen(key) <= 100 ? key : "(unknown)", refusal(key, mode));
    }
}

static void check_text(json_t *body, const struct rule *r, json_t **errors)
{
    const char *s =
        v_string(body, r->name, false, (size_t)r->min, (size_t)r->max, r->kind == K_TEXT, errors);
    if (s && r->check && !r->check(s))
        http_field_error(errors, r->name, r->check_msg);
}

static void check_slug(json_t *body, const struct rule *r, json_t **errors)
{
    json_t *v = json_object_get(body, r->name);
    if (!json_is_string(v) || !slug_valid(json_string_value(v), (size_t)r->max))
        http_field_error(errors, r->name,
                         "must be 1 to 200 characters: lower-case letters and digits in words "
                         "joined by single hyphens");
}

static void check_uuid(json_t *body, const struct rule *r, json_t **errors)
{
    json_t *v = json_object_get(body, r->name);
    if (!json_is_string(v) || !valid_uuid(json_string_value(v)))
        http_field_error(errors, r->name, "must be a UUID");
}

/* Type and bounds of one present, non-null member. */
static void check_value(json_t *body, const struct rule *r, enum product_mode mode, json_t **errors)
{
    long long n;
    switch (r->kind) {
    case K_TEXT:
    case K_MULTILINE:
        check_text(body, r, errors);
        break;
    case K_INT:
        (void)v_int(body, r->name, false, r->min, r->max, &n, errors);
        break;
    case K_BOOL:
        (void)v_bool(body, r->name, false, errors);
        break;
    case K_ATTRS:
        product_validate_attributes(json_object_get(body, r->name), mode == PRODUCT_PATCH, errors);
        break;
    case K_CATS:
        product_validate_categories(json_object_get(body, r->name), errors);
        break;
    case K_SLUG:
        check_slug(body, r, errors);
        break;
    case K_UUID:
        check_uuid(body, r, errors);
        break;
    }
}

/* Presence and nullness of one rule, then its value. A slug may be null on
 * create only (null: derive it from the name); elsewhere a product always
 * has one. */
static void check_rule(json_t *body, const struct rule *r, enum product_mode mode, json_t **errors)
{
    if (!(r->modes & (1u << mode)))
        return; /* check_members reported it */
    json_t *v = json_object_get(body, r->name);
    if (!v) {
        if (r->required && mode != PRODUCT_PATCH)
            http_field_error(errors, r->name, "is required");
        return;
    }
    bool nullable = r->nullable || (r->kind == K_SLUG && mode == PRODUCT_CREATE);
    if (json_is_null(v)) {
        if (!nullable)
            http_field_error(errors, r->name,
                             r->required && mode != PRODUCT_PATCH ? "is required"
                                                                  : "must not be null");
        return;
    }
    check_value(body, r, mode, errors);
}

void product_validate(json_t *body, enum product_mode mode, json_t **errors)
{
    check_members(body, mode, errors);
    for (size_t i = 0; i < N_RULES; i++)
        check_rule(body, &RULES[i], mode, errors);
}

bool product_valid_sku(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= PRODUCT_SKU_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

bool product_valid_currency(const char *s)
{
    return strlen(s) == 3 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3;
}

/* ---- attributes ---- */

/* NULL when 'v' is an acceptable scalar attribute value, else why not. */
static const char *scalar_error(json_t *v)
{
    if (json_is_number(v) || json_is_boolean(v))
        return NULL;
    if (!json_is_string(v))
        return "must be a string, number or boolean, or an array of those";
    const char *s = json_string_value(v);
    long len = utf8_length(s);
    if (strlen(s) != json_string_length(v) || len < 0)
        return "must be valid text without NUL characters";
    if (len > PRODUCT_ATTR_VALUE_MAX)
        return "must be at most 1000 characters";
    return NULL;
}

/* NULL when 'v' is an acceptable attribute value, else why not. */
static const char *value_error(json_t *v, bool allow_null)
{
    if (json_is_null(v))
        return allow_null ? NULL : "must not be null (omit the attribute instead)";
    if (json_is_object(v))
        return "must not be an object: attributes are one level deep";
    if (!json_is_array(v))
        return scalar_error(v);
    if (json_array_size(v) > PRODUCT_ATTR_ITEMS_MAX)
        return "must have at most 50 items";
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        if (json_is_array(item) || json_is_object(item) || json_is_null(item))
            return "must hold only strings, numbers or booleans";
        const char *why = scalar_error(item);
        if (why)
            return why;
    }
    return NULL;
}

/* "attributes.<key>" for a key that can be echoed back, else "attributes".
 * Caller frees; NULL on OOM. */
static char *attr_field(const char *key)
{
    char *f = NULL;
    long len = utf8_length(key);
    bool echo = len >= 1 && len <= PRODUCT_ATTR_KEY_MAX && !has_control_chars(key);
    if (asprintf(&f, "attributes%s%s", echo ? "." : "", echo ? key : "") < 0)
        return NULL;
    return f;
}

static void attr_error(json_t **errors, const char *key, const char *msg)
{
    char *f = attr_field(key);
    http_field_error(errors, f ? f : "attributes", msg);
    free(f);
}

static void check_attr_key(const char *key, json_t **errors)
{
    long len = utf8_length(key);
    if (len < 1 || len > PRODUCT_ATTR_KEY_MAX || has_control_chars(key))
        attr_error(errors, key, "names must be 1 to 100 characters without control characters");
}

void product_validate_attributes(json_t *attrs, bool allow_null, json_t **errors)
{
    if (!json_is_object(attrs)) {
        http_field_error(errors, "attributes", "must be an object");
        return;
    }
    if (json_object_size(attrs) > PRODUCT_ATTR_KEYS_MAX) {
        http_field_error(errors, "attributes", "must have at most 50 keys");
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach(attrs, key, v)
    {
        check_attr_key(key, errors);
        const char *why = value_error(v, allow_null);
        if (why)
            attr_error(errors, key, why);
    }
}

/* ---- categories ---- */

static bool seen_before(json_t *arr, size_t upto, const char *id)
{
    for (size_t i = 0; i < upto; i++)
        if (!strcasecmp(json_string_value(json_array_get(arr, i)), id))
            return true;
    return false;
}

void product_validate_categories(json_t *cats, json_t **errors)
{
    if (!json_is_array(cats)) {
        http_field_error(errors, "categories", "must be an array of category ids");
        return;
    }
    if (json_array_size(cats) > PRODUCT_CATEGORIES_MAX) {
        http_field_error(errors, "categories", "must have at most 20 items");
        return;
    }
    size_t i;
    json_t *c;
    json_array_foreach(cats, i, c)
    {
        if (!json_is_string(c) || !valid_uuid(json_string_value(c))) {
            http_field_error(errors, "categories", "must hold only category ids (UUIDs)");
            return;
        }
        if (seen_before(cats, i, json_string_value(c))) {
            http_field_error(errors, "categories", "must not repeat a category");
            return;
        }
    }
}
