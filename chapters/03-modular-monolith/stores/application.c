/* stores/application.c -- see stores/application.h. */
#include "stores/application.h"

static core_status require_id(const char *id, const char *what, core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the %s id cannot be blank", what);
    return CORE_OK;
}

/* ---- commands ----------------------------------------------------------------------------- */

core_status stores_app_create_store(struct stores_app *app, const char *id, const char *name,
                                    const char *location, core_err *err)
{
    struct stores_store store = STORES_STORE_INIT;
    core_status st = stores_store_create(&store, id, name, location, err);
    if (!st)
        st = app->stores.save(app->stores.self, &store, err);
    stores_store_release(&store);
    return st;
}

/* Loads a store, applies change to it and saves it (enable/disable participation). */
static core_status change_participation(struct stores_app *app, const char *id,
                                        core_status (*change)(struct stores_store *, core_err *),
                                        core_err *err)
{
    struct stores_store store = STORES_STORE_INIT;
    core_status st;
    if (!(st = require_id(id, "store", err)) &&
        !(st = app->stores.find(app->stores.self, id, &store, err)) && !(st = change(&store, err)))
        st = app->stores.update(app->stores.self, &store, err);
    stores_store_release(&store);
    return st;
}

core_status stores_app_enable_participation(struct stores_app *app, const char *id, core_err *err)
{
    return change_participation(app, id, stores_store_enable_participation, err);
}

core_status stores_app_disable_participation(struct stores_app *app, const char *id, core_err *err)
{
    return change_participation(app, id, stores_store_disable_participation, err);
}

core_status stores_app_add_product(struct stores_app *app, const struct stores_add_product *cmd,
                                   core_err *err)
{
    struct stores_store store = STORES_STORE_INIT;
    struct stores_product product = STORES_PRODUCT_INIT;
    core_status st;
    /* The book looks the store up first: a product of an unknown store is a 404, not a 400. */
    if (!(st = require_id(cmd->store_id, "store", err)) &&
        !(st = app->stores.find(app->stores.self, cmd->store_id, &store, err)) &&
        !(st = stores_product_create(&product, cmd->id, cmd->store_id, cmd->name, cmd->description,
                                     cmd->sku, cmd->price, err)))
        st = app->products.add(app->products.self, &product, err);
    stores_product_release(&product);
    stores_store_release(&store);
    return st;
}

core_status stores_app_remove_product(struct stores_app *app, const char *id, core_err *err)
{
    core_status st;
    if (!(st = require_id(id, "product", err)))
        st = app->products.remove(app->products.self, id, err);
    return st;
}

/* ---- queries ------------------------------------------------------------------------------ */

core_status stores_app_get_store(struct stores_app *app, const char *id, struct stores_store *out,
                                 core_err *err)
{
    core_status st;
    if (!(st = require_id(id, "store", err)))
        st = app->stores.find(app->stores.self, id, out, err);
    if (st)
        stores_store_release(out);
    return st;
}

core_status stores_app_get_stores(struct stores_app *app, struct stores_store_list *out,
                                  core_err *err)
{
    core_status st = app->stores.find_all(app->stores.self, out, err);
    if (st)
        stores_store_list_release(out);
    return st;
}

core_status stores_app_get_participating_stores(struct stores_app *app,
                                                struct stores_store_list *out, core_err *err)
{
    core_status st = app->participating.find_all(app->participating.self, out, err);
    if (st)
        stores_store_list_release(out);
    return st;
}

core_status stores_app_get_catalog(struct stores_app *app, const char *store_id,
                                   struct stores_product_list *out, core_err *err)
{
    struct stores_store store = STORES_STORE_INIT;
    core_status st;
    /* An unknown store answers 404 rather than an empty catalog (docs/ERRATA.md, D16). */
    if (!(st = require_id(store_id, "store", err)) &&
        !(st = app->stores.find(app->stores.self, store_id, &store, err)))
        st = app->products.catalog(app->products.self, store_id, out, err);
    if (st)
        stores_product_list_release(out);
    stores_store_release(&store);
    return st;
}

core_status stores_app_get_product(struct stores_app *app, const char *id,
                                   struct stores_product *out, core_err *err)
{
    core_status st;
    if (!(st = require_id(id, "product", err)))
        st = app->products.find(app->products.self, id, out, err);
    if (st)
        stores_product_release(out);
    return st;
}
