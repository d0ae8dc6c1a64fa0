-- Order ledger, rewritten with an inner join to members ("every order has a buyer", and the inner
-- join lets the planner start from either side). Same rows wherever that holds; WRONG for an admin
-- with guest checkouts (member_id NULL): their orders disappear from the ledger.
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
JOIN members m           ON m.id = o.member_id
LEFT JOIN order_items oi ON oi.order_id = o.id
WHERE o.ordered_at >= :from
  AND o.ordered_at < :to
GROUP BY o.id, o.external_ref, m.email, o.ordered_at, o.status, o.same_ref_orders
ORDER BY o.ordered_at, o.id;
