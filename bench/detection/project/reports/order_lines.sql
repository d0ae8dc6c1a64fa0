-- Order lines: each line of the orders placed in [:from, :to), with its total and its share of the
-- order's total (none for an order of total 0).
WITH lines AS (
    SELECT oi.id, oi.order_id, oi.product_id, oi.quantity, oi.unit_price,
           sum(oi.quantity * oi.unit_price) OVER (PARTITION BY oi.order_id) AS order_total
    FROM order_items oi
    WHERE oi.order_id IN (SELECT id FROM orders
                          WHERE admin_id = :admin_id AND ordered_at >= :from AND ordered_at < :to)
)
SELECT id                                   AS line_id,
       order_id                             AS order_id,
       product_id                           AS product_id,
       quantity                             AS quantity,
       unit_price                           AS unit_price,
       round(quantity * unit_price, 2)      AS line_total,
       CASE WHEN order_total > 0 THEN round(100 * quantity * unit_price / order_total, 2) END AS share_pct
FROM lines
ORDER BY order_id, id;
