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
#include "notifications/handlers.h"
#include "pg.h"
#include "rpc.h"

/* clients.c: customers.GetCustomer through client (borrowed). */
void notifications__rpc_customers(struct notifications_customers *out, rpc_client *client);

/* caches.c (chapter 07): the module's copy of the customers, notifications.customers_cache (id,
 * name, sms_number, seq), with the rules of the baskets' caches (baskets/adapters.h). READ (the
 * application's customers port): a row in the cache is the answer; a miss asks the fallback (the
 * customers RPC client), keeps its answer (INSERT ... ON CONFLICT DO NOTHING) and returns it; the
 * fallback's errors come back unchanged (CORE_ERR_NOT_FOUND for an unknown customer), a miss is
 * logged at INFO. WRITE (the CustomerHandlers): add inserts, or updates a row whose seq (the stream
 * sequence of the last message applied, 0 for a row from the fallback) is lower; change_sms
 * changes a row with a lower seq only; a customer the cache does not have is left out (RULE: the
 * next read fetches the current row). So a message twice, after the fallback, or older than the
 * row changes nothing wrongly and never fails on a unique violation. */
struct notifications_caches {
    pg_pool *db;                             /* borrowed */
    struct notifications_customers fallback; /* customers over RPC (borrowed) */
    pg_conn *tx; /* chapter 09: a unit's transaction (borrowed) on which every read and write runs
                    (a failed keep of a fetched row then fails the unit's commit: the message
                    comes again); NULL: the pool */
};

void notifications__cached_customers(struct notifications_customers *out,
                                     struct notifications_caches *c);
void notifications__cache_writers(struct notifications_customer_cache *out,
                                  struct notifications_caches *c);

/* sent.c (chapter 09): the sender port over notifications.sent: send inserts one row (the
 * notification, order, customer, name and SMS number; sent_at now()) on db (borrowed; the RPC
 * commands: one statement, its own transaction) or, _in, on tx (borrowed: a unit's transaction,
 * committed with the message's inbox row). Errors: the database's. Nothing is allocated. */
void notifications__pg_sender(struct notifications_sender *out, pg_pool *db);
void notifications__pg_sender_in(struct notifications_sender *out, pg_conn *tx);

/* units.c (chapter 09): the handlers' units of work (handlers.h, "THE UNIT OF WORK"): join(tx)
 * fills a unit whose customers cache writers, customers reads (the module's fallback) and sender
 * run on tm_tx_conn(tx); commit and rollback free the unit's state only. caches (borrowed; must
 * outlive the port) is the module's: its db and fallback are copied into each unit. */
void notifications__pg_units(struct notifications_units *out, struct notifications_caches *caches);

/* rpc_server.c: registers notificationspb.NotificationsService (all three RPCs) in reg. app is
 * borrowed and must outlive the registry's use. */
core_status notifications__rpc_register(rpc_registry *reg, struct notifications_app *app,
                                        core_err *err);

#endif /* NOTIFICATIONS_ADAPTERS_H */
