/* depot/module.h -- the depot module: the "Automation & Fulfillment" bounded context of MallBots.
 *
 * It turns an order into a shopping list for a robot: one stop per store (its name and location)
 * with the products to pick there (name, quantity).
 *   - CreateShoppingList is called by ordering when an order is created; it looks up every
 *     item's store and product in the stores module. The list starts "available".
 *   - AssignShoppingList gives an available list to a bot ("assigned"); CompleteShoppingList
 *     marks an assigned list "completed"; its event depot.ShoppingListCompleted makes the
 *     module's OrderHandlers tell ordering the order is ready.
 *   - CancelShoppingList is called by ordering when an order is cancelled; a completed list
 *     cannot be cancelled.
 *
 * Domain events (chapter 04): a list records depot.ShoppingListCreated, ShoppingListCanceled,
 * ShoppingListAssigned and ShoppingListCompleted (payloads: proto/depot/domain_events.proto);
 * after each save the application publishes them on the module's own dispatcher. Only
 * ShoppingListCompleted has a subscriber, "depot.OrderHandlers" (handlers.h). Its error is the
 * command's error, but the list is saved by then (the dual-write problem; the book's answer is
 * the outbox of chapter 09).
 *
 * Calls: stores.GetStore and stores.GetProduct (to build the stops), ordering.ReadyOrder (from
 * the OrderHandlers, on completion), over RPC.
 * Table: depot.shopping_lists(id, order_id, stops (JSON bytes), assigned_bot_id, status).
 * REST routes: POST /api/depot/shopping (CreateShoppingList), POST /api/depot/shopping/{id}
 * (CancelShoppingList, a POST as in the book), PUT /api/depot/shopping/{id}/assign
 * (AssignShoppingList), PUT /api/depot/shopping/{id}/complete (CompleteShoppingList).
 * Every RPC of depotpb.DepotService is served.
 */
#ifndef DEPOT_MODULE_H
#define DEPOT_MODULE_H

#include "monolith/monolith.h"

extern const struct module depot_module;

#endif /* DEPOT_MODULE_H */
