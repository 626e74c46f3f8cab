/* monolith/messages.c -- see monolith/messages.h. */
#include "monolith/messages.h"
#include "stores/events.h"

core_status monolith_register_messages(es_registry *reg, core_err *err)
{
    return stores_register_integration_types(reg, err);
}
