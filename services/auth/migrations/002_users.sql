-- Accounts. The email is stored as given and unique case-insensitively
-- (lower(), the same function every look-up uses). Profiles (addresses,
-- phone, ...) belong to the users service, which learns about new accounts
-- from the user.registered event; is_active follows its user.deactivated /
-- user.activated events.

CREATE TABLE users (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email               text NOT NULL CHECK (octet_length(email) BETWEEN 3 AND 254),
    password_hash       text NOT NULL,
    first_name          text NOT NULL CHECK (char_length(first_name) BETWEEN 1 AND 100),
    last_name           text NOT NULL CHECK (char_length(last_name) BETWEEN 1 AND 100),
    role                text NOT NULL DEFAULT 'CUSTOMER' REFERENCES roles (name),
    email_verified      boolean NOT NULL DEFAULT false,
    is_active           boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_role_idx ON users (role);
CREATE INDEX users_created_idx ON users (created_at DESC, id);
