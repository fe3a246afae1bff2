-- Roles, permissions and which role holds which permission.
--
-- Permissions are "module:action". The access token carries the
-- permissions of the user's role; every service checks them with
-- http_require(x, "module:action"). Ownership ("their own orders") is the
-- owning service's business: a permission says what kind of action a role
-- may take, the service decides on which rows.

CREATE TABLE roles (
    name        text PRIMARY KEY CHECK (name IN ('SUPERADMIN', 'ADMIN', 'SELLER', 'CUSTOMER')),
    description text NOT NULL,
    rank        integer NOT NULL UNIQUE -- higher holds more power
);

CREATE TABLE permissions (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z_]+:[a-z_]+$'),
    description text NOT NULL
);

CREATE TABLE role_permissions (
    role       text NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    permission text NOT NULL REFERENCES permissions (name) ON DELETE CASCADE,
    PRIMARY KEY (role, permission)
);

INSERT INTO roles (name, description, rank) VALUES
    ('SUPERADMIN', 'Owns the platform: everything, including granting and revoking ADMIN and SUPERADMIN', 4),
    ('ADMIN',      'Runs the shop: users (SELLER/CUSTOMER), catalogue, orders, payments, support', 3),
    ('SELLER',     'Sells: manages own products and stock, works on orders of own products', 2),
    ('CUSTOMER',   'Shops: own account, cart, orders, payments, reviews, support chat', 1);

INSERT INTO permissions (name, description) VALUES
    ('profile:read',       'Read one''s own account, profile and sessions'),
    ('profile:write',      'Change one''s own profile and password, resend verification, end own sessions'),
    ('users:read',         'List and read every user account'),
    ('users:write',        'Create accounts, change roles (within the role rules), activate and deactivate accounts'),
    ('roles:read',         'Read the roles and the permissions each holds'),
    ('roles:write',        'Change which permissions a role holds'),
    ('products:read',      'Read unpublished products and drafts (the published catalogue is public)'),
    ('products:write',     'Create, edit, publish and delete products (sellers: their own)'),
    ('categories:write',   'Create, edit and delete categories'),
    ('inventory:read',     'Read stock levels and stock movements'),
    ('inventory:write',    'Adjust stock levels (sellers: of their own products)'),
    ('cart:write',         'Use a shopping cart'),
    ('orders:read',        'Read one''s own orders'),
    ('orders:write',       'Place and cancel one''s own orders'),
    ('orders:read_all',    'Read every order of the shop'),
    ('orders:manage',      'Move orders through fulfilment: confirm, ship, deliver, cancel (sellers: orders with their products)'),
    ('payments:read',      'Read one''s own payments'),
    ('payments:read_all',  'Read every payment'),
    ('payments:refund',    'Refund a payment'),
    ('reviews:write',      'Write and edit one''s own product reviews'),
    ('reviews:moderate',   'Hide or delete any review'),
    ('notifications:read', 'Read one''s own notifications'),
    ('notifications:send', 'Send notifications to users (announcements, manual emails)'),
    ('support:chat',       'Take part in support chat (customers ask, staff answer)'),
    ('support:manage',     'See and answer every support conversation'),
    ('analytics:read',     'Read sales and traffic reports (sellers: their own sales)');

-- CUSTOMER: shopping for oneself.
INSERT INTO role_permissions (role, permission)
SELECT 'CUSTOMER', p FROM unnest(ARRAY[
    'profile:read', 'profile:write', 'cart:write', 'orders:read', 'orders:write',
    'payments:read', 'reviews:write', 'notifications:read', 'support:chat'
]) AS p;

-- SELLER: a customer who also sells.
INSERT INTO role_permissions (role, permission)
SELECT 'SELLER', permission FROM role_permissions WHERE role = 'CUSTOMER'
UNION
SELECT 'SELLER', p FROM unnest(ARRAY[
    'products:read', 'products:write', 'inventory:read', 'inventory:write', 'orders:manage',
    'analytics:read'
]) AS p;

-- ADMIN: everything except changing what roles may do.
INSERT INTO role_permissions (role, permission)
SELECT 'ADMIN', name FROM permissions WHERE name <> 'roles:write';

-- SUPERADMIN: everything.
INSERT INTO role_permissions (role, permission)
SELECT 'SUPERADMIN', name FROM permissions;
