/* cosec/handlers.c -- see handlers.h. */
#include "cosec/handlers.h"

#include "cosec/saga.h"
#include "cosec/saga.pb-c.h"
#include "ordering/events.h"
#include "pb.h"

core_status cosec_on_order_created(void *ud, tm_tx *tx, const struct am_delivery *d,
                                   const ddd_event *event, core_err *err)
{
    (void)d;
    sec_orchestrator *o = ud;
    ProtobufCMessage *data = NULL;
    core_status st = cosec_data_from_order_created(event, &data, err);
    if (st)
        return st;
    char order_id[DDD_ID_MAX + 1];
    core_strlcpy(order_id, ((const Cosec__CreateOrderData *)data)->order_id, sizeof order_id);
    st = tx ? sec_orchestrator_start_in(o, tx, order_id, &data, err) /* takes data */
            : sec_orchestrator_start(o, order_id, &data, err);
    if (st)
        core_err_wrap(err, "starting %s for order %s", COSEC_CREATE_ORDER_SAGA, order_id);
    return st;
}

/* Without an outbox (the unit tests' in-memory rig): chapter 08's subscription. */
static core_status on_order_created_plain(void *ud, const struct am_delivery *d,
                                          const ddd_event *event, core_err *err)
{
    return cosec_on_order_created(ud, NULL, d, event, err);
}

core_status cosec_subscribe_order_handlers(am_stream *stream, tm_outbox *ob, const es_registry *reg,
                                           sec_orchestrator *o, core_err *err)
{
    static const char *const names[] = {ORDERSAPI_ORDER_CREATED, NULL};
    struct am_sub_opts opts = AM_SUB_OPTS_INIT;
    opts.group = COSEC_ORDERING_GROUP;
    opts.filter = names;
    if (!ob)
        return am_event_subscribe(stream, ORDERING_ORDER_CHANNEL, &opts, reg,
                                  on_order_created_plain, o, err);
    return tm_event_subscribe(stream, ob, ORDERING_ORDER_CHANNEL, &opts, reg,
                              cosec_on_order_created, o, err);
}
