/*
 * inventory.c - stock of a product: GET /inventory/:productId,
 * GET /inventory/:productId/movements, POST /inventory/:productId/adjustments,
 * PUT /inventory/:productId/threshold.
 *
 * Who: ADMIN and SUPERADMIN on any product, a SELLER on its own products
 * only, a CUSTOMER never. A deleted (or unknown) product has no stock: 404.
 *
 * Concurrency: an adjustment is one UPDATE ... SET quantity = quantity +
 * delta WHERE quantity + delta >= 0. PostgreSQL locks the row and, when
 * another adjustment got there first, re-checks the WHERE on the newest
 * version, so concurrent adjustments never lose an update and never drive
 * stock below zero; there is no read-modify-write in C. The movement row
 * (append-only history), the outbox events and the Idempotency-Key claim
 * commit in the same transaction.
 */
#include "catalog.h"

#include "core/auth.h"
#include "core/db.h"
#include "core/events.h"
#include "core/store.h"
#include "core/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ulfius.h>

#define MAX_DELTA 1000000
#define MAX_THRESHOLD 1000000
#define DEFAULT_LIMIT 20
#define MAX_LIMIT 100
#define MAX_KEY_LEN 255

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* clang-format off */
/* One movement, over "inventory_movements m". */
#define MOVEMENT_JSON                                                                        \
    "json_build_object('id', m.id, 'productId', m.product_id, 'delta', m.delta, "           \
    "'quantityAfter', m.quantity_after, 'reason', m.reason, 'note', m.note, "              \
    "'reference', m.reference, 'actorId', m.actor_id, 'createdAt', " ISO("m.created_at") ")"

static const char SQL_OWNER[] =
    "SELECT seller_id FROM products WHERE id = $1 AND deleted_at IS NULL";

static const char SQL_INVENTORY[] =
    "SELECT json_build_object('productId', p.id, 'sellerId', p.seller_id, 'sku', p.sku, "
    "'quantity', p.quantity, 'lowStockThreshold', p.low_stock_threshold, "
    "'inStock', p.quantity > 0, 'lowStock', p.quantity <= p.low_stock_threshold, "
    "'updatedAt', " ISO("p.updated_at") ", "
    "'recentMovements', coalesce((SELECT json_agg(" MOVEMENT_JSON " ORDER BY m.id DESC) "
    "  FROM (SELECT * FROM inventory_movements WHERE product_id = p.id "
    "        ORDER BY id DESC LIMIT 20) m), '[]'::json)) "
    "FROM products p WHERE p.id = $1 AND p.deleted_at IS NULL";

static const char SQL_MOVEMENTS[] =
    "SELECT json_build_object("
    "'items', coalesce((SELECT json_agg(" MOVEMENT_JSON " ORDER BY m.id DESC) "
    "  FROM (SELECT * FROM inventory_movements WHERE product_id = $1 "
    "        ORDER BY id DESC LIMIT $2::bigint OFFSET $3::bigint) m), '[]'::json), "
    "'total', (SELECT count(*) FROM inventory_movements WHERE product_id = $1), "
    "'page', $4::bigint, 'limit', $2::bigint)";

/* The adjustment and its movement in one statement: the movement exists
 * exactly when the UPDATE matched. 'previous' is the quantity just before
 * this adjustment (the row was locked, so nothing came in between). */
static const char SQL_ADJUST[] =
    "WITH u AS (UPDATE products SET quantity = quantity + $2::int, updated_at = now() "
    "  WHERE id = $1 AND deleted_at IS NULL AND quantity + $2::int >= 0 "
    "  RETURNING id, seller_id, quantity, low_stock_threshold), "
    "m AS (INSERT INTO inventory_movements "
    "  (product_id, delta, quantity_after, reason, note, reference, actor_id) "
    "  SELECT u.id, $2::int, u.quantity, $3, coalesce($4, ''), $5, $6::uuid FROM u "
    "  RETURNING *) "
    "SELECT json_build_object('productId', u.id, 'sellerId', u.seller_id, "
    "'quantity', u.quantity, 'previousQuantity', u.quantity - $2::int, "
    "'lowStockThreshold', u.low_stock_threshold, 'inStock', u.quantity > 0, "
    "'lowStock', u.quantity <= u.low_stock_threshold, 'movement', " MOVEMENT_JSON ") "
    "FROM u, m";

static const char SQL_QUANTITY[] =
    "SELECT quantity FROM products WHERE id = $1 AND deleted_at IS NULL";

static const char SQL_THRESHOLD[] =
    "UPDATE products SET low_stock_threshold = $2::int, updated_at = now() "
    "WHERE id = $1 AND deleted_at IS NULL";

/* A key past its 24 hours is forgotten before it is claimed again. */
static const char SQL_KEY_EXPIRE[] =
    "DELETE FROM inventory_idempotency WHERE actor = $1 AND key = $2 "
    "AND created_at < now() - interval '24 hours'";

static const char SQL_KEY_CLAIM[] =
    "INSERT INTO inventory_idempotency (actor, key, fingerprint) VALUES ($1, $2, $3) "
    "ON CONFLICT DO NOTHING RETURNING 'true'::json";

static const char SQL_KEY_FIND[] =
    "SELECT json_build_object('fingerprint', fingerprint, 'response', response) "
    "FROM inventory_idempotency WHERE actor = $1 AND key = $2";

static const char SQL_KEY_STORE[] =
    "UPDATE inventory_idempotency SET response = $3::jsonb WHERE actor = $1 AND key = $2";
/* clang-format on */

static const char *const STOCK_ROLES[] = {"SUPERADMIN", "ADMIN", "SELLER", NULL};
static const char *const REASONS[] = {"restock", "sale",        "return",  "correction",
                                      "damage",  "reservation", "release", NULL};

static void send_invalid(struct http_exchange *x, json_t *errors)
{
    http_problem(x, 422, "the request has invalid fields", errors);
}

/* 0 when 'c' may manage the stock of product 'id' (which exists and is not
 * deleted); else -1 after sending 404, 403 or the database problem. */
static int check_owner(struct http_exchange *x, const struct auth_claims *c, const char *id)
{
    const char *params[] = {id};
    PGresult *r = db_exec("catalog_inventory_owner", SQL_OWNER, 1, params);
    if (!db_ok(r)) {
        http_db_problem(x, r);
        PQclear(r);
        return -1;
    }
    bool found = PQntuples(r) == 1;
    /* PostgreSQL prints UUIDs in lower case; a token's sub may not be. */
    bool allowed = found && (strcmp(c->role, "SELLER") || !strcasecmp(PQgetvalue(r, 0, 0), c->sub));
    PQclear(r);
    if (!found)
        product_missing(x);
    else if (!allowed)
        http_problem(x, 403, "a seller manages the stock of its own products only", NULL);
    return allowed ? 0 : -1;
}

/* The product id of the path when the caller may manage its stock (*caller
 * set); NULL after sending 401, 403 or 404. Owned by the exchange. */
static const char *stock_target(struct http_exchange *x, const struct auth_claims **caller)
{
    const struct auth_claims *c = http_require_role(x, STOCK_ROLES);
    if (!c)
        return NULL;
    const char *id = http_param(x, "productId");
    if (!valid_uuid(id)) {
        product_missing(x); /* an id that cannot exist names nothing */
        return NULL;
    }
    if (check_owner(x, c, id) != 0)
        return NULL;
    *caller = c;
    return id;
}

/* Answer 200 with the inventory document of 'id' (ETag, 304), or 404. */
static void send_inventory(struct http_exchange *x, const char *id)
{
    const char *params[] = {id};
    json_t *doc = NULL;
    enum store_result res = store_json(x, "catalog_inventory_get", SQL_INVENTORY, 1, params, &doc);
    if (res == STORE_NONE)
        product_missing(x);
    if (res != STORE_ROW)
        return;
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text) {
        http_problem(x, 500, "out of memory", NULL);
        return;
    }
    http_send_json_etag(x, text, strlen(text));
    free(text);
}

static void get_inventory(struct http_exchange *x)
{
    const struct auth_claims *c = NULL;
    const char *id = stock_target(x, &c);
    if (id)
        send_inventory(x, id);
}

static void list_movements(struct http_exchange *x)
{
    const struct auth_claims *c = NULL;
    const char *id = stock_target(x, &c);
    if (!id)
        return;
    json_t *errors = NULL;
    long page = 1, limit = DEFAULT_LIMIT;
    v_page(http_param(x, "page"), http_param(x, "limit"), DEFAULT_LIMIT, MAX_LIMIT, &page, &limit,
           &errors);
    if (errors) {
        send_invalid(x, errors);
        return;
    }
    char limit_s[24], offset_s[24], page_s[24];
    snprintf(limit_s, sizeof limit_s, "%ld", limit);
    snprintf(offset_s, sizeof offset_s, "%ld", (page - 1) * limit);
    snprintf(page_s, sizeof page_s, "%ld", page);
    const char *params[] = {id, limit_s, offset_s, page_s};
    store_answer(x, "catalog_inventory_movements", SQL_MOVEMENTS, 4, params, product_missing);
}

/* ---- adjustments ---- */

/* One adjustment: what the request asks and, while it runs, what the
 * transaction found. Strings are owned by the exchange (body, claims). */
struct adjustment {
    const char *product_id, *actor, *actor_uuid; /* actor_uuid NULL: not a UUID */
    const char *reason, *note, *reference;
    char delta_s[24];
    long long delta;
    const char *key; /* Idempotency-Key, or NULL */
    char fingerprint[HTTP_ETAG_LEN];
    bool replayed; /* the answer is a stored one */
};

/* Read the body into *a; false after sending 422. */
static bool parse_adjustment(struct http_exchange *x, struct adjustment *a)
{
    static const char *const known[] = {"delta", "reason", "note", "reference", NULL};
    json_t *errors = NULL;
    v_no_unknown(x->body, known, &errors);
    if (v_int(x->body, "delta", true, -MAX_DELTA, MAX_DELTA, &a->delta, &errors) && a->delta == 0)
        http_field_error(&errors, "delta", "must not be zero");
    a->reason = v_enum(x->body, "reason", true, REASONS, &errors);
    a->note = v_string(x->body, "note", false, 0, 500, false, &errors);
    a->reference = v_string(x->body, "reference", false, 1, 100, true, &errors);
    if (errors) {
        send_invalid(x, errors);
        return false;
    }
    snprintf(a->delta_s, sizeof a->delta_s, "%lld", a->delta);
    return true;
}

/* Read the Idempotency-Key header into *a (key NULL when absent) with the
 * request's fingerprint; false after sending 422 for a malformed key. */
static bool parse_key(struct http_exchange *x, struct adjustment *a)
{
    const char *key = http_header(x, "Idempotency-Key");
    if (!key)
        return true;
    size_t n = strlen(key);
    bool printable = n > 0 && n <= MAX_KEY_LEN;
    for (size_t i = 0; printable && i < n; i++)
        printable = key[i] > ' ' && key[i] < 0x7f;
    if (!printable) {
        json_t *errors = NULL;
        http_field_error(&errors, "Idempotency-Key", "must be 1 to 255 visible ASCII characters");
        send_invalid(x, errors);
        return false;
    }
    /* The same key with another product or body is another request. */
    char *body = json_dumps(x->body, JSON_COMPACT | JSON_SORT_KEYS);
    char *text = NULL;
    if (!body || asprintf(&text, "%s %s", a->product_id, body) < 0)
        text = NULL;
    free(body);
    if (!text) {
        http_problem(x, 500, "out of memory", NULL);
        return false;
    }
    http_etag_of(text, strlen(text), a->fingerprint);
    free(text);
    a->key = key;
    return true;
}

/* 409 with the quantity in stock now (an extension member), or 404 when the
 * product went away meanwhile. */
static void send_conflict(struct http_exchange *x, const struct adjustment *a)
{
    const char *params[] = {a->product_id};
    PGresult *r = db_exec("catalog_inventory_quantity", SQL_QUANTITY, 1, params);
    if (!db_ok(r) || PQntuples(r) != 1) {
        if (db_ok(r))
            product_missing(x);
        else
            http_db_problem(x, r);
        PQclear(r);
        return;
    }
    long long quantity = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    char detail[128];
    snprintf(detail, sizeof detail, "not enough stock: %lld in stock, the adjustment is %lld",
             quantity, a->delta);
    json_t *doc = http_problem_json(409, detail, x->req ? x->req->url_path : NULL, NULL);
    if (doc)
        json_object_set_new(doc, "quantity", json_integer(quantity));
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) {
        http_problem(x, 500, "out of memory", NULL);
        return;
    }
    http_send(x, 409, "application/problem+json", text, strlen(text));
    free(text);
}

/* In the transaction: the events of an applied adjustment 'done'. 0, or -1
 * after sending 500. */
static int emit_stock_events(struct http_exchange *x, const struct adjustment *a, json_t *done)
{
    json_t *q = json_object_get(done, "quantity");
    json_t *threshold = json_object_get(done, "lowStockThreshold");
    json_int_t before = json_integer_value(json_object_get(done, "previousQuantity"));
    json_t *changed = json_pack("{s:s, s:I, s:O, s:s, s:s?, s:O}", "productId", a->product_id,
                                "delta", (json_int_t)a->delta, "quantity", q, "reason", a->reason,
                                "reference", a->reference, "movementId",
                                json_object_get(json_object_get(done, "movement"), "id"));
    int rc = changed ? events_emit("stock.changed", changed) : -1;
    json_decref(changed);
    /* stock.low once per crossing: from above the threshold to at or below. */
    json_int_t t = json_integer_value(threshold);
    if (rc == 0 && before > t && json_integer_value(q) <= t) {
        json_t *low = json_pack("{s:s, s:O, s:O}", "productId", a->product_id, "quantity", q,
                                "threshold", threshold);
        rc = low ? events_emit("stock.low", low) : -1;
        json_decref(low);
    }
    if (rc != 0)
        http_problem(x, 500, "cannot record the stock events", NULL);
    return rc;
}

/* In the transaction: claim a->key. STORE_NONE: claimed, go on; STORE_ROW:
 * the key's stored answer is in *out (replay); STORE_FAILED: sent. */
static enum store_result claim_key(struct http_exchange *x, struct adjustment *a, json_t **out)
{
    const char *params[] = {a->actor, a->key, a->fingerprint};
    if (store_exec(x, "catalog_inventory_key_expire", SQL_KEY_EXPIRE, 2, params) < 0)
        return STORE_FAILED;
    json_t *claimed = NULL;
    enum store_result res =
        store_json(x, "catalog_inventory_key_claim", SQL_KEY_CLAIM, 3, params, &claimed);
    json_decref(claimed);
    if (res != STORE_NONE) /* STORE_ROW: the key is ours */
        return res == STORE_ROW ? STORE_NONE : STORE_FAILED;
    json_t *found = NULL;
    res = store_json(x, "catalog_inventory_key_find", SQL_KEY_FIND, 2, params, &found);
    const char *fp = json_string_value(json_object_get(found, "fingerprint"));
    json_t *response = json_object_get(found, "response");
    if (res == STORE_ROW && fp && strcmp(fp, a->fingerprint)) {
        json_t *errors = NULL;
        http_field_error(&errors, "Idempotency-Key", "was already used for a different request");
        send_invalid(x, errors);
        res = STORE_FAILED;
    } else if (res == STORE_ROW && json_is_object(response)) {
        *out = json_incref(response);
        a->replayed = true;
    } else if (res != STORE_FAILED) {
        /* claimed by a request that is still running, or just purged */
        http_problem(x, 409, "a request with this Idempotency-Key is in progress, retry", NULL);
        res = STORE_FAILED;
    }
    json_decref(found);
    return res;
}

/* In the transaction: remember 'answer' under a->key. 0, or -1 after
 * sending the problem. */
static int store_key(struct http_exchange *x, const struct adjustment *a, json_t *answer)
{
    char *text = json_dumps(answer, JSON_COMPACT);
    if (!text) {
        http_problem(x, 500, "out of memory", NULL);
        return -1;
    }
    const char *params[] = {a->actor, a->key, text};
    long n = store_exec(x, "catalog_inventory_key_store", SQL_KEY_STORE, 3, params);
    free(text);
    return n < 0 ? -1 : 0;
}

/* The steps of an adjustment inside its transaction (store_tx). */
static enum store_result adjust_steps(struct http_exchange *x, void *arg, json_t **out)
{
    struct adjustment *a = arg;
    if (a->key) {
        enum store_result claimed = claim_key(x, a, out);
        if (claimed != STORE_NONE)
            return claimed; /* a replay, or a problem was sent */
    }
    const char *params[] = {a->product_id, a->delta_s,   a->reason,
                            a->note,       a->reference, a->actor_uuid};
    enum store_result res = store_json(x, "catalog_inventory_adjust", SQL_ADJUST, 6, params, out);
    if (res == STORE_NONE) {
        send_conflict(x, a);
        return STORE_FAILED;
    }
    if (res != STORE_ROW)
        return res;
    if (emit_stock_events(x, a, *out) != 0 || (a->key && store_key(x, a, *out) != 0))
        return STORE_FAILED;
    return STORE_ROW;
}

static void adjust_stock(struct http_exchange *x)
{
    const struct auth_claims *c = NULL;
    struct adjustment a = {.product_id = stock_target(x, &c)};
    if (!a.product_id || !parse_adjustment(x, &a) || !parse_key(x, &a))
        return;
    a.actor = c->sub;
    a.actor_uuid = valid_uuid(c->sub) ? c->sub : NULL;
    json_t *out = NULL;
    enum store_result res = store_tx(x, adjust_steps, &a, &out);
    if (res == STORE_NONE) /* the steps always answer; kept for safety */
        http_problem(x, 500, "the adjustment was not applied", NULL);
    if (res != STORE_ROW)
        return;
    if (a.replayed)
        http_set_header(x, "Idempotent-Replayed", "true");
    else
        cache_invalidate(); /* the product's quantity changed */
    http_json(x, 201, out);
}

static void set_threshold(struct http_exchange *x)
{
    const struct auth_claims *c = NULL;
    const char *id = stock_target(x, &c);
    if (!id)
        return;
    static const char *const known[] = {"lowStockThreshold", NULL};
    json_t *errors = NULL;
    long long threshold = 0;
    v_no_unknown(x->body, known, &errors);
    v_int(x->body, "lowStockThreshold", true, 0, MAX_THRESHOLD, &threshold, &errors);
    if (errors) {
        send_invalid(x, errors);
        return;
    }
    char threshold_s[24];
    snprintf(threshold_s, sizeof threshold_s, "%lld", threshold);
    const char *params[] = {id, threshold_s};
    long n = store_exec(x, "catalog_inventory_threshold", SQL_THRESHOLD, 2, params);
    if (n < 0)
        return;
    if (n == 0) {
        product_missing(x); /* deleted since the owner check */
        return;
    }
    cache_invalidate(); /* products carry their lowStockThreshold */
    send_inventory(x, id);
}

int routes_inventory(struct http_server *srv)
{
    int rc = 0;
    rc |= http_route(srv, "GET", "/inventory/:productId", get_inventory, 0, NULL);
    rc |= http_route(srv, "GET", "/inventory/:productId/movements", list_movements, 0, NULL);
    rc |= http_route(srv, "POST", "/inventory/:productId/adjustments", adjust_stock, HTTP_JSON_BODY,
                     NULL);
    rc |= http_route(srv, "PUT", "/inventory/:productId/threshold", set_threshold, HTTP_JSON_BODY,
                     NULL);
    return rc;
}
