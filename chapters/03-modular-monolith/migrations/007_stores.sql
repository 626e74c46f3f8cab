-- Schema "stores", owned by the stores module: the mall's stores (and
-- whether they take part in the kiosk program) and their product catalogs.
-- products.store_id is deliberately not a foreign key, in keeping with the
-- rule that each module manages its own schema as an independent bounded
-- context; the stores module itself keeps the two tables consistent.

CREATE SCHEMA stores;

CREATE TABLE stores.stores
(
  id            text        NOT NULL,
  name          text        NOT NULL,
  location      text        NOT NULL,
  participating bool        NOT NULL DEFAULT FALSE,
  created_at    timestamptz NOT NULL DEFAULT NOW(),
  updated_at    timestamptz NOT NULL DEFAULT NOW(),
  PRIMARY KEY (id)
);

-- Only the (few) participating stores are indexed.
CREATE INDEX participating_stores_idx ON stores.stores (participating)
  WHERE participating;

CREATE TRIGGER created_at_stores_trgr BEFORE UPDATE ON stores.stores
  FOR EACH ROW EXECUTE FUNCTION public.created_at_trigger();
CREATE TRIGGER updated_at_stores_trgr BEFORE UPDATE ON stores.stores
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();

CREATE TABLE stores.products
(
  id          text          NOT NULL,
  store_id    text          NOT NULL,
  name        text          NOT NULL,
  description text          NOT NULL,
  sku         text          NOT NULL,
  price       decimal(9, 4) NOT NULL,
  created_at  timestamptz   NOT NULL DEFAULT NOW(),
  updated_at  timestamptz   NOT NULL DEFAULT NOW(),
  PRIMARY KEY (id)
);

-- A store's catalog.
CREATE INDEX store_products_idx ON stores.products (store_id);

CREATE TRIGGER created_at_products_trgr BEFORE UPDATE ON stores.products
  FOR EACH ROW EXECUTE FUNCTION public.created_at_trigger();
CREATE TRIGGER updated_at_products_trgr BEFORE UPDATE ON stores.products
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();
