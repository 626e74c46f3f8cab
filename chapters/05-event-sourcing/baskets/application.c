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

/* ---- loading; publishing, then appending ------------------------------------------------------ */

/* Loads basket id into the INIT basket *b from its snapshot and events. No events:
 * CORE_ERR_NOT_FOUND "basket <id> not found". */
static core_status load(struct baskets_app *app, const char *id, struct baskets_basket *b, core_err *err)
{
    core_status st = es_repo_load(app->baskets, id, b, err);
    if (st == CORE_ERR_NOT_FOUND)
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "basket %s not found", id);
    return st;
}

/* Publishes the events b raised (they stay pending in b) and, when every handler succeeded,
 * appends them at the version b was loaded at (application.h: why in this order). The repository
 * has no publisher, so es_repo_save only appends, snapshots and frees the events. */
static core_status publish_and_save(struct baskets_app *app, struct baskets_basket *b, core_err *err)
{
    const struct ddd_event_list *events = &b->agg.base.events;
    core_status st = ddd_dispatcher_publish(app->publisher, events->items, events->n, err);
    if (st == CORE_OK && (st = es_repo_save(app->baskets, b, err)) == CORE_ERR_CONFLICT)
        core_err_wrap(err, "saving basket %s", b->id);
    return st;
}

core_status baskets_app_start_basket(struct baskets_app *app, const char *id, const char *customer_id,
                                     core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_status st;
    enter("StartBasket");
    if ((st = baskets_basket_start(&b, id, customer_id, err)) == CORE_OK)
        st = publish_and_save(app, &b, err);
    baskets_basket_release(&b);
    return leave("StartBasket", st, err);
}

core_status baskets_app_cancel_basket(struct baskets_app *app, const char *id, core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_status st;
    enter("CancelBasket");
    if ((st = baskets_check_id(id, err)) == CORE_OK &&
        (st = load(app, id, &b, err)) == CORE_OK &&
        (st = baskets_basket_cancel(&b, err)) == CORE_OK)
        st = publish_and_save(app, &b, err);
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
     * the event is appended: if ordering refuses (customer not authorized, payment not
     * confirmed, ...) nothing is appended, the basket stays open and can be fixed and retried. */
    if ((st = baskets_check_id(id, err)) == CORE_OK &&
        (st = load(app, id, &b, err)) == CORE_OK &&
        (st = baskets_basket_checkout(&b, payment_id, err)) == CORE_OK)
        st = publish_and_save(app, &b, err);
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
        (st = load(app, id, &b, err)) == CORE_OK &&
        (st = app->stores.get_product(app->stores.self, product_id, &product, err)) == CORE_OK &&
        (st = app->stores.get_store(app->stores.self, product.store_id, &store, err)) == CORE_OK &&
        (st = baskets_basket_add_item(&b, &store, &product, quantity, err)) == CORE_OK)
        st = publish_and_save(app, &b, err);
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
        (st = load(app, id, &b, err)) == CORE_OK &&
        (st = baskets_basket_remove_item(&b, product_id, quantity, err)) == CORE_OK)
        st = publish_and_save(app, &b, err);
    baskets_basket_release(&b);
    return leave("RemoveItem", st, err);
}

core_status baskets_app_get_basket(struct baskets_app *app, const char *id, struct baskets_basket *out,
                                   core_err *err)
{
    core_status st;
    enter("GetBasket");
    if ((st = baskets_check_id(id, err)) == CORE_OK)
        st = load(app, id, out, err);
    if (st)
        baskets_basket_release(out);
    return leave("GetBasket", st, err);
}
