/*
 * product_json.c - the JSON shape of a product, built by PostgreSQL.
 *
 * One definition serves every read (one product, lists, search), so the
 * shape cannot drift between endpoints. Timestamps are UTC ISO 8601 with
 * milliseconds; money is integer minor units with its currency.
 */
#include "catalog.h"

#include <string.h>

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

const char PRODUCT_JSON[] =
    "json_build_object("
    "'id', p.id, 'sellerId', p.seller_id, 'name', p.name, 'slug', p.slug, 'sku', p.sku, "
    "'description', p.description, 'price', p.price, 'currency', p.currency, "
    "'quantity', p.quantity, 'inStock', p.quantity > 0, "
    "'lowStockThreshold', p.low_stock_threshold, 'attributes', p.attributes, "
    "'isActive', p.is_active, "
    "'categories', COALESCE((SELECT json_agg(pc.category_id ORDER BY pc.category_id) "
    "  FROM product_categories pc WHERE pc.product_id = p.id), '[]'::json), "
    "'images', COALESCE((SELECT json_agg(json_build_object("
    "    'id', i.id, 'alt', i.alt, 'width', i.width, 'height', i.height, "
    "    'position', i.position, 'url', u.base || 'large', "
    "    'variants', json_build_object("
    "      'thumb', u.base || 'thumb', 'medium', u.base || 'medium', 'large', u.base || 'large')) "
    "    ORDER BY i.position, i.created_at) "
    "  FROM product_images i, "
    "  LATERAL (SELECT '/products/' || p.id || '/images/' || i.id || '/' AS base) u "
    "  WHERE i.product_id = p.id), '[]'::json), "
    "'createdAt', " ISO("p.created_at") ", 'updatedAt', " ISO("p.updated_at") ") AS product";

char *json_text_compact(const char *text, size_t *len)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    if (s)
        *len = strlen(s);
    return s;
}

void product_missing(struct http_exchange *x)
{
    http_problem(x, 404, "product not found", NULL);
}
