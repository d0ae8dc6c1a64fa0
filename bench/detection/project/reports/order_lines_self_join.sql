-- Order lines, rewritten to take each order's total from a self-join of its lines instead of a
-- window. Same rows for every admin; the join makes lines x lines rows per order, which is nothing
-- for orders of two or three lines and SLOW for an admin whose orders have about 80.
SELECT oi.id                                  AS line_id,
       oi.order_id                            AS order_id,
       oi.product_id                          AS product_id,
       oi.quantity                            AS quantity,
       oi.unit_price                          AS unit_price,
       round(oi.quantity * oi.unit_price, 2)  AS line_total,
       CASE WHEN sum(x.quantity * x.unit_price) > 0
            THEN round(100 * oi.quantity * oi.unit_price / sum(x.quantity * x.unit_price), 2) END AS share_pct
FROM order_items oi
JOIN order_items x ON x.order_id = oi.order_id
WHERE oi.order_id IN (SELECT id FROM orders
                      WHERE admin_id = :admin_id AND ordered_at >= :from AND ordered_at < :to)
GROUP BY oi.id, oi.order_id, oi.product_id, oi.quantity, oi.unit_price
ORDER BY oi.order_id, oi.id;
