/* clients.c -- the stores and ordering ports as RPC clients of those modules. See adapters.h.
 *
 * Requests are built on the stack with the generated *__INIT values and point at borrowed
 * strings (they are only packed, never pb_free'd); responses are heap trees freed with pb_free.
 */
#include <string.h>

#include "baskets/adapters.h"
#include "log.h"
#include "ordering/api.pb-c.h"
#include "pb.h"
#include "stores/api.pb-c.h"

#define COMP "baskets"

static char *dup_or_empty(const char *s)
{
    return core_strdup(s ? s : "");
}

/* ---- stores ---------------------------------------------------------------------------------- */

static core_status get_store(void *self, const char *id, struct baskets_store *out, core_err *err)
{
    Storespb__GetStoreRequest req = STORESPB__GET_STORE_REQUEST__INIT;
    ProtobufCMessage *msg = NULL;
    req.id = (char *)id;
    core_status st =
        rpc_call(self, &storespb__stores_service__descriptor, "GetStore", &req.base, &msg, err);
    if (st)
        return st;
    const Storespb__Store *s = ((Storespb__GetStoreResponse *)msg)->store;
    if (!s) {
        st =
            core_err_set(err, CORE_ERR_INTERNAL, "stores answered GetStore %s without a store", id);
    } else {
        out->id = dup_or_empty(s->id);
        out->name = dup_or_empty(s->name);
        out->location = dup_or_empty(s->location);
        if (!out->id || !out->name || !out->location) {
            baskets_store_release(out);
            st = core_err_set(err, CORE_ERR_NOMEM, "out of memory reading store %s", id);
        }
    }
    pb_free(msg);
    return st;
}

static core_status get_product(void *self, const char *id, struct baskets_product *out,
                               core_err *err)
{
    Storespb__GetProductRequest req = STORESPB__GET_PRODUCT_REQUEST__INIT;
    ProtobufCMessage *msg = NULL;
    req.id = (char *)id;
    core_status st =
        rpc_call(self, &storespb__stores_service__descriptor, "GetProduct", &req.base, &msg, err);
    if (st)
        return st;
    const Storespb__Product *p = ((Storespb__GetProductResponse *)msg)->product;
    if (!p) {
        st = core_err_set(err, CORE_ERR_INTERNAL, "stores answered GetProduct %s without a product",
                          id);
    } else {
        out->id = dup_or_empty(p->id);
        out->store_id = dup_or_empty(p->store_id);
        out->name = dup_or_empty(p->name);
        out->price = p->price;
        if (!out->id || !out->store_id || !out->name) {
            baskets_product_release(out);
            st = core_err_set(err, CORE_ERR_NOMEM, "out of memory reading product %s", id);
        }
    }
    pb_free(msg);
    return st;
}

void baskets__stores_client(struct baskets_stores_port *out, rpc_client *c)
{
    out->self = c;
    out->get_store = get_store;
    out->get_product = get_product;
}

/* ---- ordering -------------------------------------------------------------------------------- */

static core_status create_order(void *self, const struct baskets_basket *b, core_err *err)
{
    Orderingpb__CreateOrderRequest req = ORDERINGPB__CREATE_ORDER_REQUEST__INIT;
    ProtobufCMessage *msg = NULL;
    const char *order_id = NULL;
    core_status st = CORE_OK;
    /* one allocation each for the items and the array of pointers to them (protobuf-c's layout) */
    Orderingpb__Item *items = b->nitems ? core_calloc(b->nitems, sizeof *items) : NULL;
    Orderingpb__Item **ptrs = b->nitems ? core_calloc(b->nitems, sizeof *ptrs) : NULL;
    if (b->nitems && (!items || !ptrs)) {
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory creating the order of basket %s",
                          b->id);
        goto done;
    }
    for (size_t i = 0; i < b->nitems; i++) {
        const struct baskets_item *it = &b->items[i];
        Orderingpb__Item init = ORDERINGPB__ITEM__INIT;
        items[i] = init;
        items[i].store_id = it->store_id;
        items[i].product_id = it->product_id;
        items[i].store_name = it->store_name;
        items[i].product_name = it->product_name;
        items[i].price = it->product_price;
        items[i].quantity = it->quantity;
        ptrs[i] = &items[i];
    }
    req.id = (char *)b->id;
    req.customer_id = (char *)b->customer_id;
    req.payment_id = (char *)b->payment_id;
    req.n_items = b->nitems;
    req.items = ptrs;
    if ((st = rpc_call(self, &orderingpb__ordering_service__descriptor, "CreateOrder", &req.base,
                       &msg, err)))
        goto done;
    order_id = ((Orderingpb__CreateOrderResponse *)msg)->id;
    if (!order_id || strcmp(order_id, b->id) != 0)
        log_warn(COMP, "ordering created order id=%s for basket id=%s (expected the basket's id)",
                 order_id ? order_id : "", b->id);

done:
    pb_free(msg);
    core_free(ptrs);
    core_free(items);
    return st;
}

void baskets__ordering_client(struct baskets_ordering_port *out, rpc_client *c)
{
    out->self = c;
    out->create_order = create_order;
}
