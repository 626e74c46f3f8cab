-- Demo data for chapter 05 (not a numbered migration): the application runs
-- this only right after it created an empty database. It is idempotent, so
-- running it again changes nothing.
--   - one enabled customer, owned by customers.
-- Since chapter 05 stores and products are event-sourced: a row in
-- stores.stores or stores.products is only a read model, fed by the
-- events in stores.events, so a seeded row without its events would be a
-- store that no command can load. The seed therefore has no store and no
-- product any more (as the book's chapter 05 seed); create them through the
-- API (POST /api/stores, POST /api/stores/{store_id}/products).

INSERT INTO customers.customers (id, name, sms_number, enabled)
VALUES ('f0e2d41a-a485-4008-b578-747732ae1089', 'Buyer #1', '555-1212', TRUE)
ON CONFLICT DO NOTHING;
