-- Inactive members, rewritten as an anti-join (LEFT JOIN ... IS NULL). Correct for every admin:
-- a guest order (member_id NULL) matches no member, as with NOT EXISTS.
SELECT m.id        AS member_id,
       m.email     AS email,
       m.joined_on AS joined_on
FROM members m
LEFT JOIN orders o
       ON o.member_id = m.id
      AND o.ordered_at >= :from
      AND o.ordered_at < :to
WHERE m.admin_id = :admin_id
  AND o.id IS NULL
ORDER BY m.id;
