/* stores/adapters.h -- internal header of the stores module: its adapters' constructors.
 *
 * Layer: adapters (driven: the PostgreSQL repositories; driving: the RPC service and the REST
 * routes). Only stores/module.c and the module's own tests include this file.
 * Thread-safety: the repositories are thread-safe (they borrow a pg_pool per call).
 */
#ifndef STORES_ADAPTERS_H
#define STORES_ADAPTERS_H

#include "core.h"
#include "pg.h"
#include "rpc.h"
#include "stores/application.h"
#include "web.h"

/* The three repository ports over PostgreSQL (tables stores.stores and stores.products).
 * db is borrowed and must outlive the ports. Nothing is allocated: there is nothing to free. */
void stores__pg_store_repo(struct stores_store_repo *out, pg_pool *db);
void stores__pg_participating_repo(struct stores_participating_repo *out, pg_pool *db);
void stores__pg_product_repo(struct stores_product_repo *out, pg_pool *db);

/* Registers storespb.StoresService (every RPC of stores/api.proto) in reg, served by app
 * (borrowed; must outlive reg's use). */
core_status stores__rpc_register(rpc_registry *reg, struct stores_app *app, core_err *err);

/* Mounts the module's 10 REST routes (the book's) on srv, answered through reg's
 * storespb.StoresService. Both borrowed. */
core_status stores__rest_mount(web_server *srv, rpc_registry *reg, core_err *err);

#endif /* STORES_ADAPTERS_H */
