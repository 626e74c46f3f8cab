/* customers/commands.c -- see customers/commands.h. */
#include "customers/commands.h"

core_status customers_register_command_types(es_registry *reg, core_err *err)
{
    return es_registry_add_on(reg, CUSTOMERS_COMMAND_CHANNEL, CUSTOMERSAPI_AUTHORIZE_CUSTOMER,
                              &customersapi__authorize_customer__descriptor, err);
}
