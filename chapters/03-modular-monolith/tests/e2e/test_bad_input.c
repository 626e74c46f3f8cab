/* test_bad_input.c -- end to end: what the REST API answers to input it must refuse.
 *
 * One mallbots process on a fresh database for the file. Every refusal must
 *   - carry the right HTTP status: 400 bad input or a broken rule, 404 unknown id or route, 405
 *     wrong method, 413 body over 1 MiB;
 *   - have the error body {"code": <gRPC code>, "message": <text>} and a message that says what
 *     is wrong (names the field, the id, or is the book's rule text exactly);
 *   - leave the database as it was: row counts and the touched rows (including updated_at, which
 *     a trigger moves on any real change) are compared before and after.
 * The last test expects a clean shutdown.
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
static char store_id[E2E_ID_MAX], product_id[E2E_ID_MAX], customer_id[E2E_ID_MAX],
    basket_id[E2E_ID_MAX];

/* What the database looked like: row counts of every table, and the rows the tests touch. */
struct snapshot {
    long long stores, products, customers, baskets, payments, orders, lists, invoices;
    char store[512], product[512], customer[512], basket[1024];
};

static void row_text(char *out, size_t size, const char *sql, const char *id)
{
    char *v = e2e_sql_value(app, sql, 1, (const char *const[]){id});
    snprintf(out, size, "%s", v ? v : "(no row)");
    core_free(v);
}

static void take_snapshot(struct snapshot *s)
{
    s->stores = e2e_sql_long(app, "select count(*) from stores.stores", 0, NULL);
    s->products = e2e_sql_long(app, "select count(*) from stores.products", 0, NULL);
    s->customers = e2e_sql_long(app, "select count(*) from customers.customers", 0, NULL);
    s->baskets = e2e_sql_long(app, "select count(*) from baskets.baskets", 0, NULL);
    s->payments = e2e_sql_long(app, "select count(*) from payments.payments", 0, NULL);
    s->orders = e2e_sql_long(app, "select count(*) from ordering.orders", 0, NULL);
    s->lists = e2e_sql_long(app, "select count(*) from depot.shopping_lists", 0, NULL);
    s->invoices = e2e_sql_long(app, "select count(*) from payments.invoices", 0, NULL);
    row_text(s->store, sizeof s->store,
             "select concat_ws('|', name, location, participating, updated_at) "
             "from stores.stores where id = $1",
             store_id);
    row_text(s->product, sizeof s->product,
             "select concat_ws('|', name, price, updated_at) "
             "from stores.products where id = $1",
             product_id);
    row_text(s->customer, sizeof s->customer,
             "select concat_ws('|', name, sms_number, enabled, updated_at) "
             "from customers.customers where id = $1",
             customer_id);
    row_text(s->basket, sizeof s->basket,
             "select concat_ws('|', status, payment_id, convert_from(items, 'UTF8'), "
             "updated_at) from baskets.baskets where id = $1",
             basket_id);
    assert_true(s->stores >= 0 && s->products >= 0 && s->customers >= 0 && s->baskets >= 0);
}

static void expect_unchanged(const struct snapshot *before)
{
    struct snapshot now;
    take_snapshot(&now);
    assert_int_equal(now.stores, before->stores);
    assert_int_equal(now.products, before->products);
    assert_int_equal(now.customers, before->customers);
    assert_int_equal(now.baskets, before->baskets);
    assert_int_equal(now.payments, before->payments);
    assert_int_equal(now.orders, before->orders);
    assert_int_equal(now.lists, before->lists);
    assert_int_equal(now.invoices, before->invoices);
    assert_string_equal(now.store, before->store);
    assert_string_equal(now.product, before->product);
    assert_string_equal(now.customer, before->customer);
    assert_string_equal(now.basket, before->basket);
}

static void fixtures(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", "/api/stores",
                  "{\"name\":\"Strict Stationery\",\"location\":\"Level 3\"}", store_id);
    e2e_expect_id(
        app, "POST", E2E_F("/api/stores/%s/products", store_id),
        "{\"name\":\"Red Pen\",\"description\":\"for corrections\",\"sku\":\"RP\",\"price\":1.25}",
        product_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/participating", store_id), NULL));
    e2e_expect_id(app, "POST", "/api/customers",
                  "{\"name\":\"Bea Careful\",\"smsNumber\":\"555-0142\"}", customer_id);
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  basket_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":2}", product_id)));
}

static void malformed_json_is_refused(void **state)
{
    (void)state;
    struct snapshot before;
    take_snapshot(&before);
    e2e_expect_error_like(app, "POST", "/api/stores", "{\"name\": \"Broken\", ", 400,
                          "invalid JSON");
    e2e_expect_error_like(app, "POST", "/api/stores",
                          "{\"name\":\"Broken\",\"location\":\"x\"} trailing", 400, "invalid JSON");
    e2e_expect_error_like(app, "POST", "/api/stores",
                          "{\"name\":\"A\",\"name\":\"B\",\"location\":\"x\"}", 400, "duplicate");
    e2e_expect_error(app, "POST", "/api/stores", "[\"Broken\", \"x\"]", 400, NULL);
    e2e_expect_error(app, "POST", "/api/stores", "\"Broken\"", 400, NULL);
    e2e_expect_error_like(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                          E2E_F("{\"productId\":\"%s\",\"quantity\":1", product_id), 400,
                          "invalid JSON");
    expect_unchanged(&before);
}

static void wrong_field_types_are_named(void **state)
{
    (void)state;
    struct snapshot before;
    take_snapshot(&before);
    e2e_expect_error_like(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                          E2E_F("{\"productId\":\"%s\",\"quantity\":\"five\"}", product_id), 400,
                          "quantity");
    e2e_expect_error_like(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                          E2E_F("{\"productId\":\"%s\",\"quantity\":2.5}", product_id), 400,
                          "quantity");
    e2e_expect_error_like(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                          E2E_F("{\"productId\":\"%s\",\"quantity\":99999999999}", product_id), 400,
                          "quantity");
    e2e_expect_error_like(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                          "{\"productId\":42,\"quantity\":1}", 400, "productId");
    e2e_expect_error_like(app, "POST", "/api/stores", "{\"name\":5,\"location\":\"x\"}", 400,
                          "name");
    e2e_expect_error_like(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                          "{\"name\":\"Cheap Pen\",\"price\":\"cheap\"}", 400, "price");
    e2e_expect_error_like(app, "POST", "/api/payments",
                          E2E_F("{\"customerId\":\"%s\",\"amount\":true}", customer_id), 400,
                          "amount");
    expect_unchanged(&before);
}

static void unknown_fields_are_named(void **state)
{
    (void)state;
    struct snapshot before;
    take_snapshot(&before);
    /* the book silently drops it and then fails with a confusing blank-id error */
    e2e_expect_error_like(app, "POST", "/api/baskets",
                          E2E_F("{\"customerID\":\"%s\"}", customer_id), 400, "customerID");
    e2e_expect_error_like(app, "POST", "/api/stores",
                          "{\"name\":\"Extra\",\"location\":\"x\",\"owner\":\"me\"}", 400, "owner");
    e2e_expect_error_like(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                          E2E_F("{\"productId\":\"%s\",\"qty\":1}", product_id), 400, "qty");
    expect_unchanged(&before);
}

/* 404 whose message names the unknown id and says it was not found. */
static void expect_not_found(const char *method, const char *path, const char *body, const char *id)
{
    int status;
    json_t *j = e2e_call(app, method, path, body, &status);
    bool ok =
        e2e_is_error_like(status, j, 404, id) && e2e_is_error_like(status, j, 404, "not found");
    json_decref(j);
    if (!ok)
        fprintf(stderr, "  request: %s %s %s\n", method, path, body ? body : "");
    assert_true(ok);
}

static void unknown_ids_are_404(void **state)
{
    (void)state;
    struct snapshot before;
    take_snapshot(&before);
    expect_not_found("GET", "/api/baskets/nope", NULL, "nope");
    expect_not_found("GET", "/api/stores/nope", NULL, "nope");
    expect_not_found("GET", "/api/stores/products/nope", NULL, "nope");
    expect_not_found("GET", "/api/customers/nope", NULL, "nope");
    expect_not_found("GET", "/api/ordering/nope", NULL, "nope");
    expect_not_found("PUT", "/api/payments/invoices/nope/pay", NULL, "nope");
    expect_not_found("PUT", "/api/stores/nope/participating", NULL, "nope");
    expect_not_found("PUT", "/api/customers/nope/enable", NULL, "nope");
    expect_not_found("DELETE", "/api/stores/products/nope", NULL, "nope");
    expect_not_found("PUT", "/api/baskets/nope/addItem",
                     E2E_F("{\"productId\":\"%s\",\"quantity\":1}", product_id), "nope");
    /* a product that does not exist, in an existing basket */
    expect_not_found("PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                     "{\"productId\":\"nope\",\"quantity\":1}", "nope");
    expect_unchanged(&before);
}

static void unknown_routes_and_methods(void **state)
{
    (void)state;
    e2e_expect_error(app, "GET", "/api/nope", NULL, 404, "no route for GET /api/nope");
    e2e_expect_error(app, "GET", "/api/baskets", NULL, 405, NULL);
    e2e_expect_error(app, "GET", "/api/stores/x/y/z", NULL, 404, NULL);
    e2e_expect_error(app, "POST", "/api/baskets/", "{}", 404, NULL);

    struct snapshot before;
    take_snapshot(&before);
    e2e_expect_error(app, "PATCH", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                     405, NULL);
    e2e_expect_error(app, "DELETE", "/api/stores", NULL, 405, NULL);
    e2e_expect_error(app, "POST", E2E_F("/api/baskets/%s", basket_id), "{}", 405, NULL);

    /* the 405 says what is allowed */
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(e2e_http(app, "PATCH", "/api/baskets", NULL, "{}", 2, &resp, &err), CORE_OK);
    assert_int_equal(resp.status, 405);
    const char *allow = httpc_response_header(&resp, "Allow");
    bool allows_post = allow && strstr(allow, "POST");
    if (!allows_post)
        fprintf(stderr, "Allow: %s\n", allow ? allow : "(missing)");
    httpc_response_release(&resp);
    assert_true(allows_post);
    expect_unchanged(&before);
}

/* The edge (docs/ERRATA.md D39 to D41): nesting, bodies any web page could post, bytes
 * that are not UTF-8, methods civetweb refuses. Each used to crash the program, be accepted, or
 * answer with the database's own error text. */
static void expect_raw_error(const char *method, const char *path, const char *const *headers,
                             const char *body, int want_status, const char *want_message)
{
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    core_err err = CORE_ERR_INIT;
    core_status st =
        e2e_http(app, method, path, headers, body, body ? strlen(body) : 0, &resp, &err);
    if (st != CORE_OK)
        fprintf(stderr, "e2e: %s %s failed: %s\n", method, path, err.msg);
    json_t *j = st == CORE_OK ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
    bool ok = st == CORE_OK && e2e_is_error(resp.status, j, want_status, want_message);
    json_decref(j);
    httpc_response_release(&resp);
    assert_true(ok);
}

static void hostile_requests_are_refused(void **state)
{
    (void)state;
    struct snapshot before;
    take_snapshot(&before);
    /* 1,000 nested arrays or objects: a stack overflow in jansson's recursive parser took the
     * whole program down */
    size_t n = 1000;
    char *deep = core_malloc(6 * n + 3);
    assert_non_null(deep);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    e2e_expect_error(app, "POST", "/api/stores", deep, 400, "JSON nested deeper than 64 levels");
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(deep + o, 6 * n + 3 - o, "{\"a\":");
    memcpy(deep + o, "{}", 2);
    memset(deep + o + 2, '}', n);
    deep[o + 2 + n] = '\0';
    e2e_expect_error(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id), deep, 400,
                     "JSON nested deeper than 64 levels");
    core_free(deep);

    /* what an HTML form or `curl -d` sends, and a body without a type: a web page can make the
     * browser post them cross-site */
    static const char *const form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    static const char *const text[] = {"Content-Type: text/plain", NULL};
    const char *store = "{\"name\":\"Forged Goods\",\"location\":\"Level 9\"}";
    expect_raw_error(
        "POST", "/api/stores", form, store, 415,
        "unsupported Content-Type \"application/x-www-form-urlencoded\": send the body as "
        "JSON with -H 'Content-Type: application/json'");
    expect_raw_error("POST", "/api/stores", text, store, 415,
                     "unsupported Content-Type \"text/plain\": send the body as JSON with -H "
                     "'Content-Type: application/json'");
    expect_raw_error(
        "POST", "/api/stores", NULL, store, 415,
        "missing Content-Type: send the body as JSON with -H 'Content-Type: application/json'");

    /* an id that is not UTF-8 reached the database, and its error text came back */
    e2e_expect_error(app, "GET", "/api/baskets/%FF%FE", NULL, 400, "the id is not valid UTF-8");
    e2e_expect_error(app, "PUT", "/api/stores/%C3%28/participating", NULL, 400,
                     "the id is not valid UTF-8");

    /* methods civetweb refuses: the API's JSON, not civetweb's text */
    expect_raw_error("TRACE", "/api/stores", NULL, NULL, 501, "method TRACE is not supported");
    expect_raw_error("BREW", "/api/stores", NULL, NULL, 501, "method BREW is not supported");
    expect_unchanged(&before);
    /* and the program is still serving */
    json_decref(e2e_expect_ok(app, "GET", E2E_F("/api/stores/%s", store_id), NULL));
}

static void body_over_one_mib_is_413(void **state)
{
    (void)state;
    struct snapshot before;
    take_snapshot(&before);
    /* a well-formed JSON body that is 1 MiB + 1 byte long */
    const size_t size = 1024 * 1024 + 1;
    static const char head[] = "{\"name\":\"", tail[] = "\",\"location\":\"x\"}";
    char *body = core_malloc(size + 1);
    assert_non_null(body);
    memset(body, 'a', size);
    memcpy(body, head, sizeof head - 1);
    memcpy(body + size - (sizeof tail - 1), tail, sizeof tail - 1);
    body[size] = '\0';
    int status;
    json_t *j = e2e_call(app, "POST", "/api/stores", body, &status);
    core_free(body);
    bool ok = e2e_is_error(status, j, 413, NULL);
    json_decref(j);
    assert_true(ok);

    /* the program is still fine afterwards */
    json_decref(e2e_expect_ok(app, "GET", E2E_F("/api/stores/%s", store_id), NULL));
    expect_unchanged(&before);
}

static void broken_rules_answer_the_book_texts(void **state)
{
    (void)state;
    struct snapshot before;
    take_snapshot(&before);
    e2e_expect_error(app, "POST", "/api/stores", "{\"name\":\"\",\"location\":\"Level 1\"}", 400,
                     "the store name cannot be blank");
    e2e_expect_error(app, "POST", "/api/stores", "{\"location\":\"Level 1\"}", 400,
                     "the store name cannot be blank");
    e2e_expect_error(app, "POST", "/api/stores", "{\"name\":\"Nameless\",\"location\":\"\"}", 400,
                     "the store location cannot be blank");
    e2e_expect_error(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                     "{\"name\":\"Refund\",\"description\":\"\",\"sku\":\"R\",\"price\":-1}", 400,
                     "the product price cannot be negative");
    e2e_expect_error(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                     "{\"name\":\"\",\"description\":\"\",\"sku\":\"R\",\"price\":1}", 400,
                     "the product name cannot be blank");
    e2e_expect_error(app, "POST", "/api/customers", "{\"name\":\"\",\"smsNumber\":\"555-0000\"}",
                     400, "the customer name cannot be blank");
    e2e_expect_error(app, "POST", "/api/customers", "{\"name\":\"Silent Sam\",\"smsNumber\":\"\"}",
                     400, "the SMS number cannot be blank");
    e2e_expect_error(app, "POST", "/api/baskets", "{\"customerId\":\"\"}", 400,
                     "the customer id cannot be blank");
    e2e_expect_error(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket_id),
                     E2E_F("{\"productId\":\"%s\",\"quantity\":-1}", product_id), 400,
                     "the item quantity cannot be negative");
    e2e_expect_error(app, "PUT", E2E_F("/api/baskets/%s/removeItem", basket_id),
                     E2E_F("{\"productId\":\"%s\",\"quantity\":-1}", product_id), 400,
                     "the item quantity cannot be negative");
    e2e_expect_error(app, "PUT", E2E_F("/api/stores/%s/participating", store_id), NULL, 400,
                     "the store is already participating");
    e2e_expect_error(app, "PUT", E2E_F("/api/customers/%s/enable", customer_id), NULL, 400,
                     "the customer is already enabled");
    e2e_expect_error(
        app, "POST", "/api/ordering",
        E2E_F("{\"customerId\":\"%s\",\"paymentId\":\"p-1\",\"items\":[]}", customer_id), 400,
        "the order has no items");
    expect_unchanged(&before);

    /* the "not" rules need the other state first */
    json_decref(
        e2e_expect_ok(app, "DELETE", E2E_F("/api/stores/%s/participating", store_id), NULL));
    e2e_expect_error(app, "DELETE", E2E_F("/api/stores/%s/participating", store_id), NULL, 400,
                     "the store is already not participating");
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/participating", store_id), NULL));
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/customers/%s/disable", customer_id), NULL));
    e2e_expect_error(app, "PUT", E2E_F("/api/customers/%s/disable", customer_id), NULL, 400,
                     "the customer is already disabled");
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/customers/%s/enable", customer_id), NULL));
    e2e_expect_sql(app, "true", "select enabled::text from customers.customers where id = $1",
                   customer_id);
    e2e_expect_sql(app, "true", "select participating::text from stores.stores where id = $1",
                   store_id);
}

/* A checkout that another module refuses leaves everything as it was: no order, no shopping list,
 * and the basket still open. */
static void refused_checkout_changes_nothing(void **state)
{
    (void)state;
    struct snapshot before;
    take_snapshot(&before);
    int status;

    /* payments does not know the payment */
    json_t *j = e2e_call(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket_id),
                         "{\"paymentId\":\"no-such-payment\"}", &status);
    bool refused = status >= 400 && status < 500 && e2e_is_error(status, j, status, NULL);
    json_decref(j);
    assert_true(refused);
    expect_unchanged(&before);

    /* customers refuses a disabled customer */
    char payment_id[E2E_ID_MAX];
    e2e_expect_id(app, "POST", "/api/payments",
                  E2E_F("{\"customerId\":\"%s\",\"amount\":2.5}", customer_id), payment_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/customers/%s/disable", customer_id), NULL));
    take_snapshot(&before);
    j = e2e_call(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket_id),
                 E2E_F("{\"paymentId\":\"%s\"}", payment_id), &status);
    refused = status >= 400 && status < 500 && e2e_is_error(status, j, status, NULL);
    json_decref(j);
    assert_true(refused);
    expect_unchanged(&before);
    e2e_expect_sql(app, "open", "select status from baskets.baskets where id = $1", basket_id);

    /* enabled again, the same checkout goes through */
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/customers/%s/enable", customer_id), NULL));
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket_id),
                              E2E_F("{\"paymentId\":\"%s\"}", payment_id)));
    e2e_expect_sql(app, "checked_out", "select status from baskets.baskets where id = $1",
                   basket_id);
    e2e_expect_sql(app, "pending", "select status from ordering.orders where id = $1", basket_id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixtures),
        cmocka_unit_test(malformed_json_is_refused),
        cmocka_unit_test(wrong_field_types_are_named),
        cmocka_unit_test(unknown_fields_are_named),
        cmocka_unit_test(unknown_ids_are_404),
        cmocka_unit_test(unknown_routes_and_methods),
        cmocka_unit_test(body_over_one_mib_is_413),
        cmocka_unit_test(hostile_requests_are_refused),
        cmocka_unit_test(broken_rules_answer_the_book_texts),
        cmocka_unit_test(refused_checkout_changes_nothing),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    return e2e_run_group("bad-input", &app, tests);
}
