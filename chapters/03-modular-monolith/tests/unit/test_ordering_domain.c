/* test_ordering_domain.c -- unit tests of ordering/domain.h: creating an order (each rule and
 * its text, amounts included), cancel/ready/invoice/complete and every status each refuses, ids,
 * items, total, copies, statuses, allocation failures. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ordering/domain.h"

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

/* A pending order "order-1" with two_items. */
static void make_order(struct ordering_order *o)
{
    core_err err = CORE_ERR_INIT;
    assert_int_equal(
        ordering_order_create(o, "order-1", "customer-1", "payment-1", two_items, 2, &err),
        CORE_OK);
}

static void create_makes_a_pending_order_with_copies(void **state)
{
    (void)state;
    struct ordering_order o = ORDERING_ORDER_INIT;
    char store_name[] = "Waldorf Books";
    struct ordering_item item = {"store-1", "product-1", store_name, "EDA with Golang", 49.99, 2};
    core_err err = CORE_ERR_INIT;

    assert_int_equal(
        ordering_order_create(&o, "order-1", "customer-1", "payment-1", &item, 1, &err), CORE_OK);
    store_name[0] = 'X'; /* the order holds its own copy */
    assert_string_equal(o.id, "order-1");
    assert_string_equal(o.customer_id, "customer-1");
    assert_string_equal(o.payment_id, "payment-1");
    assert_string_equal(o.shopping_id, "");
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
    ordering_order_release(&o);
    assert_null(o.items);
    assert_int_equal(o.nitems, 0);
    ordering_order_release(&o); /* twice is harmless */
}

static void create_takes_null_item_strings_as_empty(void **state)
{
    (void)state;
    struct ordering_order o = ORDERING_ORDER_INIT;
    struct ordering_item item = {NULL, "p", NULL, NULL, 1.0, 1};
    assert_int_equal(ordering_order_create(&o, "o", "c", "p", &item, 1, NULL), CORE_OK);
    assert_string_equal(o.items[0].store_id, "");
    assert_string_equal(o.items[0].store_name, "");
    assert_string_equal(o.items[0].product_name, "");
    ordering_order_release(&o);
}

static void assert_create_fails(const char *id, const char *customer_id, const char *payment_id,
                                const struct ordering_item *items, size_t n, const char *text)
{
    struct ordering_order o = ORDERING_ORDER_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(ordering_order_create(&o, id, customer_id, payment_id, items, n, &err),
                     CORE_ERR_INVALID);
    assert_int_equal(err.status, CORE_ERR_INVALID);
    assert_string_equal(err.msg, text);
    assert_null(o.items); /* nothing created */
    assert_int_equal(o.status, ORDERING_STATUS_UNKNOWN);
}

static void create_rules_and_texts(void **state)
{
    (void)state;
    char long_id[ORDERING_ID_MAX + 2];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';

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
    assert_create_fails(long_id, "c", "p", two_items, 2, "the order id is too long");
    assert_create_fails("o", long_id, "p", two_items, 2, "the customer id is too long");
    assert_create_fails("o", "c", long_id, two_items, 2, "the payment id is too long");
    /* exactly ORDERING_ID_MAX is fine */
    long_id[ORDERING_ID_MAX] = '\0';
    struct ordering_order o = ORDERING_ORDER_INIT;
    assert_int_equal(ordering_order_create(&o, long_id, long_id, long_id, two_items, 2, NULL),
                     CORE_OK);
    assert_string_equal(o.id, long_id);
    ordering_order_release(&o);
}

static void create_failure_leaves_the_order_unchanged(void **state)
{
    (void)state;
    struct ordering_order o = ORDERING_ORDER_INIT;
    core_err err = CORE_ERR_INIT;
    make_order(&o);
    assert_int_equal(ordering_order_create(&o, "other", "", "p", two_items, 2, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(o.id, "order-1");
    assert_int_equal(o.nitems, 2);
    /* creating again over a used order replaces it (no leak: teardown checks) */
    assert_int_equal(ordering_order_create(&o, "order-2", "c2", "p2", two_items + 1, 1, &err),
                     CORE_OK);
    assert_string_equal(o.id, "order-2");
    assert_int_equal(o.nitems, 1);
    assert_string_equal(o.items[0].product_id, "product-2");
    ordering_order_release(&o);
}

static void create_out_of_memory_at_every_allocation(void **state)
{
    (void)state;
    struct ordering_order o = ORDERING_ORDER_INIT;
    int failures = 0;
    for (long n = 0;; n++) {
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = ordering_order_create(&o, "o", "c", "p", two_items, 2, &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK)
            break;
        assert_int_equal(st, CORE_ERR_NOMEM);
        assert_null(o.items);
        assert_int_equal(core_alloc_live(), live_before);
        failures++;
    }
    assert_true(failures >= 9); /* the array and 4 strings per item */
    assert_int_equal(o.nitems, 2);
    ordering_order_release(&o);
}

static void cancel_only_a_pending_order(void **state)
{
    (void)state;
    struct ordering_order o = ORDERING_ORDER_INIT;
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
    ordering_order_release(&o);
}

static void ready_and_complete(void **state)
{
    (void)state;
    struct ordering_order o = ORDERING_ORDER_INIT;
    core_err err = CORE_ERR_INIT;
    make_order(&o);
    assert_int_equal(ordering_order_ready(&o, &err), CORE_OK);
    assert_int_equal(o.status, ORDERING_STATUS_READY);
    assert_int_equal(ordering_order_set_invoice_id(&o, "invoice-1", &err), CORE_OK);
    assert_string_equal(o.invoice_id, "invoice-1");
    /* the same invoice again is accepted */
    assert_int_equal(ordering_order_set_invoice_id(&o, "invoice-1", &err), CORE_OK);

    /* a blank invoice id keeps the stored one */
    assert_int_equal(ordering_order_complete(&o, "", &err), CORE_OK);
    assert_int_equal(o.status, ORDERING_STATUS_COMPLETED);
    assert_string_equal(o.invoice_id, "invoice-1");
    o.status = ORDERING_STATUS_READY;
    assert_int_equal(ordering_order_complete(&o, NULL, &err), CORE_OK);
    assert_string_equal(o.invoice_id, "invoice-1");
    /* the order's own invoice id is accepted */
    o.status = ORDERING_STATUS_READY;
    assert_int_equal(ordering_order_complete(&o, "invoice-1", &err), CORE_OK);
    assert_int_equal(o.status, ORDERING_STATUS_COMPLETED);
    /* an order without an invoice id takes the one it is completed with */
    o.status = ORDERING_STATUS_READY;
    o.invoice_id[0] = '\0';
    assert_int_equal(ordering_order_complete(&o, "invoice-2", &err), CORE_OK);
    assert_string_equal(o.invoice_id, "invoice-2");
    assert_int_equal(o.status, ORDERING_STATUS_COMPLETED);
    /* an in-progress order can become ready too */
    o.status = ORDERING_STATUS_IN_PROGRESS;
    assert_int_equal(ordering_order_ready(&o, &err), CORE_OK);
    assert_int_equal(o.status, ORDERING_STATUS_READY);
    ordering_order_release(&o);
}

/* Each refused change leaves the order as it was: status and invoice id. */
static void expect_refused(struct ordering_order *o, core_status st, core_err *err,
                           enum ordering_status status, const char *invoice_id, const char *text)
{
    assert_int_equal(st, CORE_ERR_INVALID);
    assert_int_equal(err->status, CORE_ERR_INVALID);
    assert_string_equal(err->msg, text);
    assert_int_equal(o->status, status);
    assert_string_equal(o->invoice_id, invoice_id);
    core_err_clear(err);
}

static void ready_only_a_pending_or_in_progress_order(void **state)
{
    (void)state;
    struct ordering_order o = ORDERING_ORDER_INIT;
    core_err err = CORE_ERR_INIT;
    make_order(&o);
    const enum ordering_status others[] = {ORDERING_STATUS_READY, ORDERING_STATUS_COMPLETED,
                                           ORDERING_STATUS_CANCELLED, ORDERING_STATUS_UNKNOWN};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        o.status = others[i];
        expect_refused(&o, ordering_order_ready(&o, &err), &err, others[i], "",
                       "the order cannot be readied");
    }
    ordering_order_release(&o);
}

static void complete_only_a_ready_order_with_its_invoice(void **state)
{
    (void)state;
    struct ordering_order o = ORDERING_ORDER_INIT;
    core_err err = CORE_ERR_INIT;
    make_order(&o);
    /* the case: a pending order completed with a made-up invoice */
    expect_refused(&o, ordering_order_complete(&o, "fake-invoice", &err), &err,
                   ORDERING_STATUS_PENDING, "", "the order cannot be completed");
    const enum ordering_status others[] = {ORDERING_STATUS_PENDING, ORDERING_STATUS_IN_PROGRESS,
                                           ORDERING_STATUS_COMPLETED, ORDERING_STATUS_CANCELLED,
                                           ORDERING_STATUS_UNKNOWN};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        o.status = others[i];
        expect_refused(&o, ordering_order_complete(&o, "invoice-1", &err), &err, others[i], "",
                       "the order cannot be completed");
    }
    /* ready, but no invoice anywhere */
    o.status = ORDERING_STATUS_READY;
    expect_refused(&o, ordering_order_complete(&o, "", &err), &err, ORDERING_STATUS_READY, "",
                   "the invoice id cannot be blank");
    expect_refused(&o, ordering_order_complete(&o, " ", &err), &err, ORDERING_STATUS_READY, "",
                   "the invoice id cannot be blank");
    /* ready with its invoice: another invoice does not complete it */
    assert_int_equal(ordering_order_set_invoice_id(&o, "invoice-1", &err), CORE_OK);
    expect_refused(&o, ordering_order_complete(&o, "fake-invoice", &err), &err,
                   ORDERING_STATUS_READY, "invoice-1", "the invoice is not the order's invoice");
    ordering_order_release(&o);
}

static void invoice_only_for_a_ready_order_and_only_one(void **state)
{
    (void)state;
    struct ordering_order o = ORDERING_ORDER_INIT;
    core_err err = CORE_ERR_INIT;
    make_order(&o);
    const enum ordering_status others[] = {ORDERING_STATUS_PENDING, ORDERING_STATUS_IN_PROGRESS,
                                           ORDERING_STATUS_COMPLETED, ORDERING_STATUS_CANCELLED,
                                           ORDERING_STATUS_UNKNOWN};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        o.status = others[i];
        expect_refused(&o, ordering_order_set_invoice_id(&o, "invoice-1", &err), &err, others[i],
                       "", "the order is not ready");
    }
    o.status = ORDERING_STATUS_READY;
    expect_refused(&o, ordering_order_set_invoice_id(&o, "", &err), &err, ORDERING_STATUS_READY, "",
                   "the invoice id cannot be blank");
    assert_int_equal(ordering_order_set_invoice_id(&o, "invoice-1", &err), CORE_OK);
    expect_refused(&o, ordering_order_set_invoice_id(&o, "invoice-2", &err), &err,
                   ORDERING_STATUS_READY, "invoice-1", "the order already has an invoice");
    ordering_order_release(&o);
}

static void create_amount_rules(void **state)
{
    (void)state;
    struct ordering_item item = {"s", "p", "S", "P", 1.0, 1};
    const struct ordering_item *one = &item;
    item.quantity = 0;
    assert_create_fails("o", "c", "p", one, 1, "the item quantity must be positive");
    item.quantity = -2;
    assert_create_fails("o", "c", "p", one, 1, "the item quantity must be positive");
    item.quantity = 1;
    item.price = -0.01;
    assert_create_fails("o", "c", "p", one, 1, "the item price cannot be negative");
    item.price = NAN;
    assert_create_fails("o", "c", "p", one, 1, "the item price cannot be negative");
    item.price = INFINITY;
    assert_create_fails("o", "c", "p", one, 1, "the item price cannot be over 99999.9999");
    item.price = 100000;
    assert_create_fails("o", "c", "p", one, 1, "the item price cannot be over 99999.9999");
    /* each price fine, the total not: it could never be invoiced */
    item.price = 99999;
    item.quantity = 2;
    assert_create_fails("o", "c", "p", one, 1, "the order total cannot be over 99999.9999");
    item.price = 1;
    item.quantity = 2147483647;
    assert_create_fails("o", "c", "p", one, 1, "the order total cannot be over 99999.9999");
    /* the limits themselves are fine */
    struct ordering_order o = ORDERING_ORDER_INIT;
    item.price = ORDERING_AMOUNT_MAX;
    item.quantity = 1;
    assert_int_equal(ordering_order_create(&o, "o", "c", "p", one, 1, NULL), CORE_OK);
    item.price = 0;
    assert_int_equal(ordering_order_create(&o, "o", "c", "p", one, 1, NULL), CORE_OK);
    ordering_order_release(&o);
}

static void too_long_ids_are_rejected_unchanged(void **state)
{
    (void)state;
    struct ordering_order o = ORDERING_ORDER_INIT;
    core_err err = CORE_ERR_INIT;
    char long_id[ORDERING_ID_MAX + 2];
    memset(long_id, 'z', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    make_order(&o);
    assert_int_equal(ordering_order_ready(&o, &err), CORE_OK);

    assert_int_equal(ordering_order_complete(&o, long_id, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice id is too long");
    assert_int_equal(o.status, ORDERING_STATUS_READY);
    assert_string_equal(o.invoice_id, "");

    core_err_clear(&err);
    assert_int_equal(ordering_order_set_shopping_id(&o, long_id, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping id is too long");
    assert_string_equal(o.shopping_id, "");
    core_err_clear(&err);
    assert_int_equal(ordering_order_set_invoice_id(&o, long_id, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice id is too long");

    assert_int_equal(ordering_order_set_shopping_id(&o, "shopping-1", &err), CORE_OK);
    assert_string_equal(o.shopping_id, "shopping-1");
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

static void set_items_replaces_and_copy_is_deep(void **state)
{
    (void)state;
    struct ordering_order o = ORDERING_ORDER_INIT;
    struct ordering_order c = ORDERING_ORDER_INIT;
    core_err err = CORE_ERR_INIT;
    make_order(&o);
    assert_int_equal(ordering_order_set_shopping_id(&o, "shopping-1", &err), CORE_OK);

    assert_int_equal(ordering_order_copy(&c, &o, &err), CORE_OK);
    assert_string_equal(c.id, "order-1");
    assert_string_equal(c.shopping_id, "shopping-1");
    assert_int_equal(c.status, ORDERING_STATUS_PENDING);
    assert_int_equal(c.nitems, 2);
    assert_ptr_not_equal(c.items, o.items);
    assert_ptr_not_equal(c.items[1].product_name, o.items[1].product_name);
    assert_string_equal(c.items[1].product_name, "Wizard w/ crystal");

    assert_int_equal(ordering_order_set_items(&o, two_items + 1, 1, &err), CORE_OK);
    assert_int_equal(o.nitems, 1);
    assert_string_equal(o.items[0].store_name, "Nic & Naks");
    assert_int_equal(c.nitems, 2); /* the copy is independent */
    assert_int_equal(ordering_order_set_items(&o, NULL, 0, &err), CORE_OK);
    assert_null(o.items);
    assert_int_equal(o.nitems, 0);

    /* out of memory: dst unchanged */
    core_alloc_fail_after(0);
    assert_int_equal(ordering_order_copy(&o, &c, &err), CORE_ERR_NOMEM);
    assert_int_equal(ordering_order_set_items(&c, two_items, 1, &err), CORE_ERR_NOMEM);
    core_alloc_fail_after(-1);
    assert_int_equal(o.nitems, 0);
    assert_int_equal(c.nitems, 2);
    assert_string_equal(c.items[0].product_id, "product-1");
    ordering_order_release(&o);
    ordering_order_release(&c);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_makes_a_pending_order_with_copies, setup, teardown),
        cmocka_unit_test_setup_teardown(create_takes_null_item_strings_as_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(create_rules_and_texts, setup, teardown),
        cmocka_unit_test_setup_teardown(create_failure_leaves_the_order_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(create_out_of_memory_at_every_allocation, setup, teardown),
        cmocka_unit_test_setup_teardown(cancel_only_a_pending_order, setup, teardown),
        cmocka_unit_test_setup_teardown(ready_and_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(ready_only_a_pending_or_in_progress_order, setup, teardown),
        cmocka_unit_test_setup_teardown(complete_only_a_ready_order_with_its_invoice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(invoice_only_for_a_ready_order_and_only_one, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(create_amount_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(too_long_ids_are_rejected_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(total_is_price_times_quantity, setup, teardown),
        cmocka_unit_test_setup_teardown(set_items_replaces_and_copy_is_deep, setup, teardown),
        cmocka_unit_test_setup_teardown(status_texts_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
