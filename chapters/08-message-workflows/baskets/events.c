/* baskets/events.c -- see baskets/events.h. */
#include "baskets/events.h"

core_status baskets_register_integration_types(es_registry *reg, core_err *err)
{
    static const struct {
        const char *name;
        const ProtobufCMessageDescriptor *desc;
    } types[] = {
        {BASKETSAPI_BASKET_STARTED, &basketsapi__basket_started__descriptor},
        {BASKETSAPI_BASKET_CANCELED, &basketsapi__basket_canceled__descriptor},
        {BASKETSAPI_BASKET_CHECKED_OUT, &basketsapi__basket_checked_out__descriptor},
    };
    core_status st = CORE_OK;
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !st; i++)
        st = es_registry_add_on(reg, BASKETS_BASKET_CHANNEL, types[i].name, types[i].desc, err);
    return st;
}
