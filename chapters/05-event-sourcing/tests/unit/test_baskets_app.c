/* test_baskets_app.c -- unit tests of baskets/application.h (chapter 05: event-sourced) without
 * servers: the baskets live in the in-memory event store (es_mem_store_new) behind a real es_repo,
 * the stores module is a fake port. Every command and query on success, unknown basket
 * (NOT_FOUND), broken rules, failing dependencies (the error is passed up unchanged and nothing is
 * appended), optimistic concurrency (CONFLICT) and snapshots. Every test checks for leaks.
 *
 * The application publishes to a REAL ddd_dispatcher with the module's real OrderHandlers
 * (handlers.h) and a recording handler subscribed to every basket event, which also looks at what
 * the store holds when it runs. Chapter 05's order is: publish, THEN append (application.h), so
 * a handler sees the basket as it was before the command, and a refused checkout appends nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "baskets/application.h"
#include "baskets/handlers.h"

/* ---- fake stores: one store with two products ---------------------------------------------- */

struct fake_stores {
    int store_calls, product_calls;
    core_status fail_store, fail_product;
    char last_store_id[64];
};

static core_status stores_get_store(void *self, const char *id, struct baskets_store *out, core_err *err)
{
    struct fake_stores *f = self;
    f->store_calls++;
    core_strlcpy(f->last_store_id, id, sizeof f->last_store_id);
    if (f->fail_store)
        return core_err_set(err, f->fail_store, "stores RPC at 127.0.0.1:8085 unreachable: fake");
    if (strcmp(id, "s-1") != 0)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", id);
    out->id = core_strdup("s-1");
    out->name = core_strdup("Waldorf Books");
    out->location = core_strdup("West Upper Level");
    if (out->id && out->name && out->location)
        return CORE_OK;
    baskets_store_release(out);
    return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
}

static core_status stores_get_product(void *self, const char *id, struct baskets_product *out, core_err *err)
{
    struct fake_stores *f = self;
    f->product_calls++;
    if (f->fail_product)
        return core_err_set(err, f->fail_product, "fake product failure");
    const char *name = strcmp(id, "p-1") == 0 ? "EDA with Golang" : strcmp(id, "p-2") == 0 ? "Wizard w/ crystal" : NULL;
    if (!name)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
    out->id = core_strdup(id);
    out->store_id = core_strdup("s-1");
    out->name = core_strdup(name);
    out->price = strcmp(id, "p-1") == 0 ? 49.99 : 9.99;
    if (out->id && out->store_id && out->name)
        return CORE_OK;
    baskets_product_release(out);
    return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
}

/* What the store holds for basket id right now: its status and version (UNKNOWN, 0 if none). */
static enum baskets_status stored_status_of(es_repo *repo, const char *id, uint64_t *version)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_err err = CORE_ERR_INIT;
    enum baskets_status status = BASKETS_STATUS_UNKNOWN;
    *version = 0;
    if (es_repo_load(repo, id, &b, &err) == CORE_OK) {
        status = b.status;
        *version = es_aggregate_version(&b.agg);
    }
    baskets_basket_release(&b);
    return status;
}

/* ---- fake ordering (behind the real OrderHandlers): remembers the last order it was asked for -- */

struct fake_ordering {
    int calls;
    core_status fail;
    char id[BASKETS_ID_MAX + 1], customer_id[BASKETS_ID_MAX + 1], payment_id[BASKETS_ID_MAX + 1];
    size_t nitems;
    int first_quantity;
    double first_price;
    enum baskets_status status_seen;
    es_repo *repo;
    enum baskets_status stored_status_seen; /* the stored basket when ordering was called */
};

static core_status ordering_create(void *self, const struct baskets_basket *b, core_err *err)
{
    struct fake_ordering *f = self;
    uint64_t version;
    f->calls++;
    f->stored_status_seen = stored_status_of(f->repo, b->id, &version);
    if (f->fail)
        return core_err_set(err, f->fail, "the customer is not authorized");
    core_strlcpy(f->id, b->id, sizeof f->id);
    core_strlcpy(f->customer_id, b->customer_id, sizeof f->customer_id);
    core_strlcpy(f->payment_id, b->payment_id, sizeof f->payment_id);
    f->nitems = b->nitems;
    f->first_quantity = b->nitems ? b->items[0].quantity : 0;
    f->first_price = b->nitems ? b->items[0].product_price : 0;
    f->status_seen = b->status;
    return CORE_OK;
}

/* ---- a recording handler on every basket event ------------------------------------------------ */

#define REC_MAX 16

struct recorder {
    char names[REC_MAX][DDD_NAME_MAX + 1]; /* the events seen, in order */
    size_t n;
    enum baskets_status stored_status[REC_MAX]; /* the stored basket of the event then */
    uint64_t stored_version[REC_MAX];           /* its version then (0: not stored) */
    const char *fail_on;                        /* an event name to refuse, or NULL */
    const char *meddle_on;                      /* an event on which to change the basket meanwhile */
    struct baskets_app *app;                    /* for meddling */
    es_repo *repo;
};

static core_status recorder_handle(void *ud, const ddd_event *ev, core_err *err)
{
    struct recorder *r = ud;
    assert_true(r->n < REC_MAX);
    const char *id = ddd_event_metadata(ev, "aggregate-id");
    core_strlcpy(r->names[r->n], ddd_event_name(ev), sizeof r->names[r->n]);
    r->stored_status[r->n] = stored_status_of(r->repo, id, &r->stored_version[r->n]);
    r->n++;
    if (r->fail_on && strcmp(r->fail_on, ddd_event_name(ev)) == 0)
        return core_err_set(err, CORE_ERR_UNAVAILABLE, "recorder refused");
    if (r->meddle_on && strcmp(r->meddle_on, ddd_event_name(ev)) == 0) {
        r->meddle_on = NULL; /* once: this publishes (and records) a BasketItemAdded */
        core_err inner = CORE_ERR_INIT;
        assert_int_equal(baskets_app_add_item(r->app, id, "p-2", 1, &inner), CORE_OK);
    }
    return CORE_OK;
}

static const char *const basket_events[] = {BASKETS_BASKET_STARTED, BASKETS_BASKET_ITEM_ADDED,
                                            BASKETS_BASKET_ITEM_REMOVED, BASKETS_BASKET_CANCELED,
                                            BASKETS_BASKET_CHECKED_OUT};

/* ---- fixture --------------------------------------------------------------------------------- */

struct fixture {
    long live_before;
    es_registry *reg;
    es_store *store;
    es_repo *repo;
    struct fake_stores stores;
    struct fake_ordering ordering;
    struct recorder rec;
    ddd_dispatcher *events;
    struct baskets_order_handlers orders;
    struct baskets_app app;
    struct baskets_basket loaded; /* the last stored() */
};

static int setup(void **state)
{
    struct fixture *fx = test_calloc(1, sizeof *fx);
    core_err err = CORE_ERR_INIT;
    core_alloc_fail_after(-1);
    fx->live_before = core_alloc_live();
    baskets_basket_init(&fx->loaded);
    assert_int_equal(es_registry_new(&fx->reg, &err), CORE_OK);
    assert_int_equal(baskets_register_types(fx->reg, &err), CORE_OK);
    assert_int_equal(es_mem_store_new(&fx->store, fx->reg, &err), CORE_OK);
    /* no publisher: the application publishes itself, before it appends */
    assert_int_equal(es_repo_new(&fx->repo, &baskets_basket_type, fx->store, NULL, 0, &err), CORE_OK);
    fx->app.baskets = fx->repo;
    fx->app.stores = (struct baskets_stores_port){&fx->stores, stores_get_store, stores_get_product};
    fx->ordering.repo = fx->rec.repo = fx->repo;
    fx->rec.app = &fx->app;
    fx->orders.ordering = (struct baskets_ordering_port){&fx->ordering, ordering_create};
    assert_int_equal(ddd_dispatcher_new(&fx->events, &err), CORE_OK);
    for (size_t i = 0; i < sizeof basket_events / sizeof basket_events[0]; i++)
        assert_int_equal(ddd_dispatcher_subscribe(fx->events, basket_events[i], "recorder", recorder_handle, &fx->rec,
                                                  &err),
                         CORE_OK);
    assert_int_equal(baskets_register_order_handlers(fx->events, &fx->orders, &err), CORE_OK);
    fx->app.publisher = fx->events;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    core_alloc_fail_after(-1);
    baskets_basket_release(&fx->loaded);
    ddd_dispatcher_free(fx->events);
    es_repo_free(fx->repo);
    es_store_free(fx->store);
    es_registry_free(fx->reg);
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
    fx->stores.store_calls = fx->stores.product_calls = 0;
    fx->rec.n = 0;
}

/* Basket b-1 as the store has it now, loaded afresh (borrowed until the next call). */
static const struct baskets_basket *stored(struct fixture *fx)
{
    core_err err = CORE_ERR_INIT;
    baskets_basket_release(&fx->loaded);
    assert_int_equal(es_repo_load(fx->repo, "b-1", &fx->loaded, &err), CORE_OK);
    return &fx->loaded;
}

/* The number of events stored for basket b-1. */
static uint64_t stored_version(struct fixture *fx)
{
    uint64_t version;
    stored_status_of(fx->repo, "b-1", &version);
    return version;
}

#define assert_err(call, want_status, want_text)                                                            \
    do {                                                                                                    \
        core_err xerr_ = CORE_ERR_INIT;                                                                     \
        core_err *xerr = &xerr_;                                                                            \
        assert_int_equal((call), (want_status));                                                            \
        assert_string_equal(xerr_.msg, (want_text));                                                        \
    } while (0)

/* ---- StartBasket ----------------------------------------------------------------------------- */

static void start_saves_an_open_basket(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_start_basket(&fx->app, "b-1", "c-1", &err), CORE_OK);
    assert_int_equal(stored_version(fx), 1); /* one event: BasketStarted */
    assert_string_equal(stored(fx)->id, "b-1");
    assert_string_equal(stored(fx)->customer_id, "c-1");
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_OPEN);
    assert_int_equal(stored(fx)->nitems, 0);
}

static void start_rules_and_conflict(void **state)
{
    struct fixture *fx = *state;
    assert_err(baskets_app_start_basket(&fx->app, "b-1", "", xerr), CORE_ERR_INVALID,
               "the customer id cannot be blank");
    assert_err(baskets_app_start_basket(&fx->app, "", "c-1", xerr), CORE_ERR_INVALID,
               "the basket id cannot be blank");
    assert_int_equal(stored_version(fx), 0);
    assert_int_equal(fx->rec.n, 0); /* a broken rule publishes nothing */
    given_basket(fx, 0);
    /* the same id again (StartBasket generates UUIDs: a collision) */
    assert_err(baskets_app_start_basket(&fx->app, "b-1", "c-2", xerr), CORE_ERR_CONFLICT,
               "saving basket b-1: baskets.Basket b-1 already exists (expected version 0, stored version 1)");
    assert_string_equal(stored(fx)->customer_id, "c-1");
    assert_int_equal(stored_version(fx), 1);
}

/* ---- GetBasket ------------------------------------------------------------------------------- */

static void get_returns_the_basket(void **state)
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
    assert_int_equal(es_aggregate_version(&b.agg), 2);
    baskets_basket_release(&b);
    assert_int_equal(fx->rec.n, 0); /* a query publishes nothing */
}

static void get_unknown_blank_and_long_ids(void **state)
{
    struct fixture *fx = *state;
    struct baskets_basket b = BASKETS_BASKET_INIT;
    char long_id[BASKETS_ID_MAX + 2];
    memset(long_id, 'b', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_err(baskets_app_get_basket(&fx->app, "nope", &b, xerr), CORE_ERR_NOT_FOUND, "basket nope not found");
    assert_int_equal(b.nitems, 0);
    assert_string_equal(b.agg.base.id, ""); /* released after the failed load */
    assert_err(baskets_app_get_basket(&fx->app, " ", &b, xerr), CORE_ERR_INVALID, "the basket id cannot be blank");
    assert_err(baskets_app_get_basket(&fx->app, long_id, &b, xerr), CORE_ERR_INVALID, "the basket id is too long");
    given_basket(fx, 1);
    assert_err(baskets_app_get_basket(&fx->app, "b-2", &b, xerr), CORE_ERR_NOT_FOUND, "basket b-2 not found");
}

/* ---- AddItem --------------------------------------------------------------------------------- */

static void add_item_reads_stores_and_saves(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 0);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_add_item(&fx->app, "b-1", "p-2", 10, &err), CORE_OK);
    assert_int_equal(fx->stores.product_calls, 1);
    assert_int_equal(fx->stores.store_calls, 1);
    assert_string_equal(fx->stores.last_store_id, "s-1"); /* the product's store */
    assert_int_equal(stored_version(fx), 2);
    const struct baskets_item *it = baskets_basket_find_item(stored(fx), "p-2");
    assert_non_null(it);
    assert_int_equal(it->quantity, 10);
    assert_true(it->product_price == 9.99);
    assert_string_equal(it->product_name, "Wizard w/ crystal");
    assert_string_equal(it->store_id, "s-1");
    assert_int_equal(baskets_app_add_item(&fx->app, "b-1", "p-2", 5, &err), CORE_OK);
    assert_int_equal(baskets_basket_find_item(stored(fx), "p-2")->quantity, 15);
    assert_int_equal(stored_version(fx), 3);
}

static void add_unknown_product_is_not_found(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 0);
    assert_err(baskets_app_add_item(&fx->app, "b-1", "p-404", 1, xerr), CORE_ERR_NOT_FOUND,
               "product p-404 not found");
    assert_int_equal(fx->stores.store_calls, 0);
    assert_int_equal(stored_version(fx), 1);
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
    assert_err(baskets_app_add_item(&fx->app, "b-1", "p-1", 1, xerr), CORE_ERR_UNAVAILABLE, "fake product failure");
    assert_int_equal(stored_version(fx), 1); /* nothing appended */
    assert_int_equal(stored(fx)->nitems, 0);
    assert_int_equal(fx->rec.n, 0); /* nothing published */
}

static void add_item_rules(void **state)
{
    struct fixture *fx = *state;
    assert_err(baskets_app_add_item(&fx->app, "nope", "p-1", 1, xerr), CORE_ERR_NOT_FOUND, "basket nope not found");
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
    assert_int_equal(stored_version(fx), 1);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_cancel_basket(&fx->app, "b-1", &err), CORE_OK);
    assert_err(baskets_app_add_item(&fx->app, "b-1", "p-1", 1, xerr), CORE_ERR_INVALID,
               "the basket cannot be modified");
    assert_int_equal(stored_version(fx), 2); /* only the cancel */
}

/* ---- RemoveItem ------------------------------------------------------------------------------ */

static void remove_item_leaves_the_rest(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 2);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_remove_item(&fx->app, "b-1", "p-1", 1, &err), CORE_OK);
    assert_int_equal(baskets_basket_find_item(stored(fx), "p-1")->quantity, 1); /* spec 5 */
    assert_int_equal(baskets_app_remove_item(&fx->app, "b-1", "p-1", 1, &err), CORE_OK);
    assert_null(baskets_basket_find_item(stored(fx), "p-1"));
    assert_int_equal(stored_version(fx), 4);
    /* a product that is not in the basket: nothing raised, nothing appended */
    assert_int_equal(baskets_app_remove_item(&fx->app, "b-1", "p-2", 1, &err), CORE_OK);
    assert_int_equal(stored_version(fx), 4);
    assert_int_equal(fx->stores.product_calls + fx->stores.store_calls, 0); /* no stores call */
}

static void remove_item_rules(void **state)
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
    assert_err(baskets_app_cancel_basket(&fx->app, "nope", xerr), CORE_ERR_NOT_FOUND, "basket nope not found");
    assert_err(baskets_app_cancel_basket(&fx->app, "", xerr), CORE_ERR_INVALID, "the basket id cannot be blank");
    given_basket(fx, 2);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_cancel_basket(&fx->app, "b-1", &err), CORE_OK);
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_CANCELLED);
    assert_int_equal(stored(fx)->nitems, 0);
    assert_err(baskets_app_cancel_basket(&fx->app, "b-1", xerr), CORE_ERR_INVALID,
               "the basket cannot be cancelled");
    assert_int_equal(stored_version(fx), 3);
}

/* ---- CheckoutBasket -------------------------------------------------------------------------- */

/* BasketCheckedOut is published first -- the OrderHandlers create the order while the store still
 * holds the open basket -- and appended once ordering accepted. */
static void checkout_publishes_then_appends(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 5);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", &err), CORE_OK);
    assert_int_equal(fx->ordering.calls, 1);
    assert_int_equal(fx->ordering.stored_status_seen, BASKETS_STATUS_OPEN); /* not appended yet */
    assert_int_equal(fx->rec.n, 1);
    assert_string_equal(fx->rec.names[0], "baskets.BasketCheckedOut");
    assert_string_equal(fx->ordering.id, "b-1"); /* order id = basket id */
    assert_string_equal(fx->ordering.customer_id, "c-1");
    assert_string_equal(fx->ordering.payment_id, "pay-1");
    assert_int_equal(fx->ordering.nitems, 1);
    assert_int_equal(fx->ordering.first_quantity, 5);
    assert_true(fx->ordering.first_price == 49.99);
    assert_int_equal(fx->ordering.status_seen, BASKETS_STATUS_CHECKED_OUT);
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_CHECKED_OUT);
    assert_string_equal(stored(fx)->payment_id, "pay-1");
    assert_int_equal(stored(fx)->nitems, 1);
    assert_int_equal(stored_version(fx), 3);
    assert_err(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", xerr), CORE_ERR_INVALID,
               "the basket cannot be modified");
    assert_int_equal(fx->ordering.calls, 1);
    assert_int_equal(fx->rec.n, 1); /* a failed rule publishes nothing */
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
    assert_int_equal(fx->rec.n, 1); /* only the AddItem */
    assert_string_equal(fx->rec.names[0], "baskets.BasketItemAdded");
}

/* The handler's failure is the command's failure, and nothing is appended: the basket stays open
 * and the same checkout goes through once ordering accepts (chapter 03's behaviour). */
static void checkout_refused_by_ordering_keeps_basket_open(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 1);
    fx->ordering.fail = CORE_ERR_INVALID;
    assert_err(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", xerr), CORE_ERR_INVALID,
               "baskets.OrderHandlers on baskets.BasketCheckedOut: the customer is not authorized");
    assert_int_equal(fx->ordering.calls, 1);
    assert_int_equal(stored_version(fx), 2);
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_OPEN);
    assert_string_equal(stored(fx)->payment_id, "");
    fx->ordering.fail = CORE_OK;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", &err), CORE_OK);
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_CHECKED_OUT);
    assert_int_equal(stored_version(fx), 3);
}

/* ---- optimistic concurrency ------------------------------------------------------------------- */

/* Two writers loaded the same version: the second save is a CONFLICT and stores nothing. */
static void a_stale_basket_cannot_be_saved(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 1);
    struct baskets_basket stale = BASKETS_BASKET_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(es_repo_load(fx->repo, "b-1", &stale, &err), CORE_OK); /* version 2 */
    assert_int_equal(baskets_app_remove_item(&fx->app, "b-1", "p-1", 1, &err), CORE_OK); /* version 3 */
    assert_int_equal(baskets_basket_cancel(&stale, &err), CORE_OK);
    assert_err(es_repo_save(fx->repo, &stale, xerr), CORE_ERR_CONFLICT,
               "baskets.Basket b-1 was changed by someone else (expected version 2, stored version 3)");
    assert_int_equal(stale.agg.base.events.n, 1); /* still pending: reload and retry */
    baskets_basket_release(&stale);
    assert_int_equal(stored_version(fx), 3);
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_OPEN);
    assert_int_equal(stored(fx)->nitems, 0);
}

/* Someone changes the basket while ordering creates the order: the checkout's append conflicts,
 * 409 for the client -- and the order exists (the dual-write gap of application.h). Retrying
 * checks out the basket as it is now. */
static void a_change_during_checkout_is_a_conflict(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 1);
    fx->rec.meddle_on = BASKETS_BASKET_CHECKED_OUT; /* adds 1 of p-2 from inside the handler */
    assert_err(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", xerr), CORE_ERR_CONFLICT,
               "saving basket b-1: baskets.Basket b-1 was changed by someone else (expected version 2, stored "
               "version 3)");
    assert_int_equal(fx->ordering.calls, 1);
    assert_int_equal(stored_version(fx), 3);
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_OPEN);
    assert_non_null(baskets_basket_find_item(stored(fx), "p-2"));
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", &err), CORE_OK);
    assert_int_equal(fx->ordering.calls, 2);
    assert_int_equal(fx->ordering.nitems, 2);
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_CHECKED_OUT);
}

/* ---- publishing (chapter 04), then appending (chapter 05) ------------------------------------ */

/* Every command publishes what the basket raised; the handlers see the basket as the store held it
 * before the command; afterwards the events are stored, in order. */
static void commands_publish_then_append(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_app_start_basket(&fx->app, "b-1", "c-1", &err), CORE_OK);
    assert_int_equal(baskets_app_add_item(&fx->app, "b-1", "p-1", 2, &err), CORE_OK);
    assert_int_equal(baskets_app_remove_item(&fx->app, "b-1", "p-1", 1, &err), CORE_OK);
    assert_int_equal(baskets_app_remove_item(&fx->app, "b-1", "p-2", 1, &err), CORE_OK); /* not in it */
    assert_int_equal(baskets_app_cancel_basket(&fx->app, "b-1", &err), CORE_OK);
    static const char *const want[] = {"baskets.BasketStarted", "baskets.BasketItemAdded",
                                       "baskets.BasketItemRemoved", "baskets.BasketCanceled"};
    assert_int_equal(fx->rec.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(fx->rec.names[i], want[i]);
        assert_int_equal(fx->rec.stored_version[i], i); /* the event itself not stored yet */
    }
    assert_int_equal(fx->rec.stored_status[0], BASKETS_STATUS_UNKNOWN);
    assert_int_equal(fx->rec.stored_status[3], BASKETS_STATUS_OPEN);

    struct ddd_event_list events = DDD_EVENT_LIST_INIT;
    assert_int_equal(es_store_load(fx->store, "baskets.Basket", "b-1", 0, &events, &err), CORE_OK);
    assert_int_equal(events.n, 4);
    for (size_t i = 0; i < 4; i++) {
        char version[24];
        snprintf(version, sizeof version, "%zu", i + 1);
        assert_string_equal(ddd_event_name(events.items[i]), want[i]);
        assert_string_equal(ddd_event_metadata(events.items[i], "aggregate-version"), version);
        assert_string_equal(ddd_event_metadata(events.items[i], "aggregate-id"), "b-1");
    }
    ddd_event_list_release(&events);
    assert_int_equal(fx->ordering.calls, 0); /* only BasketCheckedOut concerns ordering */
}

/* Any handler's failure fails the command and nothing is appended, for every command. */
static void handler_failures_append_nothing(void **state)
{
    struct fixture *fx = *state;
    fx->rec.fail_on = "baskets.BasketStarted";
    assert_err(baskets_app_start_basket(&fx->app, "b-1", "c-1", xerr), CORE_ERR_UNAVAILABLE,
               "recorder on baskets.BasketStarted: recorder refused");
    assert_int_equal(stored_version(fx), 0); /* no basket */
    fx->rec.fail_on = NULL;
    given_basket(fx, 2);
    fx->rec.fail_on = "baskets.BasketItemAdded";
    assert_err(baskets_app_add_item(&fx->app, "b-1", "p-2", 1, xerr), CORE_ERR_UNAVAILABLE,
               "recorder on baskets.BasketItemAdded: recorder refused");
    assert_null(baskets_basket_find_item(stored(fx), "p-2"));
    fx->rec.fail_on = "baskets.BasketItemRemoved";
    assert_err(baskets_app_remove_item(&fx->app, "b-1", "p-1", 1, xerr), CORE_ERR_UNAVAILABLE,
               "recorder on baskets.BasketItemRemoved: recorder refused");
    assert_int_equal(baskets_basket_find_item(stored(fx), "p-1")->quantity, 2);
    fx->rec.fail_on = "baskets.BasketCanceled";
    assert_err(baskets_app_cancel_basket(&fx->app, "b-1", xerr), CORE_ERR_UNAVAILABLE,
               "recorder on baskets.BasketCanceled: recorder refused");
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_OPEN);
    /* the recorder runs before the OrderHandlers (registration order): ordering is not called */
    fx->rec.fail_on = "baskets.BasketCheckedOut";
    assert_err(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", xerr), CORE_ERR_UNAVAILABLE,
               "recorder on baskets.BasketCheckedOut: recorder refused");
    assert_int_equal(fx->ordering.calls, 0);
    assert_int_equal(stored(fx)->status, BASKETS_STATUS_OPEN);
    assert_int_equal(stored_version(fx), 2);
}

/* ---- snapshots (chapter 05) ------------------------------------------------------------------- */

/* With the default ES_SNAPSHOT_EVERY (3), saves that cross a multiple of 3 write a
 * "baskets.BasketV1"; a load starts from it and applies the later events. */
static void snapshots_are_written_and_used(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    given_basket(fx, 1);                                                         /* versions 1, 2 */
    struct es_snapshot snap = ES_SNAPSHOT_INIT;
    assert_int_equal(es_store_load_snapshot(fx->store, "baskets.Basket", "b-1", &snap, &err), CORE_ERR_NOT_FOUND);
    assert_int_equal(baskets_app_add_item(&fx->app, "b-1", "p-2", 4, &err), CORE_OK);    /* 3 */
    assert_int_equal(baskets_app_add_item(&fx->app, "b-1", "p-1", 1, &err), CORE_OK);    /* 4 */
    assert_int_equal(es_store_load_snapshot(fx->store, "baskets.Basket", "b-1", &snap, &err), CORE_OK);
    assert_int_equal(snap.version, 3);
    assert_string_equal(snap.name, "baskets.BasketV1");
    es_snapshot_release(&snap);
    assert_int_equal(baskets_app_remove_item(&fx->app, "b-1", "p-2", 1, &err), CORE_OK); /* 5 */
    assert_int_equal(baskets_app_checkout_basket(&fx->app, "b-1", "pay-1", &err), CORE_OK); /* 6 */
    assert_int_equal(es_store_load_snapshot(fx->store, "baskets.Basket", "b-1", &snap, &err), CORE_OK);
    assert_int_equal(snap.version, 6);
    es_snapshot_release(&snap);

    const struct baskets_basket *b = stored(fx); /* snapshot 6, no later events */
    assert_int_equal(es_aggregate_version(&b->agg), 6);
    assert_string_equal(b->id, "b-1");
    assert_int_equal(b->status, BASKETS_STATUS_CHECKED_OUT);
    assert_string_equal(b->payment_id, "pay-1");
    assert_int_equal(b->nitems, 2);
    assert_int_equal(baskets_basket_find_item(b, "p-1")->quantity, 2);
    assert_int_equal(baskets_basket_find_item(b, "p-2")->quantity, 3);
}

/* Out of memory anywhere in a command: NOMEM (or OK), never a leak or a half-saved basket. */
static void commands_out_of_memory(void **state)
{
    struct fixture *fx = *state;
    given_basket(fx, 1);
    int failures = 0;
    for (long n = 0; n < 60; n++) {
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

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(start_saves_an_open_basket),
        T(start_rules_and_conflict),
        T(get_returns_the_basket),
        T(get_unknown_blank_and_long_ids),
        T(add_item_reads_stores_and_saves),
        T(add_unknown_product_is_not_found),
        T(add_item_failing_dependencies),
        T(add_item_rules),
        T(remove_item_leaves_the_rest),
        T(remove_item_rules),
        T(cancel_basket),
        T(checkout_publishes_then_appends),
        T(checkout_rules_do_not_call_ordering),
        T(checkout_refused_by_ordering_keeps_basket_open),
        T(a_stale_basket_cannot_be_saved),
        T(a_change_during_checkout_is_a_conflict),
        T(commands_publish_then_append),
        T(handler_failures_append_nothing),
        T(snapshots_are_written_and_used),
        T(commands_out_of_memory),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
