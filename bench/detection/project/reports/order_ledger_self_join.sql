-- Order ledger, rewritten to count the orders sharing an external reference with a self-join on it
-- instead of a window over all of the admin's orders (each order's items and total looked up beside
-- it). Same rows for every admin, and as fast
-- wherever the references are unique (one match each); SLOW for an admin whose imported orders
-- share a reference: every order then joins every other, and the work is quadratic.
SELECT o.id                                                                             AS order_id,
       o.external_ref                                                                   AS external_ref,
       m.email                                                                          AS buyer,
       o.ordered_at                                                                     AS ordered_at,
       o.status                                                                         AS status,
       coalesce((SELECT sum(oi.quantity) FROM order_items oi WHERE oi.order_id = o.id), 0) AS items,
       round(coalesce((SELECT sum(oi.quantity * oi.unit_price)
                       FROM order_items oi WHERE oi.order_id = o.id), 0), 2)           AS total,
       count(*)                                                                         AS same_ref_orders
FROM orders o
LEFT JOIN members m ON m.id = o.member_id
JOIN orders same    ON same.admin_id = :admin_id AND same.external_ref = o.external_ref
WHERE o.admin_id = :admin_id
  AND o.ordered_at >= :from
  AND o.ordered_at < :to
GROUP BY o.id, o.external_ref, m.email, o.ordered_at, o.status
ORDER BY o.ordered_at, o.id;
