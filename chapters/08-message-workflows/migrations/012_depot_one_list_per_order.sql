-- Chapter 08: depot creates the shopping list of an order when the create-order saga's
-- CreateShoppingList command reaches it, and a command can be delivered more than once. One
-- list per order is now a rule the table keeps: two deliveries handled at the same time cannot
-- both insert one (the second insert fails, and the handler answers with the first one's id).
-- The index replaces the plain one of 004 (same column, same lookups). The saga's lists start
-- with the new status 'pending' (status is text: no change needed for it).

DROP INDEX depot.shopping_lists_order_id_idx;
CREATE UNIQUE INDEX shopping_lists_order_id_key ON depot.shopping_lists (order_id);
