/* depot/events.c -- see depot/events.h. */
#include "depot/events.h"

core_status depot_register_integration_types(es_registry *reg, core_err *err)
{
    return es_registry_add_on(reg, DEPOT_SHOPPING_LIST_CHANNEL, DEPOTAPI_SHOPPING_LIST_COMPLETED,
                              &depotapi__shopping_list_completed__descriptor, err);
}
