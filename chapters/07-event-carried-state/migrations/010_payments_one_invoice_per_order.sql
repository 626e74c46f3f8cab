-- Chapter 07: payments creates the invoice of an order when ordering's OrderReadied reaches it,
-- and a message can be delivered more than once. One invoice per order is now a rule the table
-- keeps: two deliveries handled at the same time cannot both insert one.
-- The index replaces the plain one of 006 (same column, same lookups).

DROP INDEX payments.invoices_order_id_idx;
CREATE UNIQUE INDEX invoices_order_id_key ON payments.invoices (order_id);
