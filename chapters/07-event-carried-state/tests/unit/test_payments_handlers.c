/* test_payments_handlers.c -- unit tests of payments/handlers.h and payments/publisher.c
 * (chapter 07): ordersapi.OrderReadied consumed in the group payment-orders on the in-memory
 * stream (am.h) becomes the order's one invoice, announced as paymentsapi.InvoiceCreated; a
 * payment is announced as paymentsapi.InvoicePaid. The repositories are fakes
 * (tests/support/payments_fakes.h: one invoice per order, as the table's unique index); the
 * publisher is the module's own, on the memory stream. Checked: amount = the order's total; the
 * same message twice leaves one invoice and is acknowledged; a failure (database, broker) NAKs
 * and the redelivery finishes the work; what the rules refuse ends as a dead letter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "am.h"
#include "log.h"
#include "monolith/messages.h"
#include "ordering/events.h"
#include "payments/adapters.h"
#include "payments/events.h"
#include "payments/handlers.h"
#include "payments_fakes.h"
#include "pb.h"
#include "stream_recorder.h"

static struct payments_fake_payments payments;
static struct payments_fake_invoices invoices;
static struct payments_app app;
static es_registry *messages;
static am_mem_broker *broker;
static am_stream *stream;
static struct stream_recorder rec; /* what payments announced */
static long live_before;

static int setup(void **state)
{
    (void)state;
    live_before = core_alloc_live();
    memset(&payments, 0, sizeof payments);
    memset(&invoices, 0, sizeof invoices);
    payments_fake_payments_port(&app.payments, &payments);
    payments_fake_invoices_port(&app.invoices, &invoices);
    assert_int_equal(es_registry_new(&messages, NULL), CORE_OK);
    assert_int_equal(monolith_register_messages(messages, NULL), CORE_OK);
    assert_int_equal(am_mem_broker_new(&broker, NULL), CORE_OK);
    assert_int_equal(am_mem_stream_new(&stream, broker, "mallbots", NULL), CORE_OK);
    payments_stream_events(&app.events, stream);
    stream_recorder_subscribe(&rec, stream, PAYMENTS_INVOICE_CHANNEL, "test-invoices", messages);
    assert_int_equal(payments_subscribe_order_handlers(stream, messages, &app, NULL), CORE_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stream_recorder_release(&rec);
    am_stream_free(stream);
    am_mem_broker_free(broker);
    es_registry_free(messages);
    assert_int_equal(core_alloc_live(), live_before);
    return 0;
}

/* Publishes ordersapi.OrderReadied (or, canceled, OrderCanceled) for order_id as ordering would,
 * under message id msg_id. */
static void publish_order_event(bool canceled, const char *msg_id, const char *order_id,
                                double total)
{
    ProtobufCMessage *payload;
    if (canceled) {
        Ordersapi__OrderCanceled *m = pb_new_of(ordersapi__order_canceled);
        assert_non_null(m);
        assert_int_equal(pb_set_string(&m->id, order_id, NULL), CORE_OK);
        payload = &m->base;
    } else {
        Ordersapi__OrderReadied *m = pb_new_of(ordersapi__order_readied);
        assert_non_null(m);
        assert_int_equal(pb_set_string(&m->id, order_id, NULL), CORE_OK);
        assert_int_equal(pb_set_string(&m->customer_id, "customer-1", NULL), CORE_OK);
        assert_int_equal(pb_set_string(&m->payment_id, "payment-1", NULL), CORE_OK);
        m->total = total;
        payload = &m->base;
    }
    ddd_event *ev = NULL;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    assert_int_equal(ddd_event_new(&ev,
                                   canceled ? ORDERSAPI_ORDER_CANCELED : ORDERSAPI_ORDER_READIED,
                                   &payload, NULL),
                     CORE_OK);
    assert_int_equal(ddd_event_restore(ev, msg_id, now, NULL), CORE_OK);
    assert_int_equal(am_event_publish(stream, ORDERING_ORDER_CHANNEL, ev, NULL), CORE_OK);
    ddd_event_free(ev);
}

static core_status count_msg(void *ud, const struct am_stored_msg *m, core_err *err)
{
    (void)m;
    (void)err;
    (*(int *)ud)++;
    return CORE_OK;
}

static int dead_letters(void)
{
    int n = 0;
    assert_int_equal(
        am_stream_read(stream, "mallbots.dead." PAYMENTS_ORDERS_GROUP, 0, count_msg, &n, NULL),
        CORE_OK);
    return n;
}

/* The one InvoiceCreated the recorder has: message id = invoice id = the stored invoice's. */
static void assert_one_invoice_announced(const char *order_id, double amount)
{
    assert_int_equal(invoices.n, 1);
    assert_int_equal(rec.n, 1);
    assert_string_equal(rec.names[0], PAYMENTSAPI_INVOICE_CREATED);
    assert_string_equal(rec.ids[0], invoices.rows[0].id);
    Paymentsapi__InvoiceCreated *m =
        (void *)stream_recorder_payload(&rec, 0, &paymentsapi__invoice_created__descriptor);
    assert_string_equal(m->id, invoices.rows[0].id);
    assert_string_equal(m->order_id, order_id);
    assert_float_equal(m->amount, amount, 1e-9);
    pb_free(&m->base);
}

static void order_readied_creates_the_orders_invoice(void **state)
{
    (void)state;
    publish_order_event(true, "m-0", "order-1", 0); /* canceled without an invoice: nothing */
    publish_order_event(false, "m-1", "order-1", 129.92);
    am_mem_broker_run(broker, NULL);
    assert_string_equal(invoices.rows[0].order_id, "order-1");
    assert_float_equal(invoices.rows[0].amount, 129.92, 1e-9);
    assert_int_equal(invoices.rows[0].status, PAYMENTS_INVOICE_PENDING);
    assert_one_invoice_announced("order-1", 129.92);
    assert_int_equal(dead_letters(), 0);
}

static void the_same_order_twice_leaves_one_invoice(void **state)
{
    (void)state;
    publish_order_event(false, "m-1", "order-1", 10);
    am_mem_broker_run(broker, NULL);
    publish_order_event(false, "m-2", "order-1", 10); /* delivered again under another id */
    am_mem_broker_run(broker, NULL);
    /* one invoice; announced again under the same message id, which the stream stores once */
    assert_one_invoice_announced("order-1", 10);
    assert_int_equal(dead_letters(), 0);
}

static void a_failure_is_nacked_and_the_redelivery_finishes(void **state)
{
    (void)state;
    /* the database fails once */
    invoices.fail_save = CORE_ERR_UNAVAILABLE;
    publish_order_event(false, "m-1", "order-1", 10);
    assert_true(am_mem_broker_step(broker)); /* delivery 1: NAK */
    assert_int_equal(invoices.n, 0);
    invoices.fail_save = CORE_OK;
    am_mem_broker_run(broker, NULL); /* delivery 2 */
    assert_one_invoice_announced("order-1", 10);

    /* the broker fails once, after the invoice was saved: the redelivery announces it */
    stream_recorder_release(&rec);
    memset(&invoices, 0, sizeof invoices);
    publish_order_event(false, "m-2", "order-2", 20);
    am_mem_broker_fail(broker, AM_MEM_FAIL_PUBLISH, 1); /* the handler's InvoiceCreated */
    assert_true(am_mem_broker_step(broker));            /* delivery 1: saved, NAK */
    assert_int_equal(invoices.n, 1);
    assert_int_equal(rec.n, 0);
    am_mem_broker_run(broker, NULL);
    assert_one_invoice_announced("order-2", 20);
    assert_int_equal(dead_letters(), 0);
}

static void what_the_rules_refuse_ends_as_a_dead_letter(void **state)
{
    (void)state;
    publish_order_event(false, "m-1", "order-1", 1e9); /* more than an invoice can hold */
    am_mem_broker_run(broker, NULL);
    assert_int_equal(invoices.n, 0);
    assert_int_equal(rec.n, 0);
    assert_int_equal(dead_letters(), 1);

    core_err err = CORE_ERR_INIT;
    Ordersapi__OrderReadied *m = pb_new_of(ordersapi__order_readied);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->id, "order-1", NULL), CORE_OK);
    m->total = -1;
    ProtobufCMessage *payload = &m->base;
    ddd_event *ev = NULL;
    assert_int_equal(ddd_event_new(&ev, ORDERSAPI_ORDER_READIED, &payload, NULL), CORE_OK);
    assert_int_equal(payments_on_order_event(&app, NULL, ev, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "invoicing order order-1: the invoice amount cannot be negative");
    ddd_event_free(ev);
}

static void a_canceled_order_cancels_its_pending_invoice(void **state)
{
    (void)state;
    publish_order_event(false, "m-1", "order-1", 10);
    am_mem_broker_run(broker, NULL);
    publish_order_event(true, "m-2", "order-1", 0);
    publish_order_event(true, "m-3", "order-1", 0); /* twice: nothing more to do */
    am_mem_broker_run(broker, NULL);
    assert_int_equal(invoices.n, 1);
    assert_int_equal(invoices.rows[0].status, PAYMENTS_INVOICE_CANCELED);
    assert_int_equal(dead_letters(), 0);

    /* a paid invoice is not canceled: refused, redelivered, dead */
    publish_order_event(false, "m-4", "order-2", 10);
    am_mem_broker_run(broker, NULL);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(payments_app_pay_invoice(&app, invoices.rows[1].id, &err), CORE_OK);
    publish_order_event(true, "m-5", "order-2", 0);
    am_mem_broker_run(broker, NULL);
    assert_int_equal(invoices.rows[1].status, PAYMENTS_INVOICE_PAID);
    assert_int_equal(dead_letters(), 1);
}

static void paying_announces_invoice_paid(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    publish_order_event(false, "m-1", "order-1", 10);
    am_mem_broker_run(broker, NULL);
    char invoice_id[PAYMENTS_ID_MAX + 1];
    core_strlcpy(invoice_id, invoices.rows[0].id, sizeof invoice_id);
    assert_int_equal(payments_app_pay_invoice(&app, invoice_id, &err), CORE_OK);
    am_mem_broker_run(broker, NULL);
    assert_int_equal(rec.n, 2);
    assert_string_equal(rec.names[1], PAYMENTSAPI_INVOICE_PAID);
    assert_string_not_equal(rec.ids[1], invoice_id); /* its own message id */
    Paymentsapi__InvoicePaid *paid =
        (void *)stream_recorder_payload(&rec, 1, &paymentsapi__invoice_paid__descriptor);
    assert_string_equal(paid->id, invoice_id);
    assert_string_equal(paid->order_id, "order-1");
    pb_free(&paid->base);
    assert_int_equal(invoices.rows[0].status, PAYMENTS_INVOICE_PAID);

    /* the broker away: 503, the invoice is paid */
    core_err_clear(&err);
    publish_order_event(false, "m-2", "order-2", 10);
    am_mem_broker_run(broker, NULL);
    am_mem_broker_fail(broker, AM_MEM_FAIL_PUBLISH, 1);
    assert_int_equal(payments_app_pay_invoice(&app, invoices.rows[1].id, &err),
                     CORE_ERR_UNAVAILABLE);
    assert_string_equal(core_err_client_msg(&err), "the change was saved but not published: the "
                                                   "message broker is unavailable");
    assert_int_equal(invoices.rows[1].status, PAYMENTS_INVOICE_PAID);
}

int main(void)
{
    log_init(LOG_LEVEL_ERROR);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(order_readied_creates_the_orders_invoice),
        T(the_same_order_twice_leaves_one_invoice),
        T(a_failure_is_nacked_and_the_redelivery_finishes),
        T(what_the_rules_refuse_ends_as_a_dead_letter),
        T(a_canceled_order_cancels_its_pending_invoice),
        T(paying_announces_invoice_paid),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
