/* test_ordering_handlers.c -- unit tests of ordering/handlers.h (chapter 04): the
 * NotificationHandlers and InvoiceHandlers registered on a real ddd_dispatcher, fed with the events
 * a real order records (domain.h). The notifications and payments modules and the order repository
 * are fakes that record their calls and can be told to fail (tests/support/ordering_fakes.h).
 * Checked: the right handler runs for the right event with the right data, in the book's order; a
 * failing port is reported through the dispatcher and stops the delivery; malformed events are
 * refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ddd.h"
#include "log.h"
#include "ordering/domain_events.pb-c.h"
#include "ordering/handlers.h"
#include "ordering_fakes.h"
#include "pb.h"

static struct ordering_fakes fk; /* every port; its table holds the one order "order-1" */
static ddd_dispatcher *dispatcher;
static long live_before;

/* The application the InvoiceHandlers store the invoice id with: only its repository is used. */
static struct ordering_app app;
static struct ordering_notification_handlers notification_handlers;
static struct ordering_invoice_handlers invoice_handlers = {{NULL, NULL, NULL}, &app};

static struct ordering_order *stored_order(void)
{
    struct ordering_order *o = ordering_fake_order(&fk, "order-1");
    assert_non_null(o);
    return o;
}

static void fail_next(enum ordering_fake_port port, core_status st, const char *msg)
{
    ordering_fake_fail_next(&fk, port, st, msg);
}

static const struct ordering_item items[] = {
    {"store-1", "product-1", "Waldorf Books", "EDA with Golang", 49.99, 2},
    {"store-2", "product-2", "Nic & Naks", "Wizard w/ crystal", 9.98, 3},
};

static int setup(void **state)
{
    (void)state;
    memset(&fk, 0, sizeof fk);
    ordering_fake_app(&app, &fk);
    ordering_fake_notifications_port(&notification_handlers.notifications, &fk);
    ordering_fake_payments_port(&invoice_handlers.payments, &fk);
    struct ordering_order *o = &fk.orders[fk.norders++];
    ordering_order_init(o);
    assert_int_equal(ordering_order_create(o, "order-1", "customer-1", "payment-1", items, 2, NULL),
                     CORE_OK);
    assert_int_equal(ordering_order_set_shopping_id(o, "shopping-1", NULL), CORE_OK);
    live_before = core_alloc_live();
    assert_int_equal(ddd_dispatcher_new(&dispatcher, NULL), CORE_OK);
    assert_int_equal(
        ordering_register_notification_handlers(dispatcher, &notification_handlers, NULL), CORE_OK);
    assert_int_equal(ordering_register_invoice_handlers(dispatcher, &invoice_handlers, NULL),
                     CORE_OK);
    app.publisher = ddd_dispatcher_publisher(dispatcher);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    ddd_dispatcher_free(dispatcher);
    dispatcher = NULL;
    app.publisher = (struct ddd_publisher){NULL, NULL};
    assert_int_equal(core_alloc_live(), live_before);
    ordering_fake_release(&fk);
    return 0;
}

/* Applies change to a copy of the stored order (as a command would), takes the events it
 * recorded and publishes them; returns the dispatcher's status. */
enum change { CREATED, CANCELED, READIED, COMPLETED };

static core_status publish_change(enum change change, core_err *err)
{
    struct ordering_order order = ORDERING_ORDER_INIT;
    struct ddd_event_list events = DDD_EVENT_LIST_INIT;
    assert_int_equal(ordering_order_copy(&order, stored_order(), NULL), CORE_OK);
    /* each change starts from the status it needs */
    order.status = change == COMPLETED ? ORDERING_STATUS_READY : ORDERING_STATUS_PENDING;
    switch (change) {
    case CREATED:
        assert_int_equal(ordering_order_record_created(&order, NULL), CORE_OK);
        break;
    case CANCELED:
        assert_int_equal(ordering_order_cancel(&order, NULL), CORE_OK);
        break;
    case READIED:
        assert_int_equal(ordering_order_ready(&order, NULL), CORE_OK);
        break;
    case COMPLETED:
        assert_int_equal(ordering_order_complete(&order, "invoice-9", NULL), CORE_OK);
        break;
    }
    stored_order()->status = order.status; /* the application updates the order, then publishes */
    assert_int_equal(ddd_aggregate_take_events(&order.agg, &events, NULL), CORE_OK);
    assert_int_equal(events.n, 1);
    core_status st = ddd_dispatcher_publish(dispatcher, events.items, events.n, err);
    ddd_event_list_release(&events);
    ordering_order_release(&order);
    return st;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void the_subscriptions_are_the_books(void **state)
{
    (void)state;
    assert_int_equal(ddd_dispatcher_count(dispatcher, "ordering.OrderCreated"), 1);
    assert_int_equal(ddd_dispatcher_count(dispatcher, "ordering.OrderReadied"), 2);
    assert_int_equal(ddd_dispatcher_count(dispatcher, "ordering.OrderCanceled"), 1);
    assert_int_equal(ddd_dispatcher_count(dispatcher, "ordering.OrderCompleted"), 0);
}

static void order_created_notifies_the_customer(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(publish_change(CREATED, &err), CORE_OK);
    assert_string_equal(fk.calls, "notify_created(order-1,customer-1)");
}

static void order_canceled_notifies_the_customer(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(publish_change(CANCELED, &err), CORE_OK);
    assert_string_equal(fk.calls, "notify_canceled(order-1,customer-1)");
}

static void order_readied_notifies_then_invoices_and_stores_the_invoice_id(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(publish_change(READIED, &err), CORE_OK);
    assert_string_equal(fk.calls,
                        "notify_ready(order-1,customer-1) create_invoice(order-1,payment-1) "
                        "find(order-1) update(order-1)");
    assert_float_equal(fk.invoice_amount, 49.99 * 2 + 9.98 * 3, 1e-9);
    assert_string_equal(stored_order()->invoice_id, "invoice-1");
    assert_int_equal(stored_order()->agg.events.n, 0); /* storing the invoice id records nothing */
}

static void order_completed_has_no_subscriber(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(publish_change(COMPLETED, &err), CORE_OK);
    assert_string_equal(fk.calls, "");
}

static void a_failing_notification_is_reported_and_stops_the_delivery(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    fail_next(ORDERING_FAKE_NOTIFY_READY, CORE_ERR_NOT_FOUND, "customer customer-1 not found");
    assert_int_equal(publish_change(READIED, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "ordering.NotificationHandlers on ordering.OrderReadied: "
                                 "customer customer-1 not found");
    assert_string_equal(fk.calls, "notify_ready(order-1,customer-1)"); /* no invoice */
    assert_string_equal(stored_order()->invoice_id, "");

    static const struct {
        enum ordering_fake_port port;
        enum change change;
        const char *msg;
    } others[] = {
        {ORDERING_FAKE_NOTIFY_CREATED, CREATED,
         "ordering.NotificationHandlers on ordering.OrderCreated: unreachable"},
        {ORDERING_FAKE_NOTIFY_CANCELED, CANCELED,
         "ordering.NotificationHandlers on ordering.OrderCanceled: unreachable"},
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        core_err_clear(&err);
        fail_next(others[i].port, CORE_ERR_UNAVAILABLE, "unreachable");
        assert_int_equal(publish_change(others[i].change, &err), CORE_ERR_UNAVAILABLE);
        assert_string_equal(err.msg, others[i].msg);
    }
}

static void a_failing_invoice_is_reported_and_nothing_is_stored(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    fail_next(ORDERING_FAKE_CREATE_INVOICE, CORE_ERR_INVALID,
              "the invoice amount cannot be negative");
    assert_int_equal(publish_change(READIED, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "ordering.InvoiceHandlers on ordering.OrderReadied: the invoice "
                                 "amount cannot be negative");
    assert_null(strstr(fk.calls, "update("));
    assert_string_equal(stored_order()->invoice_id, "");

    core_err_clear(&err);
    fk.calls[0] = '\0';
    fail_next(ORDERING_FAKE_UPDATE, CORE_ERR_IO, "connection reset");
    assert_int_equal(publish_change(READIED, &err), CORE_ERR_IO);
    assert_string_equal(err.msg, "ordering.InvoiceHandlers on ordering.OrderReadied: connection "
                                 "reset");
    assert_string_equal(stored_order()->invoice_id, "");
}

static void malformed_events_are_refused(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    ddd_event *ev = NULL;

    /* the right payload but no aggregate-id (not recorded by an aggregate) */
    ProtobufCMessage *payload = pb_new(&ordering__domain__order_created__descriptor);
    assert_non_null(payload);
    assert_int_equal(ddd_event_new(&ev, "ordering.OrderCreated", &payload, NULL), CORE_OK);
    assert_int_equal(ddd_dispatcher_publish(dispatcher, &ev, 1, &err), CORE_ERR_INTERNAL);
    assert_string_equal(err.msg, "ordering.NotificationHandlers on ordering.OrderCreated: event "
                                 "ordering.OrderCreated has no aggregate-id");
    ddd_event_free(ev);

    /* an aggregate-id but a payload of another type, and none at all */
    for (int i = 0; i < 2; i++) {
        core_err_clear(&err);
        payload = i == 0 ? pb_new(&ordering__domain__order_created__descriptor) : NULL;
        assert_int_equal(ddd_event_new(&ev, "ordering.OrderReadied", &payload, NULL), CORE_OK);
        assert_int_equal(ddd_event_set_metadata(ev, "aggregate-id", "order-1", NULL), CORE_OK);
        assert_int_equal(ddd_dispatcher_publish(dispatcher, &ev, 1, &err), CORE_ERR_INTERNAL);
        assert_string_equal(err.msg,
                            "ordering.NotificationHandlers on ordering.OrderReadied: event "
                            "ordering.OrderReadied carries no ordering.domain.OrderReadied "
                            "payload");
        ddd_event_free(ev);
    }
    assert_string_equal(fk.calls, ""); /* no port was called */
}

static void registration_out_of_memory_is_reported(void **state)
{
    (void)state;
    int failures = 0;
    for (long n = 0;; n++) {
        ddd_dispatcher *d = NULL;
        core_err err = CORE_ERR_INIT;
        long live = core_alloc_live();
        assert_int_equal(ddd_dispatcher_new(&d, NULL), CORE_OK);
        core_alloc_fail_after(n);
        core_status st = ordering_register_notification_handlers(d, &notification_handlers, &err);
        if (st == CORE_OK)
            st = ordering_register_invoice_handlers(d, &invoice_handlers, &err);
        core_alloc_fail_after(-1);
        ddd_dispatcher_free(d);
        assert_int_equal(core_alloc_live(), live);
        if (st == CORE_OK)
            break;
        assert_int_equal(st, CORE_ERR_NOMEM);
        failures++;
    }
    assert_true(failures > 0);
}

int main(void)
{
    log_init(LOG_LEVEL_DEBUG); /* run the logging decorator's formatting too */
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(the_subscriptions_are_the_books),
        T(order_created_notifies_the_customer),
        T(order_canceled_notifies_the_customer),
        T(order_readied_notifies_then_invoices_and_stores_the_invoice_id),
        T(order_completed_has_no_subscriber),
        T(a_failing_notification_is_reported_and_stops_the_delivery),
        T(a_failing_invoice_is_reported_and_nothing_is_stored),
        T(malformed_events_are_refused),
        T(registration_out_of_memory_is_reported),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
