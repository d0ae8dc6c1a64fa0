-- Member activity, a benign rewrite: the orders are grouped per member straight away, each order's
-- figures looked up inside the sums, instead of through a per-order step. The same rows for every
-- admin, about as fast.
WITH per_member AS (
    SELECT o.member_id,
           count(*)                                                                                AS orders,
           sum(coalesce((SELECT sum(oi.quantity) FROM order_items oi WHERE oi.order_id = o.id), 0)) AS items,
           sum(coalesce((SELECT sum(p.amount) FROM payments p WHERE p.order_id = o.id), 0))         AS paid,
           sum(coalesce((SELECT sum(r.amount) FROM refunds r JOIN payments p ON p.id = r.payment_id
                         WHERE p.order_id = o.id), 0))                                             AS refunded,
           min(o.ordered_at)                                                                       AS first_order,
           max(o.ordered_at)                                                                       AS last_order
    FROM orders o
    WHERE o.admin_id = :admin_id
      AND o.ordered_at >= :from
      AND o.ordered_at < :to
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
