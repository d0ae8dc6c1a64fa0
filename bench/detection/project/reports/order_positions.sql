-- Order positions: each order placed in [:from, :to) by a member (guest checkouts have no place),
-- with its place among that member's orders of the period: 1 for their first.
SELECT o.id                                                                     AS order_id,
       o.member_id                                                              AS member_id,
       o.ordered_at                                                             AS ordered_at,
       row_number() OVER (PARTITION BY o.member_id ORDER BY o.ordered_at, o.id) AS nth
FROM orders o
WHERE o.admin_id = :admin_id
  AND o.ordered_at >= :from
  AND o.ordered_at < :to
  AND o.member_id IS NOT NULL
ORDER BY o.member_id, nth;
