/* test_ordering_es.c -- end to end (chapter 05): orders and baskets event-sourced, through the
 * REST API and the database.
 *
 * One mallbots process on a fresh database for the file, with ES_SNAPSHOT_EVERY=3 (the default,
 * set explicitly so an operator's setting cannot change the test). A whole order lifecycle runs
 * through the REST API (store, product, customer, basket, payment, checkout, the bot shops, the
 * invoice is paid); then:
 *   - the order's events are read in order with the query a learner would type in psql
 *         SELECT stream_version, event_name, event_data FROM ordering.events
 *         WHERE stream_id = $1 ORDER BY stream_version
 *     -- OrderCreated, OrderReadied, OrderInvoiced, OrderCompleted with their JSON payloads and
 *     metadata; the basket's events likewise;
 *   - a snapshot row exists once the order reached version 3 ("ordering.OrderV1" at version 3,
 *     the state after OrderInvoiced), and the basket's ("baskets.BasketV1" at version 3); a load
 *     starts from the snapshot (a doctored snapshot shows through GET, then is put back);
 *   - unknown ids answer 404 with a clear message;
 *   - a concurrent change of a basket, made deterministic with a table lock, answers 409 with
 *     the conflict message, stores nothing of the losing request, and a retry succeeds.
 * The last test expects a clean shutdown.
 *
 * The tests run in order and build on each other (ids are kept in file-level variables).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "e2e.h"

static e2e_app *app;
static char store_id[E2E_ID_MAX], product_id[E2E_ID_MAX], customer_id[E2E_ID_MAX];
static char basket_id[E2E_ID_MAX], payment_id[E2E_ID_MAX], shopping_id[E2E_ID_MAX],
    invoice_id[E2E_ID_MAX];

/* The psql query of the chapter (es.h), folded into one text: "1:ordering.OrderCreated,...". */
#define SQL_ORDER_STREAM                                                                           \
    "select string_agg(stream_version || ':' || event_name, ',' order by stream_version) from ("   \
    "SELECT stream_version, event_name, event_data FROM ordering.events "                          \
    "WHERE stream_id = $1 ORDER BY stream_version) e"

/* Copies the string at path of j into out (E2E_ID_MAX); false when missing or empty. */
static bool keep_str(json_t *j, const char *path, char out[E2E_ID_MAX])
{
    const char *v = e2e_json_str(j, path);
    if (!v || !*v || strlen(v) >= E2E_ID_MAX)
        return false;
    snprintf(out, E2E_ID_MAX, "%s", v);
    return true;
}

static void an_order_goes_through_its_whole_life(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", "/api/stores",
                  "{\"name\":\"Sourcing Sweets\",\"location\":\"Level 2\"}", store_id);
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                  "{\"name\":\"Fudge\",\"description\":\"sweet\",\"sku\":\"F-1\",\"price\":4.5}",
                  product_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/participating", store_id), NULL));
    e2e_expect_id(app, "POST", "/api/customers",
                  "{\"name\":\"Eve Sourcing\",\"smsNumber\":\"555-0199\"}", customer_id);
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  basket_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":4}", product_id)));
    e2e_expect_id(app, "POST", "/api/payments",
                  E2E_F("{\"customerId\":\"%s\",\"amount\":18}", customer_id), payment_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket_id),
                              E2E_F("{\"paymentId\":\"%s\"}", payment_id)));

    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", basket_id), NULL);
    bool has_shopping = keep_str(j, "order.shoppingId", shopping_id);
    e2e_expect_json_str(j, "order.status", "pending");
    json_decref(j);
    assert_true(has_shopping);

    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/assign", shopping_id),
                              "{\"botId\":\"bot-5\"}"));
    json_decref(
        e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/complete", shopping_id), NULL));
    j = e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", basket_id), NULL);
    bool has_invoice = keep_str(j, "order.invoiceId", invoice_id); /* shown once it exists */
    e2e_expect_json_str(j, "order.status", "ready");
    json_decref(j);
    assert_true(has_invoice);

    json_decref(
        e2e_expect_ok(app, "PUT", E2E_F("/api/payments/invoices/%s/pay", invoice_id), NULL));
    j = e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", basket_id), NULL);
    e2e_expect_json_str(j, "order.status", "completed");
    e2e_expect_json_str(j, "order.invoiceId", invoice_id);
    e2e_expect_json_str(j, "order.shoppingId", shopping_id);
    e2e_expect_json_str(j, "order.customerId", customer_id);
    e2e_expect_json_num(j, "order.items.0.quantity", 4);
    json_decref(j);
}

/* The order is its four events, in order, with their data as JSON and their metadata. */
static void the_order_events_are_readable_in_order(void **state)
{
    (void)state;
    e2e_expect_sql(app,
                   "1:ordering.OrderCreated,2:ordering.OrderReadied,3:ordering.OrderInvoiced,"
                   "4:ordering.OrderCompleted",
                   SQL_ORDER_STREAM, basket_id);
    /* the payloads (lowerCamelCase keys, proto3 JSON) */
    e2e_expect_sql(app, customer_id,
                   "select event_data->>'customerId' from ordering.events where stream_id = $1 "
                   "and stream_version = 1",
                   basket_id);
    e2e_expect_sql(app, shopping_id,
                   "select event_data->>'shoppingId' from ordering.events where stream_id = $1 "
                   "and stream_version = 1",
                   basket_id);
    e2e_expect_sql(app, "1",
                   "select jsonb_array_length(event_data->'items') from ordering.events where "
                   "stream_id = $1 and stream_version = 1",
                   basket_id);
    e2e_expect_sql(app, "Fudge",
                   "select event_data->'items'->0->>'productName' from ordering.events where "
                   "stream_id = $1 and stream_version = 1",
                   basket_id);
    e2e_expect_sql(app, "18",
                   "select (event_data->>'total')::numeric::text from ordering.events where "
                   "stream_id = $1 and stream_version = 2",
                   basket_id);
    e2e_expect_sql(app, invoice_id,
                   "select event_data->>'invoiceId' from ordering.events where stream_id = $1 "
                   "and stream_version = 3",
                   basket_id);
    e2e_expect_sql(app, invoice_id,
                   "select event_data->>'invoiceId' from ordering.events where stream_id = $1 "
                   "and stream_version = 4",
                   basket_id);
    /* every event's metadata names its aggregate and version */
    e2e_expect_sql(app, "4",
                   "select count(*) from ordering.events where stream_id = $1 and "
                   "stream_name = 'ordering.Order' and metadata->>'aggregate-name' = "
                   "'ordering.Order' and metadata->>'aggregate-id' = stream_id and "
                   "metadata->>'aggregate-version' = stream_version::text",
                   basket_id);
    /* the basket that became the order (same id, its own stream) */
    e2e_expect_sql(app,
                   "1:baskets.BasketStarted,2:baskets.BasketItemAdded,3:baskets.BasketCheckedOut",
                   "select string_agg(stream_version || ':' || event_name, ',' order by "
                   "stream_version) from baskets.events where stream_id = $1",
                   basket_id);
    e2e_expect_sql(app, payment_id,
                   "select event_data->>'paymentId' from baskets.events where stream_id = $1 and "
                   "event_name = 'baskets.BasketCheckedOut'",
                   basket_id);
    /* nothing in the dropped CRUD tables' place */
    e2e_expect_sql(app, "0",
                   "select count(*) from information_schema.tables where (table_schema, "
                   "table_name) in (('baskets', 'baskets'), ('ordering', 'orders'))",
                   NULL);
}

/* ES_SNAPSHOT_EVERY=3: the save that took the order to version 3 (OrderInvoiced) wrote its
 * snapshot; version 4 did not cross the next multiple, so the snapshot stays at 3. */
static void a_snapshot_exists_from_version_three(void **state)
{
    (void)state;
    e2e_expect_sql(app, "3:ordering.OrderV1",
                   "select stream_version || ':' || snapshot_name from ordering.snapshots where "
                   "stream_id = $1 and stream_name = 'ordering.Order'",
                   basket_id);
    e2e_expect_sql(app, "ready",
                   "select snapshot_data->>'status' from ordering.snapshots where stream_id = $1",
                   basket_id);
    e2e_expect_sql(
        app, invoice_id,
        "select snapshot_data->>'invoiceId' from ordering.snapshots where stream_id = $1",
        basket_id);
    e2e_expect_sql(app, shopping_id,
                   "select snapshot_data->>'shoppingId' from ordering.snapshots where stream_id = "
                   "$1",
                   basket_id);
    /* the basket reached version 3 with its checkout */
    e2e_expect_sql(app, "3:baskets.BasketV1:checked_out",
                   "select stream_version || ':' || snapshot_name || ':' || "
                   "(snapshot_data->>'status') from baskets.snapshots where stream_id = $1",
                   basket_id);
}

/* A load starts from the snapshot and applies only the later events: doctor the snapshot and the
 * API shows it (then put it back). */
static void a_load_starts_from_the_snapshot(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    const char *const params[] = {basket_id};
    assert_int_equal(e2e_sql_exec(app,
                                  "update ordering.snapshots set snapshot_data = jsonb_set("
                                  "snapshot_data, '{customerId}', '\"from-the-snapshot\"') "
                                  "where stream_id = $1",
                                  1, params, &err),
                     CORE_OK);
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", basket_id), NULL);
    e2e_expect_json_str(j, "order.customerId", "from-the-snapshot");
    e2e_expect_json_str(j, "order.status", "completed"); /* + event 4 */
    json_decref(j);
    assert_int_equal(e2e_sql_exec(app,
                                  "update ordering.snapshots set snapshot_data = jsonb_set("
                                  "snapshot_data, '{customerId}', to_jsonb($2::text)) "
                                  "where stream_id = $1",
                                  2, (const char *const[]){basket_id, customer_id}, &err),
                     CORE_OK);
    /* without a snapshot the order is rebuilt from all four events */
    assert_int_equal(
        e2e_sql_exec(app, "delete from ordering.snapshots where stream_id = $1", 1, params, &err),
        CORE_OK);
    j = e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", basket_id), NULL);
    e2e_expect_json_str(j, "order.customerId", customer_id);
    e2e_expect_json_str(j, "order.status", "completed");
    e2e_expect_json_str(j, "order.invoiceId", invoice_id);
    json_decref(j);
}

static void unknown_ids_are_404(void **state)
{
    (void)state;
    e2e_expect_error(app, "GET", "/api/ordering/no-such-order", NULL, 404,
                     "order no-such-order not found");
    e2e_expect_error(app, "DELETE", "/api/ordering/no-such-order", NULL, 404,
                     "order no-such-order not found");
    e2e_expect_error(app, "GET", "/api/baskets/no-such-basket", NULL, 404,
                     "basket no-such-basket not found");
    e2e_expect_error(app, "PUT", "/api/baskets/no-such-basket/checkout", "{\"paymentId\":\"p\"}",
                     404, "basket no-such-basket not found");
    /* nothing was stored for them */
    e2e_expect_sql(app, "0",
                   "select (select count(*) from ordering.events where stream_id = $1) + "
                   "(select count(*) from baskets.events where stream_id = 'no-such-basket')",
                   "no-such-order");
}

/* ---- a concurrent change: 409 ----------------------------------------------------------------
 * Two clients change the same basket at once. To make the race deterministic the test plays the
 * OTHER client in SQL on its own connection: it locks baskets.events against writers (SHARE ROW
 * EXCLUSIVE: reads go on, inserts wait), sends the API's addItem from a thread, waits until the
 * app's INSERT is blocked on the lock (pg_locks) -- so the app has loaded the basket at version 1
 * and checked it -- then appends its own version 2 and commits. The app's insert then meets the
 * committed version 2: unique violation of the primary key -> CORE_ERR_CONFLICT -> HTTP 409. */

static void a_concurrent_basket_change_is_409(void **state)
{
    (void)state;
    char basket[E2E_ID_MAX];
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  basket);
    char path[256], body[256];
    snprintf(path, sizeof path, "/api/baskets/%s/addItem", basket);
    snprintf(body, sizeof body, "{\"productId\":\"%s\",\"quantity\":2}", product_id);
    struct e2e_async_request r;
    e2e_request_init(&r, app, "PUT", path, body);

    assert_true(e2e_sql_ok(app, "BEGIN", 0, NULL));
    bool ok = e2e_sql_ok(app, "LOCK TABLE baskets.events IN SHARE ROW EXCLUSIVE MODE", 0, NULL);
    bool started = ok && e2e_request_start(&r);
    bool blocked = started && e2e_wait_for_lock_waiter(app, "baskets.events", 20000);
    if (blocked) { /* the other client wins: it adds 1 of the product, as version 2 */
        const char *const params[] = {basket, product_id, store_id};
        ok = e2e_sql_ok(
            app,
            "INSERT INTO baskets.events (stream_id, stream_name, stream_version, "
            "event_id, event_name, event_data, metadata) VALUES ($1, 'baskets.Basket', 2, "
            "'rival-event-1', 'baskets.BasketItemAdded', jsonb_build_object('item', "
            "jsonb_build_object('storeId', $3::text, 'productId', $2::text, 'storeName', "
            "'Sourcing Sweets', 'productName', 'Fudge', 'productPrice', 4.5, 'quantity', "
            "1)), '{}')",
            3, params);
    }
    bool committed = e2e_sql_ok(app, blocked && ok ? "COMMIT" : "ROLLBACK", 0, NULL);
    e2e_request_join(&r);
    /* the answer is checked before the first assertion, so that a failing one leaks nothing */
    json_t *resp = r.response ? json_loads(r.response, 0, NULL) : NULL;
    char want[512];
    snprintf(want, sizeof want,
             "saving basket %s: baskets.Basket %s was changed by someone else (expected version "
             "1, stored version 2)",
             basket, basket);
    bool is_409 = e2e_is_error(r.status, resp, 409, want);
    json_decref(resp);
    e2e_request_release(&r);
    assert_true(started);
    assert_true(blocked);
    assert_true(ok && committed);
    assert_true(is_409);

    /* nothing of the losing request: the rival's version 2 only */
    e2e_expect_sql(app, "1:baskets.BasketStarted,2:baskets.BasketItemAdded",
                   "select string_agg(stream_version || ':' || event_name, ',' order by "
                   "stream_version) from baskets.events where stream_id = $1",
                   basket);
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/baskets/%s", basket), NULL);
    e2e_expect_json_num(j, "basket.items.0.quantity", 1);
    json_decref(j);

    /* the client sends it again: loads version 2, appends version 3 */
    json_decref(e2e_expect_ok(app, "PUT", path, body));
    j = e2e_expect_ok(app, "GET", E2E_F("/api/baskets/%s", basket), NULL);
    e2e_expect_json_num(j, "basket.items.0.quantity", 3);
    json_decref(j);
    e2e_expect_sql(app, "3", "select max(stream_version) from baskets.events where stream_id = $1",
                   basket);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_order_goes_through_its_whole_life),
        cmocka_unit_test(the_order_events_are_readable_in_order),
        cmocka_unit_test(a_snapshot_exists_from_version_three),
        cmocka_unit_test(a_load_starts_from_the_snapshot),
        cmocka_unit_test(unknown_ids_are_404),
        cmocka_unit_test(a_concurrent_basket_change_is_409),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    setenv("ES_SNAPSHOT_EVERY", "3", 1); /* the program inherits the test's environment */
    return e2e_run_group("ordering-es", &app, tests);
}
