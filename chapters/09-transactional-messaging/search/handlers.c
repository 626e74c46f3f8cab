/* search/handlers.c -- see search/handlers.h. */
#include <string.h>

#include "ordering/events.h"
#include "search/handlers.h"

static const char *const names[] = {ORDERSAPI_ORDER_CREATED,
                                    ORDERSAPI_ORDER_READIED,
                                    ORDERSAPI_ORDER_CANCELED,
                                    ORDERSAPI_ORDER_COMPLETED,
                                    ORDERSAPI_ORDER_APPROVED,
                                    ORDERSAPI_ORDER_REJECTED,
                                    NULL};

static const ProtobufCMessageDescriptor *const payload_types[] = {
    &ordersapi__order_created__descriptor,  &ordersapi__order_readied__descriptor,
    &ordersapi__order_canceled__descriptor, &ordersapi__order_completed__descriptor,
    &ordersapi__order_approved__descriptor, &ordersapi__order_rejected__descriptor};

core_status search_handle_order_event(struct search_app *app, const ddd_event *event, core_err *err)
{
    const char *name = ddd_event_name(event);
    int kind = -1;
    for (int i = 0; names[i]; i++)
        if (strcmp(name, names[i]) == 0)
            kind = i;
    if (kind < 0)
        return core_err_set(err, CORE_ERR_INVALID, "search does not handle %s", name);
    if (!ddd_event_payload_is(event, payload_types[kind]))
        return core_err_set(err, CORE_ERR_INVALID, "event %s %s has no %s payload", name,
                            ddd_event_id(event), payload_types[kind]->name);
    const void *payload = ddd_event_payload(event);
    switch (kind) {
    case 0: {
        struct timespec at = ddd_event_occurred_at(event);
        int64_t us = (int64_t)at.tv_sec * 1000000 + at.tv_nsec / 1000;
        return search_app_order_created(app, payload, us, err);
    }
    case 1:
        return search_app_order_readied(app, payload, err);
    case 2:
        return search_app_order_canceled(app, payload, err);
    case 3:
        return search_app_order_completed(app, payload, err);
    case 4:
        return search_app_order_approved(app, payload, err);
    default:
        return search_app_order_rejected(app, payload, err);
    }
}

static core_status on_order_event(void *ud, const struct am_delivery *d, const ddd_event *event,
                                  core_err *err)
{
    (void)d;
    return search_handle_order_event(ud, event, err);
}

core_status search_subscribe_order_handlers(am_stream *stream, const es_registry *reg,
                                            struct search_app *app, core_err *err)
{
    struct am_sub_opts opts = AM_SUB_OPTS_INIT;
    opts.group = SEARCH_ORDERS_GROUP;
    opts.filter = names;
    return am_event_subscribe(stream, ORDERING_ORDER_CHANNEL, &opts, reg, on_order_event, app, err);
}

/* ---- chapter 09: in a unit of work ----------------------------------------------------------- */

static core_status on_order_event_in(void *ud, tm_tx *tx, const struct am_delivery *d,
                                     const ddd_event *event, core_err *err)
{
    (void)d;
    struct search_units *units = ud;
    struct search_unit u = {0};
    core_status st = units->join(units->self, tx, &u, err);
    if (st)
        return st;
    if ((st = search_handle_order_event(&u.app, event, err))) {
        units->rollback(units->self, &u);
        return st;
    }
    return units->commit(units->self, &u, err);
}

core_status search_subscribe_order_handlers_in(am_stream *stream, tm_outbox *ob,
                                               const es_registry *reg, struct search_units *units,
                                               core_err *err)
{
    struct am_sub_opts opts = AM_SUB_OPTS_INIT;
    opts.group = SEARCH_ORDERS_GROUP;
    opts.filter = names;
    return tm_event_subscribe(stream, ob, ORDERING_ORDER_CHANNEL, &opts, reg, on_order_event_in,
                              units, err);
}
