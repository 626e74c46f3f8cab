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

/* ---- saving, then publishing ------------------------------------------------------------------ */

struct publishing {
    struct baskets_app *app;
    struct baskets_basket *basket;
};

/* Runs inside the repository's write, after the basket was written: hands the recorded events
 * over and publishes them. A handler's failure rolls the write back. */
static core_status publish_events(void *ud, core_err *err)
{
    struct publishing *p = ud;
    struct ddd_event_list events = DDD_EVENT_LIST_INIT;
    core_status st = ddd_aggregate_take_events(&p->basket->agg, &events, err);
    if (st == CORE_OK)
        st = ddd_dispatcher_publish(p->app->publisher, events.items, events.n, err);
    ddd_event_list_release(&events);
    return st;
}

/* Saves the new basket b (is_new) or overwrites it, and publishes its events. */
static core_status save_and_publish(struct baskets_app *app, struct baskets_basket *b, bool is_new, core_err *err)
{
    struct publishing p = {app, b};
    const struct baskets_after_write then = {publish_events, &p};
    if (is_new)
        return app->baskets.save(app->baskets.self, b, &then, err);
    return app->baskets.update(app->baskets.self, b, &then, err);
}

core_status baskets_app_start_basket(struct baskets_app *app, const char *id, const char *customer_id,
                                     core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_status st;
    enter("StartBasket");
    if ((st = baskets_basket_start(&b, id, customer_id, err)) == CORE_OK)
        st = save_and_publish(app, &b, true, err);
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
        st = save_and_publish(app, &b, false, err);
    baskets_basket_release(&b);
    return leave("CancelBasket", st, err);
}

core_status baskets_app_checkout_basket(struct baskets_app *app, const char *id, const char *payment_id,
                                        core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_status st;
    enter("CheckoutBasket");
    /* The order is created by the OrderHandlers on "baskets.BasketCheckedOut", published while
     * the write is still open: if ordering refuses (customer not authorized, payment not
     * confirmed, ...) the write is rolled back, the basket stays open and can be fixed and retried. */
    if ((st = baskets_check_id(id, err)) == CORE_OK &&
        (st = app->baskets.find(app->baskets.self, id, &b, err)) == CORE_OK &&
        (st = baskets_basket_checkout(&b, payment_id, err)) == CORE_OK)
        st = save_and_publish(app, &b, false, err);
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
        st = save_and_publish(app, &b, false, err);
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
        st = save_and_publish(app, &b, false, err);
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
