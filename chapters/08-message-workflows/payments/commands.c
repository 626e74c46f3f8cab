/* payments/commands.c -- see payments/commands.h. */
#include "payments/commands.h"

core_status payments_register_command_types(es_registry *reg, core_err *err)
{
    return es_registry_add_on(reg, PAYMENTS_COMMAND_CHANNEL, PAYMENTSAPI_CONFIRM_PAYMENT,
                              &paymentsapi__confirm_payment__descriptor, err);
}
