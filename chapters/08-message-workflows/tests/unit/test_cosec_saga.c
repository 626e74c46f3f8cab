/* test_cosec_saga.c -- the create-order saga (cosec/saga.h) run by the core's orchestrator on
 * the in-memory stream and saga store, against fake participants that answer its commands as
 * the real command handlers would: the data taken from OrderCreated (items, total), every
 * command in order with the payload it must carry (the shopping list's id from depot's reply
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
#include "customers/commands.h"
#include "depot/commands.h"
#include "ordering/commands.h"
#include "ordering/events.h"
#include "payments/commands.h"
#include "pb.h"
#include "sec.h"

#define ORDER "0b5c6d7e-1111-4222-8333-944455556666"
#define LIST "list-1"

/* ---- fake participants ----------------------------------------------------------------------- */

/* How the participants answer, and the commands they saw ("name:key field"), in order. */
struct world {
    bool customer_disabled; /* AuthorizeCustomer -> a rule failure */
    bool payment_short;     /* ConfirmPayment -> a rule failure */
    double amount_asked;    /* what ConfirmPayment asked for */
    int n;
    char seen[16][128];
};

static void saw(struct world *w, const char *name, const char *key)
{
    assert_true(w->n < 16);
    snprintf(w->seen[w->n++], sizeof w->seen[0], "%s:%s", name, key);
}

static core_status participant(void *ud, const struct am_delivery *d, const ddd_event *cmd,
                               ddd_event **reply, core_err *err)
{
    struct world *w = ud;
    const char *name = ddd_event_name(cmd);
    const void *p = ddd_event_payload(cmd);
    assert_string_equal(d->name, name);
    assert_string_equal(ddd_event_metadata(cmd, "COMMAND_SAGA_ID"), ORDER);
    assert_string_equal(ddd_event_metadata(cmd, "COMMAND_SAGA_NAME"), COSEC_CREATE_ORDER_SAGA);
    if (strcmp(name, CUSTOMERSAPI_AUTHORIZE_CUSTOMER) == 0) {
        saw(w, name, ((const Customersapi__AuthorizeCustomer *)p)->id);
        if (w->customer_disabled)
            return core_err_set(err, CORE_ERR_INVALID, "customer c1 is disabled");
        return CORE_OK;
    }
    if (strcmp(name, DEPOTAPI_CREATE_SHOPPING_LIST_COMMAND) == 0) {
        const Depotapi__CreateShoppingList *m = p;
        char key[96];
        snprintf(key, sizeof key, "%s/%zu items/%s x%d", m->order_id, m->n_items,
                 m->n_items ? m->items[0]->product_id : "-",
                 m->n_items ? (int)m->items[0]->quantity : 0);
        saw(w, name, key);
        Depotapi__CreatedShoppingList *r = pb_new_of(depotapi__created_shopping_list);
        assert_non_null(r);
        assert_int_equal(pb_set_string(&r->id, LIST, NULL), CORE_OK);
        ProtobufCMessage *rm = &r->base;
        return ddd_event_new(reply, DEPOTAPI_CREATED_SHOPPING_LIST_REPLY, &rm, err);
    }
    if (strcmp(name, PAYMENTSAPI_CONFIRM_PAYMENT) == 0) {
        const Paymentsapi__ConfirmPayment *m = p;
        saw(w, name, m->id);
        w->amount_asked = m->amount;
        if (w->payment_short)
            return core_err_set(err, CORE_ERR_INVALID, "payment p1 does not cover the total");
        return CORE_OK;
    }
    if (strcmp(name, DEPOTAPI_INITIATE_SHOPPING_COMMAND) == 0) {
        saw(w, name, ((const Depotapi__InitiateShopping *)p)->id);
        return CORE_OK;
    }
    if (strcmp(name, DEPOTAPI_CANCEL_SHOPPING_LIST_COMMAND) == 0) {
        saw(w, name, ((const Depotapi__CancelShoppingList *)p)->id);
        return CORE_OK;
    }
    if (strcmp(name, ORDERSAPI_APPROVE_ORDER) == 0) {
        const Ordersapi__ApproveOrder *m = p;
        char key[96];
        snprintf(key, sizeof key, "%s/%s", m->id, m->shopping_id);
        saw(w, name, key);
        return CORE_OK;
    }
    if (strcmp(name, ORDERSAPI_REJECT_ORDER) == 0) {
        saw(w, name, ((const Ordersapi__RejectOrder *)p)->id);
        return CORE_OK;
    }
    fail_msg("unexpected command %s", name);
    return CORE_ERR_INTERNAL;
}

/* ---- fixture --------------------------------------------------------------------------------- */

struct fx {
    long live;
    am_mem_broker *b;
    am_stream *s;
    es_registry *reg;
    sec_store *store;
    sec_orchestrator *o;
    struct world w;
};

static void subscribe(struct fx *f, const char *channel, const char *group)
{
    struct am_sub_opts o = AM_SUB_OPTS_INIT;
    o.group = group;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(am_command_subscribe(f->s, channel, &o, f->reg, participant, &f->w, &err),
                     CORE_OK);
}

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    f.live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    struct am_sub_opts replies = AM_SUB_OPTS_INIT;
    replies.group = COSEC_REPLIES_GROUP;
    if (am_mem_broker_new(&f.b, &err) || am_mem_stream_new(&f.s, f.b, "mallbots", &err) ||
        es_registry_new(&f.reg, &err) || ordering_register_integration_types(f.reg, &err) ||
        customers_register_command_types(f.reg, &err) ||
        depot_register_command_types(f.reg, &err) ||
        payments_register_command_types(f.reg, &err) ||
        ordering_register_command_types(f.reg, &err) || sec_mem_store_new(&f.store, &err) ||
        sec_orchestrator_new(&f.o, &cosec_create_order_saga, NULL, f.store, f.s, f.reg, &err) ||
        sec_orchestrator_subscribe(f.o, &replies, &err) ||
        cosec_subscribe_order_handlers(f.s, f.reg, f.o, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    subscribe(&f, CUSTOMERS_COMMAND_CHANNEL, CUSTOMERS_COMMANDS_GROUP);
    subscribe(&f, DEPOT_COMMAND_CHANNEL, DEPOT_COMMANDS_GROUP);
    subscribe(&f, PAYMENTS_COMMAND_CHANNEL, PAYMENTS_COMMANDS_GROUP);
    subscribe(&f, ORDERING_COMMAND_CHANNEL, ORDERING_COMMANDS_GROUP);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    am_stream_free(f->s);
    sec_orchestrator_free(f->o);
    sec_store_free(f->store);
    am_mem_broker_free(f->b);
    es_registry_free(f->reg);
    assert_int_equal(core_alloc_live(), f->live);
    return 0;
}

/* Publishes ordersapi.OrderCreated for ORDER: customer c1, payment p1, 2 x prod-a at 9.99 and
 * 1 x prod-b at 5.00 (total 24.98), and runs the broker until nothing is due. */
static void order_created(struct fx *f)
{
    Ordersapi__OrderCreated *m = pb_new_of(ordersapi__order_created);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->id, ORDER, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->customer_id, "c1", NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->payment_id, "p1", NULL), CORE_OK);
    m->items = core_calloc(2, sizeof *m->items);
    assert_non_null(m->items);
    const char *products[] = {"prod-a", "prod-b"};
    const double prices[] = {9.99, 5.00};
    const int qty[] = {2, 1};
    for (int i = 0; i < 2; i++) {
        Ordersapi__OrderCreated__Item *it = pb_new_of(ordersapi__order_created__item);
        assert_non_null(it);
        m->items[m->n_items++] = it;
        assert_int_equal(pb_set_string(&it->product_id, products[i], NULL), CORE_OK);
        assert_int_equal(pb_set_string(&it->store_id, "store-1", NULL), CORE_OK);
        it->price = prices[i];
        it->quantity = qty[i];
    }
    ProtobufCMessage *pm = &m->base;
    ddd_event *ev = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(ddd_event_new(&ev, ORDERSAPI_ORDER_CREATED, &pm, &err), CORE_OK);
    assert_int_equal(am_event_publish(f->s, ORDERING_ORDER_CHANNEL, ev, &err), CORE_OK);
    ddd_event_free(ev);
    am_mem_broker_run(f->b, NULL);
}

static void saga_state(struct fx *f, struct sec_state *st)
{
    core_err err = CORE_ERR_INIT;
    assert_int_equal(sec_store_load(f->store, &cosec_create_order_saga, ORDER, st, &err), CORE_OK);
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void an_order_is_approved_step_by_step(void **state)
{
    struct fx *f = *state;
    order_created(f);

    assert_int_equal(f->w.n, 5);
    assert_string_equal(f->w.seen[0], "customersapi.AuthorizeCustomer:c1");
    assert_string_equal(f->w.seen[1],
                        "depotapi.CreateShoppingListCommand:" ORDER "/2 items/prod-a x2");
    assert_string_equal(f->w.seen[2], "paymentsapi.ConfirmPayment:p1");
    assert_string_equal(f->w.seen[3], "depotapi.InitiateShoppingCommand:" LIST);
    assert_string_equal(f->w.seen[4], "ordersapi.ApproveOrder:" ORDER "/" LIST);
    assert_float_equal(f->w.amount_asked, 24.98, 1e-9); /* the order's total */

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
    f->w.customer_disabled = true;
    order_created(f);

    assert_int_equal(f->w.n, 2); /* no list was made, so none is cancelled */
    assert_string_equal(f->w.seen[0], "customersapi.AuthorizeCustomer:c1");
    assert_string_equal(f->w.seen[1], "ordersapi.RejectOrder:" ORDER);
    struct sec_state st = SEC_STATE_INIT;
    saga_state(f, &st);
    assert_true(st.done);
    assert_true(st.compensating);
    sec_state_release(&st);
}

static void a_payment_short_of_the_total_cancels_the_list_then_rejects(void **state)
{
    struct fx *f = *state;
    f->w.payment_short = true;
    order_created(f);

    assert_int_equal(f->w.n, 5);
    assert_string_equal(f->w.seen[2], "paymentsapi.ConfirmPayment:p1");
    assert_string_equal(f->w.seen[3], "depotapi.CancelShoppingListCommand:" LIST);
    assert_string_equal(f->w.seen[4], "ordersapi.RejectOrder:" ORDER);
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
    assert_int_equal(f->w.n, 5); /* the saga is done: nothing is sent again */
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
        cmocka_unit_test_setup_teardown(a_customer_who_may_not_order_gets_the_order_rejected,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_payment_short_of_the_total_cancels_the_list_then_rejects,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(an_order_created_twice_runs_one_saga, setup, teardown),
        cmocka_unit_test(the_data_comes_from_order_created_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
