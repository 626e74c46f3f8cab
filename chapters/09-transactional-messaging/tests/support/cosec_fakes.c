/* cosec_fakes.c -- see cosec_fakes.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cosec/handlers.h"
#include "cosec/saga.h"
#include "cosec_fakes.h"
#include "customers/commands.h"
#include "ddd.h"
#include "depot/commands.h"
#include "ordering/commands.h"
#include "ordering/events.h"
#include "payments/commands.h"
#include "pb.h"

static void saw(struct cosec_world *w, const char *name, const char *key)
{
    assert_true(w->n < COSEC_WORLD_MAX);
    snprintf(w->seen[w->n++], sizeof w->seen[0], "%s:%s", name, key);
}

/* The reply of the fake depot to CreateShoppingListCommand. */
static core_status list_created(const struct cosec_world *w, ddd_event **reply, core_err *err)
{
    Depotapi__CreatedShoppingList *r = pb_new_of(depotapi__created_shopping_list);
    assert_non_null(r);
    assert_int_equal(pb_set_string(&r->id, w->list_without_id ? "" : COSEC_FAKE_LIST, NULL),
                     CORE_OK);
    ProtobufCMessage *rm = &r->base;
    return ddd_event_new(reply, DEPOTAPI_CREATED_SHOPPING_LIST_REPLY, &rm, err);
}

static core_status participant(void *ud, const struct am_delivery *d, const ddd_event *cmd,
                               ddd_event **reply, core_err *err)
{
    struct cosec_world *w = ud;
    const char *name = ddd_event_name(cmd);
    const void *p = ddd_event_payload(cmd);
    char key[128];
    assert_string_equal(d->name, name);
    const char *saga_id = ddd_event_metadata(cmd, "COMMAND_SAGA_ID");
    core_strlcpy(w->saga_id, saga_id ? saga_id : "", sizeof w->saga_id);
    if (strcmp(name, CUSTOMERSAPI_AUTHORIZE_CUSTOMER) == 0) {
        saw(w, name, ((const Customersapi__AuthorizeCustomer *)p)->id);
        return w->customer_disabled
                   ? core_err_set(err, CORE_ERR_INVALID, "the customer is disabled")
                   : CORE_OK;
    }
    if (strcmp(name, DEPOTAPI_CREATE_SHOPPING_LIST_COMMAND) == 0) {
        const Depotapi__CreateShoppingList *m = p;
        const Depotapi__CreateShoppingList__Item *first = m->n_items ? m->items[0] : NULL;
        snprintf(key, sizeof key, "%s/%zu items/%s x%d@%s", m->order_id, m->n_items,
                 first ? first->product_id : "-", first ? (int)first->quantity : 0,
                 first ? first->store_id : "-");
        saw(w, name, key);
        w->nitems = 0;
        for (size_t i = 0; i < m->n_items && i < 4; i++, w->nitems++)
            snprintf(w->items[i], sizeof w->items[i], "%s x%d@%s", m->items[i]->product_id,
                     (int)m->items[i]->quantity, m->items[i]->store_id);
        return list_created(w, reply, err);
    }
    if (strcmp(name, PAYMENTSAPI_CONFIRM_PAYMENT) == 0) {
        const Paymentsapi__ConfirmPayment *m = p;
        saw(w, name, m->id);
        w->amount_asked = m->amount;
        return w->payment_short
                   ? core_err_set(err, CORE_ERR_INVALID, "the payment does not cover the total")
                   : CORE_OK;
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

void cosec_world_register(es_registry *reg)
{
    core_err err = CORE_ERR_INIT;
    if (ordering_register_integration_types(reg, &err) ||
        customers_register_command_types(reg, &err) || depot_register_command_types(reg, &err) ||
        payments_register_command_types(reg, &err) || ordering_register_command_types(reg, &err))
        fail_msg("registering the saga's messages: %s", err.msg);
}

void cosec_world_subscribe(struct cosec_world *w, am_stream *s, const es_registry *reg)
{
    static const char *const channels[][2] = {
        {CUSTOMERS_COMMAND_CHANNEL, CUSTOMERS_COMMANDS_GROUP},
        {DEPOT_COMMAND_CHANNEL, DEPOT_COMMANDS_GROUP},
        {PAYMENTS_COMMAND_CHANNEL, PAYMENTS_COMMANDS_GROUP},
        {ORDERING_COMMAND_CHANNEL, ORDERING_COMMANDS_GROUP},
    };
    for (size_t i = 0; i < sizeof channels / sizeof channels[0]; i++) {
        struct am_sub_opts o = AM_SUB_OPTS_INIT;
        o.group = channels[i][1];
        core_err err = CORE_ERR_INIT;
        if (am_command_subscribe(s, channels[i][0], &o, reg, participant, w, &err))
            fail_msg("subscribing the fake on %s: %s", channels[i][0], err.msg);
    }
}

void cosec_world_order_created(am_stream *s, const char *order_id)
{
    static const char *const products[] = {"prod-a", "prod-b"};
    static const double prices[] = {9.99, 5.00};
    static const int qty[] = {2, 1};
    Ordersapi__OrderCreated *m = pb_new_of(ordersapi__order_created);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->id, order_id, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->customer_id, "c1", NULL), CORE_OK);
    assert_int_equal(pb_set_string(&m->payment_id, "p1", NULL), CORE_OK);
    m->items = core_calloc(2, sizeof *m->items);
    assert_non_null(m->items);
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
    assert_int_equal(am_event_publish(s, ORDERING_ORDER_CHANNEL, ev, &err), CORE_OK);
    ddd_event_free(ev);
}

void cosec_rig_open(struct cosec_rig *r, int reply_max_deliver)
{
    core_err err = CORE_ERR_INIT;
    struct am_sub_opts replies = AM_SUB_OPTS_INIT;
    replies.group = COSEC_REPLIES_GROUP;
    replies.max_deliver = reply_max_deliver;
    if (am_mem_broker_new(&r->b, &err) || am_mem_stream_new(&r->s, r->b, "mallbots", &err) ||
        es_registry_new(&r->reg, &err))
        fail_msg("the rig's stream: %s", err.msg);
    cosec_world_register(r->reg);
    if (sec_mem_store_new(&r->store, &err) ||
        sec_orchestrator_new(&r->o, &cosec_create_order_saga, NULL, r->store, r->s, r->reg, &err) ||
        sec_orchestrator_subscribe(r->o, &replies, &err) ||
        cosec_subscribe_order_handlers(r->s, NULL, r->reg, r->o, &err))
        fail_msg("the rig's saga: %s", err.msg);
    cosec_world_subscribe(&r->w, r->s, r->reg);
}

void cosec_rig_close(struct cosec_rig *r)
{
    am_stream_free(r->s);
    sec_orchestrator_free(r->o);
    sec_store_free(r->store);
    am_mem_broker_free(r->b);
    es_registry_free(r->reg);
}
