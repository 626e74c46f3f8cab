/* adapters.h -- INTERNAL to the notifications module: constructors of its adapters.
 *
 * Layer: adapters (the book's notifications/internal/grpc). The customers client fills the
 * application's port; the RPC service exposes the application. The module has no repository
 * and no REST routes. Only module.c and the adapters include this header.
 *
 * Nothing here allocates: the port's `self` is the borrowed client, which must outlive it.
 * Thread-safety: as thread-safe as rpc_client (it is).
 */
#ifndef NOTIFICATIONS_ADAPTERS_H
#define NOTIFICATIONS_ADAPTERS_H

#include "core.h"
#include "notifications/application.h"
#include "rpc.h"

/* clients.c: customers.GetCustomer through client (borrowed). */
void notifications__rpc_customers(struct notifications_customers *out, rpc_client *client);

/* rpc_server.c: registers notificationspb.NotificationsService (all three RPCs) in reg. app is
 * borrowed and must outlive the registry's use. */
core_status notifications__rpc_register(rpc_registry *reg, struct notifications_app *app,
                                        core_err *err);

#endif /* NOTIFICATIONS_ADAPTERS_H */
