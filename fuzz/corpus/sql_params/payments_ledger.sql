-- Payments ledger: one row per payment of the admin with paid_at in
-- [:from, :to), with everything refunded against it so far and the net amount.
WITH pay AS (
    SELECT p.id, p.order_id, p.paid_at, p.method, p.amount, o.member_id
    FROM payments p
    JOIN orders o ON o.id = p.order_id
    WHERE o.admin_id = :admin_id
      AND p.paid_at >= :from
      AND p.paid_at < :to
),
refunded AS (
    SELECT r.payment_id, sum(r.amount) AS refunded
    FROM refunds r
    JOIN pay ON pay.id = r.payment_id
    GROUP BY r.payment_id
)
SELECT pay.id                                              AS payment_id,
       pay.order_id                                        AS order_id,
       m.email                                             AS member_email,
       pay.paid_at                                         AS paid_at,
       pay.method                                          AS method,
       pay.amount                                          AS amount,
       round(coalesce(refunded.refunded, 0), 2)            AS refunded,
       round(pay.amount - coalesce(refunded.refunded, 0), 2) AS net
FROM pay
JOIN members m ON m.id = pay.member_id
LEFT JOIN refunded ON refunded.payment_id = pay.id
ORDER BY pay.paid_at, pay.id;
