-- 014_outbox_inbox.sql -- chapter 09: an outbox and an inbox for every module that publishes or
-- consumes messages.
--
-- <schema>.outbox holds the messages a module has decided to publish, written in the same
-- transaction as the change they announce; a relay publishes the rows in `seq` order and then
-- stamps `published_at`. `id` is the message id, sent as Nats-Msg-Id, so a row published twice
-- (the relay stopped between the broker's acknowledgement and the stamp) is stored once by the
-- stream. The partial index <schema>_unpublished_idx holds only the rows still to publish, in
-- publish order, so the relay's "what is left?" stays cheap however long the table grows.
--
-- <schema>.inbox holds the id of every message a module has handled, written in the same
-- transaction as the handler's change: a message whose id is there already was handled, and its
-- redelivery changes nothing. `name`, `subject` and `data` keep the message itself, for reading in
-- psql.
--
-- Every module schema gets the pair, notifications too (the book's code gives notifications
-- none before Chapter12): in this workspace a notification must never be sent twice, and its
-- inbox is what remembers that it was. Search and notifications publish nothing, so their outboxes stay
-- empty. Each index is created on its own schema's table (the book creates cosec's on
-- baskets.outbox).
--
-- This chapter only creates the tables; the modules start writing them when the outbox and the
-- inbox are wired in.

CREATE TABLE baskets.outbox
(
  seq          bigint      GENERATED ALWAYS AS IDENTITY,
  id           text        NOT NULL,
  name         text        NOT NULL,
  subject      text        NOT NULL,
  data         bytea       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz NULL,
  PRIMARY KEY (id)
);
CREATE INDEX baskets_unpublished_idx ON baskets.outbox (seq) WHERE published_at IS NULL;

CREATE TABLE baskets.inbox
(
  id          text        NOT NULL,
  name        text        NOT NULL,
  subject     text        NOT NULL,
  data        bytea       NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id)
);

CREATE TABLE cosec.outbox
(
  seq          bigint      GENERATED ALWAYS AS IDENTITY,
  id           text        NOT NULL,
  name         text        NOT NULL,
  subject      text        NOT NULL,
  data         bytea       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz NULL,
  PRIMARY KEY (id)
);
CREATE INDEX cosec_unpublished_idx ON cosec.outbox (seq) WHERE published_at IS NULL;

CREATE TABLE cosec.inbox
(
  id          text        NOT NULL,
  name        text        NOT NULL,
  subject     text        NOT NULL,
  data        bytea       NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id)
);

CREATE TABLE customers.outbox
(
  seq          bigint      GENERATED ALWAYS AS IDENTITY,
  id           text        NOT NULL,
  name         text        NOT NULL,
  subject      text        NOT NULL,
  data         bytea       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz NULL,
  PRIMARY KEY (id)
);
CREATE INDEX customers_unpublished_idx ON customers.outbox (seq) WHERE published_at IS NULL;

CREATE TABLE customers.inbox
(
  id          text        NOT NULL,
  name        text        NOT NULL,
  subject     text        NOT NULL,
  data        bytea       NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id)
);

CREATE TABLE depot.outbox
(
  seq          bigint      GENERATED ALWAYS AS IDENTITY,
  id           text        NOT NULL,
  name         text        NOT NULL,
  subject      text        NOT NULL,
  data         bytea       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz NULL,
  PRIMARY KEY (id)
);
CREATE INDEX depot_unpublished_idx ON depot.outbox (seq) WHERE published_at IS NULL;

CREATE TABLE depot.inbox
(
  id          text        NOT NULL,
  name        text        NOT NULL,
  subject     text        NOT NULL,
  data        bytea       NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id)
);

CREATE TABLE notifications.outbox
(
  seq          bigint      GENERATED ALWAYS AS IDENTITY,
  id           text        NOT NULL,
  name         text        NOT NULL,
  subject      text        NOT NULL,
  data         bytea       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz NULL,
  PRIMARY KEY (id)
);
CREATE INDEX notifications_unpublished_idx ON notifications.outbox (seq) WHERE published_at IS NULL;

CREATE TABLE notifications.inbox
(
  id          text        NOT NULL,
  name        text        NOT NULL,
  subject     text        NOT NULL,
  data        bytea       NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id)
);

CREATE TABLE ordering.outbox
(
  seq          bigint      GENERATED ALWAYS AS IDENTITY,
  id           text        NOT NULL,
  name         text        NOT NULL,
  subject      text        NOT NULL,
  data         bytea       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz NULL,
  PRIMARY KEY (id)
);
CREATE INDEX ordering_unpublished_idx ON ordering.outbox (seq) WHERE published_at IS NULL;

CREATE TABLE ordering.inbox
(
  id          text        NOT NULL,
  name        text        NOT NULL,
  subject     text        NOT NULL,
  data        bytea       NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id)
);

CREATE TABLE payments.outbox
(
  seq          bigint      GENERATED ALWAYS AS IDENTITY,
  id           text        NOT NULL,
  name         text        NOT NULL,
  subject      text        NOT NULL,
  data         bytea       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz NULL,
  PRIMARY KEY (id)
);
CREATE INDEX payments_unpublished_idx ON payments.outbox (seq) WHERE published_at IS NULL;

CREATE TABLE payments.inbox
(
  id          text        NOT NULL,
  name        text        NOT NULL,
  subject     text        NOT NULL,
  data        bytea       NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id)
);

CREATE TABLE search.outbox
(
  seq          bigint      GENERATED ALWAYS AS IDENTITY,
  id           text        NOT NULL,
  name         text        NOT NULL,
  subject      text        NOT NULL,
  data         bytea       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz NULL,
  PRIMARY KEY (id)
);
CREATE INDEX search_unpublished_idx ON search.outbox (seq) WHERE published_at IS NULL;

CREATE TABLE search.inbox
(
  id          text        NOT NULL,
  name        text        NOT NULL,
  subject     text        NOT NULL,
  data        bytea       NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id)
);

CREATE TABLE stores.outbox
(
  seq          bigint      GENERATED ALWAYS AS IDENTITY,
  id           text        NOT NULL,
  name         text        NOT NULL,
  subject      text        NOT NULL,
  data         bytea       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz NULL,
  PRIMARY KEY (id)
);
CREATE INDEX stores_unpublished_idx ON stores.outbox (seq) WHERE published_at IS NULL;

CREATE TABLE stores.inbox
(
  id          text        NOT NULL,
  name        text        NOT NULL,
  subject     text        NOT NULL,
  data        bytea       NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id)
);
