/* depot/application.c -- see application.h. */
#include <string.h>

#include "depot/application.h"

static core_status require_id(const char *id, const char *what, core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the %s id cannot be blank", what);
    return CORE_OK;
}

/* The checks on the command's input that need no other module. */
static core_status check_items(const struct depot_order_item *items, size_t n, core_err *err)
{
    if (n == 0)
        return core_err_set(err, CORE_ERR_INVALID, "the shopping list has no items");
    core_status st = CORE_OK;
    for (size_t i = 0; !st && i < n; i++) {
        if (!(st = require_id(items[i].store_id, "store", err)) &&
            !(st = require_id(items[i].product_id, "product", err)) && items[i].quantity < 1)
            st = core_err_set(err, CORE_ERR_INVALID, "the item quantity must be positive");
    }
    return st;
}

/* Looks up one order item's product, and its store unless an earlier item of the same store
 * brought it already (l then has a stop for it), and adds the item to l. */
static core_status add_order_item(struct depot_app *app, struct depot_shopping_list *l,
                                  const struct depot_order_item *item, core_err *err)
{
    struct depot_store store = {0};
    struct depot_product product = {0};
    const struct depot_stop *stop = NULL;
    for (size_t i = 0; i < l->nstops && !stop; i++)
        if (strcmp(l->stops[i].store_id, item->store_id) == 0)
            stop = &l->stops[i];
    /* the stop's strings, borrowed: adding to an existing stop neither moves nor frees them */
    struct depot_store known = {stop ? stop->store_id : NULL, stop ? stop->store_name : NULL,
                                stop ? stop->store_location : NULL};
    core_status st =
        stop ? CORE_OK : app->stores.get_store(app->stores.self, item->store_id, &store, err);
    if (!st && !(st = app->stores.get_product(app->stores.self, item->product_id, &product, err)))
        st = depot_shopping_list_add_item(l, stop ? &known : &store, &product, item->quantity, err);
    depot_store_release(&store);
    depot_product_release(&product);
    return st;
}

core_status depot_app_create_shopping_list(struct depot_app *app, const char *order_id,
                                           const struct depot_order_item *items, size_t n,
                                           char out_id[DEPOT_ID_MAX + 1], core_err *err)
{
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    char id[CORE_UUID_LEN + 1];
    core_uuid_new(id);
    core_status st;
    if (!(st = depot_shopping_list_create(&l, id, order_id, err)) &&
        !(st = check_items(items, n, err))) {
        /* one round trip per product and one per store (the book: one per item for each) */
        for (size_t i = 0; !st && i < n; i++) {
            if ((st = add_order_item(app, &l, &items[i], err)))
                core_err_wrap(err, "building shopping list");
        }
    }
    if (!st && !(st = app->lists.save(app->lists.self, &l, err)))
        core_strlcpy(out_id, l.id, DEPOT_ID_MAX + 1);
    depot_shopping_list_release(&l);
    return st;
}

core_status depot_app_cancel_shopping_list(struct depot_app *app, const char *id, core_err *err)
{
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    core_status st;
    if (!(st = require_id(id, "shopping list", err)) &&
        !(st = app->lists.find(app->lists.self, id, &l, err)) &&
        !(st = depot_shopping_list_cancel(&l, err)))
        st = app->lists.update(app->lists.self, &l, err);
    depot_shopping_list_release(&l);
    return st;
}

core_status depot_app_assign_shopping_list(struct depot_app *app, const char *id,
                                           const char *bot_id, core_err *err)
{
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    core_status st;
    if (!(st = require_id(id, "shopping list", err)) &&
        !(st = app->lists.find(app->lists.self, id, &l, err)) &&
        !(st = depot_shopping_list_assign(&l, bot_id, err)))
        st = app->lists.update(app->lists.self, &l, err);
    depot_shopping_list_release(&l);
    return st;
}

core_status depot_app_complete_shopping_list(struct depot_app *app, const char *id, core_err *err)
{
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    core_status st;
    if (!(st = require_id(id, "shopping list", err)) &&
        !(st = app->lists.find(app->lists.self, id, &l, err)) &&
        !(st = depot_shopping_list_complete(&l, err))) {
        /* ordering first, as in the book: if it fails the list stays assigned and can be
         * completed again */
        if ((st = app->orders.ready(app->orders.self, l.order_id, err)))
            core_err_wrap(err, "readying order %s", l.order_id);
        else
            st = app->lists.update(app->lists.self, &l, err);
    }
    depot_shopping_list_release(&l);
    return st;
}

core_status depot_app_get_shopping_list(struct depot_app *app, const char *id,
                                        struct depot_shopping_list *out, core_err *err)
{
    core_status st = require_id(id, "shopping list", err);
    if (!st)
        st = app->lists.find(app->lists.self, id, out, err);
    return st;
}
