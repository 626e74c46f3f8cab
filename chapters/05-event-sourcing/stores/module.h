/* stores/module.h -- the stores module: the mall's stores, their kiosk participation and their
 * product catalogs (the book's "Store Management" bounded context).
 *
 * Layer: module (composition). This is the module's ONLY public header; main() starts it through
 * stores_module. Everything else under stores/ is private to the module and its tests.
 *
 * Calls: no other module. Called by: baskets and depot (GetStore, GetProduct over RPC).
 * Event sourcing (chapter 05): stores ("stores.Store") and products ("stores.Product") are
 * event-sourced aggregates. Their events -- stores.StoreCreated, StoreParticipationEnabled,
 * StoreParticipationDisabled, StoreRebranded, ProductAdded, ProductRebranded,
 * ProductPriceIncreased, ProductPriceDecreased, ProductRemoved (payloads:
 * proto/stores/domain_events.proto) -- are their state, kept in stores.events, with snapshots
 * ("stores.StoreV1", "stores.ProductV1": proto/stores/snapshots.proto) in stores.snapshots
 * (migrations/008_event_sourcing.sql). A command appends them at the version it loaded (someone
 * else's save in between: 409 Conflict) and publishes them to the module's in-process
 * dispatcher, where the MallHandlers and CatalogHandlers (stores/handlers.h) update the READ
 * MODELS that the queries read: stores.stores (id, name, location, participating) and
 * stores.products (id, store_id, name, description, sku, price decimal(9,4)) --
 * migrations/007_stores.sql.
 * RPC: storespb.StoresService, every method of proto/stores/api.proto.
 * REST routes (spec 2.1b; chapter 05 adds the four rebrand and price routes of spec 2.1):
 *     POST   /api/stores                         CreateStore            {name, location} -> {id}
 *     GET    /api/stores                         GetStores              -> {stores[]}
 *     GET    /api/stores/{id}                    GetStore               -> {store}
 *     PUT    /api/stores/{id}/participating      EnableParticipation    -> {}
 *     DELETE /api/stores/{id}/participating      DisableParticipation   -> {}
 *     PUT    /api/stores/{id}/rebrand            RebrandStore           {name} -> {}
 *     GET    /api/stores/participating           GetParticipatingStores -> {stores[]}
 *     POST   /api/stores/{store_id}/products     AddProduct             {name, description, sku, price} -> {id}
 *     GET    /api/stores/products/{id}           GetProduct             -> {product}
 *     PUT    /api/stores/products/{id}/rebrand   RebrandProduct         {name, description} -> {}
 *     PUT    /api/stores/products/{id}/increasePrice  IncreaseProductPrice  {price} -> {} (the new price)
 *     PUT    /api/stores/products/{id}/decreasePrice  DecreaseProductPrice  {price} -> {} (the new price)
 *     DELETE /api/stores/products/{id}           RemoveProduct          -> {}
 *     GET    /api/stores/{store_id}/products     GetCatalog             -> {products[]}
 *
 * Thread-safety: startup/shutdown from main's thread; the running module serves requests from
 * any number of threads.
 */
#ifndef STORES_MODULE_H
#define STORES_MODULE_H

#include "monolith/monolith.h"

extern const struct module stores_module;

#endif /* STORES_MODULE_H */
