/* search/adapters.h -- internal header of the search module: its adapters' constructors.
 *
 * Layer: adapters (driven: the read model on PostgreSQL, the caches' fallback over RPC; driving:
 * the RPC service, the REST routes and the order event handlers). Only search/module.c and the
 * module's own tests include this file.
 * Thread-safety: every adapter may be used from many threads at once (a pooled connection or a
 * kept-alive RPC connection per call).
 */
#ifndef SEARCH_ADAPTERS_H
#define SEARCH_ADAPTERS_H

#include "core.h"
#include "pg.h"
#include "rpc.h"
#include "search/application.h"
#include "web.h"

/* The read model over PostgreSQL (tables search.orders and search.order_items). db is borrowed
 * and must outlive the port. Nothing is allocated. */
void search__pg_orders(struct search_orders_repo *out, pg_pool *db);

/* The names, asked of their owners over RPC (customerspb.GetCustomer, storespb.GetStore,
 * storespb.GetProduct): the caches' fallback, used alone until the cache tables are filled by the
 * customers' and stores' integration events. A remote NOT_FOUND stays CORE_ERR_NOT_FOUND; other
 * remote errors pass up unchanged. client is borrowed and must outlive the port. */
void search__rpc_caches(struct search_caches *out, rpc_client *client);

/* Registers searchpb.SearchService (SearchOrders, GetOrder) in reg, served by app (borrowed; must
 * outlive reg's use). */
core_status search__rpc_register(rpc_registry *reg, struct search_app *app, core_err *err);

/* Mounts the module's 2 REST routes on srv, answered through reg's searchpb.SearchService:
 *     POST /api/search/orders        SearchOrders {filters, next, limit} -> {orders, next}
 *     GET  /api/search/orders/{id}   GetOrder -> {order}
 * Both borrowed. */
core_status search__rest_mount(web_server *srv, rpc_registry *reg, core_err *err);

#endif /* SEARCH_ADAPTERS_H */
