-- Chapter 05: event sourcing. The baskets, ordering and stores modules keep
-- their aggregates as streams of events instead of rows: an aggregate's state
-- is the sum of its events in <schema>.events, loaded from the latest row of
-- <schema>.snapshots (a cache of the state at a version) plus the events
-- after it. Payloads and metadata are JSON (jsonb), so a stream can be read
-- in psql:
--   SELECT stream_version, event_name, event_data FROM ordering.events
--   WHERE stream_id = '<order id>' ORDER BY stream_version;
-- (The book stores bytea made by its serde: a documented departure.)
--
-- The PRIMARY KEY of events (stream_id, stream_name, stream_version) is the
-- guard against two writers appending the same version: the loser gets a
-- unique violation, which the application answers with 409 Conflict.
--
-- The CRUD tables baskets.baskets and ordering.orders are dropped: nothing
-- reads or writes them any more (the book keeps them unused; this workspace
-- keeps no unused tables). stores.stores and stores.products stay: they are
-- now read models (the mall and the catalog) fed by the stores events.

-- Events and snapshots of the baskets module (stream baskets.Basket,
-- snapshot baskets.BasketV1).

CREATE TABLE baskets.events
(
  stream_id      text        NOT NULL,
  stream_name    text        NOT NULL,
  stream_version int         NOT NULL,
  event_id       text        NOT NULL,
  event_name     text        NOT NULL,
  event_data     jsonb       NOT NULL,
  metadata       jsonb       NOT NULL,
  occurred_at    timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (stream_id, stream_name, stream_version)
);

CREATE TABLE baskets.snapshots
(
  stream_id      text        NOT NULL,
  stream_name    text        NOT NULL,
  stream_version int         NOT NULL,
  snapshot_name  text        NOT NULL,
  snapshot_data  jsonb       NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (stream_id, stream_name)
);

-- Events and snapshots of the ordering module (stream ordering.Order,
-- snapshot ordering.OrderV1).

CREATE TABLE ordering.events
(
  stream_id      text        NOT NULL,
  stream_name    text        NOT NULL,
  stream_version int         NOT NULL,
  event_id       text        NOT NULL,
  event_name     text        NOT NULL,
  event_data     jsonb       NOT NULL,
  metadata       jsonb       NOT NULL,
  occurred_at    timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (stream_id, stream_name, stream_version)
);

CREATE TABLE ordering.snapshots
(
  stream_id      text        NOT NULL,
  stream_name    text        NOT NULL,
  stream_version int         NOT NULL,
  snapshot_name  text        NOT NULL,
  snapshot_data  jsonb       NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (stream_id, stream_name)
);

-- Events and snapshots of the stores module (streams stores.Store and
-- stores.Product, snapshots stores.StoreV1 and stores.ProductV1).

CREATE TABLE stores.events
(
  stream_id      text        NOT NULL,
  stream_name    text        NOT NULL,
  stream_version int         NOT NULL,
  event_id       text        NOT NULL,
  event_name     text        NOT NULL,
  event_data     jsonb       NOT NULL,
  metadata       jsonb       NOT NULL,
  occurred_at    timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (stream_id, stream_name, stream_version)
);

CREATE TABLE stores.snapshots
(
  stream_id      text        NOT NULL,
  stream_name    text        NOT NULL,
  stream_version int         NOT NULL,
  snapshot_name  text        NOT NULL,
  snapshot_data  jsonb       NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (stream_id, stream_name)
);

-- No longer used: baskets and orders are event-sourced (their triggers go
-- with them).

DROP TABLE baskets.baskets;
DROP TABLE ordering.orders;
