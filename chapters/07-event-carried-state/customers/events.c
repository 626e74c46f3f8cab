/* customers/events.c -- see customers/events.h. */
#include "customers/events.h"

core_status customers_register_integration_types(es_registry *reg, core_err *err)
{
    static const struct {
        const char *channel, *name;
        const ProtobufCMessageDescriptor *desc;
    } types[] = {
        {CUSTOMERS_CUSTOMER_CHANNEL, CUSTOMERSAPI_CUSTOMER_REGISTERED,
         &customersapi__customer_registered__descriptor},
        {CUSTOMERS_CUSTOMER_CHANNEL, CUSTOMERSAPI_CUSTOMER_SMS_CHANGED,
         &customersapi__customer_sms_changed__descriptor},
        {CUSTOMERS_CUSTOMER_CHANNEL, CUSTOMERSAPI_CUSTOMER_ENABLED,
         &customersapi__customer_enabled__descriptor},
        {CUSTOMERS_CUSTOMER_CHANNEL, CUSTOMERSAPI_CUSTOMER_DISABLED,
         &customersapi__customer_disabled__descriptor},
    };
    core_status st = CORE_OK;
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !st; i++)
        st = es_registry_add_on(reg, types[i].channel, types[i].name, types[i].desc, err);
    return st;
}
