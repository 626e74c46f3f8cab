/* application.c -- see application.h. */
#include "baskets/application.h"
#include "log.h"

#define COMP "baskets"

static void enter(const char *name)
{
    log_debug(COMP, "--> Baskets.%s", name);
}

/* Logs the exit of a command and returns st, so a command ends with `return leave(...)`. */
static core_status leave(const char *name, core_status st, const core_err *err)
{
    if (st)
        log_debug(COMP, "<-- Baskets.%s error=\"%s\"", name, err ? err->msg : core_status_text(st));
    else
        log_debug(COMP, "<-- Baskets.%s", name);
    return st;
}

/* TODO(exercise 03.3): the item commands check the product id before anything else:
 * CORE_ERR_INVALID "the product id cannot be blank" (core_str_blank). A static helper here,
 * used by both, keeps the text in one place. */

core_status baskets_app_start_basket(struct baskets_app *app, const char *id, const char *customer_id,
                                     core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_status st;
    enter("StartBasket");
    if ((st = baskets_basket_start(&b, id, customer_id, err)) == CORE_OK)
        st = app->baskets.save(app->baskets.self, &b, err);
    baskets_basket_release(&b);
    return leave("StartBasket", st, err);
}

core_status baskets_app_cancel_basket(struct baskets_app *app, const char *id, core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_status st;
    enter("CancelBasket");
    if ((st = baskets_check_id(id, err)) == CORE_OK &&
        (st = app->baskets.find(app->baskets.self, id, &b, err)) == CORE_OK &&
        (st = baskets_basket_cancel(&b, err)) == CORE_OK)
        st = app->baskets.update(app->baskets.self, &b, err);
    baskets_basket_release(&b);
    return leave("CancelBasket", st, err);
}

core_status baskets_app_checkout_basket(struct baskets_app *app, const char *id, const char *payment_id,
                                        core_err *err)
{
    /* TODO(exercise 03.3): the basket id is checked first (baskets_check_id), then the basket
     * is loaded (app->baskets.find), checked out by the domain rule, handed to the ordering
     * module (app->ordering.create_order) and only then saved (app->baskets.update). If
     * ordering refuses, the basket is not saved: it stays open, so the customer can fix the
     * problem and try again. Every error is returned unchanged. Log entry and exit with
     * enter("CheckoutBasket") / leave("CheckoutBasket", ...) like the other commands, and
     * release the basket on every path. baskets_app_cancel_basket above is a model. */
    (void)app;
    (void)id;
    (void)payment_id;
    return core_err_set(err, CORE_ERR_INTERNAL, "TODO: exercise 03.3 (baskets_app_checkout_basket)");
}

core_status baskets_app_add_item(struct baskets_app *app, const char *id, const char *product_id, int quantity,
                                 core_err *err)
{
    /* TODO(exercise 03.3): check the basket id and the product id, load the basket, ask the
     * stores module for the product (app->stores.get_product) and then for the store that sells
     * it (app->stores.get_store, by the product's store_id), apply the domain rule
     * baskets_basket_add_item and save with app->baskets.update. Nothing is saved when a step
     * fails, and its error is returned unchanged. The product and the store are yours to
     * release (baskets_product_release / baskets_store_release), on every path. */
    (void)app;
    (void)id;
    (void)product_id;
    (void)quantity;
    return core_err_set(err, CORE_ERR_INTERNAL, "TODO: exercise 03.3 (baskets_app_add_item)");
}

core_status baskets_app_remove_item(struct baskets_app *app, const char *id, const char *product_id,
                                    int quantity, core_err *err)
{
    /* TODO(exercise 03.3): like add_item, but without the stores module: the basket's line
     * already names the product (a product deleted from its catalog meanwhile can still be
     * taken out). Check both ids, load, apply baskets_basket_remove_item, save. */
    (void)app;
    (void)id;
    (void)product_id;
    (void)quantity;
    return core_err_set(err, CORE_ERR_INTERNAL, "TODO: exercise 03.3 (baskets_app_remove_item)");
}

core_status baskets_app_get_basket(struct baskets_app *app, const char *id, struct baskets_basket *out,
                                   core_err *err)
{
    core_status st;
    enter("GetBasket");
    if ((st = baskets_check_id(id, err)) == CORE_OK)
        st = app->baskets.find(app->baskets.self, id, out, err);
    if (st)
        baskets_basket_release(out);
    return leave("GetBasket", st, err);
}
