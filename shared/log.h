/* log.h -- leveled logging to stderr in one line per record.
 *
 * Layer: core. Format of a record:
 *     2026-11-26T13:04:05.123Z INFO  baskets: basket started id=... customer_id=...
 * i.e. time (UTC), level, component, then a message that by convention ends in key=value fields.
 * The minimum level comes from log_init() (main() passes LOG_LEVEL from the configuration).
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

#define log_debug(comp, ...) log_write(LOG_LEVEL_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...) log_write(LOG_LEVEL_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_write(LOG_LEVEL_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_write(LOG_LEVEL_ERROR, comp, __VA_ARGS__)

#endif /* LOG_H */
