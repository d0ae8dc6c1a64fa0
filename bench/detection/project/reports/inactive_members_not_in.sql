-- Inactive members, rewritten with NOT IN over the admin's orders of the period: one scan of the
-- admin's orders instead of a lookup per member. WRONG for an admin with guest checkouts: one
-- order with member_id NULL in the list makes `m.id NOT IN (...)` unknown for every member, and
-- the report comes back empty.
SELECT m.id        AS member_id,
       m.email     AS email,
       m.joined_on AS joined_on
FROM members m
WHERE m.admin_id = :admin_id
  AND m.id NOT IN (SELECT o.member_id
                   FROM orders o
                   WHERE o.admin_id = :admin_id
                     AND o.ordered_at >= :from
                     AND o.ordered_at < :to)
ORDER BY m.id;
