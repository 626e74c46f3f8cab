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

static core_status check_product_id(const char *product_id, core_err *err)
{
    if (core_str_blank(product_id))
        return core_err_set(err, CORE_ERR_INVALID, "the product id cannot be blank");
    return CORE_OK;
}

/* ---- publishing, then saving ------------------------------------------------------------------ */

/* Publishes the events b recorded (they stay in b and go with it) and, when every handler
 * succeeded, saves b: as a new basket (is_new) or over the stored one. Why in this order:
 * application.h. */
static core_status publish_and_save(struct baskets_app *app, struct baskets_basket *b, bool is_new, core_err *err)
{
    const struct ddd_event_list *events = &b->agg.events;
    core_status st = ddd_dispatcher_publish(app->publisher, events->items, events->n, err);
    if (st == CORE_OK && is_new)
        st = app->baskets.save(app->baskets.self, b, err);
    else if (st == CORE_OK)
        st = app->baskets.update(app->baskets.self, b, err);
    return st;
}

core_status baskets_app_start_basket(struct baskets_app *app, const char *id, const char *customer_id,
                                     core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_status st;
    enter("StartBasket");
    if ((st = baskets_basket_start(&b, id, customer_id, err)) == CORE_OK)
        st = publish_and_save(app, &b, true, err);
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
        st = publish_and_save(app, &b, false, err);
    baskets_basket_release(&b);
    return leave("CancelBasket", st, err);
}

core_status baskets_app_checkout_basket(struct baskets_app *app, const char *id, const char *payment_id,
                                        core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_status st;
    enter("CheckoutBasket");
    /* The order is created by the OrderHandlers on "baskets.BasketCheckedOut", published before
     * the basket is saved: if ordering refuses (customer not authorized, payment not confirmed,
     * ...) nothing is saved, the basket stays open and can be fixed and retried. */
    if ((st = baskets_check_id(id, err)) == CORE_OK &&
        (st = app->baskets.find(app->baskets.self, id, &b, err)) == CORE_OK &&
        (st = baskets_basket_checkout(&b, payment_id, err)) == CORE_OK)
        st = publish_and_save(app, &b, false, err);
    baskets_basket_release(&b);
    return leave("CheckoutBasket", st, err);
}

core_status baskets_app_add_item(struct baskets_app *app, const char *id, const char *product_id, int quantity,
                                 core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    struct baskets_product product = BASKETS_PRODUCT_INIT;
    struct baskets_store store = BASKETS_STORE_INIT;
    core_status st;
    enter("AddItem");
    if ((st = baskets_check_id(id, err)) == CORE_OK && (st = check_product_id(product_id, err)) == CORE_OK &&
        (st = app->baskets.find(app->baskets.self, id, &b, err)) == CORE_OK &&
        (st = app->stores.get_product(app->stores.self, product_id, &product, err)) == CORE_OK &&
        (st = app->stores.get_store(app->stores.self, product.store_id, &store, err)) == CORE_OK &&
        (st = baskets_basket_add_item(&b, &store, &product, quantity, err)) == CORE_OK)
        st = publish_and_save(app, &b, false, err);
    baskets_store_release(&store);
    baskets_product_release(&product);
    baskets_basket_release(&b);
    return leave("AddItem", st, err);
}

core_status baskets_app_remove_item(struct baskets_app *app, const char *id, const char *product_id,
                                    int quantity, core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_status st;
    enter("RemoveItem");
    if ((st = baskets_check_id(id, err)) == CORE_OK && (st = check_product_id(product_id, err)) == CORE_OK &&
        (st = app->baskets.find(app->baskets.self, id, &b, err)) == CORE_OK &&
        (st = baskets_basket_remove_item(&b, product_id, quantity, err)) == CORE_OK)
        st = publish_and_save(app, &b, false, err);
    baskets_basket_release(&b);
    return leave("RemoveItem", st, err);
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
