-- Member activity, "faster rewrite" (the example's member_activity_rewrite): payments and refunds
-- are joined straight to the orders and summed in one pass. The same rows wherever an order has one
-- payment and a payment at most one refund (every typical admin); WRONG for the admins whose orders
-- are paid in installments (an order's items count once per payment) or whose payments are
-- refunded several times (a payment counts once per refund).
SELECT m.id                                                                                       AS member_id,
       m.email                                                                                    AS email,
       m.display_name                                                                             AS display_name,
       m.country                                                                                  AS country,
       count(DISTINCT o.id)                                                                       AS orders,
       coalesce(sum((SELECT sum(oi.quantity) FROM order_items oi WHERE oi.order_id = o.id)), 0)   AS items,
       round(coalesce(sum(p.amount), 0), 2)                                                       AS total_paid,
       round(coalesce(sum(r.amount), 0), 2)                                                       AS total_refunded,
       min(o.ordered_at)                                                                          AS first_order,
       max(o.ordered_at)                                                                          AS last_order
FROM members m
LEFT JOIN orders o   ON o.member_id = m.id AND o.ordered_at >= :from AND o.ordered_at < :to
LEFT JOIN payments p ON p.order_id = o.id
LEFT JOIN refunds r  ON r.payment_id = p.id
WHERE m.admin_id = :admin_id
GROUP BY m.id, m.email, m.display_name, m.country
ORDER BY total_paid DESC, m.id;
