/* depot/adapters.h -- internal: the depot module's adapters, wired by module.c.
 *
 * Layer: adapters (private to the module). Driven adapters (postgres.c, clients.c) fill the
 * ports of struct depot_app: a constructor only fills an ops struct, allocates nothing, and its
 * self pointer is the borrowed pool or client, which must outlive the app. Driver adapters
 * (rpc_server.c, rest.c) expose the app. Thread-safe because pg_pool and rpc_client are.
 */
#ifndef DEPOT_ADAPTERS_H
#define DEPOT_ADAPTERS_H

#include "depot/application.h"
#include "pg.h"
#include "rpc.h"
#include "web.h"

/* postgres.c: the depot.shopping_lists table (db borrowed). */
void depot_postgres_lists(struct depot_list_repo *out, pg_pool *db);

/* postgres.c: the stops column's JSON, the proto's field names keyed like its maps:
 *     {"<store id>": {"store_name": "...", "store_location": "...",
 *                     "items": {"<product id>": {"name": "...", "quantity": 2}}}}
 * Stops and items keep their order. encode: *out is a NUL-terminated string, caller frees with
 * core_free; CORE_ERR_NOMEM. decode: adds the stops of json to l (an initialized list, usually
 * without stops); malformed or invalid JSON (not an object, a missing or extra field, a quantity
 * below 1) -> CORE_ERR_INVALID naming the place, CORE_ERR_NOMEM; on failure l's stops are
 * released. */
core_status depot__stops_encode(const struct depot_shopping_list *l, char **out, core_err *err);
core_status depot__stops_decode(struct depot_shopping_list *l, const char *json, core_err *err);

/* clients.c: stores.GetStore / GetProduct over RPC (client borrowed). */
void depot_clients_stores(struct depot_stores_port *out, rpc_client *client);

/* clients.c: ordering.ReadyOrder over RPC (client borrowed). */
void depot_clients_orders(struct depot_orders_port *out, rpc_client *client);

/* rpc_server.c: registers depotpb.DepotService (every RPC of the proto) in reg; app is borrowed
 * and must outlive the registry. Errors: those of rpc_registry_add(). */
core_status depot_rpc_register(rpc_registry *reg, struct depot_app *app, core_err *err);

/* rest.c: mounts the module's four REST routes on web through the RPC registry reg (both
 * borrowed). Errors: those of gw_mount(). */
core_status depot_rest_mount(web_server *web, rpc_registry *reg, core_err *err);

#endif /* DEPOT_ADAPTERS_H */
