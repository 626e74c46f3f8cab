/* rpc_server.c -- orderingpb.OrderingService: translates RPC requests into application calls and
 * application results into responses (the book's ordering/internal/grpc/server.go).
 *
 * Requests are borrowed; responses are heap trees (pb.h) owned by the caller. Unlike the book,
 * CreateOrder uses the request's id when one is given (a checkout passes the basket's id) and
 * CompleteOrder passes the invoice id on; GetOrder also returns shopping_id and invoice_id.
 */
#include "ordering/adapters.h"
#include "ordering/api.pb-c.h"
#include "pb.h"

static core_status nomem(core_err *err)
{
    return core_err_set(err, CORE_ERR_NOMEM, "out of memory building the ordering response");
}

static core_status create_order(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **out,
                                core_err *err)
{
    const Orderingpb__CreateOrderRequest *req = (const Orderingpb__CreateOrderRequest *)msg;
    struct ordering_item *items = NULL;
    char id[ORDERING_ID_SIZE];
    core_status st;

    if (req->n_items > 0 && !(items = core_calloc(req->n_items, sizeof *items)))
        return nomem(err);
    for (size_t i = 0; i < req->n_items; i++) {
        const Orderingpb__Item *it = req->items[i];
        items[i].store_id = it->store_id;
        items[i].product_id = it->product_id;
        items[i].store_name = it->store_name;
        items[i].product_name = it->product_name;
        items[i].price = it->price;
        items[i].quantity = it->quantity;
    }
    st = ordering_app_create_order(ud, req->id, req->customer_id, req->payment_id, items,
                                   req->n_items, id, err);
    core_free(items);
    if (st)
        return st;

    Orderingpb__CreateOrderResponse *resp = pb_new_of(orderingpb__create_order_response);
    if (!resp || pb_set_string(&resp->id, id, NULL) != CORE_OK) {
        pb_free(resp ? &resp->base : NULL);
        return nomem(err);
    }
    *out = &resp->base;
    return CORE_OK;
}

/* The order as a new Orderingpb__Order heap tree; NULL when out of memory. */
static Orderingpb__Order *order_to_pb(const struct ordering_order *o)
{
    Orderingpb__Order *pb = pb_new_of(orderingpb__order);
    if (!pb)
        return NULL;
    if (pb_set_string(&pb->id, o->id, NULL) ||
        pb_set_string(&pb->customer_id, o->customer_id, NULL) ||
        pb_set_string(&pb->payment_id, o->payment_id, NULL) ||
        pb_set_string(&pb->status, ordering_status_text(o->status), NULL) ||
        pb_set_string(&pb->shopping_id, o->shopping_id, NULL) ||
        pb_set_string(&pb->invoice_id, o->invoice_id, NULL))
        goto fail;
    if (o->nitems > 0 && !(pb->items = core_calloc(o->nitems, sizeof *pb->items)))
        goto fail;
    for (size_t i = 0; i < o->nitems; i++) {
        const struct ordering_item *it = &o->items[i];
        Orderingpb__Item *item = pb_new_of(orderingpb__item);
        if (!item)
            goto fail;
        pb->items[pb->n_items++] = item; /* counted at once, so pb_free() releases it on failure */
        item->price = it->price;
        item->quantity = it->quantity;
        if (pb_set_string(&item->store_id, it->store_id, NULL) ||
            pb_set_string(&item->product_id, it->product_id, NULL) ||
            pb_set_string(&item->store_name, it->store_name, NULL) ||
            pb_set_string(&item->product_name, it->product_name, NULL))
            goto fail;
    }
    return pb;
fail:
    pb_free(&pb->base);
    return NULL;
}

static core_status get_order(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **out,
                             core_err *err)
{
    const Orderingpb__GetOrderRequest *req = (const Orderingpb__GetOrderRequest *)msg;
    struct ordering_order order = ORDERING_ORDER_INIT;
    Orderingpb__GetOrderResponse *resp = NULL;
    core_status st;

    if ((st = ordering_app_get_order(ud, req->id, &order, err)))
        goto done;
    if (!(resp = pb_new_of(orderingpb__get_order_response)) ||
        !(resp->order = order_to_pb(&order))) {
        st = nomem(err);
        goto done;
    }
    *out = &resp->base;
    resp = NULL;
done:
    pb_free(resp ? &resp->base : NULL);
    ordering_order_release(&order);
    return st;
}

static core_status cancel_order(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **out,
                                core_err *err)
{
    const Orderingpb__CancelOrderRequest *req = (const Orderingpb__CancelOrderRequest *)msg;
    core_status st = ordering_app_cancel_order(ud, req->id, err);
    return rpc_empty_response(st, &orderingpb__cancel_order_response__descriptor, out, err);
}

static core_status ready_order(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **out,
                               core_err *err)
{
    const Orderingpb__ReadyOrderRequest *req = (const Orderingpb__ReadyOrderRequest *)msg;
    core_status st = ordering_app_ready_order(ud, req->id, err);
    return rpc_empty_response(st, &orderingpb__ready_order_response__descriptor, out, err);
}

static core_status complete_order(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **out,
                                  core_err *err)
{
    const Orderingpb__CompleteOrderRequest *req = (const Orderingpb__CompleteOrderRequest *)msg;
    core_status st = ordering_app_complete_order(ud, req->id, req->invoice_id, err);
    return rpc_empty_response(st, &orderingpb__complete_order_response__descriptor, out, err);
}

static const struct rpc_method methods[] = {
    {"CreateOrder", create_order}, {"GetOrder", get_order},           {"CancelOrder", cancel_order},
    {"ReadyOrder", ready_order},   {"CompleteOrder", complete_order},
};

core_status ordering__rpc_register(rpc_registry *reg, struct ordering_app *app, core_err *err)
{
    return rpc_registry_add(reg, &orderingpb__ordering_service__descriptor, methods,
                            sizeof methods / sizeof methods[0], app, err);
}
