-- Payments by method, for payments made in [:from, :to): how many, how much, and how much of it
-- was refunded.
WITH pay AS (
    SELECT p.id, p.method, p.amount
    FROM payments p
    WHERE p.order_id IN (SELECT id FROM orders WHERE admin_id = :admin_id)
      AND p.paid_at >= :from
      AND p.paid_at < :to
),
refunded AS (
    SELECT r.payment_id, sum(r.amount) AS refunded
    FROM refunds r
    WHERE r.payment_id IN (SELECT id FROM pay)
    GROUP BY r.payment_id
)
SELECT pay.method                                     AS method,
       count(*)                                       AS payments,
       round(sum(pay.amount), 2)                      AS amount,
       round(coalesce(sum(refunded.refunded), 0), 2)  AS refunded
FROM pay
LEFT JOIN refunded ON refunded.payment_id = pay.id
GROUP BY pay.method
ORDER BY pay.method;
