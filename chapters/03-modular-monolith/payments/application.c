/* payments/application.c -- see application.h. */
#include "payments/application.h"

#include "log.h"

#define COMP "payments"

static core_status require_id(const char *id, const char *what, core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the %s id cannot be blank", what);
    return CORE_OK;
}

core_status payments_app_authorize_payment(struct payments_app *app, const char *customer_id,
                                           double amount, char out_id[PAYMENTS_ID_MAX + 1],
                                           core_err *err)
{
    struct payments_payment p;
    char id[CORE_UUID_LEN + 1];
    core_uuid_new(id);
    core_status st = payments_payment_authorize(&p, id, customer_id, amount, err);
    if (!st)
        st = app->payments.save(app->payments.self, &p, err);
    if (!st)
        core_strlcpy(out_id, p.id, PAYMENTS_ID_MAX + 1);
    return st;
}

core_status payments_app_confirm_payment(struct payments_app *app, const char *id, core_err *err)
{
    struct payments_payment p;
    core_status st = require_id(id, "payment", err);
    if (!st && (st = app->payments.find(app->payments.self, id, &p, err)) == CORE_ERR_NOT_FOUND)
        core_err_wrap(err, "payment cannot be confirmed");
    return st;
}

core_status payments_app_create_invoice(struct payments_app *app, const char *order_id,
                                        const char *payment_id, double amount,
                                        char out_id[PAYMENTS_ID_MAX + 1], core_err *err)
{
    struct payments_invoice inv;
    char id[CORE_UUID_LEN + 1];
    core_uuid_new(id);
    core_status st = payments_invoice_create(&inv, id, order_id, amount, err);
    if (!st)
        st = app->invoices.save(app->invoices.self, &inv, err);
    if (!st) {
        core_strlcpy(out_id, inv.id, PAYMENTS_ID_MAX + 1);
        log_debug(COMP, "invoice created id=%s order_id=%s payment_id=%s", inv.id, inv.order_id,
                  payment_id ? payment_id : "");
    }
    return st;
}

core_status payments_app_adjust_invoice(struct payments_app *app, const char *id, double amount,
                                        core_err *err)
{
    struct payments_invoice inv;
    core_status st;
    if (!(st = require_id(id, "invoice", err)) &&
        !(st = app->invoices.find(app->invoices.self, id, &inv, err)) &&
        !(st = payments_invoice_adjust(&inv, amount, err)))
        st = app->invoices.update(app->invoices.self, &inv, err);
    return st;
}

core_status payments_app_pay_invoice(struct payments_app *app, const char *id, core_err *err)
{
    struct payments_invoice inv;
    core_status st;
    if ((st = require_id(id, "invoice", err)) ||
        (st = app->invoices.find(app->invoices.self, id, &inv, err)) ||
        (st = payments_invoice_pay(&inv, err)))
        return st;
    /* The order is completed first, as in the book: a failure there leaves the invoice pending,
     * so paying can be retried. */
    if ((st = app->orders.complete(app->orders.self, inv.order_id, inv.id, err))) {
        core_err_wrap(err, "completing order %s", inv.order_id);
        return st;
    }
    return app->invoices.update(app->invoices.self, &inv, err);
}

core_status payments_app_cancel_invoice(struct payments_app *app, const char *id, core_err *err)
{
    struct payments_invoice inv;
    core_status st;
    if (!(st = require_id(id, "invoice", err)) &&
        !(st = app->invoices.find(app->invoices.self, id, &inv, err)) &&
        !(st = payments_invoice_cancel(&inv, err)))
        st = app->invoices.update(app->invoices.self, &inv, err);
    return st;
}
