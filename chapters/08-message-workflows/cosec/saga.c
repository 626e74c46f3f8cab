/* cosec/saga.c -- see saga.h: the steps of cosec.CreateOrder, each a function that builds one
 * command from the saga's data, and the one reply that carries data (the shopping list's id). */
#include "cosec/saga.h"

#include "cosec/saga.pb-c.h"
#include "customers/commands.h"
#include "depot/commands.h"
#include "ordering/commands.h"
#include "ordering/events.h"
#include "payments/commands.h"
#include "pb.h"

/* The saga's data, as the orchestrator keeps it. */
static const Cosec__CreateOrderData *data_of(const struct sec_state *st)
{
    return (const Cosec__CreateOrderData *)st->data;
}

/* Fills out with the command name on channel and payload m (taken), when building m went well
 * (st, m not NULL); else frees m and returns the failure. */
static core_status command(struct sec_command *out, const char *channel, const char *name,
                           ProtobufCMessage *m, core_status st, core_err *err)
{
    if (m && st == CORE_OK) {
        out->channel = channel;
        out->name = name;
        out->payload = m;
        return CORE_OK;
    }
    pb_free(m);
    return m ? st : core_err_nomem(err);
}

/* step 0, compensation: the order is rejected. */
static core_status reject_order(void *ud, const struct sec_state *st, struct sec_command *out,
                                core_err *err)
{
    (void)ud;
    Ordersapi__RejectOrder *m = pb_new_of(ordersapi__reject_order);
    core_status s = m ? pb_set_string(&m->id, data_of(st)->order_id, err) : CORE_ERR_NOMEM;
    return command(out, ORDERING_COMMAND_CHANNEL, ORDERSAPI_REJECT_ORDER, (ProtobufCMessage *)m, s,
                   err);
}

/* step 1: may the customer order? */
static core_status authorize_customer(void *ud, const struct sec_state *st, struct sec_command *out,
                                      core_err *err)
{
    (void)ud;
    Customersapi__AuthorizeCustomer *m = pb_new_of(customersapi__authorize_customer);
    core_status s = m ? pb_set_string(&m->id, data_of(st)->customer_id, err) : CORE_ERR_NOMEM;
    return command(out, CUSTOMERS_COMMAND_CHANNEL, CUSTOMERSAPI_AUTHORIZE_CUSTOMER,
                   (ProtobufCMessage *)m, s, err);
}

/* step 2: depot makes the order's shopping list (pending until step 4). */
static core_status create_shopping_list(void *ud, const struct sec_state *st,
                                        struct sec_command *out, core_err *err)
{
    (void)ud;
    const Cosec__CreateOrderData *d = data_of(st);
    Depotapi__CreateShoppingList *m = pb_new_of(depotapi__create_shopping_list);
    core_status s = m ? pb_set_string(&m->order_id, d->order_id, err) : CORE_ERR_NOMEM;
    if (!s && d->n_items && !(m->items = core_calloc(d->n_items, sizeof *m->items)))
        s = core_err_nomem(err);
    for (size_t i = 0; !s && i < d->n_items; i++) {
        Depotapi__CreateShoppingList__Item *it = pb_new_of(depotapi__create_shopping_list__item);
        if (!it) {
            s = core_err_nomem(err);
            break;
        }
        m->items[m->n_items++] = it; /* owned by m from here */
        it->quantity = d->items[i]->quantity;
        if (!(s = pb_set_string(&it->product_id, d->items[i]->product_id, err)))
            s = pb_set_string(&it->store_id, d->items[i]->store_id, err);
    }
    return command(out, DEPOT_COMMAND_CHANNEL, DEPOTAPI_CREATE_SHOPPING_LIST_COMMAND,
                   (ProtobufCMessage *)m, s, err);
}

/* step 2's reply: the list's id, which the later steps and the compensation need. */
static core_status on_shopping_list_created(void *ud, struct sec_state *st, const ddd_event *reply,
                                            core_err *err)
{
    (void)ud;
    if (!ddd_event_payload_is(reply, &depotapi__created_shopping_list__descriptor))
        return core_err_set(err, CORE_ERR_INVALID, "%s %s has no %s payload", ddd_event_name(reply),
                            ddd_event_id(reply), depotapi__created_shopping_list__descriptor.name);
    const Depotapi__CreatedShoppingList *m = (const void *)ddd_event_payload(reply);
    if (core_str_blank(m->id))
        return core_err_set(err, CORE_ERR_INVALID, "%s %s names no shopping list",
                            ddd_event_name(reply), ddd_event_id(reply));
    Cosec__CreateOrderData *d = (Cosec__CreateOrderData *)st->data;
    return pb_set_string(&d->shopping_id, m->id, err);
}

/* step 2, compensation: the list is cancelled. */
static core_status cancel_shopping_list(void *ud, const struct sec_state *st,
                                        struct sec_command *out, core_err *err)
{
    (void)ud;
    Depotapi__CancelShoppingList *m = pb_new_of(depotapi__cancel_shopping_list);
    core_status s = m ? pb_set_string(&m->id, data_of(st)->shopping_id, err) : CORE_ERR_NOMEM;
    return command(out, DEPOT_COMMAND_CHANNEL, DEPOTAPI_CANCEL_SHOPPING_LIST_COMMAND,
                   (ProtobufCMessage *)m, s, err);
}

/* step 3: the payment must exist and cover the order's total. */
static core_status confirm_payment(void *ud, const struct sec_state *st, struct sec_command *out,
                                   core_err *err)
{
    (void)ud;
    Paymentsapi__ConfirmPayment *m = pb_new_of(paymentsapi__confirm_payment);
    core_status s = m ? pb_set_string(&m->id, data_of(st)->payment_id, err) : CORE_ERR_NOMEM;
    if (m)
        m->amount = data_of(st)->total;
    return command(out, PAYMENTS_COMMAND_CHANNEL, PAYMENTSAPI_CONFIRM_PAYMENT,
                   (ProtobufCMessage *)m, s, err);
}

/* step 4: the list becomes available to the bots. */
static core_status initiate_shopping(void *ud, const struct sec_state *st, struct sec_command *out,
                                     core_err *err)
{
    (void)ud;
    Depotapi__InitiateShopping *m = pb_new_of(depotapi__initiate_shopping);
    core_status s = m ? pb_set_string(&m->id, data_of(st)->shopping_id, err) : CORE_ERR_NOMEM;
    return command(out, DEPOT_COMMAND_CHANNEL, DEPOTAPI_INITIATE_SHOPPING_COMMAND,
                   (ProtobufCMessage *)m, s, err);
}

/* step 5: the order is approved, with its shopping list. */
static core_status approve_order(void *ud, const struct sec_state *st, struct sec_command *out,
                                 core_err *err)
{
    (void)ud;
    Ordersapi__ApproveOrder *m = pb_new_of(ordersapi__approve_order);
    core_status s = m ? pb_set_string(&m->id, data_of(st)->order_id, err) : CORE_ERR_NOMEM;
    if (!s)
        s = pb_set_string(&m->shopping_id, data_of(st)->shopping_id, err);
    return command(out, ORDERING_COMMAND_CHANNEL, ORDERSAPI_APPROVE_ORDER, (ProtobufCMessage *)m, s,
                   err);
}

static const struct sec_reply_handler list_created[] = {
    {DEPOTAPI_CREATED_SHOPPING_LIST_REPLY, on_shopping_list_created},
    {NULL, NULL},
};

static const struct sec_step steps[] = {
    {NULL, NULL, reject_order, NULL},
    {authorize_customer, NULL, NULL, NULL},
    {create_shopping_list, list_created, cancel_shopping_list, NULL},
    {confirm_payment, NULL, NULL, NULL},
    {initiate_shopping, NULL, NULL, NULL},
    {approve_order, NULL, NULL, NULL},
};

const struct sec_saga cosec_create_order_saga = {
    COSEC_CREATE_ORDER_SAGA,
    COSEC_REPLY_CHANNEL,
    &cosec__create_order_data__descriptor,
    steps,
    sizeof steps / sizeof steps[0],
};

core_status cosec_data_from_order_created(const ddd_event *event, ProtobufCMessage **out,
                                          core_err *err)
{
    *out = NULL;
    if (!ddd_event_payload_is(event, &ordersapi__order_created__descriptor))
        return core_err_set(err, CORE_ERR_INVALID, "%s %s is not an %s", ddd_event_name(event),
                            ddd_event_id(event), ORDERSAPI_ORDER_CREATED);
    const Ordersapi__OrderCreated *e = (const void *)ddd_event_payload(event);
    if (core_str_blank(e->id))
        return core_err_set(err, CORE_ERR_INVALID, "%s %s names no order", ddd_event_name(event),
                            ddd_event_id(event));
    Cosec__CreateOrderData *d = pb_new_of(cosec__create_order_data);
    if (!d || pb_set_string(&d->order_id, e->id, err) ||
        pb_set_string(&d->customer_id, e->customer_id, err) ||
        pb_set_string(&d->payment_id, e->payment_id, err))
        goto fail;
    if (e->n_items && !(d->items = core_calloc(e->n_items, sizeof *d->items)))
        goto fail;
    for (size_t i = 0; i < e->n_items; i++) {
        Cosec__CreateOrderData__Item *it = pb_new_of(cosec__create_order_data__item);
        if (!it)
            goto fail;
        d->items[d->n_items++] = it; /* owned by d from here */
        if (pb_set_string(&it->product_id, e->items[i]->product_id, err) ||
            pb_set_string(&it->store_id, e->items[i]->store_id, err))
            goto fail;
        it->price = e->items[i]->price;
        it->quantity = e->items[i]->quantity;
        d->total += it->price * it->quantity;
    }
    *out = &d->base;
    return CORE_OK;
fail:
    pb_free((ProtobufCMessage *)d);
    return core_err_nomem(err);
}
