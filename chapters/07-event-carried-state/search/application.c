/* search/application.c -- see search/application.h. */
#include <string.h>

#include "search/application.h"

/* A name from a cache: NOT_FOUND becomes "" (see the header); *name is core_malloc'd on OK. */
static core_status known_or_blank(core_status st, char **name, core_err *err)
{
    if (st == CORE_ERR_NOT_FOUND) {
        core_err_clear(err);
        core_free(*name);
        if (!(*name = core_strdup("")))
            return core_err_nomem(err);
        return CORE_OK;
    }
    return st;
}

static core_status check_order_id(const char *event, const char *id, core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "%s has no order id", event);
    if (strlen(id) > SEARCH_ID_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "%s: the order id is too long", event);
    return CORE_OK;
}

/* Adds item i of the event to o, with the names from the caches. */
static core_status add_item(struct search_app *app, struct search_order *o,
                            const Ordersapi__OrderCreated__Item *it, size_t i, core_err *err)
{
    char *product_name = NULL, *product_store = NULL, *store_name = NULL;
    const char *store_id = it->store_id;
    core_status st;
    if (core_str_blank(it->product_id))
        return core_err_set(err, CORE_ERR_INVALID,
                            "ordersapi.OrderCreated %s: item %zu has no "
                            "product id",
                            o->order_id, i);
    if (it->quantity < 1)
        return core_err_set(err, CORE_ERR_INVALID,
                            "ordersapi.OrderCreated %s: item %zu has quantity %d", o->order_id, i,
                            (int)it->quantity);
    st = app->caches.get_product(app->caches.self, it->product_id, &product_name, &product_store,
                                 err);
    if (st == CORE_ERR_NOT_FOUND) {
        core_free(product_store);
        product_store = NULL;
    }
    if ((st = known_or_blank(st, &product_name, err)))
        goto done;
    if (core_str_blank(store_id)) /* the book's chapter 07 items had none */
        store_id = product_store ? product_store : "";
    if (core_str_blank(store_id)) {
        if (!(store_name = core_strdup("")))
            st = core_err_nomem(err);
    } else {
        st = known_or_blank(app->caches.get_store(app->caches.self, store_id, &store_name, err),
                            &store_name, err);
    }
    if (!st)
        st = search_order_add_item(o, it->product_id, store_id, product_name, store_name, it->price,
                                   (int)it->quantity, err);
done:
    core_free(product_name);
    core_free(product_store);
    core_free(store_name);
    return st;
}

core_status search_app_order_created(struct search_app *app, const Ordersapi__OrderCreated *m,
                                     int64_t occurred_us, core_err *err)
{
    struct search_order o = SEARCH_ORDER_INIT;
    char *customer_name = NULL;
    core_status st;
    if ((st = check_order_id("ordersapi.OrderCreated", m->id, err)))
        return st;
    if (!core_str_blank(m->customer_id))
        st = known_or_blank(
            app->caches.get_customer(app->caches.self, m->customer_id, &customer_name, err),
            &customer_name, err);
    if (st ||
        (st = search_order_set(&o, m->id, m->customer_id, customer_name, SEARCH_STATUS_NEW, err)))
        goto done;
    for (size_t i = 0; i < m->n_items && !st; i++) {
        if (!(st = add_item(app, &o, m->items[i], i, err)))
            o.total += m->items[i]->price * m->items[i]->quantity;
    }
    o.created_us = occurred_us;
    if (!st)
        st = app->orders.save_created(app->orders.self, &o, err);
done:
    core_free(customer_name);
    search_order_release(&o);
    return st;
}

core_status search_app_order_readied(struct search_app *app, const Ordersapi__OrderReadied *m,
                                     core_err *err)
{
    core_status st = check_order_id("ordersapi.OrderReadied", m->id, err);
    return st ? st
              : app->orders.save_status(app->orders.self, m->id, SEARCH_STATUS_READY, true,
                                        m->total, err);
}

core_status search_app_order_canceled(struct search_app *app, const Ordersapi__OrderCanceled *m,
                                      core_err *err)
{
    core_status st = check_order_id("ordersapi.OrderCanceled", m->id, err);
    return st ? st
              : app->orders.save_status(app->orders.self, m->id, SEARCH_STATUS_CANCELED, false, 0,
                                        err);
}

core_status search_app_order_completed(struct search_app *app, const Ordersapi__OrderCompleted *m,
                                       core_err *err)
{
    core_status st = check_order_id("ordersapi.OrderCompleted", m->id, err);
    return st ? st
              : app->orders.save_status(app->orders.self, m->id, SEARCH_STATUS_COMPLETED, false, 0,
                                        err);
}

core_status search_app_get_order(struct search_app *app, const char *id, struct search_order *out,
                                 core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the order id cannot be blank");
    if (strlen(id) > SEARCH_ID_MAX) /* no stored order has such an id */
        return core_err_set(err, CORE_ERR_NOT_FOUND, "order %.*s... not found", SEARCH_ID_MAX, id);
    return app->orders.find(app->orders.self, id, out, err);
}

core_status search_app_search_orders(struct search_app *app, const struct search_filters *f,
                                     const char *token, int32_t limit,
                                     struct search_order_list *out, char next[SEARCH_TOKEN_MAX],
                                     core_err *err)
{
    struct search_cursor after;
    bool paged = token && token[0];
    int page = 0;
    core_status st;
    next[0] = '\0';
    if ((st = search_filters_check(f, err)) || (st = search_limit_resolve(limit, &page, err)) ||
        (paged && (st = search_cursor_decode(token, &after, err))))
        return st;
    if ((st = app->orders.search(app->orders.self, f, paged ? &after : NULL, page + 1, out, err)))
        return st;
    if (out->n > (size_t)page) { /* there is more: the token of this page's last order */
        search_order_release(&out->items[--out->n]);
        struct search_cursor last = {out->items[out->n - 1].created_us, {0}};
        core_strlcpy(last.order_id, out->items[out->n - 1].order_id, sizeof last.order_id);
        st = search_cursor_encode(&last, next, err);
    }
    return st;
}
