-- Schema "ordering", owned by the ordering module: customer orders and their
-- lifecycle status. items holds the order lines as a JSON document (bytea);
-- shopping_id (depot) and invoice_id (payments) are '' until known.
-- Those ids point into other modules' schemas by value only: each module
-- owns its schema independently (bounded contexts), no foreign keys.

CREATE SCHEMA ordering;

CREATE TABLE ordering.orders
(
  id          text        NOT NULL,
  customer_id text        NOT NULL,
  payment_id  text        NOT NULL,
  invoice_id  text        NOT NULL,
  shopping_id text        NOT NULL,
  items       bytea       NOT NULL,
  status      text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT NOW(),
  updated_at  timestamptz NOT NULL DEFAULT NOW(),
  PRIMARY KEY (id)
);

CREATE TRIGGER created_at_orders_trgr BEFORE UPDATE ON ordering.orders
  FOR EACH ROW EXECUTE FUNCTION public.created_at_trigger();
CREATE TRIGGER updated_at_orders_trgr BEFORE UPDATE ON ordering.orders
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();
