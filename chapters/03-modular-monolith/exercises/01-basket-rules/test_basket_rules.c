/* test_basket_rules.c -- exercise 03.1: the Basket's rules (baskets/domain.c).
 *
 * The tests are the to-do list of the exercise, in the order the README suggests: cancel and
 * checkout of an empty basket, add_item, remove_item, cancel and checkout of a basket with items,
 * then a whole visit to the kiosk. Each test name says the rule it checks. A failing check prints
 * the call, what it wanted and what your code returned.
 *
 * Every test also checks that it leaked nothing (core_alloc_live() is the same before and after).
 * No servers are needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "baskets/domain.h"

/* ---- checking results ------------------------------------------------------------------------ */

static void check_result(core_status got, const core_err *err, core_status want,
                         const char *want_msg, const char *call, const char *file, int line)
{
    if (want == CORE_OK && got == CORE_OK)
        return;
    if (want != CORE_OK && got == want && err->status == want && strcmp(err->msg, want_msg) == 0)
        return;
    print_error("%s\n", call);
    if (want == CORE_OK)
        print_error("    wanted: CORE_OK (no error)\n");
    else
        print_error("    wanted: error %s \"%s\"\n", core_status_name(want), want_msg);
    if (got == CORE_OK)
        print_error("    got:    CORE_OK\n");
    else
        print_error("    got:    error %s \"%s\"\n", core_status_name(got), err->msg);
    _fail(file, line);
}

/* expect_ok(call) / expect_rule(call, text): run call, which names its error argument `err`
 * (a fresh core_err for each call), and check the outcome. A broken rule is CORE_ERR_INVALID with
 * exactly `text`. */
#define expect_status(call, want, text)                                                            \
    do {                                                                                           \
        core_err err_ = CORE_ERR_INIT;                                                             \
        core_err *err = &err_;                                                                     \
        core_status got_ = (call);                                                                 \
        check_result(got_, err, (want), (text), #call, __FILE__, __LINE__);                        \
    } while (0)
#define expect_ok(call) expect_status(call, CORE_OK, NULL)
#define expect_rule(call, text) expect_status(call, CORE_ERR_INVALID, text)

/* ---- a small catalog ------------------------------------------------------------------------- */

/* A store and one of its products, as the stores module would describe them. The strings live in
 * arrays of the test, so a test can overwrite them to prove that the basket made copies. */
struct shelf {
    char store_id[16], store_name[32], product_id[16], product_name[32];
    struct baskets_store store;
    struct baskets_product product;
};

static void shelf_fill(struct shelf *s, const char *store_id, const char *store_name,
                       const char *product_id, const char *product_name, double price)
{
    memset(s, 0, sizeof *s);
    snprintf(s->store_id, sizeof s->store_id, "%s", store_id);
    snprintf(s->store_name, sizeof s->store_name, "%s", store_name);
    snprintf(s->product_id, sizeof s->product_id, "%s", product_id);
    snprintf(s->product_name, sizeof s->product_name, "%s", product_name);
    s->store.id = s->store_id;
    s->store.name = s->store_name;
    s->store.location = "Upper Level, East";
    s->product.id = s->product_id;
    s->product.store_id = s->store_id;
    s->product.name = s->product_name;
    s->product.price = price;
}

/* The mall of the tests: three stores, a few products. */
static struct shelf wizard, dragon, candle, cider, wizard_elsewhere;

/* The lines of b as text, "store name/product name xN, ...", for comparing whole baskets. */
static const char *lines(const struct baskets_basket *b)
{
    static char buf[1024];
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < b->nitems && used < sizeof buf; i++) {
        int n = snprintf(buf + used, sizeof buf - used, "%s%s/%s x%d", i ? ", " : "",
                         b->items[i].store_name, b->items[i].product_name, b->items[i].quantity);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

/* Asserts that lines(b) is want; prints both when not. */
#define expect_lines(b, want)                                                                      \
    do {                                                                                           \
        const char *got_ = lines(b);                                                               \
        if (strcmp(got_, (want)) != 0) {                                                           \
            print_error("basket lines\n    wanted: \"%s\"\n    got:    \"%s\"\n", (want), got_);   \
            _fail(__FILE__, __LINE__);                                                             \
        }                                                                                          \
    } while (0)

/* ---- fixtures -------------------------------------------------------------------------------- */

static long live_before;
static struct baskets_basket basket; /* started by setup; teardown releases it after a failure */

static int setup(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    live_before = core_alloc_live();
    shelf_fill(&wizard, "s-1", "Nic & Naks", "p-wiz", "Wizard w/ crystal", 9.98);
    shelf_fill(&dragon, "s-1", "Nic & Naks", "p-drg", "Dragon figurine", 14.50);
    shelf_fill(&candle, "s-2", "Candle Corner", "p-cdl", "Beeswax candle", 3.25);
    shelf_fill(&cider, "s-2", "Candle Corner", "p-cid", "Apple cider", 4.00);
    /* same product id as wizard, sold by another store */
    shelf_fill(&wizard_elsewhere, "s-3", "Magic Mike's", "p-wiz", "Wizard w/ crystal", 11.00);
    baskets_basket_init(&basket);
    core_err err = CORE_ERR_INIT;
    return baskets_basket_start(&basket, "basket-1", "customer-1", &err) == CORE_OK ? 0 : -1;
}

/* Cleans up after a test, also after a failed one. */
static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    baskets_basket_release(&basket);
    return 0;
}

/* The last line of every test: releases the basket and checks that nothing leaked. */
#define finish()                                                                                   \
    do {                                                                                           \
        baskets_basket_release(&basket);                                                           \
        long leaked_ = core_alloc_live() - live_before;                                            \
        if (leaked_ != 0) {                                                                        \
            print_error(                                                                           \
                "memory leak: %ld allocation(s) not freed (a line's strings? the array?)\n",       \
                leaked_);                                                                          \
            _fail(__FILE__, __LINE__);                                                             \
        }                                                                                          \
    } while (0)

/* put(shelf, n): adds n of the shelf's product to the basket and checks that it worked. */
static void put_(const struct shelf *s, const char *name, int quantity, const char *file, int line)
{
    char call[128];
    core_err err = CORE_ERR_INIT;
    core_status st = baskets_basket_add_item(&basket, &s->store, &s->product, quantity, &err);
    snprintf(call, sizeof call, "baskets_basket_add_item(&basket, %s, %d)", name, quantity);
    check_result(st, &err, CORE_OK, NULL, call, file, line);
}
#define put(shelf, quantity) put_(&(shelf), #shelf, (quantity), __FILE__, __LINE__)

/* close_basket(how): makes the basket cancelled or checked out, through your own cancel and
 * checkout (a checked-out basket holds "Nic & Naks/Wizard w/ crystal x1", paid by "payment-1"). */
static void close_basket_(enum baskets_status how, const char *file, int line)
{
    core_err err = CORE_ERR_INIT;
    core_status st;
    if (how == BASKETS_STATUS_CANCELLED) {
        st = baskets_basket_cancel(&basket, &err);
        check_result(st, &err, CORE_OK, NULL, "baskets_basket_cancel(&basket) of an open basket",
                     file, line);
        return;
    }
    put_(&wizard, "wizard", 1, file, line);
    st = baskets_basket_checkout(&basket, "payment-1", &err);
    check_result(st, &err, CORE_OK, NULL,
                 "baskets_basket_checkout(&basket, \"payment-1\") of a basket with an item", file,
                 line);
}
#define close_basket(how) close_basket_((how), __FILE__, __LINE__)

/* ---- cancel and checkout: the rules that need no items --------------------------------------- */

static void cancel_an_open_basket_makes_it_cancelled(void **state)
{
    (void)state;
    expect_ok(baskets_basket_cancel(&basket, err));
    assert_int_equal(basket.status, BASKETS_STATUS_CANCELLED);
    assert_string_equal(basket.id, "basket-1");
    finish();
}

static void cancel_twice_is_refused(void **state)
{
    (void)state;
    close_basket(BASKETS_STATUS_CANCELLED);
    expect_rule(baskets_basket_cancel(&basket, err), "the basket cannot be cancelled");
    assert_int_equal(basket.status, BASKETS_STATUS_CANCELLED);
    finish();
}

static void checkout_of_an_empty_basket_is_refused(void **state)
{
    (void)state;
    expect_rule(baskets_basket_checkout(&basket, "payment-1", err), "the basket has no items");
    assert_int_equal(basket.status, BASKETS_STATUS_OPEN);
    assert_string_equal(basket.payment_id, "");
    finish();
}

static void checkout_checks_open_then_items_then_payment_id(void **state)
{
    (void)state;
    /* several rules broken at once: the first in the header's order is the one reported */
    expect_rule(baskets_basket_checkout(&basket, "", err), "the basket has no items");
    close_basket(BASKETS_STATUS_CANCELLED);
    expect_rule(baskets_basket_checkout(&basket, "", err), "the basket cannot be modified");
    finish();
}

/* ---- add_item -------------------------------------------------------------------------------- */

static void add_item_creates_a_line_with_copies_of_the_catalog_data(void **state)
{
    (void)state;
    put(wizard, 10);
    assert_int_equal(basket.nitems, 1);
    /* the stores module's strings are freed after the call: the line needs its own copies */
    wizard.store_id[0] = wizard.store_name[0] = wizard.product_id[0] = wizard.product_name[0] = '#';
    const struct baskets_item *it = &basket.items[0];
    assert_string_equal(it->store_id, "s-1");
    assert_string_equal(it->product_id, "p-wiz");
    assert_string_equal(it->store_name, "Nic & Naks");
    assert_string_equal(it->product_name, "Wizard w/ crystal");
    assert_true(it->product_price == 9.98);
    assert_int_equal(it->quantity, 10);
    assert_ptr_equal(baskets_basket_find_item(&basket, "p-wiz"), it);
    finish();
}

static void add_item_of_the_same_product_raises_its_quantity(void **state)
{
    (void)state;
    put(wizard, 2);
    put(candle, 1);
    put(wizard, 3);
    expect_lines(&basket, "Candle Corner/Beeswax candle x1, Nic & Naks/Wizard w/ crystal x5");
    finish();
}

static void add_item_keeps_the_same_product_of_another_store_apart(void **state)
{
    (void)state;
    put(wizard, 1);
    put(wizard_elsewhere, 4);
    expect_lines(&basket, "Magic Mike's/Wizard w/ crystal x4, Nic & Naks/Wizard w/ crystal x1");
    assert_int_equal(basket.nitems, 2);
    finish();
}

static void add_item_keeps_the_lines_sorted_by_store_then_product_name(void **state)
{
    (void)state;
    put(wizard, 1);
    put(cider, 2);
    put(dragon, 3);
    put(candle, 4);
    expect_lines(&basket, "Candle Corner/Apple cider x2, Candle Corner/Beeswax candle x4, "
                          "Nic & Naks/Dragon figurine x3, Nic & Naks/Wizard w/ crystal x1");
    finish();
}

static void add_item_puts_a_line_with_equal_names_after_the_older_one(void **state)
{
    (void)state;
    struct shelf twin; /* same store and names as wizard, another product id */
    shelf_fill(&twin, "s-1", "Nic & Naks", "p-wiz-2", "Wizard w/ crystal", 8.00);
    put(wizard, 1);
    put(twin, 7);
    assert_int_equal(basket.nitems, 2);
    assert_string_equal(basket.items[0].product_id, "p-wiz");
    assert_string_equal(basket.items[1].product_id, "p-wiz-2");
    assert_int_equal(basket.items[1].quantity, 7);
    finish();
}

static void add_item_refuses_a_negative_quantity(void **state)
{
    (void)state;
    expect_rule(baskets_basket_add_item(&basket, &wizard.store, &wizard.product, -1, err),
                "the item quantity cannot be negative");
    expect_rule(baskets_basket_add_item(&basket, &wizard.store, &wizard.product, INT32_MIN, err),
                "the item quantity cannot be negative");
    expect_lines(&basket, "");
    finish();
}

static void add_item_refuses_a_zero_quantity(void **state)
{
    (void)state;
    put(wizard, 2);
    expect_rule(baskets_basket_add_item(&basket, &wizard.store, &wizard.product, 0, err),
                "the item quantity cannot be zero");
    expect_rule(baskets_basket_add_item(&basket, &candle.store, &candle.product, 0, err),
                "the item quantity cannot be zero");
    expect_lines(&basket, "Nic & Naks/Wizard w/ crystal x2");
    finish();
}

static void add_item_refuses_a_quantity_past_int32_max(void **state)
{
    (void)state;
    put(wizard, INT32_MAX - 5);
    expect_rule(baskets_basket_add_item(&basket, &wizard.store, &wizard.product, 6, err),
                "the item quantity is too large");
    expect_rule(baskets_basket_add_item(&basket, &wizard.store, &wizard.product, INT32_MAX, err),
                "the item quantity is too large");
    assert_int_equal(basket.items[0].quantity, INT32_MAX - 5); /* unchanged */
    put(wizard, 5);                                            /* exactly INT32_MAX is allowed */
    assert_int_equal(basket.items[0].quantity, INT32_MAX);
    finish();
}

static void add_item_to_a_closed_basket_is_refused(void **state)
{
    (void)state;
    close_basket(BASKETS_STATUS_CHECKED_OUT);
    expect_rule(baskets_basket_add_item(&basket, &candle.store, &candle.product, 1, err),
                "the basket cannot be modified");
    /* the basket's state is checked before the quantity */
    expect_rule(baskets_basket_add_item(&basket, &candle.store, &candle.product, -1, err),
                "the basket cannot be modified");
    expect_lines(&basket, "Nic & Naks/Wizard w/ crystal x1");

    baskets_basket_release(&basket);
    expect_ok(baskets_basket_start(&basket, "basket-2", "customer-1", err));
    close_basket(BASKETS_STATUS_CANCELLED);
    expect_rule(baskets_basket_add_item(&basket, &candle.store, &candle.product, 0, err),
                "the basket cannot be modified");
    expect_lines(&basket, "");
    finish();
}

static void add_item_out_of_memory_leaves_the_basket_unchanged(void **state)
{
    (void)state;
    put(wizard, 1);
    put(candle, 1);
    put(dragon, 1);
    put(cider, 1);
    const char *before = "Candle Corner/Apple cider x1, Candle Corner/Beeswax candle x1, "
                         "Nic & Naks/Dragon figurine x1, Nic & Naks/Wizard w/ crystal x1";
    /* Let the allocator fail after 0, 1, 2, ... successful allocations, until adding works: every
     * attempt that fails must report CORE_ERR_NOMEM, leave the lines as they were and leak nothing
     * (finish() counts allocations). */
    int attempts = 0;
    for (long n = 0; n < 64; n++) {
        core_err e = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = baskets_basket_add_item(&basket, &wizard_elsewhere.store,
                                                 &wizard_elsewhere.product, 2, &e);
        core_alloc_fail_after(-1);
        if (st == CORE_OK)
            break;
        attempts++;
        check_result(st, &e, CORE_ERR_NOMEM, e.msg,
                     "baskets_basket_add_item with the allocator failing", __FILE__, __LINE__);
        expect_lines(&basket, before);
    }
    assert_true(attempts >= 1); /* a new line needs memory: the first attempt cannot have worked */
    expect_lines(&basket, "Candle Corner/Apple cider x1, Candle Corner/Beeswax candle x1, "
                          "Magic Mike's/Wizard w/ crystal x2, "
                          "Nic & Naks/Dragon figurine x1, Nic & Naks/Wizard w/ crystal x1");
    finish();
}

/* ---- remove_item ----------------------------------------------------------------------------- */

static void remove_item_takes_part_of_a_line_and_keeps_the_rest(void **state)
{
    (void)state;
    /* docs/ERRATA.md, D1: 2 of a product, remove 1 -> 1 left (the book's code from ch05 on: 0 left)
     */
    put(wizard, 2);
    expect_ok(baskets_basket_remove_item(&basket, "p-wiz", 1, err));
    expect_lines(&basket, "Nic & Naks/Wizard w/ crystal x1");
    put(candle, 10);
    expect_ok(baskets_basket_remove_item(&basket, "p-cdl", 7, err));
    expect_lines(&basket, "Candle Corner/Beeswax candle x3, Nic & Naks/Wizard w/ crystal x1");
    finish();
}

static void remove_item_removes_the_line_when_nothing_is_left(void **state)
{
    (void)state;
    put(candle, 1);
    put(dragon, 2);
    put(wizard, 3);
    expect_ok(baskets_basket_remove_item(&basket, "p-drg", 2, err));
    expect_lines(&basket, "Candle Corner/Beeswax candle x1, Nic & Naks/Wizard w/ crystal x3");
    assert_null(baskets_basket_find_item(&basket, "p-drg"));
    expect_ok(baskets_basket_remove_item(&basket, "p-cdl", 1, err));
    expect_ok(baskets_basket_remove_item(&basket, "p-wiz", 3, err));
    expect_lines(&basket, "");
    assert_int_equal(basket.nitems, 0);
    assert_int_equal(basket.status, BASKETS_STATUS_OPEN); /* an empty basket is still open */
    finish();
}

static void remove_item_of_more_than_the_line_holds_removes_the_line(void **state)
{
    (void)state;
    put(wizard, 2);
    put(candle, 1);
    expect_ok(baskets_basket_remove_item(&basket, "p-wiz", 5, err));
    expect_lines(&basket, "Candle Corner/Beeswax candle x1");
    expect_ok(baskets_basket_remove_item(&basket, "p-cdl", INT32_MAX, err));
    expect_lines(&basket, "");
    finish();
}

static void remove_item_of_a_product_not_in_the_basket_changes_nothing(void **state)
{
    (void)state;
    expect_ok(baskets_basket_remove_item(&basket, "p-wiz", 1, err)); /* empty basket */
    put(candle, 2);
    expect_ok(baskets_basket_remove_item(&basket, "p-nope", 1, err));
    expect_ok(baskets_basket_remove_item(&basket, "it's-not-here", 2, err));
    expect_lines(&basket, "Candle Corner/Beeswax candle x2");
    finish();
}

static void remove_item_refuses_a_negative_or_zero_quantity(void **state)
{
    (void)state;
    put(wizard, 2);
    expect_rule(baskets_basket_remove_item(&basket, "p-wiz", -2, err),
                "the item quantity cannot be negative");
    expect_rule(baskets_basket_remove_item(&basket, "p-wiz", 0, err),
                "the item quantity cannot be zero");
    /* the quantity rules hold for products that are not in the basket too */
    expect_rule(baskets_basket_remove_item(&basket, "p-nope", -1, err),
                "the item quantity cannot be negative");
    expect_rule(baskets_basket_remove_item(&basket, "p-nope", 0, err),
                "the item quantity cannot be zero");
    expect_lines(&basket, "Nic & Naks/Wizard w/ crystal x2");
    finish();
}

static void remove_item_from_a_closed_basket_is_refused(void **state)
{
    (void)state;
    close_basket(BASKETS_STATUS_CHECKED_OUT);
    expect_rule(baskets_basket_remove_item(&basket, "p-wiz", 1, err),
                "the basket cannot be modified");
    expect_rule(baskets_basket_remove_item(&basket, "p-wiz", 0, err),
                "the basket cannot be modified");
    expect_lines(&basket, "Nic & Naks/Wizard w/ crystal x1");
    assert_int_equal(basket.status, BASKETS_STATUS_CHECKED_OUT);
    finish();
}

/* ---- cancel and checkout of a basket with items ---------------------------------------------- */

static void cancel_drops_the_items(void **state)
{
    (void)state;
    put(wizard, 2);
    put(candle, 1);
    expect_ok(baskets_basket_cancel(&basket, err));
    assert_int_equal(basket.status, BASKETS_STATUS_CANCELLED);
    expect_lines(&basket, "");
    assert_int_equal(basket.nitems, 0);
    finish();
}

static void cancel_after_checkout_is_refused(void **state)
{
    (void)state;
    close_basket(BASKETS_STATUS_CHECKED_OUT);
    expect_rule(baskets_basket_cancel(&basket, err), "the basket cannot be cancelled");
    assert_int_equal(basket.status, BASKETS_STATUS_CHECKED_OUT);
    expect_lines(&basket, "Nic & Naks/Wizard w/ crystal x1");
    finish();
}

static void checkout_records_the_payment_and_closes_the_basket(void **state)
{
    (void)state;
    put(wizard, 3);
    char payment[] = "payment-42";
    expect_ok(baskets_basket_checkout(&basket, payment, err));
    payment[0] = 'X'; /* the basket keeps its own copy */
    assert_string_equal(basket.payment_id, "payment-42");
    assert_int_equal(basket.status, BASKETS_STATUS_CHECKED_OUT);
    /* the items stay: they become the order */
    expect_lines(&basket, "Nic & Naks/Wizard w/ crystal x3");
    finish();
}

static void checkout_needs_a_payment_id(void **state)
{
    (void)state;
    char too_long[BASKETS_ID_MAX + 2];
    memset(too_long, 'p', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    put(candle, 1);
    expect_rule(baskets_basket_checkout(&basket, "", err), "the payment id cannot be blank");
    expect_rule(baskets_basket_checkout(&basket, "   ", err), "the payment id cannot be blank");
    expect_rule(baskets_basket_checkout(&basket, NULL, err), "the payment id cannot be blank");
    expect_rule(baskets_basket_checkout(&basket, too_long, err), "the payment id is too long");
    assert_int_equal(basket.status, BASKETS_STATUS_OPEN);
    assert_string_equal(basket.payment_id, "");
    too_long[BASKETS_ID_MAX] = '\0'; /* exactly BASKETS_ID_MAX characters is fine */
    expect_ok(baskets_basket_checkout(&basket, too_long, err));
    assert_string_equal(basket.payment_id, too_long);
    finish();
}

static void checkout_of_a_closed_basket_is_refused(void **state)
{
    (void)state;
    close_basket(BASKETS_STATUS_CHECKED_OUT);
    expect_rule(baskets_basket_checkout(&basket, "payment-2", err),
                "the basket cannot be modified");
    assert_string_equal(basket.payment_id, "payment-1");

    baskets_basket_release(&basket);
    expect_ok(baskets_basket_start(&basket, "basket-2", "customer-1", err));
    close_basket(BASKETS_STATUS_CANCELLED);
    expect_rule(baskets_basket_checkout(&basket, "payment-2", err),
                "the basket cannot be modified");
    assert_int_equal(basket.status, BASKETS_STATUS_CANCELLED);
    finish();
}

/* ---- all together ---------------------------------------------------------------------------- */

static void a_whole_visit_to_the_kiosk(void **state)
{
    (void)state;
    put(wizard, 10); /* the BDD scenario: 10 x "Wizard w/ crystal" */
    put(cider, 1);
    put(wizard, 1); /* changed my mind: one more */
    expect_ok(baskets_basket_remove_item(&basket, "p-cid", 1, err));
    put(dragon, 1);
    expect_ok(baskets_basket_remove_item(&basket, "p-wiz", 2, err));
    expect_lines(&basket, "Nic & Naks/Dragon figurine x1, Nic & Naks/Wizard w/ crystal x9");
    expect_ok(baskets_basket_checkout(&basket, "payment-7", err));
    assert_int_equal(basket.status, BASKETS_STATUS_CHECKED_OUT);

    /* a checked-out basket can be copied and released like any other (no leak: see finish()) */
    struct baskets_basket copy = BASKETS_BASKET_INIT;
    expect_ok(baskets_basket_copy(&copy, &basket, err));
    assert_string_equal(lines(&copy),
                        "Nic & Naks/Dragon figurine x1, Nic & Naks/Wizard w/ crystal x9");
    baskets_basket_release(&copy);
    finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(cancel_an_open_basket_makes_it_cancelled, setup, teardown),
        cmocka_unit_test_setup_teardown(cancel_twice_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(checkout_of_an_empty_basket_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(checkout_checks_open_then_items_then_payment_id, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(add_item_creates_a_line_with_copies_of_the_catalog_data,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(add_item_of_the_same_product_raises_its_quantity, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(add_item_keeps_the_same_product_of_another_store_apart,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(add_item_keeps_the_lines_sorted_by_store_then_product_name,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(add_item_puts_a_line_with_equal_names_after_the_older_one,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(add_item_refuses_a_negative_quantity, setup, teardown),
        cmocka_unit_test_setup_teardown(add_item_refuses_a_zero_quantity, setup, teardown),
        cmocka_unit_test_setup_teardown(add_item_refuses_a_quantity_past_int32_max, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(add_item_to_a_closed_basket_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(add_item_out_of_memory_leaves_the_basket_unchanged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(remove_item_takes_part_of_a_line_and_keeps_the_rest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(remove_item_removes_the_line_when_nothing_is_left, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(remove_item_of_more_than_the_line_holds_removes_the_line,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(remove_item_of_a_product_not_in_the_basket_changes_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(remove_item_refuses_a_negative_or_zero_quantity, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(remove_item_from_a_closed_basket_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cancel_drops_the_items, setup, teardown),
        cmocka_unit_test_setup_teardown(cancel_after_checkout_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(checkout_records_the_payment_and_closes_the_basket, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(checkout_needs_a_payment_id, setup, teardown),
        cmocka_unit_test_setup_teardown(checkout_of_a_closed_basket_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_whole_visit_to_the_kiosk, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
