/* monolith/messages.c -- see monolith/messages.h. */
#include "baskets/events.h"
#include "customers/commands.h"
#include "customers/events.h"
#include "depot/commands.h"
#include "monolith/messages.h"
#include "ordering/commands.h"
#include "ordering/events.h"
#include "payments/commands.h"
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
    if (!st)
        st = baskets_register_integration_types(reg, err);
    /* chapter 08: the commands and replies of the saga's participants */
    if (!st)
        st = customers_register_command_types(reg, err);
    if (!st)
        st = depot_register_command_types(reg, err);
    if (!st)
        st = payments_register_command_types(reg, err);
    if (!st)
        st = ordering_register_command_types(reg, err);
    return st;
}
