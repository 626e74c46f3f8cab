/* search/adapters.h -- internal header of the search module: its adapters' constructors.
 *
 * Layer: adapters (driven: the read model and the caches on PostgreSQL, the caches' fallback over
 * RPC; driving: the RPC service and the REST routes). Only search/module.c and the
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
#include "search/handlers.h"
#include "web.h"

/* The read model over PostgreSQL (tables search.orders and search.order_items). db is borrowed
 * and must outlive the port. Nothing is allocated. */
void search__pg_orders(struct search_orders_repo *out, pg_pool *db);

/* Chapter 09: the read model's writes (save_created, save_status) on tx, a connection in a unit's
 * transaction (borrowed, must outlive the port): save_created's statements join that transaction
 * instead of opening one. find and search are NULL (a unit only writes). */
void search__pg_orders_in(struct search_orders_repo *out, pg_conn *tx);

/* The names, asked of their owners over RPC (customerspb.GetCustomer, storespb.GetStore,
 * storespb.GetProduct): the caches' fallback (below), asked when a name is not in the cache
 * tables. A remote NOT_FOUND stays CORE_ERR_NOT_FOUND; other remote errors pass up unchanged.
 * client is borrowed and must outlive the port. */
void search__rpc_caches(struct search_caches *out, rpc_client *client);

/* ---- caches.c (chapter 07) ------------------------------------------------------------------
 * search's copies of the names it shows: search.customers_cache (id, name), search.stores_cache
 * (id, name) and search.products_cache (id, store_id, name), each row with seq, the stream
 * sequence of the last message applied to it (0 for a row the fallback stored). The rules are
 * the other modules' caches' (baskets/adapters.h). Two faces:
 *
 * READ (the caches port of the application, so its writer is unchanged): a row in the cache is
 * the answer; a MISS asks the fallback port (the RPC one above), stores what it answered
 * (INSERT ... ON CONFLICT DO NOTHING: an event that got there first wins) and returns it; the
 * fallback's errors come back unchanged (CORE_ERR_NOT_FOUND "product <id> not found"), and an
 * unknown id is not remembered. A miss is logged at INFO ("search: products cache miss
 * product=...: asking stores"). A failure to store the fetched row is logged (WARN) and the
 * answer returned all the same. A failure to read the cache is returned (the database is down).
 *
 * WRITE (the cache handlers, search/handlers.h): every write is an idempotent upsert, never a
 * unique violation:
 *   add          INSERT, or on an existing row UPDATE to the message's values, only when the
 *                row's seq is lower than the message's (a row from the fallback has seq 0: the
 *                message replaces it; a message delivered twice, or older than the row, changes
 *                nothing);
 *   rename, rebrand
 *                UPDATE of the row when its seq is lower; a row the cache does not have is left
 *                out (the next read misses and fetches the current name from its owner);
 *   remove       DELETE of the row when its seq is lower.
 * Errors: the database's (pg.h); CORE_ERR_NOMEM. */
struct search_pg_caches {
    pg_pool *db;                   /* borrowed */
    struct search_caches fallback; /* the owners over RPC (borrowed) */
    pg_conn *tx; /* chapter 09: a unit's transaction (borrowed) on which every read and write
                    runs, keeping a fetched row included (its failure then fails the unit's
                    commit: the message comes again); NULL: the pool, as before */
};

/* Fills *out with the cached names port over c (borrowed; db and fallback set by the caller). */
void search__cached_names(struct search_caches *out, struct search_pg_caches *c);

/* Fills *out with the three caches as the handlers write them (self = c, borrowed). */
void search__cache_writers(struct search_cache_handlers *out, struct search_pg_caches *c);

/* ---- units.c (chapter 09) ------------------------------------------------------------------
 * The handlers' units of work (search/handlers.h, "THE UNIT OF WORK"): join(tx) fills a unit
 * whose application writes the read model on tm_tx_conn(tx) (search__pg_orders_in) and reads the
 * names from caches on that connection (the fallback is the module's), and whose cache writers
 * write on it too; commit and rollback free the unit's state only (the subscription that owns tx
 * commits or rolls it back). caches (borrowed, must outlive the port) is the module's: its db and
 * fallback are copied into each unit. A unit costs one small allocation. */
void search__pg_units(struct search_units *out, struct search_pg_caches *caches);

/* Registers searchpb.SearchService (SearchOrders, GetOrder) in reg, served by app (borrowed; must
 * outlive reg's use). */
core_status search__rpc_register(rpc_registry *reg, struct search_app *app, core_err *err);

/* Mounts the module's 2 REST routes on srv, answered through reg's searchpb.SearchService:
 *     POST /api/search/orders        SearchOrders {filters, next, limit} -> {orders, next}
 *     GET  /api/search/orders/{id}   GetOrder -> {order}
 * Both borrowed. */
core_status search__rest_mount(web_server *srv, rpc_registry *reg, core_err *err);

#endif /* SEARCH_ADAPTERS_H */
