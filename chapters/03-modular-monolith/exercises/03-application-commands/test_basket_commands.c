/* test_basket_commands.c -- exercise 03.3: three commands of the baskets application layer
 * (baskets/application.c), run against fake ports.
 *
 * The fakes stand in for the repository (PostgreSQL in the module), the stores module and the
 * ordering module (RPC clients in the module). They keep baskets in memory and write every call
 * they get into a log, "find(b-1) get_product(p-wiz) get_store(s-1) update(b-1)", so a test can
 * check WHAT your command asked for and in which order -- and what it did not ask for. Any fake
 * call can be made to fail, to check that the error comes back unchanged and nothing is saved.
 *
 * No servers needed. Every test checks that it leaked nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "baskets/application.h"

/* ---- the fake world ----------------------------------------------------------------------------
 */

#define ROWS_MAX 4

struct world {
    struct baskets_basket rows[ROWS_MAX]; /* the repository */
    size_t nrows;
    struct baskets_basket ordered; /* what ordering.create_order received last */
    char log[1024];                /* the calls, space separated */
    const char *fail_call; /* "find", "update", "get_product", "get_store", "create_order" */
    core_status fail_status;
    const char *fail_text;
};

static struct world w;
static struct baskets_app app;
static long live_before;

static void note(const char *call, const char *arg)
{
    size_t used = strlen(w.log);
    snprintf(w.log + used, sizeof w.log - used, "%s%s(%s)", used ? " " : "", call,
             arg ? arg : "NULL");
}

/* Logs the call; true (with err filled) when the test told this call to fail. */
static bool failing(const char *call, const char *arg, core_err *err)
{
    note(call, arg);
    if (w.fail_call && strcmp(w.fail_call, call) == 0) {
        core_err_set(err, w.fail_status, "%s", w.fail_text);
        return true;
    }
    return false;
}

static struct baskets_basket *row(const char *id)
{
    for (size_t i = 0; i < w.nrows; i++)
        if (strcmp(w.rows[i].id, id) == 0)
            return &w.rows[i];
    return NULL;
}

static core_status fake_find(void *self, const char *id, struct baskets_basket *out, core_err *err)
{
    (void)self;
    if (failing("find", id, err))
        return w.fail_status;
    const struct baskets_basket *r = row(id);
    if (!r)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "basket %s not found", id);
    return baskets_basket_copy(out, r, err);
}

static core_status fake_save(void *self, const struct baskets_basket *b, core_err *err)
{
    (void)self;
    if (failing("save", b->id, err))
        return w.fail_status;
    return core_err_set(err, CORE_ERR_INTERNAL, "save is for new baskets: use update");
}

static core_status fake_update(void *self, const struct baskets_basket *b, core_err *err)
{
    (void)self;
    if (failing("update", b->id, err))
        return w.fail_status;
    struct baskets_basket *r = row(b->id);
    if (!r)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "basket %s not found", b->id);
    struct baskets_basket copy;
    core_status st = baskets_basket_copy(&copy, b, err);
    if (st == CORE_OK) {
        baskets_basket_release(r);
        *r = copy;
    }
    return st;
}

/* The stores module's catalog: two products of two stores. */
static core_status fake_get_product(void *self, const char *id, struct baskets_product *out,
                                    core_err *err)
{
    (void)self;
    if (failing("get_product", id, err))
        return w.fail_status;
    const char *store_id, *name;
    double price;
    if (strcmp(id, "p-wiz") == 0) {
        store_id = "s-1";
        name = "Wizard w/ crystal";
        price = 9.98;
    } else if (strcmp(id, "p-cdl") == 0) {
        store_id = "s-2";
        name = "Beeswax candle";
        price = 3.25;
    } else {
        return core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
    }
    out->id = core_strdup(id);
    out->store_id = core_strdup(store_id);
    out->name = core_strdup(name);
    out->price = price;
    if (!out->id || !out->store_id || !out->name) {
        baskets_product_release(out);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    }
    return CORE_OK;
}

static core_status fake_get_store(void *self, const char *id, struct baskets_store *out,
                                  core_err *err)
{
    (void)self;
    if (failing("get_store", id, err))
        return w.fail_status;
    const char *name;
    if (strcmp(id, "s-1") == 0)
        name = "Nic & Naks";
    else if (strcmp(id, "s-2") == 0)
        name = "Candle Corner";
    else
        return core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", id);
    out->id = core_strdup(id);
    out->name = core_strdup(name);
    out->location = core_strdup("Upper Level");
    if (!out->id || !out->name || !out->location) {
        baskets_store_release(out);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    }
    return CORE_OK;
}

static core_status fake_create_order(void *self, const struct baskets_basket *b, core_err *err)
{
    (void)self;
    if (failing("create_order", b->id, err))
        return w.fail_status;
    baskets_basket_release(&w.ordered);
    return baskets_basket_copy(&w.ordered, b, err);
}

/* Puts a basket into the repository: open, for customer c-1, with the given lines. */
static void stored_basket(const char *id, enum baskets_status status, int wizards, int candles)
{
    core_err err = CORE_ERR_INIT;
    struct baskets_basket *b = &w.rows[w.nrows++];
    baskets_basket_init(b);
    core_strlcpy(b->id, id, sizeof b->id);
    core_strlcpy(b->customer_id, "c-1", sizeof b->customer_id);
    b->status = status;
    if (status == BASKETS_STATUS_CHECKED_OUT)
        core_strlcpy(b->payment_id, "pay-0", sizeof b->payment_id);
    struct baskets_item wiz = {"s-1", "p-wiz", "Nic & Naks", "Wizard w/ crystal", 9.98, wizards};
    struct baskets_item cdl = {"s-2", "p-cdl", "Candle Corner", "Beeswax candle", 3.25, candles};
    if (candles)
        assert_int_equal(baskets_basket_push_item(b, &cdl, &err), CORE_OK);
    if (wizards)
        assert_int_equal(baskets_basket_push_item(b, &wiz, &err), CORE_OK);
}

/* The stored basket's lines and state as text: "open: Nic & Naks/Wizard w/ crystal x2, ...". */
static const char *describe(const struct baskets_basket *b)
{
    static char buf[512];
    size_t used = (size_t)snprintf(buf, sizeof buf, "%s:", baskets_status_text(b->status));
    for (size_t i = 0; i < b->nitems && used < sizeof buf; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s %s/%s x%d", i ? "," : "",
                                 b->items[i].store_name, b->items[i].product_name,
                                 b->items[i].quantity);
    return buf;
}

/* ---- fixtures and checks -----------------------------------------------------------------------
 */

static int setup(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    memset(&w, 0, sizeof w);
    baskets_basket_init(&w.ordered);
    app.baskets = (struct baskets_repo){NULL, fake_find, fake_save, fake_update};
    app.stores = (struct baskets_stores_port){NULL, fake_get_store, fake_get_product};
    app.ordering = (struct baskets_ordering_port){NULL, fake_create_order};
    live_before = core_alloc_live();
    stored_basket("b-1", BASKETS_STATUS_OPEN, 2, 0);
    stored_basket("b-empty", BASKETS_STATUS_OPEN, 0, 0);
    stored_basket("b-paid", BASKETS_STATUS_CHECKED_OUT, 1, 1);
    return 0;
}

static void release_world(void)
{
    for (size_t i = 0; i < w.nrows; i++)
        baskets_basket_release(&w.rows[i]);
    w.nrows = 0;
    baskets_basket_release(&w.ordered);
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    release_world();
    return 0;
}

/* The last line of every test: everything the commands allocated has been freed. */
#define finish()                                                                                   \
    do {                                                                                           \
        release_world();                                                                           \
        long leaked_ = core_alloc_live() - live_before;                                            \
        if (leaked_ != 0) {                                                                        \
            print_error("memory leak: %ld allocation(s) not freed -- a basket, product or store "  \
                        "not released on some path?\n",                                            \
                        leaked_);                                                                  \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

static void check_result(core_status got, const core_err *err, core_status want,
                         const char *want_msg, const char *call, const char *file, int line)
{
    if (got == want && (want == CORE_OK || strcmp(err->msg, want_msg) == 0))
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
    print_error("    calls made: \"%s\"\n", w.log);
    _fail(file, line);
}

/* expect(call, status, text): call names its error argument `err`. */
#define expect(call, want, text)                                                                   \
    do {                                                                                           \
        core_err err_ = CORE_ERR_INIT;                                                             \
        core_err *err = &err_;                                                                     \
        core_status got_ = (call);                                                                 \
        check_result(got_, err, (want), (text), #call, __FILE__, __LINE__);                        \
    } while (0)
#define expect_ok(call) expect(call, CORE_OK, NULL)

/* The calls made so far are exactly want; the log starts over. */
#define expect_calls(want)                                                                         \
    do {                                                                                           \
        if (strcmp(w.log, (want)) != 0) {                                                          \
            print_error("calls to the ports\n    wanted: \"%s\"\n    got:    \"%s\"\n", (want),    \
                        w.log);                                                                    \
            fail();                                                                                \
        }                                                                                          \
        w.log[0] = '\0';                                                                           \
    } while (0)

/* The stored basket id is described as want. */
#define expect_stored(id, want)                                                                    \
    do {                                                                                           \
        const char *got_ = describe(row(id));                                                      \
        if (strcmp(got_, (want)) != 0) {                                                           \
            print_error("the stored basket %s\n    wanted: \"%s\"\n    got:    \"%s\"\n", (id),    \
                        (want), got_);                                                             \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

static void fail_next(const char *call, core_status st, const char *text)
{
    w.fail_call = call;
    w.fail_status = st;
    w.fail_text = text;
}

/* ---- AddItem -----------------------------------------------------------------------------------
 */

static void add_item_loads_asks_stores_and_saves(void **state)
{
    (void)state;
    expect_ok(baskets_app_add_item(&app, "b-1", "p-cdl", 3, err));
    expect_calls("find(b-1) get_product(p-cdl) get_store(s-2) update(b-1)");
    expect_stored("b-1", "open: Candle Corner/Beeswax candle x3, Nic & Naks/Wizard w/ crystal x2");
    expect_ok(baskets_app_add_item(&app, "b-1", "p-wiz", 1, err));
    expect_calls("find(b-1) get_product(p-wiz) get_store(s-1) update(b-1)");
    expect_stored("b-1", "open: Candle Corner/Beeswax candle x3, Nic & Naks/Wizard w/ crystal x3");
    finish();
}

static void add_item_checks_both_ids_before_calling_anything(void **state)
{
    (void)state;
    expect(baskets_app_add_item(&app, "", "p-wiz", 1, err), CORE_ERR_INVALID,
           "the basket id cannot be blank");
    expect(baskets_app_add_item(&app, NULL, "p-wiz", 1, err), CORE_ERR_INVALID,
           "the basket id cannot be blank");
    expect(baskets_app_add_item(&app, "b-1", " ", 1, err), CORE_ERR_INVALID,
           "the product id cannot be blank");
    expect(baskets_app_add_item(&app, "b-1", NULL, 1, err), CORE_ERR_INVALID,
           "the product id cannot be blank");
    /* the basket id first */
    expect(baskets_app_add_item(&app, "", "", 1, err), CORE_ERR_INVALID,
           "the basket id cannot be blank");
    expect_calls("");
    finish();
}

static void add_item_of_an_unknown_basket_or_product_passes_the_error_up(void **state)
{
    (void)state;
    expect(baskets_app_add_item(&app, "b-404", "p-wiz", 1, err), CORE_ERR_NOT_FOUND,
           "basket b-404 not found");
    expect_calls("find(b-404)");
    expect(baskets_app_add_item(&app, "b-1", "p-404", 1, err), CORE_ERR_NOT_FOUND,
           "product p-404 not found");
    expect_calls("find(b-1) get_product(p-404)");
    expect_stored("b-1", "open: Nic & Naks/Wizard w/ crystal x2");
    finish();
}

static void add_item_saves_nothing_when_stores_fails(void **state)
{
    (void)state;
    fail_next("get_store", CORE_ERR_UNAVAILABLE, "stores: connection refused");
    expect(baskets_app_add_item(&app, "b-1", "p-cdl", 1, err), CORE_ERR_UNAVAILABLE,
           "stores: connection refused");
    expect_calls("find(b-1) get_product(p-cdl) get_store(s-2)");
    fail_next("get_product", CORE_ERR_UNAVAILABLE, "stores: timed out");
    expect(baskets_app_add_item(&app, "b-1", "p-cdl", 1, err), CORE_ERR_UNAVAILABLE,
           "stores: timed out");
    expect_calls("find(b-1) get_product(p-cdl)");
    expect_stored("b-1", "open: Nic & Naks/Wizard w/ crystal x2");
    finish();
}

static void add_item_breaking_a_rule_saves_nothing(void **state)
{
    (void)state;
    expect(baskets_app_add_item(&app, "b-1", "p-wiz", 0, err), CORE_ERR_INVALID,
           "the item quantity cannot be zero");
    expect(baskets_app_add_item(&app, "b-1", "p-wiz", -3, err), CORE_ERR_INVALID,
           "the item quantity cannot be negative");
    expect(baskets_app_add_item(&app, "b-paid", "p-wiz", 1, err), CORE_ERR_INVALID,
           "the basket cannot be modified");
    if (strstr(w.log, "update")) {
        print_error("a broken rule must not be saved; calls made: \"%s\"\n", w.log);
        fail();
    }
    expect_stored("b-1", "open: Nic & Naks/Wizard w/ crystal x2");
    finish();
}

static void add_item_returns_the_error_of_a_failed_save(void **state)
{
    (void)state;
    fail_next("update", CORE_ERR_IO, "disk full");
    expect(baskets_app_add_item(&app, "b-1", "p-wiz", 1, err), CORE_ERR_IO, "disk full");
    expect_calls("find(b-1) get_product(p-wiz) get_store(s-1) update(b-1)");
    finish();
}

/* ---- RemoveItem --------------------------------------------------------------------------------
 */

static void remove_item_loads_changes_and_saves_without_asking_stores(void **state)
{
    (void)state;
    expect_ok(baskets_app_remove_item(&app, "b-1", "p-wiz", 1, err));
    expect_calls("find(b-1) update(b-1)");
    expect_stored("b-1", "open: Nic & Naks/Wizard w/ crystal x1");
    expect_ok(baskets_app_remove_item(&app, "b-1", "p-wiz", 1, err));
    expect_calls("find(b-1) update(b-1)");
    expect_stored("b-1", "open:");
    finish();
}

static void remove_item_checks_both_ids_before_calling_anything(void **state)
{
    (void)state;
    expect(baskets_app_remove_item(&app, "\t", "p-wiz", 1, err), CORE_ERR_INVALID,
           "the basket id cannot be blank");
    expect(baskets_app_remove_item(&app, "b-1", "", 1, err), CORE_ERR_INVALID,
           "the product id cannot be blank");
    expect_calls("");
    finish();
}

static void remove_item_errors_are_passed_up_and_nothing_is_saved(void **state)
{
    (void)state;
    expect(baskets_app_remove_item(&app, "b-404", "p-wiz", 1, err), CORE_ERR_NOT_FOUND,
           "basket b-404 not found");
    expect_calls("find(b-404)");
    expect(baskets_app_remove_item(&app, "b-1", "p-wiz", 0, err), CORE_ERR_INVALID,
           "the item quantity cannot be zero");
    expect_calls("find(b-1)");
    expect(baskets_app_remove_item(&app, "b-paid", "p-wiz", 1, err), CORE_ERR_INVALID,
           "the basket cannot be modified");
    expect_calls("find(b-paid)");
    fail_next("find", CORE_ERR_UNAVAILABLE, "database unreachable");
    expect(baskets_app_remove_item(&app, "b-1", "p-wiz", 1, err), CORE_ERR_UNAVAILABLE,
           "database unreachable");
    expect_calls("find(b-1)");
    fail_next("update", CORE_ERR_IO, "disk full");
    expect(baskets_app_remove_item(&app, "b-1", "p-wiz", 1, err), CORE_ERR_IO, "disk full");
    expect_calls("find(b-1) update(b-1)");
    expect_stored("b-1", "open: Nic & Naks/Wizard w/ crystal x2");
    finish();
}

/* ---- CheckoutBasket ----------------------------------------------------------------------------
 */

static void checkout_creates_the_order_then_saves_the_basket(void **state)
{
    (void)state;
    expect_ok(baskets_app_checkout_basket(&app, "b-1", "pay-1", err));
    expect_calls("find(b-1) create_order(b-1) update(b-1)");
    /* ordering got the basket as checked out, with its payment, customer and items */
    assert_string_equal(w.ordered.id, "b-1");
    assert_string_equal(w.ordered.customer_id, "c-1");
    assert_string_equal(w.ordered.payment_id, "pay-1");
    assert_string_equal(describe(&w.ordered), "checked_out: Nic & Naks/Wizard w/ crystal x2");
    expect_stored("b-1", "checked_out: Nic & Naks/Wizard w/ crystal x2");
    assert_string_equal(row("b-1")->payment_id, "pay-1");
    finish();
}

static void checkout_checks_the_basket_id_before_loading(void **state)
{
    (void)state;
    expect(baskets_app_checkout_basket(&app, "", "pay-1", err), CORE_ERR_INVALID,
           "the basket id cannot be blank");
    expect_calls("");
    finish();
}

static void checkout_breaking_a_rule_calls_neither_ordering_nor_save(void **state)
{
    (void)state;
    expect(baskets_app_checkout_basket(&app, "b-empty", "pay-1", err), CORE_ERR_INVALID,
           "the basket has no items");
    expect_calls("find(b-empty)");
    expect(baskets_app_checkout_basket(&app, "b-1", " ", err), CORE_ERR_INVALID,
           "the payment id cannot be blank");
    expect_calls("find(b-1)");
    expect(baskets_app_checkout_basket(&app, "b-paid", "pay-2", err), CORE_ERR_INVALID,
           "the basket cannot be modified");
    expect_calls("find(b-paid)");
    expect(baskets_app_checkout_basket(&app, "b-404", "pay-1", err), CORE_ERR_NOT_FOUND,
           "basket b-404 not found");
    expect_calls("find(b-404)");
    expect_stored("b-1", "open: Nic & Naks/Wizard w/ crystal x2");
    finish();
}

static void checkout_refused_by_ordering_leaves_the_basket_open(void **state)
{
    (void)state;
    fail_next("create_order", CORE_ERR_INVALID, "the customer is not authorized");
    expect(baskets_app_checkout_basket(&app, "b-1", "pay-1", err), CORE_ERR_INVALID,
           "the customer is not authorized");
    expect_calls("find(b-1) create_order(b-1)");
    expect_stored("b-1", "open: Nic & Naks/Wizard w/ crystal x2");
    assert_string_equal(row("b-1")->payment_id, "");
    /* fixed: the customer tries again */
    fail_next(NULL, CORE_OK, NULL);
    expect_ok(baskets_app_checkout_basket(&app, "b-1", "pay-1", err));
    expect_stored("b-1", "checked_out: Nic & Naks/Wizard w/ crystal x2");
    finish();
}

static void checkout_returns_the_error_of_a_failed_save(void **state)
{
    (void)state;
    fail_next("update", CORE_ERR_IO, "disk full");
    expect(baskets_app_checkout_basket(&app, "b-1", "pay-1", err), CORE_ERR_IO, "disk full");
    expect_calls("find(b-1) create_order(b-1) update(b-1)");
    finish();
}

/* ---- all paths free what they allocated ---------------------------------------------------------
 */

static void commands_free_everything_when_memory_runs_out(void **state)
{
    (void)state;
    /* Lets the allocator fail after 0, 1, 2, ... allocations, until the command works. Whatever
     * step fails, the command must return an error (not crash), leave the stored basket as it
     * was, and free what it got so far (finish() counts). */
    const char *before = "open: Nic & Naks/Wizard w/ crystal x2";
    const char *added = "open: Candle Corner/Beeswax candle x1, Nic & Naks/Wizard w/ crystal x2";
    for (long n = 0; n < 40; n++) {
        core_err e = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = baskets_app_add_item(&app, "b-1", "p-cdl", 1, &e);
        core_alloc_fail_after(-1);
        expect_stored("b-1", st == CORE_OK ? added : before);
        if (st == CORE_OK)
            break;
    }
    expect_stored("b-1", added);
    for (long n = 0; n < 40; n++) {
        core_err e = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = baskets_app_checkout_basket(&app, "b-1", "pay-1", &e);
        core_alloc_fail_after(-1);
        if (st == CORE_OK)
            break;
        expect_stored("b-1", added);
    }
    expect_stored("b-1", "checked_out: Candle Corner/Beeswax candle x1, "
                         "Nic & Naks/Wizard w/ crystal x2");
    finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(add_item_loads_asks_stores_and_saves, setup, teardown),
        cmocka_unit_test_setup_teardown(add_item_checks_both_ids_before_calling_anything, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            add_item_of_an_unknown_basket_or_product_passes_the_error_up, setup, teardown),
        cmocka_unit_test_setup_teardown(add_item_saves_nothing_when_stores_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(add_item_breaking_a_rule_saves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(add_item_returns_the_error_of_a_failed_save, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(remove_item_loads_changes_and_saves_without_asking_stores,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(remove_item_checks_both_ids_before_calling_anything, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(remove_item_errors_are_passed_up_and_nothing_is_saved,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(checkout_creates_the_order_then_saves_the_basket, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(checkout_checks_the_basket_id_before_loading, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(checkout_breaking_a_rule_calls_neither_ordering_nor_save,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(checkout_refused_by_ordering_leaves_the_basket_open, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(checkout_returns_the_error_of_a_failed_save, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(commands_free_everything_when_memory_runs_out, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
