-- Member activity, a benign rewrite: the same rows as member_activity.sql for every admin. Each
-- child table is still summed per order before anything is joined (no double counting), but the
-- refunds are summed per payment in the same step as the payments, so payments is read once
-- instead of twice.
WITH o AS (
    SELECT id, member_id, ordered_at
    FROM orders
    WHERE admin_id = :admin_id
      AND ordered_at >= :from
      AND ordered_at < :to
),
items AS (
    SELECT oi.order_id, sum(oi.quantity) AS items
    FROM order_items oi
    JOIN o ON o.id = oi.order_id
    GROUP BY oi.order_id
),
money AS (
    SELECT p.order_id,
           sum(p.amount)                                                  AS paid,
           sum(coalesce((SELECT sum(r.amount) FROM refunds r WHERE r.payment_id = p.id), 0)) AS refunded
    FROM payments p
    JOIN o ON o.id = p.order_id
    GROUP BY p.order_id
),
per_member AS (
    SELECT o.member_id,
           count(*)                               AS orders,
           sum(coalesce(items.items, 0))          AS items,
           sum(coalesce(money.paid, 0))           AS paid,
           sum(coalesce(money.refunded, 0))       AS refunded,
           min(o.ordered_at)                      AS first_order,
           max(o.ordered_at)                      AS last_order
    FROM o
    LEFT JOIN items ON items.order_id = o.id
    LEFT JOIN money ON money.order_id = o.id
    GROUP BY o.member_id
)
SELECT m.id                                AS member_id,
       m.email                             AS email,
       m.display_name                      AS display_name,
       m.country                           AS country,
       coalesce(pm.orders, 0)              AS orders,
       coalesce(pm.items, 0)               AS items,
       round(coalesce(pm.paid, 0), 2)      AS total_paid,
       round(coalesce(pm.refunded, 0), 2)  AS total_refunded,
       pm.first_order                      AS first_order,
       pm.last_order                       AS last_order
FROM members m
LEFT JOIN per_member pm ON pm.member_id = m.id
WHERE m.admin_id = :admin_id
ORDER BY total_paid DESC, m.id;
