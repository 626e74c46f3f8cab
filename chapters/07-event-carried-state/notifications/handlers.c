/* handlers.c -- the notifications module's CustomerHandlers and OrderHandlers (chapter 07). See
 * notifications/handlers.h.
 */
#include <inttypes.h>

#include "customers/events.h"
#include "log.h"
#include "notifications/handlers.h"
#include "ordering/events.h"

#define COMP "notifications"

static core_status no_id(const struct am_delivery *d, core_err *err)
{
    return core_err_set(err, CORE_ERR_INVALID, "%s %s has no id", d->name, d->id);
}

static core_status on_customer_event(void *ud, const struct am_delivery *d, const ddd_event *ev,
                                     core_err *err)
{
    struct notifications_customer_cache *c = &((struct notifications_handlers *)ud)->customers;
    const void *p = ddd_event_payload(ev);
    core_status st = CORE_OK;
    if (ddd_event_payload_is(ev, &customersapi__customer_registered__descriptor)) {
        const Customersapi__CustomerRegistered *m = p;
        if (core_str_blank(m->id))
            return no_id(d, err);
        st = c->add(c->self, m->id, m->name, m->sms_number, d->stream_seq, err);
        if (!st)
            log_info(COMP, "cache %s customer=%s name=\"%s\" sms_number=%s seq=%" PRIu64, d->name,
                     m->id, m->name, m->sms_number, d->stream_seq);
    } else if (ddd_event_payload_is(ev, &customersapi__customer_sms_changed__descriptor)) {
        const Customersapi__CustomerSmsChanged *m = p;
        if (core_str_blank(m->id))
            return no_id(d, err);
        st = c->change_sms(c->self, m->id, m->sms_number, d->stream_seq, err);
        if (!st)
            log_info(COMP, "cache %s customer=%s sms_number=%s seq=%" PRIu64, d->name, m->id,
                     m->sms_number, d->stream_seq);
    }
    return st;
}

static core_status on_order_event(void *ud, const struct am_delivery *d, const ddd_event *ev,
                                  core_err *err)
{
    struct notifications_app *app = ((struct notifications_handlers *)ud)->app;
    const void *p = ddd_event_payload(ev);
    const char *id = NULL, *customer_id = NULL;
    core_status (*notify)(struct notifications_app *, const char *, const char *, core_err *) =
        NULL;
    if (ddd_event_payload_is(ev, &ordersapi__order_created__descriptor)) {
        const Ordersapi__OrderCreated *m = p;
        id = m->id, customer_id = m->customer_id;
        notify = notifications_app_notify_order_created;
    } else if (ddd_event_payload_is(ev, &ordersapi__order_readied__descriptor)) {
        const Ordersapi__OrderReadied *m = p;
        id = m->id, customer_id = m->customer_id;
        notify = notifications_app_notify_order_ready;
    } else if (ddd_event_payload_is(ev, &ordersapi__order_canceled__descriptor)) {
        const Ordersapi__OrderCanceled *m = p;
        id = m->id, customer_id = m->customer_id;
        notify = notifications_app_notify_order_canceled;
    } else if (ddd_event_payload_is(ev, &ordersapi__order_completed__descriptor)) {
        const Ordersapi__OrderCompleted *m = p;
        id = m->id, customer_id = m->customer_id;
        notify = notifications_app_notify_order_completed;
    } else {
        return CORE_OK; /* another payload under a filtered name: nothing to send */
    }
    if (core_str_blank(id))
        return no_id(d, err);
    return notify(app, id, customer_id, err);
}

core_status notifications_subscribe_handlers(am_stream *stream, const es_registry *reg,
                                             struct notifications_handlers *h, core_err *err)
{
    static const char *const customer_events[] = {CUSTOMERSAPI_CUSTOMER_REGISTERED,
                                                  CUSTOMERSAPI_CUSTOMER_SMS_CHANGED, NULL};
    static const char *const order_events[] = {ORDERSAPI_ORDER_CREATED, ORDERSAPI_ORDER_READIED,
                                               ORDERSAPI_ORDER_CANCELED, ORDERSAPI_ORDER_COMPLETED,
                                               NULL};
    struct am_sub_opts customers = AM_SUB_OPTS_INIT, orders = AM_SUB_OPTS_INIT;
    customers.group = NOTIFICATIONS_CUSTOMERS_GROUP;
    customers.filter = customer_events;
    orders.group = NOTIFICATIONS_ORDERS_GROUP;
    orders.filter = order_events;
    core_status st = am_event_subscribe(stream, CUSTOMERS_CUSTOMER_CHANNEL, &customers, reg,
                                        on_customer_event, h, err);
    if (!st)
        st = am_event_subscribe(stream, ORDERING_ORDER_CHANNEL, &orders, reg, on_order_event, h,
                                err);
    return st;
}
