/* pg.c -- connection pool, queries, transactions and migrations on libpq. See pg.h.
 *
 * The pool: a mutex guards a stack of idle connections and two counters; a condition variable
 * (on CLOCK_MONOTONIC, so a wall-clock jump does not stretch a wait) wakes a waiting acquirer
 * when a connection comes back or a slot frees up. Connecting and resetting happen outside the
 * mutex: a slot is reserved (open++) first, so the pool never exceeds its size.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg.h"
#include "log.h"

#define PG_UNAVAILABLE "the database is unavailable, try again"

/* One prepared statement of a connection: the SQL text (copied) and the number in its name
 * ("s<id>"). */
struct pg_stmt {
    uint64_t hash; /* of sql, compared first */
    char *sql;     /* core_strdup'd */
    unsigned id;
};

struct pg_conn {
    PGconn *raw;
    pg_pool *pool;
    struct pg_conn *next;  /* in the idle stack */
    bool discard;          /* close instead of reusing at release */
    struct pg_stmt *stmts; /* PG_STMT_CACHE_MAX entries, core_calloc'd at the first prepare */
    int n_stmts;           /* entries in use */
    unsigned next_id;      /* names are never reused on a connection */
    /* statements without parameters or results (BEGIN, SAVEPOINT, ...) that go to the server
     * with the next statement, in one round trip (pg_defer); constant texts, not copied */
    const char *pending[PG_PENDING_MAX];
    int n_pending;
};

struct pg_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char **keys; /* connection parameters for PQconnectdbParams, NULL-terminated */
    char **vals;
    int size;
    int timeout_ms;
    int open;             /* connections that exist or are being made (idle + borrowed) */
    int n_idle;           /* length of the idle stack */
    struct pg_conn *idle; /* stack of idle connections */
};

static core_status flush_pending(pg_conn *conn, core_err *err);
static const char SQL_BEGIN[] = "BEGIN";

/* ---- messages ------------------------------------------------------------------------------ */

/* Copies a libpq text into dst, turning its newlines and tabs into single spaces and dropping the
 * trailing newline, so it fits on one log line. */
static void copy_text(char *dst, size_t size, const char *src)
{
    size_t j = 0;
    bool space = false;
    if (!src)
        src = "";
    for (size_t i = 0; src[i] && j + 1 < size; i++) {
        char c = src[i];
        if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
            space = j > 0;
            continue;
        }
        if (space) {
            if (j + 2 >= size)
                break;
            dst[j++] = ' ';
            space = false;
        }
        dst[j++] = c;
    }
    dst[j] = '\0';
}

static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    char text[512];
    copy_text(text, sizeof text, message);
    log_debug("pg", "server notice: %s", text);
}

/* ---- connecting ---------------------------------------------------------------------------- */

static void free_params(char **arr)
{
    if (!arr)
        return;
    for (size_t i = 0; arr[i]; i++)
        core_free(arr[i]);
    core_free(arr);
}

/* Parses conninfo into the pool's keyword/value arrays, adding connect_timeout if missing. */
static core_status parse_conninfo(pg_pool *pool, const char *conninfo, core_err *err)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        char text[CORE_ERR_MSG_MAX];
        if (!perr)
            return core_err_set(err, CORE_ERR_NOMEM, "out of memory parsing the connection string");
        copy_text(text, sizeof text, perr);
        PQfreemem(perr);
        return core_err_set(err, CORE_ERR_INVALID, "bad PostgreSQL connection string: %s", text);
    }
    size_t n = 0;
    bool has_timeout = false;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        n++;
        if (strcmp(o->keyword, "connect_timeout") == 0)
            has_timeout = true;
    }
    core_status st = CORE_OK;
    pool->keys = core_calloc(n + 2, sizeof *pool->keys);
    pool->vals = core_calloc(n + 2, sizeof *pool->vals);
    if (!pool->keys || !pool->vals)
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (PQconninfoOption *o = opts; st == CORE_OK && o->keyword; o++) {
        if (!o->val)
            continue;
        pool->keys[k] = core_strdup(o->keyword);
        pool->vals[k] = core_strdup(o->val);
        k++;
        if (!pool->keys[k - 1] || !pool->vals[k - 1])
            st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    }
    if (st == CORE_OK && !has_timeout) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", PG_DEFAULT_CONNECT_TIMEOUT_S);
        pool->keys[k] = core_strdup("connect_timeout");
        pool->vals[k] = core_strdup(secs);
        if (!pool->keys[k] || !pool->vals[k])
            st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    }
    PQconninfoFree(opts);
    return st;
}

/* A backend notices that its client is gone only when it next talks to it, so a statement waiting
 * for a lock would still run (and commit) after the program died. With this setting the server
 * checks every second and ends such a session (PostgreSQL 14 on; older ones go without). */
static void session_setup(PGconn *raw)
{
    PGresult *set = PQexec(raw, "SET client_connection_check_interval = 1000");
    if (PQresultStatus(set) != PGRES_COMMAND_OK)
        log_debug("pg", "client_connection_check_interval not set: %s", PQresultErrorMessage(set));
    PQclear(set);
}

/* Opens one connection into a new pg_conn. */
static core_status conn_open(pg_pool *pool, pg_conn **out, core_err *err)
{
    pg_conn *c = core_calloc(1, sizeof *c);
    if (!c)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    c->pool = pool;
    c->raw = PQconnectdbParams((const char *const *)pool->keys, (const char *const *)pool->vals, 0);
    if (!c->raw) {
        core_free(c);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory opening a PostgreSQL connection");
    }
    if (PQstatus(c->raw) != CONNECTION_OK) {
        char text[CORE_ERR_MSG_MAX];
        const char *host = PQhost(c->raw);
        const char *port = PQport(c->raw);
        copy_text(text, sizeof text, PQerrorMessage(c->raw));
        core_err_set(err, CORE_ERR_UNAVAILABLE, "cannot connect to PostgreSQL at %s:%s: %s",
                     host && *host ? host : "(default)", port && *port ? port : "(default)", text);
        core_err_public(err, PG_UNAVAILABLE);
        PQfinish(c->raw);
        core_free(c);
        return CORE_ERR_UNAVAILABLE;
    }
    PQsetNoticeProcessor(c->raw, notice_to_log, NULL);
    session_setup(c->raw);
    *out = c;
    return CORE_OK;
}

/* Forgets every prepared statement of c (the server side is gone: a new session, or c closes). */
static void stmts_clear(pg_conn *c)
{
    for (int i = 0; i < c->n_stmts; i++)
        core_free(c->stmts[i].sql);
    c->n_stmts = 0;
}

static void conn_close(pg_conn *c)
{
    if (c) {
        PQfinish(c->raw);
        stmts_clear(c);
        core_free(c->stmts);
        core_free(c);
    }
}

/* ---- the pool ------------------------------------------------------------------------------ */

static void pool_destroy(pg_pool *pool, bool sync_made)
{
    while (pool->idle) {
        pg_conn *c = pool->idle;
        pool->idle = c->next;
        conn_close(c);
    }
    if (sync_made) {
        pthread_cond_destroy(&pool->cv);
        pthread_mutex_destroy(&pool->mu);
    }
    free_params(pool->keys);
    free_params(pool->vals);
    core_free(pool);
}

static core_status make_sync(pg_pool *pool, core_err *err)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return core_err_set(err, CORE_ERR_NOMEM, "cannot create a condition variable");
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&pool->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return core_err_set(err, CORE_ERR_NOMEM, "cannot create a condition variable: %s",
                            strerror(rc));
    rc = pthread_mutex_init(&pool->mu, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&pool->cv);
        return core_err_set(err, CORE_ERR_NOMEM, "cannot create a mutex: %s", strerror(rc));
    }
    return CORE_OK;
}

core_status pg_pool_new(pg_pool **out, const struct pg_pool_opts *opts, core_err *err)
{
    assert(out);
    *out = NULL;
    if (!opts || !opts->conninfo)
        return core_err_set(err, CORE_ERR_INVALID, "pg pool: no connection string");
    if (opts->size < 0 || opts->acquire_timeout_ms < 0)
        return core_err_set(err, CORE_ERR_INVALID,
                            "pg pool: size (%d) and acquire timeout (%d ms) cannot be negative",
                            opts->size, opts->acquire_timeout_ms);

    pg_pool *pool = core_calloc(1, sizeof *pool);
    if (!pool)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    pool->size = opts->size ? opts->size : PG_POOL_DEFAULT_SIZE;
    pool->timeout_ms =
        opts->acquire_timeout_ms ? opts->acquire_timeout_ms : PG_POOL_DEFAULT_ACQUIRE_TIMEOUT_MS;

    bool sync_made = false;
    core_status st = parse_conninfo(pool, opts->conninfo, err);
    if (st == CORE_OK) {
        st = make_sync(pool, err);
        sync_made = st == CORE_OK;
    }
    pg_conn *first = NULL;
    if (st == CORE_OK)
        st = conn_open(pool, &first, err);
    if (st != CORE_OK) {
        pool_destroy(pool, sync_made);
        return st;
    }
    pool->idle = first;
    pool->n_idle = 1;
    pool->open = 1;
    *out = pool;
    return CORE_OK;
}

void pg_pool_free(pg_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->mu);
    /* a connection still borrowed would be used after free: a programmer bug */
    assert(pool->open == pool->n_idle);
    pthread_mutex_unlock(&pool->mu);
    pool_destroy(pool, true);
}

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Gives up a reserved slot (after a failed connect or a closed connection). */
static void slot_free(pg_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    pool->open--;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
}

/* Notices a connection the server closed while it sat idle (restart, pg_terminate_backend).
 * PQconsumeInput does not block (libpq's socket is non-blocking). Two reads: the first may only
 * get the server's farewell message, the second then sees the end of the stream. */
static bool conn_alive(pg_conn *c)
{
    for (int i = 0; i < 2; i++)
        if (PQstatus(c->raw) != CONNECTION_OK || !PQconsumeInput(c->raw))
            return false;
    return PQstatus(c->raw) == CONNECTION_OK;
}

core_status pg_acquire(pg_pool *pool, pg_conn **out, core_err *err)
{
    assert(pool && out);
    *out = NULL;
    struct timespec deadline;
    deadline_after(&deadline, pool->timeout_ms);

    pthread_mutex_lock(&pool->mu);
    while (!pool->idle && pool->open >= pool->size) {
        int rc = pthread_cond_timedwait(&pool->cv, &pool->mu, &deadline);
        if (rc == ETIMEDOUT && !pool->idle && pool->open >= pool->size) {
            pthread_mutex_unlock(&pool->mu);
            core_err_set(err, CORE_ERR_UNAVAILABLE, "no database connection free within %d ms",
                         pool->timeout_ms);
            core_err_public(err, "the database is busy, try again");
            return CORE_ERR_UNAVAILABLE;
        }
    }
    pg_conn *c = pool->idle;
    if (c) {
        pool->idle = c->next;
        pool->n_idle--;
        c->next = NULL;
    } else {
        pool->open++; /* reserve the slot, connect outside the lock */
    }
    pthread_mutex_unlock(&pool->mu);

    if (!c) {
        core_status st = conn_open(pool, &c, err);
        if (st != CORE_OK) {
            slot_free(pool);
            return st;
        }
    } else if (!conn_alive(c)) {
        stmts_clear(c); /* a new session: the server forgot them */
        PQreset(c->raw);
        if (PQstatus(c->raw) != CONNECTION_OK) {
            char text[CORE_ERR_MSG_MAX];
            copy_text(text, sizeof text, PQerrorMessage(c->raw));
            conn_close(c);
            slot_free(pool);
            core_err_set(err, CORE_ERR_UNAVAILABLE, "cannot reconnect to PostgreSQL: %s", text);
            core_err_public(err, PG_UNAVAILABLE);
            return CORE_ERR_UNAVAILABLE;
        }
        session_setup(c->raw);
        log_info("pg", "reconnected a broken database connection");
    }
    *out = c;
    return CORE_OK;
}

/* Brings a connection back to "idle, no transaction"; false if it should be closed instead. */
static bool conn_clean(pg_conn *c)
{
    c->n_pending = 0; /* a transaction that ran nothing, or a savepoint never sent */
    if (c->discard || !conn_alive(c))
        return false;
    PGnotify *n;
    while ((n = PQnotifies(c->raw)) != NULL)
        PQfreemem(n);
    switch (PQtransactionStatus(c->raw)) {
    case PQTRANS_IDLE:
        return true;
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR: {
        core_err e = CORE_ERR_INIT;
        if (pg_rollback(c, &e) != CORE_OK) {
            log_warn("pg", "rollback at release failed, closing the connection: %s", e.msg);
            return false;
        }
        log_debug("pg", "rolled back a transaction left open at release");
        return PQtransactionStatus(c->raw) == PQTRANS_IDLE;
    }
    default: /* a command in progress (async use of the raw connection) or unknown */
        return false;
    }
}

void pg_release(pg_pool *pool, pg_conn *conn)
{
    if (!conn)
        return;
    assert(pool && conn->pool == pool);
    if (!conn_clean(conn)) {
        conn_close(conn);
        slot_free(pool);
        return;
    }
    pthread_mutex_lock(&pool->mu);
    conn->next = pool->idle;
    pool->idle = conn;
    pool->n_idle++;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
}

PGconn *pg_conn_raw(pg_conn *conn)
{
    assert(conn);
    core_err err = CORE_ERR_INIT;
    if (flush_pending(conn, &err) != CORE_OK) /* the raw use that follows meets the failure */
        log_debug("pg", "deferred statements before a raw use failed: %s", err.msg);
    return conn->raw;
}

/* ---- statements ---------------------------------------------------------------------------- */

core_status pg_status_from_sqlstate(const char *s)
{
    if (!s || strlen(s) != 5)
        return CORE_ERR_IO;
    if (strcmp(s, "23505") == 0 || strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
        return CORE_ERR_CONFLICT;
    if (strncmp(s, "22", 2) == 0 || strncmp(s, "23", 2) == 0)
        return CORE_ERR_INVALID;
    if (strncmp(s, "08", 2) == 0 || strcmp(s, "57P01") == 0 || strcmp(s, "57P02") == 0 ||
        strcmp(s, "57P03") == 0)
        return CORE_ERR_UNAVAILABLE;
    return CORE_ERR_IO;
}

/* The public message of a failed statement (pg.h): the server's text names tables, constraints
 * and values, which clients do not get. */
static const char *pg_public_text(core_status st, const char *sqlstate)
{
    switch (st) {
    case CORE_ERR_CONFLICT:
        return sqlstate && strcmp(sqlstate, "23505") == 0
                   ? "the record already exists"
                   : "a concurrent change got in the way, try again";
    case CORE_ERR_INVALID:
        return sqlstate && strncmp(sqlstate, "22", 2) == 0
                   ? "the database cannot store a value of this request"
                   : "the request breaks a rule of the database";
    case CORE_ERR_UNAVAILABLE:
        return PG_UNAVAILABLE;
    default:
        return "the database failed to run the request";
    }
}

/* Turns a libpq result (or its absence) into a status and, on failure, fills err. Does not free
 * res. */
static core_status check_result(pg_conn *c, const PGresult *res, core_err *err)
{
    ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK || rs == PGRES_EMPTY_QUERY)
        return CORE_OK;
    if (rs == PGRES_COPY_IN || rs == PGRES_COPY_OUT || rs == PGRES_COPY_BOTH) {
        c->discard = true; /* the connection is stuck in COPY mode */
        return core_err_set(err, CORE_ERR_IO, "COPY is not supported here");
    }
    char text[CORE_ERR_MSG_MAX];
    const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!primary && res)
        primary = PQresultErrorMessage(res);
    if (!primary || !*primary)
        primary = PQerrorMessage(c->raw);
    copy_text(text, sizeof text, primary);

    if (PQstatus(c->raw) != CONNECTION_OK) {
        core_err_set(err, CORE_ERR_UNAVAILABLE, "lost the database connection: %s", text);
        core_err_public(err, PG_UNAVAILABLE);
        return CORE_ERR_UNAVAILABLE;
    }
    core_status st = pg_status_from_sqlstate(sqlstate);
    if (sqlstate)
        core_err_set(err, st, "%s (SQLSTATE %s)", text, sqlstate);
    else
        core_err_set(err, st, "%s", text);
    core_err_public(err, "%s", pg_public_text(st, sqlstate)); /* err may be NULL: return st */
    return st;
}

/* FNV-1a over the SQL text. */
static uint64_t sql_hash(const char *sql)
{
    uint64_t h = 14695981039346656037u;
    for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h;
}

/* The cache entry of sql on c, or NULL. */
static struct pg_stmt *stmt_find(pg_conn *c, const char *sql, uint64_t hash)
{
    for (int i = 0; i < c->n_stmts; i++)
        if (c->stmts[i].hash == hash && strcmp(c->stmts[i].sql, sql) == 0)
            return &c->stmts[i];
    return NULL;
}

/* Drops entry e from c's cache (the server no longer knows it, or never learnt it). */
static void stmt_forget(pg_conn *c, struct pg_stmt *e)
{
    core_free(e->sql);
    *e = c->stmts[--c->n_stmts];
}

static void stmt_name(const struct pg_stmt *e, char *buf, size_t size)
{
    snprintf(buf, size, "s%u", e->id);
}

/* Prepares sql on c and records it. CORE_OK with *out NULL when the cache is full (the caller
 * runs the statement unprepared). */
static core_status stmt_prepare(pg_conn *c, const char *sql, uint64_t hash, int nparams,
                                struct pg_stmt **out, core_err *err)
{
    *out = NULL;
    if (c->n_stmts >= PG_STMT_CACHE_MAX)
        return CORE_OK;
    if (!c->stmts) {
        c->stmts = core_calloc(PG_STMT_CACHE_MAX, sizeof *c->stmts);
        if (!c->stmts)
            return core_err_set(err, CORE_ERR_NOMEM, "out of memory preparing a statement");
    }
    struct pg_stmt *e = &c->stmts[c->n_stmts];
    e->sql = core_strdup(sql);
    if (!e->sql)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory preparing a statement");
    e->hash = hash;
    e->id = ++c->next_id;
    c->n_stmts++;
    char name[16];
    stmt_name(e, name, sizeof name);
    PGresult *r = PQprepare(c->raw, name, sql, nparams, NULL);
    core_status st = check_result(c, r, err);
    PQclear(r);
    if (st != CORE_OK) {
        stmt_forget(c, e);
        return st;
    }
    *out = e;
    return CORE_OK;
}

struct pipe_stmt {
    const char *sql;
    int nparams;
    const char *const *params;
    struct pg_stmt *e; /* the prepared statement, or NULL: sent unprepared */
};

static core_status pipeline(pg_conn *c, struct pipe_stmt *stmts, int n, PGresult **res,
                            core_err *err);

/* Copies the deferred statements in front of stmts (room for PG_PENDING_MAX); returns how many,
 * and forgets them (they are sent now). */
static int take_pending(pg_conn *conn, struct pipe_stmt *stmts)
{
    int n = conn->n_pending;
    for (int i = 0; i < n; i++)
        stmts[i] = (struct pipe_stmt){conn->pending[i], 0, NULL, NULL};
    conn->n_pending = 0;
    return n;
}

/* Sends the deferred statements on their own (before a use that cannot join a pipeline). */
static core_status flush_pending(pg_conn *conn, core_err *err)
{
    if (conn->n_pending == 0)
        return CORE_OK;
    struct pipe_stmt stmts[PG_PENDING_MAX];
    int n = take_pending(conn, stmts);
    return pipeline(conn, stmts, n, NULL, err);
}

/* What a failed execution of a prepared statement says about the statement itself: the server no
 * longer has it (26000: DEALLOCATE, DISCARD ALL), or a table changed shape under it (0A000:
 * "cached plan must not change result type"). Either way it must be prepared anew. */
enum stmt_fault { STMT_OK, STMT_GONE, STMT_CHANGED };

static enum stmt_fault stmt_fault(const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && strcmp(state, "26000") == 0)
        return STMT_GONE;
    if (state && strcmp(state, "0A000") == 0)
        return STMT_CHANGED;
    return STMT_OK;
}

core_status pg_exec(pg_conn *conn, const char *sql, int nparams, const char *const *params,
                    PGresult **res, core_err *err)
{
    assert(conn && sql && nparams >= 0 && (nparams == 0 || params));
    if (res)
        *res = NULL;
    if (conn->n_pending > 0) {
        struct pipe_stmt stmts[PG_PENDING_MAX + 1];
        int n = take_pending(conn, stmts);
        stmts[n++] = (struct pipe_stmt){sql, nparams, params, NULL};
        return pipeline(conn, stmts, n, res, err);
    }
    uint64_t hash = sql_hash(sql);
    struct pg_stmt *e = stmt_find(conn, sql, hash);
    core_status st = CORE_OK;
    bool fresh = false; /* prepared by this call */
    if (!e) {
        st = stmt_prepare(conn, sql, hash, nparams, &e, err);
        if (st != CORE_OK)
            return st;
        fresh = e != NULL;
    }
    PGresult *r;
    for (;;) {
        if (!e) {
            r = PQexecParams(conn->raw, sql, nparams, NULL, params, NULL, NULL, 0);
            break;
        }
        char name[16];
        stmt_name(e, name, sizeof name);
        r = PQexecPrepared(conn->raw, name, nparams, params, NULL, NULL, 0);
        enum stmt_fault fault = stmt_fault(r);
        bool gone = fault == STMT_GONE;
        bool stale = fault == STMT_CHANGED && !fresh;
        if (!gone && !stale)
            break;
        /* the server forgot it behind our back (DEALLOCATE, DISCARD ALL), or a table changed
         * shape under it: prepare it again, once, unless a transaction is open (the failure has
         * aborted it) */
        if (stale && PQtransactionStatus(conn->raw) == PQTRANS_IDLE) {
            char sql_dealloc[32];
            snprintf(sql_dealloc, sizeof sql_dealloc, "DEALLOCATE %s", name);
            PQclear(PQexec(conn->raw, sql_dealloc));
        }
        stmt_forget(conn, e);
        e = NULL;
        if (fresh || PQtransactionStatus(conn->raw) != PQTRANS_IDLE)
            break;
        PQclear(r);
        r = NULL;
        fresh = true;
        st = stmt_prepare(conn, sql, hash, nparams, &e, err);
        if (st != CORE_OK)
            return st;
    }
    st = check_result(conn, r, err);
    if (st == CORE_OK && res)
        *res = r;
    else
        PQclear(r);
    return st;
}

core_status pg_exec_script(pg_conn *conn, const char *sql_script, core_err *err)
{
    assert(conn && sql_script);
    core_status st = flush_pending(conn, err); /* what is held back goes first */
    if (st != CORE_OK)
        return st;
    PGresult *r = PQexec(conn->raw, sql_script);
    st = check_result(conn, r, err);
    PQclear(r);
    return st;
}

/* ---- pipelines: several statements, one round trip ---------------------------------------------
 * A pending BEGIN, the caller's statement and a COMMIT go to the server together in libpq's
 * pipeline mode (each statement in the extended protocol, one Sync at the end), and their results
 * are read in order. A statement that fails makes the server skip the rest of the pipeline
 * (PGRES_PIPELINE_ABORTED); the first failure is what the call reports. */

/* Reads one statement's result in pipeline mode (and the NULL that ends it). */
static PGresult *pipe_result(pg_conn *c)
{
    PGresult *r = PQgetResult(c->raw);
    if (r && PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
        PGresult *end = PQgetResult(c->raw); /* NULL after each statement's result */
        if (end) {
            PQclear(end);
            c->discard = true; /* out of step with the server: never reuse this connection */
        }
    }
    return r;
}

/* Runs stmts[0..n) in one round trip; *res (may be NULL) = the result of the last statement. */
static core_status pipeline(pg_conn *c, struct pipe_stmt *stmts, int n, PGresult **res,
                            core_err *err)
{
    /* outside a transaction (the pipeline starts with its BEGIN), a statement that does not
     * prepare is sent unprepared: it then fails inside the transaction, as the caller expects */
    bool outside = PQtransactionStatus(c->raw) == PQTRANS_IDLE;
    for (int i = 0; i < n; i++) {
        uint64_t hash = sql_hash(stmts[i].sql);
        stmts[i].e = stmt_find(c, stmts[i].sql, hash);
        if (!stmts[i].e && i > 0 && !outside) {
            /* a prepare inside a transaction belongs after the statements before it (a failed
             * prepare aborts the transaction, which a pending SAVEPOINT must see): send those
             * first, then go on with the rest (one more round trip, at a statement's first use) */
            core_status st = pipeline(c, stmts, i, NULL, err);
            if (st != CORE_OK)
                return st;
            return pipeline(c, stmts + i, n - i, res, err);
        }
        if (!stmts[i].e) {
            core_status st = stmt_prepare(c, stmts[i].sql, hash, stmts[i].nparams, &stmts[i].e,
                                          outside ? NULL : err);
            if (st == CORE_ERR_UNAVAILABLE || (st != CORE_OK && !outside))
                return outside ? check_result(c, NULL, err) : st;
        }
    }
    if (!PQenterPipelineMode(c->raw))
        return check_result(c, NULL, err);
    bool sent = true;
    for (int i = 0; i < n && sent; i++) {
        if (stmts[i].e) {
            char name[16];
            stmt_name(stmts[i].e, name, sizeof name);
            sent = PQsendQueryPrepared(c->raw, name, stmts[i].nparams, stmts[i].params, NULL, NULL,
                                       0) == 1;
        } else {
            sent = PQsendQueryParams(c->raw, stmts[i].sql, stmts[i].nparams, NULL, stmts[i].params,
                                     NULL, NULL, 0) == 1;
        }
    }
    if (!sent || PQpipelineSync(c->raw) != 1) {
        c->discard = true;
        core_status st = check_result(c, NULL, err);
        PQexitPipelineMode(c->raw);
        return st;
    }
    core_status st = CORE_OK;
    for (int i = 0; i < n; i++) {
        PGresult *r = pipe_result(c);
        ExecStatusType rs = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (rs == PGRES_PIPELINE_ABORTED) {
            PQclear(r); /* skipped after an earlier failure, which st already holds */
            if (st == CORE_OK)
                st = core_err_set(err, CORE_ERR_IO, "a statement was skipped by the server");
            continue;
        }
        core_status one = check_result(c, r, err == NULL || st == CORE_OK ? err : NULL);
        if (one != CORE_OK && st == CORE_OK) {
            st = one;
            if (stmts[i].e && stmt_fault(r) != STMT_OK)
                stmt_forget(c, stmts[i].e); /* prepared anew by the next call */
        }
        if (i == n - 1 && one == CORE_OK && res)
            *res = r;
        else
            PQclear(r);
        if (!r)
            break; /* the connection is gone */
    }
    PGresult *sync = PQgetResult(c->raw);
    if (!sync || PQresultStatus(sync) != PGRES_PIPELINE_SYNC)
        c->discard = true;
    PQclear(sync);
    if (!PQexitPipelineMode(c->raw))
        c->discard = true;
    if (c->discard && st == CORE_OK) {
        if (res) {
            PQclear(*res);
            *res = NULL;
        }
        st = check_result(c, NULL, err);
    }
    return st;
}

core_status pg_defer(pg_conn *conn, const char *sql, core_err *err)
{
    assert(conn && sql);
    core_status st = conn->n_pending == PG_PENDING_MAX ? flush_pending(conn, err) : CORE_OK;
    if (st == CORE_OK)
        conn->pending[conn->n_pending++] = sql;
    return st;
}

core_status pg_begin(pg_conn *conn, core_err *err)
{
    assert(conn);
    return pg_defer(conn, SQL_BEGIN, err); /* sent with the first statement (pipeline) */
}

/* true when the transaction exists only on this side: its BEGIN was never sent. */
static bool begin_unsent(const pg_conn *conn)
{
    return conn->n_pending > 0 && conn->pending[0] == SQL_BEGIN;
}

/* The COMMIT's answer: a failed transaction "commits" with the tag ROLLBACK. */
static core_status commit_tag(PGresult *r, core_err *err)
{
    if (strcmp(PQcmdStatus(r), "ROLLBACK") == 0)
        return core_err_set(err, CORE_ERR_IO,
                            "transaction was rolled back: a statement in it had failed");
    return CORE_OK;
}

/* Deferred statements, then sql (if any), then COMMIT, in one round trip. */
static core_status commit_pipeline(pg_conn *conn, const char *sql, int nparams,
                                   const char *const *params, core_err *err)
{
    struct pipe_stmt stmts[PG_PENDING_MAX + 2];
    int n = take_pending(conn, stmts);
    if (sql)
        stmts[n++] = (struct pipe_stmt){sql, nparams, params, NULL};
    stmts[n++] = (struct pipe_stmt){"COMMIT", 0, NULL, NULL};
    PGresult *r = NULL;
    core_status st = pipeline(conn, stmts, n, &r, err);
    if (st == CORE_OK)
        st = commit_tag(r, err);
    PQclear(r);
    if (st != CORE_OK && PQtransactionStatus(conn->raw) != PQTRANS_IDLE) {
        core_err ignored = CORE_ERR_INIT;
        pg_rollback(conn, &ignored); /* a statement failed: the COMMIT was skipped */
    }
    return st;
}

core_status pg_commit(pg_conn *conn, core_err *err)
{
    if (begin_unsent(conn)) {
        conn->n_pending = 0; /* nothing ran: nothing to commit */
        return CORE_OK;
    }
    return commit_pipeline(conn, NULL, 0, NULL, err);
}

core_status pg_commit_after(pg_conn *conn, const char *sql, int nparams, const char *const *params,
                            core_err *err)
{
    assert(conn && sql && nparams >= 0 && (nparams == 0 || params));
    return commit_pipeline(conn, sql, nparams, params, err);
}

core_status pg_rollback(pg_conn *conn, core_err *err)
{
    bool sent = !begin_unsent(conn);
    conn->n_pending = 0; /* a deferred savepoint or release is moot now */
    if (!sent)
        return CORE_OK; /* nothing was sent */
    return pg_exec(conn, "ROLLBACK", 0, NULL, NULL, err);
}

core_status pg_run(pg_pool *pool, const char *sql, int nparams, const char *const *params,
                   PGresult **res, core_err *err)
{
    pg_conn *conn = NULL;
    core_status st = pg_acquire(pool, &conn, err);
    if (st)
        return st;
    st = pg_exec(conn, sql, nparams, params, res, err);
    pg_release(pool, conn);
    return st;
}

core_status pg_with_tx(pg_pool *pool, pg_tx_fn fn, void *ctx, core_err *err)
{
    assert(pool && fn);
    pg_conn *conn = NULL;
    core_status st = pg_acquire(pool, &conn, err);
    if (st != CORE_OK)
        return st;
    st = pg_begin(conn, err);
    if (st == CORE_OK) {
        st = fn(conn, ctx, err);
        if (st == CORE_OK) {
            st = pg_commit(conn, err);
        } else {
            core_err ignored = CORE_ERR_INIT; /* fn's err goes back unchanged */
            if (pg_rollback(conn, &ignored) != CORE_OK)
                log_warn("pg", "rollback failed: %s", ignored.msg);
        }
    }
    pg_release(pool, conn);
    return st;
}

const char *pg_get(const PGresult *res, int row, int col)
{
    if (!res || row < 0 || col < 0 || row >= PQntuples(res) || col >= PQnfields(res))
        return "";
    if (PQgetisnull(res, row, col))
        return "";
    const char *v = PQgetvalue(res, row, col);
    return v ? v : "";
}

/* ---- migrations ---------------------------------------------------------------------------- */

/* The numeric prefix of a migration name; false if there is none or it is too long. */
static bool name_number(const char *name, unsigned long long *out)
{
    unsigned long long v = 0;
    size_t i = 0;
    for (; name[i] >= '0' && name[i] <= '9'; i++) {
        if (i >= 18)
            return false;
        v = v * 10 + (unsigned long long)(name[i] - '0');
    }
    *out = v;
    return i > 0;
}

core_status pg_migrations_check(const struct pg_migration *migrations, size_t n, core_err *err)
{
    if (n > 0 && !migrations)
        return core_err_set(err, CORE_ERR_INVALID, "migrations: NULL list of %zu", n);
    unsigned long long prev = 0;
    for (size_t i = 0; i < n; i++) {
        const struct pg_migration *m = &migrations[i];
        unsigned long long num;
        if (!m->name || !m->sql)
            return core_err_set(err, CORE_ERR_INVALID, "migrations: entry %zu has no %s", i,
                                m->name ? "sql" : "name");
        if (!name_number(m->name, &num))
            return core_err_set(err, CORE_ERR_INVALID,
                                "migrations: \"%s\" does not start with a number of 1-18 digits "
                                "(e.g. 001_create_stores.sql)",
                                m->name);
        if (i > 0 && num <= prev)
            return core_err_set(err, CORE_ERR_INVALID,
                                "migrations: \"%s\" comes after \"%s\": names must be strictly "
                                "increasing by their numeric prefix",
                                m->name, migrations[i - 1].name);
        prev = num;
    }
    return CORE_OK;
}

/* Applies one migration in its own transaction unless it is already recorded. */
static core_status apply_one(pg_conn *c, const struct pg_migration *m, const char *origin,
                             int *applied, core_err *err)
{
    const char *params[2] = {m->name, origin};
    PGresult *r = NULL;
    core_status st = pg_begin(c, err);
    if (st == CORE_OK)
        st = pg_exec(c, "SELECT 1 FROM public.schema_migrations WHERE name = $1", 1, params, &r,
                     err);
    bool done = st == CORE_OK && PQntuples(r) > 0;
    PQclear(r);
    if (st == CORE_OK && done)
        return pg_rollback(c, err);
    if (st == CORE_OK) {
        st = pg_exec_script(c, m->sql, err);
        if (st != CORE_OK) {
            if (st != CORE_ERR_UNAVAILABLE)
                err->status = st = CORE_ERR_IO;
            core_err_wrap(err, "migration %s failed", m->name);
        }
    }
    if (st == CORE_OK)
        st = pg_exec(c, "INSERT INTO public.schema_migrations (name, origin) VALUES ($1, $2)", 2,
                     params, NULL, err);
    if (st == CORE_OK)
        st = pg_commit(c, err);
    if (st != CORE_OK) {
        core_err ignored = CORE_ERR_INIT;
        pg_rollback(c, &ignored);
        return st;
    }
    log_info("pg", "applied migration %s", m->name);
    (*applied)++;
    return CORE_OK;
}

/* True if the list holds a migration named name. */
static bool list_has(const struct pg_migration *migrations, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(migrations[i].name, name) == 0)
            return true;
    return false;
}

/* CORE_ERR_CONFLICT when the database was migrated by another program (see pg_migrate_as). */
static core_status check_owner(pg_conn *c, const char *origin,
                               const struct pg_migration *migrations, size_t n, core_err *err)
{
    PGresult *r = NULL;
    core_status st = pg_exec(c,
                             "SELECT name, origin FROM public.schema_migrations "
                             "ORDER BY applied_at, name",
                             0, NULL, &r, err);
    const char *db = PQdb(c->raw);
    const char *self = origin ? origin : "this program";
    for (int i = 0; st == CORE_OK && i < PQntuples(r); i++) {
        const char *name = pg_get(r, i, 0);
        const char *by = PQgetisnull(r, i, 1) ? "another program" : pg_get(r, i, 1);
        if (!list_has(migrations, n, name))
            st = core_err_set(err, CORE_ERR_CONFLICT,
                              "database \"%s\" was migrated by %s: %s does not know its "
                              "migration %s",
                              db, by, self, name);
    }
    for (int i = 0; st == CORE_OK && origin && i < PQntuples(r); i++)
        if (!PQgetisnull(r, i, 1) && strcmp(pg_get(r, i, 1), origin) != 0)
            st = core_err_set(err, CORE_ERR_CONFLICT,
                              "database \"%s\" was migrated by %s: %s does not take over "
                              "another program's database",
                              db, pg_get(r, i, 1), origin);
    PQclear(r);
    return st;
}

core_status pg_migrate(pg_pool *pool, const struct pg_migration *migrations, size_t n,
                       int *applied_out, bool *fresh_out, core_err *err)
{
    return pg_migrate_as(pool, NULL, migrations, n, applied_out, fresh_out, err);
}

core_status pg_migrate_as(pg_pool *pool, const char *origin, const struct pg_migration *migrations,
                          size_t n, int *applied_out, bool *fresh_out, core_err *err)
{
    int applied = 0;
    if (applied_out)
        *applied_out = 0;
    if (fresh_out)
        *fresh_out = false;
    core_err local = CORE_ERR_INIT;
    if (!err)
        err = &local; /* apply_one wraps messages */
    core_status st = pg_migrations_check(migrations, n, err);
    if (st != CORE_OK)
        return st;
    assert(pool);

    pg_conn *c = NULL;
    st = pg_acquire(pool, &c, err);
    if (st != CORE_OK)
        return st;
    const char *key[1] = {PG_MIGRATE_LOCK_KEY};
    st = pg_exec(c, "SELECT pg_advisory_lock($1::bigint)", 1, key, NULL, err);
    bool locked = st == CORE_OK;
    PGresult *r = NULL;
    if (st == CORE_OK) /* (asked first: "IF NOT EXISTS" would log a notice at every start) */
        st = pg_exec(c,
                     "SELECT to_regclass('public.schema_migrations') IS NOT NULL, EXISTS ("
                     " SELECT 1 FROM information_schema.columns WHERE table_schema = 'public'"
                     " AND table_name = 'schema_migrations' AND column_name = 'origin')",
                     0, NULL, &r, err);
    bool has_table = st == CORE_OK && strcmp(pg_get(r, 0, 0), "t") == 0;
    bool has_origin = st == CORE_OK && strcmp(pg_get(r, 0, 1), "t") == 0;
    PQclear(r);
    r = NULL;
    if (st == CORE_OK && !has_table)
        st = pg_exec(c,
                     "CREATE TABLE IF NOT EXISTS public.schema_migrations ("
                     " name text PRIMARY KEY,"
                     " applied_at timestamptz NOT NULL DEFAULT now(),"
                     " origin text)",
                     0, NULL, NULL, err);
    else if (st == CORE_OK && !has_origin) /* a table made before origins were recorded */
        st = pg_exec(c, "ALTER TABLE public.schema_migrations ADD COLUMN origin text", 0, NULL,
                     NULL, err);
    if (st == CORE_OK)
        st = check_owner(c, origin, migrations, n, err);
    if (st == CORE_OK)
        st = pg_exec(c, "SELECT count(*) FROM public.schema_migrations", 0, NULL, &r, err);
    if (st == CORE_OK && fresh_out)
        *fresh_out = strcmp(pg_get(r, 0, 0), "0") == 0;
    PQclear(r);
    for (size_t i = 0; st == CORE_OK && i < n; i++)
        st = apply_one(c, &migrations[i], origin, &applied, err);
    if (locked) {
        core_err ignored = CORE_ERR_INIT;
        pg_exec(c, "SELECT pg_advisory_unlock($1::bigint)", 1, key, NULL, &ignored);
    }
    /* scripts may have changed session state (SET, search_path): do not reuse the connection;
     * closing it also drops the advisory lock if the unlock failed */
    c->discard = true;
    pg_release(pool, c);
    if (applied_out)
        *applied_out = applied;
    return st;
}
