-- Strata example: multi-tenant admin schema.
-- Runs unchanged on SQLite (3.35+) and PostgreSQL (12+).
-- Re-runnable: tables are dropped children-first (no CASCADE, which SQLite lacks).

DROP TABLE IF EXISTS refunds;
DROP TABLE IF EXISTS payments;
DROP TABLE IF EXISTS order_items;
DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS products;
DROP TABLE IF EXISTS members;
DROP TABLE IF EXISTS admins;

-- One row per tenant (an "admin" account of the app).
CREATE TABLE admins (
    id          bigint    NOT NULL PRIMARY KEY,
    name        text      NOT NULL,
    plan        text      NOT NULL,
    created_at  timestamp NOT NULL
);

-- End users belonging to one tenant.
CREATE TABLE members (
    id            bigint  NOT NULL PRIMARY KEY,
    admin_id      bigint  NOT NULL REFERENCES admins (id),
    email         text    NOT NULL,
    display_name  text    NOT NULL,
    country       text,                       -- ISO 3166 alpha-2, NULL when unknown
    joined_on     date    NOT NULL,
    is_active     boolean NOT NULL,
    UNIQUE (admin_id, email)
);
CREATE INDEX members_admin_id_idx ON members (admin_id);

-- Catalogue, per tenant.
CREATE TABLE products (
    id          bigint        NOT NULL PRIMARY KEY,
    admin_id    bigint        NOT NULL REFERENCES admins (id),
    sku         text          NOT NULL,
    name        text          NOT NULL,
    unit_price  numeric(12,2) NOT NULL,
    UNIQUE (admin_id, sku)
);

CREATE TABLE orders (
    id          bigint    NOT NULL PRIMARY KEY,
    admin_id    bigint    NOT NULL REFERENCES admins (id),
    member_id   bigint    NOT NULL REFERENCES members (id),
    ordered_at  timestamp NOT NULL,
    status      text      NOT NULL            -- pending | paid | shipped | delivered | cancelled
);
CREATE INDEX orders_admin_id_ordered_at_idx ON orders (admin_id, ordered_at);
CREATE INDEX orders_member_id_idx ON orders (member_id);

CREATE TABLE order_items (
    id          bigint        NOT NULL PRIMARY KEY,
    order_id    bigint        NOT NULL REFERENCES orders (id),
    product_id  bigint        NOT NULL REFERENCES products (id),
    quantity    integer       NOT NULL,
    unit_price  numeric(12,2) NOT NULL        -- price actually charged (after discounts)
);
CREATE INDEX order_items_order_id_idx ON order_items (order_id);
CREATE INDEX order_items_product_id_idx ON order_items (product_id);

-- An order is paid in one payment, or occasionally in two instalments.
CREATE TABLE payments (
    id        bigint        NOT NULL PRIMARY KEY,
    order_id  bigint        NOT NULL REFERENCES orders (id),
    paid_at   timestamp     NOT NULL,
    amount    numeric(12,2) NOT NULL,
    method    text          NOT NULL          -- card | paypal | bank_transfer | gift_card
);
CREATE INDEX payments_order_id_idx ON payments (order_id);
CREATE INDEX payments_paid_at_idx ON payments (paid_at);

-- Full or partial refunds of a payment (a payment may be refunded more than once).
CREATE TABLE refunds (
    id           bigint        NOT NULL PRIMARY KEY,
    payment_id   bigint        NOT NULL REFERENCES payments (id),
    refunded_at  timestamp     NOT NULL,
    amount       numeric(12,2) NOT NULL,
    reason       text                         -- free text, NULL when not given
);
CREATE INDEX refunds_payment_id_idx ON refunds (payment_id);
