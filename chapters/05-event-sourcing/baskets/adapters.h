/* adapters.h -- INTERNAL header of the baskets module: its adapters, as module.c wires them.
 *
 * Layer: adapters (the book's internal/grpc and internal/rest packages).
 *   clients.c    the stores and ordering ports as RPC clients of those modules
 *   rpc_server.c the module's own proto service (basketspb.BasketService) over the application
 *   rest.c       the six REST routes, mounted through the gateway onto that service
 * Not for other modules: they talk to baskets only through its proto service.
 * Chapter 05: the CRUD repository (postgres.c, table baskets.baskets) is gone; baskets are
 * event-sourced and kept by an es_repo over es_pg_store_new(schema "baskets"), wired in module.c.
 *
 * Thread-safety: the ports filled here are thread-safe (pg_pool and rpc_client are).
 */
#ifndef BASKETS_ADAPTERS_H
#define BASKETS_ADAPTERS_H

#include "baskets/application.h"
#include "baskets/domain.h"
#include "core.h"
#include "rpc.h"
#include "web.h"

/* ---- clients.c ------------------------------------------------------------------------------- */

/* Fills *out with the stores port calling storespb.StoresService GetStore / GetProduct through c
 * (borrowed; must outlive the port). Errors of stores come back unchanged (e.g. CORE_ERR_NOT_FOUND
 * "product <id> not found"); an answer without the entity is CORE_ERR_INTERNAL. */
void baskets__stores_client(struct baskets_stores_port *out, rpc_client *c);

/* Fills *out with the ordering port calling orderingpb.OrderingService CreateOrder through c
 * (borrowed): order id = basket id, customer id, payment id, and one item per basket line with
 * the price of the line's product. Errors of ordering come back unchanged. Used by the
 * OrderHandlers (handlers.h) since chapter 04. */
void baskets__ordering_client(struct baskets_ordering_port *out, rpc_client *c);

/* ---- rpc_server.c ---------------------------------------------------------------------------- */

/* Registers basketspb.BasketService (all six RPCs) in reg with app as the implementation's state
 * (borrowed; must outlive reg's use). StartBasket generates the basket's id (a UUID). */
core_status baskets__rpc_register(rpc_registry *reg, struct baskets_app *app, core_err *err);

/* ---- rest.c ---------------------------------------------------------------------------------- */

/* Mounts the six REST routes of spec 2.1 on web, served by the BasketService registered in reg
 * (both borrowed). */
core_status baskets__rest_mount(web_server *web, rpc_registry *reg, core_err *err);

#endif /* BASKETS_ADAPTERS_H */
