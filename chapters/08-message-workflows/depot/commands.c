/* depot/commands.c -- see depot/commands.h. */
#include "depot/commands.h"

core_status depot_register_command_types(es_registry *reg, core_err *err)
{
    static const struct {
        const char *name;
        const ProtobufCMessageDescriptor *desc;
    } types[] = {
        {DEPOTAPI_CREATE_SHOPPING_LIST_COMMAND, &depotapi__create_shopping_list__descriptor},
        {DEPOTAPI_CANCEL_SHOPPING_LIST_COMMAND, &depotapi__cancel_shopping_list__descriptor},
        {DEPOTAPI_INITIATE_SHOPPING_COMMAND, &depotapi__initiate_shopping__descriptor},
        {DEPOTAPI_CREATED_SHOPPING_LIST_REPLY, &depotapi__created_shopping_list__descriptor},
    };
    core_status st = CORE_OK;
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !st; i++)
        st = es_registry_add(reg, types[i].name, types[i].desc, err);
    return st;
}
