/*
 * categories.c - the category tree: GET /categories (nested), GET
 * /categories/:id, and POST/PATCH/DELETE for ADMIN and SUPERADMIN.
 *
 * 'path' is the slugs from the root ("electronics/phones") and 'depth' the
 * number of ancestors; both are kept current here. Slugs are unique across
 * the whole tree, so paths are too, and rewriting a moved subtree's paths
 * can never collide with another category's.
 *
 * Every category write takes one transaction-scoped advisory lock first:
 * writes are rare, and serialising them makes the cycle and depth checks
 * of a move exact (two concurrent moves could otherwise each pass their
 * check and together make a cycle).
 */
#include "crud_common.h"
#include "slug.h"

#include "core/db.h"
#include "core/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CATEGORY_NAME_MAX 100
#define CATEGORY_SLUG_MAX 100
#define CATEGORY_DESCRIPTION_MAX 2000
#define CATEGORY_DEPTH_MAX 10
#define SORT_ORDER_MAX 1000000

static const char *const ADMINS[] = {"ADMIN", "SUPERADMIN", NULL};

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* clang-format off */
#define CATEGORY_JSON                                                                             \
    "json_build_object('id', c.id, 'name', c.name, 'slug', c.slug, 'path', c.path, "             \
    "'depth', c.depth, 'description', c.description, 'sortOrder', c.sort_order, "                \
    "'parentId', c.parent_id, 'createdAt', " ISO("c.created_at") ", "                             \
    "'updatedAt', " ISO("c.updated_at") ")"

/* Parents before children (by depth); siblings in display order. */
static const char SQL_ALL[] =
    "SELECT COALESCE(json_agg(" CATEGORY_JSON " ORDER BY c.depth, c.sort_order, c.name, c.id), "
    "'[]'::json) FROM categories c";

static const char SQL_GET[] = "SELECT " CATEGORY_JSON " FROM categories c WHERE c.id = $1";

static const char SQL_TREE_LOCK[] =
    "SELECT pg_advisory_xact_lock(hashtext('catalog.categories.tree'))";
/* clang-format on */

static void category_missing(struct http_exchange *x)
{
    http_problem(x, 404, "category not found", NULL);
}

/* ---- reads ---- */

/* Nest the flat, parents-first list 'all' (stolen): each node gets
 * "children", roots are returned. New reference, NULL on OOM. */
static json_t *nest(json_t *all)
{
    json_t *roots = json_array(), *by_id = json_object();
    size_t i;
    json_t *node;
    bool ok = roots && by_id;
    json_array_foreach(all, i, node)
    {
        if (!ok)
            break;
        const char *id = json_string_value(json_object_get(node, "id"));
        const char *pid = json_string_value(json_object_get(node, "parentId"));
        json_t *parent = pid ? json_object_get(by_id, pid) : NULL;
        json_t *siblings = parent ? json_object_get(parent, "children") : roots;
        ok = id && json_object_set_new(node, "children", json_array()) == 0 &&
             json_object_set(by_id, id, node) == 0 && json_array_append(siblings, node) == 0;
    }
    json_decref(by_id);
    json_decref(all);
    if (!ok) {
        json_decref(roots);
        return NULL;
    }
    return roots;
}

/* The nested tree as JSON text (caller frees), or NULL after sending. */
static char *tree_text(struct http_exchange *x)
{
    json_t *all = NULL;
    enum store_result res = store_json(x, "categories_all", SQL_ALL, 0, NULL, &all);
    if (res == STORE_FAILED)
        return NULL;
    json_t *tree = nest(all ? all : json_array());
    char *text = tree ? json_dumps(tree, JSON_COMPACT) : NULL;
    json_decref(tree);
    if (!text)
        http_problem(x, 500, "out of memory", NULL);
    return text;
}

static void get_tree(struct http_exchange *x)
{
    size_t len = 0;
    char *text = cache_get("/categories", &len);
    if (!text) {
        if (!(text = tree_text(x)))
            return;
        len = strlen(text);
        cache_put("/categories", text, len);
    }
    http_send_json_etag(x, text, len);
    free(text);
}

static void get_category(struct http_exchange *x)
{
    const char *id = http_param_uuid(x, "id", "category");
    if (!id)
        return;
    char *key = NULL, *text = NULL;
    size_t len = 0;
    if (asprintf(&key, "/categories/%s", id) < 0) {
        http_problem(x, 500, "out of memory", NULL);
        return;
    }
    const char *params[] = {id};
    enum store_result res =
        crud_cached_text(x, key, "categories_get", SQL_GET, 1, params, &text, &len);
    free(key);
    crud_reply_text(x, res, text, len, category_missing);
}

/* ---- input ---- */

static bool not_blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] != '\0';
}

/* Check a POST (create) or PATCH body; appends to *errors. */
static void validate_category(json_t *body, bool create, json_t **errors)
{
    static const char *const KNOWN[] = {"name",        "slug",      "parentId",
                                        "description", "sortOrder", NULL};
    v_no_unknown(body, KNOWN, errors);
    json_t *name_v = json_object_get(body, "name");
    if (json_is_null(name_v) && !create)
        http_field_error(errors, "name", "must not be null");
    const char *name = v_string(body, "name", create, 1, CATEGORY_NAME_MAX, true, errors);
    if (name && !not_blank(name))
        http_field_error(errors, "name", "must not be blank");
    json_t *slug = json_object_get(body, "slug");
    if (slug && !(create && json_is_null(slug)) &&
        !slug_valid(json_string_value(slug), CATEGORY_SLUG_MAX))
        http_field_error(errors, "slug",
                         "must be 1 to 100 characters: lower-case letters and digits in words "
                         "joined by single hyphens");
    json_t *parent = json_object_get(body, "parentId");
    if (parent && !json_is_null(parent) && !valid_uuid(json_string_value(parent)))
        http_field_error(errors, "parentId", "must be a category id (UUID) or null");
    (void)v_string(body, "description", false, 0, CATEGORY_DESCRIPTION_MAX, false, errors);
    long long order;
    if (!json_is_null(json_object_get(body, "sortOrder")))
        (void)v_int(body, "sortOrder", false, -SORT_ORDER_MAX, SORT_ORDER_MAX, &order, errors);
}

/* Validate x->body; false after sending 422. */
static bool accept_category(struct http_exchange *x, bool create)
{
    json_t *errors = NULL;
    validate_category(x->body, create, &errors);
    if (!errors)
        return true;
    crud_invalid(x, errors);
    return false;
}

/* ---- shared write steps ---- */

/* What a category write works on. */
struct category_write {
    const char *id;  /* the category (NULL until created) */
    char *body_text; /* owned */
    char *slug;      /* owned; the slug to store */
    json_t *body;
    char created_id[37];
};

/* A tree node as a write needs it. */
struct node {
    bool found;
    char path[1200]; /* 11 slugs of <= 100 bytes and their separators fit */
    int depth;
};

/* Look up category 'id' (locked), its path and depth. 0, or -1 (sent). */
static int load_node(struct http_exchange *x, const char *id, struct node *n)
{
    const char *params[] = {id};
    PGresult *r =
        crud_exec(x, "categories_node",
                  "SELECT path, depth FROM categories WHERE id = $1 FOR UPDATE", 1, params);
    if (!r)
        return -1;
    n->found = PQntuples(r) == 1 && (size_t)PQgetlength(r, 0, 0) < sizeof n->path;
    if (n->found) {
        snprintf(n->path, sizeof n->path, "%s", PQgetvalue(r, 0, 0));
        n->depth = atoi(PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return 0;
}

static int tree_lock(struct http_exchange *x)
{
    PGresult *r = crud_exec(x, "categories_tree_lock", SQL_TREE_LOCK, 0, NULL);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

/* The category as it now is, into *out, and 'event' with it in the outbox. */
static enum store_result finish_category(struct http_exchange *x, const char *id, const char *event,
                                         json_t **out)
{
    const char *params[] = {id};
    enum store_result res = store_json(x, "categories_get", SQL_GET, 1, params, out);
    if (res != STORE_ROW)
        return res;
    return crud_emit(x, event, *out) == 0 ? STORE_ROW : STORE_FAILED;
}

static void parent_error(struct http_exchange *x, const char *msg)
{
    json_t *errors = NULL;
    http_field_error(&errors, "parentId", msg);
    crud_invalid(x, errors);
}

/* The parent named by the body (NULL or absent: a root): p->found false for
 * a root. 0, or -1 after sending 422 (no such category) or 5xx. */
static int load_parent(struct http_exchange *x, json_t *body, struct node *p)
{
    const char *pid = json_string_value(json_object_get(body, "parentId"));
    p->found = false;
    p->depth = -1;
    if (!pid)
        return 0;
    if (load_node(x, pid, p) != 0)
        return -1;
    if (!p->found) {
        parent_error(x, "no such category");
        return -1;
    }
    return 0;
}

/* ---- POST /categories ---- */

/* clang-format off */
static const char SQL_FREE_SLUG[] =
    "SELECT COALESCE((SELECT s.s FROM (SELECT $1::text AS s, 1 AS n UNION ALL "
    "SELECT $1 || '-' || g, g FROM generate_series(2, 999) g) s "
    "WHERE NOT EXISTS (SELECT 1 FROM categories c WHERE c.slug = s.s) ORDER BY s.n LIMIT 1), "
    "$1 || '-' || substr(md5(gen_random_uuid()::text), 1, 8))";

static const char SQL_INSERT[] =
    "INSERT INTO categories AS c (parent_id, name, slug, path, depth, description, sort_order) "
    "SELECT (b->>'parentId')::uuid, b->>'name', $2, $3, $4::int, "
    "COALESCE(b->>'description', ''), COALESCE((b->>'sortOrder')::int, 0) "
    "FROM (SELECT $1::jsonb AS b) i RETURNING c.id::text";
/* clang-format on */

/* A free slug from the body's name into w->slug (the tree lock is held, so
 * no other writer can take it before the insert). 0 or -1 (sent). */
static int derive_category_slug(struct http_exchange *x, struct category_write *w)
{
    char *base = slug_from_text(json_string_value(json_object_get(w->body, "name")), 90);
    if (base && !*base) {
        free(base);
        base = strdup("category");
    }
    if (!base) {
        http_problem(x, 500, "out of memory", NULL);
        return -1;
    }
    const char *params[] = {base};
    PGresult *r = crud_exec(x, "categories_free_slug", SQL_FREE_SLUG, 1, params);
    free(base);
    if (!r)
        return -1;
    w->slug = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!w->slug)
        http_problem(x, 500, "out of memory", NULL);
    return w->slug ? 0 : -1;
}

static int insert_category(struct http_exchange *x, struct category_write *w,
                           const struct node *parent)
{
    char *path = NULL, depth[16];
    if (asprintf(&path, "%s%s%s", parent->found ? parent->path : "", parent->found ? "/" : "",
                 w->slug) < 0) {
        http_problem(x, 500, "out of memory", NULL);
        return -1;
    }
    snprintf(depth, sizeof depth, "%d", parent->depth + 1);
    const char *params[] = {w->body_text, w->slug, path, depth};
    PGresult *r = crud_exec(x, "categories_insert", SQL_INSERT, 4, params);
    free(path);
    if (!r)
        return -1;
    snprintf(w->created_id, sizeof w->created_id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    w->id = w->created_id;
    return 0;
}

static enum store_result create_steps(struct http_exchange *x, void *arg, json_t **out)
{
    struct category_write *w = arg;
    struct node parent;
    if (tree_lock(x) != 0 || load_parent(x, w->body, &parent) != 0)
        return STORE_FAILED;
    if (parent.depth + 1 > CATEGORY_DEPTH_MAX) {
        parent_error(x, "is too deep: categories nest at most 10 levels below the roots");
        return STORE_FAILED;
    }
    if ((!w->slug && derive_category_slug(x, w) != 0) || insert_category(x, w, &parent) != 0)
        return STORE_FAILED;
    return finish_category(x, w->id, "category.created", out);
}

/* Fill the body fields of 'w' from x->body. false after sending 500. */
static bool take_body(struct http_exchange *x, struct category_write *w)
{
    w->body = x->body;
    const char *slug = json_string_value(json_object_get(w->body, "slug"));
    if ((w->body_text = store_body_text(x)) && (!slug || (w->slug = strdup(slug))))
        return true;
    if (w->body_text)
        http_problem(x, 500, "out of memory", NULL);
    return false;
}

static void create_category(struct http_exchange *x)
{
    if (!crud_require(x, ADMINS) || !accept_category(x, true))
        return;
    struct category_write w = {0};
    json_t *out = NULL;
    if (take_body(x, &w)) {
        enum store_result res = store_tx(x, create_steps, &w, &out);
        if (res == STORE_ROW) {
            cache_invalidate();
            char location[64];
            snprintf(location, sizeof location, "/categories/%s", w.created_id);
            http_set_header(x, "Location", location);
        }
        store_reply(x, res, out, 201, category_missing);
    }
    free(w.body_text);
    free(w.slug);
}

/* ---- PATCH /categories/:id ---- */

/* clang-format off */
static const char SQL_PATCH[] =
    "UPDATE categories c SET "
    "name = CASE WHEN b ? 'name' THEN b->>'name' ELSE c.name END, "
    "description = CASE WHEN b ? 'description' THEN COALESCE(b->>'description', '') "
    "ELSE c.description END, "
    "sort_order = CASE WHEN b ? 'sortOrder' THEN COALESCE((b->>'sortOrder')::int, 0) "
    "ELSE c.sort_order END, "
    "parent_id = CASE WHEN b ? 'parentId' THEN (b->>'parentId')::uuid ELSE c.parent_id END, "
    "slug = COALESCE($3, c.slug), updated_at = now() "
    "FROM (SELECT $2::jsonb AS b) i WHERE c.id = $1";

/* The subtree rooted at the node whose path is $1 moves to path $2 and
 * its depths shift by $3 (slugs hold no LIKE metacharacters). */
static const char SQL_REPATH[] =
    "UPDATE categories SET path = $2 || substr(path, length($1) + 1), "
    "depth = depth + $3::int, updated_at = now() "
    "WHERE path = $1 OR path LIKE $1 || '/%'";

static const char SQL_SUBTREE_HEIGHT[] =
    "SELECT max(depth) - min(depth) FROM categories WHERE path = $1 OR path LIKE $1 || '/%'";
/* clang-format on */

/* Where a PATCH puts the category. */
struct placement {
    struct node self, parent;
    bool moves;     /* the body names a parent (or null: the roots) */
    char *new_path; /* owned */
};

/* True when path 'p' is 'root' or below it. */
static bool within(const char *p, const char *root)
{
    size_t n = strlen(root);
    return !strncmp(p, root, n) && (p[n] == '\0' || p[n] == '/');
}

/* How many levels the subtree rooted at 'path' spans below its root. */
static int subtree_height(struct http_exchange *x, const char *path, int *height)
{
    const char *params[] = {path};
    PGresult *r = crud_exec(x, "categories_subtree_height", SQL_SUBTREE_HEIGHT, 1, params);
    if (!r)
        return -1;
    *height = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

/* Check a move of 'pl->self' under 'pl->parent': not into its own subtree,
 * not deeper than the limit. 0, or -1 after sending 422 or 5xx. */
static int check_move(struct http_exchange *x, const struct placement *pl)
{
    if (pl->parent.found && within(pl->parent.path, pl->self.path)) {
        parent_error(x, "cannot be the category itself or one of its descendants");
        return -1;
    }
    int height = 0;
    if (subtree_height(x, pl->self.path, &height) != 0)
        return -1;
    if (pl->parent.depth + 1 + height > CATEGORY_DEPTH_MAX) {
        parent_error(x, "is too deep: categories nest at most 10 levels below the roots");
        return -1;
    }
    return 0;
}

/* The new path of the category: under its new (or old) parent, with its
 * new (or old) slug. 0 or -1 (sent). */
static int place(struct http_exchange *x, const struct category_write *w, struct placement *pl)
{
    const char *old_slug = strrchr(pl->self.path, '/');
    old_slug = old_slug ? old_slug + 1 : pl->self.path;
    const char *slug = w->slug ? w->slug : old_slug;
    int prefix_len = 0;
    const char *prefix = "";
    if (pl->moves) {
        prefix = pl->parent.found ? pl->parent.path : "";
        prefix_len = (int)strlen(prefix);
    } else if (old_slug != pl->self.path) {
        prefix = pl->self.path;
        prefix_len = (int)(old_slug - 1 - pl->self.path);
    }
    if (asprintf(&pl->new_path, "%.*s%s%s", prefix_len, prefix, prefix_len ? "/" : "", slug) < 0) {
        http_problem(x, 500, "out of memory", NULL);
        return -1;
    }
    return 0;
}

static int repath(struct http_exchange *x, const struct placement *pl)
{
    char delta[16];
    int new_depth = pl->moves ? pl->parent.depth + 1 : pl->self.depth;
    snprintf(delta, sizeof delta, "%d", new_depth - pl->self.depth);
    const char *params[] = {pl->self.path, pl->new_path, delta};
    PGresult *r = crud_exec(x, "categories_repath", SQL_REPATH, 3, params);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

/* Lock the tree, find the category and where it goes. 0, or -1 (sent). */
static int locate(struct http_exchange *x, const struct category_write *w, struct placement *pl)
{
    if (tree_lock(x) != 0 || load_node(x, w->id, &pl->self) != 0)
        return -1;
    if (!pl->self.found) {
        category_missing(x);
        return -1;
    }
    pl->moves = json_object_get(w->body, "parentId") != NULL;
    if (pl->moves && (load_parent(x, w->body, &pl->parent) != 0 || check_move(x, pl) != 0))
        return -1;
    return place(x, w, pl);
}

static enum store_result patch_steps(struct http_exchange *x, void *arg, json_t **out)
{
    struct category_write *w = arg;
    struct placement pl = {.moves = false, .new_path = NULL};
    enum store_result res = STORE_FAILED;
    if (locate(x, w, &pl) == 0) {
        const char *params[] = {w->id, w->body_text, w->slug};
        PGresult *r = crud_exec(x, "categories_patch", SQL_PATCH, 3, params);
        if (r) {
            PQclear(r);
            if (repath(x, &pl) == 0)
                res = finish_category(x, w->id, "category.updated", out);
        }
    }
    free(pl.new_path);
    return res;
}

static void patch_category(struct http_exchange *x)
{
    struct category_write w = {0};
    if (!crud_require(x, ADMINS) || !(w.id = http_param_uuid(x, "id", "category")) ||
        !accept_category(x, false))
        return;
    json_t *out = NULL;
    if (take_body(x, &w)) {
        enum store_result res = store_tx(x, patch_steps, &w, &out);
        if (res == STORE_ROW)
            cache_invalidate();
        store_reply(x, res, out, 200, category_missing);
    }
    free(w.body_text);
    free(w.slug);
}

/* ---- DELETE /categories/:id ---- */

/* clang-format off */
static const char SQL_IN_USE[] =
    "SELECT EXISTS (SELECT 1 FROM categories WHERE parent_id = $1), "
    "EXISTS (SELECT 1 FROM product_categories WHERE category_id = $1)";

static const char SQL_DELETE[] =
    "DELETE FROM categories c WHERE c.id = $1 "
    "RETURNING json_build_object('id', c.id, 'path', c.path)";
/* clang-format on */

/* 409 when the category has children or products. 0, or -1 (sent). */
static int check_unused(struct http_exchange *x, const char *id)
{
    const char *params[] = {id};
    PGresult *r = crud_exec(x, "categories_in_use", SQL_IN_USE, 1, params);
    if (!r)
        return -1;
    bool children = !strcmp(PQgetvalue(r, 0, 0), "t");
    bool products = !strcmp(PQgetvalue(r, 0, 1), "t");
    PQclear(r);
    if (children)
        http_problem(x, 409, "the category has child categories: move or delete them first", NULL);
    else if (products)
        http_problem(x, 409,
                     "products (deleted ones included) are in this category: take them out "
                     "first",
                     NULL);
    return children || products ? -1 : 0;
}

static enum store_result delete_steps(struct http_exchange *x, void *arg, json_t **out)
{
    const char *id = arg;
    struct node self;
    if (tree_lock(x) != 0 || load_node(x, id, &self) != 0)
        return STORE_FAILED;
    if (!self.found)
        return STORE_NONE;
    if (check_unused(x, id) != 0)
        return STORE_FAILED;
    const char *params[] = {id};
    enum store_result res = store_json(x, "categories_delete", SQL_DELETE, 1, params, out);
    if (res != STORE_ROW)
        return res;
    return crud_emit(x, "category.deleted", *out) == 0 ? STORE_ROW : STORE_FAILED;
}

static void delete_category(struct http_exchange *x)
{
    const char *id;
    if (!crud_require(x, ADMINS) || !(id = http_param_uuid(x, "id", "category")))
        return;
    json_t *out = NULL;
    enum store_result res = store_tx(x, delete_steps, (void *)id, &out);
    if (res == STORE_ROW) {
        cache_invalidate();
        json_decref(out);
        http_json(x, 204, NULL);
        return;
    }
    store_reply(x, res, out, 204, category_missing);
}

int routes_categories(struct http_server *srv)
{
    int rc = 0;
    rc |= http_route(srv, "GET", "/categories", get_tree, 0, NULL);
    rc |= http_route(srv, "GET", "/categories/:id", get_category, 0, NULL);
    rc |= http_route(srv, "POST", "/categories", create_category, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "PATCH", "/categories/:id", patch_category, HTTP_JSON_BODY, NULL);
    rc |= http_route(srv, "DELETE", "/categories/:id", delete_category, 0, NULL);
    return rc;
}
