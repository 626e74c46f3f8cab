/* main.c -- the MallBots monolith: one process, seven modules, synchronous calls between them.
 *
 * Start-up, in the book's order: configuration -> logging -> database (migrations, seed) ->
 * RPC registry and the two HTTP servers -> every module's startup -> listen. Then it waits for
 * SIGINT/SIGTERM and shuts down in reverse: stop accepting, finish in-flight requests (at most
 * SHUTDOWN_TIMEOUT), stop the modules, close the database. Process exit happens only here.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baskets/module.h"
#include "customers/module.h"
#include "depot/module.h"
#include "gateway.h"
#include "log.h"
#include "monolith/monolith.h"
#include "notifications/module.h"
#include "ordering/module.h"
#include "payments/module.h"
#include "stores/module.h"
#include "waiter.h"

/* The book's module order (Chapter03 cmd/mallbots/main.go). */
static const struct module *const modules[] = {
    &baskets_module,  &customers_module, &depot_module,  &notifications_module,
    &ordering_module, &payments_module,  &stores_module,
};
#define NMODULES (sizeof modules / sizeof modules[0])

static core_status seed_tx(pg_conn *conn, void *ctx, core_err *err)
{
    (void)ctx;
    return pg_exec_script(conn, chapter_seed_sql, err);
}

/* Logs why the program refuses a database that another chapter migrated (CORE_ERR_CONFLICT from
 * pg_migrate_as) and the command that fixes it. The lab gives each chapter a database of its own,
 * mallbots_chNN (scripts/lab.sh), which make lab-reset-db CH=NN empties. */
static void log_foreign_database(pg_pool *db, const core_err *err)
{
    char name[64] = "", own[32];
    pg_conn *c = NULL;
    core_err ignored = CORE_ERR_INIT;
    if (pg_acquire(db, &c, &ignored) == CORE_OK) {
        core_strlcpy(name, PQdb(pg_conn_raw(c)), sizeof name);
        pg_release(db, c);
    }
    snprintf(own, sizeof own, "mallbots_ch%s", chapter_id);
    if (strcmp(name, own) == 0)
        log_error("monolith",
                  "start-up failed: %s; fix: make lab-reset-db CH=%s (deletes its data)", err->msg,
                  chapter_id);
    else
        log_error("monolith",
                  "start-up failed: %s; fix: unset PG_CONN (make run CH=%s uses database %s) or "
                  "empty this one: make lab-reset-db DB=%s (deletes its data)",
                  err->msg, chapter_id, own, name);
}

/* Applies the chapter's migrations; seeds the reference rows when the database was empty. */
static core_status prepare_database(pg_pool *db, core_err *err)
{
    int applied = 0;
    bool fresh = false;
    char origin[32];
    snprintf(origin, sizeof origin, "chapter %s", chapter_id);
    core_status st = pg_migrate_as(db, origin, chapter_migrations, chapter_migration_count,
                                   &applied, &fresh, err);
    if (st)
        return st;
    log_info("monolith", "database migrated applied=%d of=%zu", applied, chapter_migration_count);
    if (fresh && chapter_seed_sql) {
        if ((st = pg_with_tx(db, seed_tx, NULL, err)))
            return core_err_wrap(err, "seed data");
        log_info("monolith", "empty database: seed rows loaded");
    }
    return CORE_OK;
}

/* civetweb holds one worker thread per open connection, and calls between modules nest (a REST
 * request can wait on 3-4 RPC calls, each on a kept-alive connection): hence generous pools. */
static core_status new_server(const char *host, int port, int threads, int drain_ms,
                              web_server **out, core_err *err)
{
    struct web_opts opts = WEB_OPTS_INIT;
    opts.host = host;
    opts.port = port;
    opts.threads = threads;
    opts.drain_timeout_ms = drain_ms;
    return web_server_new(out, &opts, err);
}

int main(void)
{
    struct monolith mono = {0};
    void *states[NMODULES] = {0};
    size_t started = 0;
    core_err err = CORE_ERR_INIT;
    core_status st;

    if ((st = waiter_block_signals(&err)) || (st = cfg_load(&mono.cfg, &err))) {
        fprintf(stderr, "mallbots: configuration: %s\n", err.msg);
        return 2;
    }
    log_init(mono.cfg.log_level);

    struct pg_pool_opts pool_opts = {mono.cfg.pg_conn, 16, 5000};
    if ((st = pg_pool_new(&mono.db, &pool_opts, &err))) {
        log_error("monolith", "%s (is the lab running? make lab-up)", err.msg);
        return 1;
    }
    if ((st = prepare_database(mono.db, &err)) == CORE_ERR_CONFLICT) {
        log_foreign_database(mono.db, &err);
        pg_pool_free(mono.db);
        return 1;
    }
    if (st || (st = rpc_registry_new(&mono.rpc, &err)) ||
        (st = new_server(mono.cfg.web_host, mono.cfg.web_port, 16, mono.cfg.shutdown_timeout_ms,
                         &mono.web, &err)) ||
        (st = new_server(mono.cfg.rpc_host, mono.cfg.rpc_port, 48, mono.cfg.shutdown_timeout_ms,
                         &mono.rpc_web, &err)) ||
        (st = rpc_server_mount(mono.rpc, mono.rpc_web, &err)))
        goto done;

    for (; started < NMODULES; started++) {
        if ((st = modules[started]->startup(&mono, &states[started], &err))) {
            core_err_wrap(&err, "module %s", modules[started]->name);
            goto done;
        }
        log_debug("monolith", "module started name=%s", modules[started]->name);
    }

    if ((st = web_server_start(mono.rpc_web, &err)) || (st = web_server_start(mono.web, &err)))
        goto done;
    log_info("monolith", "started web=http://%s:%d rpc=http://%s:%d/rpc environment=%s",
             mono.cfg.web_host, web_server_port(mono.web), mono.cfg.rpc_host,
             web_server_port(mono.rpc_web), mono.cfg.environment);

    int sig = waiter_wait(-1);
    log_info("monolith", "stopping signal=%s timeout_ms=%d", sig == SIGINT ? "SIGINT" : "SIGTERM",
             mono.cfg.shutdown_timeout_ms);

done:
    if (st)
        log_error("monolith", "start-up failed: %s", err.msg);
    /* Stop accepting and drain the public API first: its requests call the RPC server. */
    if (mono.web) {
        web_server_stop(mono.web);
    }
    if (mono.rpc_web)
        web_server_stop(mono.rpc_web);
    while (started > 0) {
        started--;
        modules[started]->shutdown(states[started]);
    }
    web_server_free(mono.web);
    web_server_free(mono.rpc_web);
    rpc_registry_free(mono.rpc);
    pg_pool_free(mono.db);
    if (!st)
        log_info("monolith", "stopped");
    return st ? 1 : 0;
}
