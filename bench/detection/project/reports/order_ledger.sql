-- Order ledger: one row per order placed in [:from, :to), with its buyer (none for a guest
-- checkout), items and total, and how many of the admin's orders carry the same external reference
-- (more than 1: an order imported twice, to look at).
WITH mine AS (
    SELECT id, member_id, external_ref, ordered_at, status,
           count(*) OVER (PARTITION BY external_ref) AS same_ref_orders
    FROM orders
    WHERE admin_id = :admin_id
)
SELECT o.id                                             AS order_id,
       o.external_ref                                   AS external_ref,
       m.email                                          AS buyer,
       o.ordered_at                                     AS ordered_at,
       o.status                                         AS status,
       coalesce(sum(oi.quantity), 0)                    AS items,
       round(coalesce(sum(oi.quantity * oi.unit_price), 0), 2) AS total,
       o.same_ref_orders                                AS same_ref_orders
FROM mine o
LEFT JOIN members m      ON m.id = o.member_id
LEFT JOIN order_items oi ON oi.order_id = o.id
WHERE o.ordered_at >= :from
  AND o.ordered_at < :to
GROUP BY o.id, o.external_ref, m.email, o.ordered_at, o.status, o.same_ref_orders
ORDER BY o.ordered_at, o.id;
