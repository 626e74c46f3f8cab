/* log_capture.h -- collects the log records a test causes (log_sink_set() in log.h), so the test
 * can check them.
 *
 * Layer: core test support, linked into the core tests only (see mk/core.mk).
 *
 * A record is kept without its time stamp, and the value of a "took=<ms>ms" field (log_call_leave)
 * as "took=Nms" when it is a number with 3 decimals, so a test compares whole records:
 *     "DEBUG rpctest: <-- Rpctest.Echo took=Nms"
 *
 * Thread-safety: records may arrive from any number of threads; start, text and stop belong to the
 * test's thread, and start/stop must run while no other thread logs (log_sink_set).
 */
#ifndef LOG_CAPTURE_H
#define LOG_CAPTURE_H

#include <pthread.h>
#include <stddef.h>

#include "log.h"

struct log_capture {
    pthread_mutex_t mu;
    char text[16384]; /* the records, each ending in '\n'; records that do not fit are dropped */
    size_t len;
};

/* Captures every record of level and above from now on (log_init(level)), instead of writing them
 * to stderr. */
void log_capture_start(struct log_capture *c, log_level level);

/* The records captured since start (or the last take), in the order they were written, each
 * ending in '\n'; "" when none. Copied into buf (size bytes, cut to fit); the capture forgets
 * them. Returns buf. */
const char *log_capture_take(struct log_capture *c, char *buf, size_t size);

/* Writes records to stderr again, at the minimum level restore. */
void log_capture_stop(struct log_capture *c, log_level restore);

#endif /* LOG_CAPTURE_H */
