-- Schema "customers", owned by the customers module: registered kiosk
-- customers and whether they may place orders (enabled).
-- Modules own their schemas independently (bounded contexts): no foreign
-- keys to or from other schemas.

CREATE SCHEMA customers;

CREATE TABLE customers.customers
(
  id         text        NOT NULL,
  name       text        NOT NULL,
  sms_number text        NOT NULL,
  enabled    bool        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT NOW(),
  updated_at timestamptz NOT NULL DEFAULT NOW(),
  PRIMARY KEY (id)
);

CREATE TRIGGER created_at_customers_trgr BEFORE UPDATE ON customers.customers
  FOR EACH ROW EXECUTE FUNCTION public.created_at_trigger();
CREATE TRIGGER updated_at_customers_trgr BEFORE UPDATE ON customers.customers
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();
