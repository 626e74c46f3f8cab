/* test_depot_app.c -- unit tests of the depot module's application layer with a fake repository
 * and fake stores and ordering modules (tests/support/depot_fakes.h; no servers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "depot/application.h"
#include "depot_fakes.h"

struct fixture {
    struct depot_fake_lists lists;
    struct depot_fake_stores stores;
    struct depot_fake_orders orders;
    struct depot_app app;
    long live;
};

static int setup(void **state)
{
    struct fixture *fx = test_calloc(1, sizeof *fx);
    depot_fake_lists_port(&fx->app.lists, &fx->lists);
    depot_fake_stores_port(&fx->app.stores, &fx->stores);
    depot_fake_orders_port(&fx->app.orders, &fx->orders);
    fx->live = core_alloc_live();
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    depot_fake_lists_release(&fx->lists);
    assert_int_equal(core_alloc_live(), fx->live); /* leak check */
    test_free(fx);
    return 0;
}

static const struct depot_order_item order_items[] = {
    {"s1", "p1", 2}, {"s2", "p3", 1}, {"s1", "p2", 4}};
#define NITEMS (sizeof order_items / sizeof order_items[0])

/* Creates the list of order o1 from order_items; returns its row. */
static struct depot_shopping_list *given_list(struct fixture *fx, enum depot_list_status status)
{
    char id[DEPOT_ID_MAX + 1];
    assert_int_equal(depot_app_create_shopping_list(&fx->app, "o1", order_items, NITEMS, id, NULL),
                     CORE_OK);
    struct depot_shopping_list *row = depot_fake_list(&fx->lists, id);
    assert_non_null(row);
    row->status = status;
    if (status != DEPOT_LIST_AVAILABLE)
        core_strlcpy(row->assigned_bot_id, "bot-1", sizeof row->assigned_bot_id);
    return row;
}

/* ---- CreateShoppingList ---------------------------------------------------------------------- */

static void create_builds_stops_from_the_stores_module(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    char id[DEPOT_ID_MAX + 1] = "";
    assert_int_equal(depot_app_create_shopping_list(&fx->app, "o1", order_items, NITEMS, id, &err),
                     CORE_OK);
    assert_int_equal(err.status, CORE_OK);
    assert_true(core_uuid_valid(id));
    assert_int_equal(fx->lists.saves, 1);
    assert_int_equal(fx->stores.store_calls, 2); /* s1 once for its two items */
    assert_int_equal(fx->stores.product_calls, 3);

    const struct depot_shopping_list *l = &fx->lists.rows[0];
    assert_string_equal(l->id, id);
    assert_string_equal(l->order_id, "o1");
    assert_int_equal(l->status, DEPOT_LIST_AVAILABLE);
    assert_string_equal(l->assigned_bot_id, "");
    assert_int_equal(l->nstops, 2);
    assert_string_equal(l->stops[0].store_id, "s1");
    assert_string_equal(l->stops[0].store_name, "Waldorf Books");
    assert_string_equal(l->stops[0].store_location, "West Upper Level");
    assert_int_equal(l->stops[0].nitems, 2);
    assert_string_equal(l->stops[0].items[0].product_name, "EDA with Golang");
    assert_int_equal(l->stops[0].items[0].quantity, 2);
    assert_string_equal(l->stops[0].items[1].product_name, "C Interfaces");
    assert_int_equal(l->stops[0].items[1].quantity, 4);
    assert_string_equal(l->stops[1].store_name, "Nic & Naks");
    assert_string_equal(l->stops[1].items[0].product_id, "p3");
    assert_int_equal(l->stops[1].items[0].quantity, 1);
}

static void create_checks_its_input_before_calling_stores(void **state)
{
    struct fixture *fx = *state;
    const struct depot_order_item blank_store[] = {{"s1", "p1", 1}, {" ", "p1", 1}};
    const struct depot_order_item blank_product[] = {{"s1", NULL, 1}};
    const struct depot_order_item no_quantity[] = {{"s1", "p1", 0}};
    const struct {
        const char *order_id;
        const struct depot_order_item *items;
        size_t n;
        const char *text;
    } cases[] = {
        {"", order_items, NITEMS, "the order id cannot be blank"},
        {"o1", order_items, 0, "the shopping list has no items"},
        {"o1", NULL, 0, "the shopping list has no items"},
        {"o1", blank_store, 2, "the store id cannot be blank"},
        {"o1", blank_product, 1, "the product id cannot be blank"},
        {"o1", no_quantity, 1, "the item quantity must be positive"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        core_err err = CORE_ERR_INIT;
        char id[DEPOT_ID_MAX + 1] = "unchanged";
        assert_int_equal(depot_app_create_shopping_list(&fx->app, cases[i].order_id, cases[i].items,
                                                        cases[i].n, id, &err),
                         CORE_ERR_INVALID);
        assert_string_equal(err.msg, cases[i].text);
        assert_string_equal(id, "unchanged");
    }
    assert_int_equal(fx->stores.store_calls + fx->stores.product_calls, 0);
    assert_int_equal(fx->lists.saves, 0);
}

static void create_passes_stores_errors_up_and_saves_nothing(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    char id[DEPOT_ID_MAX + 1];
    const struct depot_order_item unknown_store[] = {{"s1", "p1", 1}, {"s9", "p3", 1}};
    const struct depot_order_item unknown_product[] = {{"s2", "p9", 1}};
    const struct depot_order_item foreign_product[] = {{"s2", "p1", 1}};

    assert_int_equal(depot_app_create_shopping_list(&fx->app, "o1", unknown_store, 2, id, &err),
                     CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "building shopping list: store s9 not found");
    assert_int_equal(depot_app_create_shopping_list(&fx->app, "o1", unknown_product, 1, id, &err),
                     CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "building shopping list: product p9 not found");
    assert_int_equal(depot_app_create_shopping_list(&fx->app, "o1", foreign_product, 1, id, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "building shopping list: product p1 is not sold by store s2");
    fx->stores.fail = CORE_ERR_UNAVAILABLE;
    assert_int_equal(depot_app_create_shopping_list(&fx->app, "o1", order_items, NITEMS, id, &err),
                     CORE_ERR_UNAVAILABLE);
    assert_string_equal(err.msg,
                        "building shopping list: stores RPC at 127.0.0.1:8085 unreachable");
    assert_int_equal(fx->lists.saves, 0);
}

static void create_passes_repository_errors_up(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    char id[DEPOT_ID_MAX + 1] = "unchanged";
    fx->lists.fail_save = CORE_ERR_CONFLICT;
    assert_int_equal(depot_app_create_shopping_list(&fx->app, "o1", order_items, NITEMS, id, &err),
                     CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, "shopping lists table broken");
    assert_string_equal(id, "unchanged");
    assert_int_equal(fx->lists.n, 0);
}

static void create_out_of_memory_is_reported_without_leaks(void **state)
{
    struct fixture *fx = *state;
    for (long n = 0;; n++) {
        core_err err = CORE_ERR_INIT;
        char id[DEPOT_ID_MAX + 1];
        long live = core_alloc_live();
        core_alloc_fail_after(n);
        core_status st =
            depot_app_create_shopping_list(&fx->app, "o1", order_items, NITEMS, id, &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK) {
            assert_true(n > 0);
            assert_int_equal(fx->lists.n, 1);
            break;
        }
        assert_int_equal(st, CORE_ERR_NOMEM);
        assert_int_equal(fx->lists.n, 0);
        assert_int_equal(core_alloc_live(), live);
    }
}

/* ---- CancelShoppingList ---------------------------------------------------------------------- */

static void cancel_cancels_until_completed(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    struct depot_shopping_list *row = given_list(fx, DEPOT_LIST_ASSIGNED);
    assert_int_equal(depot_app_cancel_shopping_list(&fx->app, row->id, &err), CORE_OK);
    assert_int_equal(row->status, DEPOT_LIST_CANCELLED);
    assert_int_equal(row->nstops, 2); /* the stops are kept */
    assert_int_equal(fx->lists.updates, 1);

    assert_int_equal(depot_app_cancel_shopping_list(&fx->app, row->id, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list cannot be cancelled");
    row->status = DEPOT_LIST_COMPLETED;
    assert_int_equal(depot_app_cancel_shopping_list(&fx->app, row->id, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list cannot be cancelled");
    assert_int_equal(row->status, DEPOT_LIST_COMPLETED);
    assert_int_equal(fx->lists.updates, 1);
}

static void cancel_reports_unknown_and_blank_ids(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(depot_app_cancel_shopping_list(&fx->app, "l9", &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "shopping list l9 not found");
    assert_int_equal(depot_app_cancel_shopping_list(&fx->app, "", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list id cannot be blank");
    struct depot_shopping_list *row = given_list(fx, DEPOT_LIST_AVAILABLE);
    fx->lists.fail_update = CORE_ERR_IO;
    assert_int_equal(depot_app_cancel_shopping_list(&fx->app, row->id, &err), CORE_ERR_IO);
    assert_string_equal(err.msg, "shopping lists table broken");
    assert_int_equal(row->status, DEPOT_LIST_AVAILABLE);
}

/* ---- AssignShoppingList ---------------------------------------------------------------------- */

static void assign_gives_an_available_list_to_a_bot(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    struct depot_shopping_list *row = given_list(fx, DEPOT_LIST_AVAILABLE);
    assert_int_equal(depot_app_assign_shopping_list(&fx->app, row->id, "bot-42", &err), CORE_OK);
    assert_int_equal(row->status, DEPOT_LIST_ASSIGNED);
    assert_string_equal(row->assigned_bot_id, "bot-42");

    assert_int_equal(depot_app_assign_shopping_list(&fx->app, row->id, "bot-43", &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list cannot be assigned");
    assert_string_equal(row->assigned_bot_id, "bot-42");
    assert_int_equal(fx->lists.updates, 1);
}

static void assign_rejects_bad_input(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    struct depot_shopping_list *row = given_list(fx, DEPOT_LIST_AVAILABLE);
    assert_int_equal(depot_app_assign_shopping_list(&fx->app, row->id, " ", &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the bot id cannot be blank");
    assert_int_equal(depot_app_assign_shopping_list(&fx->app, NULL, "bot-1", &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list id cannot be blank");
    assert_int_equal(depot_app_assign_shopping_list(&fx->app, "l9", "bot-1", &err),
                     CORE_ERR_NOT_FOUND);
    fx->lists.fail_find = CORE_ERR_UNAVAILABLE;
    assert_int_equal(depot_app_assign_shopping_list(&fx->app, row->id, "bot-1", &err),
                     CORE_ERR_UNAVAILABLE);
    assert_int_equal(row->status, DEPOT_LIST_AVAILABLE);
    assert_int_equal(fx->lists.updates, 0);
}

/* ---- CompleteShoppingList -------------------------------------------------------------------- */

static void complete_readies_the_order_then_saves(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    struct depot_shopping_list *row = given_list(fx, DEPOT_LIST_ASSIGNED);
    assert_int_equal(depot_app_complete_shopping_list(&fx->app, row->id, &err), CORE_OK);
    assert_int_equal(fx->orders.calls, 1);
    assert_string_equal(fx->orders.order_id, "o1");
    assert_int_equal(row->status, DEPOT_LIST_COMPLETED);
    assert_string_equal(row->assigned_bot_id, "bot-1");

    assert_int_equal(depot_app_complete_shopping_list(&fx->app, row->id, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list cannot be completed");
    assert_int_equal(fx->orders.calls, 1);
}

static void complete_needs_an_assigned_list(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    struct depot_shopping_list *row = given_list(fx, DEPOT_LIST_AVAILABLE);
    assert_int_equal(depot_app_complete_shopping_list(&fx->app, row->id, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list cannot be completed");
    assert_int_equal(depot_app_complete_shopping_list(&fx->app, "l9", &err), CORE_ERR_NOT_FOUND);
    assert_int_equal(depot_app_complete_shopping_list(&fx->app, "", &err), CORE_ERR_INVALID);
    assert_int_equal(fx->orders.calls, 0);
    assert_int_equal(row->status, DEPOT_LIST_AVAILABLE);
}

static void complete_keeps_the_list_assigned_when_ordering_fails(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    struct depot_shopping_list *row = given_list(fx, DEPOT_LIST_ASSIGNED);
    fx->orders.fail = CORE_ERR_NOT_FOUND;
    assert_int_equal(depot_app_complete_shopping_list(&fx->app, row->id, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "readying order o1: the order cannot be readied");
    assert_int_equal(row->status, DEPOT_LIST_ASSIGNED);
    assert_int_equal(fx->lists.updates, 0);

    fx->orders.fail = CORE_OK;
    fx->lists.fail_update = CORE_ERR_IO;
    assert_int_equal(depot_app_complete_shopping_list(&fx->app, row->id, &err), CORE_ERR_IO);
    assert_string_equal(err.msg, "shopping lists table broken");

    fx->lists.fail_update = CORE_OK; /* a retry then works */
    assert_int_equal(depot_app_complete_shopping_list(&fx->app, row->id, &err), CORE_OK);
    assert_int_equal(row->status, DEPOT_LIST_COMPLETED);
}

/* ---- GetShoppingList ------------------------------------------------------------------------- */

static void get_returns_a_copy_the_caller_releases(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    struct depot_shopping_list *row = given_list(fx, DEPOT_LIST_AVAILABLE);
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    assert_int_equal(depot_app_get_shopping_list(&fx->app, row->id, &l, &err), CORE_OK);
    assert_string_equal(l.id, row->id);
    assert_string_equal(l.order_id, "o1");
    assert_int_equal(l.nstops, 2);
    depot_shopping_list_release(&l);
    assert_int_equal(depot_app_get_shopping_list(&fx->app, "l9", &l, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "shopping list l9 not found");
    assert_int_equal(depot_app_get_shopping_list(&fx->app, " ", &l, &err), CORE_ERR_INVALID);
    assert_int_equal(l.nstops, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(create_builds_stops_from_the_stores_module),
        T(create_checks_its_input_before_calling_stores),
        T(create_passes_stores_errors_up_and_saves_nothing),
        T(create_passes_repository_errors_up),
        T(create_out_of_memory_is_reported_without_leaks),
        T(cancel_cancels_until_completed),
        T(cancel_reports_unknown_and_blank_ids),
        T(assign_gives_an_available_list_to_a_bot),
        T(assign_rejects_bad_input),
        T(complete_readies_the_order_then_saves),
        T(complete_needs_an_assigned_list),
        T(complete_keeps_the_list_assigned_when_ordering_fails),
        T(get_returns_a_copy_the_caller_releases),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
