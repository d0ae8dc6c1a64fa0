-- Member activity (the example's report, examples/admin-reports): one row per member of the admin,
-- with their orders placed in [:from, :to). Members without orders in the range are listed with
-- zeros. Here each order's lines, payments and refunds are summed by lookups on their indexes, so
-- the work grows with the admin's orders on either database, whatever plan it picks.
WITH per_order AS (
    SELECT o.member_id,
           o.ordered_at,
           coalesce((SELECT sum(oi.quantity) FROM order_items oi WHERE oi.order_id = o.id), 0) AS items,
           coalesce((SELECT sum(p.amount) FROM payments p WHERE p.order_id = o.id), 0)        AS paid,
           coalesce((SELECT sum(r.amount) FROM refunds r JOIN payments p ON p.id = r.payment_id
                     WHERE p.order_id = o.id), 0)                                            AS refunded
    FROM orders o
    WHERE o.admin_id = :admin_id
      AND o.ordered_at >= :from
      AND o.ordered_at < :to
),
per_member AS (
    SELECT member_id,
           count(*)        AS orders,
           sum(items)      AS items,
           sum(paid)       AS paid,
           sum(refunded)   AS refunded,
           min(ordered_at) AS first_order,
           max(ordered_at) AS last_order
    FROM per_order
    GROUP BY member_id
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
