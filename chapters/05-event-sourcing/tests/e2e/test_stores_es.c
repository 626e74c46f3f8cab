/* test_stores_es.c -- end to end (chapter 05): the stores module event-sourced, through the REST
 * API and the database.
 *
 * One mallbots process on a fresh database for the file. A store and a product are created,
 * then changed through chapter 05's four new routes (rebrand a store, rebrand a product,
 * increase and decrease a price): the answers, the rule texts and the 404s for unknown ids; the
 * read models (stores.stores, stores.products) and the GET routes that read them; the product's
 * events in stores.events, read in order with the query a learner would type in psql, and its
 * snapshot in stores.snapshots; a removed product. Last, a concurrent modification made
 * deterministic with a table lock (see concurrent_change_is_409): the API answers 409, nothing of
 * the losing request is stored, and a retry succeeds. The last test expects a clean shutdown.
 *
 * The tests run in order and build on each other (ids are kept in file-level variables).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "e2e.h"

static e2e_app *app;
static char store_id[E2E_ID_MAX], product_id[E2E_ID_MAX], candle_id[E2E_ID_MAX];

static void store_and_product_exist(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", "/api/stores", "{\"name\":\"Lamp Land\",\"location\":\"East Wing\"}",
                  store_id);
    e2e_expect_id(
        app, "POST", E2E_F("/api/stores/%s/products", store_id),
        "{\"name\":\"Lava Lamp\",\"description\":\"groovy\",\"sku\":\"LL-1\",\"price\":9.99}",
        product_id);
    e2e_expect_sql(app, "1", "select count(*) from stores.events where stream_id = $1", store_id);
    e2e_expect_sql(app, "1", "select count(*) from stores.events where stream_id = $1", product_id);
}

static void rebrand_store(void **state)
{
    (void)state;
    json_t *j = e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/rebrand", store_id),
                              "{\"name\":\"Lamp Land & Co\"}");
    assert_int_equal(json_object_size(j), 0); /* {} */
    json_decref(j);
    j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/%s", store_id), NULL);
    e2e_expect_json_str(j, "store.name", "Lamp Land & Co");
    e2e_expect_json_str(j, "store.location", "East Wing");
    assert_true(json_is_false(e2e_json_at(j, "store.participating")));
    json_decref(j);
    j = e2e_expect_ok(app, "GET", "/api/stores", NULL);
    e2e_expect_json_str(j, "stores.0.name", "Lamp Land & Co");
    json_decref(j);
    /* the read model and the event */
    e2e_expect_sql(app, "Lamp Land & Co", "select name from stores.stores where id = $1", store_id);
    e2e_expect_sql(
        app, "stores.StoreRebranded",
        "select event_name from stores.events where stream_id = $1 and stream_version = 2",
        store_id);
    e2e_expect_sql(app, "Lamp Land & Co",
                   "select event_data->>'name' from stores.events where stream_id = $1 and "
                   "stream_version = 2",
                   store_id);

    /* the rules, the unknown ids: nothing stored */
    e2e_expect_error(app, "PUT", E2E_F("/api/stores/%s/rebrand", store_id), "{\"name\":\" \"}", 400,
                     "the store name cannot be blank");
    e2e_expect_error(app, "PUT", E2E_F("/api/stores/%s/rebrand", store_id), "{}", 400,
                     "the store name cannot be blank");
    e2e_expect_error(app, "PUT", "/api/stores/nope/rebrand", "{\"name\":\"Any\"}", 404,
                     "store nope not found");
    e2e_expect_error_like(app, "PUT", E2E_F("/api/stores/%s/rebrand", store_id),
                          "{\"name\":\"Any\",\"location\":\"x\"}", 400, "location");
    e2e_expect_sql(app, "2", "select count(*) from stores.events where stream_id = $1", store_id);
    e2e_expect_sql(app, "Lamp Land & Co", "select name from stores.stores where id = $1", store_id);
}

static void rebrand_product(void **state)
{
    (void)state;
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/products/%s/rebrand", product_id),
                              "{\"name\":\"Lava Lamp XL\",\"description\":\"groovier\"}"));
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/products/%s", product_id), NULL);
    e2e_expect_json_str(j, "product.name", "Lava Lamp XL");
    e2e_expect_json_str(j, "product.description", "groovier");
    e2e_expect_json_str(j, "product.sku", "LL-1");
    e2e_expect_json_num(j, "product.price", 9.99);
    json_decref(j);
    j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/%s/products", store_id), NULL);
    e2e_expect_json_str(j, "products.0.name", "Lava Lamp XL");
    json_decref(j);
    e2e_expect_sql(app, "Lava Lamp XL|groovier",
                   "select name || '|' || description from stores.products where id = $1",
                   product_id);

    e2e_expect_error(app, "PUT", E2E_F("/api/stores/products/%s/rebrand", product_id),
                     "{\"name\":\"\",\"description\":\"nameless\"}", 400,
                     "the product name cannot be blank");
    e2e_expect_error(app, "PUT", "/api/stores/products/nope/rebrand", "{\"name\":\"Any\"}", 404,
                     "product nope not found");
    e2e_expect_sql(app, "2", "select count(*) from stores.events where stream_id = $1", product_id);
}

static void change_prices(void **state)
{
    (void)state;
    /* the routes take the NEW price */
    json_decref(e2e_expect_ok(app, "PUT",
                              E2E_F("/api/stores/products/%s/increasePrice", product_id),
                              "{\"price\":12.49}"));
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/products/%s", product_id), NULL);
    e2e_expect_json_num(j, "product.price", 12.49);
    json_decref(j);
    e2e_expect_sql(app, "12.4900", "select price::text from stores.products where id = $1",
                   product_id);
    json_decref(e2e_expect_ok(
        app, "PUT", E2E_F("/api/stores/products/%s/decreasePrice", product_id), "{\"price\":11}"));
    j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/products/%s", product_id), NULL);
    e2e_expect_json_num(j, "product.price", 11.0);
    json_decref(j);
    e2e_expect_sql(app, "11.0000", "select price::text from stores.products where id = $1",
                   product_id);

    /* the rules, the unknown ids: nothing stored */
    e2e_expect_error(app, "PUT", E2E_F("/api/stores/products/%s/increasePrice", product_id),
                     "{\"price\":10.99}", 400, "the price change would be a decrease");
    e2e_expect_error(app, "PUT", E2E_F("/api/stores/products/%s/decreasePrice", product_id),
                     "{\"price\":11.01}", 400, "the price change would be an increase");
    /* the current price again would store an event with delta 0 (the book stores it) */
    e2e_expect_error(app, "PUT", E2E_F("/api/stores/products/%s/increasePrice", product_id),
                     "{\"price\":11}", 400, "the price change would be zero");
    e2e_expect_error(app, "PUT", E2E_F("/api/stores/products/%s/decreasePrice", product_id),
                     "{\"price\":11.00001}", 400, "the price change would be zero");
    e2e_expect_error(app, "PUT", E2E_F("/api/stores/products/%s/decreasePrice", product_id),
                     "{\"price\":-1}", 400, "the product price cannot be negative");
    e2e_expect_error(app, "PUT", E2E_F("/api/stores/products/%s/increasePrice", product_id),
                     "{\"price\":100000}", 400, "the product price cannot be over 99999.9999");
    e2e_expect_error_like(app, "PUT", E2E_F("/api/stores/products/%s/increasePrice", product_id),
                          "{\"price\":\"more\"}", 400, "price");
    e2e_expect_error(app, "PUT", "/api/stores/products/nope/increasePrice", "{\"price\":1}", 404,
                     "product nope not found");
    e2e_expect_error(app, "PUT", "/api/stores/products/nope/decreasePrice", "{\"price\":1}", 404,
                     "product nope not found");
    e2e_expect_sql(app, "4", "select count(*) from stores.events where stream_id = $1", product_id);
    e2e_expect_sql(app, "11.0000", "select price::text from stores.products where id = $1",
                   product_id);
}

/* The product's stream, as a learner reads it in psql:
 *     SELECT stream_version, event_name, event_data FROM stores.events
 *     WHERE stream_id = '<product id>' ORDER BY stream_version;
 * (here folded into one text value, one line per row). Payloads are JSON (jsonb: keys sorted
 * by length, then alphabetically); a price change carries the difference, rounded to 4
 * decimals. */
static void events_are_readable_in_order(void **state)
{
    (void)state;
    static const char sql[] =
        "SELECT string_agg(stream_version || ' ' || event_name || ' ' || event_data::text, E'\\n' "
        "ORDER BY stream_version) FROM (SELECT stream_version, event_name, event_data "
        "FROM stores.events WHERE stream_id = $1 ORDER BY stream_version) AS stream";
    char want[1024];
    snprintf(
        want, sizeof want,
        "1 stores.ProductAdded {\"sku\": \"LL-1\", \"name\": \"Lava Lamp\", \"price\": 9.99, "
        "\"storeId\": \"%s\", \"description\": \"groovy\"}\n"
        "2 stores.ProductRebranded {\"name\": \"Lava Lamp XL\", \"description\": \"groovier\"}\n"
        "3 stores.ProductPriceIncreased {\"delta\": 2.5}\n"
        "4 stores.ProductPriceDecreased {\"delta\": -1.49}",
        store_id);
    e2e_expect_sql(app, want, sql, product_id);
    /* every event knows its aggregate and version */
    e2e_expect_sql(app, "4",
                   "select count(*) from stores.events where stream_id = $1 and stream_name = "
                   "'stores.Product' and metadata->>'aggregate-id' = stream_id and "
                   "metadata->>'aggregate-name' = stream_name and "
                   "metadata->>'aggregate-version' = stream_version::text",
                   product_id);
    /* version 3 crossed the snapshot interval (ES_SNAPSHOT_EVERY, default 3) */
    e2e_expect_sql(app, "3 stores.ProductV1 12.49",
                   "select stream_version || ' ' || snapshot_name || ' ' || "
                   "(snapshot_data->>'price') from stores.snapshots where stream_id = $1",
                   product_id);
    e2e_expect_sql(app, "0", "select count(*) from stores.snapshots where stream_id = $1",
                   store_id);
}

static void removed_product_is_gone(void **state)
{
    (void)state;
    json_decref(e2e_expect_ok(app, "DELETE", E2E_F("/api/stores/products/%s", product_id), NULL));
    e2e_expect_error(app, "GET", E2E_F("/api/stores/products/%s", product_id), NULL, 404,
                     E2E_F("product %s not found", product_id));
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/%s/products", store_id), NULL);
    assert_int_equal(e2e_json_len(j, "products"), 0);
    json_decref(j);
    e2e_expect_sql(app, "0", "select count(*) from stores.products where id = $1", product_id);
    /* its events stay; every later command answers 404 and stores nothing */
    e2e_expect_sql(
        app, "stores.ProductRemoved",
        "select event_name from stores.events where stream_id = $1 and stream_version = 5",
        product_id);
    e2e_expect_error(app, "PUT", E2E_F("/api/stores/products/%s/rebrand", product_id),
                     "{\"name\":\"Back\"}", 404, E2E_F("product %s not found", product_id));
    e2e_expect_error(app, "PUT", E2E_F("/api/stores/products/%s/increasePrice", product_id),
                     "{\"price\":20}", 404, E2E_F("product %s not found", product_id));
    e2e_expect_error(app, "DELETE", E2E_F("/api/stores/products/%s", product_id), NULL, 404,
                     E2E_F("product %s not found", product_id));
    e2e_expect_sql(app, "5", "select count(*) from stores.events where stream_id = $1", product_id);
}

/* ---- a concurrent modification ---------------------------------------------------------------
 * Two clients change the same product at once: both load version 1, both append version 2; the
 * second to commit must lose (409) and store nothing. To make the race deterministic the test
 * plays the OTHER client in SQL on its own connection: it locks stores.events against writers
 * (SHARE ROW EXCLUSIVE: reads go on, inserts wait), sends the API's request from a thread, waits
 * until the app's INSERT of version 2 is blocked on the lock (pg_locks) -- so the app has loaded
 * version 1 and checked it -- then appends its own version 2 (and updates the catalog row, as
 * its handler would) and commits. The app's insert then meets the committed version 2: unique
 * violation of the primary key -> CORE_ERR_CONFLICT -> HTTP 409. */

static void concurrent_change_is_409(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                  "{\"name\":\"Candle\",\"description\":\"ours\",\"sku\":\"C-1\",\"price\":5}",
                  candle_id);
    char path[256];
    snprintf(path, sizeof path, "/api/stores/products/%s/rebrand", candle_id);
    struct e2e_async_request r;
    e2e_request_init(&r, app, "PUT", path, "{\"name\":\"Mine\",\"description\":\"mine\"}");

    assert_true(e2e_sql_ok(app, "BEGIN", 0, NULL));
    bool ok = e2e_sql_ok(app, "LOCK TABLE stores.events IN SHARE ROW EXCLUSIVE MODE", 0, NULL);
    bool started = ok && e2e_request_start(&r);
    bool blocked = started && e2e_wait_for_lock_waiter(app, "stores.events", 20000);
    if (blocked) { /* the other client wins: its version 2, and its read-model update */
        const char *const params[] = {candle_id};
        ok = e2e_sql_ok(
                 app,
                 "INSERT INTO stores.events (stream_id, stream_name, stream_version, event_id, "
                 "event_name, event_data, metadata) VALUES ($1, 'stores.Product', 2, "
                 "'rival-event-1', 'stores.ProductRebranded', "
                 "'{\"name\": \"Rival Candle\", \"description\": \"theirs\"}', '{}')",
                 1, params) &&
             e2e_sql_ok(app,
                        "UPDATE stores.products SET name = 'Rival Candle', description = 'theirs' "
                        "WHERE id = $1",
                        1, params);
    }
    bool committed = e2e_sql_ok(app, blocked && ok ? "COMMIT" : "ROLLBACK", 0, NULL);
    e2e_request_join(&r);
    /* the answer is checked before the first assertion, so that a failing one leaks nothing */
    json_t *body = r.response ? json_loads(r.response, 0, NULL) : NULL;
    char want[256];
    snprintf(want, sizeof want,
             "stores.Product %s was changed by someone else (expected version 1, stored version 2)",
             candle_id);
    bool is_409 = e2e_is_error(r.status, body, 409, want);
    json_decref(body);
    e2e_request_release(&r);
    assert_true(started);
    assert_true(blocked);
    assert_true(ok && committed);
    assert_true(is_409);

    /* nothing of the losing request: the rival's version 2 only */
    e2e_expect_sql(app, "1:stores.ProductAdded,2:stores.ProductRebranded",
                   "select string_agg(stream_version || ':' || event_name, ',' order by "
                   "stream_version) from stores.events where stream_id = $1",
                   candle_id);
    e2e_expect_sql(app, "Rival Candle",
                   "select event_data->>'name' from stores.events where "
                   "stream_id = $1 and stream_version = 2",
                   candle_id);
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/products/%s", candle_id), NULL);
    e2e_expect_json_str(j, "product.name", "Rival Candle");
    json_decref(j);

    /* the client retries: it loads version 2 and appends version 3 */
    json_decref(e2e_expect_ok(app, "PUT", path, "{\"name\":\"Mine\",\"description\":\"mine\"}"));
    e2e_expect_sql(app, "3", "select max(stream_version) from stores.events where stream_id = $1",
                   candle_id);
    j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/products/%s", candle_id), NULL);
    e2e_expect_json_str(j, "product.name", "Mine");
    e2e_expect_json_str(j, "product.description", "mine");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_and_product_exist),
        cmocka_unit_test(rebrand_store),
        cmocka_unit_test(rebrand_product),
        cmocka_unit_test(change_prices),
        cmocka_unit_test(events_are_readable_in_order),
        cmocka_unit_test(removed_product_is_gone),
        cmocka_unit_test(concurrent_change_is_409),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    return e2e_run_group("stores-es", &app, tests);
}
