/* depot/clients.c -- the stores and ordering ports over RPC: stores.GetStore, stores.GetProduct
 * and ordering.ReadyOrder. Remote errors come back with their own status and message. */
#include "depot/adapters.h"
#include "ordering/api.pb-c.h"
#include "pb.h"
#include "stores/api.pb-c.h"

static core_status nomem(core_err *err)
{
    return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
}

static core_status get_store(void *self, const char *id, struct depot_store *out, core_err *err)
{
    Storespb__GetStoreRequest req = STORESPB__GET_STORE_REQUEST__INIT;
    req.id = (char *)id; /* borrowed for the call; rpc_call does not modify it */
    ProtobufCMessage *msg = NULL;
    core_status st =
        rpc_call(self, &storespb__stores_service__descriptor, "GetStore", &req.base, &msg, err);
    const Storespb__Store *s = st ? NULL : ((Storespb__GetStoreResponse *)msg)->store;
    if (!st && !s)
        st = core_err_set(err, CORE_ERR_INTERNAL, "stores returned no store for %s", id);
    if (!st) {
        out->id = core_strdup(s->id);
        out->name = core_strdup(s->name);
        out->location = core_strdup(s->location);
        if (!out->id || !out->name || !out->location) {
            depot_store_release(out);
            st = nomem(err);
        }
    }
    pb_free(msg);
    return st;
}

static core_status get_product(void *self, const char *id, struct depot_product *out, core_err *err)
{
    Storespb__GetProductRequest req = STORESPB__GET_PRODUCT_REQUEST__INIT;
    req.id = (char *)id;
    ProtobufCMessage *msg = NULL;
    core_status st =
        rpc_call(self, &storespb__stores_service__descriptor, "GetProduct", &req.base, &msg, err);
    const Storespb__Product *p = st ? NULL : ((Storespb__GetProductResponse *)msg)->product;
    if (!st && !p)
        st = core_err_set(err, CORE_ERR_INTERNAL, "stores returned no product for %s", id);
    if (!st) {
        out->id = core_strdup(p->id);
        out->store_id = core_strdup(p->store_id);
        out->name = core_strdup(p->name);
        if (!out->id || !out->store_id || !out->name) {
            depot_product_release(out);
            st = nomem(err);
        }
    }
    pb_free(msg);
    return st;
}

void depot_clients_stores(struct depot_stores_port *out, rpc_client *client)
{
    out->self = client;
    out->get_store = get_store;
    out->get_product = get_product;
}

static core_status ready_order(void *self, const char *order_id, core_err *err)
{
    Orderingpb__ReadyOrderRequest req = ORDERINGPB__READY_ORDER_REQUEST__INIT;
    req.id = (char *)order_id;
    ProtobufCMessage *msg = NULL;
    core_status st = rpc_call(self, &orderingpb__ordering_service__descriptor, "ReadyOrder",
                              &req.base, &msg, err);
    pb_free(msg);
    return st;
}

void depot_clients_orders(struct depot_orders_port *out, rpc_client *client)
{
    out->self = client;
    out->ready = ready_order;
}
