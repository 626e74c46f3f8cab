/* rpc_server.c -- basketspb.BasketService over the application (the book's internal/grpc server).
 * See adapters.h.
 *
 * Each method translates its request into one application call. The response message is
 * allocated BEFORE the call where possible, so that an out-of-memory answer never hides a change
 * that was already saved.
 */
#include <string.h>

#include "baskets/adapters.h"
#include "baskets/api.pb-c.h"
#include "pb.h"

static core_status start_basket(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                core_err *err)
{
    const Basketspb__StartBasketRequest *in = (const Basketspb__StartBasketRequest *)req;
    char id[CORE_UUID_LEN + 1];
    core_uuid_new(id);
    Basketspb__StartBasketResponse *out = pb_new_of(basketspb__start_basket_response);
    core_status st = out ? pb_set_string(&out->id, id, err) : core_err_nomem(err);
    if (st == CORE_OK)
        st = baskets_app_start_basket(ud, id, in->customer_id, err);
    if (st) {
        pb_free(out ? &out->base : NULL);
        return st;
    }
    *resp = &out->base;
    return CORE_OK;
}

static core_status cancel_basket(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                 core_err *err)
{
    const Basketspb__CancelBasketRequest *in = (const Basketspb__CancelBasketRequest *)req;
    return rpc_empty_response(baskets_app_cancel_basket(ud, in->id, err),
                              &basketspb__cancel_basket_response__descriptor, resp, err);
}

static core_status checkout_basket(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                   core_err *err)
{
    const Basketspb__CheckoutBasketRequest *in = (const Basketspb__CheckoutBasketRequest *)req;
    return rpc_empty_response(baskets_app_checkout_basket(ud, in->id, in->payment_id, err),
                              &basketspb__checkout_basket_response__descriptor, resp, err);
}

static core_status add_item(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                            core_err *err)
{
    const Basketspb__AddItemRequest *in = (const Basketspb__AddItemRequest *)req;
    return rpc_empty_response(baskets_app_add_item(ud, in->id, in->product_id, in->quantity, err),
                              &basketspb__add_item_response__descriptor, resp, err);
}

static core_status remove_item(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                               core_err *err)
{
    const Basketspb__RemoveItemRequest *in = (const Basketspb__RemoveItemRequest *)req;
    return rpc_empty_response(
        baskets_app_remove_item(ud, in->id, in->product_id, in->quantity, err),
        &basketspb__remove_item_response__descriptor, resp, err);
}

/* The proto form of one line; NULL when out of memory. */
static Basketspb__Item *item_to_pb(const struct baskets_item *it)
{
    Basketspb__Item *pi = pb_new_of(basketspb__item);
    if (!pi)
        return NULL;
    pi->store_id = core_strdup(it->store_id);
    pi->product_id = core_strdup(it->product_id);
    pi->store_name = core_strdup(it->store_name);
    pi->product_name = core_strdup(it->product_name);
    pi->product_price = it->product_price;
    pi->quantity = it->quantity;
    if (pi->store_id && pi->product_id && pi->store_name && pi->product_name)
        return pi;
    /* pb_free must not meet NULL strings: put the shared empty string back where a copy failed */
    char **fields[] = {&pi->store_id, &pi->product_id, &pi->store_name, &pi->product_name};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (!*fields[i])
            *fields[i] = (char *)protobuf_c_empty_string;
    pb_free(&pi->base);
    return NULL;
}

/* The proto form of a basket as a heap tree; NULL when out of memory. */
static Basketspb__Basket *basket_to_pb(const struct baskets_basket *b)
{
    Basketspb__Basket *pb = pb_new_of(basketspb__basket);
    if (!pb)
        return NULL;
    pb->id = core_strdup(b->id);
    if (!pb->id) {
        pb->id = (char *)protobuf_c_empty_string;
        goto fail;
    }
    if (b->nitems > 0) {
        pb->items = core_calloc(b->nitems, sizeof *pb->items);
        if (!pb->items)
            goto fail;
        for (; pb->n_items < b->nitems; pb->n_items++) {
            pb->items[pb->n_items] = item_to_pb(&b->items[pb->n_items]);
            if (!pb->items[pb->n_items])
                goto fail;
        }
    }
    return pb;

fail:
    pb_free(&pb->base);
    return NULL;
}

static core_status get_basket(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                              core_err *err)
{
    const Basketspb__GetBasketRequest *in = (const Basketspb__GetBasketRequest *)req;
    struct baskets_basket b = BASKETS_BASKET_INIT;
    Basketspb__GetBasketResponse *out = NULL;
    core_status st = baskets_app_get_basket(ud, in->id, &b, err);
    if (st == CORE_OK) {
        out = pb_new_of(basketspb__get_basket_response);
        if (!out || !(out->basket = basket_to_pb(&b))) {
            pb_free(out ? &out->base : NULL);
            st = core_err_nomem(err);
        }
    }
    baskets_basket_release(&b);
    if (st == CORE_OK)
        *resp = &out->base;
    return st;
}

static const struct rpc_method methods[] = {
    {"StartBasket", start_basket},       {"CancelBasket", cancel_basket},
    {"CheckoutBasket", checkout_basket}, {"AddItem", add_item},
    {"RemoveItem", remove_item},         {"GetBasket", get_basket},
};

core_status baskets__rpc_register(rpc_registry *reg, struct baskets_app *app, core_err *err)
{
    return rpc_registry_add(reg, &basketspb__basket_service__descriptor, methods,
                            sizeof methods / sizeof methods[0], app, err);
}
