/* Unit tests for the catalog's product body validation
 * (services/catalog/product_input.c).
 *
 * The Makefile links unit tests against the core library only, so the
 * service's pure source files are compiled into this test directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../services/catalog/product_input.c"
#include "../../services/catalog/slug.c"
#include "field_errors.h"

#define VALID "\"name\":\"Mug\",\"sku\":\"MUG-1\",\"price\":1299,\"currency\":\"EUR\""

/* Validate JSON text; returns the errors array (caller decrefs) or NULL. */
static json_t *run(const char *text, enum product_mode mode)
{
    json_error_t err;
    json_t *body = json_loads(text, 0, &err);
    if (!body)
        fail_msg("bad test JSON: %s in %s", err.text, text);
    json_t *errors = NULL;
    product_validate(body, mode, &errors);
    json_decref(body);
    return errors;
}

static void valid_bodies(void **state)
{
    (void)state;
    assert_null(run("{" VALID "}", PRODUCT_CREATE));
    assert_null(run("{" VALID ",\"description\":\"two\\nlines\",\"quantity\":0,"
                    "\"lowStockThreshold\":3,\"attributes\":{\"color\":\"red\",\"n\":1.5,"
                    "\"ok\":true,\"tags\":[\"a\",1,false]},\"categories\":[],\"isActive\":false,"
                    "\"slug\":\"mug-1\",\"sellerId\":\"0b1e6c8e-8a4e-4d4e-9a5e-2f7c1d3b4a5f\"}",
                    PRODUCT_CREATE));
    assert_null(run("{" VALID ",\"slug\":null,\"description\":null}", PRODUCT_CREATE));
    assert_null(run("{" VALID "}", PRODUCT_REPLACE));
    assert_null(run("{}", PRODUCT_PATCH));
    assert_null(run("{\"description\":null,\"attributes\":{\"gone\":null},\"categories\":null}",
                    PRODUCT_PATCH));
    assert_null(run("{" VALID ",\"price\":1000000000000}", PRODUCT_CREATE));
}

static void required(void **state)
{
    (void)state;
    json_t *e = run("{}", PRODUCT_CREATE);
    assert_int_equal(json_array_size(e), 4);
    assert_true(has_error(e, "name", "required"));
    assert_true(has_error(e, "sku", "required"));
    assert_true(has_error(e, "price", "required"));
    assert_true(has_error(e, "currency", "required"));
    json_decref(e);
    e = run("{\"name\":\"x\"}", PRODUCT_REPLACE);
    assert_int_equal(json_array_size(e), 3);
    json_decref(e);
    e = run("{\"name\":null,\"price\":null,\"isActive\":null,\"slug\":null}", PRODUCT_PATCH);
    assert_true(has_error(e, "name", "must not be null"));
    assert_true(has_error(e, "price", "must not be null"));
    assert_true(has_error(e, "isActive", "must not be null"));
    assert_true(has_error(e, "slug", "must not be null"));
    json_decref(e);
}

static void every_problem_reported(void **state)
{
    (void)state;
    json_t *e = run("{\"name\":\"  \",\"sku\":\"a b\",\"price\":-1,\"currency\":\"eur\","
                    "\"quantity\":1.5,\"lowStockThreshold\":\"5\",\"attributes\":[],"
                    "\"categories\":{},\"isActive\":1,\"slug\":\"A\",\"sellerId\":\"me\","
                    "\"id\":\"x\",\"bogus\":true}",
                    PRODUCT_CREATE);
    assert_true(has_error(e, "name", "blank"));
    assert_true(has_error(e, "sku", "A-Z"));
    assert_true(has_error(e, "price", "between 0 and 1000000000000"));
    assert_true(has_error(e, "currency", "ISO 4217"));
    assert_true(has_error(e, "quantity", "integer"));
    assert_true(has_error(e, "lowStockThreshold", "integer"));
    assert_true(has_error(e, "attributes", "object"));
    assert_true(has_error(e, "categories", "array"));
    assert_true(has_error(e, "isActive", "true or false"));
    assert_true(has_error(e, "slug", "lower-case"));
    assert_true(has_error(e, "sellerId", "UUID"));
    assert_true(has_error(e, "id", "read-only"));
    assert_true(has_error(e, "bogus", "not a known field"));
    assert_int_equal(json_array_size(e), 13);
    json_decref(e);
}

static void stock_and_owner_not_updatable(void **state)
{
    (void)state;
    for (int m = PRODUCT_REPLACE; m <= PRODUCT_PATCH; m++) {
        json_t *e = run("{" VALID ",\"quantity\":5,\"sellerId\":\"x\"}", (enum product_mode)m);
        assert_true(has_error(e, "quantity", "/inventory"));
        assert_true(has_error(e, "sellerId", "read-only"));
        assert_int_equal(json_array_size(e), 2);
        json_decref(e);
    }
}

static void text_rules(void **state)
{
    (void)state;
    json_t *e = run("{\"name\":\"a\\u0007b\",\"description\":\"ok\\ttab\\nline\"}", PRODUCT_PATCH);
    assert_true(has_error(e, "name", "control"));
    assert_int_equal(json_array_size(e), 1); /* the description may span lines */
    json_decref(e);
    assert_true(product_valid_sku("Ab.9_-x"));
    assert_false(product_valid_sku(""));
    assert_false(product_valid_sku("a'b"));
    assert_false(product_valid_sku("ü"));
    char sku[66];
    memset(sku, 'a', 65);
    sku[65] = '\0';
    assert_false(product_valid_sku(sku));
    sku[64] = '\0';
    assert_true(product_valid_sku(sku));
    assert_true(product_valid_currency("EUR"));
    assert_false(product_valid_currency("Eur"));
    assert_false(product_valid_currency("EURO"));
    assert_false(product_valid_currency("E1R"));
}

/* product_validate_attributes on JSON text; errors (caller decrefs). */
static json_t *attrs(const char *text, bool allow_null)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    json_t *errors = NULL;
    product_validate_attributes(v, allow_null, &errors);
    json_decref(v);
    return errors;
}

static void attribute_bounds(void **state)
{
    (void)state;
    json_t *e = attrs("{\"nested\":{\"a\":1},\"deep\":[[1]],\"hole\":[null],\"gone\":null}", false);
    assert_true(has_error(e, "attributes.nested", "one level"));
    assert_true(has_error(e, "attributes.deep", "only strings"));
    assert_true(has_error(e, "attributes.hole", "only strings"));
    assert_true(has_error(e, "attributes.gone", "must not be null"));
    json_decref(e);
    assert_null(attrs("{\"gone\":null}", true));
    assert_null(attrs("{}", false));

    char big[1100];
    snprintf(big, sizeof big, "{\"k\":\"%01001d\"}", 0);
    e = attrs(big, false);
    assert_true(has_error(e, "attributes.k", "at most 1000"));
    json_decref(e);

    json_t *many = json_object();
    for (int i = 0; i <= PRODUCT_ATTR_KEYS_MAX; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        json_object_set_new(many, k, json_integer(i));
    }
    json_t *errors = NULL;
    product_validate_attributes(many, false, &errors);
    assert_true(has_error(errors, "attributes", "at most 50 keys"));
    json_decref(errors);
    json_decref(many);

    json_t *items = json_object(), *arr = json_array();
    for (int i = 0; i <= PRODUCT_ATTR_ITEMS_MAX; i++)
        json_array_append_new(arr, json_integer(i));
    json_object_set_new(items, "list", arr);
    errors = NULL;
    product_validate_attributes(items, false, &errors);
    assert_true(has_error(errors, "attributes.list", "at most 50 items"));
    json_decref(errors);
    json_decref(items);

    e = attrs("{\"\":1}", false);
    assert_true(has_error(e, "attributes", "1 to 100"));
    json_decref(e);
}

static void category_lists(void **state)
{
    (void)state;
    json_t *ok = json_loads("[\"0b1e6c8e-8a4e-4d4e-9a5e-2f7c1d3b4a5f\"]", 0, NULL);
    json_t *dup = json_loads("[\"0b1e6c8e-8a4e-4d4e-9a5e-2f7c1d3b4a5f\","
                             "\"0B1E6C8E-8A4E-4D4E-9A5E-2F7C1D3B4A5F\"]",
                             0, NULL);
    json_t *bad = json_loads("[\"x\"]", 0, NULL);
    json_t *errors = NULL;
    product_validate_categories(ok, &errors);
    assert_null(errors);
    product_validate_categories(dup, &errors);
    assert_true(has_error(errors, "categories", "repeat"));
    json_decref(errors);
    errors = NULL;
    product_validate_categories(bad, &errors);
    assert_true(has_error(errors, "categories", "UUID"));
    json_decref(errors);
    json_decref(ok);
    json_decref(dup);
    json_decref(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_bodies),
        cmocka_unit_test(required),
        cmocka_unit_test(every_problem_reported),
        cmocka_unit_test(stock_and_owner_not_updatable),
        cmocka_unit_test(text_rules),
        cmocka_unit_test(attribute_bounds),
        cmocka_unit_test(category_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
