/* test_order_handlers.c -- exercise 04.2: the ordering module's event handlers
 * (ordering/handlers.c), driven through a real ddd_dispatcher.
 *
 * The handlers are registered exactly as module.c does it (NotificationHandlers first, then
 * InvoiceHandlers) on a real dispatcher. The events are the ones a real order records
 * (ordering/domain.c): the test changes an order the way a command does, takes its events and
 * publishes them, as the application does after the save. What the handlers call are fakes:
 *   - the notifications module (NotifyOrderCreated/Ready/Canceled),
 *   - the payments module (CreateInvoice, which answers "inv-1"),
 *   - the order repository behind ordering_app_record_invoice() (find, update),
 * each writing its calls into one log, "notify_ready(o-1,c-1) create_invoice(o-1,pay-1,129.92)
 * ...", so a test sees what was called, with what, in which order -- and what was not. Any fake
 * can be told to fail.
 *
 * Every test checks that it leaked nothing. No servers are needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ddd.h"
#include "ordering/domain_events.pb-c.h"
#include "ordering/handlers.h"
#include "pb.h"

/* ---- the fakes ------------------------------------------------------------------------------- */

struct world {
    struct ordering_order stored; /* the repository: one order, "o-1" */
    char log[1024];               /* the calls, space separated */
    const char *fail_call;        /* e.g. "notify_ready", "create_invoice", "update" */
    core_status fail_status;
    const char *fail_text;
};

static struct world w;
static long live_before;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    size_t used = strlen(w.log);
    if (used && used < sizeof w.log - 1)
        w.log[used++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w.log + used, sizeof w.log - used, fmt, ap);
    va_end(ap);
}

/* true (err filled) when the test told this call to fail. */
static bool failing(const char *call, core_err *err)
{
    if (!w.fail_call || strcmp(w.fail_call, call) != 0)
        return false;
    core_err_set(err, w.fail_status, "%s", w.fail_text);
    return true;
}

static void fail_call(const char *call, core_status st, const char *text)
{
    w.fail_call = call;
    w.fail_status = st;
    w.fail_text = text;
}

/* Every port must hand its own self back: the handlers get it from their struct. */
static void check_self(void *self, const char *call)
{
    if (self != &w) {
        print_error("error: %s was called with another self than the port's\n", call);
        fail();
    }
}

static core_status notify(const char *call, void *self, const char *order_id,
                          const char *customer_id, core_err *err)
{
    check_self(self, call);
    note("%s(%s,%s)", call, order_id ? order_id : "NULL", customer_id ? customer_id : "NULL");
    return failing(call, err) ? w.fail_status : CORE_OK;
}

static core_status fake_notify_created(void *self, const char *order_id, const char *customer_id,
                                       core_err *err)
{
    return notify("notify_created", self, order_id, customer_id, err);
}

static core_status fake_notify_canceled(void *self, const char *order_id, const char *customer_id,
                                        core_err *err)
{
    return notify("notify_canceled", self, order_id, customer_id, err);
}

static core_status fake_notify_ready(void *self, const char *order_id, const char *customer_id,
                                     core_err *err)
{
    return notify("notify_ready", self, order_id, customer_id, err);
}

static core_status fake_confirm(void *self, const char *payment_id, core_err *err)
{
    check_self(self, "confirm");
    note("confirm(%s)", payment_id);
    return core_err_set(err, CORE_ERR_INTERNAL, "the handlers have no reason to confirm payments");
}

static core_status fake_create_invoice(void *self, const char *order_id, const char *payment_id,
                                       double amount, char *invoice_id, core_err *err)
{
    check_self(self, "create_invoice");
    note("create_invoice(%s,%s,%.2f)", order_id, payment_id, amount);
    if (failing("create_invoice", err))
        return w.fail_status;
    core_strlcpy(invoice_id, "inv-1", ORDERING_ID_SIZE);
    return CORE_OK;
}

static core_status fake_find(void *self, const char *id, struct ordering_order *out, core_err *err)
{
    check_self(self, "find");
    note("find(%s)", id);
    if (failing("find", err))
        return w.fail_status;
    if (strcmp(id, w.stored.id) != 0)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "order %s not found", id);
    return ordering_order_copy(out, &w.stored, err);
}

static core_status fake_save(void *self, const struct ordering_order *order, core_err *err)
{
    check_self(self, "save");
    note("save(%s)", order->id);
    return core_err_set(err, CORE_ERR_INTERNAL, "the handlers have no reason to create orders");
}

static core_status fake_update(void *self, const struct ordering_order *order, core_err *err)
{
    check_self(self, "update");
    note("update(%s,invoice=%s)", order->id, order->invoice_id);
    if (failing("update", err))
        return w.fail_status;
    return ordering_order_copy(&w.stored, order, err);
}

/* ---- the module, as module.c wires it -------------------------------------------------------- */

static ddd_dispatcher *dispatcher;
static struct ordering_app app; /* only its repository is used (ordering_app_record_invoice) */
static struct ordering_notification_handlers notification_handlers;
static struct ordering_invoice_handlers invoice_handlers;

static const struct ordering_item items[] = {
    {"s-1", "p-1", "Waldorf Books", "EDA with Golang", 49.99, 2},
    {"s-2", "p-2", "Nic & Naks", "Wizard w/ crystal", 9.98, 3},
}; /* total 129.92 */

static void wire(void)
{
    memset(&app, 0, sizeof app);
    app.orders = (struct ordering_order_repo){&w, fake_find, fake_save, fake_update};
    app.publisher = ddd_dispatcher_publisher(dispatcher);
    notification_handlers.notifications = (struct ordering_notifications){
        &w, fake_notify_created, fake_notify_canceled, fake_notify_ready};
    invoice_handlers.payments = (struct ordering_payments){&w, fake_confirm, fake_create_invoice};
    invoice_handlers.app = &app;
}

static int setup(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    memset(&w, 0, sizeof w);
    live_before = core_alloc_live();
    ordering_order_init(&w.stored);
    core_err err = CORE_ERR_INIT;
    if (ordering_order_create(&w.stored, "o-1", "c-1", "pay-1", items, 2, &err) ||
        ordering_order_set_shopping_id(&w.stored, "list-1", &err) ||
        ddd_dispatcher_new(&dispatcher, &err))
        return -1;
    wire();
    if (ordering_register_notification_handlers(dispatcher, &notification_handlers, &err) ||
        ordering_register_invoice_handlers(dispatcher, &invoice_handlers, &err)) {
        print_error("error: registering the handlers failed: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    ddd_dispatcher_free(dispatcher);
    dispatcher = NULL;
    ordering_order_release(&w.stored);
    assert_int_equal(core_alloc_live(), live_before); /* leak check */
    return 0;
}

/* ---- publishing what an order recorded ------------------------------------------------------- */

enum change { CREATE, CANCEL, READY, COMPLETE };

/* Changes a copy of the stored order as the command would (storing its new status), takes the
 * one event it recorded and publishes it on d; returns what the dispatcher returned. */
static core_status publish_on(ddd_dispatcher *d, enum change change, core_err *err)
{
    struct ordering_order order = ORDERING_ORDER_INIT;
    struct ddd_event_list events = DDD_EVENT_LIST_INIT;
    assert_int_equal(ordering_order_copy(&order, &w.stored, NULL), CORE_OK);
    /* each change starts from the status it needs (only a ready order can be completed) */
    order.status = change == COMPLETE ? ORDERING_STATUS_READY : ORDERING_STATUS_PENDING;
    core_status st = change == CREATE   ? ordering_order_record_created(&order, NULL)
                     : change == CANCEL ? ordering_order_cancel(&order, NULL)
                     : change == READY  ? ordering_order_ready(&order, NULL)
                                        : ordering_order_complete(&order, "inv-0", NULL);
    assert_int_equal(st, CORE_OK);
    w.stored.status = order.status; /* the command updates the order, then publishes */
    assert_int_equal(ddd_aggregate_take_events(&order.agg, &events, NULL), CORE_OK);
    assert_int_equal(events.n, 1);
    ordering_order_release(&order);
    st = ddd_dispatcher_publish(d, events.items, events.n, err);
    ddd_event_list_release(&events);
    return st;
}

static core_status publish(enum change change, core_err *err)
{
    return publish_on(dispatcher, change, err);
}

/* Publishes one hand-made event: name, payload (taken), metadata aggregate-id (NULL: none). */
static core_status publish_made(ddd_dispatcher *d, const char *name, ProtobufCMessage *payload,
                                const char *aggregate_id, core_err *err)
{
    ddd_event *ev = NULL;
    assert_int_equal(ddd_event_new(&ev, name, &payload, NULL), CORE_OK);
    if (aggregate_id)
        assert_int_equal(ddd_event_set_metadata(ev, "aggregate-id", aggregate_id, NULL), CORE_OK);
    core_status st = ddd_dispatcher_publish(d, &ev, 1, err);
    ddd_event_free(ev);
    return st;
}

/* ---- checks ---------------------------------------------------------------------------------- */

#define expect_calls(want)                                                                         \
    do {                                                                                           \
        if (strcmp(w.log, (want)) != 0) {                                                          \
            print_error("error: the calls the handlers made: wanted \"%s\", got \"%s\"\n", (want), \
                        w.log);                                                                    \
            _fail(__FILE__, __LINE__);                                                             \
        }                                                                                          \
    } while (0)

static void check_outcome(core_status got, const core_err *err, core_status want,
                          const char *want_msg, const char *what, const char *file, int line)
{
    if (got == want && (want == CORE_OK || strcmp(err->msg, want_msg) == 0))
        return;
    if (want == CORE_OK)
        print_error("error: %s: wanted CORE_OK, got %s \"%s\"\n", what, core_status_name(got),
                    err->msg);
    else
        print_error("error: %s: wanted %s \"%s\", got %s \"%s\"\n", what, core_status_name(want),
                    want_msg, core_status_name(got), got ? err->msg : "");
    _fail(file, line);
}
#define expect_outcome(got, err, want, msg, what)                                                  \
    check_outcome((got), (err), (want), (msg), (what), __FILE__, __LINE__)

/* ---- 1. the subscriptions -------------------------------------------------------------------- */

static void each_event_has_its_handlers(void **state)
{
    (void)state;
    static const struct {
        const char *event;
        size_t handlers;
    } want[] = {
        {"ordering.OrderCreated", 1},  /* NotificationHandlers */
        {"ordering.OrderReadied", 2},  /* NotificationHandlers, InvoiceHandlers */
        {"ordering.OrderCanceled", 1}, /* NotificationHandlers */
        {"ordering.OrderCompleted", 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t got = ddd_dispatcher_count(dispatcher, want[i].event);
        if (got != want[i].handlers) {
            print_error("error: handlers subscribed to %s: wanted %zu, got %zu\n", want[i].event,
                        want[i].handlers, got);
            fail();
        }
    }
}

/* ---- 2. NotificationHandlers ----------------------------------------------------------------- */

/* The model handler of the starter: passes once the registration works. */
static void order_created_notifies_the_customer(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    expect_outcome(publish(CREATE, &err), &err, CORE_OK, NULL, "publishing OrderCreated");
    expect_calls("notify_created(o-1,c-1)");
}

static void order_canceled_notifies_the_customer(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    expect_outcome(publish(CANCEL, &err), &err, CORE_OK, NULL, "publishing OrderCanceled");
    expect_calls("notify_canceled(o-1,c-1)");
}

/* The order id is the event's metadata "aggregate-id", the customer comes from the payload. */
static void the_order_id_is_the_events_aggregate_id(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    Ordering__Domain__OrderCanceled *p = pb_new_of(ordering__domain__order_canceled);
    assert_non_null(p);
    assert_int_equal(pb_set_string(&p->customer_id, "c-9", NULL), CORE_OK);
    expect_outcome(publish_made(dispatcher, "ordering.OrderCanceled", &p->base, "o-9", &err), &err,
                   CORE_OK, NULL, "publishing an OrderCanceled of order o-9");
    expect_calls("notify_canceled(o-9,c-9)");
}

static void a_failing_notification_is_reported_with_the_handlers_name(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    fail_call("notify_canceled", CORE_ERR_NOT_FOUND, "customer c-1 not found");
    expect_outcome(publish(CANCEL, &err), &err, CORE_ERR_NOT_FOUND,
                   "ordering.NotificationHandlers on ordering.OrderCanceled: customer c-1 not "
                   "found",
                   "publishing OrderCanceled while notifications fails");
    expect_calls("notify_canceled(o-1,c-1)");
}

/* ---- 3. OrderReadied: both handler groups ---------------------------------------------------- */

static void order_readied_notifies_then_invoices_and_stores_the_invoice_id(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    expect_outcome(publish(READY, &err), &err, CORE_OK, NULL, "publishing OrderReadied");
    expect_calls("notify_ready(o-1,c-1) create_invoice(o-1,pay-1,129.92) find(o-1) "
                 "update(o-1,invoice=inv-1)");
    if (strcmp(w.stored.invoice_id, "inv-1") != 0) {
        print_error("error: the stored order's invoice id: wanted \"inv-1\", got \"%s\"\n",
                    w.stored.invoice_id);
        fail();
    }
}

/* The notification runs first; when it fails, the delivery stops: no invoice is made. */
static void a_failing_ready_notification_stops_the_delivery(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    fail_call("notify_ready", CORE_ERR_UNAVAILABLE, "notifications is down");
    expect_outcome(publish(READY, &err), &err, CORE_ERR_UNAVAILABLE,
                   "ordering.NotificationHandlers on ordering.OrderReadied: notifications is down",
                   "publishing OrderReadied while notifications fails");
    expect_calls("notify_ready(o-1,c-1)");
}

/* Chapter 03's section 2.5 with events: payments refuses an invoice over 99999.9999. */
static void a_refused_invoice_is_reported_and_no_invoice_id_is_stored(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    fail_call("create_invoice", CORE_ERR_INVALID, "the invoice amount is too large");
    expect_outcome(publish(READY, &err), &err, CORE_ERR_INVALID,
                   "ordering.InvoiceHandlers on ordering.OrderReadied: the invoice amount is too "
                   "large",
                   "publishing OrderReadied while payments refuses the invoice");
    expect_calls("notify_ready(o-1,c-1) create_invoice(o-1,pay-1,129.92)");
    assert_string_equal(w.stored.invoice_id, "");
}

static void a_failing_repository_is_reported(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    fail_call("update", CORE_ERR_IO, "the database is gone");
    expect_outcome(publish(READY, &err), &err, CORE_ERR_IO,
                   "ordering.InvoiceHandlers on ordering.OrderReadied: the database is gone",
                   "publishing OrderReadied while the repository fails");
    expect_calls("notify_ready(o-1,c-1) create_invoice(o-1,pay-1,129.92) find(o-1) "
                 "update(o-1,invoice=inv-1)");
}

static void order_completed_calls_nobody(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    expect_outcome(publish(COMPLETE, &err), &err, CORE_OK, NULL, "publishing OrderCompleted");
    expect_calls("");
}

/* ---- 4. events a handler cannot use ---------------------------------------------------------- */

/* An event without an "aggregate-id", or with a payload of another type, is a programming error
 * (CORE_ERR_INTERNAL, and not the starter's TODO) and calls nobody. The InvoiceHandlers are checked
 * on a dispatcher of their own, so the NotificationHandlers (which run first) cannot hide them. */
static void malformed_events_are_refused_and_call_nobody(void **state)
{
    (void)state;
    ddd_dispatcher *invoices_only = NULL;
    assert_int_equal(ddd_dispatcher_new(&invoices_only, NULL), CORE_OK);
    assert_int_equal(ordering_register_invoice_handlers(invoices_only, &invoice_handlers, NULL),
                     CORE_OK);
    static const struct {
        const char *event;
        const ProtobufCMessageDescriptor *right;
        bool invoices_only;
    } cases[] = {
        {"ordering.OrderCanceled", &ordering__domain__order_canceled__descriptor, false},
        {"ordering.OrderReadied", &ordering__domain__order_readied__descriptor, false},
        {"ordering.OrderReadied", &ordering__domain__order_readied__descriptor, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ddd_dispatcher *d = cases[i].invoices_only ? invoices_only : dispatcher;
        char what[160];
        for (int kind = 0; kind < 2; kind++) {
            core_err err = CORE_ERR_INIT;
            /* kind 0: right payload, no aggregate-id; kind 1: aggregate-id, wrong payload */
            ProtobufCMessage *payload =
                pb_new(kind == 0 ? cases[i].right : &ordering__domain__order_completed__descriptor);
            assert_non_null(payload);
            core_status st =
                publish_made(d, cases[i].event, payload, kind == 0 ? NULL : "o-1", &err);
            snprintf(what, sizeof what, "%s%s with %s", cases[i].event,
                     cases[i].invoices_only ? " (InvoiceHandlers alone)" : "",
                     kind == 0 ? "no aggregate-id" : "an OrderCompleted payload");
            if (st != CORE_ERR_INTERNAL || strstr(err.msg, "TODO(")) {
                print_error("error: %s: wanted CORE_ERR_INTERNAL, got %s \"%s\"\n", what,
                            core_status_name(st), st ? err.msg : "");
                ddd_dispatcher_free(invoices_only);
                fail();
            }
        }
    }
    ddd_dispatcher_free(invoices_only);
    expect_calls("");
}

/* ---- 5. registering when memory runs out ----------------------------------------------------- */

static void registration_reports_out_of_memory(void **state)
{
    (void)state;
    for (int which = 0; which < 2; which++) {
        int failures = 0;
        for (long n = 0; n < 50; n++) {
            ddd_dispatcher *d = NULL;
            core_err err = CORE_ERR_INIT;
            long live = core_alloc_live();
            assert_int_equal(ddd_dispatcher_new(&d, NULL), CORE_OK);
            core_alloc_fail_after(n);
            core_status st =
                which == 0
                    ? ordering_register_notification_handlers(d, &notification_handlers, &err)
                    : ordering_register_invoice_handlers(d, &invoice_handlers, &err);
            core_alloc_fail_after(-1);
            size_t subscribed = ddd_dispatcher_count(d, "ordering.OrderReadied");
            ddd_dispatcher_free(d);
            assert_int_equal(core_alloc_live(), live);
            if (st == CORE_OK) {
                if (subscribed != 1) {
                    print_error("error: %s: OrderReadied handlers after success: wanted 1, got "
                                "%zu\n",
                                which == 0 ? "NotificationHandlers" : "InvoiceHandlers",
                                subscribed);
                    fail();
                }
                break;
            }
            if (st != CORE_ERR_NOMEM) {
                print_error("error: registering with allocation %ld failing: wanted "
                            "CORE_ERR_NOMEM, got %s \"%s\"\n",
                            n, core_status_name(st), err.msg);
                fail();
            }
            failures++;
        }
        if (failures == 0) {
            print_error("error: the %s registration never allocated: does it subscribe?\n",
                        which == 0 ? "NotificationHandlers" : "InvoiceHandlers");
            fail();
        }
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(each_event_has_its_handlers),
        T(order_created_notifies_the_customer),
        T(order_canceled_notifies_the_customer),
        T(the_order_id_is_the_events_aggregate_id),
        T(a_failing_notification_is_reported_with_the_handlers_name),
        T(order_readied_notifies_then_invoices_and_stores_the_invoice_id),
        T(a_failing_ready_notification_stops_the_delivery),
        T(a_refused_invoice_is_reported_and_no_invoice_id_is_stored),
        T(a_failing_repository_is_reported),
        T(order_completed_calls_nobody),
        T(malformed_events_are_refused_and_call_nobody),
        T(registration_reports_out_of_memory),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
