/* test_baskets_handlers.c -- unit tests of baskets/handlers.h (chapter 04) with a REAL
 * ddd_dispatcher and a fake ordering port (tests/support/baskets_fakes.h; no servers): the
 * OrderHandlers run for "baskets.BasketCheckedOut" and for nothing else, call
 * ordering.CreateOrder with the basket's id (from the event's metadata) and the payload's
 * customer, payment and items, and a failing port comes back from the dispatcher with the
 * handler's and the event's names. Events are made by the real domain (baskets/domain.h), as the
 * application publishes them. Every test checks for leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "baskets/domain.h"
#include "baskets/domain_events.pb-c.h"
#include "baskets/handlers.h"
#include "baskets_fakes.h"
#include "pb.h"

/* ---- fixture ----------------------------------------------------------------------------------
 */

struct fixture {
    long live_before;
    struct baskets_fake_ordering ordering;
    struct baskets_basket last; /* a copy of the last basket ordered */
    struct baskets_order_handlers handlers;
    ddd_dispatcher *d;
    struct ddd_event_list events; /* what a test publishes */
};

static int setup(void **state)
{
    struct fixture *fx = test_calloc(1, sizeof *fx);
    core_err err = CORE_ERR_INIT;
    core_alloc_fail_after(-1);
    fx->live_before = core_alloc_live();
    baskets_basket_init(&fx->last);
    fx->ordering.copy_to = &fx->last;
    baskets_fake_ordering_port(&fx->handlers.ordering, &fx->ordering);
    assert_int_equal(ddd_dispatcher_new(&fx->d, &err), CORE_OK);
    assert_int_equal(baskets_register_order_handlers(fx->d, &fx->handlers, &err), CORE_OK);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    core_alloc_fail_after(-1);
    ddd_event_list_release(&fx->events);
    baskets_basket_release(&fx->last);
    ddd_dispatcher_free(fx->d);
    assert_int_equal(core_alloc_live(), fx->live_before);
    test_free(fx);
    return 0;
}

/* The domain's way to a checked-out basket "b-7" of customer "c-1" with two lines, paid with
 * "pay-1": appends its four events (started, two added, checked out) to fx->events. */
static void checked_out_basket_events(struct fixture *fx)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    struct baskets_store s1 = {"s-1", "Waldorf Books", "West Upper Level"};
    struct baskets_store s2 = {"s-2", "Crystals", "Lower Level"};
    struct baskets_product p1 = {"p-1", "s-1", "EDA with Golang", 49.99};
    struct baskets_product p2 = {"p-2", "s-2", "Wizard w/ crystal", 9.99};
    core_err err = CORE_ERR_INIT;
    assert_int_equal(baskets_basket_start(&b, "b-7", "c-1", &err), CORE_OK);
    assert_int_equal(baskets_basket_add_item(&b, &s1, &p1, 3, &err), CORE_OK);
    assert_int_equal(baskets_basket_add_item(&b, &s2, &p2, 1, &err), CORE_OK);
    assert_int_equal(baskets_basket_checkout(&b, "pay-1", &err), CORE_OK);
    assert_int_equal(ddd_aggregate_take_events(&b.agg, &fx->events, &err), CORE_OK);
    baskets_basket_release(&b);
    assert_int_equal(fx->events.n, 4);
}

/* ---- tests ------------------------------------------------------------------------------------
 */

static void subscribed_to_basket_checked_out_only(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(ddd_dispatcher_count(fx->d, "baskets.BasketCheckedOut"), 1);
    assert_int_equal(ddd_dispatcher_count(fx->d, "baskets.BasketStarted"), 0);
    assert_int_equal(ddd_dispatcher_count(fx->d, "baskets.BasketItemAdded"), 0);
    assert_int_equal(ddd_dispatcher_count(fx->d, "baskets.BasketItemRemoved"), 0);
    assert_int_equal(ddd_dispatcher_count(fx->d, "baskets.BasketCanceled"), 0);
}

static void checked_out_basket_becomes_an_order(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    checked_out_basket_events(fx);
    assert_int_equal(ddd_dispatcher_publish(fx->d, fx->events.items, fx->events.n, &err), CORE_OK);
    assert_int_equal(fx->ordering.calls, 1); /* only the BasketCheckedOut reached ordering */
    const struct baskets_basket *o = &fx->last;
    assert_string_equal(o->id, "b-7"); /* order id = basket id, from "aggregate-id" */
    assert_string_equal(o->customer_id, "c-1");
    assert_string_equal(o->payment_id, "pay-1");
    assert_int_equal(o->status, BASKETS_STATUS_CHECKED_OUT);
    assert_int_equal(o->nitems, 2);
    /* the basket's order: "Crystals" before "Waldorf Books" */
    assert_string_equal(o->items[0].product_id, "p-2");
    assert_string_equal(o->items[0].store_id, "s-2");
    assert_string_equal(o->items[0].store_name, "Crystals");
    assert_string_equal(o->items[0].product_name, "Wizard w/ crystal");
    assert_true(o->items[0].product_price == 9.99);
    assert_int_equal(o->items[0].quantity, 1);
    assert_string_equal(o->items[1].product_id, "p-1");
    assert_string_equal(o->items[1].product_name, "EDA with Golang");
    assert_true(o->items[1].product_price == 49.99);
    assert_int_equal(o->items[1].quantity, 3);
}

static void other_events_do_not_order(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    checked_out_basket_events(fx);
    assert_int_equal(ddd_dispatcher_publish(fx->d, fx->events.items, 3, &err),
                     CORE_OK); /* all but the last */
    assert_int_equal(fx->ordering.calls, 0);
}

static void ordering_failure_is_reported(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    checked_out_basket_events(fx);
    fx->ordering.fail = CORE_ERR_NOT_FOUND;
    assert_int_equal(ddd_dispatcher_publish(fx->d, fx->events.items, fx->events.n, &err),
                     CORE_ERR_NOT_FOUND);
    assert_int_equal(err.status, CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg,
                        "baskets.OrderHandlers on baskets.BasketCheckedOut: the customer is not "
                        "authorized");
    assert_int_equal(fx->ordering.calls, 1);
}

/* An event the domain would never make: wrong payload type, or no aggregate id. */
static void malformed_events_are_internal_errors(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    ddd_event *ev = NULL;
    ProtobufCMessage *payload = pb_new(&baskets__domain__basket_started__descriptor);
    assert_non_null(payload);
    assert_int_equal(ddd_event_new(&ev, "baskets.BasketCheckedOut", &payload, &err), CORE_OK);
    assert_int_equal(ddd_event_set_metadata(ev, "aggregate-id", "b-7", &err), CORE_OK);
    assert_int_equal(ddd_event_list_push(&fx->events, &ev, &err), CORE_OK);
    assert_int_equal(ddd_dispatcher_publish(fx->d, fx->events.items, 1, &err), CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "has no BasketCheckedOut payload"));
    assert_int_equal(strncmp(err.msg, "baskets.OrderHandlers on baskets.BasketCheckedOut: ", 51),
                     0);

    payload = pb_new(&baskets__domain__basket_checked_out__descriptor);
    assert_non_null(payload);
    assert_int_equal(ddd_event_new(&ev, "baskets.BasketCheckedOut", &payload, &err),
                     CORE_OK); /* no metadata */
    assert_int_equal(ddd_event_list_push(&fx->events, &ev, &err), CORE_OK);
    core_err_clear(&err);
    assert_int_equal(ddd_dispatcher_publish(fx->d, &fx->events.items[1], 1, &err),
                     CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "has a missing or too long basket, customer or payment id"));
    assert_int_equal(fx->ordering.calls, 0);
}

/* Every allocation of the handler may fail: NOMEM before ordering is called, or OK. */
static void handler_out_of_memory(void **state)
{
    struct fixture *fx = *state;
    checked_out_basket_events(fx);
    fx->ordering.copy_to = NULL; /* the copy allocates */
    int failures = 0;
    for (long n = 0; n < 30; n++) {
        core_err err = CORE_ERR_INIT;
        int calls = fx->ordering.calls;
        fx->ordering.id[0] = '\0'; /* a new order each time, not the same one again */
        core_alloc_fail_after(n);
        core_status st = ddd_dispatcher_publish(fx->d, &fx->events.items[3], 1, &err);
        core_alloc_fail_after(-1);
        if (st) {
            failures++;
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_int_equal(fx->ordering.calls, calls);
        } else {
            assert_int_equal(fx->ordering.calls, calls + 1);
        }
    }
    assert_true(failures >= 8); /* two lines of four strings, their array */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(subscribed_to_basket_checked_out_only),
        T(checked_out_basket_becomes_an_order),
        T(other_events_do_not_order),
        T(ordering_failure_is_reported),
        T(malformed_events_are_internal_errors),
        T(handler_out_of_memory),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
