/* test_order_flow.c -- end to end (chapter 07): the order's life over integration events.
 *
 * The program has a nats-server of its own (e2e_open from chapter 06 on: e2e_app_broker), so the
 * stream holds only this program's messages, and one mallbots process on a fresh database. Driven
 * over REST alone, like a user with curl:
 *   - a customer registers, changes the SMS number (PUT /api/customers/{id}/change-sms, with its
 *     rules), is disabled and enabled: the four customersapi events are on
 *     mallbots.customers.events.Customer, in order, about the customer;
 *   - a store with a product, a basket, a payment, the checkout: the order is pending and
 *     ordersapi.OrderCreated is on the stream with the item's store id; the depot's bot shops:
 *     the order becomes ready (ordersapi.OrderReadied with the total), payments creates the
 *     invoice from that message (amount = total) and ordering learns its id
 *     (paymentsapi.InvoiceCreated): GET /api/ordering/{id} shows invoiceId; paying it
 *     (paymentsapi.InvoicePaid) completes the order (ordersapi.OrderCompleted with the invoice);
 *   - a second order is canceled: ordersapi.OrderCanceled;
 *   - the message id of every order event is the domain event's id in ordering.events, and every
 *     message's Nats-Msg-Id equals its StreamMessage id; the consumer groups payment-orders and
 *     ordering-payments acknowledge everything, nothing is dead-lettered, one invoice per order.
 * The tests run in order and build on each other. Waits are bounded (order_wait.h); nothing
 * asserts on time.
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
#include "customers/events.h"
#include "e2e.h"
#include "monolith/messages.h"
#include "natsd.h"
#include "order_wait.h"
#include "ordering/events.h"
#include "payments/events.h"
#include "streams_sql.h"

#define WAIT_MS 30000 /* upper bound of every wait: a failure, not a measurement */

static e2e_app *app;
static am_stream *reader;  /* the test's own connection to the stream */
static es_registry *types; /* every integration message of the chapter */
static char customer_id[E2E_ID_MAX], store_id[E2E_ID_MAX], product_id[E2E_ID_MAX];
static char order_id[E2E_ID_MAX], shopping_id[E2E_ID_MAX], invoice_id[E2E_ID_MAX];
static char canceled_id[E2E_ID_MAX];

/* ---- reading the stream ------------------------------------------------------------------- */

#define SEEN_MAX 64
struct seen_msg {
    uint64_t seq;
    char subject[AM_SUBJECT_MAX + 1];
    char header_id[72]; /* Nats-Msg-Id */
    char id[72];        /* StreamMessage.id */
    char name[96];      /* StreamMessage.name */
    char about[72];     /* the payload's id: the customer's, order's or invoice's */
    char text[256];     /* the other fields that matter, as text */
};
struct seen {
    struct seen_msg m[SEEN_MAX];
    int n;
};

static void describe(const ddd_event *ev, struct seen_msg *o)
{
    const void *v = ddd_event_payload(ev);
    if (ddd_event_payload_is(ev, &customersapi__customer_registered__descriptor)) {
        const Customersapi__CustomerRegistered *m = v;
        snprintf(o->about, sizeof o->about, "%s", m->id);
        snprintf(o->text, sizeof o->text, "%s|%s", m->name, m->sms_number);
    } else if (ddd_event_payload_is(ev, &customersapi__customer_sms_changed__descriptor)) {
        const Customersapi__CustomerSmsChanged *m = v;
        snprintf(o->about, sizeof o->about, "%s", m->id);
        snprintf(o->text, sizeof o->text, "%s", m->sms_number);
    } else if (ddd_event_payload_is(ev, &customersapi__customer_enabled__descriptor)) {
        snprintf(o->about, sizeof o->about, "%s", ((const Customersapi__CustomerEnabled *)v)->id);
    } else if (ddd_event_payload_is(ev, &customersapi__customer_disabled__descriptor)) {
        snprintf(o->about, sizeof o->about, "%s", ((const Customersapi__CustomerDisabled *)v)->id);
    } else if (ddd_event_payload_is(ev, &ordersapi__order_created__descriptor)) {
        const Ordersapi__OrderCreated *m = v;
        snprintf(o->about, sizeof o->about, "%s", m->id);
        snprintf(o->text, sizeof o->text, "%s|%s|%s|%zu|%s|%s|%.2f|%d", m->customer_id,
                 m->payment_id, m->shopping_id, m->n_items,
                 m->n_items ? m->items[0]->product_id : "", m->n_items ? m->items[0]->store_id : "",
                 m->n_items ? m->items[0]->price : 0, m->n_items ? m->items[0]->quantity : 0);
    } else if (ddd_event_payload_is(ev, &ordersapi__order_readied__descriptor)) {
        const Ordersapi__OrderReadied *m = v;
        snprintf(o->about, sizeof o->about, "%s", m->id);
        snprintf(o->text, sizeof o->text, "%s|%s|%.2f", m->customer_id, m->payment_id, m->total);
    } else if (ddd_event_payload_is(ev, &ordersapi__order_canceled__descriptor)) {
        const Ordersapi__OrderCanceled *m = v;
        snprintf(o->about, sizeof o->about, "%s", m->id);
        snprintf(o->text, sizeof o->text, "%s|%s", m->customer_id, m->payment_id);
    } else if (ddd_event_payload_is(ev, &ordersapi__order_completed__descriptor)) {
        const Ordersapi__OrderCompleted *m = v;
        snprintf(o->about, sizeof o->about, "%s", m->id);
        snprintf(o->text, sizeof o->text, "%s|%s", m->customer_id, m->invoice_id);
    } else if (ddd_event_payload_is(ev, &paymentsapi__invoice_created__descriptor)) {
        const Paymentsapi__InvoiceCreated *m = v;
        snprintf(o->about, sizeof o->about, "%s", m->id);
        snprintf(o->text, sizeof o->text, "%s|%.2f", m->order_id, m->amount);
    } else if (ddd_event_payload_is(ev, &paymentsapi__invoice_paid__descriptor)) {
        const Paymentsapi__InvoicePaid *m = v;
        snprintf(o->about, sizeof o->about, "%s", m->id);
        snprintf(o->text, sizeof o->text, "%s", m->order_id);
    }
}

static core_status collect(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct seen *s = ud;
    if (s->n >= SEEN_MAX)
        return core_err_set(err, CORE_ERR_TOO_LARGE, "more than %d messages", SEEN_MAX);
    struct seen_msg *out = &s->m[s->n];
    memset(out, 0, sizeof *out);
    out->seq = m->seq;
    snprintf(out->subject, sizeof out->subject, "%s", m->subject);
    snprintf(out->header_id, sizeof out->header_id, "%s", m->msg_id ? m->msg_id : "");
    struct am_envelope env = AM_ENVELOPE_INIT;
    ddd_event *ev = NULL;
    core_status st = am_stream_message_unpack(m->data, m->len, &env, err);
    if (!st)
        st = am_data_unpack(types, env.id, env.name, env.data, env.len, &ev, err);
    if (!st) {
        snprintf(out->id, sizeof out->id, "%s", env.id);
        snprintf(out->name, sizeof out->name, "%s", env.name);
        describe(ev, out);
        s->n++;
    }
    ddd_event_free(ev);
    am_envelope_release(&env);
    return st;
}

static void read_stream(const char *filter, struct seen *s)
{
    core_err err = CORE_ERR_INIT;
    if (!reader) { /* connects on first use, to the program's broker */
        struct am_js_opts o = AM_JS_OPTS_INIT;
        o.url = e2e_app_broker(app)->url;
        o.stream = "mallbots";
        o.name = "test_order_flow";
        if (am_js_stream_new(&reader, &o, &err) != CORE_OK)
            fail_msg("connecting to %s: %s", o.url, err.msg);
    }
    memset(s, 0, sizeof *s);
    if (am_stream_read(reader, filter, 1, collect, s, &err) != CORE_OK)
        fail_msg("reading %s: %s", filter, err.msg);
}

/* The only message named name about id; fails the test when there is none or more than one. */
static const struct seen_msg *the_message(const struct seen *s, const char *name, const char *id)
{
    const struct seen_msg *found = NULL;
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->m[i].name, name) == 0 && strcmp(s->m[i].about, id) == 0) {
            if (found)
                fail_msg("%s about %s is on the stream twice", name, id);
            found = &s->m[i];
        }
    }
    if (!found)
        fail_msg("no %s about %s on the stream (%d messages)", name, id, s->n);
    assert_string_equal(found->header_id, found->id); /* Nats-Msg-Id = StreamMessage.id */
    return found;
}

/* The message id of an order event is the id of its domain event (version-th of the order). */
static void expect_domain_event_id(const struct seen_msg *m, const char *order, int version)
{
    e2e_expect_sql(app, m->id,
                   E2E_F("select event_id from ordering.events where stream_id = $1 and "
                         "stream_version = %d",
                         version),
                   order);
}

/* Waits until group has acknowledged every message up to seq. */
static void expect_group_done(const char *group, uint64_t seq)
{
    core_err err = CORE_ERR_INIT;
    struct am_group_info gi = {0};
    struct timespec pause = {0, 50 * 1000 * 1000};
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        if (am_stream_group_info(reader, group, &gi, &err) != CORE_OK)
            fail_msg("group %s: %s", group, err.msg);
        if (gi.ack_floor >= seq && gi.pending == 0 && gi.ack_pending == 0)
            return;
        nanosleep(&pause, NULL);
    }
    fail_msg("group %s acknowledged up to %llu, not %llu (pending %llu, ack pending %llu)", group,
             (unsigned long long)gi.ack_floor, (unsigned long long)seq,
             (unsigned long long)gi.pending, (unsigned long long)gi.ack_pending);
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void a_customers_changes_are_announced(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", "/api/customers",
                  "{\"name\":\"Grace Hopper\",\"smsNumber\":\"555-0101\"}", customer_id);
    char change[E2E_ID_MAX + 64];
    snprintf(change, sizeof change, "/api/customers/%s/change-sms", customer_id);
    json_t *j = e2e_expect_ok(app, "PUT", change, "{\"smsNumber\":\"555-0202\"}");
    assert_int_equal(json_object_size(j), 0); /* {} */
    json_decref(j);
    j = e2e_expect_ok(app, "GET", E2E_F("/api/customers/%s", customer_id), NULL);
    e2e_expect_json_str(j, "customer.smsNumber", "555-0202");
    json_decref(j);
    /* the rules, whatever the entry point */
    e2e_expect_error(app, "PUT", change, "{\"smsNumber\":\"  \"}", 400,
                     "the SMS number cannot be blank");
    e2e_expect_error(app, "PUT", change, "{}", 400, "the SMS number cannot be blank");
    e2e_expect_error(app, "PUT", "/api/customers/no-such-customer/change-sms",
                     "{\"smsNumber\":\"555\"}", 404, "customer no-such-customer not found");
    e2e_expect_error_like(app, "PUT", change, "{\"sms\":\"555\"}", 400, "sms");
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/customers/%s/disable", customer_id), NULL));
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/customers/%s/enable", customer_id), NULL));

    struct seen s;
    read_stream(CUSTOMERS_CUSTOMER_CHANNEL, &s);
    assert_int_equal(s.n, 4);
    static const char *const order[] = {
        CUSTOMERSAPI_CUSTOMER_REGISTERED, CUSTOMERSAPI_CUSTOMER_SMS_CHANGED,
        CUSTOMERSAPI_CUSTOMER_DISABLED, CUSTOMERSAPI_CUSTOMER_ENABLED};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(s.m[i].name, order[i]);
        assert_string_equal(s.m[i].about, customer_id);
        assert_string_equal(s.m[i].subject, CUSTOMERS_CUSTOMER_CHANNEL);
        assert_string_equal(s.m[i].header_id, s.m[i].id);
        assert_string_not_equal(s.m[i].id, customer_id); /* the domain event's own id */
        for (int k = 0; k < i; k++)
            assert_string_not_equal(s.m[i].id, s.m[k].id);
    }
    assert_string_equal(s.m[0].text, "Grace Hopper|555-0101");
    assert_string_equal(s.m[1].text, "555-0202");
}

static void checkout_creates_an_announced_order(void **state)
{
    (void)state;
    char basket[E2E_ID_MAX], payment[E2E_ID_MAX];
    e2e_expect_id(app, "POST", "/api/stores", "{\"name\":\"Flow Fans\",\"location\":\"Atrium\"}",
                  store_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/participating", store_id), NULL));
    e2e_expect_id(
        app, "POST", E2E_F("/api/stores/%s/products", store_id),
        "{\"name\":\"Desk Fan\",\"description\":\"quiet\",\"sku\":\"DF-1\",\"price\":12.5}",
        product_id);
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  basket);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":4}", product_id)));
    e2e_expect_id(app, "POST", "/api/payments",
                  E2E_F("{\"customerId\":\"%s\",\"amount\":50}", customer_id), payment);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket),
                              E2E_F("{\"paymentId\":\"%s\"}", payment)));
    snprintf(order_id, sizeof order_id, "%s", basket); /* the order has the basket's id */

    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", order_id), NULL);
    e2e_expect_json_str(j, "order.status", "pending");
    e2e_expect_json_str(j, "order.invoiceId", "");
    const char *sid = e2e_json_str(j, "order.shoppingId");
    snprintf(shopping_id, sizeof shopping_id, "%s", sid ? sid : "");
    json_decref(j);
    assert_true(shopping_id[0] != '\0');

    struct seen s;
    read_stream(ORDERING_ORDER_CHANNEL, &s);
    const struct seen_msg *m = the_message(&s, ORDERSAPI_ORDER_CREATED, order_id);
    assert_string_equal(m->text, E2E_F("%s|%s|%s|1|%s|%s|12.50|4", customer_id, payment,
                                       shopping_id, product_id, store_id));
    expect_domain_event_id(m, order_id, 1);
}

static void the_bot_shops_and_payments_invoices_the_ready_order(void **state)
{
    (void)state;
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/assign", shopping_id),
                              "{\"botId\":\"bot-7\"}"));
    json_decref(
        e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/complete", shopping_id), NULL));

    /* payments creates the invoice when OrderReadied reaches it; ordering learns its id when
     * InvoiceCreated reaches it: both after the request answered */
    json_t *j = order_wait(app, order_id, "ready", true);
    assert_non_null(j);
    snprintf(invoice_id, sizeof invoice_id, "%s", e2e_json_str(j, "order.invoiceId"));
    json_decref(j);
    e2e_expect_sql(app, order_id, "select order_id from payments.invoices where id = $1",
                   invoice_id);
    e2e_expect_sql(app, "50.0000", "select amount::text from payments.invoices where id = $1",
                   invoice_id); /* the total: 4 x 12.50 */
    e2e_expect_sql(app, "pending", "select status from payments.invoices where id = $1",
                   invoice_id);

    struct seen s;
    read_stream(ORDERING_ORDER_CHANNEL, &s);
    const struct seen_msg *m = the_message(&s, ORDERSAPI_ORDER_READIED, order_id);
    assert_non_null(strstr(m->text, "|50.00"));
    assert_non_null(strstr(m->text, customer_id));
    expect_domain_event_id(m, order_id, 2);
    read_stream(PAYMENTS_INVOICE_CHANNEL, &s);
    m = the_message(&s, PAYMENTSAPI_INVOICE_CREATED, invoice_id);
    assert_string_equal(m->text, E2E_F("%s|50.00", order_id));
    assert_string_equal(m->id, invoice_id); /* InvoiceCreated's message id: the invoice's id */
}

static void paying_the_invoice_completes_the_order(void **state)
{
    (void)state;
    json_decref(
        e2e_expect_ok(app, "PUT", E2E_F("/api/payments/invoices/%s/pay", invoice_id), NULL));
    e2e_expect_sql(app, "paid", "select status from payments.invoices where id = $1", invoice_id);

    json_t *j = order_wait(app, order_id, "completed", true);
    assert_non_null(j);
    e2e_expect_json_str(j, "order.invoiceId", invoice_id);
    e2e_expect_json_str(j, "order.shoppingId", shopping_id);
    json_decref(j);
    e2e_expect_sql(app, "completed", SQL_ORDER_STATUS, order_id);

    struct seen s;
    read_stream(PAYMENTS_INVOICE_CHANNEL, &s);
    const struct seen_msg *m = the_message(&s, PAYMENTSAPI_INVOICE_PAID, invoice_id);
    assert_string_equal(m->text, order_id);
    read_stream(ORDERING_ORDER_CHANNEL, &s);
    m = the_message(&s, ORDERSAPI_ORDER_COMPLETED, order_id);
    assert_string_equal(m->text, E2E_F("%s|%s", customer_id, invoice_id));
    /* events 1 created, 2 readied, 3 invoiced (not announced), 4 completed */
    expect_domain_event_id(m, order_id, 4);

    /* an invoice is paid once */
    e2e_expect_error(app, "PUT", E2E_F("/api/payments/invoices/%s/pay", invoice_id), NULL, 400,
                     "invoice cannot be paid for");
}

static void a_canceled_order_is_announced(void **state)
{
    (void)state;
    char payment[E2E_ID_MAX];
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  canceled_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", canceled_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":1}", product_id)));
    e2e_expect_id(app, "POST", "/api/payments",
                  E2E_F("{\"customerId\":\"%s\",\"amount\":12.5}", customer_id), payment);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/checkout", canceled_id),
                              E2E_F("{\"paymentId\":\"%s\"}", payment)));
    json_decref(e2e_expect_ok(app, "DELETE", E2E_F("/api/ordering/%s", canceled_id), NULL));

    struct seen s;
    read_stream(ORDERING_ORDER_CHANNEL, &s);
    const struct seen_msg *m = the_message(&s, ORDERSAPI_ORDER_CANCELED, canceled_id);
    assert_string_equal(m->text, E2E_F("%s|%s", customer_id, payment));
    expect_domain_event_id(m, canceled_id, 2);
    the_message(&s, ORDERSAPI_ORDER_CREATED, canceled_id);
}

static void every_message_is_consumed_once(void **state)
{
    (void)state;
    struct seen orders, invoices, dead;
    read_stream(ORDERING_ORDER_CHANNEL, &orders);
    read_stream(PAYMENTS_INVOICE_CHANNEL, &invoices);
    assert_int_equal(orders.n, 5);   /* created x2, readied, completed, canceled */
    assert_int_equal(invoices.n, 2); /* created, paid */
    expect_group_done("payment-orders", orders.m[orders.n - 1].seq);
    expect_group_done("ordering-payments", invoices.m[invoices.n - 1].seq);
    read_stream("mallbots.dead.>", &dead);
    assert_int_equal(dead.n, 0);
    e2e_expect_sql(app, "1", "select count(*) from payments.invoices", NULL);
    e2e_expect_sql(app, "completed", SQL_ORDER_STATUS, order_id);
    e2e_expect_sql(app, "cancelled", SQL_ORDER_STATUS, canceled_id);
}

int main(void)
{
    core_err err = CORE_ERR_INIT;
    if (es_registry_new(&types, &err) || monolith_register_messages(types, &err)) {
        fprintf(stderr, "test_order_flow: %s\n", err.msg);
        es_registry_free(types);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_customers_changes_are_announced),
        cmocka_unit_test(checkout_creates_an_announced_order),
        cmocka_unit_test(the_bot_shops_and_payments_invoices_the_ready_order),
        cmocka_unit_test(paying_the_invoice_completes_the_order),
        cmocka_unit_test(a_canceled_order_is_announced),
        cmocka_unit_test(every_message_is_consumed_once),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    int rc = e2e_run_group("order_flow", &app, tests);
    am_stream_free(reader);
    es_registry_free(types);
    am_js_library_close();
    return rc;
}
