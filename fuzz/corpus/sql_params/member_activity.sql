-- Member activity: one row per member of the admin, with their orders placed
-- in [:from, :to). Members without orders in the range are listed with zeros.
-- Each child table is aggregated per order first, so nothing is double counted.
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
paid AS (
    SELECT p.order_id, sum(p.amount) AS paid
    FROM payments p
    JOIN o ON o.id = p.order_id
    GROUP BY p.order_id
),
refunded AS (
    SELECT p.order_id, sum(r.amount) AS refunded
    FROM refunds r
    JOIN payments p ON p.id = r.payment_id
    JOIN o ON o.id = p.order_id
    GROUP BY p.order_id
),
per_member AS (
    SELECT o.member_id,
           count(*)                         AS orders,
           sum(coalesce(items.items, 0))    AS items,
           sum(coalesce(paid.paid, 0))      AS paid,
           sum(coalesce(refunded.refunded, 0)) AS refunded,
           min(o.ordered_at)                AS first_order,
           max(o.ordered_at)                AS last_order
    FROM o
    LEFT JOIN items    ON items.order_id = o.id
    LEFT JOIN paid     ON paid.order_id = o.id
    LEFT JOIN refunded ON refunded.order_id = o.id
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
