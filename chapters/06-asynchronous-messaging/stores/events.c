/* stores/events.c -- see stores/events.h. */
#include "stores/events.h"

core_status stores_register_integration_types(es_registry *reg, core_err *err)
{
    static const struct {
        const char *channel, *name;
        const ProtobufCMessageDescriptor *desc;
    } types[] = {
        {STORES_STORE_CHANNEL, STORESAPI_STORE_CREATED, &storesapi__store_created__descriptor},
        {STORES_STORE_CHANNEL, STORESAPI_STORE_PARTICIPATING_TOGGLED,
         &storesapi__store_participation_toggled__descriptor},
        {STORES_STORE_CHANNEL, STORESAPI_STORE_REBRANDED, &storesapi__store_rebranded__descriptor},
        {STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_ADDED, &storesapi__product_added__descriptor},
        {STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_REBRANDED,
         &storesapi__product_rebranded__descriptor},
        {STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_PRICE_INCREASED,
         &storesapi__product_price_changed__descriptor},
        {STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_PRICE_DECREASED,
         &storesapi__product_price_changed__descriptor},
        {STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_REMOVED,
         &storesapi__product_removed__descriptor},
    };
    core_status st = CORE_OK;
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !st; i++)
        st = es_registry_add_on(reg, types[i].channel, types[i].name, types[i].desc, err);
    return st;
}
