/* pg.h -- PostgreSQL access: a connection pool, parameterized queries, transactions and
 * numbered SQL migrations, on top of libpq.
 *
 * Layer: core. Modules keep their state in PostgreSQL through this part; the event store and
 * the outbox/inbox build on it later.
 *
 * SQL and values: every value reaches the server as a separate parameter ($1, $2, ... with
 * pg_exec()); SQL text is always a constant in the source. NEVER build SQL by formatting values
 * into it (snprintf, concatenation): that is how SQL injection happens. The only SQL without
 * parameters is constant text (pg_exec with nparams 0) and migration scripts (pg_exec_script).
 * Identifiers that cannot be parameters (a database name in a test) go through
 * PQescapeIdentifier().
 *
 * Errors: SQLSTATEs map to statuses in ONE place, pg_status_from_sqlstate():
 *     23505 unique_violation, 40001 serialization_failure, 40P01 deadlock -> CORE_ERR_CONFLICT
 *     22xxx data exceptions, other 23xxx integrity violations           -> CORE_ERR_INVALID
 *     08xxx connection exceptions, 57P01-57P03 server shutting down     -> CORE_ERR_UNAVAILABLE
 *     anything else                                                     -> CORE_ERR_IO
 * A connection lost during a call gives CORE_ERR_UNAVAILABLE. The message in core_err holds the
 * server's primary message and the SQLSTATE, e.g.
 *     duplicate key value violates unique constraint "stores_pkey" (SQLSTATE 23505)
 * libpq's texts are copied at the call site (PQerrorMessage is overwritten by the next call).
 * Those texts (and the server's address in connection errors) are internal: every error from
 * this part also carries a public message (core_err_public(), core.h) that the edges show
 * clients instead, while the whole message goes to the log:
 *     CORE_ERR_UNAVAILABLE                 "the database is unavailable, try again"
 *     pool wait ran out                    "the database is busy, try again"
 *     23505                                "the record already exists"
 *     40001, 40P01                         "a concurrent change got in the way, try again"
 *     22xxx                                "the database cannot store a value of this request"
 *     other 23xxx                          "the request breaks a rule of the database"
 *     anything else                        "the database failed to run the request"
 *
 * Connections: the pool opens connections on demand up to its size, and one eagerly in
 * pg_pool_new() so a wrong PG_CONN fails at start-up, not at the first request. A conninfo without
 * connect_timeout gets connect_timeout=5, so an unreachable server never hangs a caller. Each
 * connection sets client_connection_check_interval to 1 s: when the program dies (or is made to
 * exit at once) while a statement waits for a lock, the server ends that session and rolls back
 * its transaction within a second, instead of running the statement once the lock is free. Server
 * NOTICEs (e.g. "schema ... already exists, skipping") go to log_debug under component "pg".
 *
 * Prepared statements: pg_exec() prepares each SQL text once per connection (PQprepare, with the
 * parameter types left to the server as before) and afterwards runs it with PQexecPrepared, so the
 * server parses and plans it once per session. Each pg_conn keeps the cache: SQL text (copied) ->
 * statement name "s1", "s2", ... (names are never reused on a connection). It holds at most
 * PG_STMT_CACHE_MAX statements; beyond that, further SQL texts run unprepared (PQexecParams), as
 * every statement did before, so only the first PG_STMT_CACHE_MAX distinct texts of a
 * connection gain. The cache is emptied when the pool reconnects the connection (PQreset) and freed
 * with it. A failed prepare reports exactly as a failed statement (the mapping above) and is not
 * recorded. When the server no longer knows a statement (SQLSTATE 26000, e.g. after DEALLOCATE
 * ALL or DISCARD ALL through pg_conn_raw()), or a cached plan no longer fits a table that changed
 * shape (0A000 "cached plan must not change result type"), pg_exec() prepares it again and
 * retries once, if no transaction is open; inside a transaction the failure is returned (the
 * server has aborted the transaction) and the next call prepares anew. pg_exec_script() never
 * prepares (PQexec: several statements).
 *
 * Thread-safety: a pg_pool is thread-safe (mutex + condition variable). A pg_conn is used by one
 * thread at a time: the one that acquired it, until it releases it. pg_get() and
 * pg_status_from_sqlstate() are pure functions.
 *
 * Ownership: a PGresult handed out by pg_exec() belongs to the caller, who frees it with
 * PQclear(). The pool owns its connections; a pg_conn is borrowed from pg_acquire() until
 * pg_release(). Strings passed in (conninfo, SQL, parameters, migration names) are borrowed for
 * the duration of the call (conninfo is copied).
 */
#ifndef PG_H
#define PG_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core.h"

typedef struct pg_pool pg_pool; /* opaque; thread-safe pool of PGconn */
typedef struct pg_conn pg_conn; /* opaque; borrowed from the pool, one thread at a time */

#define PG_POOL_DEFAULT_SIZE 8
#define PG_POOL_DEFAULT_ACQUIRE_TIMEOUT_MS 5000
#define PG_DEFAULT_CONNECT_TIMEOUT_S 5
#define PG_STMT_CACHE_MAX 256 /* prepared statements per connection (see the top of this file) */
#define PG_PENDING_MAX 4      /* statements pg_defer() holds back at most (then they are sent) */

struct pg_pool_opts {
    const char *conninfo;   /* libpq connection string, "key=value ..." or a postgresql:// URI */
    int size;               /* most connections open at once; 0 = PG_POOL_DEFAULT_SIZE */
    int acquire_timeout_ms; /* longest wait in pg_acquire(); 0 = PG_POOL_DEFAULT_ACQUIRE_... */
};

/* Creates a pool and opens its first connection. opts->conninfo is copied.
 * Errors: CORE_ERR_INVALID for a conninfo libpq cannot parse or a negative size/timeout;
 * CORE_ERR_UNAVAILABLE when the server cannot be reached or refuses the login, with a message
 * that names the server and holds libpq's text; CORE_ERR_NOMEM.
 * On success caller frees *out with pg_pool_free(). */
core_status pg_pool_new(pg_pool **out, const struct pg_pool_opts *opts, core_err *err);

/* Closes every connection and frees the pool. All connections must have been released (a
 * borrowed one is a programmer bug: assert). NULL is a no-op. */
void pg_pool_free(pg_pool *pool);

/* Borrows a connection: an idle one, else a new one if fewer than size are open, else waits up to
 * acquire_timeout_ms for a release. An idle connection found broken (the server closed it:
 * restart, terminated backend) is reconnected first (PQreset).
 * Errors: CORE_ERR_UNAVAILABLE "no database connection free within N ms" when the wait runs out,
 * or with libpq's text when (re)connecting fails; CORE_ERR_NOMEM.
 * On success *out is borrowed: give it back with pg_release(). */
core_status pg_acquire(pg_pool *pool, pg_conn **out, core_err *err);

/* Gives a borrowed connection back. A transaction left open (or failed) is rolled back; a
 * broken connection, or one a call marked unusable, is closed (the pool opens a new one on
 * demand). Pending notifications are dropped. NULL conn is a no-op. */
void pg_release(pg_pool *pool, pg_conn *conn);

/* Runs one SQL statement with nparams text parameters ($1..$n; params[i] NULL = SQL NULL).
 * The ONLY way to run SQL with values. The statement is prepared on conn at its first use and
 * reused after (see "Prepared statements" at the top); the same SQL text must always come with
 * the same nparams. With res not NULL, *res receives the PGresult on success
 * (caller frees with PQclear) and NULL on failure; with res NULL the result is discarded.
 * Errors: see the mapping at the top of this file. */
core_status pg_exec(pg_conn *conn, const char *sql, int nparams, const char *const *params,
                    PGresult **res, core_err *err);

/* Runs a script of several statements without parameters (migrations and seeds only) with
 * PQexec. It stops at the first failing statement. Run inside pg_begin/pg_commit it is atomic;
 * the script itself must then not contain BEGIN/COMMIT. */
core_status pg_exec_script(pg_conn *conn, const char *sql_script, core_err *err);

/* BEGIN / COMMIT / ROLLBACK. pg_commit() of a transaction in which a statement failed returns
 * CORE_ERR_IO ("transaction was rolled back ...") because the server rolls it back; a
 * serialization failure at commit gives CORE_ERR_CONFLICT.
 * Round trips: pg_begin() sends nothing; the BEGIN travels with the transaction's first statement
 * (libpq's pipeline mode: both in one round trip), so a failure to reach the server shows at that
 * statement. A transaction that ran no statement commits or rolls back without a round trip. */
core_status pg_begin(pg_conn *conn, core_err *err);
core_status pg_commit(pg_conn *conn, core_err *err);
core_status pg_rollback(pg_conn *conn, core_err *err);

/* Holds back sql, a constant text without parameters whose result nobody needs (SAVEPOINT x,
 * RELEASE SAVEPOINT x, SET LOCAL ...), and sends it with the next statement, COMMIT or ROLLBACK
 * TO in one round trip; pg_begin() is pg_defer(conn, "BEGIN"). A failure of sql is reported by
 * that next call. sql is borrowed until then: a string literal. ROLLBACK drops what is held
 * back. */
core_status pg_defer(pg_conn *conn, const char *sql, core_err *err);

/* Runs one last statement (no result wanted: a NOTIFY, marking rows done) and COMMIT in one round
 * trip. When the statement fails, the transaction is rolled back and its error returned; the
 * COMMIT's own failures as pg_commit(). */
core_status pg_commit_after(pg_conn *conn, const char *sql, int nparams, const char *const *params,
                            core_err *err);

/* The body of a transaction: runs SQL on conn (borrowed), returns CORE_OK to commit. */
/* One statement on a pooled connection: pg_acquire, pg_exec, pg_release. *res as for pg_exec()
 * (NULL: the result is discarded). For a repository method that runs a single statement; several
 * statements that must commit together belong in pg_with_tx(). Errors: pg_acquire's and
 * pg_exec's. */
core_status pg_run(pg_pool *pool, const char *sql, int nparams, const char *const *params,
                   PGresult **res, core_err *err);

typedef core_status (*pg_tx_fn)(pg_conn *conn, void *ctx, core_err *err);

/* Acquires a connection, runs fn(conn, ctx, err) between BEGIN and COMMIT and releases the
 * connection. When fn returns non-OK the transaction is rolled back and fn's status and err are
 * returned unchanged. Otherwise the status of acquire/BEGIN/COMMIT. ctx is passed through. */
core_status pg_with_tx(pg_pool *pool, pg_tx_fn fn, void *ctx, core_err *err);

/* The underlying libpq connection, borrowed as long as conn is (for LISTEN/NOTIFY, COPY). Do not
 * PQfinish it. Session state changed through it (LISTEN, SET) must be undone before release. */
PGconn *pg_conn_raw(pg_conn *conn);

/* ---- migrations -------------------------------------------------------------------------- */

/* One numbered SQL file: name like "001_create_stores.sql", sql its text. Both borrowed. */
struct pg_migration {
    const char *name;
    const char *sql;
};

/* Key of the session advisory lock pg_migrate() holds while it runs ("mall" in ASCII). */
#define PG_MIGRATE_LOCK_KEY "1835101292"

/* Checks a migration list without touching any database: every name starts with a decimal
 * number, the numbers strictly increase, name and sql are not NULL. CORE_ERR_INVALID (a
 * programmer error: the list is compiled in) with a message naming the offending file. */
core_status pg_migrations_check(const struct pg_migration *migrations, size_t n, core_err *err);

/* Applies, in order, each migration not yet recorded in public.schema_migrations(name text primary
 * key, applied_at timestamptz default now(), origin text), which it creates if missing (and adds
 * the origin column to a table made without it). Each file runs in its own transaction together
 * with the insert of its row, so a file is applied completely or not at all. Two processes
 * migrating at once are serialized by a session advisory lock (PG_MIGRATE_LOCK_KEY), so each file
 * is applied exactly once.
 * origin (may be NULL; borrowed) names the program that migrates, e.g. "chapter 05"; it is recorded
 * with every file it applies. Before applying anything, a database that belongs to another
 * program is refused with CORE_ERR_CONFLICT and nothing changes:
 *   - it holds a recorded migration that is not in the list (a newer or another program made it):
 *     database "mallbots_ch03" was migrated by chapter 05: chapter 03 does not know its
 *     migration 008_event_sourcing.sql
 *   - origin is not NULL and a file was recorded with another, non-NULL origin (rows without an
 *     origin, from an anonymous caller or an older table, belong to anyone):
 *     database "mallbots" was migrated by chapter 03: chapter 05 does not take over another
 *     program's database
 * The message names the database; the caller adds how to fix it (it knows its own commands).
 * The list is checked first (pg_migrations_check) before the pool is used.
 * A file that fails is rolled back and stops the run: CORE_ERR_IO with a message naming the file
 * and holding the server's message (CORE_ERR_UNAVAILABLE if the connection was lost); files
 * applied before it stay applied.
 * *applied_out (may be NULL) = number of files applied by this call, also on failure.
 * *fresh_out (may be NULL) = true when no migration had been applied before this call (the
 * caller then loads seed data). The connection used is closed afterwards (migration scripts may
 * SET session state), so the pool opens a new one on demand. */
core_status pg_migrate_as(pg_pool *pool, const char *origin, const struct pg_migration *migrations,
                          size_t n, int *applied_out, bool *fresh_out, core_err *err);

/* pg_migrate_as() without an origin (tests, tools): only the unknown-migration check applies. */
core_status pg_migrate(pg_pool *pool, const struct pg_migration *migrations, size_t n,
                       int *applied_out, bool *fresh_out, core_err *err);

/* ---- result helpers ------------------------------------------------------------------------ */

/* The text value at (row, col), borrowed from res (valid until PQclear). "" for SQL NULL and for
 * a row or column out of range; PQgetisnull() tells NULL from "". */
const char *pg_get(const PGresult *res, int row, int col);

/* The status for a five-character SQLSTATE (see the table at the top); NULL gives CORE_ERR_IO. */
core_status pg_status_from_sqlstate(const char *sqlstate);

#endif /* PG_H */
