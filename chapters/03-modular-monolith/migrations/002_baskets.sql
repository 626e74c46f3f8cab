-- Schema "baskets", owned by the baskets module: the customers' shopping
-- baskets. items holds the basket lines as a JSON document (bytea).
-- Like every module schema it stands alone (bounded context): ids of
-- customers, payments or products are plain text, no foreign keys.

CREATE SCHEMA baskets;

CREATE TABLE baskets.baskets
(
  id          text        NOT NULL,
  customer_id text        NOT NULL,
  payment_id  text        NOT NULL,
  items       bytea       NOT NULL,
  status      text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT NOW(),
  updated_at  timestamptz NOT NULL DEFAULT NOW(),
  PRIMARY KEY (id)
);

CREATE TRIGGER created_at_baskets_trgr BEFORE UPDATE ON baskets.baskets
  FOR EACH ROW EXECUTE FUNCTION public.created_at_trigger();
CREATE TRIGGER updated_at_baskets_trgr BEFORE UPDATE ON baskets.baskets
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();
