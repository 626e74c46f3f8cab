/* test_depot_app.c -- unit tests of the depot module's application layer with a fake repository
 * and a fake stores module (no servers); the events go to a real ddd_dispatcher whose one
 * subscriber records them (chapter 04: published only after the save, a failing handler is
 * reported, the list stays saved). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ddd.h"
#include "depot/application.h"

/* ---- fakes ----------------------------------------------------------------------------------- */

#define MAX_LISTS 4

/* The repository keeps deep copies, as a database would. */
struct fake_lists {
    struct depot_shopping_list rows[MAX_LISTS];
    size_t n;
    int saves, updates;
    core_status fail_save, fail_find, fail_update;
};

struct fake_stores {
    int store_calls, product_calls;
    core_status fail; /* returned by both lookups when set */
};

/* The dispatcher's subscriber: "<event name>(<aggregate id>) ..." */
struct fake_events {
    char published[512];
    core_status fail;
    struct fake_lists *lists;
};

static core_status copy_list(struct depot_shopping_list *dst, const struct depot_shopping_list *src,
                             core_err *err)
{
    depot_shopping_list_init(dst);
    core_status st = depot_shopping_list_create(dst, src->id, src->order_id, err);
    for (size_t i = 0; !st && i < src->nstops; i++) {
        const struct depot_stop *stop = &src->stops[i];
        struct depot_store store = {stop->store_id, stop->store_name, stop->store_location};
        for (size_t j = 0; !st && j < stop->nitems; j++) {
            struct depot_product product = {stop->items[j].product_id, stop->store_id,
                                            stop->items[j].product_name};
            st = depot_shopping_list_add_item(dst, &store, &product, stop->items[j].quantity, err);
        }
    }
    memcpy(dst->assigned_bot_id, src->assigned_bot_id, sizeof dst->assigned_bot_id);
    dst->status = src->status;
    ddd_aggregate_clear_events(&dst->agg); /* a stored row has no events (create recorded one) */
    if (st)
        depot_shopping_list_release(dst);
    return st;
}

static struct depot_shopping_list *row_of(struct fake_lists *f, const char *id)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->rows[i].id, id) == 0)
            return &f->rows[i];
    return NULL;
}

static core_status list_save(void *self, const struct depot_shopping_list *l, core_err *err)
{
    struct fake_lists *f = self;
    if (f->fail_save)
        return core_err_set(err, f->fail_save, "shopping lists table broken");
    assert_true(f->n < MAX_LISTS);
    core_status st = copy_list(&f->rows[f->n], l, err);
    if (!st) {
        f->n++;
        f->saves++;
    }
    return st;
}

static core_status list_find(void *self, const char *id, struct depot_shopping_list *out,
                             core_err *err)
{
    struct fake_lists *f = self;
    if (f->fail_find)
        return core_err_set(err, f->fail_find, "shopping lists table broken");
    struct depot_shopping_list *row = row_of(f, id);
    if (!row)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "shopping list %s not found", id);
    return copy_list(out, row, err);
}

static core_status list_update(void *self, const struct depot_shopping_list *l, core_err *err)
{
    struct fake_lists *f = self;
    if (f->fail_update)
        return core_err_set(err, f->fail_update, "shopping lists table broken");
    struct depot_shopping_list *row = row_of(f, l->id);
    if (!row)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "shopping list %s not found", l->id);
    struct depot_shopping_list copy;
    core_status st = copy_list(&copy, l, err);
    if (!st) {
        depot_shopping_list_release(row);
        *row = copy;
        f->updates++;
    }
    return st;
}

/* The stores module knows s1 (p1, p2) and s2 (p3). */
static const struct {
    const char *id, *name, *location;
} known_stores[] = {{"s1", "Waldorf Books", "West Upper Level"},
                    {"s2", "Nic & Naks", "East Lower Level"}};
static const struct {
    const char *id, *store_id, *name;
} known_products[] = {{"p1", "s1", "EDA with Golang"},
                      {"p2", "s1", "C Interfaces"},
                      {"p3", "s2", "Wizard w/ crystal"}};

static core_status get_store(void *self, const char *id, struct depot_store *out, core_err *err)
{
    struct fake_stores *f = self;
    f->store_calls++;
    if (f->fail)
        return core_err_set(err, f->fail, "stores RPC at 127.0.0.1:8085 unreachable");
    for (size_t i = 0; i < sizeof known_stores / sizeof known_stores[0]; i++) {
        if (strcmp(known_stores[i].id, id) == 0) {
            out->id = core_strdup(known_stores[i].id);
            out->name = core_strdup(known_stores[i].name);
            out->location = core_strdup(known_stores[i].location);
            if (out->id && out->name && out->location)
                return CORE_OK;
            depot_store_release(out);
            return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
        }
    }
    return core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", id);
}

static core_status get_product(void *self, const char *id, struct depot_product *out, core_err *err)
{
    struct fake_stores *f = self;
    f->product_calls++;
    if (f->fail)
        return core_err_set(err, f->fail, "stores RPC at 127.0.0.1:8085 unreachable");
    for (size_t i = 0; i < sizeof known_products / sizeof known_products[0]; i++) {
        if (strcmp(known_products[i].id, id) == 0) {
            out->id = core_strdup(known_products[i].id);
            out->store_id = core_strdup(known_products[i].store_id);
            out->name = core_strdup(known_products[i].name);
            if (out->id && out->store_id && out->name)
                return CORE_OK;
            depot_product_release(out);
            return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
        }
    }
    return core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
}

static core_status on_event(void *ud, const ddd_event *ev, core_err *err)
{
    struct fake_events *f = ud;
    const char *id = ddd_event_metadata(ev, "aggregate-id");
    size_t used = strlen(f->published);
    snprintf(f->published + used, sizeof f->published - used, "%s%s(%s)", used ? " " : "",
             ddd_event_name(ev), id ? id : "-");
    assert_non_null(id);
    assert_non_null(row_of(f->lists, id)); /* published only after the save */
    if (f->fail)
        return core_err_set(err, f->fail, "ordering RPC at 127.0.0.1:8085 unreachable");
    return CORE_OK;
}

struct fixture {
    struct fake_lists lists;
    struct fake_stores stores;
    struct fake_events events;
    struct depot_app app;
    long live;
};

static int setup(void **state)
{
    static const char *const names[] = {DEPOT_SHOPPING_LIST_CREATED, DEPOT_SHOPPING_LIST_CANCELED,
                                        DEPOT_SHOPPING_LIST_ASSIGNED,
                                        DEPOT_SHOPPING_LIST_COMPLETED};
    struct fixture *fx = test_calloc(1, sizeof *fx);
    fx->app.lists = (struct depot_list_repo){&fx->lists, list_save, list_find, list_update};
    fx->app.stores = (struct depot_stores_port){&fx->stores, get_store, get_product};
    fx->events.lists = &fx->lists;
    assert_int_equal(ddd_dispatcher_new(&fx->app.publisher, NULL), CORE_OK);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_int_equal(ddd_dispatcher_subscribe(fx->app.publisher, names[i], "test.Recorder",
                                                  on_event, &fx->events, NULL),
                         CORE_OK);
    fx->live = core_alloc_live(); /* the dispatcher is counted in */
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    for (size_t i = 0; i < fx->lists.n; i++)
        depot_shopping_list_release(&fx->lists.rows[i]);
    assert_int_equal(core_alloc_live(), fx->live); /* leak check */
    ddd_dispatcher_free(fx->app.publisher);
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
    struct depot_shopping_list *row = row_of(&fx->lists, id);
    assert_non_null(row);
    row->status = status;
    if (status != DEPOT_LIST_AVAILABLE)
        core_strlcpy(row->assigned_bot_id, "bot-1", sizeof row->assigned_bot_id);
    fx->events.published[0] = '\0';
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
    assert_int_equal(fx->stores.store_calls, 3);
    assert_int_equal(fx->stores.product_calls, 3);
    char want[128];
    snprintf(want, sizeof want, "depot.ShoppingListCreated(%s)", id);
    assert_string_equal(fx->events.published, want);

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
    assert_string_equal(fx->events.published, ""); /* nothing saved, nothing published */
}

static void create_out_of_memory_is_reported_without_leaks(void **state)
{
    struct fixture *fx = *state;
    int after_save = 0;
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
        if (fx->lists.n == 1) { /* failed handing the events over, after the save */
            assert_string_equal(fx->events.published, "");
            depot_shopping_list_release(&fx->lists.rows[0]);
            fx->lists.n = 0;
            after_save++;
        }
        assert_int_equal(fx->lists.n, 0);
        assert_int_equal(core_alloc_live(), live);
    }
    assert_int_equal(after_save, 1); /* reported, not swallowed */
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
    char want[128];
    snprintf(want, sizeof want, "depot.ShoppingListCanceled(%s)", row->id);
    assert_string_equal(fx->events.published, want);

    assert_int_equal(depot_app_cancel_shopping_list(&fx->app, row->id, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list cannot be cancelled");
    row->status = DEPOT_LIST_COMPLETED;
    assert_int_equal(depot_app_cancel_shopping_list(&fx->app, row->id, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list cannot be cancelled");
    assert_int_equal(row->status, DEPOT_LIST_COMPLETED);
    assert_int_equal(fx->lists.updates, 1);
    assert_string_equal(fx->events.published, want); /* refused: nothing more published */
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
    assert_string_equal(fx->events.published, ""); /* not saved: not published */
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
    char want[128];
    snprintf(want, sizeof want, "depot.ShoppingListAssigned(%s)", row->id);
    assert_string_equal(fx->events.published, want);

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

static void complete_saves_then_publishes(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    struct depot_shopping_list *row = given_list(fx, DEPOT_LIST_ASSIGNED);
    assert_int_equal(depot_app_complete_shopping_list(&fx->app, row->id, &err), CORE_OK);
    char want[128];
    snprintf(want, sizeof want, "depot.ShoppingListCompleted(%s)", row->id);
    assert_string_equal(fx->events.published, want); /* the OrderHandlers' cue */
    assert_int_equal(row->status, DEPOT_LIST_COMPLETED);
    assert_string_equal(row->assigned_bot_id, "bot-1");
    assert_int_equal(fx->lists.updates, 1);

    assert_int_equal(depot_app_complete_shopping_list(&fx->app, row->id, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list cannot be completed");
    assert_string_equal(fx->events.published, want);
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
    assert_string_equal(fx->events.published, "");
    assert_int_equal(row->status, DEPOT_LIST_AVAILABLE);
}

static void complete_failing_handler_is_reported_after_the_save(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    struct depot_shopping_list *row = given_list(fx, DEPOT_LIST_ASSIGNED);
    fx->lists.fail_update = CORE_ERR_IO; /* not saved: not published, stays assigned */
    assert_int_equal(depot_app_complete_shopping_list(&fx->app, row->id, &err), CORE_ERR_IO);
    assert_string_equal(err.msg, "shopping lists table broken");
    assert_int_equal(row->status, DEPOT_LIST_ASSIGNED);
    assert_string_equal(fx->events.published, "");

    fx->lists.fail_update = CORE_OK;
    fx->events.fail = CORE_ERR_UNAVAILABLE;
    assert_int_equal(depot_app_complete_shopping_list(&fx->app, row->id, &err),
                     CORE_ERR_UNAVAILABLE);
    assert_string_equal(err.msg, "test.Recorder on depot.ShoppingListCompleted: ordering RPC at "
                                 "127.0.0.1:8085 unreachable");
    /* the dual write: the list is completed all the same (chapter 03 kept it assigned) */
    assert_int_equal(row->status, DEPOT_LIST_COMPLETED);
    assert_int_equal(fx->lists.updates, 1);
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
        T(complete_saves_then_publishes),
        T(complete_needs_an_assigned_list),
        T(complete_failing_handler_is_reported_after_the_save),
        T(get_returns_a_copy_the_caller_releases),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
