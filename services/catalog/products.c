/*
 * products.c - one product: GET /products/:id, GET /products/slug/:slug,
 * POST /products, PUT/PATCH/DELETE /products/:id.
 *
 * Visibility: an active, non-deleted product is public; an inactive or
 * (soft-)deleted one only to its seller and to ADMIN/SUPERADMIN, everyone
 * else gets 404 as if it did not exist.
 *
 * Writes: ADMIN/SUPERADMIN on any product, a SELLER on its own. Another
 * seller's product answers 403 when that seller can see it (active, not
 * deleted: its existence is no secret) and 404 otherwise, so a write never
 * reveals a product a read would hide. A deleted product is 404 for every
 * write. Each write is one transaction that also puts product.created /
 * product.updated / product.deleted into the outbox; the read cache is
 * invalidated after the commit.
 *
 * Stock: quantity on POST is the initial stock (an 'initial' movement is
 * recorded with it); afterwards it changes only through /inventory.
 */
#include "crud_common.h"
#include "product_input.h"
#include "slug.h"

#include "core/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const WRITERS[] = {"SELLER", "ADMIN", "SUPERADMIN", NULL};

/* Read statements, built once at start-up from PRODUCT_JSON (an extern
 * array, so not a literal to concatenate at compile time). They live as
 * long as the process: nothing frees them. */
enum read_kind { BY_ID_PUBLIC, BY_ID_ANY, BY_SLUG_PUBLIC, BY_SLUG_ANY, READ_KINDS };
static char *read_sql[READ_KINDS];
static const char *const READ_NAMES[READ_KINDS] = {"products_get_public", "products_get_any",
                                                   "products_slug_public", "products_slug_any"};

static const char *const READ_WHERE[READ_KINDS] = {
    "p.id = $1 AND p.deleted_at IS NULL AND p.is_active",
    "p.id = $1",
    "p.slug = $1 AND p.deleted_at IS NULL AND p.is_active",
    "p.slug = $1",
};

static int build_read_sql(void)
{
    for (int i = 0; i < READ_KINDS; i++)
        if (asprintf(&read_sql[i], "SELECT %s FROM products p WHERE %s", PRODUCT_JSON,
                     READ_WHERE[i]) < 0)
            return -1;
    return 0;
}

/* ---- reads ---- */

/* True when the product JSON 'text' belongs to seller 'sub'. */
static bool owned_by(const char *text, size_t len, const char *sub)
{
    json_t *p = json_loadb(text, len, 0, NULL);
    const char *seller = json_string_value(json_object_get(p, "sellerId"));
    bool owned = seller && !strcasecmp(seller, sub);
    json_decref(p);
    return owned;
}

/* One visibility class of a read: the public view or the privileged one,
 * cached under "<path>|pub" or "<path>|any". */
static enum store_result read_class(struct http_exchange *x, const char *path, const char *param,
                                    enum read_kind kind, char **text, size_t *len)
{
    char *key = NULL;
    bool any = kind == BY_ID_ANY || kind == BY_SLUG_ANY;
    if (asprintf(&key, "%s|%s", path, any ? "any" : "pub") < 0) {
        http_problem(x, 500, "out of memory", NULL);
        return STORE_FAILED;
    }
    const char *params[] = {param};
    enum store_result res =
        crud_cached_text(x, key, READ_NAMES[kind], read_sql[kind], 1, params, text, len);
    free(key);
    return res;
}

/* A seller sees the public view, and beyond it only its own products. */
static enum store_result read_as_seller(struct http_exchange *x, const char *path,
                                        const char *param, enum read_kind pub, const char *sub,
                                        char **text, size_t *len)
{
    enum store_result res = read_class(x, path, param, pub, text, len);
    if (res != STORE_NONE)
        return res;
    res = read_class(x, path, param, pub + 1, text, len);
    if (res == STORE_ROW && !owned_by(*text, *len, sub)) {
        free(*text);
        *text = NULL;
        res = STORE_NONE;
    }
    return res;
}

/* Answer a read of the product named by 'param' ('pub' is BY_ID_PUBLIC or
 * BY_SLUG_PUBLIC; the privileged kind follows it in the enum). */
static void answer_read(struct http_exchange *x, const char *param, enum read_kind pub)
{
    const struct auth_claims *c;
    if (crud_optional_caller(x, &c) != 0)
        return;
    char *path = NULL;
    if (asprintf(&path, "%s/%s", pub == BY_ID_PUBLIC ? "/products" : "/products/slug", param) < 0) {
        http_problem(x, 500, "out of memory", NULL);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    enum store_result res;
    if (crud_is_admin(c))
        res = read_class(x, path, param, pub + 1, &text, &len);
    else if (c && !strcmp(c->role, "SELLER"))
        res = read_as_seller(x, path, param, pub, c->sub, &text, &len);
    else
        res = read_class(x, path, param, pub, &text, &len);
    free(path);
    crud_reply_text(x, res, text, len, product_missing);
}

static void get_product(struct http_exchange *x)
{
    const char *id = http_param_uuid(x, "id", "product");
    if (id)
        answer_read(x, id, BY_ID_PUBLIC);
}

static void get_product_by_slug(struct http_exchange *x)
{
    const char *slug = http_param(x, "slug");
    if (!slug_valid(slug, PRODUCT_SLUG_MAX + 20)) {
        product_missing(x);
        return;
    }
    answer_read(x, slug, BY_SLUG_PUBLIC);
}

/* ---- writes: shared steps ---- */

/* clang-format off */
static const char SQL_LOCK[] =
    "SELECT seller_id::text, is_active, deleted_at IS NOT NULL FROM products "
    "WHERE id = $1 FOR UPDATE";

/* Serialises the choice of a derived slug among writers deriving the same
 * one (the unique index would otherwise fail the second of two "Red Mug"s). */
static const char SQL_SLUG_LOCK[] =
    "SELECT pg_advisory_xact_lock(hashtext('catalog.products.slug:' || $1))";

/* The base itself, else base-2 .. base-999, else base and 8 random hex
 * digits: the first one no product (deleted ones included) holds. */
static const char SQL_FREE_SLUG[] =
    "SELECT COALESCE((SELECT c.s FROM (SELECT $1::text AS s, 1 AS n UNION ALL "
    "SELECT $1 || '-' || g, g FROM generate_series(2, 999) g) c "
    "WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.slug = c.s) ORDER BY c.n LIMIT 1), "
    "$1 || '-' || substr(md5(gen_random_uuid()::text), 1, 8))";

static const char SQL_CATEGORIES_CLEAR[] =
    "DELETE FROM product_categories WHERE product_id = $1";

static const char SQL_CATEGORIES_SET[] =
    "INSERT INTO product_categories (product_id, category_id) "
    "SELECT $1::uuid, c::uuid FROM jsonb_array_elements_text("
    "COALESCE(NULLIF($2::jsonb -> 'categories', 'null'::jsonb), '[]'::jsonb)) c";

static const char SQL_CATEGORIES_MISSING[] =
    "SELECT c FROM jsonb_array_elements_text($1::jsonb -> 'categories') c "
    "WHERE NOT EXISTS (SELECT 1 FROM categories k WHERE k.id = c::uuid)";
/* clang-format on */

/* What a write works on. */
struct product_write {
    const struct auth_claims *caller;
    const char *id;  /* the product (NULL until created) */
    json_t *body;    /* validated */
    char *body_text; /* body as JSON text; owned, see write_free */
    char *slug;      /* the slug to store, or NULL to keep; owned */
    char created_id[37];
};

static void write_free(struct product_write *w)
{
    free(w->body_text);
    free(w->slug);
}

/* Inside the transaction: lock the product and check the caller may write
 * it. 0, or -1 after sending 404/403/5xx. */
static int lock_writable(struct http_exchange *x, const struct product_write *w)
{
    const char *params[] = {w->id};
    PGresult *r = crud_exec(x, "products_lock", SQL_LOCK, 1, params);
    if (!r)
        return -1;
    bool found = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 2), "t");
    bool owner = found && !strcasecmp(PQgetvalue(r, 0, 0), w->caller->sub);
    bool active = found && !strcmp(PQgetvalue(r, 0, 1), "t");
    PQclear(r);
    if (!found || (!owner && !crud_is_admin(w->caller) && !active)) {
        product_missing(x);
        return -1;
    }
    if (!owner && !crud_is_admin(w->caller)) {
        http_problem(x, 403, "a seller may change only its own products", NULL);
        return -1;
    }
    return 0;
}

/* Replace the product's categories with the body's (absent or null: none). */
static int set_categories(struct http_exchange *x, const struct product_write *w)
{
    const char *params[] = {w->id, w->body_text};
    PGresult *r = crud_exec(x, "products_categories_clear", SQL_CATEGORIES_CLEAR, 1, params);
    if (!r)
        return -1;
    PQclear(r);
    r = crud_exec(x, "products_categories_set", SQL_CATEGORIES_SET, 2, params);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

/* The product as it now is, into *out, and 'event' with it in the outbox. */
static enum store_result finish_write(struct http_exchange *x, const struct product_write *w,
                                      const char *event, json_t **out)
{
    const char *params[] = {w->id};
    enum store_result res =
        store_json(x, READ_NAMES[BY_ID_ANY], read_sql[BY_ID_ANY], 1, params, out);
    if (res != STORE_ROW)
        return res;
    return crud_emit(x, event, *out) == 0 ? STORE_ROW : STORE_FAILED;
}

/* The ids of the body's categories that do not exist, as field errors.
 * Returns 0, or -1 after sending 5xx. */
static int check_categories_exist(struct http_exchange *x, const char *body_text, json_t **errors)
{
    const char *params[] = {body_text};
    PGresult *r = crud_exec(x, "products_categories_missing", SQL_CATEGORIES_MISSING, 1, params);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        char msg[96];
        snprintf(msg, sizeof msg, "category %s does not exist", PQgetvalue(r, i, 0));
        http_field_error(errors, "categories", msg);
    }
    PQclear(r);
    return 0;
}

/* Validate the body for 'mode' (categories against the database too) and
 * fill w->body/body_text. false after sending 422 or 5xx. */
static bool accept_body(struct http_exchange *x, struct product_write *w, enum product_mode mode)
{
    json_t *errors = NULL;
    w->body = x->body;
    product_validate(w->body, mode, &errors);
    if (!(w->body_text = store_body_text(x))) {
        json_decref(errors);
        return false;
    }
    if (!errors && json_is_array(json_object_get(w->body, "categories")) &&
        check_categories_exist(x, w->body_text, &errors) != 0) {
        json_decref(errors);
        return false;
    }
    if (errors) {
        crud_invalid(x, errors);
        return false;
    }
    const char *slug = json_string_value(json_object_get(w->body, "slug"));
    if (slug && !(w->slug = strdup(slug))) {
        http_problem(x, 500, "out of memory", NULL);
        return false;
    }
    return true;
}

/* ---- POST /products ---- */

/* clang-format off */
static const char SQL_INSERT[] =
    "INSERT INTO products (seller_id, name, slug, sku, description, price, currency, quantity, "
    "low_stock_threshold, attributes, is_active) "
    "SELECT $1::uuid, b->>'name', $2, b->>'sku', COALESCE(b->>'description', ''), "
    "(b->>'price')::bigint, b->>'currency', COALESCE((b->>'quantity')::int, 0), "
    "COALESCE((b->>'lowStockThreshold')::int, 5), "
    "COALESCE(NULLIF(b->'attributes', 'null'::jsonb), '{}'::jsonb), "
    "COALESCE((b->>'isActive')::boolean, true) "
    "FROM (SELECT $3::jsonb AS b) i RETURNING id::text";

/* The initial stock is history too: the first movement of a product that
 * starts with stock (a zero delta is no movement). */
static const char SQL_INITIAL_MOVEMENT[] =
    "INSERT INTO inventory_movements (product_id, delta, quantity_after, reason, note, actor_id) "
    "SELECT p.id, p.quantity, p.quantity, 'initial', 'stock given when the product was created', "
    "$2::uuid FROM products p WHERE p.id = $1 AND p.quantity > 0";
/* clang-format on */

/* A free slug derived from the body's name, into w->slug. 0 or -1 (sent). */
static int derive_slug(struct http_exchange *x, struct product_write *w)
{
    char *base = slug_from_text(json_string_value(json_object_get(w->body, "name")), 180);
    if (base && !*base) { /* nothing left of the name (emoji, CJK): a generic word */
        free(base);
        base = strdup("product");
    }
    if (!base) {
        http_problem(x, 500, "out of memory", NULL);
        return -1;
    }
    const char *params[] = {base};
    PGresult *r = crud_exec(x, "products_slug_lock", SQL_SLUG_LOCK, 1, params);
    if (r) {
        PQclear(r);
        r = crud_exec(x, "products_free_slug", SQL_FREE_SLUG, 1, params);
    }
    free(base);
    if (!r)
        return -1;
    w->slug = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!w->slug)
        http_problem(x, 500, "out of memory", NULL);
    return w->slug ? 0 : -1;
}

/* The owner of a new product: the body's sellerId for an administrator,
 * else the caller. */
static const char *new_owner(const struct product_write *w)
{
    const char *given = json_string_value(json_object_get(w->body, "sellerId"));
    return given && crud_is_admin(w->caller) ? given : w->caller->sub;
}

static int insert_row(struct http_exchange *x, struct product_write *w)
{
    const char *params[] = {new_owner(w), w->slug, w->body_text};
    PGresult *r = crud_exec(x, "products_insert", SQL_INSERT, 3, params);
    if (!r)
        return -1;
    snprintf(w->created_id, sizeof w->created_id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    w->id = w->created_id;
    return 0;
}

static enum store_result create_steps(struct http_exchange *x, void *arg, json_t **out)
{
    struct product_write *w = arg;
    if ((!w->slug && derive_slug(x, w) != 0) || insert_row(x, w) != 0 || set_categories(x, w) != 0)
        return STORE_FAILED;
    const char *params[] = {w->id, w->caller->sub};
    PGresult *r = crud_exec(x, "products_initial_movement", SQL_INITIAL_MOVEMENT, 2, params);
    if (!r)
        return STORE_FAILED;
    PQclear(r);
    return finish_write(x, w, "product.created", out);
}

/* A seller creates products for itself only. false after sending 403. */
static bool owner_allowed(struct http_exchange *x, const struct product_write *w)
{
    const char *given = json_string_value(json_object_get(w->body, "sellerId"));
    if (!given || crud_is_admin(w->caller) || !strcasecmp(given, w->caller->sub))
        return true;
    http_problem(x, 403, "only an administrator may create a product for another seller", NULL);
    return false;
}

static void create_product(struct http_exchange *x)
{
    struct product_write w = {.caller = crud_require(x, WRITERS)};
    if (!w.caller)
        return;
    json_t *out = NULL;
    if (accept_body(x, &w, PRODUCT_CREATE) && owner_allowed(x, &w)) {
        enum store_result res = store_tx(x, create_steps, &w, &out);
        if (res == STORE_ROW) {
            cache_invalidate();
            char location[64];
            snprintf(location, sizeof location, "/products/%s", w.created_id);
            http_set_header(x, "Location", location);
        }
        store_reply(x, res, out, 201, product_missing);
    }
    write_free(&w);
}

/* ---- PUT /products/:id and PATCH /products/:id ---- */

/* clang-format off */
/* PUT: every writable field from the body, absent optional ones at their
 * defaults; the slug is kept unless one is given. */
static const char SQL_REPLACE[] =
    "UPDATE products p SET name = b->>'name', sku = b->>'sku', "
    "description = COALESCE(b->>'description', ''), price = (b->>'price')::bigint, "
    "currency = b->>'currency', low_stock_threshold = COALESCE((b->>'lowStockThreshold')::int, 5), "
    "attributes = COALESCE(NULLIF(b->'attributes', 'null'::jsonb), '{}'::jsonb), "
    "is_active = COALESCE((b->>'isActive')::boolean, true), slug = COALESCE($3, p.slug), "
    "updated_at = now() FROM (SELECT $2::jsonb AS b) i WHERE p.id = $1";

/* PATCH, as a JSON merge patch (RFC 7386): a member absent keeps the
 * value, null resets an optional one to its default, and attributes merge
 * key by key (null removes a key; values are never objects, so one level
 * is the whole merge). */
#define PATCHED(col, key, value) \
    col " = CASE WHEN b ? '" key "' THEN " value " ELSE p." col " END"
static const char SQL_PATCH[] =
    "UPDATE products p SET "
    PATCHED("name", "name", "b->>'name'") ", "
    PATCHED("sku", "sku", "b->>'sku'") ", "
    PATCHED("description", "description", "COALESCE(b->>'description', '')") ", "
    PATCHED("price", "price", "(b->>'price')::bigint") ", "
    PATCHED("currency", "currency", "b->>'currency'") ", "
    PATCHED("low_stock_threshold", "lowStockThreshold",
            "COALESCE((b->>'lowStockThreshold')::int, 5)") ", "
    PATCHED("attributes", "attributes",
            "CASE WHEN jsonb_typeof(b->'attributes') = 'null' THEN '{}'::jsonb "
            "ELSE jsonb_strip_nulls(p.attributes || (b->'attributes')) END") ", "
    PATCHED("is_active", "isActive", "(b->>'isActive')::boolean") ", "
    "slug = COALESCE($3, p.slug), updated_at = now() "
    "FROM (SELECT $2::jsonb AS b) i WHERE p.id = $1";
/* clang-format on */

/* What differs between PUT and PATCH. */
struct update_kind {
    enum product_mode mode;
    const char *name, *sql;
};

static const struct update_kind REPLACE = {PRODUCT_REPLACE, "products_replace", SQL_REPLACE};
static const struct update_kind PATCH = {PRODUCT_PATCH, "products_patch", SQL_PATCH};

struct update {
    struct product_write w;
    const struct update_kind *kind;
};

static enum store_result update_steps(struct http_exchange *x, void *arg, json_t **out)
{
    struct update *u = arg;
    if (lock_writable(x, &u->w) != 0)
        return STORE_FAILED;
    const char *params[] = {u->w.id, u->w.body_text, u->w.slug};
    PGresult *r = crud_exec(x, u->kind->name, u->kind->sql, 3, params);
    if (!r)
        return STORE_FAILED;
    PQclear(r);
    bool cats = u->kind->mode == PRODUCT_REPLACE || json_object_get(u->w.body, "categories");
    if (cats && set_categories(x, &u->w) != 0)
        return STORE_FAILED;
    return finish_write(x, &u->w, "product.updated", out);
}

static void update_product(struct http_exchange *x, const struct update_kind *kind)
{
    struct update u = {.w = {.caller = crud_require(x, WRITERS)}, .kind = kind};
    if (!u.w.caller || !(u.w.id = http_param_uuid(x, "id", "product")))
        return;
    json_t *out = NULL;
    if (accept_body(x, &u.w, kind->mode)) {
        enum store_result res = store_tx(x, update_steps, &u, &out);
        if (res == STORE_ROW)
            cache_invalidate();
        store_reply(x, res, out, 200, product_missing);
    }
    write_free(&u.w);
}

static void put_product(struct http_exchange *x)
{
    update_product(x, &REPLACE);
}

static void patch_product(struct http_exchange *x)
{
    update_product(x, &PATCH);
}

/* ---- DELETE /products/:id ---- */

/* The SKU and slug stay taken: an SKU is never reused for another product
 * (see the schema), and an old link must not lead to a different one. */
static const char SQL_SOFT_DELETE[] =
    "UPDATE products SET deleted_at = now(), updated_at = now() WHERE id = $1 "
    "RETURNING json_build_object('id', id, 'sellerId', seller_id)";

static enum store_result delete_steps(struct http_exchange *x, void *arg, json_t **out)
{
    const struct product_write *w = arg;
    if (lock_writable(x, w) != 0)
        return STORE_FAILED;
    const char *params[] = {w->id};
    enum store_result res = store_json(x, "products_soft_delete", SQL_SOFT_DELETE, 1, params, out);
    if (res != STORE_ROW)
        return res;
    return crud_emit(x, "product.deleted", *out) == 0 ? STORE_ROW : STORE_FAILED;
}

static void delete_product(struct http_exchange *x)
{
    struct product_write w = {.caller = crud_require(x, WRITERS)};
    if (!w.caller || !(w.id = http_param_uuid(x, "id", "product")))
        return;
    json_t *out = NULL;
    enum store_result res = store_tx(x, delete_steps, &w, &out);
    if (res == STORE_ROW) {
        cache_invalidate();
        json_decref(out);
        http_json(x, 204, NULL);
        return;
    }
    store_reply(x, res, out, 204, product_missing);
}

int routes_products(struct http_server *srv)
{
    if (build_read_sql() != 0)
        return -1;
    int rc = 0;
    rc |= http_route(srv, "GET", "/products/slug/:slug", get_product_by_slug, 0, NULL);
    rc |= http_route(srv, "GET", "/products/:id", get_product, 0, NULL);
    rc |= http_route(srv, "POST", "/products", create_product, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "PUT", "/products/:id", put_product, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "PATCH", "/products/:id", patch_product, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "DELETE", "/products/:id", delete_product, 0, NULL);
    return rc;
}
