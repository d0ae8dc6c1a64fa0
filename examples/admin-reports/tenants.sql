-- One row per admin (tenant) with its size, so Strata can run the reports
-- for every tenant. Empty tenants are included with zeros.
SELECT a.id                    AS admin_id,
       coalesce(m.members, 0)  AS members,
       coalesce(o.orders, 0)   AS orders
FROM admins a
LEFT JOIN (SELECT admin_id, count(*) AS members FROM members GROUP BY admin_id) m
       ON m.admin_id = a.id
LEFT JOIN (SELECT admin_id, count(*) AS orders FROM orders GROUP BY admin_id) o
       ON o.admin_id = a.id
ORDER BY a.id;
