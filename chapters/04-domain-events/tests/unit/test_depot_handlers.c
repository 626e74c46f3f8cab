/* test_depot_handlers.c -- unit tests of depot/handlers.h (chapter 04): the OrderHandlers
 * registered on a real ddd_dispatcher, fed with the events a real shopping list records
 * (domain.h); the ordering module is a fake that records its calls and can be told to fail
 * (tests/support/depot_fakes.h).
 * Checked: only ShoppingListCompleted readies the order, with the list's order id; a failing
 * ordering module is reported through the dispatcher; malformed events are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ddd.h"
#include "depot/domain_events.pb-c.h"
#include "depot/handlers.h"
#include "depot_fakes.h"
#include "log.h"
#include "pb.h"

struct fixture {
    struct depot_fake_orders orders;
    struct depot_order_handlers handlers;
    ddd_dispatcher *dispatcher;
    long live;
};

static int setup(void **state)
{
    struct fixture *fx = test_calloc(1, sizeof *fx);
    fx->live = core_alloc_live();
    depot_fake_orders_port(&fx->handlers.orders, &fx->orders);
    assert_int_equal(ddd_dispatcher_new(&fx->dispatcher, NULL), CORE_OK);
    assert_int_equal(depot_register_order_handlers(fx->dispatcher, &fx->handlers, NULL), CORE_OK);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    core_alloc_fail_after(-1);
    ddd_dispatcher_free(fx->dispatcher);
    assert_int_equal(core_alloc_live(), fx->live); /* leak check */
    test_free(fx);
    return 0;
}

/* Publishes the events recorded so far by l, as the application does after a save. */
static core_status publish(struct fixture *fx, struct depot_shopping_list *l, core_err *err)
{
    struct ddd_event_list events = DDD_EVENT_LIST_INIT;
    assert_int_equal(ddd_aggregate_take_events(&l->agg, &events, NULL), CORE_OK);
    core_status st = ddd_dispatcher_publish(fx->dispatcher, events.items, events.n, err);
    ddd_event_list_release(&events);
    return st;
}

static void only_shopping_list_completed_is_subscribed(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(ddd_dispatcher_count(fx->dispatcher, "depot.ShoppingListCompleted"), 1);
    assert_int_equal(ddd_dispatcher_count(fx->dispatcher, "depot.ShoppingListCreated"), 0);
    assert_int_equal(ddd_dispatcher_count(fx->dispatcher, "depot.ShoppingListAssigned"), 0);
    assert_int_equal(ddd_dispatcher_count(fx->dispatcher, "depot.ShoppingListCanceled"), 0);
}

static void completing_a_list_readies_its_order(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    assert_int_equal(depot_shopping_list_create(&l, "l1", "o1", NULL), CORE_OK);
    assert_int_equal(depot_shopping_list_assign(&l, "bot-1", NULL), CORE_OK);
    assert_int_equal(publish(fx, &l, &err), CORE_OK); /* created + assigned: nobody called */
    assert_string_equal(fx->orders.log, "");

    assert_int_equal(depot_shopping_list_complete(&l, NULL), CORE_OK);
    assert_int_equal(publish(fx, &l, &err), CORE_OK);
    assert_string_equal(fx->orders.log, "ready(o1)");
    assert_int_equal(err.status, CORE_OK);
    depot_shopping_list_release(&l);
}

static void a_cancelled_list_does_not_ready_its_order(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    assert_int_equal(depot_shopping_list_create(&l, "l1", "o1", NULL), CORE_OK);
    assert_int_equal(depot_shopping_list_cancel(&l, NULL), CORE_OK);
    assert_int_equal(publish(fx, &l, &err), CORE_OK);
    assert_string_equal(fx->orders.log, "");
    depot_shopping_list_release(&l);
}

static void a_failing_ordering_module_is_reported(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    assert_int_equal(depot_shopping_list_create(&l, "l1", "o1", NULL), CORE_OK);
    l.status = DEPOT_LIST_ASSIGNED;
    assert_int_equal(depot_shopping_list_complete(&l, NULL), CORE_OK);
    fx->orders.fail = CORE_ERR_NOT_FOUND;
    assert_int_equal(publish(fx, &l, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "depot.OrderHandlers on depot.ShoppingListCompleted: readying "
                                 "order o1: the order cannot be readied");
    assert_string_equal(fx->orders.log, "ready(o1)");
    depot_shopping_list_release(&l);
}

static void malformed_events_are_refused(void **state)
{
    struct fixture *fx = *state;
    ddd_event *ev = NULL;
    /* a payload of another type, none at all, a blank order id */
    for (int i = 0; i < 3; i++) {
        core_err err = CORE_ERR_INIT;
        ProtobufCMessage *payload =
            i == 0   ? pb_new(&depot__domain__shopping_list_created__descriptor)
            : i == 1 ? NULL
                     : pb_new(&depot__domain__shopping_list_completed__descriptor);
        assert_true(i == 1 || payload != NULL);
        assert_int_equal(ddd_event_new(&ev, "depot.ShoppingListCompleted", &payload, NULL),
                         CORE_OK);
        assert_int_equal(ddd_dispatcher_publish(fx->dispatcher, &ev, 1, &err), CORE_ERR_INTERNAL);
        assert_string_equal(err.msg,
                            i < 2 ? "depot.OrderHandlers on depot.ShoppingListCompleted: event "
                                    "depot.ShoppingListCompleted carries no "
                                    "depot.domain.ShoppingListCompleted payload"
                                  : "depot.OrderHandlers on depot.ShoppingListCompleted: event "
                                    "depot.ShoppingListCompleted carries no order id");
        ddd_event_free(ev);
    }
    assert_string_equal(fx->orders.log, "");
}

static void registration_out_of_memory_is_reported(void **state)
{
    struct fixture *fx = *state;
    int failures = 0;
    for (long n = 0;; n++) {
        ddd_dispatcher *d = NULL;
        core_err err = CORE_ERR_INIT;
        long live = core_alloc_live();
        assert_int_equal(ddd_dispatcher_new(&d, NULL), CORE_OK);
        core_alloc_fail_after(n);
        core_status st = depot_register_order_handlers(d, &fx->handlers, &err);
        core_alloc_fail_after(-1);
        ddd_dispatcher_free(d);
        assert_int_equal(core_alloc_live(), live);
        if (st == CORE_OK)
            break;
        assert_int_equal(st, CORE_ERR_NOMEM);
        failures++;
    }
    assert_true(failures > 0);
}

int main(void)
{
    log_init(LOG_LEVEL_DEBUG); /* run the logging decorator's formatting too */
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(only_shopping_list_completed_is_subscribed),
        T(completing_a_list_readies_its_order),
        T(a_cancelled_list_does_not_ready_its_order),
        T(a_failing_ordering_module_is_reported),
        T(malformed_events_are_refused),
        T(registration_out_of_memory_is_reported),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
