/* test_lifecycle.c -- end to end: the whole life of an order through the REST API alone.
 *
 * One mallbots process on a fresh database for the file (group setup), driven like a user with
 * curl would: a store with a product joins the kiosk program, a customer fills a basket, pays
 * and checks out; the depot's bot picks the shopping list; the order becomes ready, its invoice
 * is paid and the order is completed. After each step the test also reads the database rows the
 * modules wrote (each module in its own schema). The last test stops the program and expects a
 * clean shutdown (exit 0; under AddressSanitizer a leak fails it).
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

#define SEED_STORE "bd9e26cd-d861-4b74-862f-06e0825c7af3"
#define SEED_PRODUCT "557e2f05-b10a-475c-baff-2cea8a86d8df"
#define SEED_CUSTOMER "f0e2d41a-a485-4008-b578-747732ae1089"

static e2e_app *app;
static char store_id[E2E_ID_MAX], product_id[E2E_ID_MAX], customer_id[E2E_ID_MAX];
static char basket_id[E2E_ID_MAX], payment_id[E2E_ID_MAX], shopping_id[E2E_ID_MAX],
    invoice_id[E2E_ID_MAX];

/* GET /api/ordering/{basket_id}: the order checkout created (its id is the basket's id). */
static json_t *get_order(void)
{
    return e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", basket_id), NULL);
}

static void seed_rows_exist(void **state)
{
    (void)state;
    json_t *j = e2e_expect_ok(app, "GET", "/api/stores/" SEED_STORE, NULL);
    e2e_expect_json_str(j, "store.id", SEED_STORE);
    e2e_expect_json_str(j, "store.name", "Waldorf Books");
    e2e_expect_json_str(j, "store.location", "West Upper Level");
    assert_true(json_is_false(e2e_json_at(j, "store.participating")));
    json_decref(j);

    j = e2e_expect_ok(app, "GET", "/api/stores/products/" SEED_PRODUCT, NULL);
    e2e_expect_json_str(j, "product.storeId", SEED_STORE);
    e2e_expect_json_str(j, "product.name", "EDA with Golang");
    e2e_expect_json_str(j, "product.sku", "1234");
    e2e_expect_json_num(j, "product.price", 49.99);
    json_decref(j);

    j = e2e_expect_ok(app, "GET", "/api/customers/" SEED_CUSTOMER, NULL);
    e2e_expect_json_str(j, "customer.name", "Buyer #1");
    e2e_expect_json_str(j, "customer.smsNumber", "555-1212");
    assert_true(json_is_true(e2e_json_at(j, "customer.enabled")));
    json_decref(j);

    /* the seed is one store, one product, one customer */
    j = e2e_expect_ok(app, "GET", "/api/stores", NULL);
    assert_int_equal(e2e_json_len(j, "stores"), 1);
    e2e_expect_json_str(j, "stores.0.id", SEED_STORE);
    json_decref(j);
    e2e_expect_sql(app, "1", "select count(*) from stores.products", NULL);
    e2e_expect_sql(app, "1", "select count(*) from customers.customers", NULL);
}

static void store_with_product_joins_the_program(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", "/api/stores",
                  "{\"name\":\"Lifecycle Lamps\",\"location\":\"East Wing\"}", store_id);
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/%s", store_id), NULL);
    e2e_expect_json_str(j, "store.name", "Lifecycle Lamps");
    e2e_expect_json_str(j, "store.location", "East Wing");
    assert_true(json_is_false(e2e_json_at(j, "store.participating")));
    json_decref(j);
    e2e_expect_sql(app, "Lifecycle Lamps", "select name from stores.stores where id = $1",
                   store_id);

    e2e_expect_id(
        app, "POST", E2E_F("/api/stores/%s/products", store_id),
        "{\"name\":\"Lava Lamp\",\"description\":\"groovy\",\"sku\":\"LL-1\",\"price\":9.99}",
        product_id);
    j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/products/%s", product_id), NULL);
    e2e_expect_json_str(j, "product.id", product_id);
    e2e_expect_json_str(j, "product.storeId", store_id);
    e2e_expect_json_str(j, "product.name", "Lava Lamp");
    e2e_expect_json_str(j, "product.description", "groovy");
    e2e_expect_json_str(j, "product.sku", "LL-1");
    e2e_expect_json_num(j, "product.price", 9.99);
    json_decref(j);
    e2e_expect_sql(app, "9.9900", "select price::text from stores.products where id = $1",
                   product_id);

    j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/%s/products", store_id), NULL);
    assert_int_equal(e2e_json_len(j, "products"), 1);
    e2e_expect_json_str(j, "products.0.id", product_id);
    json_decref(j);

    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/participating", store_id), NULL));
    j = e2e_expect_ok(app, "GET", E2E_F("/api/stores/%s", store_id), NULL);
    assert_true(json_is_true(e2e_json_at(j, "store.participating")));
    json_decref(j);
    j = e2e_expect_ok(app, "GET", "/api/stores/participating", NULL);
    assert_int_equal(e2e_json_len(j, "stores"), 1); /* the seed store does not take part */
    e2e_expect_json_str(j, "stores.0.id", store_id);
    json_decref(j);
    e2e_expect_sql(app, "true", "select participating::text from stores.stores where id = $1",
                   store_id);
    e2e_expect_sql(app, "false", "select participating::text from stores.stores where id = $1",
                   SEED_STORE);
}

static void customer_registers(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", "/api/customers",
                  "{\"name\":\"Ada Lovelace\",\"smsNumber\":\"555-0100\"}", customer_id);
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/customers/%s", customer_id), NULL);
    e2e_expect_json_str(j, "customer.id", customer_id);
    e2e_expect_json_str(j, "customer.name", "Ada Lovelace");
    e2e_expect_json_str(j, "customer.smsNumber", "555-0100");
    assert_true(json_is_true(e2e_json_at(j, "customer.enabled")));
    json_decref(j);
    e2e_expect_sql(app, "true", "select enabled::text from customers.customers where id = $1",
                   customer_id);
}

static void basket_is_filled(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  basket_id);
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/baskets/%s", basket_id), NULL);
    e2e_expect_json_str(j, "basket.id", basket_id);
    assert_int_equal(e2e_json_len(j, "basket.items"), 0);
    json_decref(j);
    e2e_expect_sql(app, "open", "select status from baskets.baskets where id = $1", basket_id);
    e2e_expect_sql(app, customer_id, "select customer_id from baskets.baskets where id = $1",
                   basket_id);

    /* 5, then 2 more of the same product: one line with 7 (lines merge by product) */
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":5}", product_id)));
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":2}", product_id)));
    j = e2e_expect_ok(app, "GET", E2E_F("/api/baskets/%s", basket_id), NULL);
    assert_int_equal(e2e_json_len(j, "basket.items"), 1);
    e2e_expect_json_str(j, "basket.items.0.storeId", store_id);
    e2e_expect_json_str(j, "basket.items.0.productId", product_id);
    e2e_expect_json_str(j, "basket.items.0.storeName", "Lifecycle Lamps");
    e2e_expect_json_str(j, "basket.items.0.productName", "Lava Lamp");
    e2e_expect_json_num(j, "basket.items.0.productPrice", 9.99);
    e2e_expect_json_num(j, "basket.items.0.quantity", 7);
    json_decref(j);

    /* take 3 out, put 3 back: still one line with 7 */
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/removeItem", basket_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":3}", product_id)));
    j = e2e_expect_ok(app, "GET", E2E_F("/api/baskets/%s", basket_id), NULL);
    e2e_expect_json_num(j, "basket.items.0.quantity", 4);
    json_decref(j);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":3}", product_id)));
    j = e2e_expect_ok(app, "GET", E2E_F("/api/baskets/%s", basket_id), NULL);
    assert_int_equal(e2e_json_len(j, "basket.items"), 1);
    e2e_expect_json_num(j, "basket.items.0.quantity", 7);
    json_decref(j);
    e2e_expect_sql(app, "open", "select status from baskets.baskets where id = $1", basket_id);
}

static void payment_is_authorized(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", "/api/payments",
                  E2E_F("{\"customerId\":\"%s\",\"amount\":69.93}", customer_id), payment_id);
    e2e_expect_sql(app, customer_id, "select customer_id from payments.payments where id = $1",
                   payment_id);
    e2e_expect_sql(app, "69.9300", "select amount::text from payments.payments where id = $1",
                   payment_id);
}

static void checkout_creates_a_pending_order(void **state)
{
    (void)state;
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket_id),
                              E2E_F("{\"paymentId\":\"%s\"}", payment_id)));
    e2e_expect_sql(app, "checked_out", "select status from baskets.baskets where id = $1",
                   basket_id);
    e2e_expect_sql(app, payment_id, "select payment_id from baskets.baskets where id = $1",
                   basket_id);

    json_t *j = get_order();
    /* keep the list's id first, so the later tests have it even if a check below fails */
    const char *sid = e2e_json_str(j, "order.shoppingId");
    bool has_shopping = sid && *sid && strlen(sid) < sizeof shopping_id;
    if (has_shopping)
        snprintf(shopping_id, sizeof shopping_id, "%s", sid);
    e2e_expect_json_str(j, "order.id", basket_id);
    e2e_expect_json_str(j, "order.customerId", customer_id);
    e2e_expect_json_str(j, "order.paymentId", payment_id);
    e2e_expect_json_str(j, "order.status", "pending");
    e2e_expect_json_str(j, "order.invoiceId", "");
    assert_int_equal(e2e_json_len(j, "order.items"), 1);
    e2e_expect_json_str(j, "order.items.0.storeId", store_id);
    e2e_expect_json_str(j, "order.items.0.productId", product_id);
    e2e_expect_json_str(j, "order.items.0.storeName", "Lifecycle Lamps");
    e2e_expect_json_str(j, "order.items.0.productName", "Lava Lamp");
    e2e_expect_json_num(j, "order.items.0.price", 9.99);
    e2e_expect_json_num(j, "order.items.0.quantity", 7);
    json_decref(j);
    assert_true(has_shopping);

    e2e_expect_sql(app, "pending", "select status from ordering.orders where id = $1", basket_id);
    e2e_expect_sql(app, shopping_id, "select shopping_id from ordering.orders where id = $1",
                   basket_id);
    e2e_expect_sql(app, basket_id, "select order_id from depot.shopping_lists where id = $1",
                   shopping_id);
    e2e_expect_sql(app, "available", "select status from depot.shopping_lists where id = $1",
                   shopping_id);
    e2e_expect_sql(app, "", "select assigned_bot_id from depot.shopping_lists where id = $1",
                   shopping_id);
    e2e_expect_sql(app, "0", "select count(*) from payments.invoices where order_id = $1",
                   basket_id);

    /* the basket is closed now */
    e2e_expect_error(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket_id),
                     E2E_F("{\"paymentId\":\"%s\"}", payment_id), 400,
                     "the basket cannot be modified");
    e2e_expect_error(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                     E2E_F("{\"productId\":\"%s\",\"quantity\":1}", product_id), 400,
                     "the basket cannot be modified");
    e2e_expect_sql(app, "1", "select count(*) from ordering.orders", NULL);
}

static void bot_shops_and_the_order_gets_ready(void **state)
{
    (void)state;
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/assign", shopping_id),
                              "{\"botId\":\"bot-1\"}"));
    e2e_expect_sql(app, "assigned", "select status from depot.shopping_lists where id = $1",
                   shopping_id);
    e2e_expect_sql(app, "bot-1", "select assigned_bot_id from depot.shopping_lists where id = $1",
                   shopping_id);
    json_t *j = get_order();
    e2e_expect_json_str(j, "order.status", "pending");
    json_decref(j);

    json_decref(
        e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/complete", shopping_id), NULL));
    e2e_expect_sql(app, "completed", "select status from depot.shopping_lists where id = $1",
                   shopping_id);

    j = get_order();
    const char *iid = e2e_json_str(j, "order.invoiceId");
    bool has_invoice = iid && *iid && strlen(iid) < sizeof invoice_id;
    if (has_invoice)
        snprintf(invoice_id, sizeof invoice_id, "%s", iid);
    e2e_expect_json_str(j, "order.status", "ready");
    e2e_expect_json_str(j, "order.shoppingId", shopping_id);
    json_decref(j);
    assert_true(has_invoice);

    e2e_expect_sql(app, "ready", "select status from ordering.orders where id = $1", basket_id);
    e2e_expect_sql(app, invoice_id, "select invoice_id from ordering.orders where id = $1",
                   basket_id);
    e2e_expect_sql(app, basket_id, "select order_id from payments.invoices where id = $1",
                   invoice_id);
    e2e_expect_sql(app, "pending", "select status from payments.invoices where id = $1",
                   invoice_id);
    /* the invoice is for the order's total: 7 x 9.99 */
    e2e_expect_sql(app, "69.9300", "select amount::text from payments.invoices where id = $1",
                   invoice_id);
}

static void paying_the_invoice_completes_the_order(void **state)
{
    (void)state;
    json_decref(
        e2e_expect_ok(app, "PUT", E2E_F("/api/payments/invoices/%s/pay", invoice_id), NULL));
    e2e_expect_sql(app, "paid", "select status from payments.invoices where id = $1", invoice_id);

    json_t *j = get_order();
    e2e_expect_json_str(j, "order.id", basket_id);
    e2e_expect_json_str(j, "order.status", "completed");
    e2e_expect_json_str(j, "order.invoiceId", invoice_id);
    e2e_expect_json_str(j, "order.shoppingId", shopping_id);
    json_decref(j);
    e2e_expect_sql(app, "completed", "select status from ordering.orders where id = $1", basket_id);

    /* an invoice is paid once; the order stays completed */
    e2e_expect_error(app, "PUT", E2E_F("/api/payments/invoices/%s/pay", invoice_id), NULL, 400,
                     NULL);
    e2e_expect_sql(app, "paid", "select status from payments.invoices where id = $1", invoice_id);
    e2e_expect_sql(app, "completed", "select status from ordering.orders where id = $1", basket_id);
    e2e_expect_sql(app, "1", "select count(*) from payments.invoices", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seed_rows_exist),
        cmocka_unit_test(store_with_product_joins_the_program),
        cmocka_unit_test(customer_registers),
        cmocka_unit_test(basket_is_filled),
        cmocka_unit_test(payment_is_authorized),
        cmocka_unit_test(checkout_creates_a_pending_order),
        cmocka_unit_test(bot_shops_and_the_order_gets_ready),
        cmocka_unit_test(paying_the_invoice_completes_the_order),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    return e2e_run_group("lifecycle", &app, tests);
}
