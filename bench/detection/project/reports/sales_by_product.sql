-- Sales by product: one row per product of the admin, for orders placed in
-- [:from, :to) that were not cancelled. Products without sales show zeros.
WITH o AS (
    SELECT id, member_id
    FROM orders
    WHERE admin_id = :admin_id
      AND ordered_at >= :from
      AND ordered_at < :to
      AND status <> 'cancelled'
),
sales AS (
    SELECT oi.product_id,
           sum(oi.quantity)                AS units,
           sum(oi.quantity * oi.unit_price) AS revenue,
           count(DISTINCT o.member_id)     AS buyers
    FROM order_items oi
    JOIN o ON o.id = oi.order_id
    GROUP BY oi.product_id
)
SELECT p.sku                               AS sku,
       p.name                              AS name,
       coalesce(s.units, 0)                AS units_sold,
       round(coalesce(s.revenue, 0), 2)    AS revenue,
       coalesce(s.buyers, 0)               AS buyers
FROM products p
LEFT JOIN sales s ON s.product_id = p.id
WHERE p.admin_id = :admin_id
ORDER BY revenue DESC, p.sku;
