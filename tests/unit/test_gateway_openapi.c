/*
 * test_gateway_openapi.c - the gateway's merge of the services' OpenAPI
 * documents (services/gateway/openapi_merge.c, compiled in: the unit test
 * rule links one object against the core).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../services/gateway/openapi_merge.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j)
        fail_msg("bad test JSON: %s", err.text);
    return j;
}

static const char *str_at(json_t *root, const char *const *keys)
{
    json_t *j = root;
    for (; *keys; keys++)
        j = json_object_get(j, *keys);
    return json_string_value(j);
}

static json_t *gateway_doc(void)
{
    return parse("{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"gw\",\"version\":\"1\"},"
                 "\"paths\":{\"/health\":{\"get\":{\"summary\":\"gateway health\"}}},"
                 "\"components\":{\"schemas\":{\"Problem\":{\"type\":\"object\"}}}}");
}

static void test_paths_union_gateway_wins(void **state)
{
    (void)state;
    json_t *merged = gateway_doc();
    json_t *auth = parse("{\"openapi\":\"3.0.3\",\"paths\":{"
                         "\"/health\":{\"get\":{\"summary\":\"auth health\"}},"
                         "\"/auth/login\":{\"post\":{\"summary\":\"log in\"}},"
                         "\"/auth/me\":{\"get\":{\"tags\":[\"accounts\"]}}},"
                         "\"tags\":[{\"name\":\"accounts\"}]}");
    assert_int_equal(openapi_merge_into(merged, "auth", auth), 0);

    const char *health[] = {"paths", "/health", "get", "summary", NULL};
    assert_string_equal(str_at(merged, health), "gateway health");
    json_t *login =
        json_object_get(json_object_get(json_object_get(merged, "paths"), "/auth/login"), "post");
    assert_non_null(login);
    /* an untagged operation gets the service's tag, a tagged one keeps its own */
    assert_string_equal(json_string_value(json_array_get(json_object_get(login, "tags"), 0)),
                        "auth");
    json_t *me =
        json_object_get(json_object_get(json_object_get(merged, "paths"), "/auth/me"), "get");
    assert_string_equal(json_string_value(json_array_get(json_object_get(me, "tags"), 0)),
                        "accounts");
    json_t *tags = json_object_get(merged, "tags");
    assert_true(has_tag(tags, "auth"));
    assert_true(has_tag(tags, "accounts"));
    /* the service's document is left as it was */
    assert_null(json_object_get(
        json_object_get(json_object_get(json_object_get(auth, "paths"), "/auth/login"), "post"),
        "tags"));
    json_decref(auth);
    json_decref(merged);
}

static void test_schema_collisions(void **state)
{
    (void)state;
    json_t *merged = gateway_doc();
    /* same Problem: shared; different User in two services: the second renamed */
    json_t *users =
        parse("{\"paths\":{\"/users/{id}\":{\"get\":{\"responses\":{\"200\":{\"content\":{"
              "\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/User\"}}}}}}}},"
              "\"components\":{\"schemas\":{\"Problem\":{\"type\":\"object\"},"
              "\"User\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"}}}}}}");
    json_t *orders =
        parse("{\"paths\":{\"/orders\":{\"get\":{\"responses\":{\"200\":{\"content\":{"
              "\"application/json\":{\"schema\":{\"type\":\"array\",\"items\":"
              "{\"$ref\":\"#/components/schemas/User\"}}}}}}}}},"
              "\"components\":{\"schemas\":{\"Problem\":{\"type\":\"object\"},"
              "\"User\":{\"type\":\"object\",\"properties\":{\"email\":{\"type\":\"string\"}}}}}}");
    assert_int_equal(openapi_merge_into(merged, "users", users), 0);
    assert_int_equal(openapi_merge_into(merged, "orders", orders), 0);

    json_t *schemas = json_object_get(json_object_get(merged, "components"), "schemas");
    assert_int_equal(json_object_size(schemas), 3); /* Problem, User, orders_User */
    assert_non_null(
        json_object_get(json_object_get(json_object_get(schemas, "User"), "properties"), "id"));
    assert_non_null(json_object_get(
        json_object_get(json_object_get(schemas, "orders_User"), "properties"), "email"));
    const char *users_ref[] = {"paths",   "/users/{id}",      "get",    "responses", "200",
                               "content", "application/json", "schema", "$ref",      NULL};
    assert_string_equal(str_at(merged, users_ref), "#/components/schemas/User");
    const char *orders_ref[] = {"paths",   "/orders",          "get",    "responses", "200",
                                "content", "application/json", "schema", "items",     "$ref",
                                NULL};
    assert_string_equal(str_at(merged, orders_ref), "#/components/schemas/orders_User");
    json_decref(users);
    json_decref(orders);
    json_decref(merged);
}

static void test_security_pushed_to_operations(void **state)
{
    (void)state;
    json_t *merged = gateway_doc();
    json_t *cart =
        parse("{\"security\":[{\"bearerAuth\":[]}],"
              "\"paths\":{\"/cart\":{\"get\":{},\"delete\":{\"security\":[]}}},"
              "\"components\":{\"securitySchemes\":{\"bearerAuth\":{\"type\":\"http\",\"scheme\":"
              "\"bearer\"}}}}");
    json_t *orders = parse("{\"paths\":{},\"components\":{\"securitySchemes\":{\"bearerAuth\":"
                           "{\"type\":\"http\",\"scheme\":\"basic\"}}}}");
    assert_int_equal(openapi_merge_into(merged, "cart", cart), 0);
    assert_int_equal(openapi_merge_into(merged, "orders", orders), 0);
    json_t *cart_item = json_object_get(json_object_get(merged, "paths"), "/cart");
    json_t *get_sec = json_object_get(json_object_get(cart_item, "get"), "security");
    assert_int_equal(json_array_size(get_sec), 1);
    assert_non_null(json_object_get(json_array_get(get_sec, 0), "bearerAuth"));
    /* an operation that states its own (here: none) keeps it */
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(cart_item, "delete"), "security")), 0);
    /* security schemes are never renamed: the first definition stays */
    const char *scheme[] = {"components", "securitySchemes", "bearerAuth", "scheme", NULL};
    assert_string_equal(str_at(merged, scheme), "bearer");
    json_decref(cart);
    json_decref(orders);
    json_decref(merged);
}

static void test_not_a_document(void **state)
{
    (void)state;
    json_t *merged = gateway_doc();
    json_t *arr = parse("[1,2]");
    json_t *empty = parse("{\"openapi\":\"3.0.3\"}");
    assert_int_equal(openapi_merge_into(merged, "x", arr), -1);
    assert_int_equal(openapi_merge_into(merged, "x", empty), -1);
    assert_int_equal(openapi_merge_into(merged, "x", NULL), -1);
    json_decref(arr);
    json_decref(empty);
    json_decref(merged);
}

static void write_file(const char *root, const char *service, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/services", root);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/services/%s", root, service);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/services/%s/openapi.json", root, service);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_tree(const char *root, const char *const *services)
{
    char path[512];
    for (const char *const *s = services; *s; s++) {
        snprintf(path, sizeof path, "%s/services/%s/openapi.json", root, *s);
        unlink(path);
        snprintf(path, sizeof path, "%s/services/%s", root, *s);
        rmdir(path);
    }
    snprintf(path, sizeof path, "%s/services", root);
    rmdir(path);
    rmdir(root);
}

static void test_build_from_files(void **state)
{
    (void)state;
    char root[] = "/tmp/gw-openapi-XXXXXX";
    assert_non_null(mkdtemp(root));
    write_file(root, "gateway",
               "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"gw\",\"version\":\"0.1.0\"},"
               "\"paths\":{\"/health\":{\"get\":{}}}}");
    write_file(root, "auth", "{\"paths\":{\"/auth/login\":{\"post\":{}}}}");
    write_file(root, "cart", "{ not json");
    const char *const services[] = {"auth", "cart", "users", NULL}; /* users: missing */
    char *out = openapi_build(root, services);
    assert_non_null(out);
    json_t *doc = parse(out);
    free(out);
    const char *title[] = {"info", "title", NULL};
    assert_string_equal(str_at(doc, title), "E-commerce platform API");
    const char *version[] = {"info", "version", NULL};
    assert_string_equal(str_at(doc, version), "0.1.0");
    json_t *paths = json_object_get(doc, "paths");
    assert_int_equal(json_object_size(paths), 2);
    assert_non_null(json_object_get(paths, "/auth/login"));
    json_t *tags = json_object_get(doc, "tags");
    assert_true(has_tag(tags, "gateway"));
    assert_true(has_tag(tags, "auth"));
    assert_false(has_tag(tags, "cart"));
    json_decref(doc);
    const char *const all[] = {"gateway", "auth", "cart", NULL};
    remove_tree(root, all);
}

static void test_build_without_any_file(void **state)
{
    (void)state;
    const char *const none[] = {"auth", NULL};
    char *out = openapi_build("/nonexistent-app-root", none);
    assert_non_null(out);
    json_t *doc = parse(out);
    free(out);
    const char *openapi[] = {"openapi", NULL};
    assert_string_equal(str_at(doc, openapi), "3.0.3");
    assert_true(json_is_object(json_object_get(doc, "paths")));
    json_decref(doc);
}

int main(void)
{
    log_init("test");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_union_gateway_wins),
        cmocka_unit_test(test_schema_collisions),
        cmocka_unit_test(test_security_pushed_to_operations),
        cmocka_unit_test(test_not_a_document),
        cmocka_unit_test(test_build_from_files),
        cmocka_unit_test(test_build_without_any_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
