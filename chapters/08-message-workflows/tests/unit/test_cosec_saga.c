/* test_cosec_saga.c -- the create-order saga (cosec/saga.h) run by the core's orchestrator on
 * the in-memory stream and saga store, against fake participants that answer its commands as
 * the real command handlers would (cosec_fakes.h): the data taken from OrderCreated (items, total),
 * every command in order with the payload it must carry (the shopping list's id from depot's reply
 * reaching the later steps), and the two rejections (a customer who may not order; a payment that
 * does not cover the total) with their compensations in order. */
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
#include "ordering/events.h"
#include "pb.h"
#include "sec.h"

#define ORDER "0b5c6d7e-1111-4222-8333-944455556666"
#define LIST COSEC_FAKE_LIST

/* ---- fixture --------------------------------------------------------------------------------- */

struct fx {
    long live;
    struct cosec_rig rig;
};

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    f.live = core_alloc_live();
    cosec_rig_open(&f.rig, 0);
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

/* OrderCreated for ORDER (cosec_fakes.h: total 24.98), and everything that follows. */
static void order_created(struct fx *f)
{
    cosec_world_order_created(f->rig.s, ORDER);
    am_mem_broker_run(f->rig.b, NULL);
}

static void saga_state(struct fx *f, struct sec_state *st)
{
    core_err err = CORE_ERR_INIT;
    assert_int_equal(sec_store_load(f->rig.store, &cosec_create_order_saga, ORDER, st, &err),
                     CORE_OK);
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void an_order_is_approved_step_by_step(void **state)
{
    struct fx *f = *state;
    order_created(f);

    assert_int_equal(f->rig.w.n, 5);
    assert_string_equal(f->rig.w.seen[0], "customersapi.AuthorizeCustomer:c1");
    assert_string_equal(f->rig.w.seen[1],
                        "depotapi.CreateShoppingListCommand:" ORDER "/2 items/prod-a x2@store-1");
    assert_string_equal(f->rig.w.seen[2], "paymentsapi.ConfirmPayment:p1");
    assert_string_equal(f->rig.w.seen[3], "depotapi.InitiateShoppingCommand:" LIST);
    assert_string_equal(f->rig.w.seen[4], "ordersapi.ApproveOrder:" ORDER "/" LIST);
    assert_float_equal(f->rig.w.amount_asked, 24.98, 1e-9); /* the order's total */
    assert_string_equal(f->rig.w.saga_id, ORDER);           /* saga id = order id */

    struct sec_state st = SEC_STATE_INIT;
    saga_state(f, &st);
    assert_true(st.done);
    assert_false(st.compensating);
    const Cosec__CreateOrderData *d = (const void *)st.data;
    assert_string_equal(d->shopping_id, LIST);
    assert_int_equal(d->n_items, 2);
    sec_state_release(&st);
}

static void a_customer_who_may_not_order_gets_the_order_rejected(void **state)
{
    struct fx *f = *state;
    f->rig.w.customer_disabled = true;
    order_created(f);

    assert_int_equal(f->rig.w.n, 2); /* no list was made, so none is cancelled */
    assert_string_equal(f->rig.w.seen[0], "customersapi.AuthorizeCustomer:c1");
    assert_string_equal(f->rig.w.seen[1], "ordersapi.RejectOrder:" ORDER);
    struct sec_state st = SEC_STATE_INIT;
    saga_state(f, &st);
    assert_true(st.done);
    assert_true(st.compensating);
    sec_state_release(&st);
}

static void a_payment_short_of_the_total_cancels_the_list_then_rejects(void **state)
{
    struct fx *f = *state;
    f->rig.w.payment_short = true;
    order_created(f);

    assert_int_equal(f->rig.w.n, 5);
    assert_string_equal(f->rig.w.seen[2], "paymentsapi.ConfirmPayment:p1");
    assert_string_equal(f->rig.w.seen[3], "depotapi.CancelShoppingListCommand:" LIST);
    assert_string_equal(f->rig.w.seen[4], "ordersapi.RejectOrder:" ORDER);
    struct sec_state st = SEC_STATE_INIT;
    saga_state(f, &st);
    assert_true(st.done);
    assert_true(st.compensating);
    sec_state_release(&st);
}

static void an_order_created_twice_runs_one_saga(void **state)
{
    struct fx *f = *state;
    order_created(f);
    order_created(f); /* another OrderCreated for the same order (a new message id) */
    assert_int_equal(f->rig.w.n, 5); /* the saga is done: nothing is sent again */
}

static void the_data_comes_from_order_created_only(void **state)
{
    (void)state;
    long live = core_alloc_live();
    ProtobufCMessage *p = pb_new_of(ordersapi__order_readied);
    assert_non_null(p);
    ddd_event *ev = NULL;
    assert_int_equal(ddd_event_new(&ev, ORDERSAPI_ORDER_READIED, &p, NULL), CORE_OK);
    ProtobufCMessage *data = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(cosec_data_from_order_created(ev, &data, &err), CORE_ERR_INVALID);
    assert_null(data);
    assert_non_null(strstr(err.msg, "is not an ordersapi.OrderCreated"));
    ddd_event_free(ev);
    assert_int_equal(core_alloc_live(), live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(an_order_is_approved_step_by_step, setup, teardown),
        cmocka_unit_test_setup_teardown(a_customer_who_may_not_order_gets_the_order_rejected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_payment_short_of_the_total_cancels_the_list_then_rejects,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(an_order_created_twice_runs_one_saga, setup, teardown),
        cmocka_unit_test(the_data_comes_from_order_created_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
