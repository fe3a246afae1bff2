/*
 * product_input.h - validation of product write bodies (POST, PUT, PATCH).
 *
 * Pure functions (no I/O), unit-tested by tests/unit/test_catalog_products.c.
 * Every problem is appended to an errors array (http_field_error), so a
 * client learns about every bad field in one 422. Whether category ids
 * exist, and whether the caller may set sellerId, are the handler's checks:
 * they need the database and the caller.
 */
#ifndef CATALOG_PRODUCT_INPUT_H
#define CATALOG_PRODUCT_INPUT_H

#include <jansson.h>
#include <stdbool.h>

/* Limits, repeated by the database's CHECK constraints and openapi.json. */
#define PRODUCT_NAME_MAX 200
#define PRODUCT_SKU_MAX 64
#define PRODUCT_DESCRIPTION_MAX 20000
#define PRODUCT_PRICE_MAX 1000000000000LL /* minor units */
#define PRODUCT_QUANTITY_MAX 2147483647LL /* the int column */
#define PRODUCT_SLUG_MAX 200
#define PRODUCT_ATTR_KEYS_MAX 50
#define PRODUCT_ATTR_KEY_MAX 100
#define PRODUCT_ATTR_VALUE_MAX 1000 /* code points of a string, items of an array */
#define PRODUCT_ATTR_ITEMS_MAX 50
#define PRODUCT_CATEGORIES_MAX 20

/* What the body is for:
 *   CREATE   POST: name, sku, price, currency required; quantity is the
 *            initial stock; sellerId may name the owner.
 *   REPLACE  PUT: the same required fields; absent optional ones take their
 *            defaults; quantity and sellerId refused.
 *   PATCH    PATCH: only the given fields; null resets an optional one to
 *            its default; attribute keys set to null are removed. */
enum product_mode { PRODUCT_CREATE, PRODUCT_REPLACE, PRODUCT_PATCH };

/* Check every member of 'body' (a JSON object) for 'mode'. */
void product_validate(json_t *body, enum product_mode mode, json_t **errors);

/* 1..64 characters of [A-Za-z0-9._-]. */
bool product_valid_sku(const char *s);

/* The shape of an ISO 4217 code: three upper-case ASCII letters. */
bool product_valid_currency(const char *s);

/* Check an attributes object: at most 50 keys of 1..100 code points
 * without control characters; each value a string (<= 1000 code points),
 * number or boolean, or an array of at most 50 of those; null only when
 * 'allow_null' (a PATCH removing the key). Errors name "attributes" or
 * "attributes.<key>". */
void product_validate_attributes(json_t *attrs, bool allow_null, json_t **errors);

/* Check a categories array: at most 20 distinct UUID strings. */
void product_validate_categories(json_t *cats, json_t **errors);

#endif
