-- Chapter 07: schema "search", owned by the search module: its read model of
-- the orders, built from ordering's integration events, and its local copies
-- (caches) of the names it shows, fed by the customers' and the stores'
-- integration events.
--
-- search.orders holds one row per order. created_at is the time of the
-- order (the occurred_at of its OrderCreated event), NULL while only a later
-- event of the order has arrived (a "placeholder": queries do not show it
-- until OrderCreated fills it in). The status only moves forward
-- (search.status_rank), so a redelivered or late event never takes an order
-- back. product_ids and store_ids repeat what order_items holds, as arrays,
-- so that the filters "has any of these products/stores" use a GIN index.
--
-- The indexes serve the search filters (search/postgres.c): every query is
-- ordered by (created_at DESC, order_id DESC) and pages by that pair
-- (keyset paging), so each index ends with it.

CREATE SCHEMA search;

CREATE FUNCTION search.status_rank(status text) RETURNS int
  LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT CASE status WHEN 'New' THEN 0 WHEN 'Ready For Pickup' THEN 1
                     WHEN 'Canceled' THEN 2 WHEN 'Completed' THEN 3 ELSE -1 END
$$;

CREATE TABLE search.orders
(
  order_id      text          NOT NULL,
  customer_id   text          NOT NULL DEFAULT '',
  customer_name text          NOT NULL DEFAULT '',
  total         numeric(14,4) NOT NULL DEFAULT 0,
  status        text          NOT NULL,
  product_ids   text[]        NOT NULL DEFAULT '{}',
  store_ids     text[]        NOT NULL DEFAULT '{}',
  created_at    timestamptz   NULL,
  updated_at    timestamptz   NOT NULL DEFAULT NOW(),
  PRIMARY KEY (order_id),
  CHECK (search.status_rank(status) >= 0)
);

CREATE TABLE search.order_items
(
  order_id     text          NOT NULL,
  position     int           NOT NULL,
  product_id   text          NOT NULL,
  store_id     text          NOT NULL,
  product_name text          NOT NULL,
  store_name   text          NOT NULL,
  price        numeric(14,4) NOT NULL,
  quantity     int           NOT NULL,
  PRIMARY KEY (order_id, position)
);

-- newest first, and after/before
CREATE INDEX orders_created_idx ON search.orders (created_at DESC, order_id DESC);
-- customer
CREATE INDEX orders_customer_idx ON search.orders (customer_id, created_at DESC, order_id DESC);
-- status
CREATE INDEX orders_status_idx ON search.orders (status, created_at DESC, order_id DESC);
-- store ids, product ids (the && operator)
CREATE INDEX orders_store_ids_idx ON search.orders USING gin (store_ids);
CREATE INDEX orders_product_ids_idx ON search.orders USING gin (product_ids);
-- min/max total
CREATE INDEX orders_total_idx ON search.orders (total);

CREATE TRIGGER updated_at_orders_trgr BEFORE UPDATE ON search.orders
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();

-- The caches: search's copies of the names it shows, keyed by the id, fed by
-- the customers' and the stores' integration events (groups search-customers,
-- search-stores, search-products) and filled by the RPC fallback on a miss.
-- seq is the stream sequence of the last message applied to the row (0: the
-- row came from the fallback), as in 009_caches.sql.
CREATE TABLE search.customers_cache
(
  id         text        NOT NULL,
  name       text        NOT NULL,
  seq        bigint      NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT NOW(),
  updated_at timestamptz NOT NULL DEFAULT NOW(),
  PRIMARY KEY (id)
);

CREATE TABLE search.stores_cache
(
  id         text        NOT NULL,
  name       text        NOT NULL,
  seq        bigint      NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT NOW(),
  updated_at timestamptz NOT NULL DEFAULT NOW(),
  PRIMARY KEY (id)
);

CREATE TABLE search.products_cache
(
  id         text        NOT NULL,
  store_id   text        NOT NULL,
  name       text        NOT NULL,
  seq        bigint      NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT NOW(),
  updated_at timestamptz NOT NULL DEFAULT NOW(),
  PRIMARY KEY (id)
);

CREATE TRIGGER created_at_customers_cache_trgr BEFORE UPDATE ON search.customers_cache
  FOR EACH ROW EXECUTE FUNCTION public.created_at_trigger();
CREATE TRIGGER updated_at_customers_cache_trgr BEFORE UPDATE ON search.customers_cache
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();
CREATE TRIGGER created_at_stores_cache_trgr BEFORE UPDATE ON search.stores_cache
  FOR EACH ROW EXECUTE FUNCTION public.created_at_trigger();
CREATE TRIGGER updated_at_stores_cache_trgr BEFORE UPDATE ON search.stores_cache
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();
CREATE TRIGGER created_at_products_cache_trgr BEFORE UPDATE ON search.products_cache
  FOR EACH ROW EXECUTE FUNCTION public.created_at_trigger();
CREATE TRIGGER updated_at_products_cache_trgr BEFORE UPDATE ON search.products_cache
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();
