-- Orders by status per member, for orders placed in [:from, :to): delivered, still open (neither
-- delivered nor cancelled) and cancelled.
SELECT m.id                                                                   AS member_id,
       m.email                                                                AS email,
       count(o.id)                                                            AS orders,
       count(CASE WHEN o.status = 'delivered' THEN 1 END)                     AS delivered,
       count(CASE WHEN o.status NOT IN ('delivered', 'cancelled') THEN 1 END) AS open,
       count(CASE WHEN o.status = 'cancelled' THEN 1 END)                     AS cancelled
FROM members m
LEFT JOIN orders o
       ON o.member_id = m.id
      AND o.ordered_at >= :from
      AND o.ordered_at < :to
WHERE m.admin_id = :admin_id
GROUP BY m.id, m.email
ORDER BY m.id;
