/* test_baskets_app.c -- unit tests of baskets/application.h with fake ports
 * (tests/support/baskets_fakes.h; no servers): every command and query on success, unknown
 * basket, broken rules and failing dependencies (the error is passed up unchanged and nothing is
 * saved). Also the items JSON codec of the PostgreSQL adapter (adapters.h), which needs no server
 * either. Every test checks for leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "baskets/adapters.h"
#include "baskets/application.h"
#include "baskets_fakes.h"

/* ---- fixture --------------------------------------------------------------------------------- */

struct fixture {
    long live_before;
    struct baskets_fake_repo repo;
    struct baskets_fake_stores stores;
    struct baskets_fake_ordering ordering;
    struct baskets_app app;
};

static int setup(void **state)
{
    struct fixture *fx = test_calloc(1, sizeof *fx);
    core_alloc_fail_after(-1);
    fx->live_before = core_alloc_live();
    baskets_fake_repo_port(&fx->app.baskets, &fx->repo);
    baskets_fake_stores_port(&fx->app.stores, &fx->stores);
    baskets_fake_ordering_port(&fx->app.ordering, &fx->ordering);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    core_alloc_fail_after(-1);
    baskets_fake_repo_release(&fx->repo);
    assert_int_equal(core_alloc_live(), fx->live_before);
    test_free(fx);
    return 0;
}

/* A started basket "b-1" of customer "c-1" holding quantity of p-1 (none if 0). */
static void given_basket(struct fixture *fx, int quantity)
{
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_start_basket(&fx->app, "b-1", "c-1", &err), CORE_OK);
    if (quantity > 0)
        assert_int_equal(baskets_app_add_item(&fx->app, "b-1", "p-1", quantity, &err), CORE_OK);
    fx->repo.finds = fx->repo.saves = fx->repo.updates = 0;
    fx->stores.store_calls = fx->stores.product_calls = 0;
}

static const struct baskets_basket *stored(struct fixture *fx)
{
    const struct baskets_basket *b = baskets_fake_basket(&fx->repo, "b-1");
    assert_non_null(b);
    return b;
}

#define assert_err(call, want_status, want_text)                                                   \
    do {                                                                                           \
        core_err xerr_ = CORE_ERR_INIT;                                                            \
        core_err *xerr = &xerr_;                                                                   \
        assert_int_equal((call), (want_status));                                                   \
        assert_string_equal(xerr_.msg, (want_text));                                               \
    } while (0)

/* ---- StartBasket ----------------------------------------------------------------------------- */

static void start_saves_an_open_basket(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_start_basket(&fx->app, "b-1", "c-1", &err), CORE_OK);
    assert_int_equal(fx->repo.saves, 1);
    assert_string_equal(stored(fx)->customer_id, "c-1");
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_OPEN);
    assert_int_equal(stored(fx)->nitems, 0);
}

static void start_rules_and_failures(void **state)
{
    struct fixture *fx = *state;
    assert_err(baskets_app_start_basket(&fx->app, "b-1", "", xerr), CORE_ERR_INVALID,
               "the customer id cannot be blank");
    assert_err(baskets_app_start_basket(&fx->app, "", "c-1", xerr), CORE_ERR_INVALID,
               "the basket id cannot be blank");
    assert_int_equal(fx->repo.saves, 0); /* nothing reached the repository */
    fx->repo.fail_save = CORE_ERR_UNAVAILABLE;
    assert_err(baskets_app_start_basket(&fx->app, "b-1", "c-1", xerr), CORE_ERR_UNAVAILABLE,
               "fake save failed");
    assert_int_equal(fx->repo.n, 0);
    fx->repo.fail_save = CORE_OK;
    given_basket(fx, 0);
    assert_err(baskets_app_start_basket(&fx->app, "b-1", "c-2", xerr), CORE_ERR_CONFLICT,
               "basket b-1 already exists");
    assert_string_equal(stored(fx)->customer_id, "c-1");
}

/* ---- GetBasket ------------------------------------------------------------------------------- */

static void get_returns_a_copy(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 3);
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_get_basket(&fx->app, "b-1", &b, &err), CORE_OK);
    assert_string_equal(b.id, "b-1");
    assert_int_equal(b.nitems, 1);
    assert_string_equal(b.items[0].product_name, "EDA with Golang");
    assert_string_equal(b.items[0].store_name, "Waldorf Books");
    assert_int_equal(b.items[0].quantity, 3);
    baskets_basket_release(&b);
}

static void get_unknown_blank_and_failing(void **state)
{
    struct fixture *fx = *state;
    struct baskets_basket b = BASKETS_BASKET_INIT;
    assert_err(baskets_app_get_basket(&fx->app, "nope", &b, xerr), CORE_ERR_NOT_FOUND,
               "basket nope not found");
    assert_err(baskets_app_get_basket(&fx->app, " ", &b, xerr), CORE_ERR_INVALID,
               "the basket id cannot be blank");
    assert_int_equal(fx->repo.finds, 1); /* the blank id never reached the repository */
    fx->repo.fail_find = CORE_ERR_IO;
    assert_err(baskets_app_get_basket(&fx->app, "b-1", &b, xerr), CORE_ERR_IO, "fake find failed");
    assert_int_equal(b.nitems, 0);
    assert_string_equal(b.id, "");
}

/* ---- AddItem --------------------------------------------------------------------------------- */

static void add_item_reads_stores_and_updates(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 0);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_add_item(&fx->app, "b-1", "p-2", 10, &err), CORE_OK);
    assert_int_equal(fx->stores.product_calls, 1);
    assert_int_equal(fx->stores.store_calls, 1);
    assert_string_equal(fx->stores.last_store_id, "s-1"); /* the product's store */
    assert_int_equal(fx->repo.updates, 1);
    const struct baskets_item *it = baskets_basket_find_item(stored(fx), "p-2");
    assert_non_null(it);
    assert_int_equal(it->quantity, 10);
    assert_true(it->product_price == 9.99);
    assert_string_equal(it->product_name, "Wizard w/ crystal");
    assert_string_equal(it->store_id, "s-1");
    assert_int_equal(baskets_app_add_item(&fx->app, "b-1", "p-2", 5, &err), CORE_OK);
    assert_int_equal(baskets_basket_find_item(stored(fx), "p-2")->quantity, 15);
}

static void add_unknown_product_is_not_found(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 0);
    assert_err(baskets_app_add_item(&fx->app, "b-1", "p-404", 1, xerr), CORE_ERR_NOT_FOUND,
               "product p-404 not found");
    assert_int_equal(fx->stores.store_calls, 0);
    assert_int_equal(fx->repo.updates, 0);
    assert_int_equal(stored(fx)->nitems, 0);
}

static void add_item_failing_dependencies(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 0);
    /* the book ignores a failing store lookup; here it is reported */
    fx->stores.fail_store = CORE_ERR_UNAVAILABLE;
    assert_err(baskets_app_add_item(&fx->app, "b-1", "p-1", 1, xerr), CORE_ERR_UNAVAILABLE,
               "stores RPC at 127.0.0.1:8085 unreachable: fake");
    fx->stores.fail_store = CORE_OK;
    fx->stores.fail_product = CORE_ERR_UNAVAILABLE;
    assert_err(baskets_app_add_item(&fx->app, "b-1", "p-1", 1, xerr), CORE_ERR_UNAVAILABLE,
               "fake product failure");
    fx->stores.fail_product = CORE_OK;
    assert_int_equal(fx->repo.updates, 0);
    fx->repo.fail_update = CORE_ERR_IO;
    assert_err(baskets_app_add_item(&fx->app, "b-1", "p-1", 1, xerr), CORE_ERR_IO,
               "fake update failed");
    fx->repo.fail_update = CORE_OK;
    assert_int_equal(stored(fx)->nitems, 0);
    fx->repo.fail_find = CORE_ERR_UNAVAILABLE;
    assert_err(baskets_app_add_item(&fx->app, "b-1", "p-1", 1, xerr), CORE_ERR_UNAVAILABLE,
               "fake find failed");
}

static void add_item_rules(void **state)
{
    struct fixture *fx = *state;
    assert_err(baskets_app_add_item(&fx->app, "nope", "p-1", 1, xerr), CORE_ERR_NOT_FOUND,
               "basket nope not found");
    given_basket(fx, 0);
    assert_err(baskets_app_add_item(&fx->app, "", "p-1", 1, xerr), CORE_ERR_INVALID,
               "the basket id cannot be blank");
    assert_err(baskets_app_add_item(&fx->app, "b-1", "", 1, xerr), CORE_ERR_INVALID,
               "the product id cannot be blank");
    assert_err(baskets_app_add_item(&fx->app, "b-1", NULL, 1, xerr), CORE_ERR_INVALID,
               "the product id cannot be blank");
    assert_err(baskets_app_add_item(&fx->app, "b-1", "p-1", 0, xerr), CORE_ERR_INVALID,
               "the item quantity cannot be zero");
    assert_err(baskets_app_add_item(&fx->app, "b-1", "p-1", -2, xerr), CORE_ERR_INVALID,
               "the item quantity cannot be negative");
    assert_int_equal(fx->repo.updates, 0);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_cancel_basket(&fx->app, "b-1", &err), CORE_OK);
    assert_err(baskets_app_add_item(&fx->app, "b-1", "p-1", 1, xerr), CORE_ERR_INVALID,
               "the basket cannot be modified");
    assert_int_equal(fx->repo.updates, 1); /* only the cancel */
}

/* ---- RemoveItem ------------------------------------------------------------------------------ */

static void remove_item_leaves_the_rest(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 2);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_remove_item(&fx->app, "b-1", "p-1", 1, &err), CORE_OK);
    assert_int_equal(baskets_basket_find_item(stored(fx), "p-1")->quantity,
                     1); /* docs/ERRATA.md, D1 */
    assert_int_equal(baskets_app_remove_item(&fx->app, "b-1", "p-1", 1, &err), CORE_OK);
    assert_null(baskets_basket_find_item(stored(fx), "p-1"));
    assert_int_equal(fx->repo.updates, 2);
    assert_int_equal(fx->stores.product_calls + fx->stores.store_calls, 0); /* no stores call */
}

static void remove_item_rules_and_failures(void **state)
{
    struct fixture *fx = *state;
    assert_err(baskets_app_remove_item(&fx->app, "nope", "p-1", 1, xerr), CORE_ERR_NOT_FOUND,
               "basket nope not found");
    given_basket(fx, 2);
    assert_err(baskets_app_remove_item(&fx->app, "b-1", "", 1, xerr), CORE_ERR_INVALID,
               "the product id cannot be blank");
    assert_err(baskets_app_remove_item(&fx->app, "", "p-1", 1, xerr), CORE_ERR_INVALID,
               "the basket id cannot be blank");
    assert_err(baskets_app_remove_item(&fx->app, "b-1", "p-1", -1, xerr), CORE_ERR_INVALID,
               "the item quantity cannot be negative");
    fx->repo.fail_update = CORE_ERR_IO;
    assert_err(baskets_app_remove_item(&fx->app, "b-1", "p-1", 1, xerr), CORE_ERR_IO,
               "fake update failed");
    fx->repo.fail_update = CORE_OK;
    assert_int_equal(baskets_basket_find_item(stored(fx), "p-1")->quantity, 2);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", &err), CORE_OK);
    assert_err(baskets_app_remove_item(&fx->app, "b-1", "p-1", 1, xerr), CORE_ERR_INVALID,
               "the basket cannot be modified");
}

/* ---- CancelBasket ---------------------------------------------------------------------------- */

static void cancel_basket(void **state)
{
    struct fixture *fx = *state;
    assert_err(baskets_app_cancel_basket(&fx->app, "nope", xerr), CORE_ERR_NOT_FOUND,
               "basket nope not found");
    assert_err(baskets_app_cancel_basket(&fx->app, "", xerr), CORE_ERR_INVALID,
               "the basket id cannot be blank");
    given_basket(fx, 2);
    fx->repo.fail_update = CORE_ERR_UNAVAILABLE;
    assert_err(baskets_app_cancel_basket(&fx->app, "b-1", xerr), CORE_ERR_UNAVAILABLE,
               "fake update failed");
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_OPEN);
    fx->repo.fail_update = CORE_OK;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_cancel_basket(&fx->app, "b-1", &err), CORE_OK);
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_CANCELLED);
    assert_int_equal(stored(fx)->nitems, 0);
    assert_err(baskets_app_cancel_basket(&fx->app, "b-1", xerr), CORE_ERR_INVALID,
               "the basket cannot be cancelled");
}

/* ---- CheckoutBasket -------------------------------------------------------------------------- */

static void checkout_creates_the_order_then_saves(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 5);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", &err), CORE_OK);
    assert_int_equal(fx->ordering.calls, 1);
    assert_string_equal(fx->ordering.id, "b-1"); /* order id = basket id */
    assert_string_equal(fx->ordering.customer_id, "c-1");
    assert_string_equal(fx->ordering.payment_id, "pay-1");
    assert_int_equal(fx->ordering.nitems, 1);
    assert_int_equal(fx->ordering.first_quantity, 5);
    assert_true(fx->ordering.first_price == 49.99);
    assert_int_equal(fx->ordering.status_seen, BASKETS_STATUS_CHECKED_OUT);
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_CHECKED_OUT);
    assert_string_equal(stored(fx)->payment_id, "pay-1");
    assert_int_equal(fx->repo.updates, 1);
    assert_err(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", xerr), CORE_ERR_INVALID,
               "the basket cannot be modified");
    assert_int_equal(fx->ordering.calls, 1);
}

static void checkout_rules_do_not_call_ordering(void **state)
{
    struct fixture *fx = *state;
    assert_err(baskets_app_checkout_basket(&fx->app, "nope", "pay-1", xerr), CORE_ERR_NOT_FOUND,
               "basket nope not found");
    assert_err(baskets_app_checkout_basket(&fx->app, "", "pay-1", xerr), CORE_ERR_INVALID,
               "the basket id cannot be blank");
    given_basket(fx, 0);
    assert_err(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", xerr), CORE_ERR_INVALID,
               "the basket has no items");
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_add_item(&fx->app, "b-1", "p-1", 1, &err), CORE_OK);
    assert_err(baskets_app_checkout_basket(&fx->app, "b-1", "", xerr), CORE_ERR_INVALID,
               "the payment id cannot be blank");
    assert_int_equal(fx->ordering.calls, 0);
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_OPEN);
}

static void checkout_ordering_failure_keeps_basket_open(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 1);
    fx->ordering.fail = CORE_ERR_INVALID;
    assert_err(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", xerr), CORE_ERR_INVALID,
               "the customer is not authorized"); /* ordering's error, unchanged */
    assert_int_equal(fx->ordering.calls, 1);
    assert_int_equal(fx->repo.updates, 0); /* nothing saved */
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_OPEN);
    assert_string_equal(stored(fx)->payment_id, "");
    /* once ordering accepts, the same basket can be checked out */
    fx->ordering.fail = CORE_OK;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", &err), CORE_OK);
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_CHECKED_OUT);
}

static void checkout_update_failure_is_reported(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 1);
    fx->repo.fail_update = CORE_ERR_UNAVAILABLE;
    assert_err(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", xerr), CORE_ERR_UNAVAILABLE,
               "fake update failed");
    assert_int_equal(fx->ordering.calls, 1);
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_OPEN);
}

/* Out of memory anywhere in a command: NOMEM (or OK), never a leak or a half-saved basket. */
static void commands_out_of_memory(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 1);
    int failures = 0;
    for (long n = 0; n < 40; n++) {
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = baskets_app_add_item(&fx->app, "b-1", "p-2", 1, &err);
        core_alloc_fail_after(-1);
        const struct baskets_item *it = baskets_basket_find_item(stored(fx), "p-2");
        if (st) {
            failures++;
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_null(it);
        } else {
            assert_non_null(it);
            assert_int_equal(baskets_app_remove_item(&fx->app, "b-1", "p-2", 1, &err), CORE_OK);
        }
    }
    assert_true(failures > 5);
}

/* ---- items JSON (adapters.h) ----------------------------------------------------------------- */

static void items_json_round_trip(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 2);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_add_item(&fx->app, "b-1", "p-2", 7, &err), CORE_OK);
    char *json = NULL;
    assert_int_equal(baskets__items_encode(stored(fx), &json, &err), CORE_OK);
    assert_non_null(strstr(json, "\"product_name\":\"Wizard w/ crystal\""));
    assert_non_null(strstr(json, "\"quantity\":7"));
    struct baskets_basket b = BASKETS_BASKET_INIT;
    assert_int_equal(baskets__items_decode(&b, json, &err), CORE_OK);
    assert_int_equal(b.nitems, 2);
    for (size_t i = 0; i < 2; i++) {
        const struct baskets_item *want = &stored(fx)->items[i];
        assert_string_equal(b.items[i].store_id, want->store_id);
        assert_string_equal(b.items[i].product_id, want->product_id);
        assert_string_equal(b.items[i].store_name, want->store_name);
        assert_string_equal(b.items[i].product_name, want->product_name);
        assert_true(b.items[i].product_price == want->product_price); /* exact */
        assert_int_equal(b.items[i].quantity, want->quantity);
    }
    baskets_basket_release(&b);
    core_free(json);

    struct baskets_basket empty = BASKETS_BASKET_INIT;
    assert_int_equal(baskets__items_encode(&empty, &json, &err), CORE_OK);
    assert_string_equal(json, "[]");
    assert_int_equal(baskets__items_decode(&empty, json, &err), CORE_OK);
    assert_int_equal(empty.nitems, 0);
    core_free(json);
    /* an integral price is still a number */
    assert_int_equal(
        baskets__items_decode(&empty,
                              "[{\"store_id\":\"s\",\"product_id\":\"p\",\"store_name\":\"S\","
                              "\"product_name\":\"P\",\"product_price\":10,\"quantity\":1}]",
                              &err),
        CORE_OK);
    assert_true(empty.items[0].product_price == 10.0);
    baskets_basket_release(&empty);
}

static void items_json_rejects_bad_data(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "{}",
        "[1]",
        "[{\"store_id\":\"s\"}]",
        "[{\"store_id\":\"s\",\"product_id\":\"p\",\"store_name\":\"S\",\"product_name\":\"P\","
        "\"product_price\":1,\"quantity\":0}]",
        "[{\"store_id\":\"s\",\"product_id\":\"p\",\"store_name\":\"S\",\"product_name\":\"P\","
        "\"product_price\":1,\"quantity\":3000000000}]",
        "[{\"store_id\":\"s\",\"product_id\":\"p\",\"store_name\":\"S\",\"product_name\":\"P\","
        "\"product_price\":\"1\",\"quantity\":1}]",
        "[{\"store_id\":\"s\",\"product_id\":\"p\",\"store_name\":\"S\",\"product_name\":\"P\","
        "\"product_price\":1,\"quantity\":1,\"extra\":true}]",
        "[{\"store_id\":\"s\",\"product_id\":\"p\",\"store_name\":\"S\",\"product_name\":\"P\","
        "\"product_price\":1,\"quantity\":1}, 5]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct baskets_basket b = BASKETS_BASKET_INIT;
        core_err err = CORE_ERR_INIT;
        assert_int_equal(baskets__items_decode(&b, bad[i], &err), CORE_ERR_INVALID);
        assert_true(strlen(err.msg) > 0);
        assert_int_equal(b.nitems, 0);
        baskets_basket_release(&b);
    }
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets__items_decode(&b, "{}", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "items are not a JSON array");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(start_saves_an_open_basket),
        T(start_rules_and_failures),
        T(get_returns_a_copy),
        T(get_unknown_blank_and_failing),
        T(add_item_reads_stores_and_updates),
        T(add_unknown_product_is_not_found),
        T(add_item_failing_dependencies),
        T(add_item_rules),
        T(remove_item_leaves_the_rest),
        T(remove_item_rules_and_failures),
        T(cancel_basket),
        T(checkout_creates_the_order_then_saves),
        T(checkout_rules_do_not_call_ordering),
        T(checkout_ordering_failure_keeps_basket_open),
        T(checkout_update_failure_is_reported),
        T(commands_out_of_memory),
        T(items_json_round_trip),
        T(items_json_rejects_bad_data),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
