/* monolith/messages.c -- see monolith/messages.h. */
#include "customers/events.h"
#include "monolith/messages.h"
#include "ordering/events.h"
#include "payments/events.h"
#include "stores/events.h"

core_status monolith_register_messages(es_registry *reg, core_err *err)
{
    core_status st = stores_register_integration_types(reg, err);
    if (!st)
        st = customers_register_integration_types(reg, err);
    if (!st)
        st = ordering_register_integration_types(reg, err);
    if (!st)
        st = payments_register_integration_types(reg, err);
    return st;
}
