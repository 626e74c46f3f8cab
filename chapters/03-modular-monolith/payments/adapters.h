/* payments/adapters.h -- internal: the payments module's adapters, wired by module.c.
 *
 * Layer: adapters (private to the module). Driven adapters (postgres.c, clients.c) fill the
 * ports of struct payments_app: a constructor only fills an ops struct, allocates nothing, and
 * its self pointer is the borrowed pool or client, which must outlive the app. Driver adapters
 * (rpc_server.c, rest.c) expose the app. Thread-safe because pg_pool and rpc_client are.
 */
#ifndef PAYMENTS_ADAPTERS_H
#define PAYMENTS_ADAPTERS_H

#include "payments/application.h"
#include "pg.h"
#include "rpc.h"
#include "web.h"

/* postgres.c: the payments.payments table (db borrowed). */
void payments_postgres_payments(struct payments_payment_repo *out, pg_pool *db);

/* postgres.c: the payments.invoices table (db borrowed). */
void payments_postgres_invoices(struct payments_invoice_repo *out, pg_pool *db);

/* clients.c: the ordering module over RPC (client borrowed). */
void payments_clients_orders(struct payments_orders_port *out, rpc_client *client);

/* rpc_server.c: registers paymentspb.PaymentsService (every RPC of the proto) in reg; app is
 * borrowed and must outlive the registry. Errors: those of rpc_registry_add(). */
core_status payments_rpc_register(rpc_registry *reg, struct payments_app *app, core_err *err);

/* rest.c: mounts the module's REST routes (POST /api/payments, PUT
 * /api/payments/invoices/{id}/pay) on web through the RPC registry reg (both borrowed).
 * Errors: those of gw_mount(). */
core_status payments_rest_mount(web_server *web, rpc_registry *reg, core_err *err);

#endif /* PAYMENTS_ADAPTERS_H */
