/* stores/handlers.c -- see stores/handlers.h. */
#include <string.h>

#include "stores/domain_events.pb-c.h"
#include "stores/handlers.h"

/* The aggregate id of event, which must carry a payload of type desc: *id is borrowed from the
 * event. A missing id or another payload type is a programming error. */
static core_status check_event(const ddd_event *event, const ProtobufCMessageDescriptor *desc,
                               const char **id, core_err *err)
{
    *id = ddd_event_metadata(event, "aggregate-id");
    if (core_str_blank(*id))
        return core_err_set(err, CORE_ERR_INTERNAL, "event %s %s has no aggregate id",
                            ddd_event_name(event), ddd_event_id(event));
    if (!ddd_event_payload_is(event, desc))
        return core_err_set(err, CORE_ERR_INTERNAL, "event %s %s has no %s payload",
                            ddd_event_name(event), ddd_event_id(event), desc->short_name);
    return CORE_OK;
}

static bool named(const ddd_event *event, const char *name)
{
    return strcmp(ddd_event_name(event), name) == 0;
}

/* ---- MallHandlers ------------------------------------------------------------------------- */

static core_status mall_handle(struct stores_mall_repo *mall, const ddd_event *event, core_err *err)
{
    const char *id = NULL;
    const void *payload = ddd_event_payload(event);
    core_status st;
    if (named(event, STORES_STORE_CREATED)) {
        if (!(st = check_event(event, &stores__domain__store_created__descriptor, &id, err))) {
            const Stores__Domain__StoreCreated *m = payload;
            st = mall->add_store(mall->self, id, m->name, m->location, err);
        }
    } else if (named(event, STORES_STORE_PARTICIPATION_ENABLED) ||
               named(event, STORES_STORE_PARTICIPATION_DISABLED)) {
        if (!(st = check_event(event, &stores__domain__store_participation_toggled__descriptor, &id,
                               err)))
            st = mall->set_participation(mall->self, id,
                                         named(event, STORES_STORE_PARTICIPATION_ENABLED), err);
    } else if (named(event, STORES_STORE_REBRANDED)) {
        if (!(st = check_event(event, &stores__domain__store_rebranded__descriptor, &id, err)))
            st = mall->rename_store(mall->self, id,
                                    ((const Stores__Domain__StoreRebranded *)payload)->name, err);
    } else {
        st = core_err_set(err, CORE_ERR_INTERNAL, "stores.MallHandlers do not handle %s",
                          ddd_event_name(event));
    }
    return st;
}

static core_status on_mall_event(void *ud, const ddd_event *event, core_err *err)
{
    return mall_handle(ud, event, err);
}

core_status stores_register_mall_handlers(ddd_dispatcher *d, struct stores_mall_repo *mall,
                                          core_err *err)
{
    static const char *const events[] = {STORES_STORE_CREATED, STORES_STORE_PARTICIPATION_ENABLED,
                                         STORES_STORE_PARTICIPATION_DISABLED,
                                         STORES_STORE_REBRANDED};
    core_status st = CORE_OK;
    for (size_t i = 0; i < sizeof events / sizeof events[0] && !st; i++)
        st =
            ddd_dispatcher_subscribe(d, events[i], "stores.MallHandlers", on_mall_event, mall, err);
    return st;
}

/* ---- CatalogHandlers ---------------------------------------------------------------------- */

static core_status catalog_handle(struct stores_catalog_repo *catalog, const ddd_event *event,
                                  core_err *err)
{
    const char *id = NULL;
    const void *payload = ddd_event_payload(event);
    core_status st;
    if (named(event, STORES_PRODUCT_ADDED)) {
        if (!(st = check_event(event, &stores__domain__product_added__descriptor, &id, err))) {
            const Stores__Domain__ProductAdded *m = payload;
            st = catalog->add_product(catalog->self, id, m->store_id, m->name, m->description,
                                      m->sku, m->price, err);
        }
    } else if (named(event, STORES_PRODUCT_REBRANDED)) {
        if (!(st = check_event(event, &stores__domain__product_rebranded__descriptor, &id, err))) {
            const Stores__Domain__ProductRebranded *m = payload;
            st = catalog->rebrand(catalog->self, id, m->name, m->description, err);
        }
    } else if (named(event, STORES_PRODUCT_PRICE_INCREASED) ||
               named(event, STORES_PRODUCT_PRICE_DECREASED)) {
        if (!(st =
                  check_event(event, &stores__domain__product_price_changed__descriptor, &id, err)))
            st = catalog->update_price(
                catalog->self, id, ((const Stores__Domain__ProductPriceChanged *)payload)->delta,
                err);
    } else if (named(event, STORES_PRODUCT_REMOVED)) {
        if (!(st = check_event(event, &stores__domain__product_removed__descriptor, &id, err)))
            st = catalog->remove(catalog->self, id, err);
    } else {
        st = core_err_set(err, CORE_ERR_INTERNAL, "stores.CatalogHandlers do not handle %s",
                          ddd_event_name(event));
    }
    return st;
}

static core_status on_catalog_event(void *ud, const ddd_event *event, core_err *err)
{
    return catalog_handle(ud, event, err);
}

core_status stores_register_catalog_handlers(ddd_dispatcher *d, struct stores_catalog_repo *catalog,
                                             core_err *err)
{
    static const char *const events[] = {STORES_PRODUCT_ADDED, STORES_PRODUCT_REBRANDED,
                                         STORES_PRODUCT_PRICE_INCREASED,
                                         STORES_PRODUCT_PRICE_DECREASED, STORES_PRODUCT_REMOVED};
    core_status st = CORE_OK;
    for (size_t i = 0; i < sizeof events / sizeof events[0] && !st; i++)
        st = ddd_dispatcher_subscribe(d, events[i], "stores.CatalogHandlers", on_catalog_event,
                                      catalog, err);
    return st;
}
