-- Inactive members: the admin's members who placed no order in [:from, :to).
SELECT m.id        AS member_id,
       m.email     AS email,
       m.joined_on AS joined_on
FROM members m
WHERE m.admin_id = :admin_id
  AND NOT EXISTS (SELECT 1
                  FROM orders o
                  WHERE o.member_id = m.id
                    AND o.ordered_at >= :from
                    AND o.ordered_at < :to)
ORDER BY m.id;
