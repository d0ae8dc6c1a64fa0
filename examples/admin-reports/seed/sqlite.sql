-- Strata example: deterministic demo data for the admin-reports schema (SQLite).
--
-- Every value is derived from row numbers with integer arithmetic (no random()),
-- and seed/postgres.sql produces exactly the same rows (same ids, same values).
-- Storage conventions (SQLite has no native date/time/boolean types):
--   timestamp -> text 'YYYY-MM-DD HH:MM:SS', date -> text 'YYYY-MM-DD',
--   boolean -> 0/1, numeric(12,2) -> number with at most 2 decimals.
--
-- Load:  sqlite3 demo.db < schema.sql && sqlite3 demo.db < seed/sqlite.sql
--
-- Shape: 40 admins (tenants) with heavy-tailed sizes. Admin 1 is the largest
-- (~3,000 members, ~75,000 orders), most admins have tens of members, and
-- admin 40 is an empty tenant (no members, products or orders).
-- ordered_at spans 2023-01-01 00:00:00 .. 2025-06-30 23:59:59.

BEGIN;

-- Helpers (temporary; dropped at the end). -----------------------------------

CREATE TEMP TABLE nums (n integer NOT NULL PRIMARY KEY);
WITH RECURSIVE s(n) AS (
    SELECT 1
    UNION ALL
    SELECT n + 1 FROM s WHERE n < 5000
)
INSERT INTO nums (n) SELECT n FROM s;

-- Size of each tenant and where its id ranges start.
CREATE TEMP TABLE shape AS
WITH base AS (
    SELECT n AS admin_id,
           CASE WHEN n = 40 THEN 0 ELSE 3000 / (n * n) + 10 END AS n_members,
           CASE WHEN n = 40 THEN 0 ELSE 5 + 200 / n END         AS n_products
    FROM nums
    WHERE n <= 40
)
SELECT admin_id, n_members, n_products,
       sum(n_members)  OVER (ORDER BY admin_id) - n_members  AS member_offset,
       sum(n_products) OVER (ORDER BY admin_id) - n_products AS product_offset
FROM base;

CREATE TEMP TABLE person_names (i integer NOT NULL PRIMARY KEY, display text NOT NULL, handle text NOT NULL);
INSERT INTO person_names (i, display, handle) VALUES
    ( 0, '김민준', 'minjun.kim'),
    ( 1, '이서연', 'seoyeon.lee'),
    ( 2, '박지호', 'jiho.park'),
    ( 3, '최하은', 'haeun.choi'),
    ( 4, 'José Álvarez', 'jose.alvarez'),
    ( 5, 'Zoë Dubois', 'zoe.dubois'),
    ( 6, 'François Lefèvre', 'francois.lefevre'),
    ( 7, 'Renée Müller', 'renee.muller'),
    ( 8, 'Søren Østergaard', 'soren.ostergaard'),
    ( 9, 'Łukasz Wójcik', 'lukasz.wojcik'),
    (10, 'Ana Paula Gonçalves', 'ana.goncalves'),
    (11, 'Emma Johnson', 'emma.johnson'),
    (12, 'Liam O''Brien', 'liam.obrien'),
    (13, 'Noah Smith, Jr.', 'noah.smith'),
    (14, '佐藤 花子', 'hanako.sato'),
    (15, '王芳', 'fang.wang'),
    (16, 'Chloé "Coco" Martin', 'chloe.martin'),
    (17, 'Priya Sharma', 'priya.sharma'),
    (18, 'Mateo García', 'mateo.garcia'),
    (19, 'Olivia Brown', 'olivia.brown'),
    (20, 'Ahmed Hassan', 'ahmed.hassan'),
    (21, 'Yuki Tanaka', 'yuki.tanaka'),
    (22, 'İlkay Yılmaz', 'ilkay.yilmaz'),
    (23, 'Björk Guðmundsdóttir', 'bjork.gudmundsdottir');

CREATE TEMP TABLE countries (i integer NOT NULL PRIMARY KEY, code text NOT NULL);
INSERT INTO countries (i, code) VALUES
    (0, 'KR'), (1, 'US'), (2, 'DE'), (3, 'FR'), (4, 'BR'),
    (5, 'JP'), (6, 'IN'), (7, 'GB'), (8, 'CA'), (9, 'ES');

CREATE TEMP TABLE product_names (i integer NOT NULL PRIMARY KEY, name text NOT NULL);
INSERT INTO product_names (i, name) VALUES
    ( 0, 'Café au lait beans 1kg'),
    ( 1, 'Espresso grinder'),
    ( 2, 'Matcha 抹茶 tin'),
    ( 3, 'Crème brûlée kit'),
    ( 4, 'Jalapeño hot sauce'),
    ( 5, 'Über-Mug 500ml'),
    ( 6, '김치 starter pack'),
    ( 7, 'Notebook A5, dotted'),
    ( 8, 'Desk lamp'),
    ( 9, 'USB-C cable 2m'),
    (10, 'Wireless mouse'),
    (11, 'Tea towels (set of 3)');

CREATE TEMP TABLE admin_words (i integer NOT NULL PRIMARY KEY, word text NOT NULL);
INSERT INTO admin_words (i, word) VALUES
    (0, 'Acme'), (1, 'Blue Harbor'), (2, 'Café Lumière'), (3, '서울 Trading'),
    (4, 'Nordlicht'), (5, 'Zephyr'), (6, 'Kōbe Works'), (7, 'Maple & Co'),
    (8, 'Örebro Tools'), (9, 'Sunrise');

CREATE TEMP TABLE admin_suffixes (i integer NOT NULL PRIMARY KEY, suffix text NOT NULL);
INSERT INTO admin_suffixes (i, suffix) VALUES
    (0, 'Ltd'), (1, 'GmbH'), (2, 'Labs'), (3, 'Studio');

-- admins ---------------------------------------------------------------------

INSERT INTO admins (id, name, plan, created_at)
SELECT s.admin_id,
       w.word || ' ' || x.suffix,
       CASE WHEN s.admin_id <= 3 THEN 'enterprise'
            WHEN s.admin_id <= 12 THEN 'business'
            WHEN s.admin_id % 5 = 0 THEN 'free'
            ELSE 'starter' END,
       datetime('2019-01-01 00:00:00', '+' || ((s.admin_id - 1) * 20 * 86400 + (s.admin_id * 7919) % 86400) || ' seconds')
FROM shape s
JOIN admin_words w    ON w.i = (s.admin_id - 1) % 10
JOIN admin_suffixes x ON x.i = (s.admin_id - 1) / 10
ORDER BY s.admin_id;

-- members: ids are contiguous per admin (admin 1 gets 1..3010, ...). ----------

INSERT INTO members (id, admin_id, email, display_name, country, joined_on, is_active)
SELECT m.id,
       m.admin_id,
       pn.handle || '.' || m.id || '@tenant' || m.admin_id || '.example.com',
       pn.display || CASE WHEN m.id % 97 = 0 THEN ' 🚀'
                          WHEN m.id % 89 = 0 THEN ' 🎉'
                          ELSE '' END,
       CASE WHEN m.id % 23 = 0 THEN NULL ELSE c.code END,
       date('2020-01-01', '+' || ((m.id * 97) % 1096) || ' days'),
       (m.id % 13 <> 0)
FROM (
    SELECT s.member_offset + k.n AS id, s.admin_id
    FROM shape s
    JOIN nums k ON k.n <= s.n_members
) m
JOIN person_names pn ON pn.i = (m.id * 7) % 24
JOIN countries c     ON c.i = (m.id * 3) % 10
ORDER BY m.id;

-- products: contiguous per admin; price 1.99 .. 499.99 ------------------------

INSERT INTO products (id, admin_id, sku, name, unit_price)
SELECT p.id,
       p.admin_id,
       'SKU-' || p.admin_id || '-' || (1000 + p.n),
       pn.name || ' #' || p.n,
       (199 + (p.id * 7919) % 49801) / 100.0
FROM (
    SELECT s.product_offset + k.n AS id, s.admin_id, k.n
    FROM shape s
    JOIN nums k ON k.n <= s.n_products
) p
JOIN product_names pn ON pn.i = (p.id * 5) % 12
ORDER BY p.id;

-- orders: 0..50 per member, numbered by (member, k); ordered_at is an
-- integer hash of the order id over the 912 days 2023-01-01 .. 2025-06-30
-- (78,796,800 seconds).

INSERT INTO orders (id, admin_id, member_id, ordered_at, status)
SELECT o.id,
       o.admin_id,
       o.member_id,
       datetime('2023-01-01 00:00:00', '+' || (((o.id * 2654435761) % 78796800 + (o.id * o.id * 7) % 86400) % 78796800) || ' seconds'),
       CASE (o.id * 7) % 20
            WHEN 0 THEN 'cancelled'
            WHEN 1 THEN 'pending'
            WHEN 2 THEN 'paid' WHEN 3 THEN 'paid' WHEN 4 THEN 'paid' WHEN 5 THEN 'paid'
            WHEN 6 THEN 'shipped' WHEN 7 THEN 'shipped' WHEN 8 THEN 'shipped' WHEN 9 THEN 'shipped'
            ELSE 'delivered' END
FROM (
    SELECT row_number() OVER (ORDER BY m.id, k.n) AS id, m.admin_id, m.id AS member_id
    FROM members m
    JOIN nums k ON k.n <= (m.id * 37) % 51
) o
ORDER BY o.id;

-- order_items: 1..4 distinct products of the order's admin; every 11th order
-- gets a 10% discount (rounded down to the cent).

INSERT INTO order_items (id, order_id, product_id, quantity, unit_price)
SELECT row_number() OVER (ORDER BY o.id, k.n),
       o.id,
       p.id,
       CASE WHEN (o.id + k.n) % 29 = 0 THEN 5 + o.id % 20
            ELSE 1 + (o.id * 7 + k.n * 3) % 3 END,
       CASE WHEN o.id % 11 = 0
            THEN (CAST(round(p.unit_price * 100) AS bigint) * 9 / 10) / 100.0
            ELSE p.unit_price END
FROM orders o
JOIN shape s    ON s.admin_id = o.admin_id
JOIN nums k     ON k.n <= 1 + (o.id * 13) % 4
JOIN products p ON p.id = s.product_offset + 1 + (o.id * 31 + k.n) % s.n_products;

-- payments: one per paid/shipped/delivered order, two instalments for every
-- 17th order (second one 30 days later).

INSERT INTO payments (id, order_id, paid_at, amount, method)
SELECT row_number() OVER (ORDER BY t.order_id, k.n),
       t.order_id,
       datetime(t.ordered_at, '+' || ((k.n - 1) * 30 * 86400 + 300 + (t.order_id * 7919) % 7200) || ' seconds'),
       CASE WHEN t.parts = 1 THEN t.cents
            WHEN k.n = 1     THEN t.cents / 2
            ELSE t.cents - t.cents / 2 END / 100.0,
       CASE (t.order_id * 3 + k.n) % 10
            WHEN 0 THEN 'card' WHEN 1 THEN 'card' WHEN 2 THEN 'card' WHEN 3 THEN 'card' WHEN 4 THEN 'card'
            WHEN 5 THEN 'paypal' WHEN 6 THEN 'paypal'
            WHEN 7 THEN 'bank_transfer' WHEN 8 THEN 'bank_transfer'
            ELSE 'gift_card' END
FROM (
    SELECT o.id AS order_id,
           o.ordered_at,
           CASE WHEN o.id % 17 = 0 THEN 2 ELSE 1 END AS parts,
           CAST(round(sum(oi.quantity * oi.unit_price) * 100) AS bigint) AS cents
    FROM orders o
    JOIN order_items oi ON oi.order_id = o.id
    WHERE o.status IN ('paid', 'shipped', 'delivered')
    GROUP BY o.id, o.ordered_at
) t
JOIN nums k ON k.n <= t.parts;

-- refunds: ~5% of payments (every 19th); a third of those in full, the rest
-- partially, and some partial ones get a second goodwill refund.

INSERT INTO refunds (id, payment_id, refunded_at, amount, reason)
SELECT row_number() OVER (ORDER BY p.id, k.n),
       p.id,
       datetime(p.paid_at, '+' || ((1 + p.id % 20 + (k.n - 1) * 40) * 86400 + (p.id * 31) % 3600) || ' seconds'),
       CASE WHEN k.n = 2      THEN CAST(round(p.amount * 100) AS bigint) / 10
            WHEN p.id % 3 = 0 THEN CAST(round(p.amount * 100) AS bigint)
            ELSE CAST(round(p.amount * 100) AS bigint) * (10 + p.id % 40) / 100 END / 100.0,
       CASE WHEN k.n = 2 THEN CASE WHEN p.id % 2 = 0 THEN 'Goodwill credit' END
            ELSE CASE p.id % 5
                     WHEN 0 THEN NULL
                     WHEN 1 THEN 'Damaged item'
                     WHEN 2 THEN 'Customer changed their mind'
                     WHEN 3 THEN 'Late delivery — parcel lost by courier'
                     ELSE 'Wrong size; exchanged for "M"' END END
FROM payments p
JOIN nums k ON k.n <= CASE WHEN p.id % 13 = 0 AND p.id % 3 <> 0 THEN 2 ELSE 1 END
WHERE p.id % 19 = 0;

DROP TABLE admin_suffixes;
DROP TABLE admin_words;
DROP TABLE product_names;
DROP TABLE countries;
DROP TABLE person_names;
DROP TABLE shape;
DROP TABLE nums;

COMMIT;

ANALYZE;
