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

#include "core.h"

typedef enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR } log_level;

/* Sets the minimum level written (default LOG_LEVEL_INFO). */
void log_init(log_level min_level);

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

#define log_debug(comp, ...) log_write(LOG_LEVEL_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...) log_write(LOG_LEVEL_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_write(LOG_LEVEL_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_write(LOG_LEVEL_ERROR, comp, __VA_ARGS__)

#endif /* LOG_H */
