/* adapters.h -- INTERNAL to the ordering module: constructors of its adapters.
 *
 * Layer: adapters (the book's ordering/internal/{grpc,rest}). Driven adapters fill the
 * application's ports (application.h); driver adapters expose the application through the RPC
 * registry and the REST gateway. Only module.c and the adapters include this header.
 * Chapter 05: the CRUD repository (postgres.c, table ordering.orders) is gone; orders are
 * event-sourced and kept by an es_repo over es_pg_store_new(schema "ordering"), wired in module.c.
 *
 * None of these constructors allocates: a port's `self` is the borrowed client, which must
 * outlive the port. Thread-safety: the ports are as thread-safe as rpc_client (it is).
 */
#ifndef ORDERING_ADAPTERS_H
#define ORDERING_ADAPTERS_H

#include "core.h"
#include "ordering/application.h"
#include "rpc.h"
#include "web.h"

/* clients.c: the other modules' RPC services through client (borrowed). */
void ordering__rpc_customers(struct ordering_customers *out, rpc_client *client);
void ordering__rpc_payments(struct ordering_payments *out, rpc_client *client);
void ordering__rpc_depot(struct ordering_depot *out, rpc_client *client);
void ordering__rpc_notifications(struct ordering_notifications *out, rpc_client *client);

/* rpc_server.c: registers orderingpb.OrderingService (all five RPCs) in reg. app is borrowed and
 * must outlive the registry's use (the module's shutdown runs after the servers stopped). */
core_status ordering__rpc_register(rpc_registry *reg, struct ordering_app *app, core_err *err);

/* rest.c: mounts the module's three REST routes on srv, served through reg. */
core_status ordering__rest_mount(web_server *srv, rpc_registry *reg, core_err *err);

#endif /* ORDERING_ADAPTERS_H */
