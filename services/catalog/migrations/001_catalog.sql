-- catalog service: categories, products, images, inventory.
--
-- Money is integer minor units plus an ISO 4217 code. Product attributes are
-- free-form JSONB (the documents the original design kept in MongoDB), with a
-- GIN index for attribute equality filters. The length and format limits
-- repeat the API validation as a last line of defence.

-- pg_trgm (typo-tolerant name search) is a trusted extension: the database
-- owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- A tree: 'path' is the slugs from the root, "electronics/phones", so the
-- descendants of a category are path = p OR path LIKE p || '/%' (an index
-- range scan with text_pattern_ops). The service keeps 'path' and 'depth'
-- current when a category moves (its subtree's paths are rewritten).
CREATE TABLE categories (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    parent_id   uuid REFERENCES categories (id) ON DELETE RESTRICT,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 100),
    path        text NOT NULL UNIQUE,
    depth       int NOT NULL DEFAULT 0 CHECK (depth BETWEEN 0 AND 10),
    description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    sort_order  int NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE INDEX categories_parent_idx ON categories (parent_id);
CREATE INDEX categories_path_idx ON categories (path text_pattern_ops);

CREATE TABLE products (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seller_id           uuid NOT NULL,
    name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    slug                text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 220),
    sku                 text NOT NULL CHECK (char_length(sku) BETWEEN 1 AND 64),
    description         text NOT NULL DEFAULT '' CHECK (char_length(description) <= 20000),
    price               bigint NOT NULL CHECK (price >= 0),          -- minor units
    currency            text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    quantity            int NOT NULL DEFAULT 0 CHECK (quantity >= 0), -- in stock
    low_stock_threshold int NOT NULL DEFAULT 5 CHECK (low_stock_threshold >= 0),
    attributes          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    is_active           boolean NOT NULL DEFAULT true,
    deleted_at          timestamptz,                                  -- soft delete
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- Ranked full-text search: the name weighs more than the description.
    -- 'simple' (no stemming, no stop words) suits product names, SKUs and
    -- brands in any language; typos are pg_trgm's job (name_trgm below).
    search              tsvector GENERATED ALWAYS AS (
                            setweight(to_tsvector('simple', name), 'A') ||
                            setweight(to_tsvector('simple', sku), 'A') ||
                            setweight(to_tsvector('simple', description), 'B')) STORED
);
-- SKUs are unique whatever their case, deleted products included (an SKU is
-- never reused for a different product).
CREATE UNIQUE INDEX products_sku_key ON products (lower(sku));
CREATE INDEX products_search_idx ON products USING gin (search);
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
CREATE INDEX products_attributes_idx ON products USING gin (attributes jsonb_path_ops);
CREATE INDEX products_seller_idx ON products (seller_id);
-- The list's sort orders, over what a customer can see.
CREATE INDEX products_newest_idx ON products (created_at DESC, id) WHERE deleted_at IS NULL;
CREATE INDEX products_price_idx ON products (price, id) WHERE deleted_at IS NULL;
CREATE INDEX products_name_idx ON products (lower(name), id) WHERE deleted_at IS NULL;

CREATE TABLE product_categories (
    product_id  uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    category_id uuid NOT NULL REFERENCES categories (id) ON DELETE RESTRICT,
    PRIMARY KEY (product_id, category_id)
);
CREATE INDEX product_categories_category_idx ON product_categories (category_id, product_id);

-- An uploaded image; its resized variants live on disk under
-- $VAR_DIR/catalog/images/<id>/ (the service writes and serves them).
CREATE TABLE product_images (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id   uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    position     int NOT NULL DEFAULT 0,
    alt          text NOT NULL DEFAULT '' CHECK (char_length(alt) <= 300),
    content_type text NOT NULL,             -- of the original, sniffed from its bytes
    width        int NOT NULL CHECK (width > 0),
    height       int NOT NULL CHECK (height > 0),
    bytes        bigint NOT NULL CHECK (bytes > 0),
    sha256       text NOT NULL,             -- of the original: the ETag of its variants
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX product_images_product_idx ON product_images (product_id, position);

-- Every change of stock, append-only: the history of products.quantity.
-- An adjustment updates products.quantity and inserts its movement in one
-- transaction (the CHECK on quantity keeps it from going below zero).
CREATE TABLE inventory_movements (
    id             bigserial PRIMARY KEY,
    product_id     uuid NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    delta          int NOT NULL CHECK (delta <> 0),
    quantity_after int NOT NULL CHECK (quantity_after >= 0),
    reason         text NOT NULL CHECK (reason IN ('restock', 'sale', 'return', 'correction',
                                                   'damage', 'reservation', 'release', 'initial')),
    note           text NOT NULL DEFAULT '' CHECK (char_length(note) <= 500),
    reference      text CHECK (char_length(reference) <= 100), -- e.g. an order id
    actor_id       uuid,                                        -- who adjusted (NULL: the system)
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inventory_movements_product_idx ON inventory_movements (product_id, id DESC);

-- Append-only means it: neither the service nor a mistaken migration can
-- rewrite history.
CREATE FUNCTION inventory_movements_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'inventory_movements is append-only';
END;
$$;
CREATE TRIGGER inventory_movements_no_update BEFORE UPDATE OR DELETE ON inventory_movements
    FOR EACH ROW EXECUTE FUNCTION inventory_movements_append_only();
