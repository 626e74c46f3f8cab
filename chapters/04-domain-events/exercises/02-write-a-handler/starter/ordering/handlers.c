/* handlers.c -- see handlers.h. STARTER of exercise 04.2 (write a handler): the parts marked
 * TODO(exercise 04.2) are yours; everything else is the chapter's code. on_order_created is done:
 * it is the model for the three handlers you write. */
#include "log.h"
#include "ordering/domain_events.pb-c.h"
#include "ordering/handlers.h"

#define COMP "ordering"

/* The book's logging decorator for event handlers: one line on entry, one on exit. */
static void enter(const char *what)
{
    log_debug(COMP, "--> Ordering.%s", what);
}

static core_status leave(const char *what, core_status st, const core_err *err)
{
    if (st)
        log_debug(COMP, "<-- Ordering.%s error=\"%s\"", what,
                  err ? err->msg : core_status_text(st));
    else
        log_debug(COMP, "<-- Ordering.%s", what);
    return st;
}

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
    enter("NotificationHandlers.OnOrderCreated");
    core_status st =
        event_data(ev, &ordering__domain__order_created__descriptor, &order_id, &msg, err);
    if (st == CORE_OK) {
        const Ordering__Domain__OrderCreated *p = (const void *)msg;
        st = h->notifications.order_created(h->notifications.self, order_id, p->customer_id, err);
    }
    return leave("NotificationHandlers.OnOrderCreated", st, err);
}

/* "ordering.OrderReadied": tell the customer the order is ready. */
static core_status on_order_readied_notify(void *ud, const ddd_event *ev, core_err *err)
{
    enter("NotificationHandlers.OnOrderReadied");
    /* TODO(exercise 04.2): as on_order_created, with an OrderReadied payload
     * (Ordering__Domain__OrderReadied) and the port's order_ready. */
    (void)ud;
    (void)ev;
    core_status st = core_err_set(err, CORE_ERR_INTERNAL,
                                  "TODO(exercise 04.2): NotificationHandlers.OnOrderReadied");
    return leave("NotificationHandlers.OnOrderReadied", st, err);
}

/* "ordering.OrderCanceled": tell the customer the order was cancelled. */
static core_status on_order_canceled(void *ud, const ddd_event *ev, core_err *err)
{
    enter("NotificationHandlers.OnOrderCanceled");
    /* TODO(exercise 04.2): as on_order_created, with an OrderCanceled payload and the port's
     * order_canceled. */
    (void)ud;
    (void)ev;
    core_status st = core_err_set(err, CORE_ERR_INTERNAL,
                                  "TODO(exercise 04.2): NotificationHandlers.OnOrderCanceled");
    return leave("NotificationHandlers.OnOrderCanceled", st, err);
}

#define NOTIFICATIONS "ordering.NotificationHandlers"

core_status ordering_register_notification_handlers(ddd_dispatcher *d,
                                                    struct ordering_notification_handlers *h,
                                                    core_err *err)
{
    /* TODO(exercise 04.2): subscribe on_order_readied_notify to ORDERING_ORDER_READIED and
     * on_order_canceled to ORDERING_ORDER_CANCELED as well, under the same label, and return the
     * first failure. Then delete the two (void) lines: they only keep the compiler quiet about
     * handlers nobody subscribes yet. */
    (void)on_order_readied_notify;
    (void)on_order_canceled;
    return ddd_dispatcher_subscribe(d, ORDERING_ORDER_CREATED, NOTIFICATIONS, on_order_created, h,
                                    err);
}

/* ---- InvoiceHandlers ------------------------------------------------------------------------ */

/* "ordering.OrderReadied": payments.CreateInvoice(order id, payment id, total), then the
 * invoice's id is stored on the order with ordering_app_record_invoice(). */
static core_status on_order_readied_invoice(void *ud, const ddd_event *ev, core_err *err)
{
    enter("InvoiceHandlers.OnOrderReadied");
    /* TODO(exercise 04.2): read the event (order id and OrderReadied payload), call the payments
     * port's create_invoice with the payload's payment id and total (it writes the new invoice's
     * id into a char[ORDERING_ID_SIZE] of yours), then store that id on the order with
     * ordering_app_record_invoice(h->app, ...). Stop at the first failure and return it. */
    (void)ud;
    (void)ev;
    core_status st =
        core_err_set(err, CORE_ERR_INTERNAL, "TODO(exercise 04.2): InvoiceHandlers.OnOrderReadied");
    return leave("InvoiceHandlers.OnOrderReadied", st, err);
}

core_status ordering_register_invoice_handlers(ddd_dispatcher *d,
                                               struct ordering_invoice_handlers *h, core_err *err)
{
    /* TODO(exercise 04.2): subscribe on_order_readied_invoice to ORDERING_ORDER_READIED under the
     * label "ordering.InvoiceHandlers". (The module registers the NotificationHandlers first, so
     * on OrderReadied the customer is told before the invoice is made.) */
    (void)d;
    (void)h;
    (void)err;
    (void)on_order_readied_invoice;
    return CORE_OK;
}
