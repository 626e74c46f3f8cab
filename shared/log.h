/* log.h -- leveled logging to stderr in one line per record.
 *
 * Layer: core. Format of a record:
 *     2026-11-26T13:04:05.123Z INFO  baskets: basket started id=... customer_id=...
 * i.e. time (UTC), level, component, then a message that by convention ends in key=value fields.
 * The minimum level comes from log_init() (main() passes LOG_LEVEL from the configuration).
 *
 * Request ids: while a thread serves an HTTP request, web.c sets the request's id with
 * log_request_id_set(), and every record written on that thread ends in " req=<id>". The same id
 * goes back to the client (header X-Request-Id, web.h), and the RPC client passes it on to the
 * module it calls (rpc.h), so one id finds every line one request caused, in any module.
 *
 * Thread-safety: all functions are thread-safe; a record is written with one write() call so
 * records of concurrent threads never interleave.
 */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "core.h"

typedef enum log_level {
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR
} log_level;

/* Sets the minimum level written (default LOG_LEVEL_INFO). */
void log_init(log_level min_level);

/* True when a record of this level is written: a caller skips work only a record needs (a clock
 * reading, quoting) when it is not. */
bool log_enabled(log_level level);

/* Parses "DEBUG", "INFO", "WARN"/"WARNING", "ERROR" (any case). Returns false if unknown. */
bool log_level_parse(const char *text, log_level *out);

/* Writes one record if level >= the minimum. component is a short static name. */
void log_write(log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_REQUEST_ID_MAX 64 /* longest request id, in bytes */

/* Sets the request id of the calling thread (copied; cut at LOG_REQUEST_ID_MAX bytes); NULL or ""
 * clears it. */
void log_request_id_set(const char *id);

/* The calling thread's request id, or NULL when none is set. Borrowed: valid until the thread
 * sets another one. */
const char *log_request_id(void);

/* Writes text into buf (size bytes) as the quoted value of a key=value field, NUL-terminated:
 * "..." with \" for ", \\ for \, \n, \r, \t and \xHH for the other control characters, so a record
 * stays one line whatever the text holds. A buffer of LOG_QUOTED_SIZE(strlen(text)) bytes holds it
 * whole; a smaller one gets it cut, still closed by '"' (nothing when size < 3). NULL text is
 * "". Returns buf. */
const char *log_quote(char *buf, size_t size, const char *text);
#define LOG_QUOTED_SIZE(len) (4 * (size_t)(len) + 3)

/* ---- enter and leave records of a call ---------------------------------------------------------
 * The book's logging decorators, written by the core's call paths (rpc_invoke() in rpc.h, the
 * dispatcher of ddd.h) for every method and handler, so no module writes its own:
 *     DEBUG ordering: --> Ordering.CreateOrder req=<id>
 *     DEBUG ordering: <-- Ordering.CreateOrder took=2.412ms req=<id>
 *     DEBUG ordering: <-- Ordering.CreateOrder status=CORE_ERR_CONFLICT error="order 4f0... already
 *                     exists" took=0.391ms req=<id>
 * The name is what log_call_enter()'s format makes, up to its first space ("ordering.CreateOrder"),
 * shown with its first letter in upper case, as the book names a module's parts; the component
 * is the name's part before its first '.' ("ordering"); text after the first space (key=value
 * fields) goes into the enter record only. took is the time from enter to leave. On failure,
 * status is core_status_name() and error the whole message (core_err.msg, internal detail
 * included: this is the log), quoted by log_quote(). When debug records are not written both
 * calls return at once: nothing is formatted and the clock is not read. */
struct log_call {
    bool on;         /* debug records are written */
    char name[160];  /* "Ordering.CreateOrder" */
    char comp[32];   /* "ordering" */
    double start_ms; /* monotonic clock at enter */
};

/* Writes the enter record "--> <name>[ <fields>]" of the call c (caller-owned, filled here). */
void log_call_enter(struct log_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes the leave record of c (after log_call_enter) for the outcome st, with err's message on
 * failure (err NULL, or with another status: core_status_text(st)). Returns st. */
core_status log_call_leave(const struct log_call *c, core_status st, const core_err *err);

/* Test hook: while a sink is set, each record (one line ending in '\n', len bytes, not
 * NUL-terminated) goes to sink(ud, line, len), called on the thread that writes the record,
 * instead of to stderr; NULL sends records to stderr again. Set and clear it while no other
 * thread logs (a record written meanwhile goes to one or the other); a sink set while several
 * threads log must be thread-safe itself. */
typedef void (*log_sink_fn)(void *ud, const char *line, size_t len);
void log_sink_set(log_sink_fn sink, void *ud);

#define log_debug(comp, ...) log_write(LOG_LEVEL_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...) log_write(LOG_LEVEL_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_write(LOG_LEVEL_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_write(LOG_LEVEL_ERROR, comp, __VA_ARGS__)

#endif /* LOG_H */
