-- One row per admin (tenant) with its size in each dimension the reports touch, so `strata check`
-- can pick the smallest, typical and largest admins, and the unusual ones: few members with many
-- orders, orders paid in many installments, payments refunded many times, orders with many items.
-- Empty admins are included with zeros.
SELECT a.id                    AS admin_id,
       coalesce(m.n, 0)        AS members,
       coalesce(o.n, 0)        AS orders,
       coalesce(i.n, 0)        AS order_items,
       coalesce(p.n, 0)        AS payments,
       coalesce(r.n, 0)        AS refunds
FROM admins a
LEFT JOIN (SELECT admin_id, count(*) AS n FROM members GROUP BY admin_id) m ON m.admin_id = a.id
LEFT JOIN (SELECT admin_id, count(*) AS n FROM orders GROUP BY admin_id) o ON o.admin_id = a.id
LEFT JOIN (SELECT o.admin_id, count(*) AS n
           FROM order_items oi JOIN orders o ON o.id = oi.order_id GROUP BY o.admin_id) i ON i.admin_id = a.id
LEFT JOIN (SELECT o.admin_id, count(*) AS n
           FROM payments p JOIN orders o ON o.id = p.order_id GROUP BY o.admin_id) p ON p.admin_id = a.id
LEFT JOIN (SELECT o.admin_id, count(*) AS n
           FROM refunds r JOIN payments p ON p.id = r.payment_id JOIN orders o ON o.id = p.order_id
           GROUP BY o.admin_id) r ON r.admin_id = a.id
ORDER BY a.id;
