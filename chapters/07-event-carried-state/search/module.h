/* search/module.h -- the search module (chapter 07): its own read model of the orders, with the
 * names of their customer, stores and products, and the queries over it (the book's search
 * module, which answers every query with a panic; here it works).
 *
 * Layer: module (composition). This is the module's ONLY public header; main() starts it through
 * search_module. Everything else under search/ is private to the module and its tests.
 *
 * Fed by: ordering's integration events ordersapi.OrderCreated, OrderReadied, OrderCanceled,
 * OrderCompleted; its caches of names by customersapi.CustomerRegistered and
 * storesapi.StoreCreated, StoreRebranded, ProductAdded, ProductRebranded, ProductRemoved
 * (search/handlers.h). Calls: customers (GetCustomer) and stores (GetStore, GetProduct) over RPC,
 * for a name its caches lack (the caches' fallback, search/adapters.h).
 * Tables: search.orders, search.order_items (the read model), search.customers_cache,
 * search.stores_cache, search.products_cache -- migrations/011_search.sql.
 * RPC: searchpb.SearchService (proto/search/api.proto).
 * REST routes:
 *     POST /api/search/orders        SearchOrders {filters:{customerId, after, before, storeIds,
 *                                    productIds, minTotal, maxTotal, status}, next, limit}
 *                                    -> {orders:[Order], next}
 *     GET  /api/search/orders/{id}   GetOrder -> {order:{orderId, customerId, customerName,
 *                                    items:[{productId, storeId, productName, storeName, price,
 *                                    quantity}], total, status, createdAt}}
 *
 * Thread-safety: startup/shutdown from main's thread; the running module serves requests from
 * any number of threads.
 */
#ifndef SEARCH_MODULE_H
#define SEARCH_MODULE_H

#include "monolith/monolith.h"

extern const struct module search_module;

#endif /* SEARCH_MODULE_H */
