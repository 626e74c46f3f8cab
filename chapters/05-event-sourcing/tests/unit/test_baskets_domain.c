/* test_baskets_domain.c -- unit tests of baskets/domain.h: every rule and each of its error texts,
 * the item arithmetic (spec 5: a line goes only when its quantity reaches 0), ordering of the
 * lines, deep copies, and out-of-memory paths. Chapter 04: the domain events each rule records
 * (names, payload fields, metadata) and that a failing rule records none. Chapter 05: the events
 * carry their aggregate version, applying a basket's events to an empty basket rebuilds it, bad
 * events are refused, and a snapshot round trip (to_snapshot, from_snapshot) keeps the state.
 * Every test checks that it leaked nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "baskets/domain.h"
#include "baskets/domain_events.pb-c.h"
#include "baskets/snapshots.pb-c.h"
#include "pb.h"

/* ---- fixtures ---------------------------------------------------------------------------------- */

static long live_at_start;

static int setup(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    live_at_start = core_alloc_live();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    assert_int_equal(core_alloc_live(), live_at_start);
    return 0;
}

/* A store and a product with borrowed (non-owned) strings: the domain only reads them. */
struct catalog_entry {
    struct baskets_store store;
    struct baskets_product product;
};

static struct catalog_entry entry(char *store_id, char *store_name, char *product_id, char *product_name,
                                  double price)
{
    struct catalog_entry e;
    e.store.id = store_id;
    e.store.name = store_name;
    e.store.location = "West Upper Level";
    e.product.id = product_id;
    e.product.store_id = store_id;
    e.product.name = product_name;
    e.product.price = price;
    return e;
}

static void start_open(struct baskets_basket *b)
{
    core_err err = CORE_ERR_INIT;
    baskets_basket_init(b);
    assert_int_equal(baskets_basket_start(b, "b-1", "c-1", &err), CORE_OK);
}

static void add(struct baskets_basket *b, const struct catalog_entry *e, int quantity)
{
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_basket_add_item(b, &e->store, &e->product, quantity, &err), CORE_OK);
}

/* Runs call (which names its error argument xerr) and checks its status and exact message. */
#define assert_err(call, want_status, want_text)                                                            \
    do {                                                                                                    \
        core_err xerr_ = CORE_ERR_INIT;                                                                     \
        core_err *xerr = &xerr_;                                                                            \
        assert_int_equal((call), (want_status));                                                            \
        assert_int_equal(xerr_.status, (want_status));                                                      \
        assert_string_equal(xerr_.msg, (want_text));                                                        \
    } while (0)

/* ---- statuses and ids -------------------------------------------------------------------------- */

static void status_texts_are_the_books(void **state)
{
    (void)state;
    assert_string_equal(baskets_status_text(BASKETS_STATUS_OPEN), "open");
    assert_string_equal(baskets_status_text(BASKETS_STATUS_CANCELLED), "cancelled");
    assert_string_equal(baskets_status_text(BASKETS_STATUS_CHECKED_OUT), "checked_out");
    assert_string_equal(baskets_status_text(BASKETS_STATUS_UNKNOWN), "");
    assert_string_equal(baskets_status_text((enum baskets_status)42), "");

    enum baskets_status st = BASKETS_STATUS_UNKNOWN;
    assert_true(baskets_status_parse("checked_out", &st));
    assert_int_equal(st, BASKETS_STATUS_CHECKED_OUT);
    assert_true(baskets_status_parse("open", &st));
    assert_int_equal(st, BASKETS_STATUS_OPEN);
    assert_true(baskets_status_parse("cancelled", &st));
    assert_int_equal(st, BASKETS_STATUS_CANCELLED);
    assert_false(baskets_status_parse("", &st));
    assert_false(baskets_status_parse("OPEN", &st));
    assert_false(baskets_status_parse("canceled", &st));
    assert_false(baskets_status_parse(NULL, &st));
    assert_int_equal(st, BASKETS_STATUS_CANCELLED); /* unchanged by failed parses */
}

static void basket_id_check(void **state)
{
    (void)state;
    char id64[BASKETS_ID_MAX + 1], id65[BASKETS_ID_MAX + 2];
    memset(id64, 'a', BASKETS_ID_MAX);
    id64[BASKETS_ID_MAX] = '\0';
    memset(id65, 'a', BASKETS_ID_MAX + 1);
    id65[BASKETS_ID_MAX + 1] = '\0';
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_check_id("b-1", &err), CORE_OK);
    assert_int_equal(baskets_check_id(id64, &err), CORE_OK);
    assert_err(baskets_check_id(id65, xerr), CORE_ERR_INVALID, "the basket id is too long");
    assert_err(baskets_check_id("", xerr), CORE_ERR_INVALID, "the basket id cannot be blank");
    assert_err(baskets_check_id(" \t", xerr), CORE_ERR_INVALID, "the basket id cannot be blank");
    assert_err(baskets_check_id(NULL, xerr), CORE_ERR_INVALID, "the basket id cannot be blank");
}

/* ---- start ------------------------------------------------------------------------------------- */

static void start_opens_an_empty_basket(void **state)
{
    (void)state;
    struct baskets_basket b;
    start_open(&b);
    assert_string_equal(b.id, "b-1");
    assert_string_equal(b.customer_id, "c-1");
    assert_string_equal(b.payment_id, "");
    assert_int_equal(b.status, BASKETS_STATUS_OPEN);
    assert_int_equal(b.nitems, 0);
    baskets_basket_release(&b);
    assert_int_equal(b.status, BASKETS_STATUS_UNKNOWN);
    baskets_basket_release(NULL); /* no-op */
}

static void start_rejects_blank_and_long_ids(void **state)
{
    (void)state;
    char longid[BASKETS_ID_MAX + 2];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    struct baskets_basket b = BASKETS_BASKET_INIT;
    assert_err(baskets_basket_start(&b, "", "c-1", xerr), CORE_ERR_INVALID, "the basket id cannot be blank");
    assert_err(baskets_basket_start(&b, NULL, "c-1", xerr), CORE_ERR_INVALID, "the basket id cannot be blank");
    assert_err(baskets_basket_start(&b, "b-1", "", xerr), CORE_ERR_INVALID, "the customer id cannot be blank");
    assert_err(baskets_basket_start(&b, "b-1", "  ", xerr), CORE_ERR_INVALID, "the customer id cannot be blank");
    assert_err(baskets_basket_start(&b, "", "", xerr), CORE_ERR_INVALID, "the basket id cannot be blank");
    assert_err(baskets_basket_start(&b, longid, "c-1", xerr), CORE_ERR_INVALID, "the basket id is too long");
    assert_err(baskets_basket_start(&b, "b-1", longid, xerr), CORE_ERR_INVALID, "the customer id is too long");
    assert_int_equal(b.status, BASKETS_STATUS_UNKNOWN); /* nothing was started */
    assert_string_equal(b.id, "");
}

/* ---- cancel ------------------------------------------------------------------------------------ */

static void cancel_open_basket_drops_items(void **state)
{
    (void)state;
    struct baskets_basket b;
    struct catalog_entry e = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
    start_open(&b);
    add(&b, &e, 2);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_basket_cancel(&b, &err), CORE_OK);
    assert_int_equal(b.status, BASKETS_STATUS_CANCELLED);
    assert_int_equal(b.nitems, 0);
    assert_null(baskets_basket_find_item(&b, "p-1"));
    baskets_basket_release(&b);
}

static void cancel_only_from_open(void **state)
{
    (void)state;
    struct baskets_basket b;
    struct catalog_entry e = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
    start_open(&b);
    core_err ok = CORE_ERR_INIT;
    assert_int_equal(baskets_basket_cancel(&b, &ok), CORE_OK);
    assert_err(baskets_basket_cancel(&b, xerr), CORE_ERR_INVALID, "the basket cannot be cancelled");
    assert_int_equal(b.status, BASKETS_STATUS_CANCELLED);
    baskets_basket_release(&b);

    start_open(&b);
    add(&b, &e, 1);
    assert_int_equal(baskets_basket_checkout(&b, "pay-1", &ok), CORE_OK);
    assert_err(baskets_basket_cancel(&b, xerr), CORE_ERR_INVALID, "the basket cannot be cancelled");
    assert_int_equal(b.status, BASKETS_STATUS_CHECKED_OUT);
    assert_int_equal(b.nitems, 1);
    baskets_basket_release(&b);

    struct baskets_basket never = BASKETS_BASKET_INIT; /* never started */
    assert_err(baskets_basket_cancel(&never, xerr), CORE_ERR_INVALID, "the basket cannot be cancelled");
}

/* ---- checkout ---------------------------------------------------------------------------------- */

static void checkout_records_payment(void **state)
{
    (void)state;
    struct baskets_basket b;
    struct catalog_entry e = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
    start_open(&b);
    add(&b, &e, 3);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_basket_checkout(&b, "pay-1", &err), CORE_OK);
    assert_int_equal(b.status, BASKETS_STATUS_CHECKED_OUT);
    assert_string_equal(b.payment_id, "pay-1");
    assert_int_equal(b.nitems, 1);
    assert_int_equal(b.items[0].quantity, 3);
    baskets_basket_release(&b);
}

static void checkout_rules_in_the_books_order(void **state)
{
    (void)state;
    char longid[BASKETS_ID_MAX + 2];
    memset(longid, 'p', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    struct baskets_basket b;
    struct catalog_entry e = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);

    start_open(&b);
    /* empty basket: items are checked before the payment id */
    assert_err(baskets_basket_checkout(&b, "", xerr), CORE_ERR_INVALID, "the basket has no items");
    assert_err(baskets_basket_checkout(&b, "pay-1", xerr), CORE_ERR_INVALID, "the basket has no items");
    add(&b, &e, 1);
    assert_err(baskets_basket_checkout(&b, "", xerr), CORE_ERR_INVALID, "the payment id cannot be blank");
    assert_err(baskets_basket_checkout(&b, NULL, xerr), CORE_ERR_INVALID, "the payment id cannot be blank");
    assert_err(baskets_basket_checkout(&b, longid, xerr), CORE_ERR_INVALID, "the payment id is too long");
    assert_int_equal(b.status, BASKETS_STATUS_OPEN); /* failed checkouts change nothing */
    assert_string_equal(b.payment_id, "");
    core_err ok = CORE_ERR_INIT;
    assert_int_equal(baskets_basket_checkout(&b, "pay-1", &ok), CORE_OK);
    /* a checked-out basket cannot be checked out again */
    assert_err(baskets_basket_checkout(&b, "pay-2", xerr), CORE_ERR_INVALID, "the basket cannot be modified");
    assert_string_equal(b.payment_id, "pay-1");
    baskets_basket_release(&b);

    /* a cancelled basket: state is checked first, before items */
    start_open(&b);
    assert_int_equal(baskets_basket_cancel(&b, &ok), CORE_OK);
    assert_err(baskets_basket_checkout(&b, "pay-1", xerr), CORE_ERR_INVALID, "the basket cannot be modified");
    baskets_basket_release(&b);
}

/* ---- add item ---------------------------------------------------------------------------------- */

static void add_item_copies_product_and_store(void **state)
{
    (void)state;
    char store_name[] = "Waldorf Books";
    char product_name[] = "EDA with Golang";
    struct catalog_entry e = entry("s-1", store_name, "p-1", product_name, 49.99);
    struct baskets_basket b;
    start_open(&b);
    add(&b, &e, 10);
    store_name[0] = 'X'; /* the basket holds copies */
    product_name[0] = 'X';
    assert_int_equal(b.nitems, 1);
    const struct baskets_item *it = baskets_basket_find_item(&b, "p-1");
    assert_non_null(it);
    assert_string_equal(it->store_id, "s-1");
    assert_string_equal(it->product_id, "p-1");
    assert_string_equal(it->store_name, "Waldorf Books");
    assert_string_equal(it->product_name, "EDA with Golang");
    assert_true(it->product_price == 49.99);
    assert_int_equal(it->quantity, 10);
    assert_null(baskets_basket_find_item(&b, "p-2"));
    baskets_basket_release(&b);
}

static void add_same_product_raises_quantity(void **state)
{
    (void)state;
    struct catalog_entry e = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
    struct baskets_basket b;
    start_open(&b);
    add(&b, &e, 2);
    add(&b, &e, 3);
    assert_int_equal(b.nitems, 1);
    assert_int_equal(b.items[0].quantity, 5);
    baskets_basket_release(&b);
}

static void add_keeps_lines_sorted(void **state)
{
    (void)state;
    struct catalog_entry b_a = entry("s-b", "B store", "p-1", "a product", 1.0);
    struct catalog_entry a_z = entry("s-a", "A store", "p-2", "z product", 2.0);
    struct catalog_entry a_b = entry("s-a", "A store", "p-3", "b product", 3.0);
    struct catalog_entry c_a = entry("s-c", "C store", "p-4", "a product", 4.0);
    struct baskets_basket b;
    start_open(&b);
    add(&b, &b_a, 1);
    add(&b, &a_z, 1);
    add(&b, &c_a, 1);
    add(&b, &a_b, 1);
    assert_int_equal(b.nitems, 4);
    assert_string_equal(b.items[0].product_id, "p-3"); /* A store, b product */
    assert_string_equal(b.items[1].product_id, "p-2"); /* A store, z product */
    assert_string_equal(b.items[2].product_id, "p-1"); /* B store */
    assert_string_equal(b.items[3].product_id, "p-4"); /* C store */
    baskets_basket_release(&b);
}

static void add_item_rules(void **state)
{
    (void)state;
    struct catalog_entry e = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
    struct baskets_basket b;
    start_open(&b);
    assert_err(baskets_basket_add_item(&b, &e.store, &e.product, -1, xerr), CORE_ERR_INVALID,
               "the item quantity cannot be negative");
    assert_err(baskets_basket_add_item(&b, &e.store, &e.product, 0, xerr), CORE_ERR_INVALID,
               "the item quantity cannot be zero");
    assert_int_equal(b.nitems, 0);
    add(&b, &e, INT32_MAX - 1);
    assert_err(baskets_basket_add_item(&b, &e.store, &e.product, 2, xerr), CORE_ERR_INVALID,
               "the item quantity is too large");
    assert_int_equal(b.items[0].quantity, INT32_MAX - 1);
    add(&b, &e, 1);
    assert_int_equal(b.items[0].quantity, INT32_MAX);
    core_err ok = CORE_ERR_INIT;
    assert_int_equal(baskets_basket_cancel(&b, &ok), CORE_OK);
    assert_err(baskets_basket_add_item(&b, &e.store, &e.product, 1, xerr), CORE_ERR_INVALID,
               "the basket cannot be modified");
    /* a closed basket reports its state even for a bad quantity */
    assert_err(baskets_basket_add_item(&b, &e.store, &e.product, -5, xerr), CORE_ERR_INVALID,
               "the basket cannot be modified");
    assert_int_equal(b.nitems, 0);
    baskets_basket_release(&b);
}

/* ---- remove item ------------------------------------------------------------------------------- */

static void remove_takes_one_of_two(void **state)
{
    (void)state;
    struct catalog_entry e = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
    struct baskets_basket b;
    core_err err = CORE_ERR_INIT;
    start_open(&b);
    add(&b, &e, 2);
    /* spec 5: 2 of a product, remove 1 -> 1 left (the book would drop the line) */
    assert_int_equal(baskets_basket_remove_item(&b, "p-1", 1, &err), CORE_OK);
    assert_int_equal(b.nitems, 1);
    assert_int_equal(b.items[0].quantity, 1);
    /* reaching 0 removes the line */
    assert_int_equal(baskets_basket_remove_item(&b, "p-1", 1, &err), CORE_OK);
    assert_int_equal(b.nitems, 0);
    assert_null(baskets_basket_find_item(&b, "p-1"));
    baskets_basket_release(&b);
}

static void remove_more_than_held_and_middle_line(void **state)
{
    (void)state;
    struct catalog_entry e1 = entry("s-1", "A", "p-1", "one", 1.0);
    struct catalog_entry e2 = entry("s-1", "A", "p-2", "two", 2.0);
    struct catalog_entry e3 = entry("s-1", "A", "p-3", "three", 3.0);
    struct baskets_basket b;
    core_err err = CORE_ERR_INIT;
    start_open(&b);
    add(&b, &e1, 1);
    add(&b, &e2, 5);
    add(&b, &e3, 1);
    assert_int_equal(b.nitems, 3);
    /* sorted: one, three, two; take all of "two" (the last) and more */
    assert_int_equal(baskets_basket_remove_item(&b, "p-2", 9, &err), CORE_OK);
    assert_int_equal(b.nitems, 2);
    /* the first line */
    assert_int_equal(baskets_basket_remove_item(&b, "p-1", 1, &err), CORE_OK);
    assert_int_equal(b.nitems, 1);
    assert_string_equal(b.items[0].product_id, "p-3");
    assert_string_equal(b.items[0].product_name, "three");
    baskets_basket_release(&b);
}

static void remove_unknown_product_changes_nothing(void **state)
{
    (void)state;
    struct catalog_entry e = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
    struct baskets_basket b;
    core_err err = CORE_ERR_INIT;
    start_open(&b);
    add(&b, &e, 2);
    assert_int_equal(baskets_basket_remove_item(&b, "p-404", 1, &err), CORE_OK);
    assert_int_equal(b.nitems, 1);
    assert_int_equal(b.items[0].quantity, 2);
    baskets_basket_release(&b);
}

static void remove_item_rules(void **state)
{
    (void)state;
    struct catalog_entry e = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
    struct baskets_basket b;
    start_open(&b);
    add(&b, &e, 2);
    assert_err(baskets_basket_remove_item(&b, "p-1", -1, xerr), CORE_ERR_INVALID,
               "the item quantity cannot be negative");
    assert_err(baskets_basket_remove_item(&b, "p-1", 0, xerr), CORE_ERR_INVALID, "the item quantity cannot be zero");
    assert_int_equal(b.items[0].quantity, 2);
    core_err ok = CORE_ERR_INIT;
    assert_int_equal(baskets_basket_checkout(&b, "pay-1", &ok), CORE_OK);
    assert_err(baskets_basket_remove_item(&b, "p-1", 1, xerr), CORE_ERR_INVALID, "the basket cannot be modified");
    assert_int_equal(b.items[0].quantity, 2);
    baskets_basket_release(&b);
}

/* ---- copy, push and out of memory --------------------------------------------------------------- */

static void copy_is_deep(void **state)
{
    (void)state;
    struct catalog_entry e1 = entry("s-1", "A", "p-1", "one", 1.5);
    struct catalog_entry e2 = entry("s-2", "B", "p-2", "two", 2.5);
    struct baskets_basket b, c;
    core_err err = CORE_ERR_INIT;
    start_open(&b);
    add(&b, &e1, 1);
    add(&b, &e2, 4);
    assert_int_equal(baskets_basket_copy(&c, &b, &err), CORE_OK);
    baskets_basket_release(&b); /* the copy must not share anything */
    assert_string_equal(c.id, "b-1");
    assert_string_equal(c.customer_id, "c-1");
    assert_int_equal(c.status, BASKETS_STATUS_OPEN);
    assert_int_equal(c.nitems, 2);
    assert_string_equal(c.items[1].store_name, "B");
    assert_string_equal(c.items[1].product_name, "two");
    assert_true(c.items[1].product_price == 2.5);
    assert_int_equal(c.items[1].quantity, 4);
    baskets_basket_release(&c);
}

static void push_item_appends_as_is(void **state)
{
    (void)state;
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_err err = CORE_ERR_INIT;
    struct baskets_item z = {"s-9", "p-9", "Z", "zz", 9.0, 7};
    struct baskets_item a = {"s-1", "p-1", "A", "aa", 1.0, 1};
    assert_int_equal(baskets_basket_push_item(&b, &z, &err), CORE_OK);
    assert_int_equal(baskets_basket_push_item(&b, &a, &err), CORE_OK);
    assert_int_equal(b.nitems, 2);
    assert_string_equal(b.items[0].product_id, "p-9"); /* not sorted, not merged */
    assert_int_equal(b.items[0].quantity, 7);
    for (int i = 0; i < 10; i++) /* grows past the first capacity */
        assert_int_equal(baskets_basket_push_item(&b, &a, &err), CORE_OK);
    assert_int_equal(b.nitems, 12);
    baskets_basket_release(&b);
    assert_int_equal(b.nitems, 0);
    assert_null(b.items);
}

static void release_helpers(void **state)
{
    (void)state;
    struct baskets_store s = {core_strdup("s"), core_strdup("n"), core_strdup("l")};
    struct baskets_product p = {core_strdup("p"), core_strdup("s"), core_strdup("n"), 1.0};
    baskets_store_release(&s);
    baskets_product_release(&p);
    assert_null(s.id);
    assert_null(p.name);
    baskets_store_release(&s); /* twice is fine */
    baskets_store_release(NULL);
    baskets_product_release(NULL);
}

/* Every allocation of add_item may fail: the result is NOMEM with the basket as it was, or OK. */
static void add_item_out_of_memory(void **state)
{
    (void)state;
    struct catalog_entry e1 = entry("s-1", "A", "p-1", "one", 1.0);
    struct catalog_entry e2 = entry("s-2", "B", "p-2", "two", 2.0);
    int failures = 0;
    for (long n = 0; n < 20; n++) {
        struct baskets_basket b;
        start_open(&b);
        for (int i = 0; i < 3; i++) { /* with e1: 4 lines, the first capacity, so add_item must grow */
            struct baskets_item it = {"s-0", "p-x", "0", "x", 1.0, 1};
            core_err err = CORE_ERR_INIT;
            it.product_id = i == 0 ? "p-a" : i == 1 ? "p-b" : "p-c";
            assert_int_equal(baskets_basket_push_item(&b, &it, &err), CORE_OK);
        }
        add(&b, &e1, 1);
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = baskets_basket_add_item(&b, &e2.store, &e2.product, 2, &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK) {
            assert_int_equal(b.nitems, 5);
            assert_non_null(baskets_basket_find_item(&b, "p-2"));
        } else {
            failures++;
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_true(strncmp(err.msg, "out of memory", 13) == 0); /* the line or its event */
            assert_int_equal(b.nitems, 4);
            assert_int_equal(b.agg.base.events.n, 2); /* BasketStarted and e1's BasketItemAdded only */
            assert_null(baskets_basket_find_item(&b, "p-2"));
        }
        baskets_basket_release(&b);
    }
    assert_true(failures >= 5); /* the realloc and the four strings */
}

static void copy_out_of_memory(void **state)
{
    (void)state;
    struct catalog_entry e1 = entry("s-1", "A", "p-1", "one", 1.0);
    struct catalog_entry e2 = entry("s-2", "B", "p-2", "two", 2.0);
    struct baskets_basket b;
    start_open(&b);
    add(&b, &e1, 1);
    add(&b, &e2, 1);
    int failures = 0;
    for (long n = 0; n < 12; n++) {
        struct baskets_basket c;
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = baskets_basket_copy(&c, &b, &err);
        core_alloc_fail_after(-1);
        if (st) {
            failures++;
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_int_equal(c.nitems, 0);
            assert_null(c.items);
            assert_string_equal(c.id, "");
        } else {
            assert_int_equal(c.nitems, 2);
        }
        baskets_basket_release(&c);
    }
    assert_true(failures > 0);
    baskets_basket_release(&b);
}

/* ---- domain events (chapter 04) ---------------------------------------------------------------- */

/* The i-th recorded event of b, checked to be named name, of the aggregate b-1, with a payload of
 * type desc. Borrowed from b. */
static const ProtobufCMessage *event_at(const struct baskets_basket *b, size_t i, const char *name,
                                        const ProtobufCMessageDescriptor *desc)
{
    assert_true(i < b->agg.base.events.n);
    const ddd_event *ev = b->agg.base.events.items[i];
    assert_string_equal(ddd_event_name(ev), name);
    assert_string_equal(ddd_event_metadata(ev, "aggregate-id"), "b-1");
    assert_string_equal(ddd_event_metadata(ev, "aggregate-name"), "baskets.Basket");
    assert_true(ddd_event_payload_is(ev, desc));
    return ddd_event_payload(ev);
}

static void start_records_basket_started(void **state)
{
    (void)state;
    struct baskets_basket b;
    start_open(&b);
    assert_int_equal(b.agg.base.events.n, 1);
    const Baskets__Domain__BasketStarted *m = (const void *)event_at(
        &b, 0, "baskets.BasketStarted", &baskets__domain__basket_started__descriptor);
    assert_string_equal(m->customer_id, "c-1");
    assert_string_equal(b.agg.base.id, "b-1");
    baskets_basket_release(&b); /* frees the event (the leak check says so) */
    assert_int_equal(b.agg.base.events.n, 0);
    assert_string_equal(b.agg.base.name, BASKETS_AGGREGATE);
}

static void add_item_records_the_quantity_added(void **state)
{
    (void)state;
    struct baskets_basket b;
    struct catalog_entry e = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
    start_open(&b);
    add(&b, &e, 2);
    add(&b, &e, 3); /* raises the line to 5; the event says 3 */
    assert_int_equal(b.agg.base.events.n, 3);
    for (size_t i = 1; i < 3; i++) {
        const Baskets__Domain__BasketItemAdded *m = (const void *)event_at(
            &b, i, "baskets.BasketItemAdded", &baskets__domain__basket_item_added__descriptor);
        assert_non_null(m->item);
        assert_string_equal(m->item->store_id, "s-1");
        assert_string_equal(m->item->product_id, "p-1");
        assert_string_equal(m->item->store_name, "Waldorf Books");
        assert_string_equal(m->item->product_name, "EDA with Golang");
        assert_true(m->item->product_price == 49.99);
        assert_int_equal(m->item->quantity, i == 1 ? 2 : 3);
    }
    assert_int_equal(b.items[0].quantity, 5);
    baskets_basket_release(&b);
}

static void remove_item_records_only_known_products(void **state)
{
    (void)state;
    struct baskets_basket b;
    struct catalog_entry e = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
    start_open(&b);
    add(&b, &e, 2);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_basket_remove_item(&b, "p-404", 1, &err), CORE_OK);
    assert_int_equal(b.agg.base.events.n, 2); /* nothing happened, nothing recorded */
    assert_int_equal(baskets_basket_remove_item(&b, "p-1", 5, &err), CORE_OK); /* more than held */
    assert_int_equal(b.agg.base.events.n, 3);
    const Baskets__Domain__BasketItemRemoved *m = (const void *)event_at(
        &b, 2, "baskets.BasketItemRemoved", &baskets__domain__basket_item_removed__descriptor);
    assert_string_equal(m->product_id, "p-1");
    assert_int_equal(m->quantity, 5); /* the quantity asked for, as the book */
    assert_int_equal(b.nitems, 0);
    baskets_basket_release(&b);
}

static void cancel_records_basket_canceled(void **state)
{
    (void)state;
    struct baskets_basket b;
    start_open(&b);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_basket_cancel(&b, &err), CORE_OK);
    assert_int_equal(b.agg.base.events.n, 2);
    assert_non_null(event_at(&b, 1, "baskets.BasketCanceled", &baskets__domain__basket_canceled__descriptor));
    baskets_basket_release(&b);
}

static void checkout_records_everything_ordering_needs(void **state)
{
    (void)state;
    struct baskets_basket b;
    struct catalog_entry e1 = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
    struct catalog_entry e2 = entry("s-2", "Crystals", "p-2", "Wizard w/ crystal", 9.99);
    start_open(&b);
    add(&b, &e2, 1);
    add(&b, &e1, 4);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_basket_checkout(&b, "pay-1", &err), CORE_OK);
    assert_int_equal(b.agg.base.events.n, 4);
    const Baskets__Domain__BasketCheckedOut *m = (const void *)event_at(
        &b, 3, "baskets.BasketCheckedOut", &baskets__domain__basket_checked_out__descriptor);
    assert_string_equal(m->customer_id, "c-1");
    assert_string_equal(m->payment_id, "pay-1");
    assert_int_equal(m->n_items, 2);
    for (size_t i = 0; i < 2; i++) { /* the basket's lines, in the basket's order, totals */
        assert_string_equal(m->items[i]->product_id, b.items[i].product_id);
        assert_string_equal(m->items[i]->store_id, b.items[i].store_id);
        assert_string_equal(m->items[i]->store_name, b.items[i].store_name);
        assert_string_equal(m->items[i]->product_name, b.items[i].product_name);
        assert_true(m->items[i]->product_price == b.items[i].product_price);
        assert_int_equal(m->items[i]->quantity, b.items[i].quantity);
    }
    assert_string_equal(m->items[0]->product_id, "p-2"); /* "Crystals" sorts before "Waldorf Books" */
    assert_int_equal(m->items[1]->quantity, 4);
    baskets_basket_release(&b);
}

/* A failing rule records nothing (and leaves the earlier events alone). */
static void failing_rules_record_nothing(void **state)
{
    (void)state;
    struct baskets_basket b = BASKETS_BASKET_INIT;
    struct catalog_entry e = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_basket_start(&b, "", "c-1", &err), CORE_ERR_INVALID);
    assert_int_equal(b.agg.base.events.n, 0);
    start_open(&b);
    assert_int_equal(baskets_basket_checkout(&b, "pay-1", &err), CORE_ERR_INVALID); /* no items */
    assert_int_equal(baskets_basket_add_item(&b, &e.store, &e.product, 0, &err), CORE_ERR_INVALID);
    assert_int_equal(baskets_basket_remove_item(&b, "p-1", -1, &err), CORE_ERR_INVALID);
    add(&b, &e, 1);
    assert_int_equal(baskets_basket_checkout(&b, "", &err), CORE_ERR_INVALID);
    assert_int_equal(b.agg.base.events.n, 2);
    assert_int_equal(baskets_basket_cancel(&b, &err), CORE_OK);
    assert_int_equal(baskets_basket_cancel(&b, &err), CORE_ERR_INVALID);
    assert_int_equal(baskets_basket_add_item(&b, &e.store, &e.product, 1, &err), CORE_ERR_INVALID);
    assert_int_equal(b.agg.base.events.n, 3);
    baskets_basket_release(&b);
}

/* A basket rebuilt by a repository (ids written directly, lines pushed) has no events; its first
 * event takes the aggregate id from b->id. A copy carries no events. */
static void loaded_baskets_record_under_their_id(void **state)
{
    (void)state;
    struct baskets_basket b = BASKETS_BASKET_INIT, c;
    struct baskets_item it = {"s-1", "p-1", "Waldorf Books", "EDA with Golang", 49.99, 2};
    core_err err = CORE_ERR_INIT;
    core_strlcpy(b.id, "b-1", sizeof b.id);
    core_strlcpy(b.customer_id, "c-1", sizeof b.customer_id);
    b.status = BASKETS_STATUS_OPEN;
    assert_int_equal(baskets_basket_push_item(&b, &it, &err), CORE_OK);
    assert_int_equal(b.agg.base.events.n, 0);
    assert_int_equal(baskets_basket_remove_item(&b, "p-1", 1, &err), CORE_OK);
    assert_non_null(event_at(&b, 0, "baskets.BasketItemRemoved", &baskets__domain__basket_item_removed__descriptor));
    assert_int_equal(baskets_basket_copy(&c, &b, &err), CORE_OK);
    assert_int_equal(c.agg.base.events.n, 0);
    assert_string_equal(c.agg.base.name, "baskets.Basket");
    baskets_basket_release(&c);
    baskets_basket_release(&b);
}

/* Out of memory while checking out: NOMEM with the basket open and no event, or OK with both. */
static void checkout_out_of_memory(void **state)
{
    (void)state;
    struct catalog_entry e1 = entry("s-1", "A", "p-1", "one", 1.0);
    struct catalog_entry e2 = entry("s-2", "B", "p-2", "two", 2.0);
    int failures = 0;
    for (long n = 0; n < 40; n++) {
        struct baskets_basket b;
        start_open(&b);
        add(&b, &e1, 1);
        add(&b, &e2, 2);
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = baskets_basket_checkout(&b, "pay-1", &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK) {
            assert_int_equal(b.status, BASKETS_STATUS_CHECKED_OUT);
            assert_int_equal(b.agg.base.events.n, 4);
        } else {
            failures++;
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_int_equal(b.status, BASKETS_STATUS_OPEN);
            assert_string_equal(b.payment_id, "");
            assert_int_equal(b.agg.base.events.n, 3);
        }
        baskets_basket_release(&b);
    }
    assert_true(failures >= 10); /* the message, two strings, the array, two lines of 5, the event */
}

/* ---- event sourcing (chapter 05) ---------------------------------------------------------------- */

/* a and b hold the same basket: ids, status and lines (in order). */
static void assert_same_basket(const struct baskets_basket *a, const struct baskets_basket *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->customer_id, b->customer_id);
    assert_string_equal(a->payment_id, b->payment_id);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->nitems, b->nitems);
    for (size_t i = 0; i < a->nitems; i++) {
        assert_string_equal(a->items[i].store_id, b->items[i].store_id);
        assert_string_equal(a->items[i].product_id, b->items[i].product_id);
        assert_string_equal(a->items[i].store_name, b->items[i].store_name);
        assert_string_equal(a->items[i].product_name, b->items[i].product_name);
        assert_true(a->items[i].product_price == b->items[i].product_price);
        assert_int_equal(a->items[i].quantity, b->items[i].quantity);
    }
}

/* Applies every event b raised, in order, to the empty basket *out (whose aggregate id is set
 * first, as es_repo_load does). */
static void replay(const struct baskets_basket *b, struct baskets_basket *out)
{
    core_err err = CORE_ERR_INIT;
    baskets_basket_init(out);
    assert_int_equal(ddd_aggregate_set_id(&out->agg.base, b->agg.base.id, &err), CORE_OK);
    for (size_t i = 0; i < b->agg.base.events.n; i++)
        assert_int_equal(baskets_basket_type.apply(out, b->agg.base.events.items[i], &err), CORE_OK);
}

/* A basket that went through every kind of change: two stores, a line raised, one lowered. */
static void busy_basket(struct baskets_basket *b)
{
    struct catalog_entry e1 = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
    struct catalog_entry e2 = entry("s-2", "Crystals", "p-2", "Wizard w/ crystal", 9.99);
    struct catalog_entry e3 = entry("s-2", "Crystals", "p-3", "Amethyst", 4.5);
    core_err err = CORE_ERR_INIT;
    start_open(b);
    add(b, &e1, 2);
    add(b, &e2, 3);
    add(b, &e3, 1);
    add(b, &e1, 1);                                                           /* 3 of p-1 */
    assert_int_equal(baskets_basket_remove_item(b, "p-2", 2, &err), CORE_OK); /* 1 of p-2 */
    assert_int_equal(baskets_basket_remove_item(b, "p-3", 1, &err), CORE_OK); /* p-3 gone */
}

static void raised_events_carry_their_version(void **state)
{
    (void)state;
    struct baskets_basket b;
    busy_basket(&b);
    assert_int_equal(b.agg.base.events.n, 7);
    for (size_t i = 0; i < b.agg.base.events.n; i++) {
        char want[24];
        snprintf(want, sizeof want, "%zu", i + 1);
        assert_string_equal(ddd_event_metadata(b.agg.base.events.items[i], "aggregate-version"), want);
    }
    assert_int_equal(es_aggregate_version(&b.agg), 0); /* nothing saved yet */
    assert_int_equal(es_aggregate_pending_version(&b.agg), 7);
    baskets_basket_release(&b);
}

/* Raise -> state: the same apply rebuilds that state from the events alone. */
static void applying_the_events_rebuilds_the_basket(void **state)
{
    (void)state;
    struct baskets_basket b, copy;
    core_err err = CORE_ERR_INIT;
    busy_basket(&b);
    assert_int_equal(b.nitems, 2);
    replay(&b, &copy);
    assert_same_basket(&copy, &b);
    assert_int_equal(copy.agg.base.events.n, 0); /* applying records nothing */
    baskets_basket_release(&copy);

    assert_int_equal(baskets_basket_checkout(&b, "pay-1", &err), CORE_OK);
    replay(&b, &copy);
    assert_same_basket(&copy, &b);
    assert_string_equal(copy.payment_id, "pay-1");
    assert_int_equal(copy.status, BASKETS_STATUS_CHECKED_OUT);
    assert_int_equal(copy.nitems, 2); /* the lines stay with the checked-out basket */
    baskets_basket_release(&copy);
    baskets_basket_release(&b);

    busy_basket(&b);
    assert_int_equal(baskets_basket_cancel(&b, &err), CORE_OK);
    replay(&b, &copy);
    assert_same_basket(&copy, &b);
    assert_int_equal(copy.status, BASKETS_STATUS_CANCELLED);
    assert_int_equal(copy.nitems, 0);
    baskets_basket_release(&copy);
    baskets_basket_release(&b);
}

/* An event made by hand: name, payload (taken), and the basket id as the aggregate's. */
static ddd_event *event_of(const char *name, ProtobufCMessage *payload)
{
    ddd_event *ev = NULL;
    core_err err = CORE_ERR_INIT;
    assert_non_null(payload);
    assert_int_equal(ddd_event_new(&ev, name, &payload, &err), CORE_OK);
    return ev;
}

/* Unknown names, payloads of another type and impossible data are programming errors: INTERNAL,
 * and the basket stays as it was. */
static void apply_refuses_what_does_not_fit(void **state)
{
    (void)state;
    struct baskets_basket b, before;
    core_err err = CORE_ERR_INIT;
    busy_basket(&b);
    replay(&b, &before);

    ddd_event *bad[6];
    bad[0] = event_of("baskets.BasketRenamed", pb_new(&baskets__domain__basket_canceled__descriptor));
    bad[1] = event_of(BASKETS_BASKET_STARTED, pb_new(&baskets__domain__basket_canceled__descriptor));
    bad[2] = event_of(BASKETS_BASKET_ITEM_ADDED, pb_new(&baskets__domain__basket_item_added__descriptor));
    Baskets__Domain__BasketItemRemoved *removed = pb_new_of(baskets__domain__basket_item_removed);
    assert_int_equal(pb_set_string(&removed->product_id, "p-1", NULL), CORE_OK);
    removed->quantity = 0;
    bad[3] = event_of(BASKETS_BASKET_ITEM_REMOVED, &removed->base);
    Baskets__Domain__BasketCheckedOut *out = pb_new_of(baskets__domain__basket_checked_out);
    char long_id[BASKETS_ID_MAX + 2];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(pb_set_string(&out->payment_id, long_id, NULL), CORE_OK);
    bad[4] = event_of(BASKETS_BASKET_CHECKED_OUT, &out->base);
    bad[5] = NULL;
    assert_int_equal(ddd_event_new(&bad[5], BASKETS_BASKET_CANCELED, &(ProtobufCMessage *){NULL}, &err), CORE_OK);
    for (size_t i = 0; i < 6; i++) {
        core_err e = CORE_ERR_INIT;
        assert_int_equal(baskets_basket_type.apply(&b, bad[i], &e), CORE_ERR_INTERNAL);
        assert_int_equal(e.status, CORE_ERR_INTERNAL);
        assert_non_null(strstr(e.msg, "baskets.Basket b-1"));
        assert_same_basket(&b, &before);
        ddd_event_free(bad[i]);
    }
    baskets_basket_release(&before);
    baskets_basket_release(&b);
}

/* to_snapshot then from_snapshot gives the same basket, in each status. */
static void snapshot_round_trip(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_string_equal(baskets_basket_type.name, "baskets.Basket");
    assert_string_equal(baskets_basket_type.snapshot_name, "baskets.BasketV1");
    for (int variant = 0; variant < 4; variant++) {
        struct baskets_basket b, copy = BASKETS_BASKET_INIT;
        if (variant == 3) {
            start_open(&b); /* open, no lines */
        } else {
            busy_basket(&b);
            if (variant == 1)
                assert_int_equal(baskets_basket_checkout(&b, "pay-1", &err), CORE_OK);
            if (variant == 2)
                assert_int_equal(baskets_basket_cancel(&b, &err), CORE_OK);
        }
        ProtobufCMessage *snap = NULL;
        assert_int_equal(baskets_basket_type.to_snapshot(&b, &snap, &err), CORE_OK);
        assert_true(snap->descriptor == &baskets__domain__basket_v1__descriptor);
        const Baskets__Domain__BasketV1 *m = (const void *)snap;
        assert_string_equal(m->status, baskets_status_text(b.status));
        assert_int_equal(m->n_items, b.nitems);
        assert_int_equal(ddd_aggregate_set_id(&copy.agg.base, "b-1", &err), CORE_OK);
        assert_int_equal(baskets_basket_type.from_snapshot(&copy, snap, &err), CORE_OK);
        assert_same_basket(&copy, &b);
        /* events applied after the snapshot go on from there */
        if (copy.status == BASKETS_STATUS_OPEN) {
            struct catalog_entry e = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
            add(&copy, &e, 1);
            add(&b, &e, 1);
            assert_same_basket(&copy, &b);
        }
        pb_free(snap);
        baskets_basket_release(&copy);
        baskets_basket_release(&b);
    }
}

/* A snapshot that does not fit (another type, an unknown status, a bad line) is INTERNAL and
 * changes nothing. */
static void from_snapshot_refuses_what_does_not_fit(void **state)
{
    (void)state;
    struct baskets_basket b, before;
    core_err err = CORE_ERR_INIT;
    busy_basket(&b);
    replay(&b, &before);

    ProtobufCMessage *other = pb_new(&baskets__domain__basket_started__descriptor);
    Baskets__Domain__BasketV1 *bad_status = pb_new_of(baskets__domain__basket_v1);
    assert_int_equal(pb_set_string(&bad_status->status, "lost", NULL), CORE_OK);
    ProtobufCMessage *good = NULL;
    assert_int_equal(baskets_basket_type.to_snapshot(&b, &good, &err), CORE_OK);
    Baskets__Domain__BasketV1 *bad_line = (void *)good;
    bad_line->items[1]->quantity = 0;
    const ProtobufCMessage *snaps[] = {other, &bad_status->base, &bad_line->base, NULL};
    for (size_t i = 0; i < 4; i++) {
        core_err e = CORE_ERR_INIT;
        assert_int_equal(baskets_basket_type.from_snapshot(&b, snaps[i], &e), CORE_ERR_INTERNAL);
        assert_non_null(strstr(e.msg, "baskets.Basket b-1"));
        assert_same_basket(&b, &before);
    }
    pb_free(other);
    pb_free(&bad_status->base);
    pb_free(good);
    baskets_basket_release(&before);
    baskets_basket_release(&b);
}

/* Out of memory in to_snapshot or from_snapshot: NOMEM, nothing leaked, the basket as it was. */
static void snapshots_out_of_memory(void **state)
{
    (void)state;
    struct baskets_basket b, before;
    core_err err = CORE_ERR_INIT;
    busy_basket(&b);
    replay(&b, &before);
    ProtobufCMessage *good = NULL;
    assert_int_equal(baskets_basket_type.to_snapshot(&b, &good, &err), CORE_OK);
    int failures = 0;
    for (long n = 0; n < 40; n++) {
        ProtobufCMessage *snap = NULL;
        struct baskets_basket copy;
        replay(&b, &copy);
        core_alloc_fail_after(n);
        core_status st1 = baskets_basket_type.to_snapshot(&b, &snap, &err);
        core_status st2 = baskets_basket_type.from_snapshot(&copy, good, &err);
        core_alloc_fail_after(-1);
        assert_true(st1 == CORE_OK || st1 == CORE_ERR_NOMEM);
        assert_true(st2 == CORE_OK || st2 == CORE_ERR_NOMEM);
        failures += (st1 != CORE_OK) + (st2 != CORE_OK);
        if (st1 == CORE_OK)
            pb_free(snap);
        assert_same_basket(&copy, &b); /* from the snapshot of the same state, or untouched */
        baskets_basket_release(&copy);
    }
    assert_true(failures >= 10);
    assert_same_basket(&b, &before);
    pb_free(good);
    baskets_basket_release(&before);
    baskets_basket_release(&b);
}

static void register_types_names_every_event_and_the_snapshot(void **state)
{
    (void)state;
    es_registry *reg = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(es_registry_new(&reg, &err), CORE_OK);
    assert_int_equal(baskets_register_types(reg, &err), CORE_OK);
    assert_ptr_equal(es_registry_lookup(reg, "baskets.BasketStarted"), &baskets__domain__basket_started__descriptor);
    assert_ptr_equal(es_registry_lookup(reg, "baskets.BasketItemAdded"),
                     &baskets__domain__basket_item_added__descriptor);
    assert_ptr_equal(es_registry_lookup(reg, "baskets.BasketItemRemoved"),
                     &baskets__domain__basket_item_removed__descriptor);
    assert_ptr_equal(es_registry_lookup(reg, "baskets.BasketCanceled"), &baskets__domain__basket_canceled__descriptor);
    assert_ptr_equal(es_registry_lookup(reg, "baskets.BasketCheckedOut"),
                     &baskets__domain__basket_checked_out__descriptor);
    assert_ptr_equal(es_registry_lookup(reg, "baskets.BasketV1"), &baskets__domain__basket_v1__descriptor);
    assert_int_equal(baskets_register_types(reg, &err), CORE_ERR_CONFLICT); /* twice */
    es_registry_free(reg);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(status_texts_are_the_books),
        T(basket_id_check),
        T(start_opens_an_empty_basket),
        T(start_rejects_blank_and_long_ids),
        T(cancel_open_basket_drops_items),
        T(cancel_only_from_open),
        T(checkout_records_payment),
        T(checkout_rules_in_the_books_order),
        T(add_item_copies_product_and_store),
        T(add_same_product_raises_quantity),
        T(add_keeps_lines_sorted),
        T(add_item_rules),
        T(remove_takes_one_of_two),
        T(remove_more_than_held_and_middle_line),
        T(remove_unknown_product_changes_nothing),
        T(remove_item_rules),
        T(copy_is_deep),
        T(push_item_appends_as_is),
        T(release_helpers),
        T(add_item_out_of_memory),
        T(copy_out_of_memory),
        T(start_records_basket_started),
        T(add_item_records_the_quantity_added),
        T(remove_item_records_only_known_products),
        T(cancel_records_basket_canceled),
        T(checkout_records_everything_ordering_needs),
        T(failing_rules_record_nothing),
        T(loaded_baskets_record_under_their_id),
        T(checkout_out_of_memory),
        T(raised_events_carry_their_version),
        T(applying_the_events_rebuilds_the_basket),
        T(apply_refuses_what_does_not_fit),
        T(snapshot_round_trip),
        T(from_snapshot_refuses_what_does_not_fit),
        T(snapshots_out_of_memory),
        T(register_types_names_every_event_and_the_snapshot),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
