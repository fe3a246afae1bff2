/*
 * catalog.h - what the catalog service's files share (not used by other
 * services).
 *
 * Layout, one job per file:
 *   main.c          service spec, start-up, the route table
 *   product_json.c  the one SELECT list and JSON shape of a product
 *   cache.c         the Redis read cache (versioned, see below)
 *   products.c      GET/POST/PUT/PATCH/DELETE /products/:id, GET /products/slug/:slug
 *   search.c        GET /products: full-text search, filters, sort, pages, facets
 *   categories.c    GET /categories (tree) and category CRUD
 *   inventory.c     GET /inventory/:productId, stock adjustments, movements
 *   images.c        product image upload (libvips variants) and serving
 *
 * Roles: ADMIN and SUPERADMIN act on any product, a SELLER on its own
 * products only (products.seller_id = token sub), a CUSTOMER never; reads of
 * active products are public. Money is integer minor units + currency.
 */
#ifndef CATALOG_H
#define CATALOG_H

#include "core/http.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- routes (each file registers its own) ---- */
int routes_products(struct http_server *srv);
int routes_search(struct http_server *srv);
int routes_categories(struct http_server *srv);
int routes_inventory(struct http_server *srv);
int routes_images(struct http_server *srv);

/* ---- product_json.c ---- */

/* The SELECT list of a product as one JSON object (column "product") over
 * "products p": every field of the public shape, with its category ids and
 * images. Use as: "SELECT " PRODUCT_JSON " FROM products p WHERE ...". */
extern const char PRODUCT_JSON[];

/* 404 problem+json "product not found": unknown, deleted, or hidden from
 * this caller (the answer does not tell which). */
void product_missing(struct http_exchange *x);

/* PostgreSQL's json text is spaced out ("{"id" : ...}"): the same value
 * compacted, so every read answers the same bytes for the same data
 * (products, lists, search). Caller frees; NULL on OOM or unparsable text. */
char *json_text_compact(const char *text, size_t *len);

/* ---- cache.c: Redis read cache ----
 *
 * Reads (one product, a list or search page, the category tree) are cached
 * as their JSON text under a key that includes the catalog's cache version;
 * every committed write bumps the version (cache_invalidate), so the next
 * read misses and sees the write. Entries also expire after
 * CATALOG_CACHE_TTL seconds. When Redis is unavailable reads go to
 * PostgreSQL: the cache is never a source of truth. */

/* The cached text of 'key' (caller frees), or NULL on a miss or error. */
char *cache_get(const char *key, size_t *len);
/* Store 'text' under 'key' for the current version. Best effort. */
void cache_put(const char *key, const char *text, size_t len);
/* After a committed write: every cached read is stale. */
void cache_invalidate(void);

#endif
