/* stores/module.h -- the stores module: the mall's stores, their kiosk participation and their
 * product catalogs (the book's "Store Management" bounded context).
 *
 * Layer: module (composition). This is the module's ONLY public header; main() starts it through
 * stores_module. Everything else under stores/ is private to the module and its tests.
 *
 * Calls: no other module. Called by: baskets and depot (GetStore, GetProduct over RPC).
 * Tables: stores.stores (id, name, location, participating) and stores.products (id, store_id,
 * name, description, sku, price decimal(9,4)) -- migrations/007_stores.sql.
 * RPC: storespb.StoresService, every method of proto/stores/api.proto.
 * REST routes (the book's):
 *     POST   /api/stores                         CreateStore            {name, location} -> {id}
 *     GET    /api/stores                         GetStores              -> {stores[]}
 *     GET    /api/stores/{id}                    GetStore               -> {store}
 *     PUT    /api/stores/{id}/participating      EnableParticipation    -> {}
 *     DELETE /api/stores/{id}/participating      DisableParticipation   -> {}
 *     GET    /api/stores/participating           GetParticipatingStores -> {stores[]}
 *     POST   /api/stores/{store_id}/products     AddProduct             {name, description, sku,
 * price} -> {id} GET    /api/stores/products/{id}           GetProduct             -> {product}
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
