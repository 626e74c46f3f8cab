/* application.c -- see application.h. */
#include "baskets/application.h"

static core_status check_product_id(const char *product_id, core_err *err)
{
    if (core_str_blank(product_id))
        return core_err_set(err, CORE_ERR_INVALID, "the product id cannot be blank");
    return CORE_OK;
}

core_status baskets_app_start_basket(struct baskets_app *app, const char *id,
                                     const char *customer_id, core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_status st;
    if ((st = baskets_basket_start(&b, id, customer_id, err)) == CORE_OK)
        st = app->baskets.save(app->baskets.self, &b, err);
    baskets_basket_release(&b);
    return st;
}

core_status baskets_app_cancel_basket(struct baskets_app *app, const char *id, core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_status st;
    if ((st = baskets_check_id(id, err)) == CORE_OK &&
        (st = app->baskets.find(app->baskets.self, id, &b, err)) == CORE_OK &&
        (st = baskets_basket_cancel(&b, err)) == CORE_OK)
        st = app->baskets.update(app->baskets.self, &b, err);
    baskets_basket_release(&b);
    return st;
}

core_status baskets_app_checkout_basket(struct baskets_app *app, const char *id,
                                        const char *payment_id, core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_status st;
    /* The order is created before the basket is saved: if ordering refuses (customer not
     * authorized, payment not confirmed, ...) the basket stays open and can be fixed and retried.
     */
    if ((st = baskets_check_id(id, err)) == CORE_OK &&
        (st = app->baskets.find(app->baskets.self, id, &b, err)) == CORE_OK &&
        (st = baskets_basket_checkout(&b, payment_id, err)) == CORE_OK &&
        (st = app->ordering.create_order(app->ordering.self, &b, err)) == CORE_OK)
        st = app->baskets.update(app->baskets.self, &b, err);
    baskets_basket_release(&b);
    return st;
}

core_status baskets_app_add_item(struct baskets_app *app, const char *id, const char *product_id,
                                 int quantity, core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    struct baskets_product product = BASKETS_PRODUCT_INIT;
    struct baskets_store store = BASKETS_STORE_INIT;
    core_status st;
    if ((st = baskets_check_id(id, err)) == CORE_OK &&
        (st = check_product_id(product_id, err)) == CORE_OK &&
        (st = app->baskets.find(app->baskets.self, id, &b, err)) == CORE_OK &&
        (st = app->stores.get_product(app->stores.self, product_id, &product, err)) == CORE_OK &&
        (st = app->stores.get_store(app->stores.self, product.store_id, &store, err)) == CORE_OK &&
        (st = baskets_basket_add_item(&b, &store, &product, quantity, err)) == CORE_OK)
        st = app->baskets.update(app->baskets.self, &b, err);
    baskets_store_release(&store);
    baskets_product_release(&product);
    baskets_basket_release(&b);
    return st;
}

core_status baskets_app_remove_item(struct baskets_app *app, const char *id, const char *product_id,
                                    int quantity, core_err *err)
{
    struct baskets_basket b = BASKETS_BASKET_INIT;
    core_status st;
    if ((st = baskets_check_id(id, err)) == CORE_OK &&
        (st = check_product_id(product_id, err)) == CORE_OK &&
        (st = app->baskets.find(app->baskets.self, id, &b, err)) == CORE_OK &&
        (st = baskets_basket_remove_item(&b, product_id, quantity, err)) == CORE_OK)
        st = app->baskets.update(app->baskets.self, &b, err);
    baskets_basket_release(&b);
    return st;
}

core_status baskets_app_get_basket(struct baskets_app *app, const char *id,
                                   struct baskets_basket *out, core_err *err)
{
    core_status st;
    if ((st = baskets_check_id(id, err)) == CORE_OK)
        st = app->baskets.find(app->baskets.self, id, out, err);
    if (st)
        baskets_basket_release(out);
    return st;
}
