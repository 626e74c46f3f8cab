/* customers/adapters.h -- internal header of the customers module: its adapters' constructors.
 *
 * Layer: adapters (driven: the PostgreSQL repository; driving: the RPC service and the REST
 * routes). Only customers/module.c and the module's own tests include this file.
 * Thread-safety: the repository is thread-safe (it borrows a pg_pool connection per call).
 */
#ifndef CUSTOMERS_ADAPTERS_H
#define CUSTOMERS_ADAPTERS_H

#include "core.h"
#include "customers/application.h"
#include "pg.h"
#include "rpc.h"
#include "web.h"

/* The repository port over PostgreSQL (table customers.customers). db is borrowed and must
 * outlive the port. Nothing is allocated: there is nothing to free. */
void customers__pg_repo(struct customers_repo *out, pg_pool *db);

/* Registers customerspb.CustomersService (every RPC of customers/api.proto) in reg, served by
 * app (borrowed; must outlive reg's use). */
core_status customers__rpc_register(rpc_registry *reg, struct customers_app *app, core_err *err);

/* Mounts the module's 4 REST routes (the book's) on srv, answered through reg's
 * customerspb.CustomersService. Both borrowed. */
core_status customers__rest_mount(web_server *srv, rpc_registry *reg, core_err *err);

#endif /* CUSTOMERS_ADAPTERS_H */
