/* search/clients.c -- the caches' fallback: the names search shows, asked of the modules that
 * own them over their RPC services (see search/adapters.h). */
#include "customers/api.pb-c.h"
#include "pb.h"
#include "search/adapters.h"
#include "stores/api.pb-c.h"

/* Copies s (NULL = "") into the caller's *out; CORE_ERR_NOMEM. */
static core_status copy_out(char **out, const char *s, core_err *err)
{
    if (!(*out = core_strdup(s ? s : "")))
        return core_err_nomem(err);
    return CORE_OK;
}

static core_status get_customer(void *self, const char *id, char **name, core_err *err)
{
    Customerspb__GetCustomerRequest req = CUSTOMERSPB__GET_CUSTOMER_REQUEST__INIT;
    ProtobufCMessage *msg = NULL;
    req.id = (char *)id;
    core_status st = rpc_call(self, &customerspb__customers_service__descriptor, "GetCustomer",
                              &req.base, &msg, err);
    if (!st) {
        const Customerspb__GetCustomerResponse *r = (const Customerspb__GetCustomerResponse *)msg;
        st = r->customer ? copy_out(name, r->customer->name, err)
                         : core_err_set(err, CORE_ERR_NOT_FOUND, "customer %s not found", id);
    }
    pb_free(msg);
    return st;
}

static core_status get_store(void *self, const char *id, char **name, core_err *err)
{
    Storespb__GetStoreRequest req = STORESPB__GET_STORE_REQUEST__INIT;
    ProtobufCMessage *msg = NULL;
    req.id = (char *)id;
    core_status st =
        rpc_call(self, &storespb__stores_service__descriptor, "GetStore", &req.base, &msg, err);
    if (!st) {
        const Storespb__GetStoreResponse *r = (const Storespb__GetStoreResponse *)msg;
        st = r->store ? copy_out(name, r->store->name, err)
                      : core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", id);
    }
    pb_free(msg);
    return st;
}

static core_status get_product(void *self, const char *id, char **name, char **store_id,
                               core_err *err)
{
    Storespb__GetProductRequest req = STORESPB__GET_PRODUCT_REQUEST__INIT;
    ProtobufCMessage *msg = NULL;
    req.id = (char *)id;
    core_status st =
        rpc_call(self, &storespb__stores_service__descriptor, "GetProduct", &req.base, &msg, err);
    if (!st) {
        const Storespb__GetProductResponse *r = (const Storespb__GetProductResponse *)msg;
        if (!r->product)
            st = core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
        else if (!(st = copy_out(name, r->product->name, err)) &&
                 (st = copy_out(store_id, r->product->store_id, err))) {
            core_free(*name);
            *name = NULL;
        }
    }
    pb_free(msg);
    return st;
}

void search__rpc_caches(struct search_caches *out, rpc_client *client)
{
    out->self = client;
    out->get_customer = get_customer;
    out->get_store = get_store;
    out->get_product = get_product;
}
