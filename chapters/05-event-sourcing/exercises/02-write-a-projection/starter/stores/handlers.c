/* stores/handlers.c -- see stores/handlers.h. */
#include <string.h>

#include "log.h"
#include "stores/domain_events.pb-c.h"
#include "stores/handlers.h"

#define COMP "stores"

/* The book's logging decorator for event handlers, entry and exit halves. */
static void enter(const char *handlers, const ddd_event *event)
{
    log_debug(COMP, "--> Stores.%s.On(%s)", handlers, ddd_event_name(event));
}

static core_status leave(const char *handlers, const ddd_event *event, core_status st,
                         const core_err *err)
{
    if (st)
        log_debug(COMP, "<-- Stores.%s.On(%s) error=\"%s\"", handlers, ddd_event_name(event),
                  err ? err->msg : core_status_text(st));
    else
        log_debug(COMP, "<-- Stores.%s.On(%s)", handlers, ddd_event_name(event));
    return st;
}

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
    enter("Mall", event);
    core_status st = mall_handle(ud, event, err);
    return leave("Mall", event, st, err);
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

/* ---- exercise 05.2: the catalog projection ---------------------------------------------------
 * The catalog (table stores.products, the port struct stores_catalog_repo in
 * stores/application.h) is a READ MODEL: no command writes it. The product commands only store
 * events; es_repo_save then publishes them to the module's dispatcher, and the CatalogHandlers
 * below turn each product event into one write of the catalog. The queries GetProduct and
 * GetCatalog read what these handlers wrote. The MallHandlers above do the same for the mall
 * (table stores.stores) and are the model: mall_handle(), on_mall_event(),
 * stores_register_mall_handlers(). The contract is stores/handlers.h; the payloads are in
 * proto/stores/domain_events.proto (C types in stores/domain_events.pb-c.h). Helpers: named(),
 * check_event() (the product's id from the metadata "aggregate-id", and the payload type). */

static core_status catalog_handle(struct stores_catalog_repo *catalog, const ddd_event *event,
                                  core_err *err)
{
    /* TODO(exercise 05.2): one product event -> one call of the catalog port, with the product's
     * id (metadata "aggregate-id") and the payload's data:
     *   "stores.ProductAdded"            add_product(id, store_id, name, description, sku, price)
     *   "stores.ProductRebranded"        rebrand(id, name, description)
     *   "stores.ProductPriceIncreased"   update_price(id, delta)
     *   "stores.ProductPriceDecreased"   update_price(id, delta)      (the delta is <= 0)
     *   "stores.ProductRemoved"          remove(id)
     *   any other event: CORE_ERR_INTERNAL "stores.CatalogHandlers do not handle <name>".
     * An event without its id or with a payload of another type: check_event()'s
     * CORE_ERR_INTERNAL, and no call. The port's status and message come back unchanged (the
     * dispatcher prefixes them with "stores.CatalogHandlers on <event name>: "). */
    (void)catalog;
    (void)event;
    return core_err_set(err, CORE_ERR_INTERNAL, "TODO: exercise 05.2 (catalog_handle)");
}

static core_status on_catalog_event(void *ud, const ddd_event *event, core_err *err)
{
    enter("Catalog", event);
    core_status st = catalog_handle(ud, event, err);
    return leave("Catalog", event, st, err);
}

core_status stores_register_catalog_handlers(ddd_dispatcher *d, struct stores_catalog_repo *catalog,
                                             core_err *err)
{
    /* TODO(exercise 05.2): subscribe on_catalog_event, with catalog as its user data, to the
     * five product events above under the label "stores.CatalogHandlers"; stop at the first
     * failure and return it. (Delete the (void) lines once you use the names.) */
    (void)d;
    (void)catalog;
    (void)on_catalog_event;
    return core_err_set(err, CORE_ERR_INTERNAL,
                        "TODO: exercise 05.2 (stores_register_catalog_handlers)");
}
