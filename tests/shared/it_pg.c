/* it_pg.c -- integration tests of pg.h against the lab's PostgreSQL (scripts/lab.sh up).
 *
 * Every test gets a database of its own from e2e_db_create() (through PG_CONN, default
 * CFG_DEFAULT_PG_CONN), dropped after it, so tests start empty and leave nothing behind. Worker
 * threads never call cmocka asserts (they longjmp): they record results that the main thread
 * checks.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <libpq-fe.h>

#include "core.h"
#include "e2e.h"
#include "pg.h"
#include "waiter.h"

struct fx {
    struct e2e_scratch scratch; /* the test's database and leak check */
    pg_pool *pool;              /* size 4 on the test database */
};

/* ---- fixture ------------------------------------------------------------------------------- */

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f || e2e_scratch_open(&f->scratch, "it_pg") != 0) {
        free(f);
        return -1;
    }
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts opts = {
        .conninfo = f->scratch.db.conninfo, .size = 4, .acquire_timeout_ms = 5000};
    if (pg_pool_new(&f->pool, &opts, &err) != CORE_OK) {
        fprintf(stderr, "it_pg: pool on %s: %s\n", f->scratch.db.name, err.msg);
        e2e_scratch_close(&f->scratch);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    pg_pool_free(f->pool);
    int rc = e2e_scratch_close(&f->scratch);
    free(f);
    return rc;
}

/* ---- helpers ------------------------------------------------------------------------------- */

/* Runs constant SQL on a pooled connection and asserts it worked. */
static void must_exec(pg_pool *pool, const char *sql)
{
    pg_conn *c = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(pg_acquire(pool, &c, &err), CORE_OK);
    core_status st = pg_exec_script(c, sql, &err);
    if (st != CORE_OK)
        fprintf(stderr, "must_exec: %s: %s\n", sql, err.msg);
    assert_int_equal(st, CORE_OK);
    pg_release(pool, c);
}

/* The single value of a one-row query, as a number (-1 on any failure). */
static long query_long(pg_pool *pool, const char *sql, const char *param)
{
    pg_conn *c = NULL;
    core_err err = CORE_ERR_INIT;
    PGresult *r = NULL;
    long v = -1;
    if (pg_acquire(pool, &c, &err) != CORE_OK)
        return -1;
    if (pg_exec(c, sql, param ? 1 : 0, param ? &param : NULL, &r, &err) == CORE_OK &&
        PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        v = strtol(pg_get(r, 0, 0), NULL, 10);
    else
        fprintf(stderr, "query_long: %s: %s\n", sql, err.msg);
    PQclear(r);
    pg_release(pool, c);
    return v;
}

/* ---- queries ------------------------------------------------------------------------------- */

static void params_are_stored_verbatim(void **state)
{
    struct fx *f = *state;
    must_exec(f->pool, "CREATE TABLE notes (id int PRIMARY KEY, body text, extra text)");
    const char *evil = "O'Reilly \"quoted\" '; drop table notes; -- $1 \\ \xc3\xbc";
    pg_conn *c = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(pg_acquire(f->pool, &c, &err), CORE_OK);

    const char *p1[] = {"1", evil, NULL};
    PGresult *r = (PGresult *)&err; /* must be replaced */
    assert_int_equal(
        pg_exec(c, "INSERT INTO notes (id, body, extra) VALUES ($1, $2, $3)", 3, p1, &r, &err),
        CORE_OK);
    assert_string_equal(PQcmdTuples(r), "1");
    PQclear(r);
    const char *p2[] = {"2", "", "plain"};
    assert_int_equal(
        pg_exec(c, "INSERT INTO notes (id, body, extra) VALUES ($1, $2, $3)", 3, p2, NULL, &err),
        CORE_OK);

    const char *q[] = {evil};
    assert_int_equal(
        pg_exec(c, "SELECT id, body, extra FROM notes WHERE body = $1", 1, q, &r, &err), CORE_OK);
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(pg_get(r, 0, 0), "1");
    assert_string_equal(pg_get(r, 0, 1), evil);
    assert_string_equal(pg_get(r, 0, 2), "");
    assert_true(PQgetisnull(r, 0, 2));
    PQclear(r);

    assert_int_equal(pg_exec(c, "SELECT body, extra FROM notes WHERE id = $1", 1,
                             (const char *[]){"2"}, &r, &err),
                     CORE_OK);
    assert_string_equal(pg_get(r, 0, 0), "");
    assert_false(PQgetisnull(r, 0, 0));
    assert_string_equal(pg_get(r, 0, 1), "plain");
    PQclear(r);
    pg_release(f->pool, c);
    /* the table survived the "drop table" in the value */
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM notes", NULL), 2);
}

static void errors_map_to_statuses(void **state)
{
    struct fx *f = *state;
    must_exec(f->pool, "CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL CHECK (n > 0))");
    /* a repeated IF NOT EXISTS only makes a NOTICE (logged at debug), not an error */
    must_exec(f->pool, "CREATE TABLE IF NOT EXISTS items (id int)");
    pg_conn *c = NULL;
    core_err err = CORE_ERR_INIT;
    PGresult *r = NULL;
    const char *ins = "INSERT INTO items (id, n) VALUES ($1, $2)";
    assert_int_equal(pg_acquire(f->pool, &c, &err), CORE_OK);
    assert_int_equal(pg_exec(c, ins, 2, (const char *[]){"1", "5"}, NULL, &err), CORE_OK);

    r = (PGresult *)&err;
    assert_int_equal(pg_exec(c, ins, 2, (const char *[]){"1", "6"}, &r, &err), CORE_ERR_CONFLICT);
    assert_null(r); /* no result on failure */
    assert_int_equal(err.status, CORE_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "duplicate key value violates unique constraint"));
    assert_non_null(strstr(err.msg, "23505"));
    assert_null(strchr(err.msg, '\n'));
    assert_string_equal(core_err_client_msg(&err),
                        "the record already exists"); /* no table or key names */
    /* the status does not depend on the caller asking for the detail */
    assert_int_equal(pg_exec(c, ins, 2, (const char *[]){"1", "6"}, NULL, NULL), CORE_ERR_CONFLICT);
    /* bytes that are not UTF-8: SQLSTATE 22021, which a client must not see */
    must_exec(f->pool, "CREATE TABLE texts (t text)");
    assert_int_equal(pg_exec(c, "INSERT INTO texts (t) VALUES ($1)", 1,
                             (const char *[]){"\xff\xfe"}, NULL, &err),
                     CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "22021"));
    assert_string_equal(core_err_client_msg(&err),
                        "the database cannot store a value of this request");

    assert_int_equal(pg_exec(c, ins, 2, (const char *[]){"2", NULL}, NULL, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "23502")); /* not null */
    assert_int_equal(pg_exec(c, ins, 2, (const char *[]){"2", "0"}, NULL, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "check constraint"));
    assert_int_equal(pg_exec(c, ins, 2, (const char *[]){"two", "1"}, NULL, &err),
                     CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "invalid input syntax for type integer"));
    assert_non_null(strstr(err.msg, "22P02"));

    assert_int_equal(pg_exec(c, "SELEC 1", 0, NULL, NULL, &err), CORE_ERR_IO);
    assert_non_null(strstr(err.msg, "syntax error"));
    assert_int_equal(pg_exec(c, "SELECT * FROM nope", 0, NULL, NULL, &err), CORE_ERR_IO);
    assert_non_null(strstr(err.msg, "\"nope\" does not exist"));
    /* a script stops at its first failing statement */
    assert_int_equal(pg_exec_script(c,
                                    "INSERT INTO items VALUES (3, 1); INSERT INTO items VALUES "
                                    "(1, 1); INSERT INTO items VALUES (4, 1);",
                                    &err),
                     CORE_ERR_CONFLICT);
    pg_release(f->pool, c);
    /* the script ran as one implicit transaction: nothing of it stayed */
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM items", NULL), 1);
}

/* Waits until the backend with this pid has gone (pg_terminate_backend is asynchronous); asks
 * through pool (any connection sees the whole server's pg_stat_activity). */
static bool wait_backend_gone(pg_pool *pool, int pid)
{
    char text[16];
    snprintf(text, sizeof text, "%d", pid);
    for (int i = 0; i < 200; i++) {
        if (query_long(pool, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", text) == 0) {
            /* the backend leaves pg_stat_activity just before it closes its socket */
            usleep(100 * 1000);
            return true;
        }
        usleep(10000);
    }
    return false;
}

/* Asks the server, through pool, to end the backend with this pid; 1 when it was signalled. */
static long terminate_backend(pg_pool *pool, int pid)
{
    char text[16];
    snprintf(text, sizeof text, "%d", pid);
    return query_long(pool, "SELECT pg_terminate_backend($1)::int", text);
}

static void lost_connections_are_unavailable_then_replaced(void **state)
{
    struct fx *f = *state;
    pg_pool *pool = NULL;
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts opts = {
        .conninfo = f->scratch.db.conninfo, .size = 1, .acquire_timeout_ms = 2000};
    assert_int_equal(pg_pool_new(&pool, &opts, &err), CORE_OK);

    /* killed while borrowed: the next statement fails UNAVAILABLE, release closes it */
    pg_conn *c = NULL;
    assert_int_equal(pg_acquire(pool, &c, &err), CORE_OK);
    int pid1 = PQbackendPID(pg_conn_raw(c));
    assert_int_equal(terminate_backend(f->pool, pid1), 1);
    assert_true(wait_backend_gone(f->pool, pid1));
    assert_int_equal(pg_exec(c, "SELECT 1", 0, NULL, NULL, &err), CORE_ERR_UNAVAILABLE);
    pg_release(pool, c);
    assert_int_equal(pg_acquire(pool, &c, &err), CORE_OK); /* a fresh connection */
    int pid2 = PQbackendPID(pg_conn_raw(c));
    assert_int_not_equal(pid2, pid1);
    assert_int_equal(pg_exec(c, "SELECT 1", 0, NULL, NULL, &err), CORE_OK);
    pg_release(pool, c);

    /* killed while idle in the pool: acquire notices and reconnects, the caller sees nothing */
    assert_int_equal(terminate_backend(f->pool, pid2), 1);
    assert_true(wait_backend_gone(f->pool, pid2));
    assert_int_equal(pg_acquire(pool, &c, &err), CORE_OK);
    assert_int_not_equal(PQbackendPID(pg_conn_raw(c)), pid2);
    assert_int_equal(pg_exec(c, "SELECT 1", 0, NULL, NULL, &err), CORE_OK);
    pg_release(pool, c);
    pg_pool_free(pool);
}

static void wrong_password_is_unavailable(void **state)
{
    struct fx *f = *state;
    char ci[E2E_CONNINFO_MAX];
    core_err err = CORE_ERR_INIT;
    assert_int_equal(e2e_conninfo_with(f->scratch.db.conninfo, "password", "not-the-password", ci,
                                       sizeof ci, &err),
                     CORE_OK);
    pg_pool *pool = NULL;
    struct pg_pool_opts opts = {.conninfo = ci};
    assert_int_equal(pg_pool_new(&pool, &opts, &err), CORE_ERR_UNAVAILABLE);
    assert_null(pool);
    assert_non_null(strstr(err.msg, "password authentication failed"));
    assert_null(strstr(err.msg, "not-the-password"));
}

/* ---- transactions -------------------------------------------------------------------------- */

struct tx_ctx {
    const char *id;
    bool fail_after_insert;
};

static core_status insert_then_maybe_fail(pg_conn *conn, void *ctx, core_err *err)
{
    struct tx_ctx *t = ctx;
    core_status st = pg_exec(conn, "INSERT INTO t (id) VALUES ($1)", 1, &t->id, NULL, err);
    if (st == CORE_OK && t->fail_after_insert)
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "rejected by the transaction body");
    return st;
}

static void with_tx_commits_or_rolls_back(void **state)
{
    struct fx *f = *state;
    must_exec(f->pool, "CREATE TABLE t (id text PRIMARY KEY)");
    core_err err = CORE_ERR_INIT;

    struct tx_ctx fail = {"a", true};
    assert_int_equal(pg_with_tx(f->pool, insert_then_maybe_fail, &fail, &err), CORE_ERR_NOT_FOUND);
    assert_int_equal(err.status, CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "rejected by the transaction body"); /* unchanged */
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM t", NULL), 0);

    struct tx_ctx ok = {"b", false};
    assert_int_equal(pg_with_tx(f->pool, insert_then_maybe_fail, &ok, &err), CORE_OK);
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM t WHERE id = $1", "b"), 1);

    /* a failing statement in the body: its status comes back, the transaction is undone */
    assert_int_equal(pg_with_tx(f->pool, insert_then_maybe_fail, &ok, &err), CORE_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "23505"));
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM t", NULL), 1);
}

static core_status ignore_a_failure(pg_conn *conn, void *ctx, core_err *err)
{
    (void)ctx;
    core_err ignored = CORE_ERR_INIT;
    pg_exec(conn, "INSERT INTO t (id) VALUES ('c')", 0, NULL, NULL, err);
    pg_exec(conn, "SELECT * FROM nope", 0, NULL, NULL, &ignored);
    return CORE_OK; /* wrongly: the server rolls back at COMMIT */
}

static void release_cleans_up_transactions(void **state)
{
    struct fx *f = *state;
    must_exec(f->pool, "CREATE TABLE t (id text PRIMARY KEY)");
    pg_pool *pool = NULL;
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts opts = {.conninfo = f->scratch.db.conninfo, .size = 1};
    assert_int_equal(pg_pool_new(&pool, &opts, &err), CORE_OK);

    pg_conn *c = NULL;
    assert_int_equal(pg_acquire(pool, &c, &err), CORE_OK);
    int pid = PQbackendPID(pg_conn_raw(c));
    assert_int_equal(pg_begin(c, &err), CORE_OK);
    assert_int_equal(pg_exec(c, "INSERT INTO t (id) VALUES ('x')", 0, NULL, NULL, &err), CORE_OK);
    assert_int_equal(PQtransactionStatus(pg_conn_raw(c)), PQTRANS_INTRANS);
    pg_release(pool, c); /* forgot to commit */

    assert_int_equal(pg_acquire(pool, &c, &err), CORE_OK);
    assert_int_equal(PQbackendPID(pg_conn_raw(c)), pid); /* same connection, reused */
    assert_int_equal(PQtransactionStatus(pg_conn_raw(c)), PQTRANS_IDLE);
    PGresult *r = NULL;
    assert_int_equal(pg_exec(c, "SELECT count(*) FROM t", 0, NULL, &r, &err), CORE_OK);
    assert_string_equal(pg_get(r, 0, 0), "0");
    PQclear(r);

    /* a failed transaction: COMMIT reports it, and the connection is usable afterwards */
    assert_int_equal(pg_begin(c, &err), CORE_OK);
    assert_int_equal(pg_exec(c, "SELECT * FROM nope", 0, NULL, NULL, &err), CORE_ERR_IO);
    assert_int_equal(pg_exec(c, "SELECT 1", 0, NULL, NULL, &err), CORE_ERR_IO); /* 25P02 */
    assert_int_equal(pg_commit(c, &err), CORE_ERR_IO);
    assert_non_null(strstr(err.msg, "rolled back"));
    assert_int_equal(PQtransactionStatus(pg_conn_raw(c)), PQTRANS_IDLE);
    assert_int_equal(pg_begin(c, &err), CORE_OK);
    assert_int_equal(pg_exec(c, "SELECT * FROM nope", 0, NULL, NULL, &err), CORE_ERR_IO);
    pg_release(pool, c); /* left in a failed transaction */
    assert_int_equal(pg_acquire(pool, &c, &err), CORE_OK);
    assert_int_equal(PQtransactionStatus(pg_conn_raw(c)), PQTRANS_IDLE);
    assert_int_equal(PQbackendPID(pg_conn_raw(c)), pid);
    pg_release(pool, c);

    /* pg_with_tx whose body swallowed a failure: COMMIT does not pretend it worked */
    assert_int_equal(pg_with_tx(pool, ignore_a_failure, NULL, &err), CORE_ERR_IO);
    assert_non_null(strstr(err.msg, "rolled back"));
    assert_int_equal(query_long(pool, "SELECT count(*) FROM t", NULL), 0);
    pg_pool_free(pool);
}

/* ---- prepared statements ------------------------------------------------------------------- */

#define ADD_ONE "SELECT $1::int + 1"

/* The number of statements prepared on c's session whose text is sql (NULL: all of them). */
static long prepared_on(pg_conn *c, const char *sql)
{
    core_err err = CORE_ERR_INIT;
    PGresult *r = NULL;
    long v = -1;
    core_status st =
        sql ? pg_exec(c, "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", 1,
                      &sql, &r, &err)
            : pg_exec(c, "SELECT count(*) FROM pg_prepared_statements", 0, NULL, &r, &err);
    if (st == CORE_OK)
        v = strtol(pg_get(r, 0, 0), NULL, 10);
    else
        fprintf(stderr, "prepared_on: %s\n", err.msg);
    PQclear(r);
    return v;
}

/* Runs ADD_ONE with n on c and returns the result (-1 on failure). */
static long add_one(pg_conn *c, const char *n, core_status *st_out)
{
    core_err err = CORE_ERR_INIT;
    PGresult *r = NULL;
    core_status st = pg_exec(c, ADD_ONE, 1, &n, &r, &err);
    long v = st == CORE_OK ? strtol(pg_get(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    if (st_out)
        *st_out = st;
    return v;
}

static void a_statement_is_prepared_once_per_connection(void **state)
{
    struct fx *f = *state;
    pg_conn *c = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(pg_acquire(f->pool, &c, &err), CORE_OK);
    assert_int_equal(prepared_on(c, ADD_ONE), 0);
    assert_int_equal(add_one(c, "41", NULL), 42);
    assert_int_equal(add_one(c, "-8", NULL), -7); /* other values, same statement */
    assert_int_equal(prepared_on(c, ADD_ONE), 1);
    /* NULL parameters and errors behave as unprepared */
    PGresult *r = NULL;
    assert_int_equal(pg_exec(c, ADD_ONE, 1, (const char *[]){NULL}, &r, &err), CORE_OK);
    assert_true(PQgetisnull(r, 0, 0));
    PQclear(r);
    assert_int_equal(pg_exec(c, ADD_ONE, 1, (const char *[]){"x"}, &r, &err), CORE_ERR_INVALID);
    assert_null(r);
    assert_non_null(strstr(err.msg, "22P02"));
    /* a statement that fails to prepare is reported as before and not recorded */
    assert_int_equal(pg_exec(c, "SELECT * FROM nope", 0, NULL, NULL, &err), CORE_ERR_IO);
    assert_non_null(strstr(err.msg, "\"nope\" does not exist"));
    assert_int_equal(prepared_on(c, "SELECT * FROM nope"), 0);
    must_exec(f->pool, "CREATE TABLE nope (id int)");
    assert_int_equal(pg_exec(c, "SELECT * FROM nope", 0, NULL, NULL, &err), CORE_OK);
    /* scripts are not prepared */
    assert_int_equal(pg_exec_script(c, "SELECT 1; SELECT 2", &err), CORE_OK);
    assert_int_equal(prepared_on(c, "SELECT 1; SELECT 2"), 0);
    pg_release(f->pool, c);
}

/* A pool of one connection on the scratch database (the caller frees it). */
static pg_pool *one_connection_pool(struct fx *f)
{
    pg_pool *pool = NULL;
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts opts = {.conninfo = f->scratch.db.conninfo, .size = 1};
    assert_int_equal(pg_pool_new(&pool, &opts, &err), CORE_OK);
    return pool;
}

/* Ends server session pid (as a restart of the server would) and waits until it is gone. */
static void end_session(struct fx *f, int pid)
{
    assert_int_equal(terminate_backend(f->pool, pid), 1);
    assert_true(wait_backend_gone(f->pool, pid));
}

static void a_reconnected_connection_prepares_again(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    pg_pool *pool = one_connection_pool(f);
    pg_conn *c = NULL;
    assert_int_equal(pg_acquire(pool, &c, &err), CORE_OK);
    int pid = PQbackendPID(pg_conn_raw(c));
    assert_int_equal(add_one(c, "1", NULL), 2);
    pg_release(pool, c);
    end_session(f, pid);
    assert_int_equal(pg_acquire(pool, &c, &err), CORE_OK); /* PQreset */
    assert_int_not_equal(PQbackendPID(pg_conn_raw(c)), pid);
    assert_int_equal(prepared_on(c, ADD_ONE), 0);
    assert_int_equal(add_one(c, "2", NULL), 3);
    assert_int_equal(prepared_on(c, ADD_ONE), 1);
    pg_release(pool, c);
    pg_pool_free(pool);
}

/* The one value sql answers on c is want. */
static void expect_ids(pg_conn *c, const char *sql, const char *want)
{
    PGresult *r = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(pg_exec(c, sql, 0, NULL, &r, &err), CORE_OK);
    assert_string_equal(pg_get(r, 0, 0), want);
    PQclear(r);
}

/* The BEGIN travels with the first statement: a transaction that runs nothing never reaches the
 * server (here: a dead session), and the first statement of one that does meets the failure. */
static void begin_goes_with_the_first_statement(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    pg_pool *pool = one_connection_pool(f);
    pg_conn *c = NULL;
    assert_int_equal(pg_acquire(pool, &c, &err), CORE_OK);
    end_session(f, PQbackendPID(pg_conn_raw(c)));
    assert_int_equal(pg_begin(c, &err), CORE_OK);
    assert_int_equal(pg_commit(c, &err), CORE_OK); /* nothing ran: nothing sent */
    assert_int_equal(pg_begin(c, &err), CORE_OK);
    assert_int_equal(pg_rollback(c, &err), CORE_OK);
    assert_int_equal(pg_begin(c, &err), CORE_OK);
    assert_int_equal(pg_exec(c, "SELECT 1", 0, NULL, NULL, &err), CORE_ERR_UNAVAILABLE);
    pg_release(pool, c);
    pg_pool_free(pool);
}

/* pg_commit_after: the last statement and the COMMIT together; a failing statement rolls the
 * whole transaction back, and the connection goes on working. */
static void commit_after_commits_or_rolls_back(void **state)
{
    struct fx *f = *state;
    must_exec(f->pool, "CREATE TABLE ca (id text PRIMARY KEY)");
    pg_conn *c = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(pg_acquire(f->pool, &c, &err), CORE_OK);
    const char *a[1] = {"a"}, *b[1] = {"b"}, *x[1] = {"x"};
    const char *ins = "INSERT INTO ca (id) VALUES ($1)";
    assert_int_equal(pg_begin(c, &err), CORE_OK);
    assert_int_equal(pg_exec(c, ins, 1, a, NULL, &err), CORE_OK);
    assert_int_equal(pg_commit_after(c, ins, 1, b, &err), CORE_OK);
    assert_int_equal(PQtransactionStatus(pg_conn_raw(c)), PQTRANS_IDLE);
    /* the failing last statement: a duplicate key */
    assert_int_equal(pg_begin(c, &err), CORE_OK);
    assert_int_equal(pg_exec(c, ins, 1, x, NULL, &err), CORE_OK);
    assert_int_equal(pg_commit_after(c, ins, 1, a, &err), CORE_ERR_CONFLICT);
    assert_int_equal(PQtransactionStatus(pg_conn_raw(c)), PQTRANS_IDLE);
    /* the only statement, with the BEGIN in the same round trip */
    assert_int_equal(pg_begin(c, &err), CORE_OK);
    assert_int_equal(pg_commit_after(c, ins, 1, x, &err), CORE_OK);
    /* a statement that does not even prepare */
    assert_int_equal(pg_begin(c, &err), CORE_OK);
    assert_int_equal(pg_commit_after(c, "INSERT INTO nope VALUES ($1)", 1, b, &err), CORE_ERR_IO);
    assert_int_equal(PQtransactionStatus(pg_conn_raw(c)), PQTRANS_IDLE);
    expect_ids(c, "SELECT string_agg(id, ',' ORDER BY id) FROM ca", "a,b,x");
    pg_release(f->pool, c);
}

/* pg_defer: a SAVEPOINT held back goes with the next statement; a failure after it is undone by
 * ROLLBACK TO, and the transaction commits what came before. */
static void deferred_savepoints_work_like_sent_ones(void **state)
{
    struct fx *f = *state;
    must_exec(f->pool, "CREATE TABLE sp (id text PRIMARY KEY)");
    pg_conn *c = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(pg_acquire(f->pool, &c, &err), CORE_OK);
    const char *a[1] = {"a"}, *b[1] = {"b"};
    const char *ins = "INSERT INTO sp (id) VALUES ($1)";
    assert_int_equal(pg_begin(c, &err), CORE_OK);
    assert_int_equal(pg_exec(c, ins, 1, a, NULL, &err), CORE_OK);
    assert_int_equal(pg_defer(c, "SAVEPOINT x", &err), CORE_OK);
    assert_int_equal(pg_exec(c, ins, 1, a, NULL, &err), CORE_ERR_CONFLICT); /* in the savepoint */
    assert_int_equal(pg_exec(c, "ROLLBACK TO SAVEPOINT x", 0, NULL, NULL, &err), CORE_OK);
    assert_int_equal(pg_defer(c, "RELEASE SAVEPOINT x", &err), CORE_OK);
    assert_int_equal(pg_defer(c, "SAVEPOINT y", &err), CORE_OK);
    assert_int_equal(pg_exec(c, ins, 1, b, NULL, &err), CORE_OK);
    assert_int_equal(pg_defer(c, "RELEASE SAVEPOINT y", &err), CORE_OK);
    assert_int_equal(pg_commit(c, &err), CORE_OK); /* RELEASE and COMMIT together */
    assert_int_equal(PQtransactionStatus(pg_conn_raw(c)), PQTRANS_IDLE);
    /* a deferred statement that fails is reported by the next call */
    assert_int_equal(pg_begin(c, &err), CORE_OK);
    assert_int_equal(pg_defer(c, "RELEASE SAVEPOINT nope", &err), CORE_OK);
    assert_int_equal(pg_exec(c, "SELECT 1", 0, NULL, NULL, &err), CORE_ERR_IO);
    assert_int_equal(pg_rollback(c, &err), CORE_OK);
    expect_ids(c, "SELECT string_agg(id, ',' ORDER BY id) FROM sp", "a,b");
    pg_release(f->pool, c);
}

static void statements_dropped_behind_the_cache_are_prepared_again(void **state)
{
    struct fx *f = *state;
    pg_conn *c = NULL;
    core_err err = CORE_ERR_INIT;
    core_status st;
    assert_int_equal(pg_acquire(f->pool, &c, &err), CORE_OK);
    assert_int_equal(add_one(c, "1", NULL), 2);
    assert_int_equal(pg_exec_script(c, "DEALLOCATE ALL", &err), CORE_OK);
    assert_int_equal(add_one(c, "2", &st), 3);
    assert_int_equal(prepared_on(c, ADD_ONE), 1);
    assert_int_equal(pg_exec_script(c, "DISCARD ALL", &err), CORE_OK);
    assert_int_equal(add_one(c, "3", &st), 4);
    assert_int_equal(prepared_on(c, ADD_ONE), 1);

    /* inside a transaction the failure is returned (the server aborted it), then it recovers */
    assert_int_equal(pg_begin(c, &err), CORE_OK);
    assert_int_equal(pg_exec_script(c, "DEALLOCATE ALL", &err), CORE_OK);
    assert_int_equal(add_one(c, "4", &st), -1);
    assert_int_equal(st, CORE_ERR_IO);
    assert_int_equal(pg_rollback(c, &err), CORE_OK);
    assert_int_equal(add_one(c, "5", &st), 6);
    assert_int_equal(prepared_on(c, ADD_ONE), 1);

    /* a table that changes shape under a cached SELECT * */
    must_exec(f->pool, "CREATE TABLE shape (a int); INSERT INTO shape VALUES (1)");
    PGresult *r = NULL;
    assert_int_equal(pg_exec(c, "SELECT * FROM shape", 0, NULL, &r, &err), CORE_OK);
    assert_int_equal(PQnfields(r), 1);
    PQclear(r);
    must_exec(f->pool, "ALTER TABLE shape ADD COLUMN b int DEFAULT 7");
    assert_int_equal(pg_exec(c, "SELECT * FROM shape", 0, NULL, &r, &err), CORE_OK);
    assert_int_equal(PQnfields(r), 2);
    assert_string_equal(pg_get(r, 0, 1), "7");
    PQclear(r);
    assert_int_equal(prepared_on(c, "SELECT * FROM shape"), 1);
    pg_release(f->pool, c);
}

static void the_cache_is_bounded(void **state)
{
    struct fx *f = *state;
    pg_conn *c = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(pg_acquire(f->pool, &c, &err), CORE_OK);
    for (int i = 0; i < PG_STMT_CACHE_MAX + 10; i++) {
        char sql[64]; /* distinct constant texts (no values in them) */
        snprintf(sql, sizeof sql, "SELECT %d AS n", i);
        PGresult *r = NULL;
        assert_int_equal(pg_exec(c, sql, 0, NULL, &r, &err), CORE_OK);
        assert_int_equal(strtol(pg_get(r, 0, 0), NULL, 10), i);
        PQclear(r);
    }
    /* the counting statement itself comes after the bound: it runs unprepared */
    assert_int_equal(prepared_on(c, NULL), PG_STMT_CACHE_MAX);
    assert_int_equal(prepared_on(c, "SELECT 0 AS n"), 1);
    assert_int_equal(prepared_on(c, "SELECT 256 AS n"), 0);
    pg_release(f->pool, c);
}

static void prepare_allocation_failures_leak_nothing(void **state)
{
    struct fx *f = *state;
    long live = core_alloc_live();
    int nomem = 0;
    bool done = false;
    for (long k = 0; k < 50 && !done; k++) {
        pg_pool *pool = NULL;
        pg_conn *c = NULL;
        core_err err = CORE_ERR_INIT;
        struct pg_pool_opts opts = {.conninfo = f->scratch.db.conninfo, .size = 1};
        assert_int_equal(pg_pool_new(&pool, &opts, &err), CORE_OK);
        assert_int_equal(pg_acquire(pool, &c, &err), CORE_OK);
        core_alloc_fail_after(k);
        core_status st;
        long v = add_one(c, "1", &st);
        core_alloc_fail_after(-1);
        if (st == CORE_ERR_NOMEM) {
            nomem++;
            assert_int_equal(prepared_on(c, ADD_ONE), 0); /* nothing half-recorded */
        } else {
            assert_int_equal(st, CORE_OK);
            assert_int_equal(v, 2);
            done = true;
        }
        assert_int_equal(add_one(c, "2", NULL), 3); /* and it works afterwards */
        assert_int_equal(prepared_on(c, ADD_ONE), 1);
        pg_release(pool, c);
        pg_pool_free(pool);
        assert_int_equal(core_alloc_live(), live);
    }
    assert_true(done);
    assert_true(nomem >= 2);
}

/* ---- the pool ------------------------------------------------------------------------------ */

#define WORKERS 8
#define ROUNDS 50

struct worker {
    pg_pool *pool;
    int id;
    int ok;
    atomic_int *borrowed;
    atomic_int *max_borrowed;
    core_err err;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < ROUNDS; i++) {
        pg_conn *c = NULL;
        if (pg_acquire(w->pool, &c, &w->err) != CORE_OK)
            continue;
        int now = atomic_fetch_add(w->borrowed, 1) + 1;
        int max = atomic_load(w->max_borrowed);
        while (now > max && !atomic_compare_exchange_weak(w->max_borrowed, &max, now)) {
        }
        /* First round: hold the connection until another worker holds one too (bounded), so
         * that the overlap is certain on a loaded machine instead of left to timing. */
        for (long long until = waiter_now_ms() + 10000;
             i == 0 && atomic_load(w->borrowed) < 2 && waiter_now_ms() < until;)
            nanosleep(&(struct timespec){0, 1000000}, NULL);
        max = atomic_load(w->max_borrowed);
        now = atomic_load(w->borrowed);
        while (now > max && !atomic_compare_exchange_weak(w->max_borrowed, &max, now)) {
        }
        char worker[16], round[16];
        snprintf(worker, sizeof worker, "%d", w->id);
        snprintf(round, sizeof round, "%d", i);
        const char *params[] = {worker, round};
        if (pg_exec(c, "INSERT INTO hits (worker, round) VALUES ($1, $2)", 2, params, NULL,
                    &w->err) == CORE_OK)
            w->ok++;
        atomic_fetch_sub(w->borrowed, 1);
        pg_release(w->pool, c);
    }
    return NULL;
}

static void pool_serves_many_threads(void **state)
{
    struct fx *f = *state;
    must_exec(f->pool, "CREATE TABLE hits (worker int, round int, PRIMARY KEY (worker, round))");
    pg_pool *pool = NULL;
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts opts = {
        .conninfo = f->scratch.db.conninfo, .size = 3, .acquire_timeout_ms = 20000};
    assert_int_equal(pg_pool_new(&pool, &opts, &err), CORE_OK);

    atomic_int borrowed = 0, max_borrowed = 0;
    struct worker w[WORKERS];
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        w[i] = (struct worker){
            .pool = pool, .id = i, .borrowed = &borrowed, .max_borrowed = &max_borrowed};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < WORKERS; i++) {
        if (w[i].ok != ROUNDS)
            fprintf(stderr, "worker %d: %d ok, last error: %s\n", i, w[i].ok, w[i].err.msg);
        assert_int_equal(w[i].ok, ROUNDS);
    }
    assert_true(atomic_load(&max_borrowed) <= 3);
    assert_true(atomic_load(&max_borrowed) >= 2); /* the threads did overlap */
    assert_int_equal(query_long(pool, "SELECT count(*) FROM hits", NULL), WORKERS * ROUNDS);
    /* never more than 3 sessions of this pool on the server (f->pool holds at most 1 here) */
    assert_true(query_long(pool,
                           "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database()",
                           NULL) <= 3 + 1);
    pg_pool_free(pool);
}

struct waiter_arg {
    pg_pool *pool;
    core_status st;
    long long waited_ms;
};

static void *acquire_and_release(void *arg)
{
    struct waiter_arg *a = arg;
    pg_conn *c = NULL;
    core_err err = CORE_ERR_INIT;
    long long t0 = waiter_now_ms();
    a->st = pg_acquire(a->pool, &c, &err);
    a->waited_ms = waiter_now_ms() - t0;
    pg_release(a->pool, c);
    return NULL;
}

static void acquire_times_out_when_all_are_held(void **state)
{
    struct fx *f = *state;
    pg_pool *pool = NULL;
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts opts = {
        .conninfo = f->scratch.db.conninfo, .size = 2, .acquire_timeout_ms = 300};
    assert_int_equal(pg_pool_new(&pool, &opts, &err), CORE_OK);
    pg_conn *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(pg_acquire(pool, &a, &err), CORE_OK);
    assert_int_equal(pg_acquire(pool, &b, &err), CORE_OK);
    assert_ptr_not_equal(a, b);

    long long t0 = waiter_now_ms();
    c = (pg_conn *)&err;
    assert_int_equal(pg_acquire(pool, &c, &err), CORE_ERR_UNAVAILABLE);
    long long waited = waiter_now_ms() - t0;
    assert_null(c);
    assert_string_equal(err.msg, "no database connection free within 300 ms");
    assert_string_equal(core_err_client_msg(&err), "the database is busy, try again");
    assert_true(waited >= 290 && waited < 3000);

    pg_release(pool, a);
    pg_release(pool, b);
    pg_pool_free(pool);
}

static void release_wakes_a_waiter(void **state)
{
    struct fx *f = *state;
    pg_pool *pool = NULL;
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts opts = {
        .conninfo = f->scratch.db.conninfo, .size = 1, .acquire_timeout_ms = 10000};
    assert_int_equal(pg_pool_new(&pool, &opts, &err), CORE_OK);
    pg_conn *a = NULL;
    assert_int_equal(pg_acquire(pool, &a, &err), CORE_OK);
    struct waiter_arg w = {.pool = pool, .st = CORE_ERR_INTERNAL};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, acquire_and_release, &w), 0);
    usleep(200 * 1000);
    pg_release(pool, a);
    pthread_join(th, NULL);
    assert_int_equal(w.st, CORE_OK);
    assert_true(w.waited_ms >= 150 && w.waited_ms < 5000);
    pg_pool_free(pool);
}

static void allocation_failures_with_a_server(void **state)
{
    struct fx *f = *state;
    long live = core_alloc_live();
    struct pg_pool_opts opts = {.conninfo = f->scratch.db.conninfo, .size = 2};
    int nomem = 0;
    bool done = false;
    for (long k = 0; k < 200 && !done; k++) {
        pg_pool *pool = NULL;
        pg_conn *a = NULL, *b = NULL;
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(k);
        core_status st = pg_pool_new(&pool, &opts, &err);
        if (st == CORE_OK)
            st = pg_acquire(pool, &a, &err);
        if (st == CORE_OK)
            st = pg_acquire(pool, &b, &err); /* opens the second connection */
        if (st == CORE_OK)
            st = pg_exec(b, "SELECT 1", 0, NULL, NULL, &err);
        core_alloc_fail_after(-1);
        pg_release(pool, a);
        pg_release(pool, b);
        pg_pool_free(pool);
        assert_int_equal(core_alloc_live(), live);
        if (st == CORE_ERR_NOMEM)
            nomem++;
        else
            assert_int_equal(st, CORE_OK);
        done = st == CORE_OK;
    }
    assert_true(done);
    assert_true(nomem > 5);
}

/* ---- migrations ---------------------------------------------------------------------------- */

static const struct pg_migration shop[] = {
    {"001_create_items.sql", "CREATE SCHEMA IF NOT EXISTS shop;\n"
                             "CREATE TABLE shop.items (id int PRIMARY KEY, name text NOT NULL);\n"},
    {"002_add_price.sql", "ALTER TABLE shop.items ADD COLUMN price numeric NOT NULL DEFAULT 0;"},
    {"003_seed_item.sql", "INSERT INTO shop.items (id, name) VALUES (1, 'it''s');"},
    {"010_orders.sql", "CREATE TABLE shop.orders (id int PRIMARY KEY);"},
};

static void migrations_apply_once_in_order(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    int applied = -1;
    bool fresh = false;
    assert_int_equal(pg_migrate(f->pool, shop, 3, &applied, &fresh, &err), CORE_OK);
    assert_int_equal(applied, 3);
    assert_true(fresh);
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM shop.items", NULL), 1);

    assert_int_equal(pg_migrate(f->pool, shop, 3, &applied, &fresh, &err), CORE_OK);
    assert_int_equal(applied, 0);
    assert_false(fresh);
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM shop.items", NULL), 1);

    assert_int_equal(pg_migrate(f->pool, shop, 4, &applied, &fresh, &err), CORE_OK);
    assert_int_equal(applied, 1);
    assert_false(fresh);
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM shop.orders", NULL), 0);
    assert_int_equal(pg_migrate(f->pool, shop, 4, NULL, NULL, &err), CORE_OK);

    /* recorded in order, once each */
    pg_conn *c = NULL;
    PGresult *r = NULL;
    assert_int_equal(pg_acquire(f->pool, &c, &err), CORE_OK);
    assert_int_equal(pg_exec(c,
                             "SELECT name, applied_at IS NOT NULL FROM public.schema_migrations "
                             "ORDER BY applied_at, name",
                             0, NULL, &r, &err),
                     CORE_OK);
    assert_int_equal(PQntuples(r), 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(pg_get(r, i, 0), shop[i].name);
        assert_string_equal(pg_get(r, i, 1), "t");
    }
    PQclear(r);
    pg_release(f->pool, c);
}

static void failing_migration_rolls_back_and_stops(void **state)
{
    struct fx *f = *state;
    const struct pg_migration list[] = {
        shop[0],
        shop[1],
        {"003_broken.sql", "CREATE TABLE shop.half (id int);\n"
                           "INSERT INTO shop.missing VALUES (1);\n"},
        {"004_never.sql", "CREATE TABLE shop.never (id int);"},
    };
    core_err err = CORE_ERR_INIT;
    int applied = -1;
    bool fresh = false;
    assert_int_equal(pg_migrate(f->pool, list, 4, &applied, &fresh, &err), CORE_ERR_IO);
    assert_int_equal(applied, 2);
    assert_true(fresh);
    assert_non_null(strstr(err.msg, "003_broken.sql"));
    assert_non_null(strstr(err.msg, "relation \"shop.missing\" does not exist"));
    /* the failing file left nothing, the ones before it stay, the ones after it did not run */
    assert_int_equal(
        query_long(f->pool, "SELECT count(*) FROM pg_tables WHERE tablename = $1", "half"), 0);
    assert_int_equal(
        query_long(f->pool, "SELECT count(*) FROM pg_tables WHERE tablename = $1", "never"), 0);
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM shop.items", NULL), 0);
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM public.schema_migrations", NULL), 2);

    /* fixed: the run continues where it stopped */
    const struct pg_migration fixed[] = {shop[0], shop[1], shop[2], list[3]};
    assert_int_equal(pg_migrate(f->pool, fixed, 4, &applied, &fresh, &err), CORE_OK);
    assert_int_equal(applied, 2);
    assert_false(fresh);
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM public.schema_migrations", NULL), 4);
}

static void bad_migration_list_touches_nothing(void **state)
{
    struct fx *f = *state;
    const struct pg_migration list[] = {shop[1], shop[0]};
    core_err err = CORE_ERR_INIT;
    int applied = -1;
    assert_int_equal(pg_migrate(f->pool, list, 2, &applied, NULL, &err), CORE_ERR_INVALID);
    assert_int_equal(applied, 0);
    assert_non_null(strstr(err.msg, "001_create_items.sql"));
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM pg_tables WHERE tablename = $1",
                                "schema_migrations"),
                     0);
}

/* The recorded origins of schema_migrations, in order, as "name=origin,..." (NULL as "-"). */
static void recorded(pg_pool *pool, char *out, size_t size)
{
    pg_conn *c = NULL;
    PGresult *r = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(pg_acquire(pool, &c, &err), CORE_OK);
    assert_int_equal(pg_exec(c,
                             "SELECT string_agg(name || '=' || coalesce(origin, '-'), ',' "
                             "ORDER BY name) FROM public.schema_migrations",
                             0, NULL, &r, &err),
                     CORE_OK);
    core_strlcpy(out, pg_get(r, 0, 0), size);
    PQclear(r);
    pg_release(pool, c);
}

static void a_database_of_another_program_is_refused(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    int applied = -1;
    bool fresh = true;
    char rows[512];
    assert_int_equal(pg_migrate_as(f->pool, "chapter 05", shop, 4, &applied, &fresh, &err),
                     CORE_OK);
    assert_int_equal(applied, 4);
    recorded(f->pool, rows, sizeof rows);
    assert_string_equal(rows, "001_create_items.sql=chapter 05,002_add_price.sql=chapter 05,"
                              "003_seed_item.sql=chapter 05,010_orders.sql=chapter 05");

    /* an older program: it does not know 010 */
    char want[256];
    snprintf(want, sizeof want,
             "database \"%s\" was migrated by chapter 05: chapter 03 does not know its "
             "migration 010_orders.sql",
             f->scratch.db.name);
    assert_int_equal(pg_migrate_as(f->pool, "chapter 03", shop, 3, &applied, &fresh, &err),
                     CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, want);
    assert_int_equal(applied, 0);
    assert_false(fresh);

    /* another program that knows every file still does not take the database over */
    const struct pg_migration more[] = {
        shop[0], shop[1], shop[2], shop[3], {"011_more.sql", "CREATE TABLE shop.more (id int);"}};
    err = (core_err)CORE_ERR_INIT;
    snprintf(want, sizeof want,
             "database \"%s\" was migrated by chapter 05: chapter 06 does not take over "
             "another program's database",
             f->scratch.db.name);
    assert_int_equal(pg_migrate_as(f->pool, "chapter 06", more, 5, &applied, NULL, &err),
                     CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, want);
    assert_int_equal(applied, 0);
    assert_int_equal(
        query_long(f->pool, "SELECT count(*) FROM pg_tables WHERE tablename = $1", "more"), 0);

    /* without an origin only the unknown-migration rule holds */
    err = (core_err)CORE_ERR_INIT;
    assert_int_equal(pg_migrate(f->pool, shop, 3, NULL, NULL, &err), CORE_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "this program does not know its migration 010_orders.sql"));
    assert_int_equal(pg_migrate(f->pool, more, 5, &applied, NULL, &err), CORE_OK);
    assert_int_equal(applied, 1);

    /* the owner itself goes on as before */
    assert_int_equal(pg_migrate_as(f->pool, "chapter 05", more, 5, &applied, &fresh, &err),
                     CORE_OK);
    assert_int_equal(applied, 0);
    recorded(f->pool, rows, sizeof rows);
    assert_string_equal(rows, "001_create_items.sql=chapter 05,002_add_price.sql=chapter 05,"
                              "003_seed_item.sql=chapter 05,010_orders.sql=chapter 05,"
                              "011_more.sql=-");
}

static void a_table_without_origins_gains_the_column(void **state)
{
    struct fx *f = *state;
    /* schema_migrations as it was made before origins were recorded */
    must_exec(f->pool, "CREATE TABLE public.schema_migrations (name text PRIMARY KEY,"
                       " applied_at timestamptz NOT NULL DEFAULT now());"
                       "INSERT INTO public.schema_migrations (name) VALUES "
                       "('001_create_items.sql');"
                       "CREATE SCHEMA shop; CREATE TABLE shop.items (id int PRIMARY KEY,"
                       " name text NOT NULL);");
    core_err err = CORE_ERR_INIT;
    int applied = -1;
    bool fresh = true;
    char rows[512];
    assert_int_equal(pg_migrate_as(f->pool, "chapter 03", shop, 3, &applied, &fresh, &err),
                     CORE_OK);
    assert_int_equal(applied, 2);
    assert_false(fresh);
    recorded(f->pool, rows, sizeof rows);
    assert_string_equal(
        rows, "001_create_items.sql=-,002_add_price.sql=chapter 03,003_seed_item.sql=chapter 03");
}

#define CONCURRENT_FILES 5

struct migrator {
    const char *conninfo;
    const struct pg_migration *list;
    pthread_barrier_t *start;
    core_status st;
    int applied;
    bool fresh;
    core_err err;
};

static void *migrator_main(void *arg)
{
    struct migrator *m = arg;
    pg_pool *pool = NULL; /* a pool of its own, like a second process */
    struct pg_pool_opts opts = {.conninfo = m->conninfo, .size = 2};
    m->st = pg_pool_new(&pool, &opts, &m->err);
    pthread_barrier_wait(m->start);
    if (m->st == CORE_OK)
        m->st = pg_migrate(pool, m->list, CONCURRENT_FILES, &m->applied, &m->fresh, &m->err);
    pg_pool_free(pool);
    return NULL;
}

static void concurrent_migrations_apply_each_file_once(void **state)
{
    struct fx *f = *state;
    /* each file would fail if applied twice (CREATE TABLE without IF NOT EXISTS) and logs its
     * run in a table; the sleeps widen the window for a race */
    const struct pg_migration list[CONCURRENT_FILES] = {
        {"1_runs.sql", "CREATE TABLE runs (file text); INSERT INTO runs VALUES ('1');"},
        {"2_a.sql", "CREATE TABLE a (id int); SELECT pg_sleep(0.05); INSERT INTO runs VALUES "
                    "('2');"},
        {"3_b.sql", "CREATE TABLE b (id int); SELECT pg_sleep(0.05); INSERT INTO runs VALUES "
                    "('3');"},
        {"4_c.sql", "CREATE TABLE c (id int); INSERT INTO runs VALUES ('4');"},
        {"5_d.sql", "CREATE TABLE d (id int); INSERT INTO runs VALUES ('5');"},
    };
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
    struct migrator m[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        m[i] = (struct migrator){.conninfo = f->scratch.db.conninfo, .list = list, .start = &start};
        assert_int_equal(pthread_create(&th[i], NULL, migrator_main, &m[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < 2; i++) {
        if (m[i].st != CORE_OK)
            fprintf(stderr, "migrator %d: %s\n", i, m[i].err.msg);
        assert_int_equal(m[i].st, CORE_OK);
    }
    assert_int_equal(m[0].applied + m[1].applied, CONCURRENT_FILES);
    assert_true(m[0].fresh != m[1].fresh); /* exactly one found an empty database */
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM runs", NULL), CONCURRENT_FILES);
    assert_int_equal(query_long(f->pool, "SELECT count(DISTINCT file) FROM runs", NULL),
                     CONCURRENT_FILES);
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM public.schema_migrations", NULL),
                     CONCURRENT_FILES);
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(params_are_stored_verbatim),
        FX_TEST(errors_map_to_statuses),
        FX_TEST(lost_connections_are_unavailable_then_replaced),
        FX_TEST(wrong_password_is_unavailable),
        FX_TEST(with_tx_commits_or_rolls_back),
        FX_TEST(release_cleans_up_transactions),
        FX_TEST(a_statement_is_prepared_once_per_connection),
        FX_TEST(a_reconnected_connection_prepares_again),
        FX_TEST(begin_goes_with_the_first_statement),
        FX_TEST(commit_after_commits_or_rolls_back),
        FX_TEST(deferred_savepoints_work_like_sent_ones),
        FX_TEST(statements_dropped_behind_the_cache_are_prepared_again),
        FX_TEST(the_cache_is_bounded),
        FX_TEST(prepare_allocation_failures_leak_nothing),
        FX_TEST(pool_serves_many_threads),
        FX_TEST(acquire_times_out_when_all_are_held),
        FX_TEST(release_wakes_a_waiter),
        FX_TEST(allocation_failures_with_a_server),
        FX_TEST(migrations_apply_once_in_order),
        FX_TEST(failing_migration_rolls_back_and_stops),
        FX_TEST(bad_migration_list_touches_nothing),
        FX_TEST(a_database_of_another_program_is_refused),
        FX_TEST(a_table_without_origins_gains_the_column),
        FX_TEST(concurrent_migrations_apply_each_file_once),
    };
    return cmocka_run_group_tests_name("pg integration", tests, NULL, NULL);
}
