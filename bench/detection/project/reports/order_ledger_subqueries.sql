-- Order ledger, rewritten with each order's items and total looked up beside it (correlated
-- subqueries on order_items' index on order_id) instead of a grouped join. Correct for every
-- admin, and about as fast: each order's lines are read once either way.
SELECT o.id                                                                             AS order_id,
       o.external_ref                                                                   AS external_ref,
       m.email                                                                          AS buyer,
       o.ordered_at                                                                     AS ordered_at,
       o.status                                                                         AS status,
       coalesce((SELECT sum(oi.quantity) FROM order_items oi WHERE oi.order_id = o.id), 0) AS items,
       round(coalesce((SELECT sum(oi.quantity * oi.unit_price)
                       FROM order_items oi WHERE oi.order_id = o.id), 0), 2)           AS total,
       o.same_ref_orders                                                                AS same_ref_orders
FROM (SELECT id, member_id, external_ref, ordered_at, status,
             count(*) OVER (PARTITION BY external_ref) AS same_ref_orders
      FROM orders
      WHERE admin_id = :admin_id) o
LEFT JOIN members m ON m.id = o.member_id
WHERE o.ordered_at >= :from
  AND o.ordered_at < :to
ORDER BY o.ordered_at, o.id;
