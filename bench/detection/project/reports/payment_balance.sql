-- Payment balance: each payment made in [:from, :to), with the running total of the admin's
-- payments of the period up to it.
WITH pay AS (
    SELECT p.id, p.order_id, p.paid_at, p.amount
    FROM payments p
    WHERE p.order_id IN (SELECT id FROM orders WHERE admin_id = :admin_id)
      AND p.paid_at >= :from
      AND p.paid_at < :to
)
SELECT pay.id                                                                     AS payment_id,
       pay.order_id                                                               AS order_id,
       pay.paid_at                                                                AS paid_at,
       pay.amount                                                                 AS amount,
       round(sum(pay.amount) OVER (ORDER BY pay.paid_at, pay.id ROWS UNBOUNDED PRECEDING), 2) AS balance
FROM pay
ORDER BY pay.paid_at, pay.id;
