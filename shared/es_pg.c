/* es_pg.c -- the PostgreSQL backend of the aggregate store (see es.h for the tables).
 *
 * The schema name is the only text put into SQL: it is checked against [a-z_][a-z0-9_]* and
 * double-quoted when the store is created, and the statements are built once from constant
 * templates (every "{s}" replaced by the quoted schema). Values always travel as parameters.
 *
 * Append runs in one transaction: read the stream's current version, compare it with the
 * expected one, insert one row per event (one INSERT each: no index arithmetic over a shared
 * parameter array, which is how the book's multi-row insert lost events). Two writers that both
 * read the same version race on the primary key; the loser's insert waits for the winner's
 * commit, then fails with a unique violation, which pg.c maps to CORE_ERR_CONFLICT; the store
 * then reads the winner's version for the message.
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
#include "pbjson.h"

#define SCHEMA_MAX 63

static const char SQL_VERSION[] = "SELECT coalesce(max(stream_version), 0) FROM {s}.events WHERE "
                                  "stream_id = $1 AND stream_name = $2";
static const char SQL_INSERT[] =
    "INSERT INTO {s}.events (stream_id, stream_name, stream_version, event_id, event_name, "
    "event_data, metadata, "
    "occurred_at) VALUES ($1, $2, $3::int, $4, $5, $6::jsonb, $7::jsonb, $8::timestamptz)";
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

struct pg_store {
    pg_pool *pool;
    char *sql_version;
    char *sql_insert;
    char *sql_load;
    char *sql_save_snapshot;
    char *sql_load_snapshot;
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

static core_status append_tx(pg_conn *conn, void *vctx, core_err *err)
{
    struct append_ctx *a = vctx;
    uint64_t stored = 0;
    core_status st = read_version(a->s, conn, a->stream_name, a->stream_id, &stored, err);
    if (!st && stored != a->expected) {
        a->checked = true;
        st = es_store_conflict(err, a->stream_name, a->stream_id, a->expected, stored);
    }
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
        st = pg_exec(conn, a->s->sql_insert, 8, params, NULL, err);
    }
    return st;
}

static core_status pgs_append(void *impl, const char *stream_name, const char *stream_id,
                              uint64_t expected_version, const struct es_record *recs, size_t n,
                              core_err *err)
{
    struct pg_store *s = impl;
    struct append_ctx a = {s, stream_name, stream_id, expected_version, recs, n, false};
    core_status st = pg_with_tx(s->pool, append_tx, &a, err);
    if (st == CORE_ERR_CONFLICT && !a.checked) {
        /* A writer committed between our check and our insert (unique violation) or the server
         * aborted us (serialization failure, deadlock): report the version it left behind. */
        pg_conn *conn = NULL;
        uint64_t stored = expected_version + 1;
        core_err ignored = CORE_ERR_INIT;
        if (pg_acquire(s->pool, &conn, &ignored) == CORE_OK) {
            read_version(s, conn, stream_name, stream_id, &stored, &ignored);
            pg_release(s->pool, conn);
        }
        st = es_store_conflict(err, stream_name, stream_id, expected_version, stored);
    }
    return st;
}

/* Runs fn(tx, ctx, err) inside a savepoint of the caller's transaction tx: when fn fails, what it
 * did is rolled back and tx can go on. */
static core_status in_savepoint(pg_conn *tx, pg_tx_fn fn, void *ctx, core_err *err)
{
    core_status st = pg_exec(tx, "SAVEPOINT es_store", 0, NULL, NULL, err);
    if (!st)
        st = fn(tx, ctx, err);
    if (!st)
        return pg_exec(tx, "RELEASE SAVEPOINT es_store", 0, NULL, NULL, err);
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

static core_status pgs_load(void *impl, const char *stream_name, const char *stream_id,
                            uint64_t after_version, es_record_fn fn, void *ctx, core_err *err)
{
    struct pg_store *s = impl;
    pg_conn *conn = NULL;
    PGresult *res = NULL;
    char after[24];
    snprintf(after, sizeof after, "%" PRIu64, after_version);
    const char *params[] = {stream_id, stream_name, after};
    core_status st = pg_acquire(s->pool, &conn, err);
    if (!st)
        st = pg_exec(conn, s->sql_load, 3, params, &res, err);
    pg_release(s->pool, conn); /* the result outlives the connection */
    int rows = st ? 0 : PQntuples(res);
    for (int i = 0; i < rows && !st; i++) {
        struct es_record rec = {
            .version = strtoull(pg_get(res, i, 0), NULL, 10),
            .event_id = pg_get(res, i, 1),
            .event_name = pg_get(res, i, 2),
            .data = pg_get(res, i, 3),
            .metadata = pg_get(res, i, 4),
        };
        int64_t sec = 0;
        int32_t nsec = 0;
        st = pbjson_timestamp_parse(pg_get(res, i, 5), &sec, &nsec, err);
        if (st) {
            st = core_err_wrap(err, "%s %s version %" PRIu64 ": occurred_at", stream_name,
                               stream_id, rec.version);
            break;
        }
        rec.occurred_at.tv_sec = (time_t)sec;
        rec.occurred_at.tv_nsec = nsec;
        st = fn(ctx, &rec, err);
    }
    PQclear(res);
    return st;
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
    if (!s->sql_version || !s->sql_insert || !s->sql_load || !s->sql_save_snapshot ||
        !s->sql_load_snapshot) {
        pgs_free(s);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    }
    return es_store_new(out, &pg_ops, s, reg, err);
}
