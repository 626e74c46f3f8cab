/* test_rpc_rules.c -- end to end: the RPC port keeps the rules the REST API keeps.
 *
 * Other modules call CompleteOrder and ReadyOrder over the RPC port (payments when an invoice is
 * paid, depot when a shopping list is completed), and anyone who can reach that port can call
 * them too. The domain rules must hold whatever the entry (docs/ERRATA.md, D34 ... 4):
 *   - a pending order cannot be completed with a made-up invoice, a ready one not with another
 *     invoice than its own, and a ready or completed order cannot be readied again (which would
 *     create a second invoice);
 *   - a string holding a NUL byte is a 400 naming the field (protobuf-c would hand "a\0b" over as
 *     "a"), as it is over REST;
 *   - amounts beyond what decimal(9,4) holds are refused where they enter, over RPC as over REST,
 *     and an order whose total could never be invoiced is refused at checkout.
 * Requests are packed with the chapter's generated message types (or by hand where protobuf-c
 * cannot express the bytes) and POSTed to /rpc/<service>/<method>; the checks use the REST API
 * and tables every chapter has. One mallbots process on a fresh database; the last test expects
 * a clean shutdown.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "e2e.h"
#include "httpc.h"
#include "ordering/api.pb-c.h"
#include "payments/api.pb-c.h"
#include "pb.h"

static e2e_app *app;
static char store_id[E2E_ID_MAX], product_id[E2E_ID_MAX], big_product_id[E2E_ID_MAX],
    customer_id[E2E_ID_MAX], order_id[E2E_ID_MAX], shopping_id[E2E_ID_MAX], invoice_id[E2E_ID_MAX];

/* ---- the RPC port ------------------------------------------------------------------------- */

/* An RPC answer: the HTTP status, the Rpc-Status header ("" when none) and the body as text (an
 * error's message). */
struct rpc_answer {
    int status;
    char rpc_status[64];
    char text[512];
};

/* POSTs len bytes to /rpc/<path> on the program's RPC port. */
static struct rpc_answer rpc_post(const char *path, const void *body, size_t len)
{
    static const char *const pb_type[] = {"Content-Type: application/x-protobuf", NULL};
    struct rpc_answer a = {-1, "", ""};
    httpc *h = NULL;
    core_err err = CORE_ERR_INIT;
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    if (httpc_new(&h, "127.0.0.1", e2e_app_rpc_port(app), E2E_HTTP_TIMEOUT_MS, &err) ||
        httpc_request(h, "POST", E2E_F("/rpc/%s", path), pb_type, body, len, &resp, &err)) {
        fprintf(stderr, "RPC %s failed: %s\n", path, err.msg);
    } else {
        const char *rs = httpc_response_header(&resp, "Rpc-Status");
        a.status = resp.status;
        snprintf(a.rpc_status, sizeof a.rpc_status, "%s", rs ? rs : "");
        snprintf(a.text, sizeof a.text, "%.*s", (int)resp.body_len, resp.body ? resp.body : "");
    }
    httpc_response_release(&resp);
    httpc_free(h);
    return a;
}

/* Packs msg and POSTs it to /rpc/<path>. */
static struct rpc_answer rpc_send(const char *path, const ProtobufCMessage *msg)
{
    unsigned char *packed = NULL;
    size_t len = 0;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(pb_pack(msg, &packed, &len, &err), CORE_OK);
    struct rpc_answer a = rpc_post(path, packed, len);
    core_free(packed);
    return a;
}

/* The answer is a refused request: 400, Rpc-Status CORE_ERR_INVALID and exactly message. */
#define expect_rpc_refused(a, message)                                                             \
    do {                                                                                           \
        struct rpc_answer a_ = (a);                                                                \
        if (a_.status != 400 || strcmp(a_.rpc_status, "CORE_ERR_INVALID") != 0 ||                  \
            strcmp(a_.text, (message)) != 0)                                                       \
            fprintf(stderr, "RPC: wanted 400 CORE_ERR_INVALID \"%s\", got %d %s \"%s\"\n",         \
                    (message), a_.status, a_.rpc_status, a_.text);                                 \
        assert_int_equal(a_.status, 400);                                                          \
        assert_string_equal(a_.rpc_status, "CORE_ERR_INVALID");                                    \
        assert_string_equal(a_.text, (message));                                                   \
    } while (0)

static struct rpc_answer complete_order(const char *id, const char *invoice)
{
    Orderingpb__CompleteOrderRequest req = ORDERINGPB__COMPLETE_ORDER_REQUEST__INIT;
    req.id = (char *)id;
    req.invoice_id = (char *)invoice;
    return rpc_send("orderingpb.OrderingService/CompleteOrder", &req.base);
}

static struct rpc_answer ready_order(const char *id)
{
    Orderingpb__ReadyOrderRequest req = ORDERINGPB__READY_ORDER_REQUEST__INIT;
    req.id = (char *)id;
    return rpc_send("orderingpb.OrderingService/ReadyOrder", &req.base);
}

/* ---- checks over REST and SQL ------------------------------------------------------------- */

static void expect_order(const char *status, const char *invoice)
{
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", order_id), NULL);
    e2e_expect_json_str(j, "order.status", status);
    e2e_expect_json_str(j, "order.invoiceId", invoice);
    json_decref(j);
}

static void expect_invoices(const char *count)
{
    e2e_expect_sql(app, count, "select count(*)::text from payments.invoices where order_id = $1",
                   order_id);
}

/* ---- tests -------------------------------------------------------------------------------- */

/* A store with a product at 2.50 and one at 99999, a customer, and a checked-out basket: a
 * pending order with its shopping list. */
static void a_pending_order(void **state)
{
    (void)state;
    char payment_id[E2E_ID_MAX];
    e2e_expect_id(app, "POST", "/api/stores", "{\"name\":\"Rule Books\",\"location\":\"Level 1\"}",
                  store_id);
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                  "{\"name\":\"Rule Book\",\"price\":2.5}", product_id);
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                  "{\"name\":\"Gold Rule\",\"price\":99999}", big_product_id);
    e2e_expect_id(app, "POST", "/api/customers",
                  "{\"name\":\"Rita Rule\",\"smsNumber\":\"555-0100\"}", customer_id);
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  order_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", order_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":2}", product_id)));
    e2e_expect_id(app, "POST", "/api/payments",
                  E2E_F("{\"customerId\":\"%s\",\"amount\":5.0}", customer_id), payment_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/checkout", order_id),
                              E2E_F("{\"paymentId\":\"%s\"}", payment_id)));
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", order_id), NULL);
    const char *sid = e2e_json_str(j, "order.shoppingId");
    assert_non_null(sid);
    snprintf(shopping_id, sizeof shopping_id, "%s", sid);
    json_decref(j);
    expect_order("pending", "");
}

/* The first case: CompleteOrder answered 200 and completed a pending order. */
static void a_pending_order_cannot_be_completed(void **state)
{
    (void)state;
    expect_rpc_refused(complete_order(order_id, "fake-invoice"), "the order cannot be completed");
    expect_order("pending", "");
    expect_invoices("0");
}

/* Depot completes the list: the order becomes ready with its invoice. ReadyOrder again is
 * refused, and so is CompleteOrder with another invoice. */
static void a_ready_order_cannot_be_readied_or_completed_with_another_invoice(void **state)
{
    (void)state;
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/assign", shopping_id),
                              "{\"botId\":\"bot-1\"}"));
    json_decref(
        e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/complete", shopping_id), NULL));
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", order_id), NULL);
    e2e_expect_json_str(j, "order.status", "ready");
    const char *iid = e2e_json_str(j, "order.invoiceId");
    assert_true(iid && *iid);
    snprintf(invoice_id, sizeof invoice_id, "%s", iid);
    json_decref(j);
    expect_invoices("1");

    expect_rpc_refused(ready_order(order_id), "the order cannot be readied");
    expect_rpc_refused(complete_order(order_id, "fake-invoice"),
                       "the invoice is not the order's invoice");
    expect_order("ready", invoice_id);
    expect_invoices("1");
}

/* The second case: ReadyOrder moved a completed order back to ready with a second
 * invoice. */
static void a_completed_order_cannot_be_readied(void **state)
{
    (void)state;
    json_decref(
        e2e_expect_ok(app, "PUT", E2E_F("/api/payments/invoices/%s/pay", invoice_id), NULL));
    expect_order("completed", invoice_id);
    expect_rpc_refused(ready_order(order_id), "the order cannot be readied");
    expect_rpc_refused(complete_order(order_id, invoice_id), "the order cannot be completed");
    expect_order("completed", invoice_id);
    expect_invoices("1");
}

/* The NUL case: StartBasket with customer id "a\0b" stored a basket for "a". */
static void a_nul_in_a_string_is_refused_on_both_ports(void **state)
{
    (void)state;
    const unsigned char start_basket[] = {0x0a, 3, 'a', 0, 'b'}; /* customer_id = "a\0b" */
    expect_rpc_refused(
        rpc_post("basketspb.BasketService/StartBasket", start_basket, sizeof start_basket),
        "field \"customer_id\": string contains a NUL character");
    const unsigned char bad_utf8[] = {0x0a, 2, 'a', 0xff};
    expect_rpc_refused(rpc_post("basketspb.BasketService/StartBasket", bad_utf8, sizeof bad_utf8),
                       "field \"customer_id\": string is not valid UTF-8");
    /* REST: JSON can carry the NUL as \u0000 */
    e2e_expect_error_like(app, "POST", "/api/baskets", "{\"customerId\":\"a\\u0000b\"}", 400, NULL);
    /* nested too: an order item's product id */
    const unsigned char item[] = {0x12, 3, 'p', 0, 'q', 0x30, 1}; /* product_id, qty 1 */
    const unsigned char ids[] = {0x12, 1, 'c', 0x1a, 1, 'p'};     /* customer_id, payment_id */
    unsigned char create[2 + sizeof item + sizeof ids] = {0x0a, sizeof item}; /* items[0] */
    memcpy(create + 2, item, sizeof item);
    memcpy(create + 2 + sizeof item, ids, sizeof ids);
    expect_rpc_refused(rpc_post("orderingpb.OrderingService/CreateOrder", create, sizeof create),
                       "field \"items[0].product_id\": string contains a NUL character");
}

/* Amounts over what decimal(9,4) holds are refused where they enter, on both ports. */
static void amounts_out_of_range_are_refused_at_the_edge(void **state)
{
    (void)state;
    Paymentspb__AuthorizePaymentRequest pay = PAYMENTSPB__AUTHORIZE_PAYMENT_REQUEST__INIT;
    pay.customer_id = customer_id;
    pay.amount = 100000;
    expect_rpc_refused(rpc_send("paymentspb.PaymentsService/AuthorizePayment", &pay.base),
                       "the payment amount is too large");
    pay.amount = NAN;
    expect_rpc_refused(rpc_send("paymentspb.PaymentsService/AuthorizePayment", &pay.base),
                       "the payment amount is too large");
    e2e_expect_error(app, "POST", "/api/payments",
                     E2E_F("{\"customerId\":\"%s\",\"amount\":100000}", customer_id), 400,
                     "the payment amount is too large");
    Paymentspb__CreateInvoiceRequest inv = PAYMENTSPB__CREATE_INVOICE_REQUEST__INIT;
    inv.order_id = order_id;
    inv.payment_id = "payment-x";
    inv.amount = 1e12;
    expect_rpc_refused(rpc_send("paymentspb.PaymentsService/CreateInvoice", &inv.base),
                       "the invoice amount is too large");
    expect_invoices("1");

    /* an order item's price, over RPC */
    Orderingpb__Item item = ORDERINGPB__ITEM__INIT;
    Orderingpb__Item *items[] = {&item};
    Orderingpb__CreateOrderRequest order = ORDERINGPB__CREATE_ORDER_REQUEST__INIT;
    item.store_id = store_id;
    item.product_id = product_id;
    item.price = NAN;
    item.quantity = 1;
    order.n_items = 1;
    order.items = items;
    order.customer_id = customer_id;
    order.payment_id = "payment-x";
    expect_rpc_refused(rpc_send("orderingpb.OrderingService/CreateOrder", &order.base),
                       "the item price cannot be negative");
    item.price = 2.5;
    item.quantity = -1;
    expect_rpc_refused(rpc_send("orderingpb.OrderingService/CreateOrder", &order.base),
                       "the item quantity must be positive");
}

/* Two of a product at 99999: each price fits, the total (199998) could never be invoiced. The
 * book creates the order, which can never be completed; here the checkout is refused, and the
 * basket stays open. */
static void an_order_total_that_cannot_be_invoiced_is_refused_at_checkout(void **state)
{
    (void)state;
    char basket_id[E2E_ID_MAX], payment_id[E2E_ID_MAX];
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  basket_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":2}", big_product_id)));
    e2e_expect_id(app, "POST", "/api/payments",
                  E2E_F("{\"customerId\":\"%s\",\"amount\":99999}", customer_id), payment_id);
    e2e_expect_error_like(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket_id),
                          E2E_F("{\"paymentId\":\"%s\"}", payment_id), 400,
                          "the order total cannot be over 99999.9999");
    e2e_expect_error(app, "GET", E2E_F("/api/ordering/%s", basket_id), NULL, 404,
                     E2E_F("order %s not found", basket_id));
    /* the basket stayed open: one item less, and the checkout goes through */
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/removeItem", basket_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":1}", big_product_id)));
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket_id),
                              E2E_F("{\"paymentId\":\"%s\"}", payment_id)));
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", basket_id), NULL);
    e2e_expect_json_str(j, "order.status", "pending");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_pending_order),
        cmocka_unit_test(a_pending_order_cannot_be_completed),
        cmocka_unit_test(a_ready_order_cannot_be_readied_or_completed_with_another_invoice),
        cmocka_unit_test(a_completed_order_cannot_be_readied),
        cmocka_unit_test(a_nul_in_a_string_is_refused_on_both_ports),
        cmocka_unit_test(amounts_out_of_range_are_refused_at_the_edge),
        cmocka_unit_test(an_order_total_that_cannot_be_invoiced_is_refused_at_checkout),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    return e2e_run_group("rpc-rules", &app, tests);
}
