/* test_cancellations.c -- end to end: what can be cancelled when, and what a cancellation undoes.
 *
 * One mallbots process on a fresh database for the file. Covers the state rules of baskets
 * (open -> cancelled / checked_out), orders (only a pending order can be cancelled; cancelling
 * it cancels its shopping list) and shopping lists (available / assigned lists can be cancelled,
 * completed or cancelled ones cannot; assign only an available list, complete only an assigned
 * one), each checked through the API's answer AND the rows in the database: a rejected command
 * changes nothing. The last test expects a clean shutdown.
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
static char store_id[E2E_ID_MAX], product_id[E2E_ID_MAX], customer_id[E2E_ID_MAX];
/* a ready order and a completed one, made by the tests that need them, used by later tests */
static char ready_order[E2E_ID_MAX], ready_list[E2E_ID_MAX];

static void start_basket(char basket_id[E2E_ID_MAX])
{
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  basket_id);
}

static void add_item(const char *basket_id, int quantity)
{
    json_decref(
        e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                      E2E_F("{\"productId\":\"%s\",\"quantity\":%d}", product_id, quantity)));
}

static void authorize_payment(char payment_id[E2E_ID_MAX])
{
    e2e_expect_id(app, "POST", "/api/payments",
                  E2E_F("{\"customerId\":\"%s\",\"amount\":5.0}", customer_id), payment_id);
}

/* A checked-out basket: order_id (= the basket's id) and the id of its shopping list. */
static void place_order(char order_id[E2E_ID_MAX], char shopping_id[E2E_ID_MAX])
{
    char payment_id[E2E_ID_MAX];
    start_basket(order_id);
    add_item(order_id, 2);
    authorize_payment(payment_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/checkout", order_id),
                              E2E_F("{\"paymentId\":\"%s\"}", payment_id)));
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", order_id), NULL);
    const char *sid = e2e_json_str(j, "order.shoppingId");
    bool ok = sid && *sid && strlen(sid) < E2E_ID_MAX;
    if (ok)
        snprintf(shopping_id, E2E_ID_MAX, "%s", sid);
    else
        fprintf(stderr, "order %s has no shoppingId\n", order_id);
    json_decref(j);
    assert_true(ok);
    e2e_expect_sql(app, "pending", "select status from ordering.orders where id = $1", order_id);
}

static void expect_order_status(const char *order_id, const char *status)
{
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", order_id), NULL);
    e2e_expect_json_str(j, "order.status", status);
    json_decref(j);
    e2e_expect_sql(app, status, "select status from ordering.orders where id = $1", order_id);
}

static void expect_list_status(const char *shopping_id, const char *status)
{
    e2e_expect_sql(app, status, "select status from depot.shopping_lists where id = $1",
                   shopping_id);
}

static void catalog_and_customer(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", "/api/stores",
                  "{\"name\":\"Cancel Corner\",\"location\":\"Level 2\"}", store_id);
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                  "{\"name\":\"Undo Button\",\"description\":\"\",\"sku\":\"UB\",\"price\":2.5}",
                  product_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/participating", store_id), NULL));
    e2e_expect_id(app, "POST", "/api/customers",
                  "{\"name\":\"Carl Cancel\",\"smsNumber\":\"555-0199\"}", customer_id);
}

static void cancelled_basket_cannot_change(void **state)
{
    (void)state;
    char basket_id[E2E_ID_MAX], payment_id[E2E_ID_MAX];
    start_basket(basket_id);
    add_item(basket_id, 3);
    json_decref(e2e_expect_ok(app, "DELETE", E2E_F("/api/baskets/%s", basket_id), NULL));
    e2e_expect_sql(app, "cancelled", "select status from baskets.baskets where id = $1", basket_id);

    e2e_expect_error(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                     E2E_F("{\"productId\":\"%s\",\"quantity\":1}", product_id), 400,
                     "the basket cannot be modified");
    e2e_expect_error(app, "PUT", E2E_F("/api/baskets/%s/removeItem", basket_id),
                     E2E_F("{\"productId\":\"%s\",\"quantity\":1}", product_id), 400,
                     "the basket cannot be modified");
    authorize_payment(payment_id);
    e2e_expect_error(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket_id),
                     E2E_F("{\"paymentId\":\"%s\"}", payment_id), 400,
                     "the basket cannot be modified");
    e2e_expect_error(app, "DELETE", E2E_F("/api/baskets/%s", basket_id), NULL, 400,
                     "the basket cannot be cancelled");

    e2e_expect_sql(app, "cancelled", "select status from baskets.baskets where id = $1", basket_id);
    e2e_expect_sql(app, "0", "select count(*) from ordering.orders where id = $1", basket_id);
    e2e_expect_error_like(app, "GET", E2E_F("/api/ordering/%s", basket_id), NULL, 404, "not found");
}

static void checked_out_basket_cannot_be_cancelled(void **state)
{
    (void)state;
    char order_id[E2E_ID_MAX], shopping_id[E2E_ID_MAX];
    place_order(order_id, shopping_id);
    e2e_expect_error(app, "DELETE", E2E_F("/api/baskets/%s", order_id), NULL, 400,
                     "the basket cannot be cancelled");
    e2e_expect_sql(app, "checked_out", "select status from baskets.baskets where id = $1",
                   order_id);
    expect_order_status(order_id, "pending");
}

static void empty_basket_cannot_be_checked_out(void **state)
{
    (void)state;
    char basket_id[E2E_ID_MAX], payment_id[E2E_ID_MAX];
    start_basket(basket_id);
    authorize_payment(payment_id);
    e2e_expect_error(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket_id),
                     E2E_F("{\"paymentId\":\"%s\"}", payment_id), 400, "the basket has no items");
    e2e_expect_sql(app, "open", "select status from baskets.baskets where id = $1", basket_id);
    e2e_expect_sql(app, "0", "select count(*) from ordering.orders where id = $1", basket_id);

    /* a basket whose only line was taken out again is empty as well */
    add_item(basket_id, 2);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/removeItem", basket_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":2}", product_id)));
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/baskets/%s", basket_id), NULL);
    assert_int_equal(e2e_json_len(j, "basket.items"), 0);
    json_decref(j);
    e2e_expect_error(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket_id),
                     E2E_F("{\"paymentId\":\"%s\"}", payment_id), 400, "the basket has no items");

    /* with items, but without a payment id */
    add_item(basket_id, 1);
    e2e_expect_error(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket_id),
                     "{\"paymentId\":\"\"}", 400, "the payment id cannot be blank");
    e2e_expect_sql(app, "open", "select status from baskets.baskets where id = $1", basket_id);
    e2e_expect_sql(app, "0", "select count(*) from ordering.orders where id = $1", basket_id);
}

static void pending_order_cancels_with_its_shopping_list(void **state)
{
    (void)state;
    char order_id[E2E_ID_MAX], shopping_id[E2E_ID_MAX];
    place_order(order_id, shopping_id);
    expect_list_status(shopping_id, "available");

    json_decref(e2e_expect_ok(app, "DELETE", E2E_F("/api/ordering/%s", order_id), NULL));
    expect_order_status(order_id, "cancelled");
    expect_list_status(shopping_id, "cancelled");

    e2e_expect_error(app, "DELETE", E2E_F("/api/ordering/%s", order_id), NULL, 400,
                     "the order cannot be cancelled");
    expect_order_status(order_id, "cancelled");
    /* a cancelled list is no work for a bot */
    e2e_expect_error(app, "PUT", E2E_F("/api/depot/shopping/%s/assign", shopping_id),
                     "{\"botId\":\"bot-7\"}", 400, NULL);
    expect_list_status(shopping_id, "cancelled");
    e2e_expect_sql(app, "", "select assigned_bot_id from depot.shopping_lists where id = $1",
                   shopping_id);
}

static void ready_order_cannot_be_cancelled(void **state)
{
    (void)state;
    place_order(ready_order, ready_list);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/assign", ready_list),
                              "{\"botId\":\"bot-2\"}"));
    json_decref(
        e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/complete", ready_list), NULL));
    expect_order_status(ready_order, "ready");

    e2e_expect_error(app, "DELETE", E2E_F("/api/ordering/%s", ready_order), NULL, 400,
                     "the order cannot be cancelled");
    expect_order_status(ready_order, "ready");
    expect_list_status(ready_list, "completed");
    e2e_expect_sql(app, "pending", "select status from payments.invoices where order_id = $1",
                   ready_order);
}

static void completed_order_cannot_be_cancelled(void **state)
{
    (void)state;
    char *invoice_id = e2e_sql_value(app, "select invoice_id from ordering.orders where id = $1", 1,
                                     (const char *const[]){ready_order});
    assert_non_null(invoice_id);
    char invoice[E2E_ID_MAX];
    snprintf(invoice, sizeof invoice, "%s", invoice_id);
    core_free(invoice_id);
    assert_true(invoice[0] != '\0');

    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/payments/invoices/%s/pay", invoice), NULL));
    expect_order_status(ready_order, "completed");

    e2e_expect_error(app, "DELETE", E2E_F("/api/ordering/%s", ready_order), NULL, 400,
                     "the order cannot be cancelled");
    expect_order_status(ready_order, "completed");
    e2e_expect_sql(app, "paid", "select status from payments.invoices where id = $1", invoice);
}

static void shopping_list_rules(void **state)
{
    (void)state;
    char order_id[E2E_ID_MAX], list_id[E2E_ID_MAX];

    /* a completed list cannot be cancelled */
    e2e_expect_error(app, "POST", E2E_F("/api/depot/shopping/%s", ready_list), NULL, 400,
                     "the shopping list cannot be cancelled");
    expect_list_status(ready_list, "completed");

    /* available: cannot be completed before a bot has it */
    place_order(order_id, list_id);
    e2e_expect_error(app, "PUT", E2E_F("/api/depot/shopping/%s/complete", list_id), NULL, 400,
                     NULL);
    expect_list_status(list_id, "available");
    expect_order_status(order_id, "pending");

    /* assigned: cannot be assigned again, can be cancelled */
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/assign", list_id),
                              "{\"botId\":\"bot-3\"}"));
    e2e_expect_error(app, "PUT", E2E_F("/api/depot/shopping/%s/assign", list_id),
                     "{\"botId\":\"bot-4\"}", 400, NULL);
    e2e_expect_sql(app, "bot-3", "select assigned_bot_id from depot.shopping_lists where id = $1",
                   list_id);
    json_decref(e2e_expect_ok(app, "POST", E2E_F("/api/depot/shopping/%s", list_id), NULL));
    expect_list_status(list_id, "cancelled");

    /* cancelled: cannot be cancelled again, nor completed */
    e2e_expect_error(app, "POST", E2E_F("/api/depot/shopping/%s", list_id), NULL, 400,
                     "the shopping list cannot be cancelled");
    e2e_expect_error(app, "PUT", E2E_F("/api/depot/shopping/%s/complete", list_id), NULL, 400,
                     NULL);
    expect_list_status(list_id, "cancelled");
    /* the depot does not tell ordering about a list cancelled directly (as in the book) */
    expect_order_status(order_id, "pending");

    /* unknown lists */
    e2e_expect_error_like(app, "POST", "/api/depot/shopping/no-such-list", NULL, 404,
                          "no-such-list");
    e2e_expect_error_like(app, "PUT", "/api/depot/shopping/no-such-list/assign",
                          "{\"botId\":\"bot-5\"}", 404, "no-such-list");
    e2e_expect_error_like(app, "PUT", "/api/depot/shopping/no-such-list/complete", NULL, 404,
                          "no-such-list");
}

static void unknown_orders_and_baskets(void **state)
{
    (void)state;
    e2e_expect_error_like(app, "DELETE", "/api/ordering/no-such-order", NULL, 404, "no-such-order");
    e2e_expect_error_like(app, "DELETE", "/api/baskets/no-such-basket", NULL, 404,
                          "no-such-basket");
    e2e_expect_error_like(app, "PUT", "/api/baskets/no-such-basket/checkout",
                          "{\"paymentId\":\"p\"}", 404, "no-such-basket");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalog_and_customer),
        cmocka_unit_test(cancelled_basket_cannot_change),
        cmocka_unit_test(checked_out_basket_cannot_be_cancelled),
        cmocka_unit_test(empty_basket_cannot_be_checked_out),
        cmocka_unit_test(pending_order_cancels_with_its_shopping_list),
        cmocka_unit_test(ready_order_cannot_be_cancelled),
        cmocka_unit_test(completed_order_cannot_be_cancelled),
        cmocka_unit_test(shopping_list_rules),
        cmocka_unit_test(unknown_orders_and_baskets),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    return e2e_run_group("cancellations", &app, tests);
}
