/* cfg.h -- the application configuration, read from environment variables.
 *
 * Layer: core. The names are the book's (no prefix): ENVIRONMENT, LOG_LEVEL, PG_CONN, NATS_URL,
 * NATS_STREAM, WEB_HOST, WEB_PORT, RPC_HOST, RPC_PORT, SHUTDOWN_TIMEOUT; WEB_THREADS and
 * RPC_THREADS are this workspace's (the servers' worker threads, docs/ERRATA.md D48). Defaults
 * point at the local lab (scripts/lab.sh) and bind to 127.0.0.1, so a fresh checkout runs without
 * any setting.
 * Ports accept "8080" or the book's ":8080"; SHUTDOWN_TIMEOUT accepts a Go-style duration ("30s",
 * "1500ms", "1m") or plain seconds.
 *
 * Thread-safety: cfg_load() reads the environment; call it from main() before starting threads.
 */
#ifndef CFG_H
#define CFG_H

#include "core.h"
#include "log.h"

#define CFG_DEFAULT_PG_CONN                                                                        \
    "host=127.0.0.1 port=15432 dbname=mallbots user=mallbots_user password=mallbots_pass"
#define CFG_DEFAULT_NATS_URL "nats://127.0.0.1:14222"

/* Worker threads of each server (REST and RPC) unless WEB_THREADS / RPC_THREADS say otherwise.
 * civetweb holds a thread per open connection, also while its first request header is still on
 * its way, so the count is how many slow or idle clients a server outlasts (D48). Each costs about
 * 20 kB of memory and some time to start and stop (docs/bench.md, "Threads and memory"). */
#define CFG_DEFAULT_THREADS 1024
#define CFG_MIN_THREADS 8
#define CFG_MAX_THREADS 4096

struct cfg_app {
    char environment[32];    /* ENVIRONMENT (development) */
    log_level log_level;     /* LOG_LEVEL (DEBUG, as the book) */
    char pg_conn[512];       /* PG_CONN (the lab's database) */
    char nats_url[256];      /* NATS_URL (the lab's nats-server), used from chapter 06 */
    char nats_stream[64];    /* NATS_STREAM (mallbots) */
    char web_host[64];       /* WEB_HOST (127.0.0.1; the book: 0.0.0.0) */
    int web_port;            /* WEB_PORT (8080) */
    char rpc_host[64];       /* RPC_HOST (127.0.0.1; the book: 0.0.0.0) */
    int rpc_port;            /* RPC_PORT (8085) */
    int shutdown_timeout_ms; /* SHUTDOWN_TIMEOUT (30s) */
    int web_threads;         /* WEB_THREADS (CFG_DEFAULT_THREADS; 8-4096) */
    int rpc_threads;         /* RPC_THREADS (CFG_DEFAULT_THREADS; 8-4096) */
};

/* Fills *out from the environment. A bad value gives CORE_ERR_INVALID with a message naming the
 * variable and the value, e.g. "WEB_PORT: \"80a\" is not a port number (1-65535)",
 * "WEB_THREADS: \"2\" is not a thread count (8-4096)". */
core_status cfg_load(struct cfg_app *out, core_err *err);

/* Parses a duration ("30s", "250ms", "2m", "1h" or plain seconds) into milliseconds. */
core_status cfg_parse_duration_ms(const char *text, int *out_ms, core_err *err);

/* Parses a port ("8080" or ":8080"). */
core_status cfg_parse_port(const char *text, int *out_port, core_err *err);

#endif /* CFG_H */
