/* stores/handlers.h -- the stores module's domain event handlers that keep its READ MODELS up to
 * date (chapter 05; the book's application/mall_handlers.go, catalog_handlers.go and
 * handlers/mall.go, catalog.go).
 *
 * Layer: application. A command saves a store's or a product's new events (es_repo_save), which
 * publishes them to the module's dispatcher; these handlers project them into the tables the
 * queries read (stores/application.h: the mall and catalog ports):
 *
 *   "stores.MallHandlers" (mall: table stores.stores)
 *     "stores.StoreCreated"               -> add_store(aggregate-id, name, location), not
 * participating "stores.StoreParticipationEnabled"  -> set_participation(aggregate-id, true)
 *     "stores.StoreParticipationDisabled" -> set_participation(aggregate-id, false)
 *     "stores.StoreRebranded"             -> rename_store(aggregate-id, name)
 *   "stores.CatalogHandlers" (catalog: table stores.products)
 *     "stores.ProductAdded"               -> add_product(aggregate-id, store_id, name, description,
 * sku, price) "stores.ProductRebranded"           -> rebrand(aggregate-id, name, description)
 *     "stores.ProductPriceIncreased"      -> update_price(aggregate-id, delta)
 *     "stores.ProductPriceDecreased"      -> update_price(aggregate-id, delta)   (delta <= 0)
 *     "stores.ProductRemoved"             -> remove(aggregate-id)
 *
 * The handlers run in the command's call, after the events were stored: when one fails (the read
 * model's database is down, a row is missing) its error comes back to the command, prefixed by
 * the dispatcher with "<label> on <event name>: ", and the read model is behind the events (the
 * dual-write problem of chapter 09). An event without its aggregate id or with a payload of
 * another type is CORE_ERR_INTERNAL (a programming error: the domain always raises both).
 *
 * Logging: the book's logging decorator ("-->" and "<--" records at debug level) is the core's: the
 * dispatcher logs every call of a handler (ddd.h).
 *
 * Thread-safety: the ports are borrowed read-only; the handlers may run on many threads at once
 * if the ports allow it (the PostgreSQL ones do).
 */
#ifndef STORES_HANDLERS_H
#define STORES_HANDLERS_H

#include "core.h"
#include "ddd.h"
#include "stores/application.h"

/* Subscribes the MallHandlers over mall (borrowed; must outlive d's use) to d under the label
 * "stores.MallHandlers", for the four store events above. CORE_ERR_NOMEM. */
core_status stores_register_mall_handlers(ddd_dispatcher *d, struct stores_mall_repo *mall,
                                          core_err *err);

/* Subscribes the CatalogHandlers over catalog (borrowed; must outlive d's use) to d under the
 * label "stores.CatalogHandlers", for the five product events above. CORE_ERR_NOMEM. */
core_status stores_register_catalog_handlers(ddd_dispatcher *d, struct stores_catalog_repo *catalog,
                                             core_err *err);

#endif /* STORES_HANDLERS_H */
