/* stores/application.c -- see stores/application.h. */
#include <string.h>

#include "stores/application.h"

#include "log.h"

#define COMP "stores"

/* The book's logging decorator, entry half. */
static void enter(const char *name)
{
    log_debug(COMP, "--> Stores.%s", name);
}

/* The exit half: logs the outcome and passes st through. */
static core_status leave(const char *name, core_status st, const core_err *err)
{
    if (st)
        log_debug(COMP, "<-- Stores.%s error=\"%s\"", name, err ? err->msg : core_status_text(st));
    else
        log_debug(COMP, "<-- Stores.%s", name);
    return st;
}

static core_status require_id(const char *id, const char *what, core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the %s id cannot be blank", what);
    return CORE_OK;
}

/* Loads store id from its events into the empty *store. An id no store can have (blank: INVALID;
 * too long: NOT_FOUND) is refused before the event store is asked; es.h's "stores.Store <id> not
 * found" becomes the module's "store <id> not found". */
static core_status load_store(struct stores_app *app, const char *id, struct stores_store *store, core_err *err)
{
    core_status st = require_id(id, "store", err);
    if (!st && strlen(id) > STORES_ID_MAX)
        st = CORE_ERR_NOT_FOUND;
    else if (!st)
        st = es_repo_load(app->stores, id, store, err);
    if (st == CORE_ERR_NOT_FOUND)
        core_err_set(err, st, "store %s not found", id);
    return st;
}

/* Loads product id into the empty *product, as load_store(); a removed product is not found. */
static core_status load_product(struct stores_app *app, const char *id, struct stores_product *product,
                                core_err *err)
{
    core_status st = require_id(id, "product", err);
    if (!st && strlen(id) > STORES_ID_MAX)
        st = CORE_ERR_NOT_FOUND;
    else if (!st && !(st = es_repo_load(app->products, id, product, err)) && product->removed)
        st = CORE_ERR_NOT_FOUND;
    if (st == CORE_ERR_NOT_FOUND)
        core_err_set(err, st, "product %s not found", id);
    return st;
}

/* ---- commands ----------------------------------------------------------------------------- */

core_status stores_app_create_store(struct stores_app *app, const char *id, const char *name,
                                    const char *location, core_err *err)
{
    struct stores_store store = STORES_STORE_INIT;
    enter("CreateStore");
    core_status st = stores_store_create(&store, id, name, location, err);
    if (!st)
        st = es_repo_save(app->stores, &store, err);
    stores_store_release(&store);
    return leave("CreateStore", st, err);
}

/* Loads a store, applies change to it and saves its new event (enable/disable participation). */
static core_status change_participation(struct stores_app *app, const char *id,
                                        core_status (*change)(struct stores_store *, core_err *),
                                        core_err *err)
{
    struct stores_store store = STORES_STORE_INIT;
    core_status st;
    if (!(st = load_store(app, id, &store, err)) && !(st = change(&store, err)))
        st = es_repo_save(app->stores, &store, err);
    stores_store_release(&store);
    return st;
}

core_status stores_app_enable_participation(struct stores_app *app, const char *id, core_err *err)
{
    enter("EnableParticipation");
    core_status st = change_participation(app, id, stores_store_enable_participation, err);
    return leave("EnableParticipation", st, err);
}

core_status stores_app_disable_participation(struct stores_app *app, const char *id, core_err *err)
{
    enter("DisableParticipation");
    core_status st = change_participation(app, id, stores_store_disable_participation, err);
    return leave("DisableParticipation", st, err);
}

core_status stores_app_rebrand_store(struct stores_app *app, const char *id, const char *name, core_err *err)
{
    struct stores_store store = STORES_STORE_INIT;
    core_status st;
    enter("RebrandStore");
    if (!(st = load_store(app, id, &store, err)) && !(st = stores_store_rebrand(&store, name, err)))
        st = es_repo_save(app->stores, &store, err);
    stores_store_release(&store);
    return leave("RebrandStore", st, err);
}

core_status stores_app_add_product(struct stores_app *app, const struct stores_add_product *cmd,
                                   core_err *err)
{
    struct stores_store store = STORES_STORE_INIT;
    struct stores_product product = STORES_PRODUCT_INIT;
    core_status st;
    enter("AddProduct");
    /* The book looks the store up first: a product of an unknown store is a 404, not a 400. */
    if (!(st = load_store(app, cmd->store_id, &store, err)) &&
        !(st = stores_product_create(&product, cmd->id, cmd->store_id, cmd->name, cmd->description,
                                     cmd->sku, cmd->price, err)))
        st = es_repo_save(app->products, &product, err);
    stores_product_release(&product);
    stores_store_release(&store);
    return leave("AddProduct", st, err);
}

core_status stores_app_rebrand_product(struct stores_app *app, const char *id, const char *name,
                                       const char *description, core_err *err)
{
    struct stores_product product = STORES_PRODUCT_INIT;
    core_status st;
    enter("RebrandProduct");
    if (!(st = load_product(app, id, &product, err)) &&
        !(st = stores_product_rebrand(&product, name, description, err)))
        st = es_repo_save(app->products, &product, err);
    stores_product_release(&product);
    return leave("RebrandProduct", st, err);
}

/* Loads a product, changes its price with change and saves its new event. */
static core_status change_price(struct stores_app *app, const char *id, double price,
                                core_status (*change)(struct stores_product *, double, core_err *),
                                core_err *err)
{
    struct stores_product product = STORES_PRODUCT_INIT;
    core_status st;
    if (!(st = load_product(app, id, &product, err)) && !(st = change(&product, price, err)))
        st = es_repo_save(app->products, &product, err);
    stores_product_release(&product);
    return st;
}

core_status stores_app_increase_product_price(struct stores_app *app, const char *id, double price,
                                              core_err *err)
{
    enter("IncreaseProductPrice");
    core_status st = change_price(app, id, price, stores_product_increase_price, err);
    return leave("IncreaseProductPrice", st, err);
}

core_status stores_app_decrease_product_price(struct stores_app *app, const char *id, double price,
                                              core_err *err)
{
    enter("DecreaseProductPrice");
    core_status st = change_price(app, id, price, stores_product_decrease_price, err);
    return leave("DecreaseProductPrice", st, err);
}

core_status stores_app_remove_product(struct stores_app *app, const char *id, core_err *err)
{
    struct stores_product product = STORES_PRODUCT_INIT;
    core_status st;
    enter("RemoveProduct");
    if (!(st = load_product(app, id, &product, err)) && !(st = stores_product_remove(&product, err)))
        st = es_repo_save(app->products, &product, err);
    stores_product_release(&product);
    return leave("RemoveProduct", st, err);
}

/* ---- queries ------------------------------------------------------------------------------ */

core_status stores_app_get_store(struct stores_app *app, const char *id, struct stores_mall_store *out,
                                 core_err *err)
{
    core_status st;
    enter("GetStore");
    if (!(st = require_id(id, "store", err)))
        st = app->mall.find(app->mall.self, id, out, err);
    if (st)
        stores_mall_store_release(out);
    return leave("GetStore", st, err);
}

core_status stores_app_get_stores(struct stores_app *app, struct stores_mall_store_list *out, core_err *err)
{
    enter("GetStores");
    core_status st = app->mall.all(app->mall.self, out, err);
    if (st)
        stores_mall_store_list_release(out);
    return leave("GetStores", st, err);
}

core_status stores_app_get_participating_stores(struct stores_app *app, struct stores_mall_store_list *out,
                                                core_err *err)
{
    enter("GetParticipatingStores");
    core_status st = app->mall.all_participating(app->mall.self, out, err);
    if (st)
        stores_mall_store_list_release(out);
    return leave("GetParticipatingStores", st, err);
}

core_status stores_app_get_catalog(struct stores_app *app, const char *store_id,
                                   struct stores_catalog_product_list *out, core_err *err)
{
    struct stores_mall_store store = STORES_MALL_STORE_INIT;
    core_status st;
    enter("GetCatalog");
    /* An unknown store answers 404 rather than an empty catalog (spec 5: clear not-found). */
    if (!(st = require_id(store_id, "store", err)) &&
        !(st = app->mall.find(app->mall.self, store_id, &store, err)))
        st = app->catalog.catalog(app->catalog.self, store_id, out, err);
    if (st)
        stores_catalog_product_list_release(out);
    stores_mall_store_release(&store);
    return leave("GetCatalog", st, err);
}

core_status stores_app_get_product(struct stores_app *app, const char *id, struct stores_catalog_product *out,
                                   core_err *err)
{
    core_status st;
    enter("GetProduct");
    if (!(st = require_id(id, "product", err)))
        st = app->catalog.find(app->catalog.self, id, out, err);
    if (st)
        stores_catalog_product_release(out);
    return leave("GetProduct", st, err);
}
