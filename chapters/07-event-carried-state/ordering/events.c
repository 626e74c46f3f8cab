/* ordering/events.c -- see ordering/events.h. */
#include "ordering/events.h"

core_status ordering_register_integration_types(es_registry *reg, core_err *err)
{
    static const struct {
        const char *channel, *name;
        const ProtobufCMessageDescriptor *desc;
    } types[] = {
        {ORDERING_ORDER_CHANNEL, ORDERSAPI_ORDER_CREATED, &ordersapi__order_created__descriptor},
        {ORDERING_ORDER_CHANNEL, ORDERSAPI_ORDER_READIED, &ordersapi__order_readied__descriptor},
        {ORDERING_ORDER_CHANNEL, ORDERSAPI_ORDER_CANCELED, &ordersapi__order_canceled__descriptor},
        {ORDERING_ORDER_CHANNEL, ORDERSAPI_ORDER_COMPLETED,
         &ordersapi__order_completed__descriptor},
    };
    core_status st = CORE_OK;
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !st; i++)
        st = es_registry_add_on(reg, types[i].channel, types[i].name, types[i].desc, err);
    return st;
}
