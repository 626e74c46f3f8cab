/* test_baskets_domain.c -- unit tests of baskets/domain.h: every rule and each of its error texts,
 * the item arithmetic (docs/ERRATA.md, D1: a line goes only when its quantity reaches 0), ordering
 * of the lines, deep copies, and out-of-memory paths. Every test checks that it leaked nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "baskets/domain.h"

/* ---- fixtures ----------------------------------------------------------------------------------
 */

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

static struct catalog_entry entry(char *store_id, char *store_name, char *product_id,
                                  char *product_name, double price)
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
#define assert_err(call, want_status, want_text)                                                   \
    do {                                                                                           \
        core_err xerr_ = CORE_ERR_INIT;                                                            \
        core_err *xerr = &xerr_;                                                                   \
        assert_int_equal((call), (want_status));                                                   \
        assert_int_equal(xerr_.status, (want_status));                                             \
        assert_string_equal(xerr_.msg, (want_text));                                               \
    } while (0)

/* ---- statuses and ids --------------------------------------------------------------------------
 */

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

/* ---- start -------------------------------------------------------------------------------------
 */

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
    assert_err(baskets_basket_start(&b, "", "c-1", xerr), CORE_ERR_INVALID,
               "the basket id cannot be blank");
    assert_err(baskets_basket_start(&b, NULL, "c-1", xerr), CORE_ERR_INVALID,
               "the basket id cannot be blank");
    assert_err(baskets_basket_start(&b, "b-1", "", xerr), CORE_ERR_INVALID,
               "the customer id cannot be blank");
    assert_err(baskets_basket_start(&b, "b-1", "  ", xerr), CORE_ERR_INVALID,
               "the customer id cannot be blank");
    assert_err(baskets_basket_start(&b, "", "", xerr), CORE_ERR_INVALID,
               "the basket id cannot be blank");
    assert_err(baskets_basket_start(&b, longid, "c-1", xerr), CORE_ERR_INVALID,
               "the basket id is too long");
    assert_err(baskets_basket_start(&b, "b-1", longid, xerr), CORE_ERR_INVALID,
               "the customer id is too long");
    assert_int_equal(b.status, BASKETS_STATUS_UNKNOWN); /* nothing was started */
    assert_string_equal(b.id, "");
}

/* ---- cancel ------------------------------------------------------------------------------------
 */

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
    assert_err(baskets_basket_cancel(&never, xerr), CORE_ERR_INVALID,
               "the basket cannot be cancelled");
}

/* ---- checkout ----------------------------------------------------------------------------------
 */

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
    assert_err(baskets_basket_checkout(&b, "pay-1", xerr), CORE_ERR_INVALID,
               "the basket has no items");
    add(&b, &e, 1);
    assert_err(baskets_basket_checkout(&b, "", xerr), CORE_ERR_INVALID,
               "the payment id cannot be blank");
    assert_err(baskets_basket_checkout(&b, NULL, xerr), CORE_ERR_INVALID,
               "the payment id cannot be blank");
    assert_err(baskets_basket_checkout(&b, longid, xerr), CORE_ERR_INVALID,
               "the payment id is too long");
    assert_int_equal(b.status, BASKETS_STATUS_OPEN); /* failed checkouts change nothing */
    assert_string_equal(b.payment_id, "");
    core_err ok = CORE_ERR_INIT;
    assert_int_equal(baskets_basket_checkout(&b, "pay-1", &ok), CORE_OK);
    /* a checked-out basket cannot be checked out again */
    assert_err(baskets_basket_checkout(&b, "pay-2", xerr), CORE_ERR_INVALID,
               "the basket cannot be modified");
    assert_string_equal(b.payment_id, "pay-1");
    baskets_basket_release(&b);

    /* a cancelled basket: state is checked first, before items */
    start_open(&b);
    assert_int_equal(baskets_basket_cancel(&b, &ok), CORE_OK);
    assert_err(baskets_basket_checkout(&b, "pay-1", xerr), CORE_ERR_INVALID,
               "the basket cannot be modified");
    baskets_basket_release(&b);
}

/* ---- add item ----------------------------------------------------------------------------------
 */

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

/* ---- remove item -------------------------------------------------------------------------------
 */

static void remove_takes_one_of_two(void **state)
{
    (void)state;
    struct catalog_entry e = entry("s-1", "Waldorf Books", "p-1", "EDA with Golang", 49.99);
    struct baskets_basket b;
    core_err err = CORE_ERR_INIT;
    start_open(&b);
    add(&b, &e, 2);
    /* docs/ERRATA.md, D1: 2 of a product, remove 1 -> 1 left (the book would drop the line) */
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
    assert_err(baskets_basket_remove_item(&b, "p-1", 0, xerr), CORE_ERR_INVALID,
               "the item quantity cannot be zero");
    assert_int_equal(b.items[0].quantity, 2);
    core_err ok = CORE_ERR_INIT;
    assert_int_equal(baskets_basket_checkout(&b, "pay-1", &ok), CORE_OK);
    assert_err(baskets_basket_remove_item(&b, "p-1", 1, xerr), CORE_ERR_INVALID,
               "the basket cannot be modified");
    assert_int_equal(b.items[0].quantity, 2);
    baskets_basket_release(&b);
}

/* ---- copy, push and out of memory ---------------------------------------------------------------
 */

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
        for (int i = 0; i < 7;
             i++) { /* with e1: 8 lines, the first capacity, so add_item must grow */
            struct baskets_item it = {"s-0", "p-x", "0", "x", 1.0, 1};
            core_err err = CORE_ERR_INIT;
            char id[] = "p-a";
            id[2] = (char)('a' + i);
            it.product_id = id;
            assert_int_equal(baskets_basket_push_item(&b, &it, &err), CORE_OK);
        }
        add(&b, &e1, 1);
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = baskets_basket_add_item(&b, &e2.store, &e2.product, 2, &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK) {
            assert_int_equal(b.nitems, 9);
            assert_non_null(baskets_basket_find_item(&b, "p-2"));
        } else {
            failures++;
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_string_equal(err.msg, "out of memory adding an item");
            assert_int_equal(b.nitems, 8);
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
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
