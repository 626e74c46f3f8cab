/* application.c -- see application.h. */
#include "log.h"
#include "ordering/application.h"

#define COMP "ordering"

/* Fails with CORE_ERR_CONFLICT when an order with this id is stored already. */
static core_status check_new(struct ordering_app *app, const char *id, core_err *err)
{
    struct ordering_order existing = ORDERING_ORDER_INIT;
    core_err lookup = CORE_ERR_INIT;
    core_status st = app->orders.find(app->orders.self, id, &existing, &lookup);
    ordering_order_release(&existing);
    if (st == CORE_OK)
        return core_err_set(err, CORE_ERR_CONFLICT, "order %s already exists", id);
    if (st == CORE_ERR_NOT_FOUND)
        return CORE_OK;
    if (err)
        *err = lookup;
    return st;
}

/* Best effort: cancels the shopping list shopping_id that CreateOrder had depot make for order
 * order_id, after the order's save failed with save_st (detail in save_err, may be NULL). A
 * failed cancel is logged with both errors, not returned: the caller returns the save's error. */
static void cancel_created_list(struct ordering_app *app, const char *order_id,
                                const char *shopping_id, core_status save_st,
                                const core_err *save_err)
{
    core_err cancel = CORE_ERR_INIT;
    const char *why = save_err ? save_err->msg : core_status_text(save_st);
    if (app->depot.cancel_shopping_list(app->depot.self, shopping_id, &cancel))
        log_error(COMP,
                  "order %s not saved (%s); cancelling its shopping list %s failed too (%s): the "
                  "list is left without an order",
                  order_id, why, shopping_id, cancel.msg);
    else
        log_info(COMP, "order %s not saved (%s); its shopping list %s was cancelled", order_id, why,
                 shopping_id);
}

/* CreateOrder. When the save fails after depot created the shopping list (CORE_ERR_CONFLICT: a
 * racing CreateOrder of the same id saved first; or any other failure), that list is cancelled
 * again through the depot port (cancel_created_list) and the save's error is returned unchanged.
 * This is a local compensation: the first hint of what the book's chapter 8 generalises as sagas
 * (each step that succeeded is undone when a later one fails). */
core_status ordering_app_create_order(struct ordering_app *app, const char *id,
                                      const char *customer_id, const char *payment_id,
                                      const struct ordering_item *items, size_t nitems,
                                      char *id_out, core_err *err)
{
    struct ordering_order order = ORDERING_ORDER_INIT;
    char new_id[CORE_UUID_LEN + 1];
    char shopping_id[ORDERING_ID_SIZE] = "";
    core_status st;

    if (core_str_blank(id)) {
        core_uuid_new(new_id);
        id = new_id;
    }
    if ((st = ordering_order_create(&order, id, customer_id, payment_id, items, nitems, err)))
        goto done;
    if ((st = check_new(app, order.id, err)))
        goto done;
    if ((st = app->customers.authorize(app->customers.self, order.customer_id, err)))
        goto done;
    if ((st = app->payments.confirm(app->payments.self, order.payment_id, err)))
        goto done;
    if ((st = app->depot.create_shopping_list(app->depot.self, &order, shopping_id, err)))
        goto done;
    if ((st = ordering_order_set_shopping_id(&order, shopping_id, err)))
        goto done;
    if ((st = app->notifications.order_created(app->notifications.self, order.id, order.customer_id,
                                               err)))
        goto done;
    if ((st = app->orders.save(app->orders.self, &order, err))) {
        cancel_created_list(app, order.id, shopping_id, st, err);
        goto done;
    }
    core_strlcpy(id_out, order.id, ORDERING_ID_SIZE);
    log_info(COMP, "order created id=%s customer_id=%s shopping_id=%s items=%zu total=%.2f",
             order.id, order.customer_id, order.shopping_id, order.nitems,
             ordering_order_total(&order));
done:
    ordering_order_release(&order);
    return st;
}

core_status ordering_app_cancel_order(struct ordering_app *app, const char *id, core_err *err)
{
    struct ordering_order order = ORDERING_ORDER_INIT;
    core_status st;

    if ((st = app->orders.find(app->orders.self, id, &order, err)))
        goto done;
    if ((st = ordering_order_cancel(&order, err)))
        goto done;
    if ((st = app->depot.cancel_shopping_list(app->depot.self, order.shopping_id, err)))
        goto done;
    if ((st = app->notifications.order_canceled(app->notifications.self, order.id,
                                                order.customer_id, err)))
        goto done;
    if ((st = app->orders.update(app->orders.self, &order, err)))
        goto done;
    log_info(COMP, "order cancelled id=%s shopping_id=%s", order.id, order.shopping_id);
done:
    ordering_order_release(&order);
    return st;
}

core_status ordering_app_ready_order(struct ordering_app *app, const char *id, core_err *err)
{
    struct ordering_order order = ORDERING_ORDER_INIT;
    char invoice_id[ORDERING_ID_SIZE] = "";
    core_status st;

    if ((st = app->orders.find(app->orders.self, id, &order, err)))
        goto done;
    if ((st = ordering_order_ready(&order, err)))
        goto done;
    if ((st = app->notifications.order_ready(app->notifications.self, order.id, order.customer_id,
                                             err)))
        goto done;
    if ((st = app->payments.create_invoice(app->payments.self, order.id, order.payment_id,
                                           ordering_order_total(&order), invoice_id, err)))
        goto done;
    if ((st = ordering_order_set_invoice_id(&order, invoice_id, err)))
        goto done;
    if ((st = app->orders.update(app->orders.self, &order, err)))
        goto done;
    log_info(COMP, "order ready id=%s invoice_id=%s", order.id, order.invoice_id);
done:
    ordering_order_release(&order);
    return st;
}

core_status ordering_app_complete_order(struct ordering_app *app, const char *id,
                                        const char *invoice_id, core_err *err)
{
    struct ordering_order order = ORDERING_ORDER_INIT;
    core_status st;

    if ((st = app->orders.find(app->orders.self, id, &order, err)))
        goto done;
    if ((st = ordering_order_complete(&order, invoice_id, err)))
        goto done;
    if ((st = app->orders.update(app->orders.self, &order, err)))
        goto done;
    log_info(COMP, "order completed id=%s invoice_id=%s", order.id, order.invoice_id);
done:
    ordering_order_release(&order);
    return st;
}

core_status ordering_app_get_order(struct ordering_app *app, const char *id,
                                   struct ordering_order *out, core_err *err)
{
    return app->orders.find(app->orders.self, id, out, err);
}
