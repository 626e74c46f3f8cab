/* payments/events.c -- see payments/events.h. */
#include "payments/events.h"

core_status payments_register_integration_types(es_registry *reg, core_err *err)
{
    core_status st = es_registry_add_on(reg, PAYMENTS_INVOICE_CHANNEL, PAYMENTSAPI_INVOICE_CREATED,
                                        &paymentsapi__invoice_created__descriptor, err);
    if (!st)
        st = es_registry_add_on(reg, PAYMENTS_INVOICE_CHANNEL, PAYMENTSAPI_INVOICE_PAID,
                                &paymentsapi__invoice_paid__descriptor, err);
    return st;
}
