-- Demo data for chapter 03 (not a numbered migration): the application runs
-- this only right after it created an empty database. It is idempotent, so
-- running it again changes nothing.
--   - one store (not yet participating) with one product, owned by stores;
--   - one enabled customer, owned by customers.

INSERT INTO stores.stores (id, name, location, participating)
VALUES ('bd9e26cd-d861-4b74-862f-06e0825c7af3', 'Waldorf Books', 'West Upper Level', FALSE)
ON CONFLICT DO NOTHING;

INSERT INTO stores.products (id, store_id, name, description, sku, price)
VALUES ('557e2f05-b10a-475c-baff-2cea8a86d8df', 'bd9e26cd-d861-4b74-862f-06e0825c7af3',
        'EDA with Golang', '', '1234', 49.99)
ON CONFLICT DO NOTHING;

INSERT INTO customers.customers (id, name, sms_number, enabled)
VALUES ('f0e2d41a-a485-4008-b578-747732ae1089', 'Buyer #1', '555-1212', TRUE)
ON CONFLICT DO NOTHING;
