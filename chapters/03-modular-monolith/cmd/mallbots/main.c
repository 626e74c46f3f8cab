/* main.c -- the MallBots monolith: one process, seven modules, synchronous calls between them.
 *
 * Start-up, in the book's order: configuration -> logging -> database (migrations, seed) ->
 * RPC registry and the two HTTP servers -> every module's startup -> listen. Then it waits for
 * SIGINT/SIGTERM and shuts down in reverse: stop accepting, finish in-flight requests (at most
 * SHUTDOWN_TIMEOUT), stop the modules, close the database. Process exit happens only here.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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

/* Every open connection is a file descriptor: lifts the soft limit (1024 on many systems) so
 * that all the servers' threads (WEB_THREADS and RPC_THREADS, 1024 each by default: cfg.h) can be
 * bound to connections at once. civetweb holds one worker thread per open connection, also while
 * its first request header is still on its way, so the thread count is how many slow or idle
 * clients a server outlasts (docs/ERRATA.md D48); calls between modules nest as well (a REST
 * request can wait on 3-4 RPC calls, each on a kept-alive connection). */
static void raise_open_files_limit(void)
{
    struct rlimit rl;
    rlim_t want = 8192;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
        log_warn("monolith", "open files limited to %ld: fewer clients can be connected at once",
                 (long)rl.rlim_cur);
}

/* Runs from the first stop signal on. A second SIGINT or SIGTERM (Ctrl-C again) ends the process
 * at once, and so does a shutdown still running 5 s after SHUTDOWN_TIMEOUT (civetweb waits for a
 * request stuck on a database lock as long as the lock is held). _exit() skips the clean-up: the
 * database connections close with the process, and PostgreSQL rolls back what they had not
 * committed, a statement still waiting for a lock included (pg.h). */
static void *force_exit_thread(void *arg)
{
    int timeout_ms = (int)(intptr_t)arg;
    int sig = waiter_wait(timeout_ms + 5000);
    if (sig)
        log_error("monolith", "second %s: exiting now, without waiting for running requests",
                  sig == SIGINT ? "SIGINT" : "SIGTERM");
    else
        log_error("monolith", "shutdown still running %d ms after the signal: exiting now",
                  timeout_ms + 5000);
    _exit(sig ? 128 + sig : 1);
    return NULL;
}

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
    raise_open_files_limit();

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
        (st = new_server(mono.cfg.web_host, mono.cfg.web_port, mono.cfg.web_threads,
                         mono.cfg.shutdown_timeout_ms, &mono.web, &err)) ||
        (st = new_server(mono.cfg.rpc_host, mono.cfg.rpc_port, mono.cfg.rpc_threads,
                         mono.cfg.shutdown_timeout_ms, &mono.rpc_web, &err)) ||
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
    int busy = web_server_inflight(mono.web);
    char waiting[64] = "no request running";
    if (busy > 0)
        snprintf(waiting, sizeof waiting, "waiting for %d running request(s)", busy);
    log_info("monolith",
             "stopping signal=%s requests=%d rpc_calls=%d timeout_ms=%d: %s; Ctrl-C again (a "
             "second SIGINT or SIGTERM) exits at once",
             sig == SIGINT ? "SIGINT" : "SIGTERM", busy, web_server_inflight(mono.rpc_web),
             mono.cfg.shutdown_timeout_ms, waiting);
    pthread_t forcer;
    if (pthread_create(&forcer, NULL, force_exit_thread,
                       (void *)(intptr_t)mono.cfg.shutdown_timeout_ms) == 0)
        pthread_detach(forcer);
    else
        log_warn("monolith", "cannot start the thread that watches for a second signal");

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
