/* handlers.c -- the notifications module's CustomerHandlers and OrderHandlers (chapter 07). See
 * notifications/handlers.h.
 */
#include <inttypes.h>
#include <string.h>

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

static const char *const customer_events[] = {CUSTOMERSAPI_CUSTOMER_REGISTERED,
                                              CUSTOMERSAPI_CUSTOMER_SMS_CHANGED, NULL};
static const char *const order_events[] = {ORDERSAPI_ORDER_CREATED, ORDERSAPI_ORDER_READIED,
                                           ORDERSAPI_ORDER_CANCELED, ORDERSAPI_ORDER_COMPLETED,
                                           NULL};

static void group_opts(struct am_sub_opts *customers, struct am_sub_opts *orders)
{
    *customers = (struct am_sub_opts)AM_SUB_OPTS_INIT;
    *orders = (struct am_sub_opts)AM_SUB_OPTS_INIT;
    customers->group = NOTIFICATIONS_CUSTOMERS_GROUP;
    customers->filter = customer_events;
    orders->group = NOTIFICATIONS_ORDERS_GROUP;
    orders->filter = order_events;
}

core_status notifications_subscribe_handlers(am_stream *stream, const es_registry *reg,
                                             struct notifications_handlers *h, core_err *err)
{
    struct am_sub_opts customers, orders;
    group_opts(&customers, &orders);
    core_status st = am_event_subscribe(stream, CUSTOMERS_CUSTOMER_CHANNEL, &customers, reg,
                                        on_customer_event, h, err);
    if (!st)
        st = am_event_subscribe(stream, ORDERING_ORDER_CHANNEL, &orders, reg, on_order_event, h,
                                err);
    return st;
}

/* ---- chapter 09: in a unit of work ----------------------------------------------------------- */

/* Runs fn (one of the handlers above) on the handlers' state of a unit joined on tx. */
static core_status in_unit(struct notifications_units *units, tm_tx *tx,
                           const struct am_delivery *d, const ddd_event *ev, am_event_handler_fn fn,
                           core_err *err)
{
    struct notifications_unit u;
    memset(&u, 0, sizeof u);
    core_status st = units->join(units->self, tx, &u, err);
    if (st)
        return st;
    if ((st = fn(&u.h, d, ev, err))) {
        units->rollback(units->self, &u);
        return st;
    }
    return units->commit(units->self, &u, err);
}

static core_status on_customer_event_in(void *ud, tm_tx *tx, const struct am_delivery *d,
                                        const ddd_event *ev, core_err *err)
{
    return in_unit(ud, tx, d, ev, on_customer_event, err);
}

static core_status on_order_event_in(void *ud, tm_tx *tx, const struct am_delivery *d,
                                     const ddd_event *ev, core_err *err)
{
    return in_unit(ud, tx, d, ev, on_order_event, err);
}

core_status notifications_subscribe_handlers_in(am_stream *stream, tm_outbox *ob,
                                                const es_registry *reg,
                                                struct notifications_units *units, core_err *err)
{
    struct am_sub_opts customers, orders;
    group_opts(&customers, &orders);
    core_status st = tm_event_subscribe(stream, ob, CUSTOMERS_CUSTOMER_CHANNEL, &customers, reg,
                                        on_customer_event_in, units, err);
    if (!st)
        st = tm_event_subscribe(stream, ob, ORDERING_ORDER_CHANNEL, &orders, reg, on_order_event_in,
                                units, err);
    return st;
}
