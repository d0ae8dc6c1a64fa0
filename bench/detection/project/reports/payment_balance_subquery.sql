-- Payment balance, rewritten without a window function: each payment's running total is summed by
-- a correlated subquery over the period's payments. Same rows for every admin and as quick for the
-- typical one (tens of payments); SLOW for the largest admins: the work is quadratic in payments.
WITH pay AS (
    SELECT p.id, p.order_id, p.paid_at, p.amount
    FROM payments p
    WHERE p.order_id IN (SELECT id FROM orders WHERE admin_id = :admin_id)
      AND p.paid_at >= :from
      AND p.paid_at < :to
)
SELECT pay.id        AS payment_id,
       pay.order_id  AS order_id,
       pay.paid_at   AS paid_at,
       pay.amount    AS amount,
       round((SELECT sum(e.amount)
              FROM pay e
              WHERE e.paid_at < pay.paid_at OR (e.paid_at = pay.paid_at AND e.id <= pay.id)), 2) AS balance
FROM pay
ORDER BY pay.paid_at, pay.id;
