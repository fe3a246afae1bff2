-- users service: profiles, addresses, preferences.
--
-- A profile is created by the auth service's user.registered event: its id
-- IS the auth user id, and email, role and email_verified mirror auth's
-- data (kept current by events, read-only through this service's API).
-- The length and format limits below repeat the API validation as a last
-- line of defence; the API's checks give the clients the useful messages.

-- Trigram indexes make the admin search (ILIKE '%term%') use an index.
-- pg_trgm is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE profiles (
    id             uuid PRIMARY KEY,
    email          text NOT NULL,
    first_name     text NOT NULL DEFAULT '',
    last_name      text NOT NULL DEFAULT '',
    phone          text CHECK (char_length(phone) <= 32),
    avatar_url     text CHECK (char_length(avatar_url) <= 2048),
    date_of_birth  date CHECK (date_of_birth >= DATE '1900-01-01'),
    role           text NOT NULL DEFAULT 'CUSTOMER'
                   CHECK (role IN ('SUPERADMIN', 'ADMIN', 'SELLER', 'CUSTOMER')),
    email_verified boolean NOT NULL DEFAULT false,
    active         boolean NOT NULL DEFAULT true,
    deactivated_at timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    -- What the admin search matches: email, first name, last name, and
    -- "first last" (the space between them is part of the text).
    search_text    text GENERATED ALWAYS AS (email || ' ' || first_name || ' ' || last_name) STORED
);

-- The admin list: newest first, stable order for pagination.
CREATE INDEX profiles_created_idx ON profiles (created_at DESC, id);
CREATE INDEX profiles_role_idx ON profiles (role);
CREATE INDEX profiles_search_idx ON profiles USING gin (search_text gin_trgm_ops);

CREATE TABLE addresses (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    label               text CHECK (char_length(label) <= 50),
    full_name           text NOT NULL CHECK (char_length(full_name) BETWEEN 1 AND 200),
    line1               text NOT NULL CHECK (char_length(line1) BETWEEN 1 AND 200),
    line2               text CHECK (char_length(line2) <= 200),
    city                text NOT NULL CHECK (char_length(city) BETWEEN 1 AND 100),
    region              text CHECK (char_length(region) <= 100),
    postal_code         text CHECK (char_length(postal_code) BETWEEN 1 AND 16),
    country             text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    phone               text CHECK (char_length(phone) <= 32),
    is_default_shipping boolean NOT NULL DEFAULT false,
    is_default_billing  boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX addresses_user_idx ON addresses (user_id, created_at);
-- At most one default of each kind per user, whatever the application does.
CREATE UNIQUE INDEX addresses_one_default_shipping ON addresses (user_id) WHERE is_default_shipping;
CREATE UNIQUE INDEX addresses_one_default_billing ON addresses (user_id) WHERE is_default_billing;

-- A row exists once the user saved preferences; until then the defaults in
-- services/users/sql.h (SQL_PREFERENCES_JSON) apply.
CREATE TABLE preferences (
    user_id          uuid PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
    language         text NOT NULL CHECK (char_length(language) BETWEEN 2 AND 35),
    currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    notify_email     boolean NOT NULL,
    notify_sms       boolean NOT NULL,
    notify_push      boolean NOT NULL,
    marketing_opt_in boolean NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
