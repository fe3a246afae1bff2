#!/usr/bin/env bash
# catalog-gen.sh - fill a catalog database with N generated products (default
# 100000) for benchmarks, in SQL (generate_series), in seconds.
#
#   bench/catalog-gen.sh [DATABASE_URL] [N]
#
# DATABASE_URL defaults to the dev platform's catalog database (CATALOG_DATABASE_URL
# from var/dev/platform.env when there is one). What it writes:
#   - a category tree of 8 roots with 6 children each (56 categories, slugs "gen-*")
#   - N products (SKU "GEN-<n>"): names from word lists (brand, adjective,
#     noun of its category, model number), a description, prices from 1.99 to
#     ~2500.00 in minor units, stock (every 10th out of stock), attributes
#     {brand, color, size, material, weight}, 20 sellers, creation times
#     spread over the last year, each in one leaf category.
# Earlier generated rows (slug "gen-*", SKU "GEN-*") are replaced, so it can
# run again; nothing else is touched. Deterministic: the same N gives the same data.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${1:-}
if [[ -z $DB && -f var/dev/platform.env ]]; then
  DB=$(sed -n 's/^CATALOG_DATABASE_URL=//p' var/dev/platform.env | tr -d "'\"")
fi
: "${DB:?usage: bench/catalog-gen.sh DATABASE_URL [N]}"
N=${2:-100000}
[[ $N =~ ^[0-9]+$ ]] || { echo "N must be a number" >&2; exit 2; }

start=$SECONDS
psql "$DB" -v ON_ERROR_STOP=1 -q -v n="$N" <<'SQL'
BEGIN;
DELETE FROM product_categories WHERE product_id IN (SELECT id FROM products WHERE sku LIKE 'GEN-%');
DELETE FROM products WHERE sku LIKE 'GEN-%';
DELETE FROM categories WHERE slug LIKE 'gen-%' AND parent_id IS NOT NULL;
DELETE FROM categories WHERE slug LIKE 'gen-%';

CREATE TEMP TABLE words (root int, name text, nouns text[]) ON COMMIT DROP;
INSERT INTO words VALUES
 (1, 'Electronics', ARRAY['Phone','Laptop','Tablet','Headphones','Speaker','Camera']),
 (2, 'Home', ARRAY['Lamp','Chair','Table','Pillow','Blanket','Shelf']),
 (3, 'Kitchen', ARRAY['Kettle','Blender','Knife','Pan','Toaster','Mug']),
 (4, 'Fashion', ARRAY['Jacket','Sneakers','Shirt','Dress','Scarf','Backpack']),
 (5, 'Sports', ARRAY['Bicycle','Helmet','Racket','Yoga Mat','Dumbbell','Tent']),
 (6, 'Toys', ARRAY['Puzzle','Robot','Doll','Blocks','Kite','Drone']),
 (7, 'Garden', ARRAY['Hose','Shovel','Planter','Mower','Sprinkler','Gloves']),
 (8, 'Books', ARRAY['Novel','Cookbook','Atlas','Biography','Comic','Dictionary']);

INSERT INTO categories (name, slug, path, depth, sort_order)
SELECT name, 'gen-' || lower(name), 'gen-' || lower(name), 0, root FROM words;
INSERT INTO categories (parent_id, name, slug, path, depth, sort_order)
SELECT c.id, w.nouns[j], 'gen-' || lower(w.name) || '-' || replace(lower(w.nouns[j]), ' ', '-'),
       c.path || '/gen-' || lower(w.name) || '-' || replace(lower(w.nouns[j]), ' ', '-'), 1, j
FROM words w JOIN categories c ON c.slug = 'gen-' || lower(w.name), generate_series(1, 6) j;

INSERT INTO products (seller_id, name, slug, sku, description, price, currency, quantity,
                      attributes, created_at, updated_at)
SELECT md5('seller-' || (i % 20))::uuid,
       brand || ' ' || adj || ' ' || noun || ' ' || model,
       'gen-' || i,
       'GEN-' || i,
       'The ' || adj || ' ' || noun || ' by ' || brand || ' in ' || color || ', ' || material
         || '. Model ' || model || ': built to last, easy to use, a favourite of our customers.',
       199 + (h % 250000),
       'EUR',
       CASE WHEN i % 10 = 0 THEN 0 ELSE h % 200 + 1 END,
       jsonb_build_object('brand', brand, 'color', color, 'size', size, 'material', material,
                          'weight', 100 + h % 5000),
       now() - (i * interval '5 minutes'),
       now() - (i * interval '5 minutes')
FROM (
  SELECT i, h,
         (ARRAY['Acme','Nordic','Zenith','Orbit','Vertex','Lumen','Apex','Solace','Kestrel','Nimbus',
                'Quanta','Boreal','Cobalt','Ember','Fable','Granite','Halcyon','Indigo','Juniper','Kinetic'])[1 + h % 20] brand,
         (ARRAY['Classic','Compact','Deluxe','Ultra','Smart','Portable','Wireless','Eco','Premium','Mini',
                'Pro','Vintage','Modern','Rugged','Silent','Turbo','Slim','Solar','Foldable','Digital'])[1 + (h / 20) % 20] adj,
         (SELECT nouns[1 + (i / 8) % 6] FROM words WHERE root = 1 + i % 8) noun,
         (ARRAY['black','white','red','blue','green','grey','yellow','pink'])[1 + (h / 400) % 8] color,
         (ARRAY['XS','S','M','L','XL'])[1 + (h / 3200) % 5] size,
         (ARRAY['steel','wood','cotton','plastic','glass','leather'])[1 + (h / 16000) % 6] material,
         upper(substr(md5(i::text), 1, 2)) || '-' || (100 + h % 900) model
  FROM (SELECT i, abs(hashint4(i)) h FROM generate_series(1, :n) i) s
) g;

-- Each product in the leaf category of its noun.
INSERT INTO product_categories (product_id, category_id)
SELECT p.id, c.id
FROM products p
JOIN words w ON w.root = 1 + (substr(p.sku, 5)::int) % 8
JOIN categories c ON c.slug = 'gen-' || lower(w.name) || '-'
                 || replace(lower(w.nouns[1 + (substr(p.sku, 5)::int / 8) % 6]), ' ', '-')
WHERE p.sku LIKE 'GEN-%';
COMMIT;
ANALYZE categories;
VACUUM ANALYZE products; -- the visibility map: index-only counts
ANALYZE product_categories;
SQL
echo "generated $N products in $((SECONDS - start)) s into the catalog database"
# Reads are cached: retire what the cache holds (best effort).
if [[ -n ${REDIS_URL:-} ]] && command -v redis-cli >/dev/null; then
  redis-cli -u "$REDIS_URL" INCR catalog:cache:version >/dev/null || true
fi
