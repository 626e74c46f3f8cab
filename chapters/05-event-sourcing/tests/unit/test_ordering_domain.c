/* test_ordering_domain.c -- unit tests of ordering/domain.h: creating an order (each rule and
 * its text, amounts included), cancel/ready/record-invoice/complete and every status each
 * refuses, ids, items, total, statuses, allocation
 * failures, the domain events each change raises (names, payloads, metadata), and (chapter 05)
 * event sourcing: the events carry their version, applying an order's events to an empty order
 * rebuilds it, bad events and snapshots are refused, and a snapshot round trip (to_snapshot,
 * from_snapshot) keeps the state. Every test checks that it leaked nothing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ordering/domain.h"
#include "ordering/domain_events.pb-c.h"
#include "ordering/snapshots.pb-c.h"
#include "pb.h"

static long live_before;

static int setup(void **state)
{
    (void)state;
    live_before = core_alloc_live();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    assert_int_equal(core_alloc_live(), live_before);
    return 0;
}

static const struct ordering_item two_items[] = {
    {"store-1", "product-1", "Waldorf Books", "EDA with Golang", 49.99, 2},
    {"store-2", "product-2", "Nic & Naks", "Wizard w/ crystal", 9.98, 3},
};

/* A pending order "order-1" with two_items and shopping list "shopping-1". */
static void make_order(struct ordering_order *o)
{
    core_err err = CORE_ERR_INIT;
    ordering_order_init(o);
    assert_int_equal(ordering_order_create(o, "order-1", "customer-1", "payment-1", "shopping-1",
                                           two_items, 2, &err),
                     CORE_OK);
}

static char *long_id(char *buf, size_t size)
{
    memset(buf, 'z', size - 1);
    buf[size - 1] = '\0';
    return buf;
}

/* ---- the rules ------------------------------------------------------------------------------ */

static void create_makes_a_pending_order_with_copies(void **state)
{
    (void)state;
    struct ordering_order o = ORDERING_ORDER_INIT;
    char store_name[] = "Waldorf Books";
    struct ordering_item item = {"store-1", "product-1", store_name, "EDA with Golang", 49.99, 2};
    core_err err = CORE_ERR_INIT;

    assert_int_equal(ordering_order_create(&o, "order-1", "customer-1", "payment-1", "shopping-1",
                                           &item, 1, &err),
                     CORE_OK);
    store_name[0] = 'X'; /* the order holds its own copy */
    assert_string_equal(o.id, "order-1");
    assert_string_equal(o.agg.base.id, "order-1");
    assert_string_equal(o.customer_id, "customer-1");
    assert_string_equal(o.payment_id, "payment-1");
    assert_string_equal(o.shopping_id, "shopping-1");
    assert_string_equal(o.invoice_id, "");
    assert_int_equal(o.status, ORDERING_STATUS_PENDING);
    assert_int_equal(o.nitems, 1);
    assert_string_equal(o.items[0].store_id, "store-1");
    assert_string_equal(o.items[0].product_id, "product-1");
    assert_string_equal(o.items[0].store_name, "Waldorf Books");
    assert_string_equal(o.items[0].product_name, "EDA with Golang");
    assert_true(o.items[0].price == 49.99);
    assert_int_equal(o.items[0].quantity, 2);
    assert_int_equal(err.status, CORE_OK); /* err untouched on success */
    assert_int_equal(o.agg.base.events.n, 1);
    ordering_order_release(&o);
    assert_null(o.items);
    assert_int_equal(o.nitems, 0);
    assert_int_equal(o.agg.base.events.n, 0);
    ordering_order_release(&o); /* twice is harmless */
}

static void create_takes_null_item_strings_as_empty(void **state)
{
    (void)state;
    struct ordering_order o = ORDERING_ORDER_INIT;
    struct ordering_item item = {NULL, "p", NULL, NULL, 1.0, 1};
    assert_int_equal(ordering_order_create(&o, "o", "c", "p", NULL, &item, 1, NULL), CORE_OK);
    assert_string_equal(o.items[0].store_id, "");
    assert_string_equal(o.items[0].store_name, "");
    assert_string_equal(o.items[0].product_name, "");
    assert_string_equal(o.shopping_id, "");
    ordering_order_release(&o);
}

/* Both ordering_order_check_new and ordering_order_create refuse with text; nothing created. */
static void assert_create_fails(const char *id, const char *customer_id, const char *payment_id,
                                const struct ordering_item *items, size_t n, const char *text)
{
    struct ordering_order o = ORDERING_ORDER_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(ordering_order_check_new(id, customer_id, payment_id, items, n, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, text);
    core_err_clear(&err);
    assert_int_equal(
        ordering_order_create(&o, id, customer_id, payment_id, "shopping-1", items, n, &err),
        CORE_ERR_INVALID);
    assert_int_equal(err.status, CORE_ERR_INVALID);
    assert_string_equal(err.msg, text);
    assert_null(o.items); /* nothing created, nothing raised */
    assert_int_equal(o.status, ORDERING_STATUS_UNKNOWN);
    assert_int_equal(o.agg.base.events.n, 0);
    assert_string_equal(o.id, "");
    assert_string_equal(o.agg.base.id, "");
}

static void create_rules_and_texts(void **state)
{
    (void)state;
    char too_long[ORDERING_ID_MAX + 2];
    long_id(too_long, sizeof too_long);

    assert_create_fails("o", "c", "p", NULL, 0, "the order has no items");
    assert_create_fails("o", "c", "p", two_items, 0, "the order has no items");
    assert_create_fails("o", "", "p", two_items, 2, "the customer id cannot be blank");
    assert_create_fails("o", NULL, "p", two_items, 2, "the customer id cannot be blank");
    assert_create_fails("o", "  ", "p", two_items, 2, "the customer id cannot be blank");
    assert_create_fails("o", "c", "", two_items, 2, "the payment id cannot be blank");
    assert_create_fails("o", "c", NULL, two_items, 2, "the payment id cannot be blank");
    assert_create_fails("", "c", "p", two_items, 2, "the order id cannot be blank");
    /* the book's order of checks: items first, then customer, then payment */
    assert_create_fails("o", "", "", NULL, 0, "the order has no items");
    assert_create_fails("o", "", "", two_items, 1, "the customer id cannot be blank");
    /* ids longer than ORDERING_ID_MAX */
    assert_create_fails(too_long, "c", "p", two_items, 2, "the order id is too long");
    assert_create_fails("o", too_long, "p", two_items, 2, "the customer id is too long");
    assert_create_fails("o", "c", too_long, two_items, 2, "the payment id is too long");
    struct ordering_order o = ORDERING_ORDER_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(ordering_order_create(&o, "o", "c", "p", too_long, two_items, 2, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping id is too long");
    assert_int_equal(o.agg.base.events.n, 0);
    /* exactly ORDERING_ID_MAX is fine */
    too_long[ORDERING_ID_MAX] = '\0';
    assert_int_equal(ordering_order_check_new(too_long, too_long, too_long, two_items, 2, NULL),
                     CORE_OK);
    assert_int_equal(
        ordering_order_create(&o, too_long, too_long, too_long, too_long, two_items, 2, NULL),
        CORE_OK);
    assert_string_equal(o.id, too_long);
    ordering_order_release(&o);
}

/* An order is created once (the book's "the order cannot be recreated"). */
static void create_twice_is_refused(void **state)
{
    (void)state;
    struct ordering_order o;
    core_err err = CORE_ERR_INIT;
    make_order(&o);
    assert_int_equal(ordering_order_create(&o, "order-2", "c2", "p2", "s2", two_items + 1, 1, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the order cannot be recreated");
    assert_string_equal(o.id, "order-1");
    assert_string_equal(o.agg.base.id, "order-1");
    assert_int_equal(o.nitems, 2);
    assert_int_equal(o.agg.base.events.n, 1);
    ordering_order_release(&o);
}

static void cancel_only_a_pending_order(void **state)
{
    (void)state;
    struct ordering_order o;
    core_err err = CORE_ERR_INIT;
    make_order(&o);
    assert_int_equal(ordering_order_cancel(&o, &err), CORE_OK);
    assert_int_equal(o.status, ORDERING_STATUS_CANCELLED);

    const enum ordering_status others[] = {ORDERING_STATUS_CANCELLED, ORDERING_STATUS_IN_PROGRESS,
                                           ORDERING_STATUS_READY, ORDERING_STATUS_COMPLETED,
                                           ORDERING_STATUS_UNKNOWN};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        core_err_clear(&err);
        o.status = others[i];
        assert_int_equal(ordering_order_cancel(&o, &err), CORE_ERR_INVALID);
        assert_string_equal(err.msg, "the order cannot be cancelled");
        assert_int_equal(o.status, others[i]);
    }
    assert_int_equal(o.agg.base.events.n, 2); /* created, canceled */
    ordering_order_release(&o);
}

static void ready_invoice_and_complete(void **state)
{
    (void)state;
    struct ordering_order o;
    core_err err = CORE_ERR_INIT;
    make_order(&o);
    assert_int_equal(ordering_order_ready(&o, &err), CORE_OK);
    assert_int_equal(o.status, ORDERING_STATUS_READY);
    assert_int_equal(ordering_order_record_invoice(&o, "invoice-1", &err), CORE_OK);
    assert_string_equal(o.invoice_id, "invoice-1");
    assert_int_equal(o.status, ORDERING_STATUS_READY);

    /* the same invoice again is accepted */
    assert_int_equal(ordering_order_record_invoice(&o, "invoice-1", &err), CORE_OK);

    /* a blank invoice id keeps the stored one; the order's own id is accepted too */
    assert_int_equal(ordering_order_complete(&o, "", &err), CORE_OK);
    assert_int_equal(o.status, ORDERING_STATUS_COMPLETED);
    assert_string_equal(o.invoice_id, "invoice-1");
    ordering_order_release(&o);
    make_order(&o);
    assert_int_equal(ordering_order_ready(&o, &err), CORE_OK);
    assert_int_equal(ordering_order_record_invoice(&o, "invoice-1", &err), CORE_OK);
    assert_int_equal(ordering_order_complete(&o, "invoice-1", &err), CORE_OK);
    assert_int_equal(o.status, ORDERING_STATUS_COMPLETED);
    ordering_order_release(&o);
    /* a ready order whose invoice id was not recorded takes the one it is completed with */
    make_order(&o);
    assert_int_equal(ordering_order_ready(&o, &err), CORE_OK);
    assert_int_equal(ordering_order_complete(&o, "invoice-2", &err), CORE_OK);
    assert_string_equal(o.invoice_id, "invoice-2");
    assert_int_equal(o.status, ORDERING_STATUS_COMPLETED);
    ordering_order_release(&o);
}

/* Each refused change leaves the order's status as it was and raises nothing. */
static void expect_refused(struct ordering_order *o, core_status st, core_err *err,
                           enum ordering_status status, size_t events, const char *text)
{
    assert_int_equal(st, CORE_ERR_INVALID);
    assert_int_equal(err->status, CORE_ERR_INVALID);
    assert_string_equal(err->msg, text);
    assert_int_equal(o->status, status);
    assert_int_equal(o->agg.base.events.n, events);
    core_err_clear(err);
}

/* An order at each stage, made by the rules: pending, ready, ready with its invoice,
 * completed, cancelled. */
enum stage { PENDING, READY, INVOICED, COMPLETED, CANCELLED, NSTAGES };

static void make_order_at(struct ordering_order *o, enum stage stage)
{
    core_err err = CORE_ERR_INIT;
    make_order(o);
    if (stage == CANCELLED)
        assert_int_equal(ordering_order_cancel(o, &err), CORE_OK);
    if (stage >= READY && stage <= COMPLETED)
        assert_int_equal(ordering_order_ready(o, &err), CORE_OK);
    if (stage >= INVOICED && stage <= COMPLETED)
        assert_int_equal(ordering_order_record_invoice(o, "invoice-1", &err), CORE_OK);
    if (stage == COMPLETED)
        assert_int_equal(ordering_order_complete(o, "", &err), CORE_OK);
}

static void ready_only_a_pending_order(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    for (enum stage stage = READY; stage < NSTAGES; stage++) {
        struct ordering_order o;
        make_order_at(&o, stage);
        /* the second case: a completed order readied again (a second invoice) */
        expect_refused(&o, ordering_order_ready(&o, &err), &err, o.status, o.agg.base.events.n,
                       "the order cannot be readied");
        ordering_order_release(&o);
    }
}

static void complete_only_a_ready_order_with_its_invoice(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct ordering_order o;
    /* the first case: a pending order completed with a made-up invoice */
    make_order(&o);
    expect_refused(&o, ordering_order_complete(&o, "fake-invoice", &err), &err,
                   ORDERING_STATUS_PENDING, 1, "the order cannot be completed");
    assert_string_equal(o.invoice_id, "");
    ordering_order_release(&o);
    const enum stage others[] = {COMPLETED, CANCELLED};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        make_order_at(&o, others[i]);
        expect_refused(&o, ordering_order_complete(&o, "invoice-1", &err), &err, o.status,
                       o.agg.base.events.n, "the order cannot be completed");
        ordering_order_release(&o);
    }
    /* ready, but no invoice anywhere */
    make_order_at(&o, READY);
    expect_refused(&o, ordering_order_complete(&o, "", &err), &err, ORDERING_STATUS_READY, 2,
                   "the invoice id cannot be blank");
    expect_refused(&o, ordering_order_complete(&o, NULL, &err), &err, ORDERING_STATUS_READY, 2,
                   "the invoice id cannot be blank");
    ordering_order_release(&o);
    /* ready with its invoice: another invoice does not complete it */
    make_order_at(&o, INVOICED);
    expect_refused(&o, ordering_order_complete(&o, "fake-invoice", &err), &err,
                   ORDERING_STATUS_READY, 3, "the invoice is not the order's invoice");
    assert_string_equal(o.invoice_id, "invoice-1");
    ordering_order_release(&o);
}

static void invoice_only_for_a_ready_order_and_only_one(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    const enum stage others[] = {PENDING, COMPLETED, CANCELLED};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        struct ordering_order o;
        make_order_at(&o, others[i]);
        expect_refused(&o, ordering_order_record_invoice(&o, "invoice-2", &err), &err, o.status,
                       o.agg.base.events.n, "the order is not ready");
        assert_string_equal(o.invoice_id, others[i] == COMPLETED ? "invoice-1" : "");
        ordering_order_release(&o);
    }
    struct ordering_order o;
    make_order_at(&o, INVOICED);
    expect_refused(&o, ordering_order_record_invoice(&o, "invoice-2", &err), &err,
                   ORDERING_STATUS_READY, 3, "the order already has an invoice");
    assert_string_equal(o.invoice_id, "invoice-1");
    ordering_order_release(&o);
}

static void assert_check_new_fails(const struct ordering_item *items, size_t n, const char *text)
{
    core_err err = CORE_ERR_INIT;
    struct ordering_order o = ORDERING_ORDER_INIT;
    assert_int_equal(ordering_order_check_new("o", "c", "p", items, n, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, text);
    core_err_clear(&err);
    /* create checks them again, and raises nothing */
    assert_int_equal(ordering_order_create(&o, "o", "c", "p", "s", items, n, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, text);
    assert_int_equal(o.agg.base.events.n, 0);
    assert_int_equal(o.status, ORDERING_STATUS_UNKNOWN);
}

static void create_amount_rules(void **state)
{
    (void)state;
    struct ordering_item item = {"s", "p", "S", "P", 1.0, 1};
    item.quantity = 0;
    assert_check_new_fails(&item, 1, "the item quantity must be positive");
    item.quantity = -2;
    assert_check_new_fails(&item, 1, "the item quantity must be positive");
    item.quantity = 1;
    item.price = -0.01;
    assert_check_new_fails(&item, 1, "the item price cannot be negative");
    item.price = NAN;
    assert_check_new_fails(&item, 1, "the item price cannot be negative");
    item.price = INFINITY;
    assert_check_new_fails(&item, 1, "the item price cannot be over 99999.9999");
    item.price = 100000;
    assert_check_new_fails(&item, 1, "the item price cannot be over 99999.9999");
    /* each price fine, the total not: it could never be invoiced */
    item.price = 99999;
    item.quantity = 2;
    assert_check_new_fails(&item, 1, "the order total cannot be over 99999.9999");
    item.price = 1;
    item.quantity = 2147483647;
    assert_check_new_fails(&item, 1, "the order total cannot be over 99999.9999");
    /* the limits themselves are fine */
    item.price = ORDERING_AMOUNT_MAX;
    item.quantity = 1;
    assert_int_equal(ordering_order_check_new("o", "c", "p", &item, 1, NULL), CORE_OK);
    item.price = 0;
    assert_int_equal(ordering_order_check_new("o", "c", "p", &item, 1, NULL), CORE_OK);
}

static void bad_invoice_ids_are_rejected_unchanged(void **state)
{
    (void)state;
    struct ordering_order o;
    core_err err = CORE_ERR_INIT;
    char too_long[ORDERING_ID_MAX + 2];
    long_id(too_long, sizeof too_long);
    make_order(&o);
    assert_int_equal(ordering_order_ready(&o, &err), CORE_OK);

    assert_int_equal(ordering_order_complete(&o, too_long, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice id is too long");
    assert_int_equal(o.status, ORDERING_STATUS_READY);
    assert_string_equal(o.invoice_id, "");

    core_err_clear(&err);
    assert_int_equal(ordering_order_record_invoice(&o, too_long, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice id is too long");
    core_err_clear(&err);
    assert_int_equal(ordering_order_record_invoice(&o, " ", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice id cannot be blank");
    assert_int_equal(ordering_order_record_invoice(&o, NULL, &err), CORE_ERR_INVALID);
    assert_string_equal(o.invoice_id, "");
    assert_int_equal(o.agg.base.events.n, 2); /* created, readied */
    ordering_order_release(&o);
}

static void total_is_price_times_quantity(void **state)
{
    (void)state;
    struct ordering_order o = ORDERING_ORDER_INIT;
    assert_true(ordering_order_total(&o) == 0.0);
    make_order(&o);
    assert_float_equal(ordering_order_total(&o), 49.99 * 2 + 9.98 * 3, 1e-9);
    ordering_order_release(&o);
}

static void status_texts_round_trip(void **state)
{
    (void)state;
    assert_string_equal(ordering_status_text(ORDERING_STATUS_PENDING), "pending");
    assert_string_equal(ordering_status_text(ORDERING_STATUS_IN_PROGRESS), "in-progress");
    assert_string_equal(ordering_status_text(ORDERING_STATUS_READY), "ready");
    assert_string_equal(ordering_status_text(ORDERING_STATUS_COMPLETED), "completed");
    assert_string_equal(ordering_status_text(ORDERING_STATUS_CANCELLED), "cancelled");
    assert_string_equal(ordering_status_text(ORDERING_STATUS_UNKNOWN), "");
    assert_string_equal(ordering_status_text((enum ordering_status)99), "");
    for (int s = ORDERING_STATUS_PENDING; s <= ORDERING_STATUS_CANCELLED; s++)
        assert_int_equal(ordering_status_parse(ordering_status_text((enum ordering_status)s)), s);
    assert_int_equal(ordering_status_parse("canceled"), ORDERING_STATUS_UNKNOWN);
    assert_int_equal(ordering_status_parse("Pending"), ORDERING_STATUS_UNKNOWN);
    assert_int_equal(ordering_status_parse(""), ORDERING_STATUS_UNKNOWN);
    assert_int_equal(ordering_status_parse(NULL), ORDERING_STATUS_UNKNOWN);
}

/* ---- domain events (chapter 04), raised (chapter 05) ----------------------------------------- */

/* The i-th event o raised, checked to be named name, to carry a payload of type desc and the
 * metadata of the order o at version i + 1; returns its payload. */
static const void *raised(const struct ordering_order *o, size_t i, const char *name,
                          const ProtobufCMessageDescriptor *desc)
{
    char version[24];
    snprintf(version, sizeof version, "%zu", i + 1);
    assert_true(i < o->agg.base.events.n);
    const ddd_event *ev = o->agg.base.events.items[i];
    assert_string_equal(ddd_event_name(ev), name);
    assert_true(ddd_event_payload_is(ev, desc));
    assert_string_equal(ddd_event_metadata(ev, "aggregate-name"), "ordering.Order");
    assert_string_equal(ddd_event_metadata(ev, "aggregate-id"), o->id);
    assert_string_equal(ddd_event_metadata(ev, "aggregate-version"), version);
    assert_true(core_uuid_valid(ddd_event_id(ev)));
    return ddd_event_payload(ev);
}

static void created_event_carries_the_whole_new_order(void **state)
{
    (void)state;
    struct ordering_order o;
    make_order(&o);
    assert_int_equal(o.agg.base.events.n, 1);
    assert_int_equal(es_aggregate_version(&o.agg), 0);
    assert_int_equal(es_aggregate_pending_version(&o.agg), 1);

    const Ordering__Domain__OrderCreated *p =
        raised(&o, 0, "ordering.OrderCreated", &ordering__domain__order_created__descriptor);
    assert_string_equal(p->customer_id, "customer-1");
    assert_string_equal(p->payment_id, "payment-1");
    assert_string_equal(p->shopping_id, "shopping-1");
    assert_int_equal(p->n_items, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(p->items[i]->store_id, two_items[i].store_id);
        assert_string_equal(p->items[i]->product_id, two_items[i].product_id);
        assert_string_equal(p->items[i]->store_name, two_items[i].store_name);
        assert_string_equal(p->items[i]->product_name, two_items[i].product_name);
        assert_true(p->items[i]->price == two_items[i].price);
        assert_int_equal(p->items[i]->quantity, two_items[i].quantity);
    }
    /* the payload is a copy: the order's own items are other memory */
    assert_ptr_not_equal(p->items[0]->product_name, o.items[0].product_name);
    ordering_order_release(&o); /* frees the event: teardown's leak check */
}

static void cancel_ready_invoice_complete_raise_their_events(void **state)
{
    (void)state;
    struct ordering_order o;
    core_err err = CORE_ERR_INIT;
    char too_long[ORDERING_ID_MAX + 2];
    long_id(too_long, sizeof too_long);
    make_order(&o);

    assert_int_equal(ordering_order_cancel(&o, &err), CORE_OK);
    const Ordering__Domain__OrderCanceled *canceled =
        raised(&o, 1, "ordering.OrderCanceled", &ordering__domain__order_canceled__descriptor);
    assert_string_equal(canceled->customer_id, "customer-1");
    assert_string_equal(canceled->payment_id, "payment-1");
    /* a refused cancel raises nothing */
    assert_int_equal(ordering_order_cancel(&o, &err), CORE_ERR_INVALID);
    assert_int_equal(o.agg.base.events.n, 2);
    ordering_order_release(&o);

    make_order(&o);
    assert_int_equal(ordering_order_ready(&o, &err), CORE_OK);
    const Ordering__Domain__OrderReadied *readied =
        raised(&o, 1, "ordering.OrderReadied", &ordering__domain__order_readied__descriptor);
    assert_string_equal(readied->customer_id, "customer-1");
    assert_string_equal(readied->payment_id, "payment-1");
    assert_float_equal(readied->total, 49.99 * 2 + 9.98 * 3, 1e-9);

    assert_int_equal(ordering_order_record_invoice(&o, "invoice-1", &err), CORE_OK);
    const Ordering__Domain__OrderInvoiced *invoiced =
        raised(&o, 2, "ordering.OrderInvoiced", &ordering__domain__order_invoiced__descriptor);
    assert_string_equal(invoiced->invoice_id, "invoice-1");

    /* a blank invoice id: the event names the stored one */
    assert_int_equal(ordering_order_complete(&o, "", &err), CORE_OK);
    const Ordering__Domain__OrderCompleted *completed =
        raised(&o, 3, "ordering.OrderCompleted", &ordering__domain__order_completed__descriptor);
    assert_string_equal(completed->invoice_id, "invoice-1");
    /* refused changes raise nothing */
    assert_int_equal(ordering_order_complete(&o, too_long, &err), CORE_ERR_INVALID);
    assert_int_equal(ordering_order_complete(&o, "invoice-1", &err), CORE_ERR_INVALID);
    assert_int_equal(ordering_order_record_invoice(&o, "", &err), CORE_ERR_INVALID);
    assert_int_equal(ordering_order_ready(&o, &err), CORE_ERR_INVALID);
    assert_int_equal(o.agg.base.events.n, 4);
    ordering_order_release(&o);

    /* an order completed without a recorded invoice id: the event names the given one */
    make_order(&o);
    assert_int_equal(ordering_order_ready(&o, &err), CORE_OK);
    assert_int_equal(ordering_order_complete(&o, "invoice-2", &err), CORE_OK);
    completed =
        raised(&o, 2, "ordering.OrderCompleted", &ordering__domain__order_completed__descriptor);
    assert_string_equal(completed->invoice_id, "invoice-2");
    ordering_order_release(&o);
}

static void events_are_handed_over_once(void **state)
{
    (void)state;
    struct ordering_order o;
    struct ddd_event_list events = DDD_EVENT_LIST_INIT;
    core_err err = CORE_ERR_INIT;
    make_order(&o);
    assert_int_equal(ordering_order_ready(&o, &err), CORE_OK);
    assert_int_equal(ddd_aggregate_take_events(&o.agg.base, &events, &err), CORE_OK);
    assert_int_equal(events.n, 2);
    assert_string_equal(ddd_event_name(events.items[0]), "ordering.OrderCreated");
    assert_string_equal(ddd_event_name(events.items[1]), "ordering.OrderReadied");
    assert_int_equal(o.agg.base.events.n, 0);
    ddd_event_list_release(&events);
    ordering_order_release(&o);
}

/* Out of memory while raising: NOMEM, nothing raised, the order as it was. */
static void raising_out_of_memory_leaves_the_order_unchanged(void **state)
{
    (void)state;
    for (int step = 0; step < 5; step++) {
        int failures = 0;
        for (long n = 0;; n++) {
            struct ordering_order o = ORDERING_ORDER_INIT;
            core_err err = CORE_ERR_INIT;
            if (step > 0) /* each change from the stage it needs */
                make_order_at(&o, step == 4 ? INVOICED : step == 3 ? READY : PENDING);
            enum ordering_status from = o.status;
            size_t events_before = o.agg.base.events.n;
            core_alloc_fail_after(n);
            core_status st = step == 0
                                 ? ordering_order_create(&o, "order-1", "customer-1", "payment-1",
                                                         "shopping-1", two_items, 2, &err)
                             : step == 1 ? ordering_order_cancel(&o, &err)
                             : step == 2 ? ordering_order_ready(&o, &err)
                             : step == 3 ? ordering_order_record_invoice(&o, "invoice-1", &err)
                                         : ordering_order_complete(&o, "invoice-1", &err);
            core_alloc_fail_after(-1);
            if (st == CORE_OK) {
                assert_int_equal(o.agg.base.events.n, events_before + 1);
                ordering_order_release(&o);
                break;
            }
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_int_equal(o.agg.base.events.n, events_before);
            assert_int_equal(o.status, from);
            assert_string_equal(o.id, step == 0 ? "" : "order-1");
            assert_string_equal(o.agg.base.id, step == 0 ? "" : "order-1");
            assert_string_equal(o.invoice_id, step == 4 ? "invoice-1" : "");
            ordering_order_release(&o); /* whatever is left is o's (teardown: no leak) */
            failures++;
        }
        assert_true(failures >= (step == 0 ? 9 : 1)); /* create: the items' copies too */
    }
}

/* ---- event sourcing (chapter 05) ------------------------------------------------------------ */

static void assert_same_order(const struct ordering_order *a, const struct ordering_order *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->customer_id, b->customer_id);
    assert_string_equal(a->payment_id, b->payment_id);
    assert_string_equal(a->invoice_id, b->invoice_id);
    assert_string_equal(a->shopping_id, b->shopping_id);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->nitems, b->nitems);
    for (size_t i = 0; i < a->nitems; i++) {
        assert_string_equal(a->items[i].store_id, b->items[i].store_id);
        assert_string_equal(a->items[i].product_id, b->items[i].product_id);
        assert_string_equal(a->items[i].store_name, b->items[i].store_name);
        assert_string_equal(a->items[i].product_name, b->items[i].product_name);
        assert_true(a->items[i].price == b->items[i].price);
        assert_int_equal(a->items[i].quantity, b->items[i].quantity);
    }
}

/* Applies every event o raised, in order, to the empty order *out (whose aggregate id is set
 * first, as es_repo_load does). */
static void replay(const struct ordering_order *o, struct ordering_order *out)
{
    core_err err = CORE_ERR_INIT;
    ordering_order_init(out);
    assert_int_equal(ddd_aggregate_set_id(&out->agg.base, o->agg.base.id, &err), CORE_OK);
    for (size_t i = 0; i < o->agg.base.events.n; i++)
        assert_int_equal(ordering_order_type.apply(out, o->agg.base.events.items[i], &err),
                         CORE_OK);
}

/* Raise -> state: the same apply rebuilds that state from the events alone, at every step of
 * the lifecycle and for a cancelled order. */
static void applying_the_events_rebuilds_the_order(void **state)
{
    (void)state;
    struct ordering_order o, copy;
    core_err err = CORE_ERR_INIT;
    make_order(&o);
    for (int step = 0; step < 4; step++) {
        core_status st = step == 0   ? CORE_OK
                         : step == 1 ? ordering_order_ready(&o, &err)
                         : step == 2 ? ordering_order_record_invoice(&o, "invoice-1", &err)
                                     : ordering_order_complete(&o, "", &err);
        assert_int_equal(st, CORE_OK);
        replay(&o, &copy);
        assert_same_order(&copy, &o);
        assert_int_equal(copy.agg.base.events.n, 0); /* applying raises nothing */
        ordering_order_release(&copy);
    }
    assert_int_equal(o.status, ORDERING_STATUS_COMPLETED);
    assert_string_equal(o.invoice_id, "invoice-1");
    ordering_order_release(&o);

    make_order(&o);
    assert_int_equal(ordering_order_cancel(&o, &err), CORE_OK);
    replay(&o, &copy);
    assert_same_order(&copy, &o);
    assert_int_equal(copy.status, ORDERING_STATUS_CANCELLED);
    ordering_order_release(&copy);
    ordering_order_release(&o);
}

static ddd_event *event_of(const char *name, ProtobufCMessage *payload)
{
    ddd_event *ev = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(ddd_event_new(&ev, name, &payload, &err), CORE_OK);
    return ev;
}

/* Applying checks no rule: a history stored before the status rules existed (a pending order
 * completed with a made-up invoice, then readied again) still loads, event by event, as it was
 * recorded. */
static void apply_replays_histories_the_rules_now_refuse(void **state)
{
    (void)state;
    struct ordering_order o, copy;
    core_err err = CORE_ERR_INIT;
    make_order(&o);
    replay(&o, &copy);
    Ordering__Domain__OrderCompleted *completed = pb_new_of(ordering__domain__order_completed);
    assert_int_equal(pb_set_string(&completed->invoice_id, "fake-invoice", NULL), CORE_OK);
    ddd_event *history[] = {
        event_of(ORDERING_ORDER_COMPLETED, &completed->base),
        event_of(ORDERING_ORDER_READIED, pb_new(&ordering__domain__order_readied__descriptor)),
    };
    const enum ordering_status after[] = {ORDERING_STATUS_COMPLETED, ORDERING_STATUS_READY};
    for (size_t i = 0; i < sizeof history / sizeof history[0]; i++) {
        assert_int_equal(ordering_order_type.apply(&copy, history[i], &err), CORE_OK);
        assert_int_equal(copy.status, after[i]);
        ddd_event_free(history[i]);
    }
    assert_string_equal(copy.invoice_id, "fake-invoice");
    assert_int_equal(copy.agg.base.events.n, 0); /* applying raises nothing */
    ordering_order_release(&copy);
    ordering_order_release(&o);
}

/* Unknown names, payloads of another type and impossible data are programming errors: INTERNAL,
 * and the order stays as it was. */
static void apply_refuses_what_does_not_fit(void **state)
{
    (void)state;
    struct ordering_order o, before;
    char too_long[ORDERING_ID_MAX + 2];
    long_id(too_long, sizeof too_long);
    make_order(&o);
    replay(&o, &before);

    Ordering__Domain__OrderInvoiced *invoiced = pb_new_of(ordering__domain__order_invoiced);
    assert_int_equal(pb_set_string(&invoiced->invoice_id, too_long, NULL), CORE_OK);
    Ordering__Domain__OrderCreated *created = pb_new_of(ordering__domain__order_created);
    assert_int_equal(pb_set_string(&created->customer_id, too_long, NULL), CORE_OK);
    ddd_event *bad[] = {
        event_of("ordering.OrderShipped", pb_new(&ordering__domain__order_canceled__descriptor)),
        event_of(ORDERING_ORDER_READIED, pb_new(&ordering__domain__order_canceled__descriptor)),
        event_of(ORDERING_ORDER_CANCELED, NULL),
        event_of(ORDERING_ORDER_INVOICED, &invoiced->base),
        event_of(ORDERING_ORDER_CREATED, &created->base),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        core_err e = CORE_ERR_INIT;
        assert_int_equal(ordering_order_type.apply(&o, bad[i], &e), CORE_ERR_INTERNAL);
        assert_non_null(strstr(e.msg, "ordering.Order order-1"));
        assert_same_order(&o, &before);
        ddd_event_free(bad[i]);
    }
    ordering_order_release(&before);
    ordering_order_release(&o);
}

/* to_snapshot then from_snapshot gives the same order, in each status. */
static void snapshot_round_trip(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_string_equal(ordering_order_type.name, "ordering.Order");
    assert_string_equal(ordering_order_type.snapshot_name, "ordering.OrderV1");
    for (int variant = 0; variant < 4; variant++) {
        struct ordering_order o, copy = ORDERING_ORDER_INIT;
        make_order(&o);
        if (variant >= 1)
            assert_int_equal(ordering_order_ready(&o, &err), CORE_OK);
        if (variant >= 2)
            assert_int_equal(ordering_order_record_invoice(&o, "invoice-1", &err), CORE_OK);
        if (variant == 3)
            assert_int_equal(ordering_order_complete(&o, NULL, &err), CORE_OK);
        ProtobufCMessage *snap = NULL;
        assert_int_equal(ordering_order_type.to_snapshot(&o, &snap, &err), CORE_OK);
        assert_true(snap->descriptor == &ordering__domain__order_v1__descriptor);
        const Ordering__Domain__OrderV1 *m = (const void *)snap;
        assert_string_equal(m->status, ordering_status_text(o.status));
        assert_string_equal(m->shopping_id, "shopping-1");
        assert_int_equal(m->n_items, 2);
        assert_int_equal(ddd_aggregate_set_id(&copy.agg.base, "order-1", &err), CORE_OK);
        assert_int_equal(ordering_order_type.from_snapshot(&copy, snap, &err), CORE_OK);
        assert_same_order(&copy, &o);
        /* events after the snapshot go on from there (the rules see the snapshot's state) */
        core_status want = variant == 1 || variant == 2 ? CORE_OK : CORE_ERR_INVALID;
        assert_int_equal(ordering_order_complete(&copy, "invoice-1", &err), want);
        assert_int_equal(ordering_order_complete(&o, "invoice-1", &err), want);
        assert_same_order(&copy, &o);
        pb_free(snap);
        ordering_order_release(&copy);
        ordering_order_release(&o);
    }
}

/* A snapshot that does not fit (another type, an unknown status, an id too long) is INTERNAL and
 * changes nothing. */
static void from_snapshot_refuses_what_does_not_fit(void **state)
{
    (void)state;
    struct ordering_order o, before;
    core_err err = CORE_ERR_INIT;
    char too_long[ORDERING_ID_MAX + 2];
    long_id(too_long, sizeof too_long);
    make_order(&o);
    replay(&o, &before);

    ProtobufCMessage *other = pb_new(&ordering__domain__order_created__descriptor);
    ProtobufCMessage *bad_status = NULL, *bad_id = NULL;
    assert_int_equal(ordering_order_type.to_snapshot(&o, &bad_status, &err), CORE_OK);
    assert_int_equal(
        pb_set_string(&((Ordering__Domain__OrderV1 *)(void *)bad_status)->status, "shipped", NULL),
        CORE_OK);
    assert_int_equal(ordering_order_type.to_snapshot(&o, &bad_id, &err), CORE_OK);
    assert_int_equal(
        pb_set_string(&((Ordering__Domain__OrderV1 *)(void *)bad_id)->invoice_id, too_long, NULL),
        CORE_OK);
    const ProtobufCMessage *snaps[] = {other, bad_status, bad_id, NULL};
    for (size_t i = 0; i < 4; i++) {
        core_err e = CORE_ERR_INIT;
        assert_int_equal(ordering_order_type.from_snapshot(&o, snaps[i], &e), CORE_ERR_INTERNAL);
        assert_non_null(strstr(e.msg, "ordering.Order order-1"));
        assert_same_order(&o, &before);
    }
    pb_free(other);
    pb_free(bad_status);
    pb_free(bad_id);
    ordering_order_release(&before);
    ordering_order_release(&o);
}

/* Out of memory in to_snapshot or from_snapshot: NOMEM, nothing leaked, the order as it was. */
static void snapshots_out_of_memory(void **state)
{
    (void)state;
    struct ordering_order o;
    core_err err = CORE_ERR_INIT;
    make_order(&o);
    ProtobufCMessage *good = NULL;
    assert_int_equal(ordering_order_type.to_snapshot(&o, &good, &err), CORE_OK);
    int failures = 0;
    for (long n = 0; n < 40; n++) {
        ProtobufCMessage *snap = NULL;
        struct ordering_order copy;
        replay(&o, &copy);
        core_alloc_fail_after(n);
        core_status st1 = ordering_order_type.to_snapshot(&o, &snap, &err);
        core_status st2 = ordering_order_type.from_snapshot(&copy, good, &err);
        core_alloc_fail_after(-1);
        assert_true(st1 == CORE_OK || st1 == CORE_ERR_NOMEM);
        assert_true(st2 == CORE_OK || st2 == CORE_ERR_NOMEM);
        failures += (st1 != CORE_OK) + (st2 != CORE_OK);
        if (st1 == CORE_OK)
            pb_free(snap);
        assert_same_order(&copy, &o); /* from a snapshot of the same state, or untouched */
        ordering_order_release(&copy);
    }
    assert_true(failures >= 10);
    pb_free(good);
    ordering_order_release(&o);
}

static void register_types_names_every_event_and_the_snapshot(void **state)
{
    (void)state;
    es_registry *reg = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(es_registry_new(&reg, &err), CORE_OK);
    assert_int_equal(ordering_register_types(reg, &err), CORE_OK);
    assert_ptr_equal(es_registry_lookup(reg, "ordering.OrderCreated"),
                     &ordering__domain__order_created__descriptor);
    assert_ptr_equal(es_registry_lookup(reg, "ordering.OrderCanceled"),
                     &ordering__domain__order_canceled__descriptor);
    assert_ptr_equal(es_registry_lookup(reg, "ordering.OrderReadied"),
                     &ordering__domain__order_readied__descriptor);
    assert_ptr_equal(es_registry_lookup(reg, "ordering.OrderInvoiced"),
                     &ordering__domain__order_invoiced__descriptor);
    assert_ptr_equal(es_registry_lookup(reg, "ordering.OrderCompleted"),
                     &ordering__domain__order_completed__descriptor);
    assert_ptr_equal(es_registry_lookup(reg, "ordering.OrderV1"),
                     &ordering__domain__order_v1__descriptor);
    assert_int_equal(ordering_register_types(reg, &err), CORE_ERR_CONFLICT); /* twice */
    es_registry_free(reg);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(create_makes_a_pending_order_with_copies),
        T(create_takes_null_item_strings_as_empty),
        T(create_rules_and_texts),
        T(create_twice_is_refused),
        T(cancel_only_a_pending_order),
        T(ready_invoice_and_complete),
        T(ready_only_a_pending_order),
        T(complete_only_a_ready_order_with_its_invoice),
        T(invoice_only_for_a_ready_order_and_only_one),
        T(create_amount_rules),
        T(bad_invoice_ids_are_rejected_unchanged),
        T(total_is_price_times_quantity),
        T(status_texts_round_trip),
        T(created_event_carries_the_whole_new_order),
        T(cancel_ready_invoice_complete_raise_their_events),
        T(events_are_handed_over_once),
        T(raising_out_of_memory_leaves_the_order_unchanged),
        T(applying_the_events_rebuilds_the_order),
        T(apply_replays_histories_the_rules_now_refuse),
        T(apply_refuses_what_does_not_fit),
        T(snapshot_round_trip),
        T(from_snapshot_refuses_what_does_not_fit),
        T(snapshots_out_of_memory),
        T(register_types_names_every_event_and_the_snapshot),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
