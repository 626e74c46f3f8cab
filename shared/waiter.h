/* waiter.h -- graceful shutdown on SIGINT/SIGTERM.
 *
 * Layer: core. The pattern: main() calls waiter_block_signals() FIRST, before any thread exists,
 * so every thread inherits a mask that blocks SIGINT and SIGTERM; the signals then stay pending
 * until main() collects them synchronously with waiter_wait(). No async signal handler runs, so
 * shutdown code is ordinary code: stop accepting, drain in-flight work, close connections.
 *
 * Thread-safety: waiter_block_signals() only from main() before threads start; waiter_wait() from
 * one thread; waiter_request_stop() from anywhere (it sends SIGTERM to the process).
 */
#ifndef WAITER_H
#define WAITER_H

#include "core.h"

/* Blocks SIGINT and SIGTERM in the calling thread (and all threads it creates later); ignores
 * SIGPIPE (a peer that closes a socket must not kill the process). */
core_status waiter_block_signals(core_err *err);

/* Waits for SIGINT or SIGTERM. timeout_ms < 0 waits forever. Returns the signal number, or 0 on
 * timeout. */
int waiter_wait(int timeout_ms);

/* Asks the process to stop, as if SIGTERM had arrived. */
void waiter_request_stop(void);

/* Monotonic clock in milliseconds, for deadlines. */
long long waiter_now_ms(void);

#endif /* WAITER_H */
