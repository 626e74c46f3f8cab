-- Chapter 07: event-carried state transfer. A module that needs another
-- module's data keeps its own copy of the part it uses, fed by that module's
-- integration events, and asks the owner (RPC) only when a row is missing:
--   baskets.stores_cache, baskets.products_cache  <- stores (groups baskets-stores, baskets-products)
--   depot.stores_cache, depot.products_cache      <- stores (groups depot-stores, depot-products)
--   notifications.customers_cache                 <- customers (group notification-customers)
--
-- seq, in every cache table, is the stream sequence of the last message
-- applied to the row (0: the row came from the RPC fallback). A message older
-- than the row's seq changes nothing, so a message delivered again after a
-- newer one (a redelivery after an error) cannot put old data back. The
-- column is this workspace's addition (docs/ERRATA.md); the book's tables
-- have the other columns.

CREATE TABLE baskets.stores_cache
(
  id         text        NOT NULL,
  name       text        NOT NULL,
  seq        bigint      NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT NOW(),
  updated_at timestamptz NOT NULL DEFAULT NOW(),
  PRIMARY KEY (id)
);

CREATE TRIGGER created_at_stores_cache_trgr BEFORE UPDATE ON baskets.stores_cache
  FOR EACH ROW EXECUTE FUNCTION public.created_at_trigger();
CREATE TRIGGER updated_at_stores_cache_trgr BEFORE UPDATE ON baskets.stores_cache
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();

CREATE TABLE baskets.products_cache
(
  id         text          NOT NULL,
  store_id   text          NOT NULL,
  name       text          NOT NULL,
  price      decimal(9, 4) NOT NULL,
  seq        bigint        NOT NULL DEFAULT 0,
  created_at timestamptz   NOT NULL DEFAULT NOW(),
  updated_at timestamptz   NOT NULL DEFAULT NOW(),
  PRIMARY KEY (id)
);

CREATE TRIGGER created_at_products_cache_trgr BEFORE UPDATE ON baskets.products_cache
  FOR EACH ROW EXECUTE FUNCTION public.created_at_trigger();
CREATE TRIGGER updated_at_products_cache_trgr BEFORE UPDATE ON baskets.products_cache
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();

CREATE TABLE depot.stores_cache
(
  id         text        NOT NULL,
  name       text        NOT NULL,
  location   text        NOT NULL,
  seq        bigint      NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT NOW(),
  updated_at timestamptz NOT NULL DEFAULT NOW(),
  PRIMARY KEY (id)
);

CREATE TRIGGER created_at_stores_cache_trgr BEFORE UPDATE ON depot.stores_cache
  FOR EACH ROW EXECUTE FUNCTION public.created_at_trigger();
CREATE TRIGGER updated_at_stores_cache_trgr BEFORE UPDATE ON depot.stores_cache
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();

CREATE TABLE depot.products_cache
(
  id         text        NOT NULL,
  store_id   text        NOT NULL,
  name       text        NOT NULL,
  seq        bigint      NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT NOW(),
  updated_at timestamptz NOT NULL DEFAULT NOW(),
  PRIMARY KEY (id)
);

CREATE TRIGGER created_at_products_cache_trgr BEFORE UPDATE ON depot.products_cache
  FOR EACH ROW EXECUTE FUNCTION public.created_at_trigger();
CREATE TRIGGER updated_at_products_cache_trgr BEFORE UPDATE ON depot.products_cache
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();

-- The notifications module had no tables before this chapter.
CREATE SCHEMA notifications;

CREATE TABLE notifications.customers_cache
(
  id         text        NOT NULL,
  name       text        NOT NULL,
  sms_number text        NOT NULL,
  seq        bigint      NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT NOW(),
  updated_at timestamptz NOT NULL DEFAULT NOW(),
  PRIMARY KEY (id)
);

CREATE TRIGGER created_at_customers_cache_trgr BEFORE UPDATE ON notifications.customers_cache
  FOR EACH ROW EXECUTE FUNCTION public.created_at_trigger();
CREATE TRIGGER updated_at_customers_cache_trgr BEFORE UPDATE ON notifications.customers_cache
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();
