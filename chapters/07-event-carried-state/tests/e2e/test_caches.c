/* test_caches.c -- end to end (chapter 07): event-carried state transfer. A store and a product
 * made over REST reach the caches of baskets and depot through the stream; price changes follow;
 * a basket's AddItem reads the product from the cache, and after the row is deleted from the
 * cache, AddItem still works (the fallback asks stores) and the row is back.
 *
 * One program on a fresh database, with a nats-server of its own (e2e_open, chapter 06 on). Every
 * wait is bounded (WAIT_MS) and looks only for this run's rows. The tests run in order and build
 * on each other. Nothing asserts on time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core.h"
#include "e2e.h"

#define WAIT_MS 60000 /* upper bound of every wait: a failure, not a measurement */

static e2e_app *app;
static char store_id[E2E_ID_MAX], product_id[E2E_ID_MAX], customer_id[E2E_ID_MAX];

/* Waits until sql (one parameter) answers want; fails the test with what it answered last. */
static void wait_for_sql(const char *want, const char *sql, const char *param)
{
    const char *p[] = {param};
    char last[256] = "(no row)";
    for (int waited = 0; waited <= WAIT_MS; waited += 50) {
        char *v = e2e_sql_value(app, sql, 1, p);
        bool ok = v && strcmp(v, want) == 0;
        if (v)
            snprintf(last, sizeof last, "%s", v);
        core_free(v);
        if (ok)
            return;
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    fail_msg("waited %d ms for \"%s\" from %s ($1 = %s); last answer: %s", WAIT_MS, want, sql,
             param, last);
}

#define BASKETS_PRODUCT                                                                            \
    "SELECT store_id || '|' || name || '|' || price::text FROM baskets.products_cache "            \
    "WHERE id = $1"
#define DEPOT_PRODUCT "SELECT store_id || '|' || name FROM depot.products_cache WHERE id = $1"

/* A store and a product over REST: both caches of both modules get them through the stream. */
static void new_store_and_product_reach_the_caches(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", "/api/stores",
                  "{\"name\":\"Cache Corner\",\"location\":\"Ground Floor\"}", store_id);
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                  "{\"name\":\"Atlas\",\"description\":\"maps\",\"sku\":\"AT-1\",\"price\":20}",
                  product_id);
    wait_for_sql("Cache Corner", "SELECT name FROM baskets.stores_cache WHERE id = $1", store_id);
    wait_for_sql("Cache Corner|Ground Floor",
                 "SELECT name || '|' || location FROM depot.stores_cache WHERE id = $1", store_id);
    wait_for_sql(E2E_F("%s|Atlas|20.0000", store_id), BASKETS_PRODUCT, product_id);
    wait_for_sql(E2E_F("%s|Atlas", store_id), DEPOT_PRODUCT, product_id);
    /* rows from the stream carry the message's stream sequence, never 0 (the fallback's) */
    e2e_expect_sql(app, "t", "SELECT seq > 0 FROM baskets.products_cache WHERE id = $1",
                   product_id);
}

/* Two price changes: the baskets' cache follows each (the message carries the new price). */
static void price_changes_reach_the_cache(void **state)
{
    (void)state;
    json_decref(e2e_expect_ok(
        app, "PUT", E2E_F("/api/stores/products/%s/increasePrice", product_id), "{\"price\":25}"));
    wait_for_sql(E2E_F("%s|Atlas|25.0000", store_id), BASKETS_PRODUCT, product_id);
    json_decref(e2e_expect_ok(app, "PUT",
                              E2E_F("/api/stores/products/%s/decreasePrice", product_id),
                              "{\"price\":22.5}"));
    wait_for_sql(E2E_F("%s|Atlas|22.5000", store_id), BASKETS_PRODUCT, product_id);
    /* a rebrand reaches both modules */
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/products/%s/rebrand", product_id),
                              "{\"name\":\"Atlas XL\",\"description\":\"big maps\"}"));
    wait_for_sql(E2E_F("%s|Atlas XL|22.5000", store_id), BASKETS_PRODUCT, product_id);
    wait_for_sql(E2E_F("%s|Atlas XL", store_id), DEPOT_PRODUCT, product_id);
}

/* The price of the basket line, after adding quantity of the product to a new basket. */
static double add_to_new_basket(int quantity, char basket_id[E2E_ID_MAX])
{
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  basket_id);
    json_decref(
        e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                      E2E_F("{\"productId\":\"%s\",\"quantity\":%d}", product_id, quantity)));
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/baskets/%s", basket_id), NULL);
    e2e_expect_json_str(j, "basket.items.0.productId", product_id);
    e2e_expect_json_str(j, "basket.items.0.storeName", "Cache Corner");
    double price = e2e_json_num(j, "basket.items.0.productPrice");
    json_decref(j);
    return price;
}

/* AddItem reads the cache: a price written into the cache row by hand (stores still says 22.5)
 * is the price the basket line gets. */
static void add_item_reads_the_cache(void **state)
{
    (void)state;
    char basket_id[E2E_ID_MAX];
    e2e_expect_id(app, "POST", "/api/customers",
                  "{\"name\":\"Cache Shopper\",\"smsNumber\":\"555-0199\"}", customer_id);
    const char *p[] = {product_id};
    assert_true(
        e2e_sql_ok(app, "UPDATE baskets.products_cache SET price = 1.25 WHERE id = $1", 1, p));
    assert_true(add_to_new_basket(2, basket_id) == 1.25);
    /* put the right price back */
    assert_true(
        e2e_sql_ok(app, "UPDATE baskets.products_cache SET price = 22.5 WHERE id = $1", 1, p));
}

/* A row missing from the cache: AddItem asks stores (the fallback), gets the current row and the
 * cache has it again, as a row of the fallback (seq 0). */
static void missing_row_is_fetched_and_kept(void **state)
{
    (void)state;
    char basket_id[E2E_ID_MAX];
    const char *p[] = {product_id};
    assert_true(e2e_sql_ok(app, "DELETE FROM baskets.products_cache WHERE id = $1", 1, p));
    e2e_expect_sql(app, NULL, BASKETS_PRODUCT, product_id);
    assert_true(add_to_new_basket(3, basket_id) == 22.5);
    e2e_expect_sql(app, E2E_F("%s|Atlas XL|22.5000|0", store_id),
                   "SELECT store_id || '|' || name || '|' || price::text || '|' || seq "
                   "FROM baskets.products_cache WHERE id = $1",
                   product_id);
    /* and the next price change updates the fallback's row */
    json_decref(e2e_expect_ok(
        app, "PUT", E2E_F("/api/stores/products/%s/increasePrice", product_id), "{\"price\":30}"));
    wait_for_sql(E2E_F("%s|Atlas XL|30.0000", store_id), BASKETS_PRODUCT, product_id);
}

/* A removed product leaves both caches, and a basket can no longer add it. */
static void removed_product_leaves_the_caches(void **state)
{
    (void)state;
    char basket_id[E2E_ID_MAX];
    json_decref(e2e_expect_ok(app, "DELETE", E2E_F("/api/stores/products/%s", product_id), NULL));
    wait_for_sql("0", "SELECT count(*)::text FROM baskets.products_cache WHERE id = $1",
                 product_id);
    wait_for_sql("0", "SELECT count(*)::text FROM depot.products_cache WHERE id = $1", product_id);
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  basket_id);
    e2e_expect_error(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                     E2E_F("{\"productId\":\"%s\",\"quantity\":1}", product_id), 404,
                     E2E_F("product %s not found", product_id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_store_and_product_reach_the_caches),
        cmocka_unit_test(price_changes_reach_the_cache),
        cmocka_unit_test(add_item_reads_the_cache),
        cmocka_unit_test(missing_row_is_fetched_and_kept),
        cmocka_unit_test(removed_product_leaves_the_caches),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    return e2e_run_group("caches", &app, tests);
}
