/* module.h -- the baskets module of chapter 03: the public face of the baskets bounded context.
 *
 * Bounded context: the customers' shopping baskets at the kiosks. A basket is started for a
 * customer, collects products (copied with their store's name and the price at the time they were
 * added), and ends either checked out -- it then becomes an order -- or cancelled.
 *
 * Calls other modules (through their proto services, over this process's RPC port):
 *   - stores.GetProduct and stores.GetStore, when an item is added (product name, price, store);
 *   - ordering.CreateOrder, at checkout (the order's id is the basket's id).
 * Served to other modules and the gateway: basketspb.BasketService (proto/baskets/api.proto).
 *
 * Tables: baskets.baskets (id, customer_id, payment_id, items bytea = UTF-8 JSON of the lines,
 * status "open" | "cancelled" | "checked_out").
 *
 * REST routes (the book's):
 *   POST   /api/baskets                  StartBasket    {"customerId"}          -> {"id"}
 *   GET    /api/baskets/{id}             GetBasket                              -> {"basket":
 * {...}} DELETE /api/baskets/{id}             CancelBasket                           -> {} PUT
 * /api/baskets/{id}/checkout    CheckoutBasket {"paymentId"}           -> {} PUT
 * /api/baskets/{id}/addItem     AddItem        {"productId","quantity"} -> {} PUT
 * /api/baskets/{id}/removeItem  RemoveItem     {"productId","quantity"} -> {}
 *
 * Thread-safety: startup/shutdown from main()'s thread; the served calls run concurrently.
 */
#ifndef BASKETS_MODULE_H
#define BASKETS_MODULE_H

#include "monolith/monolith.h"

extern const struct module baskets_module;

#endif /* BASKETS_MODULE_H */
