/* depot/commands.c -- see depot/commands.h. */
#include "depot/commands.h"

core_status depot_register_command_types(es_registry *reg, core_err *err)
{
    static const struct {
        const char *channel, *name; /* channel NULL: a reply, which goes where its command says */
        const ProtobufCMessageDescriptor *desc;
    } types[] = {
        {DEPOT_COMMAND_CHANNEL, DEPOTAPI_CREATE_SHOPPING_LIST_COMMAND,
         &depotapi__create_shopping_list__descriptor},
        {DEPOT_COMMAND_CHANNEL, DEPOTAPI_CANCEL_SHOPPING_LIST_COMMAND,
         &depotapi__cancel_shopping_list__descriptor},
        {DEPOT_COMMAND_CHANNEL, DEPOTAPI_INITIATE_SHOPPING_COMMAND,
         &depotapi__initiate_shopping__descriptor},
        {NULL, DEPOTAPI_CREATED_SHOPPING_LIST_REPLY, &depotapi__created_shopping_list__descriptor},
    };
    core_status st = CORE_OK;
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !st; i++)
        st = types[i].channel
                 ? es_registry_add_on(reg, types[i].channel, types[i].name, types[i].desc, err)
                 : es_registry_add(reg, types[i].name, types[i].desc, err);
    return st;
}
