/* depot/rpc_server.c -- the depotpb.DepotService implementation: proto requests in,
 * application calls, proto responses (heap trees, pb.h) out. ud is the struct depot_app. */
#include "depot/adapters.h"
#include "depot/api.pb-c.h"
#include "pb.h"

static core_status create_shopping_list(void *ud, const ProtobufCMessage *msg,
                                        ProtobufCMessage **resp, core_err *err)
{
    const Depotpb__CreateShoppingListRequest *req = (const void *)msg;
    struct depot_order_item *items = NULL;
    Depotpb__CreateShoppingListResponse *out = NULL;
    char id[DEPOT_ID_MAX + 1];
    core_status st = CORE_OK;
    if (req->n_items > 0 && !(items = core_calloc(req->n_items, sizeof *items)))
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < req->n_items; i++) {
        const Depotpb__OrderItem *it = req->items[i];
        items[i] = (struct depot_order_item){it->store_id, it->product_id, it->quantity};
    }
    if (!st)
        st = depot_app_create_shopping_list(ud, req->order_id, items, req->n_items, id, err);
    if (!st && !(out = pb_new_of(depotpb__create_shopping_list_response)))
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    if (!st)
        st = pb_set_string(&out->id, id, err);
    if (st && out) {
        pb_free(&out->base);
        out = NULL;
    }
    core_free(items);
    *resp = out ? &out->base : NULL;
    return st;
}

static core_status cancel_shopping_list(void *ud, const ProtobufCMessage *msg,
                                        ProtobufCMessage **resp, core_err *err)
{
    const Depotpb__CancelShoppingListRequest *req = (const void *)msg;
    core_status st = depot_app_cancel_shopping_list(ud, req->id, err);
    return rpc_empty_response(st, &depotpb__cancel_shopping_list_response__descriptor, resp, err);
}

static core_status assign_shopping_list(void *ud, const ProtobufCMessage *msg,
                                        ProtobufCMessage **resp, core_err *err)
{
    const Depotpb__AssignShoppingListRequest *req = (const void *)msg;
    core_status st = depot_app_assign_shopping_list(ud, req->id, req->bot_id, err);
    return rpc_empty_response(st, &depotpb__assign_shopping_list_response__descriptor, resp, err);
}

static core_status complete_shopping_list(void *ud, const ProtobufCMessage *msg,
                                          ProtobufCMessage **resp, core_err *err)
{
    const Depotpb__CompleteShoppingListRequest *req = (const void *)msg;
    core_status st = depot_app_complete_shopping_list(ud, req->id, err);
    return rpc_empty_response(st, &depotpb__complete_shopping_list_response__descriptor, resp, err);
}

static const struct rpc_method methods[] = {
    {"CreateShoppingList", create_shopping_list},
    {"CancelShoppingList", cancel_shopping_list},
    {"AssignShoppingList", assign_shopping_list},
    {"CompleteShoppingList", complete_shopping_list},
};

core_status depot_rpc_register(rpc_registry *reg, struct depot_app *app, core_err *err)
{
    return rpc_registry_add(reg, &depotpb__depot_service__descriptor, methods,
                            sizeof methods / sizeof methods[0], app, err);
}
