/* stores/adapters.h -- internal header of the stores module: its adapters' constructors.
 *
 * Layer: adapters (driven: the PostgreSQL read models, the event store being es.h's; driving: the
 * RPC service and the REST routes). Only stores/module.c and the module's own tests include this file.
 * Thread-safety: the read models are thread-safe (they borrow a pg_pool per call).
 */
#ifndef STORES_ADAPTERS_H
#define STORES_ADAPTERS_H

#include "core.h"
#include "pg.h"
#include "rpc.h"
#include "stores/application.h"
#include "web.h"

/* The two read-model ports over PostgreSQL: the mall (table stores.stores) and the catalog (table
 * stores.products). db is borrowed and must outlive the ports. Nothing is allocated: there is
 * nothing to free. */
void stores__pg_mall_repo(struct stores_mall_repo *out, pg_pool *db);
void stores__pg_catalog_repo(struct stores_catalog_repo *out, pg_pool *db);

/* Registers storespb.StoresService (every RPC of stores/api.proto) in reg, served by app
 * (borrowed; must outlive reg's use). */
core_status stores__rpc_register(rpc_registry *reg, struct stores_app *app, core_err *err);

/* Mounts the module's 14 REST routes (spec 2.1b, plus chapter 05's 4 of spec 2.1) on srv, answered
 * through reg's storespb.StoresService. Both borrowed. */
core_status stores__rest_mount(web_server *srv, rpc_registry *reg, core_err *err);

#endif /* STORES_ADAPTERS_H */
