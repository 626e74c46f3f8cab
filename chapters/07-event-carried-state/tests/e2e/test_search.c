/* test_search.c -- end to end (chapter 07): the search module's two routes on the running
 * program, fed by order events on a real NATS JetStream stream.
 *
 * One mallbots process on a fresh database, with a nats-server of its own (e2e_open starts one
 * from chapter 06 on), so that the "search-orders" group sees only this file's messages. The test
 * publishes ordering's integration events itself (the core's client, am_event_publish) with the
 * ids of a customer, a store and two products it created over REST, and follows the order with
 * GET /api/search/orders/{id} as each event arrives: "New" with the names filled in (from
 * search's caches, fed by the customers' and stores' events, or asked of their owners), then "Ready
 * For Pickup", then "Completed"; another order "Canceled". Then it seeds search.orders directly
 * with orders of known times, customers, stores, products, totals and statuses, and checks POST
 * /api/search/orders over JSON: each filter, the default page and keyset paging through "next", and
 * that every malformed input is a 400 whose message names it. The tests run in order and build on
 * each other. Waits are bounded; nothing asserts on time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "am.h"
#include "e2e.h"
#include "natsd.h"
#include "order_wait.h"
#include "ordering/events.h"
#include "pb.h"
#include "rpc.h"
#include "search/api.pb-c.h"

#define WAIT_MS 30000 /* upper bound of every wait: a failure, not a measurement */

static e2e_app *app;
static am_stream *writer; /* the test's own connection to the program's stream, playing ordering */
static char customer_id[E2E_ID_MAX], store_id[E2E_ID_MAX], lamp_id[E2E_ID_MAX],
    candle_id[E2E_ID_MAX];
static char order1[CORE_UUID_LEN + 1], order2[CORE_UUID_LEN + 1];

/* The test's connection to the program's broker, made on first use. */
static am_stream *stream(void)
{
    core_err err = CORE_ERR_INIT;
    if (!writer) {
        struct am_js_opts o = AM_JS_OPTS_INIT;
        assert_non_null(e2e_app_broker(app));
        o.url = e2e_app_broker(app)->url;
        o.stream = "mallbots";
        o.name = "test_search";
        if (am_js_stream_new(&writer, &o, &err) != CORE_OK)
            fail_msg("connecting to %s: %s", o.url, err.msg);
    }
    return writer;
}

static void publish(const char *name, ProtobufCMessage *payload)
{
    core_err err = CORE_ERR_INIT;
    ddd_event *ev = NULL;
    assert_non_null(payload);
    stream();
    assert_int_equal(ddd_event_new(&ev, name, &payload, &err), CORE_OK);
    if (am_event_publish(writer, ORDERING_ORDER_CHANNEL, ev, &err))
        fail_msg("publishing %s: %s", name, err.msg);
    ddd_event_free(ev);
}

/* Waits until GET /api/search/orders/{id} answers 200 with status want; returns that body. */
static json_t *wait_for_status(const char *id, const char *want)
{
    struct timespec pause = {0, 50 * 1000 * 1000};
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        int status = 0;
        json_t *j = e2e_call(app, "GET", E2E_F("/api/search/orders/%s", id), NULL, &status);
        const char *s = e2e_json_str(j, "order.status");
        if (status == 200 && s && strcmp(s, want) == 0)
            return j;
        json_decref(j);
        nanosleep(&pause, NULL);
    }
    fail_msg("order %s did not reach status \"%s\" within %d ms", id, want, WAIT_MS);
    return NULL;
}

static void unknown_and_blank_ids(void **state)
{
    (void)state;
    e2e_expect_error(app, "GET", "/api/search/orders/nope", NULL, 404, "order nope not found");
    e2e_expect_error(app, "GET", "/api/search/orders/%20", NULL, 400,
                     "the order id cannot be blank");
    e2e_expect_error_like(app, "DELETE", "/api/search/orders/nope", NULL, 405, NULL);
}

static void an_order_is_followed_from_new_to_completed(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    e2e_expect_id(app, "POST", "/api/customers", "{\"name\":\"Ada\",\"smsNumber\":\"555-0100\"}",
                  customer_id);
    e2e_expect_id(app, "POST", "/api/stores", "{\"name\":\"Lamp Land\",\"location\":\"East\"}",
                  store_id);
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                  "{\"name\":\"Lava Lamp\",\"sku\":\"LL-1\",\"price\":9.99}", lamp_id);
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                  "{\"name\":\"Candle\",\"sku\":\"C-1\",\"price\":2.5}", candle_id);

    core_uuid_new(order1);
    Ordersapi__OrderCreated *c = pb_new_of(ordersapi__order_created);
    assert_non_null(c);
    assert_non_null(c->items = core_calloc(2, sizeof *c->items));
    const char *pids[] = {lamp_id, candle_id};
    const double prices[] = {9.99, 2.5};
    for (int i = 0; i < 2; i++) {
        Ordersapi__OrderCreated__Item *it = pb_new_of(ordersapi__order_created__item);
        assert_non_null(it);
        c->items[c->n_items++] = it;
        assert_int_equal(pb_set_string(&it->product_id, pids[i], &err), CORE_OK);
        assert_int_equal(pb_set_string(&it->store_id, store_id, &err), CORE_OK);
        it->price = prices[i];
        it->quantity = i + 1;
    }
    assert_int_equal(pb_set_string(&c->id, order1, &err), CORE_OK);
    assert_int_equal(pb_set_string(&c->customer_id, customer_id, &err), CORE_OK);
    publish(ORDERSAPI_ORDER_CREATED, &c->base);

    json_t *j = wait_for_status(order1, "New");
    e2e_expect_json_str(j, "order.orderId", order1);
    e2e_expect_json_str(j, "order.customerId", customer_id);
    e2e_expect_json_str(j, "order.customerName", "Ada");
    e2e_expect_json_num(j, "order.total", 9.99 + 2 * 2.5);
    assert_int_equal(e2e_json_len(j, "order.items"), 2);
    e2e_expect_json_str(j, "order.items.0.productName", "Lava Lamp");
    e2e_expect_json_str(j, "order.items.0.storeName", "Lamp Land");
    e2e_expect_json_str(j, "order.items.0.storeId", store_id);
    e2e_expect_json_num(j, "order.items.0.price", 9.99);
    e2e_expect_json_str(j, "order.items.1.productName", "Candle");
    e2e_expect_json_str(j, "order.items.1.quantity", "2"); /* int64: a string in JSON */
    assert_non_null(e2e_json_str(j, "order.createdAt"));
    json_decref(j);

    Ordersapi__OrderReadied *r = pb_new_of(ordersapi__order_readied);
    assert_non_null(r);
    assert_int_equal(pb_set_string(&r->id, order1, &err), CORE_OK);
    r->total = 14.99;
    publish(ORDERSAPI_ORDER_READIED, &r->base);
    json_decref(wait_for_status(order1, "Ready For Pickup"));

    Ordersapi__OrderCompleted *x = pb_new_of(ordersapi__order_completed);
    assert_non_null(x);
    assert_int_equal(pb_set_string(&x->id, order1, &err), CORE_OK);
    publish(ORDERSAPI_ORDER_COMPLETED, &x->base);
    json_decref(wait_for_status(order1, "Completed"));

    /* a second order, canceled; its OrderCanceled published before its OrderCreated */
    core_uuid_new(order2);
    Ordersapi__OrderCanceled *k = pb_new_of(ordersapi__order_canceled);
    assert_non_null(k);
    assert_int_equal(pb_set_string(&k->id, order2, &err), CORE_OK);
    publish(ORDERSAPI_ORDER_CANCELED, &k->base);
    c = pb_new_of(ordersapi__order_created);
    assert_non_null(c);
    assert_int_equal(pb_set_string(&c->id, order2, &err), CORE_OK);
    assert_int_equal(pb_set_string(&c->customer_id, customer_id, &err), CORE_OK);
    publish(ORDERSAPI_ORDER_CREATED, &c->base);
    j = wait_for_status(order2, "Canceled");
    e2e_expect_json_str(j, "order.customerName", "Ada");
    json_decref(j);
    e2e_expect_sql(app, "2", "select count(*) from search.orders where customer_id = $1",
                   customer_id);
}

/* ---- POST /api/search/orders over seeded rows ------------------------------------------------ */

/* Seeds 30 orders "seed-00" .. "seed-29": order i at 2026-01-01 + i hours, customer "cust-<i%3>",
 * one item of product "prod-<i%5>" in store "store-<i%2>", total i + 1, status by i % 4. */
/* The customer, the store and the products created over REST reach search's caches through
 * their events (a row from the fallback has seq 0, one from an event its stream sequence). */
static void the_caches_are_fed_by_events(void **state)
{
    (void)state;
    assert_true(order_wait_sql(app, "Ada|true",
                               "select name || '|' || (seq > 0)::text "
                               "from search.customers_cache where id = $1",
                               customer_id));
    assert_true(order_wait_sql(app, "Lamp Land|true",
                               "select name || '|' || (seq > 0)::text "
                               "from search.stores_cache where id = $1",
                               store_id));
    assert_true(order_wait_sql(app, "Candle|true",
                               "select name || '|' || (seq > 0)::text "
                               "from search.products_cache where id = $1",
                               candle_id));
}

static void seed_rows(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    const char *sql =
        "INSERT INTO search.orders (order_id, customer_id, customer_name, total, status, "
        "product_ids, store_ids, created_at) SELECT format('seed-%s', lpad(i::text, 2, '0')), "
        "'cust-' || (i % 3), 'Customer ' || (i % 3), i + 1, (ARRAY['New', 'Ready For Pickup', "
        "'Canceled', 'Completed'])[i % 4 + 1], ARRAY['prod-' || (i % 5)], "
        "ARRAY['store-' || (i % 2)], TIMESTAMPTZ '2026-01-01T00:00:00Z' + i * INTERVAL '1 hour' "
        "FROM generate_series(0, 29) i";
    if (e2e_sql_exec(app, sql, 0, NULL, &err))
        fail_msg("seeding: %s", err.msg);
    sql = "INSERT INTO search.order_items (order_id, position, product_id, store_id, "
          "product_name, store_name, price, quantity) SELECT format('seed-%s', lpad(i::text, 2, "
          "'0')), 0, 'prod-' || (i % 5), 'store-' || (i % 2), 'Product ' || (i % 5), 'Store ' || "
          "(i % 2), i + 1, 1 FROM generate_series(0, 29) i";
    if (e2e_sql_exec(app, sql, 0, NULL, &err))
        fail_msg("seeding items: %s", err.msg);
}

/* POST body -> the orderIds of the answer, joined with ',' into out; returns the answer's next
 * ("" when none) copied into next (size E2E_TEXT_MAX). */
static void search_ids(const char *body, char *out, size_t size, char *next)
{
    json_t *j = e2e_expect_ok(app, "POST", "/api/search/orders", body);
    out[0] = '\0';
    size_t used = 0;
    for (long i = 0; i < e2e_json_len(j, "orders"); i++) {
        const char *id = e2e_json_str(j, E2E_F("orders.%ld.orderId", i));
        assert_non_null(id);
        if (strncmp(id, "seed-", 5) != 0) /* the event-fed orders of the earlier test */
            continue;
        int n = snprintf(out + used, size - used, "%s%s", used ? "," : "", id + 5);
        assert_true(n > 0 && (size_t)n < size - used);
        used += (size_t)n;
    }
    const char *nx = e2e_json_str(j, "next");
    assert_non_null(nx);
    if (next)
        snprintf(next, E2E_TEXT_MAX, "%s", nx);
    json_decref(j);
}

static void expect_ids(const char *body, const char *want)
{
    char got[1024];
    search_ids(body, got, sizeof got, NULL);
    if (strcmp(got, want) != 0)
        fail_msg("POST %s\n  got  %s\n  want %s", body, got, want);
}

static void each_filter_over_json(void **state)
{
    (void)state;
    /* customer 1: i % 3 == 1, newest first */
    expect_ids("{\"filters\":{\"customerId\":\"cust-1\"}}", "28,25,22,19,16,13,10,07,04,01");
    expect_ids("{\"filters\":{\"after\":\"2026-01-02T01:00:00Z\"}}", "29,28,27,26");
    expect_ids("{\"filters\":{\"before\":\"2026-01-01T03:00:00Z\"}}", "02,01,00");
    expect_ids("{\"filters\":{\"after\":\"2026-01-01T02:00:00Z\",\"before\":\"2026-01-01T05:00:00"
               "+00:00\"}}",
               "04,03");
    expect_ids("{\"filters\":{\"storeIds\":[\"store-1\"],\"before\":\"2026-01-01T08:00:00Z\"}}",
               "07,05,03,01");
    expect_ids("{\"filters\":{\"productIds\":[\"prod-2\",\"prod-4\"]}}",
               "29,27,24,22,19,17,14,12,09,07,04,02");
    expect_ids("{\"filters\":{\"minTotal\":26.5}}", "29,28,27,26");
    expect_ids("{\"filters\":{\"maxTotal\":3}}", "02,01,00");
    expect_ids("{\"filters\":{\"minTotal\":10,\"maxTotal\":12}}", "11,10,09");
    expect_ids("{\"filters\":{\"status\":\"Ready For Pickup\"}}", "29,25,21,17,13,09,05,01");
    expect_ids("{\"filters\":{\"customerId\":\"cust-0\",\"storeIds\":[\"store-0\"],\"status\":"
               "\"Canceled\"}}",
               "18,06");
    expect_ids("{\"filters\":{\"storeIds\":[\"store-9\"]}}", "");
}

static void pages_follow_next(void **state)
{
    (void)state;
    char ids[1024], next[E2E_TEXT_MAX], all[1024] = "";
    /* the default page is 20 (of 32 orders: the two event-fed ones and the 30 seeded) */
    json_t *j = e2e_expect_ok(app, "POST", "/api/search/orders", "{}");
    assert_int_equal(e2e_json_len(j, "orders"), 20);
    json_decref(j);
    /* pages of 7 through store-0's 15 orders, a new order arriving between pages */
    search_ids("{\"filters\":{\"storeIds\":[\"store-0\"]},\"limit\":7}", ids, sizeof ids, next);
    assert_string_equal(ids, "28,26,24,22,20,18,16");
    snprintf(all, sizeof all, "%s", ids);
    assert_true(next[0] != '\0');
    core_err err = CORE_ERR_INIT;
    if (e2e_sql_exec(app,
                     "INSERT INTO search.orders (order_id, status, store_ids, created_at) VALUES "
                     "('seed-99', 'New', '{store-0}', TIMESTAMPTZ '2026-03-01T00:00:00Z')",
                     0, NULL, &err))
        fail_msg("%s", err.msg);
    for (int page = 0; next[0]; page++) {
        assert_true(page < 5);
        char body[E2E_TEXT_MAX];
        int n = snprintf(body, sizeof body,
                         "{\"filters\":{\"storeIds\":[\"store-0\"]},\"limit\":7,\"next\":\"%s\"}",
                         next);
        assert_true(n > 0 && (size_t)n < sizeof body);
        search_ids(body, ids, sizeof ids, next);
        size_t len = strlen(all);
        n = snprintf(all + len, sizeof all - len, ",%s", ids);
        assert_true(n > 0 && (size_t)n < sizeof all - len);
    }
    assert_string_equal(all, "28,26,24,22,20,18,16,14,12,10,08,06,04,02,00");
}

static void malformed_input_is_a_400_naming_it(void **state)
{
    (void)state;
    const char *p = "/api/search/orders";
    e2e_expect_error(
        app, "POST", p, "{\"filters\":{\"status\":\"Lost\"}}", 400,
        "filters.status \"Lost\" is not one of: New, Ready For Pickup, Canceled, Completed");
    e2e_expect_error(app, "POST", p, "{\"limit\":101}", 400,
                     "limit must be between 1 and 100 (0 means 20)");
    e2e_expect_error(app, "POST", p, "{\"limit\":-1}", 400,
                     "limit must be between 1 and 100 (0 means 20)");
    e2e_expect_error(app, "POST", p, "{\"next\":\"garbage\"}", 400,
                     "next is not a page token of this search");
    e2e_expect_error(app, "POST", p, "{\"filters\":{\"minTotal\":-1}}", 400,
                     "filters.minTotal cannot be negative");
    e2e_expect_error(app, "POST", p, "{\"filters\":{\"minTotal\":5,\"maxTotal\":4}}", 400,
                     "filters.minTotal is greater than filters.maxTotal");
    e2e_expect_error(app, "POST", p, "{\"filters\":{\"maxTotal\":\"NaN\"}}", 400,
                     "filters.maxTotal is not a number");
    e2e_expect_error(app, "POST", p,
                     "{\"filters\":{\"after\":\"2026-01-02T00:00:00Z\",\"before\":\"2026-01-01T00:"
                     "00:00Z\"}}",
                     400, "filters.after is not earlier than filters.before");
    e2e_expect_error(app, "POST", p, "{\"filters\":{\"storeIds\":[\"\"]}}", 400,
                     "filters.storeIds[0] cannot be blank");
    /* what the gateway refuses before search sees it: it names the field too */
    e2e_expect_error_like(app, "POST", p, "{\"filters\":{\"after\":\"yesterday\"}}", 400, "after");
    e2e_expect_error_like(app, "POST", p, "{\"filters\":{\"customerID\":\"x\"}}", 400,
                          "customerID");
    e2e_expect_error_like(app, "POST", p, "{\"limit\":\"many\"}", 400, "limit");
    /* a token of the right alphabet but not ours ("1.1.": no order id) */
    e2e_expect_error(app, "POST", p, "{\"next\":\"MS4xLg\"}", 400,
                     "next is not a page token of this search");
}

/* The RPC port takes binary requests, which can carry times no JSON text can: refused, named. */
static void an_out_of_range_time_over_rpc_is_refused(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    rpc_client *client = NULL;
    assert_int_equal(rpc_client_new(&client, "127.0.0.1", e2e_app_rpc_port(app), 10000, &err),
                     CORE_OK);
    const int64_t seconds[] = {INT64_MAX, INT64_MIN, 253402300800LL, 0};
    const int32_t nanos[] = {0, 0, 0, -1};
    for (int i = 0; i < 4; i++) {
        Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        Searchpb__SearchOrdersRequest__Filters f = SEARCHPB__SEARCH_ORDERS_REQUEST__FILTERS__INIT;
        Searchpb__SearchOrdersRequest req = SEARCHPB__SEARCH_ORDERS_REQUEST__INIT;
        t.seconds = seconds[i];
        t.nanos = nanos[i];
        if (i % 2)
            f.before = &t;
        else
            f.after = &t;
        req.filters = &f;
        ProtobufCMessage *resp = NULL;
        core_status st = rpc_call(client, &searchpb__search_service__descriptor, "SearchOrders",
                                  &req.base, &resp, &err);
        pb_free(resp);
        assert_int_equal(st, CORE_ERR_INVALID);
        assert_string_equal(err.msg, i % 2 ? "filters.before is not a valid time"
                                           : "filters.after is not a valid time");
    }
    rpc_client_free(client);
    assert_true(e2e_app_running(app));
}

static void search_has_its_own_group(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct am_group_info info;
    assert_int_equal(am_stream_group_info(stream(), "search-orders", &info, &err), CORE_OK);
    assert_true(info.pending == 0);
    assert_true(info.ack_pending == 0);
    /* notifications consumes the same events in a group of its own: each group gets every event
     * (the book's search shares notification-orders, so each event reaches only one of them) */
    uint64_t search_floor = info.ack_floor;
    assert_int_equal(am_stream_group_info(stream(), "notification-orders", &info, &err), CORE_OK);
    assert_true(info.pending == 0);
    assert_true(search_floor > 0 && info.ack_floor > 0);
    /* and search's caches have theirs */
    assert_int_equal(am_stream_group_info(stream(), "search-customers", &info, &err), CORE_OK);
    assert_int_equal(am_stream_group_info(stream(), "search-stores", &info, &err), CORE_OK);
    assert_int_equal(am_stream_group_info(stream(), "search-products", &info, &err), CORE_OK);
    am_stream_free(writer); /* while the broker runs (the program's shutdown stops it) */
    writer = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unknown_and_blank_ids),
        cmocka_unit_test(an_order_is_followed_from_new_to_completed),
        cmocka_unit_test(the_caches_are_fed_by_events),
        cmocka_unit_test(seed_rows),
        cmocka_unit_test(each_filter_over_json),
        cmocka_unit_test(pages_follow_next),
        cmocka_unit_test(malformed_input_is_a_400_naming_it),
        cmocka_unit_test(an_out_of_range_time_over_rpc_is_refused),
        cmocka_unit_test(search_has_its_own_group),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    int rc = e2e_run_group("search", &app, tests);
    am_stream_free(writer);
    am_js_library_close();
    return rc;
}
