/* test_saga_step.c -- exercise 08.1: a saga step with its compensation (cosec/saga.c: step 2,
 * CreateShoppingList, its reply and CancelShoppingList).
 *
 * The tests are the exercise's to-do list, in the order the README suggests: the command carries
 * the order and every item; depot's reply puts the list's id into the saga's data, from where
 * the later steps send it on; a reply that names no list stops the saga where it is; when the
 * payment is refused the list is cancelled before the order is rejected, and when the customer
 * is refused (no list was made yet) only the order is rejected.
 *
 * The saga runs in the core's orchestrator (sec.h) on the in-memory stream and saga store, the
 * participants are fakes that answer as the real modules would (cosec_fakes.h). No servers.
 * Every test also checks that it leaked nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "am.h"
#include "cosec/handlers.h"
#include "cosec/saga.h"
#include "cosec/saga.pb-c.h"
#include "cosec_fakes.h"
#include "log.h"
#include "sec.h"

#define ORDER "7d1e2f30-aaaa-4bbb-8ccc-dddddddddddd"

struct fx {
    long live;
    struct cosec_rig rig;
};

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    f.live = core_alloc_live();
    cosec_rig_open(&f.rig, 2); /* a reply the saga cannot use is given up on quickly */
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    cosec_rig_close(&f->rig);
    assert_int_equal(core_alloc_live(), f->live);
    return 0;
}

/* Runs one order through the saga (cosec_fakes.h: 2 x prod-a, 1 x prod-b, store-1). */
static void run_order(struct fx *f)
{
    cosec_world_order_created(f->rig.s, ORDER);
    am_mem_broker_run(f->rig.b, NULL);
}

/* The saga's state as stored; release it with sec_state_release. */
static void stored_state(struct fx *f, struct sec_state *st)
{
    core_err err = CORE_ERR_INIT;
    assert_int_equal(sec_store_load(f->rig.store, &cosec_create_order_saga, ORDER, st, &err),
                     CORE_OK);
}

/* Prints what the fakes saw, so a failing test shows the whole conversation. */
static void show(const struct fx *f)
{
    for (int i = 0; i < f->rig.w.n; i++)
        print_message("  command %d: %s\n", i + 1, f->rig.w.seen[i]);
}

/* 1. The command asks depot for the order's list, with every item of the order. */
static void the_list_is_asked_for_with_every_item(void **state)
{
    struct fx *f = *state;
    run_order(f);
    show(f);
    assert_true(f->rig.w.n >= 2);
    assert_string_equal(f->rig.w.seen[1],
                        "depotapi.CreateShoppingListCommand:" ORDER "/2 items/prod-a x2@store-1");
    assert_int_equal(f->rig.w.nitems, 2);
    assert_string_equal(f->rig.w.items[0], "prod-a x2@store-1");
    assert_string_equal(f->rig.w.items[1], "prod-b x1@store-1");
}

/* 2. The reply's list id is kept in the saga's data and sent on by the later steps. */
static void the_list_id_is_kept_and_sent_on(void **state)
{
    struct fx *f = *state;
    run_order(f);
    show(f);
    assert_int_equal(f->rig.w.n, 5);
    assert_string_equal(f->rig.w.seen[3], "depotapi.InitiateShoppingCommand:" COSEC_FAKE_LIST);
    assert_string_equal(f->rig.w.seen[4], "ordersapi.ApproveOrder:" ORDER "/" COSEC_FAKE_LIST);
    struct sec_state st = SEC_STATE_INIT;
    stored_state(f, &st);
    assert_true(st.done);
    assert_false(st.compensating);
    assert_string_equal(((const Cosec__CreateOrderData *)st.data)->shopping_id, COSEC_FAKE_LIST);
    sec_state_release(&st);
}

/* 3. A reply that names no list is an error: the saga does not go on with a blank id. */
static void a_reply_without_a_list_stops_the_saga(void **state)
{
    struct fx *f = *state;
    f->rig.w.list_without_id = true;
    log_init(LOG_LEVEL_ERROR + 1); /* the retries and the dead letter are expected here */
    run_order(f);
    log_init(LOG_LEVEL_WARN);
    show(f);
    assert_int_equal(f->rig.w.n, 2); /* nothing after CreateShoppingList */
    struct sec_state st = SEC_STATE_INIT;
    stored_state(f, &st);
    assert_false(st.done);
    assert_int_equal(st.step, 2);
    assert_string_equal(((const Cosec__CreateOrderData *)st.data)->shopping_id, "");
    sec_state_release(&st);
}

/* 4. The payment is refused: the list is cancelled, then the order rejected. */
static void a_refused_payment_cancels_the_list_first(void **state)
{
    struct fx *f = *state;
    f->rig.w.payment_short = true;
    run_order(f);
    show(f);
    assert_int_equal(f->rig.w.n, 5);
    assert_string_equal(f->rig.w.seen[2], "paymentsapi.ConfirmPayment:p1");
    assert_string_equal(f->rig.w.seen[3], "depotapi.CancelShoppingListCommand:" COSEC_FAKE_LIST);
    assert_string_equal(f->rig.w.seen[4], "ordersapi.RejectOrder:" ORDER);
}

/* 5. The customer is refused before any list exists: only the order is rejected. */
static void a_refused_customer_has_no_list_to_cancel(void **state)
{
    struct fx *f = *state;
    f->rig.w.customer_disabled = true;
    run_order(f);
    show(f);
    assert_int_equal(f->rig.w.n, 2);
    assert_string_equal(f->rig.w.seen[1], "ordersapi.RejectOrder:" ORDER);
}

int main(void)
{
    log_init(LOG_LEVEL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_list_is_asked_for_with_every_item, setup, teardown),
        cmocka_unit_test_setup_teardown(the_list_id_is_kept_and_sent_on, setup, teardown),
        cmocka_unit_test_setup_teardown(a_reply_without_a_list_stops_the_saga, setup, teardown),
        cmocka_unit_test_setup_teardown(a_refused_payment_cancels_the_list_first, setup, teardown),
        cmocka_unit_test_setup_teardown(a_refused_customer_has_no_list_to_cancel, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
