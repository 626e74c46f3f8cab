-- Schema "depot", owned by the depot module: shopping lists the robots work
-- through. stops holds the per-store stops and their items as a JSON
-- document (bytea); assigned_bot_id is '' until a bot is assigned.
-- order_id refers to ordering's order by value only: modules own their
-- schemas independently (bounded contexts), so there is no foreign key.

CREATE SCHEMA depot;

CREATE TABLE depot.shopping_lists
(
  id              text        NOT NULL,
  order_id        text        NOT NULL,
  stops           bytea       NOT NULL,
  assigned_bot_id text        NOT NULL,
  status          text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT NOW(),
  updated_at      timestamptz NOT NULL DEFAULT NOW(),
  PRIMARY KEY (id)
);

-- Find the list of an order.
CREATE INDEX shopping_lists_order_id_idx ON depot.shopping_lists (order_id);
-- Oldest available lists first, for handing work to bots.
CREATE INDEX shopping_lists_availability_idx ON depot.shopping_lists (status, created_at)
  WHERE status = 'available';

CREATE TRIGGER created_at_shopping_lists_trgr BEFORE UPDATE ON depot.shopping_lists
  FOR EACH ROW EXECUTE FUNCTION public.created_at_trigger();
CREATE TRIGGER updated_at_shopping_lists_trgr BEFORE UPDATE ON depot.shopping_lists
  FOR EACH ROW EXECUTE FUNCTION public.updated_at_trigger();
