/* monolith.h -- what the running monolith hands to each module at start-up.
 *
 * Layer: composition (the C counterpart of the book's internal/monolith package). main() builds
 * one struct monolith -- configuration, database pool, the RPC registry and the two HTTP servers --
 * and calls every module's startup function with it, in the book's order. A module wires its own
 * layers (repositories, clients of other modules, application, RPC service, REST routes) and keeps
 * them in its own state, which main() hands back to the module's shutdown function at the end.
 *
 * Ownership: everything in struct monolith belongs to main(); modules borrow it for their lifetime.
 * Thread-safety: read-only after start-up; pg_pool, rpc_registry and rpc_client are thread-safe.
 */
#ifndef MONOLITH_H
#define MONOLITH_H

#include "cfg.h"
#include "core.h"
#include "pg.h"
#include "rpc.h"
#include "web.h"

struct monolith {
    struct cfg_app cfg;  /* configuration from the environment */
    pg_pool *db;         /* the one database, each module in its own schema */
    rpc_registry *rpc;   /* every module registers its RPC service here */
    web_server *web;     /* the public REST API on WEB_PORT (the gateway's routes) */
    web_server *rpc_web; /* the RPC endpoint on RPC_PORT (modules call each other through it) */
};

/* A module: a bounded context with a start-up and a shutdown function.
 * startup borrows mono, stores whatever it allocated in *state, and returns CORE_OK; on failure it
 * frees what it allocated itself and leaves *state NULL. shutdown(state) frees it all (state may
 * be NULL). */
struct module {
    const char *name;
    core_status (*startup)(struct monolith *mono, void **state, core_err *err);
    void (*shutdown)(void *state);
};

/* Timeout of calls between modules, in milliseconds. */
#define MONOLITH_RPC_TIMEOUT_MS 10000

/* A new RPC client for calling other modules: this process's own RPC port, over loopback, as the
 * book's modules dial their own gRPC server. Caller frees with rpc_client_free(). */
core_status monolith_rpc_client(const struct monolith *mono, rpc_client **out, core_err *err);

/* The chapter's SQL, embedded at build time from its migrations/ folder (scripts/embed-sql.sh):
 * numbered migrations, applied once each at start-up, and the seed rows of an empty database;
 * chapter_id is the chapter's number ("03"), recorded as "chapter 03" with the migrations it
 * applies, so that another chapter refuses its database (pg_migrate_as). */
extern const struct pg_migration chapter_migrations[];
extern const size_t chapter_migration_count;
extern const char *const chapter_seed_sql;
extern const char chapter_id[];

#endif /* MONOLITH_H */
