/* handlers.c -- see handlers.h. */
#include "ordering/domain_events.pb-c.h"
#include "ordering/handlers.h"

/* The order id of ev (its metadata "aggregate-id") and its payload, which must be a desc
 * message; both borrowed from ev. */
static core_status event_data(const ddd_event *ev, const ProtobufCMessageDescriptor *desc,
                              const char **order_id, const ProtobufCMessage **payload,
                              core_err *err)
{
    *order_id = ddd_event_metadata(ev, "aggregate-id");
    if (core_str_blank(*order_id))
        return core_err_set(err, CORE_ERR_INTERNAL, "event %s has no aggregate-id",
                            ddd_event_name(ev));
    if (!ddd_event_payload_is(ev, desc))
        return core_err_set(err, CORE_ERR_INTERNAL, "event %s carries no %s payload",
                            ddd_event_name(ev), desc->name);
    *payload = ddd_event_payload(ev);
    return CORE_OK;
}

/* ---- NotificationHandlers ------------------------------------------------------------------- */

static core_status on_order_created(void *ud, const ddd_event *ev, core_err *err)
{
    struct ordering_notification_handlers *h = ud;
    const ProtobufCMessage *msg = NULL;
    const char *order_id = NULL;
    core_status st =
        event_data(ev, &ordering__domain__order_created__descriptor, &order_id, &msg, err);
    if (st == CORE_OK) {
        const Ordering__Domain__OrderCreated *p = (const void *)msg;
        st = h->notifications.order_created(h->notifications.self, order_id, p->customer_id, err);
    }
    return st;
}

static core_status on_order_readied_notify(void *ud, const ddd_event *ev, core_err *err)
{
    struct ordering_notification_handlers *h = ud;
    const ProtobufCMessage *msg = NULL;
    const char *order_id = NULL;
    core_status st =
        event_data(ev, &ordering__domain__order_readied__descriptor, &order_id, &msg, err);
    if (st == CORE_OK) {
        const Ordering__Domain__OrderReadied *p = (const void *)msg;
        st = h->notifications.order_ready(h->notifications.self, order_id, p->customer_id, err);
    }
    return st;
}

static core_status on_order_canceled(void *ud, const ddd_event *ev, core_err *err)
{
    struct ordering_notification_handlers *h = ud;
    const ProtobufCMessage *msg = NULL;
    const char *order_id = NULL;
    core_status st =
        event_data(ev, &ordering__domain__order_canceled__descriptor, &order_id, &msg, err);
    if (st == CORE_OK) {
        const Ordering__Domain__OrderCanceled *p = (const void *)msg;
        st = h->notifications.order_canceled(h->notifications.self, order_id, p->customer_id, err);
    }
    return st;
}

#define NOTIFICATIONS "ordering.NotificationHandlers"

core_status ordering_register_notification_handlers(ddd_dispatcher *d,
                                                    struct ordering_notification_handlers *h,
                                                    core_err *err)
{
    core_status st;
    if ((st = ddd_dispatcher_subscribe(d, ORDERING_ORDER_CREATED, NOTIFICATIONS, on_order_created,
                                       h, err)) ||
        (st = ddd_dispatcher_subscribe(d, ORDERING_ORDER_READIED, NOTIFICATIONS,
                                       on_order_readied_notify, h, err)) ||
        (st = ddd_dispatcher_subscribe(d, ORDERING_ORDER_CANCELED, NOTIFICATIONS, on_order_canceled,
                                       h, err)))
        return st;
    return CORE_OK;
}

/* ---- InvoiceHandlers ------------------------------------------------------------------------ */

static core_status on_order_readied_invoice(void *ud, const ddd_event *ev, core_err *err)
{
    struct ordering_invoice_handlers *h = ud;
    const ProtobufCMessage *msg = NULL;
    const char *order_id = NULL;
    char invoice_id[ORDERING_ID_SIZE] = "";
    core_status st =
        event_data(ev, &ordering__domain__order_readied__descriptor, &order_id, &msg, err);
    if (st == CORE_OK) {
        const Ordering__Domain__OrderReadied *p = (const void *)msg;
        st = h->payments.create_invoice(h->payments.self, order_id, p->payment_id, p->total,
                                        invoice_id, err);
    }
    if (st == CORE_OK)
        st = ordering_app_record_invoice(h->app, order_id, invoice_id, err);
    return st;
}

core_status ordering_register_invoice_handlers(ddd_dispatcher *d,
                                               struct ordering_invoice_handlers *h, core_err *err)
{
    return ddd_dispatcher_subscribe(d, ORDERING_ORDER_READIED, "ordering.InvoiceHandlers",
                                    on_order_readied_invoice, h, err);
}
