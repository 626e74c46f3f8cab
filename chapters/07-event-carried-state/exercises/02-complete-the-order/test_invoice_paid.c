/* test_invoice_paid.c -- exercise 07.2: complete the order from an integration event
 * (ordering/handlers.c: on_invoice_paid, reached through ordering_on_payment_event).
 *
 * The tests are the exercise's to-do list, in the order the README suggests: the first delivery
 * of paymentsapi.InvoicePaid completes the order (and ordering announces it); a redelivery, or a
 * second announcement of the same payment, changes nothing and is acknowledged; an order that
 * ordering does not know is NAKed, redelivered and ends as a dead letter; a completion that the
 * order's rules refuse is returned as an error, never acknowledged silently.
 *
 * The orders live in the in-memory event store behind a real es_repo, so the real application
 * and domain code runs; the stream is the in-memory broker of am.h: nothing is delivered until a
 * test calls am_mem_broker_run() (everything due) or am_mem_broker_step() (one delivery), and a
 * test can lose an acknowledgement (am_mem_broker_fail) and let the ack wait run out
 * (am_mem_broker_expire). No servers. Every test also checks that it leaked nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "am.h"
#include "ddd.h"
#include "es.h"
#include "log.h"
#include "monolith/messages.h"
#include "ordering/events.h"
#include "ordering/handlers.h"
#include "ordering_fakes.h"
#include "payments/events.h"
#include "pb.h"
#include "stream_recorder.h"

static struct ordering_fakes fk;
static struct ordering_app app;
static es_registry *reg; /* the order's domain events */
static es_store *store;
static es_repo *repo;
static ddd_dispatcher *dispatcher;
static es_registry *messages; /* the integration messages */
static am_mem_broker *broker;
static am_stream *stream;
static struct stream_recorder rec; /* what ordering announced on its channel */
static long live_before;

static const struct ordering_item items[] = {
    {"store-1", "product-1", "Waldorf Books", "EDA with Golang", 49.99, 2},
};

static int setup(void **state)
{
    (void)state;
    memset(&fk, 0, sizeof fk);
    memset(&rec, 0, sizeof rec);
    live_before = core_alloc_live();
    ordering_fake_app(&app, &fk);
    assert_int_equal(ddd_dispatcher_new(&dispatcher, NULL), CORE_OK);
    assert_int_equal(es_registry_new(&reg, NULL), CORE_OK);
    assert_int_equal(ordering_register_types(reg, NULL), CORE_OK);
    assert_int_equal(es_mem_store_new(&store, reg, NULL), CORE_OK);
    struct ddd_publisher publisher = ddd_dispatcher_publisher(dispatcher);
    assert_int_equal(es_repo_new(&repo, &ordering_order_type, store, &publisher, 0, NULL), CORE_OK);
    app.orders = repo;
    assert_int_equal(es_registry_new(&messages, NULL), CORE_OK);
    assert_int_equal(monolith_register_messages(messages, NULL), CORE_OK);
    assert_int_equal(am_mem_broker_new(&broker, NULL), CORE_OK);
    assert_int_equal(am_mem_stream_new(&stream, broker, "mallbots", NULL), CORE_OK);
    assert_int_equal(ordering_register_integration_handlers(dispatcher, stream, NULL), CORE_OK);
    stream_recorder_subscribe(&rec, stream, ORDERING_ORDER_CHANNEL, "test-orders", messages);
    assert_int_equal(ordering_subscribe_payment_handlers(stream, messages, &app, NULL), CORE_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stream_recorder_release(&rec);
    am_stream_free(stream);
    am_mem_broker_free(broker);
    es_registry_free(messages);
    es_repo_free(repo);
    es_store_free(store);
    es_registry_free(reg);
    ddd_dispatcher_free(dispatcher);
    app.orders = NULL;
    if (core_alloc_live() != live_before) {
        print_error("error: %ld allocation(s) not freed\n", core_alloc_live() - live_before);
        return -1;
    }
    return 0;
}

/* ---- helpers -------------------------------------------------------------------------------- */

/* A new order id (status pending; version 1). */
static void create_order(const char *id)
{
    char out[ORDERING_ID_SIZE];
    core_err err = CORE_ERR_INIT;
    if (ordering_app_create_order(&app, id, "customer-1", "payment-1", items, 1, out, &err))
        fail_msg("creating %s: %s", id, err.msg);
}

/* A new order id, ready for pickup (version 2), with invoice_id recorded (version 3) unless NULL.
 */
static void create_ready_order(const char *id, const char *invoice_id)
{
    core_err err = CORE_ERR_INIT;
    create_order(id);
    if (ordering_app_ready_order(&app, id, &err))
        fail_msg("readying %s: %s", id, err.msg);
    if (invoice_id && ordering_app_record_invoice(&app, id, invoice_id, &err))
        fail_msg("recording invoice %s of %s: %s", invoice_id, id, err.msg);
}

static const char *status_text(enum ordering_status s)
{
    switch (s) {
    case ORDERING_STATUS_PENDING:
        return "pending";
    case ORDERING_STATUS_IN_PROGRESS:
        return "in-progress";
    case ORDERING_STATUS_READY:
        return "ready";
    case ORDERING_STATUS_COMPLETED:
        return "completed";
    case ORDERING_STATUS_CANCELLED:
        return "cancelled";
    default:
        return "unknown";
    }
}

/* Order id as stored now: its status, invoice id and version (the number of its events). */
static void assert_order(const char *id, enum ordering_status status, const char *invoice_id,
                         uint64_t version)
{
    struct ordering_order o = ORDERING_ORDER_INIT;
    core_err err = CORE_ERR_INIT;
    if (ordering_app_get_order(&app, id, &o, &err)) {
        ordering_order_release(&o);
        fail_msg("reading %s: %s", id, err.msg);
    }
    enum ordering_status got = o.status;
    uint64_t got_version = es_aggregate_version(&o.agg);
    char got_invoice[ORDERING_ID_SIZE];
    core_strlcpy(got_invoice, o.invoice_id, sizeof got_invoice);
    ordering_order_release(&o);
    if (got != status)
        fail_msg("order %s: wanted status %s, got %s", id, status_text(status), status_text(got));
    if (strcmp(got_invoice, invoice_id) != 0)
        fail_msg("order %s: wanted invoice \"%s\", got \"%s\"", id, invoice_id, got_invoice);
    if (got_version != version)
        fail_msg("order %s: wanted %llu events, got %llu (a second OrderCompleted?)", id,
                 (unsigned long long)version, (unsigned long long)got_version);
}

/* An InvoicePaid event {id: invoice_id, order_id} with message id msg_id (caller frees). */
static ddd_event *invoice_paid(const char *msg_id, const char *invoice_id, const char *order_id)
{
    Paymentsapi__InvoicePaid *m = pb_new_of(paymentsapi__invoice_paid);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->id, invoice_id, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->order_id, order_id, NULL), CORE_OK);
    ProtobufCMessage *payload = &m->base;
    ddd_event *ev = NULL;
    assert_int_equal(ddd_event_new(&ev, PAYMENTSAPI_INVOICE_PAID, &payload, NULL), CORE_OK);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    assert_int_equal(ddd_event_restore(ev, msg_id, now, NULL), CORE_OK);
    return ev;
}

/* Publishes InvoicePaid on the payments' channel, as payments does. */
static void publish_invoice_paid(const char *msg_id, const char *invoice_id, const char *order_id)
{
    ddd_event *ev = invoice_paid(msg_id, invoice_id, order_id);
    assert_int_equal(am_event_publish(stream, PAYMENTS_INVOICE_CHANNEL, ev, NULL), CORE_OK);
    ddd_event_free(ev);
}

/* Calls the handler directly, as delivery number `delivered` of message msg_id. */
static core_status handle(const char *msg_id, const char *invoice_id, const char *order_id,
                          uint64_t delivered, core_err *err)
{
    struct am_delivery d = {PAYMENTS_INVOICE_CHANNEL,
                            ORDERING_PAYMENTS_GROUP,
                            msg_id,
                            PAYMENTSAPI_INVOICE_PAID,
                            delivered,
                            1,
                            5};
    ddd_event *ev = invoice_paid(msg_id, invoice_id, order_id);
    core_status st = ordering_on_payment_event(&app, &d, ev, err);
    ddd_event_free(ev);
    return st;
}

/* The number of messages named name that ordering announced. */
static int announced(const char *name)
{
    int n = 0;
    for (size_t i = 0; i < rec.n; i++)
        n += strcmp(rec.names[i], name) == 0;
    return n;
}

/* The dead letters of the group ordering-payments: their number, and the last one's reason. */
struct dead {
    int n;
    char reason[512];
};

static core_status collect_dead(void *ud, const struct am_stored_msg *m, core_err *err)
{
    (void)err;
    struct dead *dl = ud;
    const char *reason = am_stored_header(m, AM_DEAD_HDR_REASON);
    dl->n++;
    core_strlcpy(dl->reason, reason ? reason : "", sizeof dl->reason);
    return CORE_OK;
}

static struct dead dead_letters(void)
{
    struct dead dl = {0, ""};
    assert_int_equal(am_stream_read(stream, "mallbots.dead." ORDERING_PAYMENTS_GROUP, 0,
                                    collect_dead, &dl, NULL),
                     CORE_OK);
    return dl;
}

#define assert_contains(text, part)                                                                \
    do {                                                                                           \
        if (!strstr((text), (part)))                                                               \
            fail_msg("wanted \"%s\" in \"%s\"", (part), (text));                                   \
    } while (0)

/* ---- 1. the first delivery completes the order ---------------------------------------------- */

static void invoice_paid_completes_the_order(void **state)
{
    (void)state;
    create_ready_order("order-1", "invoice-1");
    publish_invoice_paid("m-1", "invoice-1", "order-1");
    am_mem_broker_run(broker, NULL);
    assert_order("order-1", ORDERING_STATUS_COMPLETED, "invoice-1", 4); /* + OrderCompleted */
    if (announced(ORDERSAPI_ORDER_COMPLETED) != 1)
        fail_msg("wanted 1 ordersapi.OrderCompleted on the stream, got %d",
                 announced(ORDERSAPI_ORDER_COMPLETED));
    Ordersapi__OrderCompleted *m = (Ordersapi__OrderCompleted *)stream_recorder_payload(
        &rec, rec.n - 1, &ordersapi__order_completed__descriptor);
    assert_string_equal(m->id, "order-1");
    assert_string_equal(m->invoice_id, "invoice-1");
    pb_free(&m->base);
    assert_int_equal(dead_letters().n, 0);
}

/* The payment can overtake the invoice's announcement (two messages on one channel, but the
 * InvoiceCreated failed once and waits for its retry): the order takes the invoice from it. */
static void invoice_paid_before_invoice_created_completes_the_order(void **state)
{
    (void)state;
    create_ready_order("order-1", NULL);
    publish_invoice_paid("m-1", "invoice-1", "order-1");
    am_mem_broker_run(broker, NULL);
    assert_order("order-1", ORDERING_STATUS_COMPLETED, "invoice-1", 3);
    assert_int_equal(dead_letters().n, 0);
}

/* ---- 2. a redelivery is acknowledged and changes nothing ------------------------------------ */

static void a_lost_acknowledgement_brings_it_again_and_nothing_changes(void **state)
{
    (void)state;
    create_ready_order("order-1", "invoice-1");
    am_mem_broker_run(broker, NULL); /* the order's own announcements, read by the recorder */
    publish_invoice_paid("m-1", "invoice-1", "order-1");
    am_mem_broker_fail(broker, AM_MEM_FAIL_ACK, 1); /* the work is done, the ack is lost */
    assert_true(am_mem_broker_step(broker));        /* the InvoicePaid, to ordering */
    am_mem_broker_run(broker, NULL);                /* the OrderCompleted, to the recorder */
    assert_order("order-1", ORDERING_STATUS_COMPLETED, "invoice-1", 4);

    am_mem_broker_expire(broker); /* the ack wait runs out: the server delivers it again */
    if (!am_mem_broker_step(broker))
        fail_msg("the message was not delivered again");
    am_mem_broker_run(broker, NULL);
    assert_order("order-1", ORDERING_STATUS_COMPLETED, "invoice-1", 4);
    assert_int_equal(announced(ORDERSAPI_ORDER_COMPLETED), 1);
    struct dead dl = dead_letters();
    if (dl.n != 0)
        fail_msg("the redelivery was refused and ended dead: %s", dl.reason);

    /* acknowledged this time: nothing comes again */
    am_mem_broker_expire(broker);
    if (am_mem_broker_step(broker))
        fail_msg("the redelivery was not acknowledged: the message came a third time");
}

static void the_same_payment_announced_twice_completes_once(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    create_ready_order("order-1", "invoice-1");
    publish_invoice_paid("m-1", "invoice-1", "order-1");
    publish_invoice_paid("m-2", "invoice-1", "order-1"); /* another message id, same payment */
    am_mem_broker_run(broker, NULL);
    assert_order("order-1", ORDERING_STATUS_COMPLETED, "invoice-1", 4);
    assert_int_equal(announced(ORDERSAPI_ORDER_COMPLETED), 1);
    assert_int_equal(dead_letters().n, 0);

    /* the handler itself, on a third and a fourth delivery */
    for (uint64_t delivered = 3; delivered <= 4; delivered++)
        if (handle("m-2", "invoice-1", "order-1", delivered, &err) != CORE_OK)
            fail_msg("delivery %llu of a handled payment: %s", (unsigned long long)delivered,
                     err.msg);
    assert_order("order-1", ORDERING_STATUS_COMPLETED, "invoice-1", 4);
}

/* ---- 3. an unknown order is NAKed, redelivered, and ends dead ------------------------------- */

static void an_unknown_order_is_retried_then_dead(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(handle("m-1", "invoice-9", "order-9", 1, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "paymentsapi.InvoicePaid of invoice invoice-9 for order order-9: "
                                 "order order-9 not found");

    publish_invoice_paid("m-1", "invoice-9", "order-9");
    int deliveries = 0;
    while (deliveries < 20 && am_mem_broker_step(broker))
        deliveries++;
    if (deliveries != 5)
        fail_msg("wanted 5 deliveries (max_deliver) before the message is dead, got %d",
                 deliveries);
    if (am_mem_broker_last_nak_delay(broker) <= 0)
        fail_msg("the failures were not NAKed with a delay");
    struct dead dl = dead_letters();
    assert_int_equal(dl.n, 1);
    assert_contains(dl.reason, "delivery 5 of 5");
    assert_contains(dl.reason, "order order-9 not found");
    assert_int_equal(announced(ORDERSAPI_ORDER_COMPLETED), 0);
}

/* ---- 4. what the order's rules refuse is an error, not a success ---------------------------- */

static void a_refused_completion_is_not_swallowed(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    create_order("order-1"); /* pending: not ready, it cannot be completed */
    assert_int_equal(handle("m-1", "invoice-1", "order-1", 1, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "paymentsapi.InvoicePaid of invoice invoice-1 for order order-1: "
                                 "the order cannot be completed");
    assert_order("order-1", ORDERING_STATUS_PENDING, "", 1);

    /* ready, but its invoice is another one */
    core_err_clear(&err);
    create_ready_order("order-2", "invoice-2");
    assert_int_equal(handle("m-2", "invoice-3", "order-2", 1, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "paymentsapi.InvoicePaid of invoice invoice-3 for order order-2: "
                                 "the invoice is not the order's invoice");
    assert_order("order-2", ORDERING_STATUS_READY, "invoice-2", 3);

    /* completed, with another invoice: not "done already" */
    core_err_clear(&err);
    create_ready_order("order-3", "invoice-4");
    assert_int_equal(handle("m-3", "invoice-4", "order-3", 1, &err), CORE_OK);
    assert_int_equal(handle("m-4", "invoice-5", "order-3", 1, &err), CORE_ERR_INVALID);
    assert_contains(err.msg, "paymentsapi.InvoicePaid of invoice invoice-5 for order order-3: ");
    assert_order("order-3", ORDERING_STATUS_COMPLETED, "invoice-4", 4);

    /* on the stream: NAKed until dead, never acknowledged as if handled */
    publish_invoice_paid("m-5", "invoice-1", "order-1");
    am_mem_broker_run(broker, NULL);
    struct dead dl = dead_letters();
    assert_int_equal(dl.n, 1);
    assert_contains(dl.reason, "the order cannot be completed");
    assert_order("order-1", ORDERING_STATUS_PENDING, "", 1);
}

int main(void)
{
    log_init(LOG_LEVEL_ERROR);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(invoice_paid_completes_the_order),
        T(invoice_paid_before_invoice_created_completes_the_order),
        T(a_lost_acknowledgement_brings_it_again_and_nothing_changes),
        T(the_same_payment_announced_twice_completes_once),
        T(an_unknown_order_is_retried_then_dead),
        T(a_refused_completion_is_not_swallowed),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
