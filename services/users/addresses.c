/*
 * addresses.c - the caller's address book: /users/me/addresses[/:id].
 *
 * Rules kept here: at most MAX_ADDRESSES per user; at most one default
 * shipping and one default billing address (setting one clears the
 * previous in the same transaction; partial unique indexes back this up);
 * the first address becomes the default for both. Deleting or unsetting a
 * default leaves the user without one until they choose again: the service
 * never guesses which address should take over. Every write locks the
 * user's profile row first, so concurrent requests of one user run one
 * after the other and the rules hold under concurrency too.
 */
#include "caller.h"
#include "fields.h"
#include "input.h"
#include "routes.h"
#include "sql.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_ADDRESSES 20

static const struct field_rule ADDRESS_RULES[] = {
    {"label", FIELD_TEXT, false, true, 0, 50, NULL},
    {"fullName", FIELD_TEXT, true, false, 1, 200, NULL},
    {"line1", FIELD_TEXT, true, false, 1, 200, NULL},
    {"line2", FIELD_TEXT, false, true, 0, 200, NULL},
    {"city", FIELD_TEXT, true, false, 1, 100, NULL},
    {"region", FIELD_TEXT, false, true, 0, 100, NULL},
    {"postalCode", FIELD_TEXT, false, true, 1, 16, users_check_postal_code},
    {"country", FIELD_TEXT, true, false, 1, 8, users_check_country},
    {"phone", FIELD_TEXT, false, true, 1, 32, users_check_phone},
    {"isDefaultShipping", FIELD_BOOL, false, false, 0, 0, NULL},
    {"isDefaultBilling", FIELD_BOOL, false, false, 0, 0, NULL},
};
#define N_ADDRESS_RULES (sizeof ADDRESS_RULES / sizeof ADDRESS_RULES[0])

static const char *const ADDRESS_READ_ONLY[] = {"id", "userId", "createdAt", "updatedAt", NULL};

/* clang-format off */
static const char SQL_ADDRESS_LIST[] =
    "SELECT json_build_object('items', coalesce((SELECT json_agg(" SQL_ADDRESS_JSON
    " ORDER BY a.created_at, a.id) FROM addresses a WHERE a.user_id = p.id), '[]'::json)) "
    "FROM profiles p WHERE p.id = $1";

static const char SQL_ADDRESS_GET[] =
    "SELECT " SQL_ADDRESS_JSON " FROM addresses a WHERE a.user_id = $1 AND a.id = $2";

static const char SQL_ADDRESS_COUNT[] =
    "SELECT count(*) FROM addresses WHERE user_id = $1";

/* Clear the user's current default shipping ($2) and/or billing ($3)
 * address, except address $4 (NULL on create). */
static const char SQL_ADDRESS_CLEAR_DEFAULTS[] =
    "UPDATE addresses SET "
    "is_default_shipping = is_default_shipping AND NOT $2::boolean, "
    "is_default_billing = is_default_billing AND NOT $3::boolean, updated_at = now() "
    "WHERE user_id = $1 AND ($4::uuid IS NULL OR id <> $4::uuid) "
    "AND ((is_default_shipping AND $2::boolean) OR (is_default_billing AND $3::boolean))";

static const char SQL_ADDRESS_INSERT[] =
    "INSERT INTO addresses AS a (user_id, label, full_name, line1, line2, city, region, "
    "postal_code, country, phone, is_default_shipping, is_default_billing) "
    "SELECT $1, i.b->>'label', i.b->>'fullName', i.b->>'line1', i.b->>'line2', i.b->>'city', "
    "i.b->>'region', i.b->>'postalCode', i.b->>'country', i.b->>'phone', $3::boolean, "
    "$4::boolean FROM (SELECT $2::jsonb AS b) i RETURNING " SQL_ADDRESS_JSON;

static const char SQL_ADDRESS_PATCH[] =
    "UPDATE addresses a SET "
    SQL_PATCH("a", "label", "label", "") ", "
    SQL_PATCH("a", "full_name", "fullName", "") ", "
    SQL_PATCH("a", "line1", "line1", "") ", "
    SQL_PATCH("a", "line2", "line2", "") ", "
    SQL_PATCH("a", "city", "city", "") ", "
    SQL_PATCH("a", "region", "region", "") ", "
    SQL_PATCH("a", "postal_code", "postalCode", "") ", "
    SQL_PATCH("a", "country", "country", "") ", "
    SQL_PATCH("a", "phone", "phone", "") ", "
    SQL_PATCH("a", "is_default_shipping", "isDefaultShipping", "::boolean") ", "
    SQL_PATCH("a", "is_default_billing", "isDefaultBilling", "::boolean") ", "
    "updated_at = now() "
    "FROM (SELECT $3::jsonb AS b) i WHERE a.user_id = $1 AND a.id = $2 "
    "RETURNING " SQL_ADDRESS_JSON;

static const char SQL_ADDRESS_DELETE[] =
    "DELETE FROM addresses a WHERE a.user_id = $1 AND a.id = $2 "
    "RETURNING json_build_object('id', a.id)";
/* clang-format on */

static void address_missing(struct http_exchange *x)
{
    http_problem(x, 404, "address not found", NULL);
}

/* Validate x->body for 'mode'; false after sending 422. */
static bool valid_body(struct http_exchange *x, enum input_mode mode)
{
    json_t *errors = NULL;
    input_validate(x->body, ADDRESS_RULES, N_ADDRESS_RULES, ADDRESS_READ_ONLY, mode, &errors);
    if (!errors)
        return true;
    send_invalid(x, errors);
    return false;
}

static void list_addresses(struct http_exchange *x)
{
    const char *uid = caller_id(x);
    if (!uid)
        return;
    const char *params[] = {uid};
    store_answer(x, "users_address_list", SQL_ADDRESS_LIST, 1, params, store_profile_missing);
}

static void get_address(struct http_exchange *x)
{
    const char *uid = caller_id(x);
    const char *id = uid ? http_param_uuid(x, "id", "address") : NULL;
    if (!id)
        return;
    const char *params[] = {uid, id};
    store_answer(x, "users_address_get", SQL_ADDRESS_GET, 2, params, address_missing);
}

/* In the user's transaction: how many addresses they hold; -1 after
 * sending the problem. */
static long count_addresses(struct http_exchange *x, const char *uid)
{
    const char *params[] = {uid};
    json_t *n = NULL;
    /* count(*) is a bigint, which is also valid JSON text */
    if (store_json(x, "users_address_count", SQL_ADDRESS_COUNT, 1, params, &n) != STORE_ROW)
        return -1;
    long count = json_is_integer(n) ? (long)json_integer_value(n) : -1;
    json_decref(n);
    if (count < 0)
        http_problem(x, 500, "cannot count addresses", NULL);
    return count;
}

/* In the user's transaction: clear the current defaults the new or changed
 * address 'except' (NULL on create) takes over. 0, or -1 after the problem. */
static int clear_defaults(struct http_exchange *x, const char *uid, bool ship, bool bill,
                          const char *except)
{
    if (!ship && !bill)
        return 0;
    const char *params[] = {uid, ship ? "true" : "false", bill ? "true" : "false", except};
    return store_exec(x, "users_address_clear_defaults", SQL_ADDRESS_CLEAR_DEFAULTS, 4, params) < 0
               ? -1
               : 0;
}

/* One address write: whose, which address (NULL on create), the body as
 * text for the statement's jsonb parameter. */
struct address_write {
    const char *uid, *id, *body;
};

/* Run 'steps' for 'w' in a transaction of their own (store_tx), with the
 * request body as w->body for the duration. */
static enum store_result address_tx(struct http_exchange *x, struct address_write *w,
                                    store_steps_fn steps, json_t **out)
{
    *out = NULL;
    char *body = store_body_text(x);
    if (!body)
        return STORE_FAILED;
    w->body = body;
    enum store_result res = store_tx(x, steps, w, out);
    w->body = NULL;
    free(body);
    return res;
}

/* The steps of a create inside the user's transaction. */
static enum store_result create_steps(struct http_exchange *x, void *arg, json_t **out)
{
    const struct address_write *w = arg;
    if (store_lock_active_profile(x, w->uid) != 0)
        return STORE_FAILED;
    long count = count_addresses(x, w->uid);
    if (count < 0)
        return STORE_FAILED;
    if (count >= MAX_ADDRESSES) {
        char detail[64];
        snprintf(detail, sizeof detail, "an account holds at most %d addresses", MAX_ADDRESSES);
        http_problem(x, 422, detail, NULL);
        return STORE_FAILED;
    }
    bool first = count == 0;
    bool ship = first || input_is_true(x->body, "isDefaultShipping");
    bool bill = first || input_is_true(x->body, "isDefaultBilling");
    if (clear_defaults(x, w->uid, ship, bill, NULL) != 0)
        return STORE_FAILED;
    const char *params[] = {w->uid, w->body, ship ? "true" : "false", bill ? "true" : "false"};
    return store_json(x, "users_address_insert", SQL_ADDRESS_INSERT, 4, params, out);
}

/* Location header and 201 for a created address. */
static void send_created(struct http_exchange *x, json_t *address)
{
    char *location = NULL;
    const char *id = json_string_value(json_object_get(address, "id"));
    if (id && asprintf(&location, "/users/me/addresses/%s", id) >= 0) {
        http_set_header(x, "Location", location);
        free(location);
    }
    http_json(x, 201, address);
}

static void create_address(struct http_exchange *x)
{
    struct address_write w = {.uid = caller_id(x)};
    if (!w.uid || !valid_body(x, INPUT_CREATE))
        return;
    json_t *out = NULL;
    enum store_result res = address_tx(x, &w, create_steps, &out);
    if (res == STORE_ROW)
        send_created(x, out);
    else if (res == STORE_NONE)
        http_problem(x, 500, "the address was not stored", NULL);
}

/* The steps of an update inside the user's transaction. A missing address
 * rolls back, which also restores defaults cleared for it. */
static enum store_result update_steps(struct http_exchange *x, void *arg, json_t **out)
{
    const struct address_write *w = arg;
    if (store_lock_active_profile(x, w->uid) != 0)
        return STORE_FAILED;
    bool ship = input_is_true(x->body, "isDefaultShipping");
    bool bill = input_is_true(x->body, "isDefaultBilling");
    if (clear_defaults(x, w->uid, ship, bill, w->id) != 0)
        return STORE_FAILED;
    const char *params[] = {w->uid, w->id, w->body};
    return store_json(x, "users_address_patch", SQL_ADDRESS_PATCH, 3, params, out);
}

static void update_address(struct http_exchange *x)
{
    struct address_write w = {.uid = caller_id(x)};
    w.id = w.uid ? http_param_uuid(x, "id", "address") : NULL;
    if (!w.id || !valid_body(x, INPUT_UPDATE))
        return;
    json_t *out = NULL;
    enum store_result res = address_tx(x, &w, update_steps, &out);
    store_reply(x, res, out, 200, address_missing);
}

static void delete_address(struct http_exchange *x)
{
    const char *uid = caller_id(x);
    const char *id = uid ? http_param_uuid(x, "id", "address") : NULL;
    if (!id)
        return;
    const char *params[] = {uid, id};
    json_t *out = NULL;
    switch (
        store_locked_json(x, uid, "users_address_delete", SQL_ADDRESS_DELETE, 2, params, &out)) {
    case STORE_ROW:
        json_decref(out);
        http_send(x, 204, NULL, NULL, 0);
        break;
    case STORE_NONE:
        address_missing(x);
        break;
    case STORE_FAILED:
        break;
    }
}

int addresses_routes(struct http_server *srv)
{
    int rc = 0;
    rc |= http_route(srv, "GET", "/users/me/addresses", list_addresses, 0, NULL);
    rc |= http_route(srv, "POST", "/users/me/addresses", create_address, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "GET", "/users/me/addresses/:id", get_address, 0, NULL);
    rc |= http_route(srv, "PATCH", "/users/me/addresses/:id", update_address, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "DELETE", "/users/me/addresses/:id", delete_address, 0, NULL);
    return rc;
}
