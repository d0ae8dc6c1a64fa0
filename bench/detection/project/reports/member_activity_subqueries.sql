-- Member activity, a "simpler" rewrite: the same rows as member_activity.sql for every admin, but
-- each member's figures are looked up by correlated subqueries over the admin's orders. Nothing in
-- it reads as slow, and for a typical admin (50 members, 125 orders) it is as quick as the original.
-- But each subquery scans all of the admin's orders for every member, so its time grows with
-- members x orders: for the heaviest admin (20,000 members, 200,000 orders) it never finishes.
-- The gate must catch this slowdown, which test data of typical admins does not show.
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
)
SELECT m.id                                                                           AS member_id,
       m.email                                                                        AS email,
       m.display_name                                                                 AS display_name,
       m.country                                                                      AS country,
       (SELECT count(*) FROM per_order po WHERE po.member_id + 0 = m.id)              AS orders,
       (SELECT coalesce(sum(po.items), 0) FROM per_order po WHERE po.member_id + 0 = m.id) AS items,
       round((SELECT coalesce(sum(po.paid), 0) FROM per_order po WHERE po.member_id + 0 = m.id), 2)     AS total_paid,
       round((SELECT coalesce(sum(po.refunded), 0) FROM per_order po WHERE po.member_id + 0 = m.id), 2) AS total_refunded,
       (SELECT min(po.ordered_at) FROM per_order po WHERE po.member_id + 0 = m.id)    AS first_order,
       (SELECT max(po.ordered_at) FROM per_order po WHERE po.member_id + 0 = m.id)    AS last_order
FROM members m
WHERE m.admin_id = :admin_id
ORDER BY total_paid DESC, m.id;
