/* sec_pg.c -- the PostgreSQL saga store: one row per saga in <schema>.sagas (see sec.h for the
 * table), data as pbjson JSON in a jsonb column. Save is one upsert statement, load one select.
 *
 * The schema name is the only text put into SQL: it is checked against [a-z_][a-z0-9_]* and
 * double-quoted when the store is created, and the two statements are built from constant
 * templates then. Values always travel as parameters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "pbjson.h"
#include "sec.h"

#define SCHEMA_MAX 63

static const char SQL_LOAD[] = "SELECT data::text, step, done, compensating, awaiting "
                               "FROM %s.sagas WHERE id = $1 AND name = $2";
/* chapter 09: in a caller's transaction, the row stays locked until it ends */
static const char SQL_LOAD_LOCK[] = "SELECT data::text, step, done, compensating, awaiting "
                                    "FROM %s.sagas WHERE id = $1 AND name = $2 FOR UPDATE";
static const char SQL_SAVE[] =
    "INSERT INTO %s.sagas (id, name, data, step, done, compensating, awaiting, updated_at) "
    "VALUES ($1, $2, $3::jsonb, $4::int, $5::bool, $6::bool, $7, CURRENT_TIMESTAMP) "
    "ON CONFLICT (id, name) DO UPDATE SET data = EXCLUDED.data, step = EXCLUDED.step, "
    "done = EXCLUDED.done, compensating = EXCLUDED.compensating, awaiting = EXCLUDED.awaiting, "
    "updated_at = EXCLUDED.updated_at";

struct pg_sagas {
    pg_pool *pool;
    char sql_load[sizeof SQL_LOAD + SCHEMA_MAX + 2];
    char sql_load_lock[sizeof SQL_LOAD_LOCK + SCHEMA_MAX + 2];
    char sql_save[sizeof SQL_SAVE + SCHEMA_MAX + 2];
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

/* Loads through the pool (conn NULL) or on conn with the row lock. */
static core_status load(struct pg_sagas *p, pg_conn *conn, const struct sec_saga *saga,
                        const char *id, struct sec_state *out, core_err *err)
{
    const char *params[] = {id, saga->name};
    PGresult *res = NULL;
    core_status s = conn ? pg_exec(conn, p->sql_load_lock, 2, params, &res, err)
                         : pg_run(p->pool, p->sql_load, 2, params, &res, err);
    if (!s && PQntuples(res) == 0)
        s = core_err_set(err, CORE_ERR_NOT_FOUND, "saga %s %s not found", saga->name, id);
    if (!s) {
        const char *json = pg_get(res, 0, 0);
        ProtobufCMessage *data = NULL;
        s = pbjson_decode(saga->data_desc, json, strlen(json), &data, err);
        if (s) {
            core_err_wrap(err, "saga %s %s: stored data is not a %s", saga->name, id,
                          saga->data_desc->name);
            err->status = s = CORE_ERR_INVALID;
        } else {
            sec_state_init(out);
            core_strlcpy(out->id, id, sizeof out->id);
            out->data = data;
            out->step = (int)strtol(pg_get(res, 0, 1), NULL, 10);
            out->done = strcmp(pg_get(res, 0, 2), "t") == 0;
            out->compensating = strcmp(pg_get(res, 0, 3), "t") == 0;
            core_strlcpy(out->awaiting, pg_get(res, 0, 4), sizeof out->awaiting);
        }
    }
    PQclear(res);
    return s;
}

static core_status pgs_load(void *impl, const struct sec_saga *saga, const char *id,
                            struct sec_state *out, core_err *err)
{
    return load(impl, NULL, saga, id, out, err);
}

static core_status pgs_load_in(void *impl, pg_conn *conn, const struct sec_saga *saga,
                               const char *id, struct sec_state *out, core_err *err)
{
    return load(impl, conn, saga, id, out, err);
}

static core_status save(struct pg_sagas *p, pg_conn *conn, const struct sec_saga *saga,
                        const struct sec_state *st, core_err *err)
{
    char *json = NULL;
    core_status s = pbjson_encode(st->data, &json, err);
    if (s)
        return core_err_wrap(err, "saga %s %s: data", saga->name, st->id);
    char step[16];
    snprintf(step, sizeof step, "%d", st->step);
    const char *params[] = {st->id,
                            saga->name,
                            json,
                            step,
                            st->done ? "true" : "false",
                            st->compensating ? "true" : "false",
                            st->awaiting};
    s = conn ? pg_exec(conn, p->sql_save, 7, params, NULL, err)
             : pg_run(p->pool, p->sql_save, 7, params, NULL, err);
    core_free(json);
    return s;
}

static core_status pgs_save(void *impl, const struct sec_saga *saga, const struct sec_state *st,
                            core_err *err)
{
    return save(impl, NULL, saga, st, err);
}

static core_status pgs_save_in(void *impl, pg_conn *conn, const struct sec_saga *saga,
                               const struct sec_state *st, core_err *err)
{
    return save(impl, conn, saga, st, err);
}

static void pgs_free(void *impl)
{
    core_free(impl);
}

static const struct sec_store_ops pg_ops = {
    .kind = "postgres",
    .load = pgs_load,
    .save = pgs_save,
    .free = pgs_free,
    .load_in = pgs_load_in,
    .save_in = pgs_save_in,
};

core_status sec_pg_store_new(sec_store **out, pg_pool *pool, const char *schema, core_err *err)
{
    *out = NULL;
    if (!schema_valid(schema))
        return core_err_set(err, CORE_ERR_INVALID,
                            "saga store: schema \"%.64s\" is not a plain lower-case name "
                            "([a-z_][a-z0-9_]*, at most %d)",
                            schema ? schema : "(null)", SCHEMA_MAX);
    struct pg_sagas *p = core_calloc(1, sizeof *p);
    if (!p)
        return core_err_nomem(err);
    p->pool = pool;
    char quoted[SCHEMA_MAX + 3];
    snprintf(quoted, sizeof quoted, "\"%s\"", schema);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(p->sql_load, sizeof p->sql_load, SQL_LOAD, quoted);
    snprintf(p->sql_load_lock, sizeof p->sql_load_lock, SQL_LOAD_LOCK, quoted);
    snprintf(p->sql_save, sizeof p->sql_save, SQL_SAVE, quoted);
#pragma GCC diagnostic pop
    return sec_store_new(out, &pg_ops, p, err);
}
