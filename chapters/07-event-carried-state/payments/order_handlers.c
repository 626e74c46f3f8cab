/* payments/order_handlers.c -- the OrderHandlers (chapter 07): a ready order gets its invoice.
 * See payments/handlers.h. */
#include <inttypes.h>

#include "log.h"
#include "ordering/events.h"
#include "payments/handlers.h"

core_status payments_on_order_event(void *app, const struct am_delivery *d, const ddd_event *ev,
                                    core_err *err)
{
    if (ddd_event_payload_is(ev, &ordersapi__order_canceled__descriptor)) {
        const Ordersapi__OrderCanceled *c = (const void *)ddd_event_payload(ev);
        core_status st = payments_app_cancel_order_invoice(app, c->id, err);
        if (st)
            core_err_wrap(err, "canceling the invoice of order %s", c->id);
        return st;
    }
    if (!ddd_event_payload_is(ev, &ordersapi__order_readied__descriptor))
        return core_err_set(err, CORE_ERR_INTERNAL, "payments.OrderHandlers do not handle %s",
                            ddd_event_name(ev));
    const Ordersapi__OrderReadied *m = (const void *)ddd_event_payload(ev);
    char invoice_id[PAYMENTS_ID_MAX + 1] = "";
    core_status st =
        payments_app_invoice_order(app, m->id, m->payment_id, m->total, invoice_id, err);
    if (st)
        core_err_wrap(err, "invoicing order %s", m->id);
    else
        log_info("payments",
                 "order %s invoiced: invoice %s amount=%.2f (message %s, delivery %" PRIu64 ")",
                 m->id, invoice_id, m->total, d ? d->id : "", d ? d->delivered : 0);
    return st;
}

core_status payments_subscribe_order_handlers(am_stream *stream, const es_registry *reg,
                                              struct payments_app *app, core_err *err)
{
    static const char *const names[] = {ORDERSAPI_ORDER_READIED, ORDERSAPI_ORDER_CANCELED, NULL};
    struct am_sub_opts opts = AM_SUB_OPTS_INIT;
    opts.group = PAYMENTS_ORDERS_GROUP;
    opts.filter = names;
    return am_event_subscribe(stream, ORDERING_ORDER_CHANNEL, &opts, reg, payments_on_order_event,
                              app, err);
}
