-- Order positions, rewritten without a window function: an order's place is the number of the
-- member's orders up to it, counted with a self-join. Same rows for every admin and as quick where
-- a member has a few orders; SLOW where one member has thousands (few_members_many_orders, and the
-- busiest buyers of the largest admins): the join is quadratic in a member's orders.
SELECT o.id          AS order_id,
       o.member_id   AS member_id,
       o.ordered_at  AS ordered_at,
       count(*)      AS nth
FROM orders o
JOIN orders e
  ON e.member_id = o.member_id
 AND e.admin_id = :admin_id
 AND e.ordered_at >= :from
 AND e.ordered_at < :to
 AND (e.ordered_at < o.ordered_at OR (e.ordered_at = o.ordered_at AND e.id <= o.id))
WHERE o.admin_id = :admin_id
  AND o.ordered_at >= :from
  AND o.ordered_at < :to
  AND o.member_id IS NOT NULL
GROUP BY o.id, o.member_id, o.ordered_at
ORDER BY o.member_id, nth;
