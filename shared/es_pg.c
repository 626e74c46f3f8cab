/* es_pg.c -- the PostgreSQL backend of the aggregate store (see es.h for the tables).
 *
 * The schema name is the only text put into SQL: it is checked against [a-z_][a-z0-9_]* and
 * double-quoted when the store is created, and the statements are built once from constant
 * templates (every "{s}" replaced by the quoted schema). Values always travel as parameters.
 *
 * Append inserts one row per event (one INSERT each: no index arithmetic over a shared parameter
 * array, which is how the book's multi-row insert lost events), each guarded by the version
 * check in the same statement: the row is inserted only if the stream's newest version is the
 * one before it. An insert that inserts nothing is a conflict (the store then reads the stored
 * version for the message). One event, the common case, is one statement and so its own
 * transaction: no BEGIN, no separate version read, no COMMIT (one round trip instead of four);
 * several events run in one transaction. Two writers that both pass the check race on the
 * primary key; the loser's insert waits for the winner's commit, then fails with a unique
 * violation, which pg.c maps to CORE_ERR_CONFLICT; the store then reads the winner's version for
 * the message.
 *
 * Load of an aggregate (load_stream) reads the snapshot and the events after it in one statement:
 * one round trip and one MVCC snapshot, so no append can fall between the two reads.
 *
 * Inside a caller's transaction (append_in, save_snapshot_in) the same statements run on the
 * caller's connection within a SAVEPOINT: a failure rolls back to it, so nothing of the failed
 * append is left and the caller's transaction stays usable (PostgreSQL would otherwise refuse
 * every later statement of the transaction). After a unique violation the winner's version is
 * read on that same connection once the savepoint is rolled back.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es.h"
#include "log.h"
#include "pbjson.h"

#define SCHEMA_MAX 63

static const char SQL_VERSION[] = "SELECT coalesce(max(stream_version), 0) FROM {s}.events WHERE "
                                  "stream_id = $1 AND stream_name = $2";
/* Inserts event $3 only when the stream's newest version is $3 - 1 (0: no events). */
static const char SQL_INSERT[] =
    "INSERT INTO {s}.events (stream_id, stream_name, stream_version, event_id, event_name, "
    "event_data, metadata, occurred_at) "
    "SELECT $1::text, $2::text, $3::int, $4::text, $5::text, $6::jsonb, $7::jsonb, "
    "$8::timestamptz WHERE (SELECT coalesce(max(stream_version), 0) FROM {s}.events "
    "WHERE stream_id = $1::text AND stream_name = $2::text) = $3::int - 1";
static const char SQL_LOAD[] =
    "SELECT stream_version, event_id, event_name, event_data::text, metadata::text, "
    "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
    "FROM {s}.events WHERE stream_id = $1 AND stream_name = $2 AND stream_version > $3::int "
    "ORDER BY stream_version";
static const char SQL_SAVE_SNAPSHOT[] =
    "INSERT INTO {s}.snapshots AS old (stream_id, stream_name, stream_version, snapshot_name, "
    "snapshot_data, "
    "updated_at) VALUES ($1, $2, $3::int, $4, $5::jsonb, CURRENT_TIMESTAMP) "
    "ON CONFLICT (stream_id, stream_name) DO UPDATE SET stream_version = EXCLUDED.stream_version, "
    "snapshot_name = EXCLUDED.snapshot_name, snapshot_data = EXCLUDED.snapshot_data, "
    "updated_at = EXCLUDED.updated_at WHERE old.stream_version <= EXCLUDED.stream_version";
static const char SQL_LOAD_SNAPSHOT[] =
    "SELECT stream_version, snapshot_name, snapshot_data::text FROM {s}.snapshots "
    "WHERE stream_id = $1 AND stream_name = $2";
/* SQL_INSERT and, when it inserted the event, the upsert of the snapshot taken at its version
 * ($9 version, $10 name, $11 data; SQL_SAVE_SNAPSHOT's rule), in one statement; the answer is the
 * number of events inserted (0: the stream was not at $3 - 1, nothing stored). */
static const char SQL_INSERT_SNAPSHOT[] =
    "WITH ev AS (INSERT INTO {s}.events (stream_id, stream_name, stream_version, event_id, "
    "event_name, event_data, metadata, occurred_at) "
    "SELECT $1::text, $2::text, $3::int, $4::text, $5::text, $6::jsonb, $7::jsonb, "
    "$8::timestamptz WHERE (SELECT coalesce(max(stream_version), 0) FROM {s}.events "
    "WHERE stream_id = $1::text AND stream_name = $2::text) = $3::int - 1 "
    "RETURNING stream_version), "
    "sn AS (INSERT INTO {s}.snapshots AS old (stream_id, stream_name, stream_version, "
    "snapshot_name, snapshot_data, updated_at) "
    "SELECT $1::text, $2::text, $9::int, $10::text, $11::jsonb, CURRENT_TIMESTAMP FROM ev "
    "ON CONFLICT (stream_id, stream_name) DO UPDATE SET stream_version = EXCLUDED.stream_version, "
    "snapshot_name = EXCLUDED.snapshot_name, snapshot_data = EXCLUDED.snapshot_data, "
    "updated_at = EXCLUDED.updated_at WHERE old.stream_version <= EXCLUDED.stream_version) "
    "SELECT count(*) FROM ev";
/* The snapshot (kind 0: version, name, data) and then the events after it when it is named $3,
 * else all events (kind 1: the columns of SQL_LOAD), in one statement. */
static const char SQL_LOAD_STREAM[] =
    "WITH snap AS (SELECT stream_version, snapshot_name, snapshot_data FROM {s}.snapshots "
    "WHERE stream_id = $1::text AND stream_name = $2::text) "
    "SELECT 0 AS kind, stream_version, snapshot_name, NULL::text, snapshot_data::text, "
    "NULL::text, NULL::text FROM snap "
    "UNION ALL "
    "SELECT 1, stream_version, event_id, event_name, event_data::text, metadata::text, "
    "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
    "FROM {s}.events WHERE stream_id = $1::text AND stream_name = $2::text AND stream_version > "
    "coalesce((SELECT stream_version FROM snap WHERE snapshot_name = $3::text), 0) "
    "ORDER BY 1, 2";

struct pg_store {
    pg_pool *pool;
    char *sql_version;
    char *sql_insert;
    char *sql_load;
    char *sql_save_snapshot;
    char *sql_load_snapshot;
    char *sql_load_stream;
    char *sql_insert_snapshot;
};

static bool schema_valid(const char *s)
{
    if (!s || !*s || strlen(s) > SCHEMA_MAX || !((*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

/* The template with every "{s}" replaced by quoted (core_malloc'd), or NULL when out of memory. */
static char *with_schema(const char *tmpl, const char *quoted)
{
    size_t qlen = strlen(quoted), count = 0;
    for (const char *p = strstr(tmpl, "{s}"); p; p = strstr(p + 3, "{s}"))
        count++;
    char *out = core_malloc(strlen(tmpl) + count * qlen + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, "{s}", 3) == 0) {
            memcpy(o, quoted, qlen);
            o += qlen;
            p += 3;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static void pgs_free(void *impl)
{
    struct pg_store *s = impl;
    if (!s)
        return;
    core_free(s->sql_version);
    core_free(s->sql_insert);
    core_free(s->sql_load);
    core_free(s->sql_save_snapshot);
    core_free(s->sql_load_snapshot);
    core_free(s->sql_load_stream);
    core_free(s->sql_insert_snapshot);
    core_free(s);
}

/* The stream's current version on conn. */
static core_status read_version(struct pg_store *s, pg_conn *conn, const char *stream_name,
                                const char *stream_id, uint64_t *out, core_err *err)
{
    PGresult *res = NULL;
    const char *params[] = {stream_id, stream_name};
    core_status st = pg_exec(conn, s->sql_version, 2, params, &res, err);
    if (!st)
        *out = strtoull(pg_get(res, 0, 0), NULL, 10);
    PQclear(res);
    return st;
}

struct append_ctx {
    struct pg_store *s;
    const char *stream_name;
    const char *stream_id;
    uint64_t expected;
    const struct es_record *recs;
    size_t n;
    bool checked; /* the version check itself reported the conflict */
};

/* Inserts the events on conn, each only if the stream is at the version before it. An insert
 * that inserts nothing (the stream was not at the expected version) reads the stored version and
 * reports the conflict with a->checked set. */
static core_status append_tx(pg_conn *conn, void *vctx, core_err *err)
{
    struct append_ctx *a = vctx;
    core_status st = CORE_OK;
    for (size_t i = 0; i < a->n && !st; i++) {
        const struct es_record *r = &a->recs[i];
        char version[24];
        char at[PBJSON_TIMESTAMP_MAX];
        snprintf(version, sizeof version, "%" PRIu64, r->version);
        st = pbjson_timestamp_format((int64_t)r->occurred_at.tv_sec,
                                     (int32_t)r->occurred_at.tv_nsec, at, err);
        if (st)
            break;
        const char *params[] = {a->stream_id,  a->stream_name, version,     r->event_id,
                                r->event_name, r->data,        r->metadata, at};
        PGresult *res = NULL;
        st = pg_exec(conn, a->s->sql_insert, 8, params, &res, err);
        bool inserted = !st && strcmp(PQcmdTuples(res), "1") == 0;
        PQclear(res);
        if (!st && !inserted) {
            uint64_t stored = a->expected + i;
            a->checked = true;
            st = read_version(a->s, conn, a->stream_name, a->stream_id, &stored, err);
            if (!st)
                st = es_store_conflict(err, a->stream_name, a->stream_id, a->expected, stored);
        }
    }
    return st;
}

/* One event without a transaction block: the guarded insert is its own transaction. */
static core_status append_one(pg_pool *pool, void *vctx, core_err *err)
{
    pg_conn *conn = NULL;
    core_status st = pg_acquire(pool, &conn, err);
    if (!st)
        st = append_tx(conn, vctx, err);
    pg_release(pool, conn);
    return st;
}

/* A writer committed between our check and our insert (unique violation) or the server aborted
 * us (serialization failure, deadlock): reports the version it left behind as the conflict. */
static core_status raced(struct pg_store *s, const char *stream_name, const char *stream_id,
                         uint64_t expected_version, core_err *err)
{
    pg_conn *conn = NULL;
    uint64_t stored = expected_version + 1;
    core_err ignored = CORE_ERR_INIT;
    if (pg_acquire(s->pool, &conn, &ignored) == CORE_OK) {
        read_version(s, conn, stream_name, stream_id, &stored, &ignored);
        pg_release(s->pool, conn);
    }
    return es_store_conflict(err, stream_name, stream_id, expected_version, stored);
}

static core_status pgs_append(void *impl, const char *stream_name, const char *stream_id,
                              uint64_t expected_version, const struct es_record *recs, size_t n,
                              core_err *err)
{
    struct pg_store *s = impl;
    struct append_ctx a = {s, stream_name, stream_id, expected_version, recs, n, false};
    core_status st =
        n == 1 ? append_one(s->pool, &a, err) : pg_with_tx(s->pool, append_tx, &a, err);
    if (st == CORE_ERR_CONFLICT && !a.checked)
        st = raced(s, stream_name, stream_id, expected_version, err);
    return st;
}

static core_status pgs_save_snapshot(void *impl, const char *stream_name, const char *stream_id,
                                     const struct es_snapshot_record *rec, core_err *err);
static core_status run(struct pg_store *s, const char *sql, int nparams, const char *const *params,
                       PGresult **res, core_err *err);

/* One event and the snapshot at its version in one statement (SQL_INSERT_SNAPSHOT). Several
 * events: the append's transaction, then the snapshot's. When the one statement fails for
 * another reason than a conflict, the snapshot may be the cause: the event is appended alone and
 * the snapshot saved on its own, whose failure goes to snap_err. */
static core_status pgs_append_snapshot(void *impl, const char *stream_name, const char *stream_id,
                                       uint64_t expected_version, const struct es_record *recs,
                                       size_t n, const struct es_snapshot_record *snap,
                                       core_err *snap_err, core_err *err)
{
    struct pg_store *s = impl;
    core_status st = CORE_ERR_INTERNAL;
    if (n == 1) {
        const struct es_record *r = &recs[0];
        char version[24], snap_version[24];
        char at[PBJSON_TIMESTAMP_MAX];
        snprintf(version, sizeof version, "%" PRIu64, r->version);
        snprintf(snap_version, sizeof snap_version, "%" PRIu64, snap->version);
        st = pbjson_timestamp_format((int64_t)r->occurred_at.tv_sec,
                                     (int32_t)r->occurred_at.tv_nsec, at, err);
        if (st)
            return st;
        const char *params[] = {stream_id,     stream_name, version,     r->event_id,
                                r->event_name, r->data,     r->metadata, at,
                                snap_version,  snap->name,  snap->data};
        PGresult *res = NULL;
        core_err one = CORE_ERR_INIT;
        st = run(s, s->sql_insert_snapshot, 11, params, &res, &one);
        bool inserted = !st && strcmp(pg_get(res, 0, 0), "1") == 0;
        PQclear(res);
        if (inserted)
            return CORE_OK;
        if (!st || st == CORE_ERR_CONFLICT) /* not at the version, or a writer raced us */
            return raced(s, stream_name, stream_id, expected_version, err);
        log_debug("es", "%s %s: the event with its snapshot failed (%s); appending it alone",
                  stream_name, stream_id, one.msg);
    }
    st = pgs_append(impl, stream_name, stream_id, expected_version, recs, n, err);
    if (!st)
        pgs_save_snapshot(impl, stream_name, stream_id, snap, snap_err);
    return st;
}

/* Runs fn(tx, ctx, err) inside a savepoint of the caller's transaction tx: when fn fails, what it
 * did is rolled back and tx can go on. */
static core_status in_savepoint(pg_conn *tx, pg_tx_fn fn, void *ctx, core_err *err)
{
    /* SAVEPOINT goes with fn's first statement and RELEASE with the transaction's next one (or
     * its COMMIT): no round trip of their own */
    core_status st = pg_defer(tx, "SAVEPOINT es_store", err);
    if (!st)
        st = fn(tx, ctx, err);
    if (!st)
        return pg_defer(tx, "RELEASE SAVEPOINT es_store", err);
    core_err ignored = CORE_ERR_INIT; /* a broken connection: the caller's commit will say so */
    if (pg_exec(tx, "ROLLBACK TO SAVEPOINT es_store", 0, NULL, NULL, &ignored) == CORE_OK)
        pg_exec(tx, "RELEASE SAVEPOINT es_store", 0, NULL, NULL, &ignored);
    return st;
}

static core_status pgs_append_in(void *impl, pg_conn *tx, const char *stream_name,
                                 const char *stream_id, uint64_t expected_version,
                                 const struct es_record *recs, size_t n, core_err *err)
{
    struct pg_store *s = impl;
    struct append_ctx a = {s, stream_name, stream_id, expected_version, recs, n, false};
    core_status st = in_savepoint(tx, append_tx, &a, err);
    if (st == CORE_ERR_CONFLICT && !a.checked) { /* see pgs_append; the savepoint is undone */
        uint64_t stored = expected_version + 1;
        core_err ignored = CORE_ERR_INIT;
        read_version(s, tx, stream_name, stream_id, &stored, &ignored);
        st = es_store_conflict(err, stream_name, stream_id, expected_version, stored);
    }
    return st;
}

/* One statement on a pooled connection; *res as for pg_exec. */
static core_status run(struct pg_store *s, const char *sql, int nparams, const char *const *params,
                       PGresult **res, core_err *err)
{
    pg_conn *conn = NULL;
    core_status st = pg_acquire(s->pool, &conn, err);
    if (!st)
        st = pg_exec(conn, sql, nparams, params, res, err);
    pg_release(s->pool, conn); /* the result outlives the connection */
    return st;
}

/* Calls fn with the event in row i of res, whose columns from col on are those of SQL_LOAD. */
static core_status call_record(const PGresult *res, int i, int col, const char *stream_name,
                               const char *stream_id, es_record_fn fn, void *ctx, core_err *err)
{
    struct es_record rec = {
        .version = strtoull(pg_get(res, i, col), NULL, 10),
        .event_id = pg_get(res, i, col + 1),
        .event_name = pg_get(res, i, col + 2),
        .data = pg_get(res, i, col + 3),
        .metadata = pg_get(res, i, col + 4),
    };
    int64_t sec = 0;
    int32_t nsec = 0;
    if (pbjson_timestamp_parse(pg_get(res, i, col + 5), &sec, &nsec, err))
        return core_err_wrap(err, "%s %s version %" PRIu64 ": occurred_at", stream_name, stream_id,
                             rec.version);
    rec.occurred_at.tv_sec = (time_t)sec;
    rec.occurred_at.tv_nsec = nsec;
    return fn(ctx, &rec, err);
}

static core_status pgs_load(void *impl, const char *stream_name, const char *stream_id,
                            uint64_t after_version, es_record_fn fn, void *ctx, core_err *err)
{
    struct pg_store *s = impl;
    PGresult *res = NULL;
    char after[24];
    snprintf(after, sizeof after, "%" PRIu64, after_version);
    const char *params[] = {stream_id, stream_name, after};
    core_status st = run(s, s->sql_load, 3, params, &res, err);
    int rows = st ? 0 : PQntuples(res);
    for (int i = 0; i < rows && !st; i++)
        st = call_record(res, i, 0, stream_name, stream_id, fn, ctx, err);
    PQclear(res);
    return st;
}

/* load_stream on tx, or on a pooled connection when tx is NULL */
static core_status pgs_load_stream_in(void *impl, pg_conn *tx, const char *stream_name,
                                      const char *stream_id, const char *snapshot_name,
                                      es_snapshot_record_fn snap_fn, es_record_fn fn, void *ctx,
                                      core_err *err)
{
    struct pg_store *s = impl;
    PGresult *res = NULL;
    const char *params[] = {stream_id, stream_name, snapshot_name};
    core_status st = tx ? pg_exec(tx, s->sql_load_stream, 3, params, &res, err)
                        : run(s, s->sql_load_stream, 3, params, &res, err);
    int rows = st ? 0 : PQntuples(res);
    for (int i = 0; i < rows && !st; i++) {
        if (strcmp(pg_get(res, i, 0), "0") == 0) { /* the snapshot, always the first row */
            struct es_snapshot_record rec = {strtoull(pg_get(res, i, 1), NULL, 10),
                                             pg_get(res, i, 2), pg_get(res, i, 4)};
            st = snap_fn(ctx, &rec, err);
        } else {
            st = call_record(res, i, 1, stream_name, stream_id, fn, ctx, err);
        }
    }
    PQclear(res);
    return st;
}

static core_status pgs_load_stream(void *impl, const char *stream_name, const char *stream_id,
                                   const char *snapshot_name, es_snapshot_record_fn snap_fn,
                                   es_record_fn fn, void *ctx, core_err *err)
{
    return pgs_load_stream_in(impl, NULL, stream_name, stream_id, snapshot_name, snap_fn, fn, ctx,
                              err);
}

struct snapshot_ctx {
    struct pg_store *s;
    const char *stream_name;
    const char *stream_id;
    const struct es_snapshot_record *rec;
};

static core_status save_snapshot_on(pg_conn *conn, void *vctx, core_err *err)
{
    struct snapshot_ctx *c = vctx;
    char version[24];
    snprintf(version, sizeof version, "%" PRIu64, c->rec->version);
    const char *params[] = {c->stream_id, c->stream_name, version, c->rec->name, c->rec->data};
    return pg_exec(conn, c->s->sql_save_snapshot, 5, params, NULL, err);
}

static core_status pgs_save_snapshot(void *impl, const char *stream_name, const char *stream_id,
                                     const struct es_snapshot_record *rec, core_err *err)
{
    struct snapshot_ctx c = {impl, stream_name, stream_id, rec};
    pg_conn *conn = NULL;
    core_status st = pg_acquire(c.s->pool, &conn, err);
    if (!st)
        st = save_snapshot_on(conn, &c, err);
    pg_release(c.s->pool, conn);
    return st;
}

static core_status pgs_save_snapshot_in(void *impl, pg_conn *tx, const char *stream_name,
                                        const char *stream_id, const struct es_snapshot_record *rec,
                                        core_err *err)
{
    struct snapshot_ctx c = {impl, stream_name, stream_id, rec};
    return in_savepoint(tx, save_snapshot_on, &c, err);
}

static core_status pgs_load_snapshot(void *impl, const char *stream_name, const char *stream_id,
                                     es_snapshot_record_fn fn, void *ctx, core_err *err)
{
    struct pg_store *s = impl;
    pg_conn *conn = NULL;
    PGresult *res = NULL;
    const char *params[] = {stream_id, stream_name};
    core_status st = pg_acquire(s->pool, &conn, err);
    if (!st)
        st = pg_exec(conn, s->sql_load_snapshot, 2, params, &res, err);
    pg_release(s->pool, conn);
    if (!st && PQntuples(res) == 0)
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "no snapshot of %s %s", stream_name, stream_id);
    if (!st) {
        struct es_snapshot_record rec = {strtoull(pg_get(res, 0, 0), NULL, 10), pg_get(res, 0, 1),
                                         pg_get(res, 0, 2)};
        st = fn(ctx, &rec, err);
    }
    PQclear(res);
    return st;
}

static const struct es_store_ops pg_ops = {
    .kind = "postgres",
    .append = pgs_append,
    .load = pgs_load,
    .save_snapshot = pgs_save_snapshot,
    .load_snapshot = pgs_load_snapshot,
    .free = pgs_free,
    .append_in = pgs_append_in,
    .save_snapshot_in = pgs_save_snapshot_in,
    .load_stream = pgs_load_stream,
    .load_stream_in = pgs_load_stream_in,
    .append_snapshot = pgs_append_snapshot,
};

core_status es_pg_store_new(es_store **out, pg_pool *pool, const char *schema,
                            const es_registry *reg, core_err *err)
{
    if (!schema_valid(schema))
        return core_err_set(err, CORE_ERR_INVALID,
                            "event store: schema \"%.64s\" is not a plain lower-case name "
                            "([a-z_][a-z0-9_]*, at most %d)",
                            schema ? schema : "(null)", SCHEMA_MAX);
    char quoted[SCHEMA_MAX + 3];
    snprintf(quoted, sizeof quoted, "\"%s\"", schema);
    struct pg_store *s = core_calloc(1, sizeof *s);
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    s->pool = pool;
    s->sql_version = with_schema(SQL_VERSION, quoted);
    s->sql_insert = with_schema(SQL_INSERT, quoted);
    s->sql_load = with_schema(SQL_LOAD, quoted);
    s->sql_save_snapshot = with_schema(SQL_SAVE_SNAPSHOT, quoted);
    s->sql_load_snapshot = with_schema(SQL_LOAD_SNAPSHOT, quoted);
    s->sql_load_stream = with_schema(SQL_LOAD_STREAM, quoted);
    s->sql_insert_snapshot = with_schema(SQL_INSERT_SNAPSHOT, quoted);
    if (!s->sql_version || !s->sql_insert || !s->sql_load || !s->sql_save_snapshot ||
        !s->sql_load_snapshot || !s->sql_load_stream || !s->sql_insert_snapshot) {
        pgs_free(s);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    }
    return es_store_new(out, &pg_ops, s, reg, err);
}
