/* stores/rpc_server.c -- storespb.StoresService over the stores application (see adapters.h).
 *
 * Each method turns the proto request into an application call and the result into a response
 * heap tree (pb.h). New store and product ids are random UUIDs made here, as the book's gRPC
 * server does. Errors of the application pass through unchanged.
 */
#include "stores/adapters.h"

#include "pb.h"
#include "stores/api.pb-c.h"

/* ---- entity conversion -------------------------------------------------------------------- */

static Storespb__Store *store_to_pb(const struct stores_store *s)
{
    Storespb__Store *m = pb_new_of(storespb__store);
    if (!m)
        return NULL;
    m->participating = s->participating;
    if (!(m->id = core_strdup(s->id)) || !(m->name = core_strdup(s->name)) ||
        !(m->location = core_strdup(s->location))) {
        pb_free(&m->base);
        return NULL;
    }
    return m;
}

static Storespb__Product *product_to_pb(const struct stores_product *p)
{
    Storespb__Product *m = pb_new_of(storespb__product);
    if (!m)
        return NULL;
    m->price = p->price;
    if (!(m->id = core_strdup(p->id)) || !(m->store_id = core_strdup(p->store_id)) ||
        !(m->name = core_strdup(p->name)) || !(m->description = core_strdup(p->description)) ||
        !(m->sku = core_strdup(p->sku))) {
        pb_free(&m->base);
        return NULL;
    }
    return m;
}

/* Fills a repeated Store field (*items, *n) from list. *n counts only filled entries, so a
 * partial array is still a valid heap tree for pb_free. */
static core_status stores_to_pb(const struct stores_store_list *list, Storespb__Store ***items,
                                size_t *n, core_err *err)
{
    if (list->len == 0)
        return CORE_OK;
    if (!(*items = core_calloc(list->len, sizeof **items)))
        return core_err_nomem(err);
    for (size_t i = 0; i < list->len; i++) {
        if (!((*items)[i] = store_to_pb(&list->items[i])))
            return core_err_nomem(err);
        (*n)++;
    }
    return CORE_OK;
}

/* Sets *id to a copy of a new UUID (also written to buf). */
static core_status new_id(char buf[CORE_UUID_LEN + 1], char **id, core_err *err)
{
    core_uuid_new(buf);
    return pb_set_string(id, buf, err);
}

/* ---- methods ------------------------------------------------------------------------------ */

static core_status create_store(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                core_err *err)
{
    const Storespb__CreateStoreRequest *r = (const Storespb__CreateStoreRequest *)req;
    Storespb__CreateStoreResponse *out = pb_new_of(storespb__create_store_response);
    char id[CORE_UUID_LEN + 1];
    core_status st = out ? new_id(id, &out->id, err) : core_err_nomem(err);
    if (!st)
        st = stores_app_create_store(ud, id, r->name, r->location, err);
    if (st) {
        pb_free(out ? &out->base : NULL);
        return st;
    }
    *resp = &out->base;
    return CORE_OK;
}

static core_status get_store(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                             core_err *err)
{
    const Storespb__GetStoreRequest *r = (const Storespb__GetStoreRequest *)req;
    struct stores_store store = STORES_STORE_INIT;
    Storespb__GetStoreResponse *out = NULL;
    core_status st = stores_app_get_store(ud, r->id, &store, err);
    if (!st &&
        (!(out = pb_new_of(storespb__get_store_response)) || !(out->store = store_to_pb(&store))))
        st = core_err_nomem(err);
    stores_store_release(&store);
    if (st) {
        pb_free(out ? &out->base : NULL);
        return st;
    }
    *resp = &out->base;
    return CORE_OK;
}

static core_status get_stores(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                              core_err *err)
{
    struct stores_store_list list = STORES_STORE_LIST_INIT;
    Storespb__GetStoresResponse *out = NULL;
    core_status st = stores_app_get_stores(ud, &list, err);
    if (!st && !(out = pb_new_of(storespb__get_stores_response)))
        st = core_err_nomem(err);
    if (!st)
        st = stores_to_pb(&list, &out->stores, &out->n_stores, err);
    stores_store_list_release(&list);
    if (st) {
        pb_free(out ? &out->base : NULL);
        return st;
    }
    *resp = &out->base;
    return CORE_OK;
}

static core_status get_participating_stores(void *ud, const ProtobufCMessage *req,
                                            ProtobufCMessage **resp, core_err *err)
{
    struct stores_store_list list = STORES_STORE_LIST_INIT;
    Storespb__GetParticipatingStoresResponse *out = NULL;
    core_status st = stores_app_get_participating_stores(ud, &list, err);
    if (!st && !(out = pb_new_of(storespb__get_participating_stores_response)))
        st = core_err_nomem(err);
    if (!st)
        st = stores_to_pb(&list, &out->stores, &out->n_stores, err);
    stores_store_list_release(&list);
    if (st) {
        pb_free(out ? &out->base : NULL);
        return st;
    }
    *resp = &out->base;
    return CORE_OK;
}

static core_status enable_participation(void *ud, const ProtobufCMessage *req,
                                        ProtobufCMessage **resp, core_err *err)
{
    const Storespb__EnableParticipationRequest *r =
        (const Storespb__EnableParticipationRequest *)req;
    return rpc_empty_response(stores_app_enable_participation(ud, r->id, err),
                              &storespb__enable_participation_response__descriptor, resp, err);
}

static core_status disable_participation(void *ud, const ProtobufCMessage *req,
                                         ProtobufCMessage **resp, core_err *err)
{
    const Storespb__DisableParticipationRequest *r =
        (const Storespb__DisableParticipationRequest *)req;
    return rpc_empty_response(stores_app_disable_participation(ud, r->id, err),
                              &storespb__disable_participation_response__descriptor, resp, err);
}

static core_status add_product(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                               core_err *err)
{
    const Storespb__AddProductRequest *r = (const Storespb__AddProductRequest *)req;
    Storespb__AddProductResponse *out = pb_new_of(storespb__add_product_response);
    char id[CORE_UUID_LEN + 1];
    core_status st = out ? new_id(id, &out->id, err) : core_err_nomem(err);
    if (!st) {
        struct stores_add_product cmd = {id,     r->store_id, r->name, r->description,
                                         r->sku, r->price};
        st = stores_app_add_product(ud, &cmd, err);
    }
    if (st) {
        pb_free(out ? &out->base : NULL);
        return st;
    }
    *resp = &out->base;
    return CORE_OK;
}

static core_status remove_product(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                  core_err *err)
{
    const Storespb__RemoveProductRequest *r = (const Storespb__RemoveProductRequest *)req;
    return rpc_empty_response(stores_app_remove_product(ud, r->id, err),
                              &storespb__remove_product_response__descriptor, resp, err);
}

static core_status get_catalog(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                               core_err *err)
{
    const Storespb__GetCatalogRequest *r = (const Storespb__GetCatalogRequest *)req;
    struct stores_product_list list = STORES_PRODUCT_LIST_INIT;
    Storespb__GetCatalogResponse *out = NULL;
    core_status st = stores_app_get_catalog(ud, r->store_id, &list, err);
    if (!st && !(out = pb_new_of(storespb__get_catalog_response)))
        st = core_err_nomem(err);
    if (!st && list.len > 0 && !(out->products = core_calloc(list.len, sizeof *out->products)))
        st = core_err_nomem(err);
    for (size_t i = 0; !st && i < list.len; i++) {
        if (!(out->products[i] = product_to_pb(&list.items[i])))
            st = core_err_nomem(err);
        else
            out->n_products++;
    }
    stores_product_list_release(&list);
    if (st) {
        pb_free(out ? &out->base : NULL);
        return st;
    }
    *resp = &out->base;
    return CORE_OK;
}

static core_status get_product(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                               core_err *err)
{
    const Storespb__GetProductRequest *r = (const Storespb__GetProductRequest *)req;
    struct stores_product product = STORES_PRODUCT_INIT;
    Storespb__GetProductResponse *out = NULL;
    core_status st = stores_app_get_product(ud, r->id, &product, err);
    if (!st && (!(out = pb_new_of(storespb__get_product_response)) ||
                !(out->product = product_to_pb(&product))))
        st = core_err_nomem(err);
    stores_product_release(&product);
    if (st) {
        pb_free(out ? &out->base : NULL);
        return st;
    }
    *resp = &out->base;
    return CORE_OK;
}

static const struct rpc_method methods[] = {
    {"CreateStore", create_store},
    {"GetStore", get_store},
    {"GetStores", get_stores},
    {"EnableParticipation", enable_participation},
    {"DisableParticipation", disable_participation},
    {"GetParticipatingStores", get_participating_stores},
    {"AddProduct", add_product},
    {"RemoveProduct", remove_product},
    {"GetCatalog", get_catalog},
    {"GetProduct", get_product},
};

core_status stores__rpc_register(rpc_registry *reg, struct stores_app *app, core_err *err)
{
    return rpc_registry_add(reg, &storespb__stores_service__descriptor, methods,
                            sizeof methods / sizeof methods[0], app, err);
}
