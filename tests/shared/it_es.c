/* it_es.c -- integration tests of es.h's PostgreSQL store against the lab (scripts/lab.sh up).
 *
 * PG_CONN (default CFG_DEFAULT_PG_CONN) names the lab database; every test gets a scratch
 * database of its own, it_es_<random>, with the schema "estest" and its events/snapshots tables
 * (the SQL of es.h's header), dropped (WITH (FORCE)) afterwards. The aggregate is a small
 * counter, "test.Counter", whose events and snapshot are messages of es_test.proto. Worker
 * threads never call cmocka asserts (they longjmp): they record results the main thread checks.
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
#include <unistd.h>
#include <cmocka.h>

#include <libpq-fe.h>

#include "cfg.h"
#include "core.h"
#include "ddd.h"
#include "es.h"
#include "es_test.pb-c.h"
#include "log.h"
#include "pb.h"
#include "pg.h"

static const char TABLES_SQL[] =
    "CREATE SCHEMA estest;"
    "CREATE TABLE estest.events ("
    "  stream_id text NOT NULL, stream_name text NOT NULL, stream_version int NOT NULL,"
    "  event_id text NOT NULL, event_name text NOT NULL, event_data jsonb NOT NULL, metadata jsonb "
    "NOT NULL,"
    "  occurred_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    "  PRIMARY KEY (stream_id, stream_name, stream_version));"
    "CREATE TABLE estest.snapshots ("
    "  stream_id text NOT NULL, stream_name text NOT NULL, stream_version int NOT NULL,"
    "  snapshot_name text NOT NULL, snapshot_data jsonb NOT NULL,"
    "  updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    "  PRIMARY KEY (stream_id, stream_name));";

/* ---- the test aggregate ------------------------------------------------------------------------
 */

struct counter {
    struct es_aggregate agg;
    char name[64];
    int count;
    int renames;
    int notes;
};

static core_status counter_apply(void *entity, const ddd_event *ev, core_err *err)
{
    struct counter *c = entity;
    const char *name = ddd_event_name(ev);
    const ProtobufCMessage *p = ddd_event_payload(ev);
    if (ddd_event_payload_is(ev, &estest__thing_created__descriptor) &&
        strcmp(name, "estest.ThingCreated") == 0)
        core_strlcpy(c->name, ((const Estest__ThingCreated *)p)->name, sizeof c->name);
    else if (ddd_event_payload_is(ev, &estest__thing_counted__descriptor) &&
             strcmp(name, "estest.ThingCounted") == 0)
        c->count += ((const Estest__ThingCounted *)p)->by;
    else if (ddd_event_payload_is(ev, &estest__thing_renamed__descriptor) &&
             strcmp(name, "estest.ThingRenamed") == 0) {
        core_strlcpy(c->name, ((const Estest__ThingRenamed *)p)->name, sizeof c->name);
        c->renames++;
    } else if (ddd_event_payload_is(ev, &estest__thing_noted__descriptor) &&
               strcmp(name, "estest.ThingNoted") == 0)
        c->notes++;
    else
        return core_err_set(err, CORE_ERR_INTERNAL, "test.Counter: unexpected event %s", name);
    return CORE_OK;
}

static core_status counter_to_snapshot(const void *entity, ProtobufCMessage **out, core_err *err)
{
    const struct counter *c = entity;
    Estest__ThingV1 *s = pb_new_of(estest__thing_v1);
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    core_status st = pb_set_string(&s->name, c->name, err);
    if (st) {
        pb_free(&s->base);
        return st;
    }
    s->count = c->count;
    s->renames = c->renames;
    s->notes = c->notes;
    *out = &s->base;
    return CORE_OK;
}

static core_status counter_from_snapshot(void *entity, const ProtobufCMessage *snap, core_err *err)
{
    struct counter *c = entity;
    const Estest__ThingV1 *s = (const Estest__ThingV1 *)snap;
    core_strlcpy(c->name, s->name, sizeof c->name);
    c->count = s->count;
    c->renames = s->renames;
    c->notes = s->notes;
    return CORE_OK;
}

static const struct es_aggregate_type counter_type = {
    .name = "test.Counter",
    .agg_offset = offsetof(struct counter, agg),
    .apply = counter_apply,
    .snapshot_name = "estest.ThingV1",
    .to_snapshot = counter_to_snapshot,
    .from_snapshot = counter_from_snapshot,
};

static const struct es_aggregate_type counter_type_no_snapshots = {
    .name = "test.Counter",
    .agg_offset = offsetof(struct counter, agg),
    .apply = counter_apply,
};

static void counter_init(struct counter *c)
{
    memset(c, 0, sizeof *c);
    es_aggregate_init(&c->agg, "test.Counter");
}

static core_status counter_create(struct counter *c, const char *id, const char *name,
                                  core_err *err)
{
    core_status st = ddd_aggregate_set_id(&c->agg.base, id, err);
    Estest__ThingCreated *p = st ? NULL : pb_new_of(estest__thing_created);
    if (!st && !p)
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    if (!st && (st = pb_set_string(&p->name, name, err)))
        pb_free(&p->base);
    if (st)
        return st;
    ProtobufCMessage *m = &p->base;
    return es_aggregate_raise(&c->agg, c, &counter_type, "estest.ThingCreated", &m, err);
}

static core_status counter_add(struct counter *c, int by, core_err *err)
{
    Estest__ThingCounted *p = pb_new_of(estest__thing_counted);
    if (!p)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    p->by = by;
    ProtobufCMessage *m = &p->base;
    return es_aggregate_raise(&c->agg, c, &counter_type, "estest.ThingCounted", &m, err);
}

static core_status counter_note(struct counter *c, core_err *err)
{
    ProtobufCMessage *m = pb_new(&estest__thing_noted__descriptor);
    if (!m)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    return es_aggregate_raise(&c->agg, c, &counter_type, "estest.ThingNoted", &m, err);
}

static core_status counter_rename(struct counter *c, const char *name, core_err *err)
{
    Estest__ThingRenamed *p = pb_new_of(estest__thing_renamed);
    if (!p)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    core_status st = pb_set_string(&p->name, name, err);
    if (st) {
        pb_free(&p->base);
        return st;
    }
    ProtobufCMessage *m = &p->base;
    return es_aggregate_raise(&c->agg, c, &counter_type, "estest.ThingRenamed", &m, err);
}

/* ---- fixture ------------------------------------------------------------------------------------
 */

static pg_pool *admin; /* on the PG_CONN database: creates and drops the scratch databases */
static const char *base_conninfo;

struct fx {
    char db[64];
    char conninfo[1024];
    pg_pool *pool; /* size 20 on the scratch database */
    es_registry *reg;
    es_store *store;
    long live;
};

/* Writes base with key=val added (or replacing the old value) as a key='value' string. */
static bool conninfo_with(char *out, size_t size, const char *base, const char *key,
                          const char *val)
{
    PQconninfoOption *opts = PQconninfoParse(base, NULL);
    if (!opts)
        return false;
    size_t j = 0;
    bool ok = true;
    for (PQconninfoOption *o = opts; o->keyword && ok; o++) {
        const char *v = strcmp(o->keyword, key) == 0 ? val : o->val;
        if (!v)
            continue;
        int n = snprintf(out + j, size - j, "%s%s='", j ? " " : "", o->keyword);
        ok = n > 0 && (size_t)n < size - j;
        if (!ok)
            break;
        j += (size_t)n;
        for (const char *p = v; *p && ok; p++) {
            if (*p == '\'' || *p == '\\')
                out[j++] = '\\';
            out[j++] = *p;
            ok = j + 3 < size;
        }
        if (ok) {
            out[j++] = '\'';
            out[j] = '\0';
        }
    }
    PQconninfoFree(opts);
    return ok;
}

/* CREATE/DROP DATABASE take no parameters: the name is quoted with PQescapeIdentifier. */
static core_status admin_db_command(const char *prefix, const char *db, const char *suffix,
                                    core_err *err)
{
    pg_conn *c = NULL;
    core_status st = pg_acquire(admin, &c, err);
    if (st != CORE_OK)
        return st;
    char *ident = PQescapeIdentifier(pg_conn_raw(c), db, strlen(db));
    char sql[256];
    snprintf(sql, sizeof sql, "%s %s%s", prefix, ident ? ident : "\"?\"", suffix);
    PQfreemem(ident);
    st = pg_exec_script(c, sql, err);
    pg_release(admin, c);
    return st;
}

static core_status register_all(es_registry *reg, core_err *err)
{
    core_status st =
        es_registry_add(reg, "estest.ThingCreated", &estest__thing_created__descriptor, err);
    if (!st)
        st = es_registry_add(reg, "estest.ThingCounted", &estest__thing_counted__descriptor, err);
    if (!st)
        st = es_registry_add(reg, "estest.ThingRenamed", &estest__thing_renamed__descriptor, err);
    if (!st)
        st = es_registry_add(reg, "estest.ThingNoted", &estest__thing_noted__descriptor, err);
    if (!st)
        st = es_registry_add(reg, "estest.ThingV1", &estest__thing_v1__descriptor, err);
    return st;
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->live = core_alloc_live();
    char uuid[CORE_UUID_LEN + 1];
    core_uuid_new(uuid);
    snprintf(f->db, sizeof f->db, "it_es_%.8s", uuid);
    core_err err = CORE_ERR_INIT;
    if (admin_db_command("CREATE DATABASE", f->db, "", &err) != CORE_OK) {
        fprintf(stderr, "it_es: create database %s: %s\n", f->db, err.msg);
        free(f);
        return -1;
    }
    struct pg_pool_opts opts = {.conninfo = f->conninfo, .size = 20, .acquire_timeout_ms = 10000};
    pg_conn *c = NULL;
    core_status st = conninfo_with(f->conninfo, sizeof f->conninfo, base_conninfo, "dbname", f->db)
                         ? pg_pool_new(&f->pool, &opts, &err)
                         : core_err_set(&err, CORE_ERR_INVALID, "bad PG_CONN");
    if (!st && !(st = pg_acquire(f->pool, &c, &err))) {
        st = pg_exec_script(c, TABLES_SQL, &err);
        pg_release(f->pool, c);
    }
    if (!st)
        st = es_registry_new(&f->reg, &err);
    if (!st)
        st = register_all(f->reg, &err);
    if (!st)
        st = es_pg_store_new(&f->store, f->pool, "estest", f->reg, &err);
    if (st) {
        fprintf(stderr, "it_es: setting up %s: %s\n", f->db, err.msg);
        es_registry_free(f->reg);
        pg_pool_free(f->pool);
        admin_db_command("DROP DATABASE IF EXISTS", f->db, " WITH (FORCE)", &err);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    es_store_free(f->store);
    es_registry_free(f->reg);
    pg_pool_free(f->pool);
    core_err err = CORE_ERR_INIT;
    core_status st = admin_db_command("DROP DATABASE IF EXISTS", f->db, " WITH (FORCE)", &err);
    if (st != CORE_OK)
        fprintf(stderr, "it_es: drop database %s: %s\n", f->db, err.msg);
    long leaked = core_alloc_live() - f->live;
    free(f);
    if (leaked != 0)
        fprintf(stderr, "it_es: %ld allocation(s) leaked\n", leaked);
    return st == CORE_OK && leaked == 0 ? 0 : -1;
}

static int group_setup(void **state)
{
    (void)state;
    base_conninfo = getenv("PG_CONN");
    if (!base_conninfo || !*base_conninfo)
        base_conninfo = CFG_DEFAULT_PG_CONN;
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts opts = {.conninfo = base_conninfo, .size = 2};
    if (pg_pool_new(&admin, &opts, &err) != CORE_OK) {
        fprintf(stderr, "it_es: %s\n(is the lab up? scripts/lab.sh up)\n", err.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pg_pool_free(admin);
    admin = NULL;
    return 0;
}

/* ---- SQL helpers -------------------------------------------------------------------------------
 */

/* Runs a query with up to 2 parameters; the caller PQclears the result. Asserts success. */
static PGresult *query(pg_pool *pool, const char *sql, const char *p1, const char *p2)
{
    pg_conn *c = NULL;
    core_err err = CORE_ERR_INIT;
    PGresult *r = NULL;
    const char *params[] = {p1, p2};
    assert_int_equal(pg_acquire(pool, &c, &err), CORE_OK);
    core_status st = pg_exec(c, sql, p2 ? 2 : p1 ? 1 : 0, params, &r, &err);
    if (st)
        fprintf(stderr, "query: %s: %s\n", sql, err.msg);
    pg_release(pool, c);
    assert_int_equal(st, CORE_OK);
    return r;
}

static long query_long(pg_pool *pool, const char *sql, const char *p1, const char *p2)
{
    PGresult *r = query(pool, sql, p1, p2);
    assert_int_equal(PQntuples(r), 1);
    long v = PQgetisnull(r, 0, 0) ? -1 : strtol(pg_get(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

static void assert_same_counter(const struct counter *a, const struct counter *b)
{
    assert_string_equal(a->agg.base.id, b->agg.base.id);
    assert_int_equal(a->agg.version, b->agg.version);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->count, b->count);
    assert_int_equal(a->renames, b->renames);
    assert_int_equal(a->notes, b->notes);
}

/* ---- tests
 * --------------------------------------------------------------------------------------- */

static void one_save_stores_all_events_in_order(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    es_repo *repo = NULL;
    assert_int_equal(es_repo_new(&repo, &counter_type, f->store, NULL, 100, &err), CORE_OK);
    struct counter c;
    counter_init(&c);
    assert_int_equal(counter_create(&c, "m1", "widget \"one\" O'Reilly", &err), CORE_OK);
    assert_int_equal(counter_add(&c, 2, &err), CORE_OK);
    assert_int_equal(counter_note(&c, &err), CORE_OK);
    assert_int_equal(counter_rename(&c, "gadget", &err), CORE_OK);
    assert_int_equal(counter_add(&c, 40, &err), CORE_OK);
    char ids[5][CORE_UUID_LEN + 1];
    struct timespec at[5];
    for (size_t i = 0; i < 5; i++) {
        core_strlcpy(ids[i], ddd_event_id(c.agg.base.events.items[i]), sizeof ids[i]);
        at[i] = ddd_event_occurred_at(c.agg.base.events.items[i]);
    }
    assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK);
    assert_int_equal(c.agg.version, 5);

    const char *names[] = {"estest.ThingCreated", "estest.ThingCounted", "estest.ThingNoted",
                           "estest.ThingRenamed", "estest.ThingCounted"};
    PGresult *r =
        query(f->pool,
              "SELECT stream_version, event_name, event_id, metadata->>'aggregate-version', "
              "metadata->>'aggregate-id', stream_name FROM estest.events WHERE stream_id = $1 "
              "ORDER BY stream_version",
              "m1", NULL);
    assert_int_equal(PQntuples(r), 5);
    for (int i = 0; i < 5; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i + 1);
        assert_string_equal(pg_get(r, i, 0), v);
        assert_string_equal(pg_get(r, i, 1), names[i]);
        assert_string_equal(pg_get(r, i, 2), ids[i]);
        assert_string_equal(pg_get(r, i, 3), v);
        assert_string_equal(pg_get(r, i, 4), "m1");
        assert_string_equal(pg_get(r, i, 5), "test.Counter");
    }
    PQclear(r);
    /* the payloads are readable JSON */
    r = query(
        f->pool,
        "SELECT event_data->>'name', (SELECT sum((event_data->>'by')::int) FROM estest.events "
        "WHERE stream_id = $1 AND event_name = 'estest.ThingCounted'), "
        "(SELECT event_data::text FROM estest.events WHERE stream_id = $1 AND stream_version = 3) "
        "FROM estest.events WHERE stream_id = $1 AND stream_version = 1",
        "m1", NULL);
    assert_string_equal(pg_get(r, 0, 0), "widget \"one\" O'Reilly");
    assert_string_equal(pg_get(r, 0, 1), "42");
    assert_string_equal(pg_get(r, 0, 2), "{}"); /* an event without data */
    PQclear(r);

    /* a second multi-event save continues at 6 */
    assert_int_equal(counter_add(&c, 1, &err), CORE_OK);
    assert_int_equal(counter_add(&c, 1, &err), CORE_OK);
    assert_int_equal(counter_add(&c, 1, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK);
    assert_int_equal(
        query_long(f->pool, "SELECT count(*) FROM estest.events WHERE stream_id = $1", "m1", NULL),
        8);
    assert_int_equal(
        query_long(f->pool, "SELECT max(stream_version) FROM estest.events WHERE stream_id = $1",
                   "m1", NULL),
        8);

    /* the store rebuilds each event with its stored id, name, payload and time */
    struct ddd_event_list l = DDD_EVENT_LIST_INIT;
    assert_int_equal(es_store_load(f->store, "test.Counter", "m1", 0, &l, &err), CORE_OK);
    assert_int_equal(l.n, 8);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(ddd_event_id(l.items[i]), ids[i]);
        assert_string_equal(ddd_event_name(l.items[i]), names[i]);
        assert_int_equal(ddd_event_occurred_at(l.items[i]).tv_sec, at[i].tv_sec);
        assert_int_equal(ddd_event_occurred_at(l.items[i]).tv_nsec,
                         at[i].tv_nsec - at[i].tv_nsec % 1000);
    }
    assert_int_equal(((const Estest__ThingCounted *)ddd_event_payload(l.items[4]))->by, 40);
    ddd_event_list_release(&l);

    struct counter back;
    counter_init(&back);
    assert_int_equal(es_repo_load(repo, "m1", &back, &err), CORE_OK);
    assert_same_counter(&back, &c);
    assert_int_equal(back.count, 45);
    es_aggregate_release(&back.agg);
    es_aggregate_release(&c.agg);

    /* unknown id */
    counter_init(&back);
    assert_int_equal(es_repo_load(repo, "nope", &back, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "test.Counter nope not found");
    es_aggregate_release(&back.agg);
    es_repo_free(repo);
}

/* ---- concurrency -------------------------------------------------------------------------------
 */

#define WRITERS 16
#define COMMANDS 100

struct writer {
    es_repo *repo;
    int successes;
    int conflicts;
    int unclear;       /* conflicts whose message was not the clear one */
    core_status other; /* first unexpected status */
    char other_msg[CORE_ERR_MSG_MAX];
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    for (int i = 0; i < COMMANDS; i++) {
        core_err err = CORE_ERR_INIT;
        struct counter c;
        counter_init(&c);
        core_status st = es_repo_load(w->repo, "hot", &c, &err);
        if (!st)
            st = counter_add(&c, 1, &err);
        if (!st)
            st = es_repo_save(w->repo, &c, &err);
        if (st == CORE_OK) {
            w->successes++;
        } else if (st == CORE_ERR_CONFLICT) {
            w->conflicts++;
            unsigned long long e = 0, s = 0;
            if (sscanf(err.msg,
                       "test.Counter hot was changed by someone else (expected version %llu, "
                       "stored version %llu)",
                       &e, &s) != 2 ||
                s <= e)
                w->unclear++;
        } else if (!w->other) {
            w->other = st;
            core_strlcpy(w->other_msg, err.msg, sizeof w->other_msg);
        }
        es_aggregate_release(&c.agg);
    }
    return NULL;
}

static void concurrent_writers_never_lose_or_duplicate(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    es_repo *repo = NULL;
    assert_int_equal(es_repo_new(&repo, &counter_type, f->store, NULL, 3, &err), CORE_OK);
    struct counter c;
    counter_init(&c);
    assert_int_equal(counter_create(&c, "hot", "contended", &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK);
    es_aggregate_release(&c.agg);

    struct writer w[WRITERS];
    pthread_t th[WRITERS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < WRITERS; i++) {
        w[i].repo = repo;
        assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);

    int successes = 0, conflicts = 0, unclear = 0;
    for (int i = 0; i < WRITERS; i++) {
        if (w[i].other)
            fprintf(stderr, "writer %d: %s: %s\n", i, core_status_name(w[i].other), w[i].other_msg);
        assert_int_equal(w[i].other, CORE_OK);
        successes += w[i].successes;
        conflicts += w[i].conflicts;
        unclear += w[i].unclear;
    }
    fprintf(stderr, "it_es: %d saves, %d conflicts\n", successes, conflicts);
    assert_int_equal(successes + conflicts, WRITERS * COMMANDS);
    assert_true(successes > 0);
    assert_true(conflicts > 0); /* the test did contend */
    assert_int_equal(unclear, 0);

    /* final version == successful saves (+1: the create); versions 1..final without a gap */
    counter_init(&c);
    assert_int_equal(es_repo_load(repo, "hot", &c, &err), CORE_OK);
    assert_int_equal(c.agg.version, (uint64_t)successes + 1);
    assert_int_equal(c.count, successes);
    PGresult *r = query(
        f->pool,
        "SELECT count(*), min(stream_version), max(stream_version), count(DISTINCT "
        "stream_version), "
        "count(DISTINCT event_id) FROM estest.events WHERE stream_id = $1 AND stream_name = $2",
        "hot", "test.Counter");
    long final = successes + 1;
    assert_int_equal(strtol(pg_get(r, 0, 0), NULL, 10), final);
    assert_int_equal(strtol(pg_get(r, 0, 1), NULL, 10), 1);
    assert_int_equal(strtol(pg_get(r, 0, 2), NULL, 10), final);
    assert_int_equal(strtol(pg_get(r, 0, 3), NULL, 10), final);
    assert_int_equal(strtol(pg_get(r, 0, 4), NULL, 10), final);
    PQclear(r);

    /* the snapshot written under contention is consistent with the events */
    long snap = query_long(
        f->pool, "SELECT stream_version FROM estest.snapshots WHERE stream_id = $1", "hot", NULL);
    assert_true(snap >= final - 3 && snap <= final);
    assert_int_equal(query_long(f->pool,
                                "SELECT (snapshot_data->>'count')::int FROM estest.snapshots "
                                "WHERE stream_id = $1",
                                "hot", NULL),
                     snap - 1);
    es_repo *plain = NULL;
    assert_int_equal(es_repo_new(&plain, &counter_type_no_snapshots, f->store, NULL, 0, &err),
                     CORE_OK);
    struct counter replayed;
    counter_init(&replayed);
    assert_int_equal(es_repo_load(plain, "hot", &replayed, &err), CORE_OK);
    assert_same_counter(&c, &replayed);
    es_aggregate_release(&replayed.agg);
    es_aggregate_release(&c.agg);
    es_repo_free(plain);
    es_repo_free(repo);
}

/* ---- snapshots
 * ------------------------------------------------------------------------------------ */

static void snapshot_plus_events_equals_events_only(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    es_repo *repo = NULL, *plain = NULL;
    assert_int_equal(es_repo_new(&repo, &counter_type, f->store, NULL, 3, &err), CORE_OK);
    assert_int_equal(es_repo_new(&plain, &counter_type_no_snapshots, f->store, NULL, 3, &err),
                     CORE_OK);
    struct counter c;
    counter_init(&c);
    assert_int_equal(counter_create(&c, "s1", "snappy", &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK);
    es_aggregate_release(&c.agg);
    for (int i = 1; i <= 9; i++) {
        counter_init(&c);
        assert_int_equal(es_repo_load(repo, "s1", &c, &err), CORE_OK);
        assert_int_equal(counter_add(&c, i, &err), CORE_OK);
        if (i % 4 == 0)
            assert_int_equal(counter_rename(&c, i == 4 ? "four" : "eight", &err), CORE_OK);
        if (i == 5)
            assert_int_equal(counter_note(&c, &err), CORE_OK);
        assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK);
        es_aggregate_release(&c.agg);
    }
    /* versions: 1, then +1 each, +2 at i=4, 5, 8: total 1 + 9 + 3 = 13; snapshots at 3, 6, ..., 12
     */
    PGresult *r = query(f->pool,
                        "SELECT stream_version, snapshot_name, snapshot_data->>'name', "
                        "(snapshot_data->>'count')::int "
                        "FROM estest.snapshots WHERE stream_id = $1 AND stream_name = $2",
                        "s1", "test.Counter");
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(pg_get(r, 0, 0), "12");
    assert_string_equal(pg_get(r, 0, 1), "estest.ThingV1");
    assert_string_equal(pg_get(r, 0, 2), "eight");
    assert_string_equal(pg_get(r, 0, 3), "36"); /* 1+..+8 */
    PQclear(r);

    struct counter a, b;
    counter_init(&a);
    counter_init(&b);
    assert_int_equal(es_repo_load(repo, "s1", &a, &err), CORE_OK);
    assert_int_equal(es_repo_load(plain, "s1", &b, &err), CORE_OK);
    assert_same_counter(&a, &b);
    assert_int_equal(a.agg.version, 13);
    assert_int_equal(a.count, 45);
    assert_int_equal(a.renames, 2);
    assert_int_equal(a.notes, 1);
    es_aggregate_release(&a.agg);
    es_aggregate_release(&b.agg);

    /* snapshot only (no later events): still found, at the snapshot's version */
    counter_init(&c);
    assert_int_equal(es_repo_load(repo, "s1", &c, &err), CORE_OK);
    assert_int_equal(counter_add(&c, 100, &err), CORE_OK);
    assert_int_equal(counter_add(&c, 100, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK); /* 15: crossed 15 -> snapshot at 15 */
    es_aggregate_release(&c.agg);
    assert_int_equal(query_long(f->pool,
                                "SELECT stream_version FROM estest.snapshots WHERE stream_id = $1",
                                "s1", NULL),
                     15);
    counter_init(&a);
    assert_int_equal(es_repo_load(repo, "s1", &a, &err), CORE_OK);
    assert_int_equal(a.agg.version, 15);
    assert_int_equal(a.count, 245);
    es_aggregate_release(&a.agg);
    es_repo_free(repo);
    es_repo_free(plain);
}

/* ---- conflicts
 * ------------------------------------------------------------------------------------ */

struct blocked_append {
    es_store *store;
    ddd_event *ev;
    core_status st;
    core_err err;
};

static void *append_at_1(void *arg)
{
    struct blocked_append *b = arg;
    b->st = es_store_append(b->store, "test.Counter", "k1", 1, &b->ev, 1, &b->err);
    return NULL;
}

static void conflicts_are_clear_and_store_nothing(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    es_repo *repo = NULL;
    assert_int_equal(es_repo_new(&repo, &counter_type, f->store, NULL, 0, &err), CORE_OK);
    struct counter c, a, b;
    counter_init(&c);
    assert_int_equal(counter_create(&c, "k1", "keys", &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK);
    es_aggregate_release(&c.agg);

    /* the version check: a stale writer */
    counter_init(&a);
    counter_init(&b);
    assert_int_equal(es_repo_load(repo, "k1", &a, &err), CORE_OK);
    assert_int_equal(es_repo_load(repo, "k1", &b, &err), CORE_OK);
    assert_int_equal(counter_add(&a, 1, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &a, &err), CORE_OK);
    assert_int_equal(counter_add(&b, 5, &err), CORE_OK);
    assert_int_equal(counter_add(&b, 6, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &b, &err), CORE_ERR_CONFLICT);
    assert_string_equal(
        err.msg,
        "test.Counter k1 was changed by someone else (expected version 1, stored version 2)");
    assert_int_equal(b.agg.base.events.n, 2);
    assert_int_equal(
        query_long(f->pool, "SELECT count(*) FROM estest.events WHERE stream_id = $1", "k1", NULL),
        2);
    es_aggregate_release(&a.agg);
    es_aggregate_release(&b.agg);

    counter_init(&c);
    assert_int_equal(counter_create(&c, "k1", "again", &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &c, &err), CORE_ERR_CONFLICT);
    assert_string_equal(err.msg,
                        "test.Counter k1 already exists (expected version 0, stored version 2)");
    es_aggregate_release(&c.agg);

    /* the primary key: a writer that commits between our check and our insert. A transaction
     * holds version 3 uncommitted; an append expecting 1... is refused by the check; so delete
     * back to version 1 first, then race: the open transaction inserts version 2, the append
     * at 1 sees max = 1 (uncommitted rows are invisible), its insert waits, the commit makes
     * it fail with a unique violation -> CONFLICT with the version read afterwards. */
    PQclear(query(f->pool, "DELETE FROM estest.events WHERE stream_id = $1 AND stream_version > 1",
                  "k1", NULL));
    pg_conn *tx = NULL;
    assert_int_equal(pg_acquire(f->pool, &tx, &err), CORE_OK);
    assert_int_equal(pg_begin(tx, &err), CORE_OK);
    assert_int_equal(pg_exec(tx,
                             "INSERT INTO estest.events (stream_id, stream_name, stream_version, "
                             "event_id, event_name, "
                             "event_data, metadata) VALUES ('k1', 'test.Counter', 2, 'x', "
                             "'estest.ThingNoted', '{}', '{}')",
                             0, NULL, NULL, &err),
                     CORE_OK);
    struct blocked_append ba = {.store = f->store, .err = CORE_ERR_INIT};
    ProtobufCMessage *p = pb_new(&estest__thing_noted__descriptor);
    assert_int_equal(ddd_event_new(&ba.ev, "estest.ThingNoted", &p, &err), CORE_OK);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, append_at_1, &ba), 0);
    usleep(300 * 1000); /* let it block on the key */
    assert_int_equal(pg_commit(tx, &err), CORE_OK);
    pg_release(f->pool, tx);
    pthread_join(th, NULL);
    assert_int_equal(ba.st, CORE_ERR_CONFLICT);
    assert_string_equal(
        ba.err.msg,
        "test.Counter k1 was changed by someone else (expected version 1, stored version 2)");
    ddd_event_free(ba.ev);
    assert_int_equal(
        query_long(f->pool, "SELECT count(*) FROM estest.events WHERE stream_id = $1", "k1", NULL),
        2);
    assert_int_equal(
        query_long(f->pool, "SELECT count(*) FROM estest.events WHERE event_id = $1", "x", NULL),
        1);
    es_repo_free(repo);
}

static void schema_names_are_checked(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    const char *bad[] = {"",
                         "Estest",
                         "1abc",
                         "a-b",
                         "estest; DROP TABLE x",
                         "es\"test",
                         "a b",
                         "a234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        es_store *s = NULL;
        assert_int_equal(es_pg_store_new(&s, f->pool, bad[i], f->reg, &err), CORE_ERR_INVALID);
        assert_null(s);
        assert_non_null(strstr(err.msg, "schema"));
    }
    assert_int_equal(es_pg_store_new(NULL, f->pool, NULL, f->reg, &err), CORE_ERR_INVALID);
    /* a valid name of a schema that does not exist fails at use, as a database error */
    es_store *s = NULL;
    assert_int_equal(es_pg_store_new(&s, f->pool, "_no_such_schema1", f->reg, &err), CORE_OK);
    struct ddd_event_list l = DDD_EVENT_LIST_INIT;
    assert_int_equal(es_store_load(s, "test.Counter", "x", 0, &l, &err), CORE_ERR_IO);
    assert_non_null(strstr(err.msg, "_no_such_schema1"));
    es_store_free(s);
}

int main(void)
{
    log_init(LOG_LEVEL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(one_save_stores_all_events_in_order, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(concurrent_writers_never_lose_or_duplicate, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(snapshot_plus_events_equals_events_only, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(conflicts_are_clear_and_store_nothing, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(schema_names_are_checked, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
