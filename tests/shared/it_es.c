/* it_es.c -- integration tests of es.h's PostgreSQL store against the lab (scripts/lab.sh up).
 *
 * Every test gets a scratch database of its own from e2e_db_create() (through PG_CONN, default
 * CFG_DEFAULT_PG_CONN), with the schema "estest" and its events/snapshots tables (the SQL of
 * es.h's header), dropped afterwards. The aggregate is "test.Thing" of es_thing.h, whose events
 * and snapshot are messages of es_test.proto. Worker threads never call cmocka asserts (they
 * longjmp): they record results the main thread checks.
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

#include "core.h"
#include "ddd.h"
#include "e2e.h"
#include "es.h"
#include "es_test.pb-c.h"
#include "es_thing.h"
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

/* ---- fixture ------------------------------------------------------------------------------------
 */

struct fx {
    struct e2e_scratch scratch; /* the test's database and leak check */
    pg_pool *pool;              /* size 20 on the scratch database */
    es_registry *reg;
    es_store *store;
};

/* Frees what the fixture holds (any part may be missing), drops the database, checks for leaks. */
static int fx_teardown(void **state)
{
    struct fx *f = *state;
    es_store_free(f->store);
    es_registry_free(f->reg);
    pg_pool_free(f->pool);
    int rc = e2e_scratch_close(&f->scratch);
    free(f);
    return rc;
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f || e2e_scratch_open(&f->scratch, "it_es") != 0) {
        free(f);
        return -1;
    }
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts opts = {
        .conninfo = f->scratch.db.conninfo, .size = 20, .acquire_timeout_ms = 10000};
    pg_conn *c = NULL;
    core_status st = pg_pool_new(&f->pool, &opts, &err);
    if (!st && !(st = pg_acquire(f->pool, &c, &err))) {
        st = pg_exec_script(c, TABLES_SQL, &err);
        pg_release(f->pool, c);
    }
    if (!st)
        st = es_registry_new(&f->reg, &err);
    if (!st)
        st = thing_register(f->reg, &err);
    if (!st)
        st = es_pg_store_new(&f->store, f->pool, "estest", f->reg, &err);
    *state = f;
    if (st) {
        fprintf(stderr, "it_es: setting up %s: %s\n", f->scratch.db.name, err.msg);
        fx_teardown(state);
        return -1;
    }
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

/* ---- tests
 * --------------------------------------------------------------------------------------- */

static void one_save_stores_all_events_in_order(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    es_repo *repo = NULL;
    assert_int_equal(es_repo_new(&repo, &thing_type, f->store, NULL, 100, &err), CORE_OK);
    struct thing c;
    thing_init(&c);
    assert_int_equal(thing_create(&c, "m1", "widget \"one\" O'Reilly", &err), CORE_OK);
    assert_int_equal(thing_count(&c, 2, &err), CORE_OK);
    assert_int_equal(thing_note(&c, &err), CORE_OK);
    assert_int_equal(thing_rename(&c, "gadget", &err), CORE_OK);
    assert_int_equal(thing_count(&c, 40, &err), CORE_OK);
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
        assert_string_equal(pg_get(r, i, 5), "test.Thing");
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
    assert_int_equal(thing_count(&c, 1, &err), CORE_OK);
    assert_int_equal(thing_count(&c, 1, &err), CORE_OK);
    assert_int_equal(thing_count(&c, 1, &err), CORE_OK);
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
    assert_int_equal(es_store_load(f->store, "test.Thing", "m1", 0, &l, &err), CORE_OK);
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

    struct thing back;
    thing_init(&back);
    assert_int_equal(es_repo_load(repo, "m1", &back, &err), CORE_OK);
    thing_assert_same(&back, &c);
    assert_int_equal(back.count, 45);
    es_aggregate_release(&back.agg);
    es_aggregate_release(&c.agg);

    /* unknown id */
    thing_init(&back);
    assert_int_equal(es_repo_load(repo, "nope", &back, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "test.Thing nope not found");
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
        struct thing c;
        thing_init(&c);
        core_status st = es_repo_load(w->repo, "hot", &c, &err);
        if (!st)
            st = thing_count(&c, 1, &err);
        if (!st)
            st = es_repo_save(w->repo, &c, &err);
        if (st == CORE_OK) {
            w->successes++;
        } else if (st == CORE_ERR_CONFLICT) {
            w->conflicts++;
            unsigned long long e = 0, s = 0;
            if (sscanf(err.msg,
                       "test.Thing hot was changed by someone else (expected version %llu, "
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
    assert_int_equal(es_repo_new(&repo, &thing_type, f->store, NULL, 3, &err), CORE_OK);
    struct thing c;
    thing_init(&c);
    assert_int_equal(thing_create(&c, "hot", "contended", &err), CORE_OK);
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
    thing_init(&c);
    assert_int_equal(es_repo_load(repo, "hot", &c, &err), CORE_OK);
    assert_int_equal(c.agg.version, (uint64_t)successes + 1);
    assert_int_equal(c.count, successes);
    PGresult *r = query(
        f->pool,
        "SELECT count(*), min(stream_version), max(stream_version), count(DISTINCT "
        "stream_version), "
        "count(DISTINCT event_id) FROM estest.events WHERE stream_id = $1 AND stream_name = $2",
        "hot", "test.Thing");
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
    assert_int_equal(es_repo_new(&plain, &thing_type_no_snapshots, f->store, NULL, 0, &err),
                     CORE_OK);
    struct thing replayed;
    thing_init(&replayed);
    assert_int_equal(es_repo_load(plain, "hot", &replayed, &err), CORE_OK);
    thing_assert_same(&c, &replayed);
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
    assert_int_equal(es_repo_new(&repo, &thing_type, f->store, NULL, 3, &err), CORE_OK);
    assert_int_equal(es_repo_new(&plain, &thing_type_no_snapshots, f->store, NULL, 3, &err),
                     CORE_OK);
    struct thing c;
    thing_init(&c);
    assert_int_equal(thing_create(&c, "s1", "snappy", &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK);
    es_aggregate_release(&c.agg);
    for (int i = 1; i <= 9; i++) {
        thing_init(&c);
        assert_int_equal(es_repo_load(repo, "s1", &c, &err), CORE_OK);
        assert_int_equal(thing_count(&c, i, &err), CORE_OK);
        if (i % 4 == 0)
            assert_int_equal(thing_rename(&c, i == 4 ? "four" : "eight", &err), CORE_OK);
        if (i == 5)
            assert_int_equal(thing_note(&c, &err), CORE_OK);
        assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK);
        es_aggregate_release(&c.agg);
    }
    /* versions: 1, then +1 each, +2 at i=4, 5, 8: total 1 + 9 + 3 = 13; snapshots at 3, 6, ..., 12
     */
    PGresult *r = query(f->pool,
                        "SELECT stream_version, snapshot_name, snapshot_data->>'name', "
                        "(snapshot_data->>'count')::int "
                        "FROM estest.snapshots WHERE stream_id = $1 AND stream_name = $2",
                        "s1", "test.Thing");
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(pg_get(r, 0, 0), "12");
    assert_string_equal(pg_get(r, 0, 1), "estest.ThingV1");
    assert_string_equal(pg_get(r, 0, 2), "eight");
    assert_string_equal(pg_get(r, 0, 3), "36"); /* 1+..+8 */
    PQclear(r);

    struct thing a, b;
    thing_init(&a);
    thing_init(&b);
    assert_int_equal(es_repo_load(repo, "s1", &a, &err), CORE_OK);
    assert_int_equal(es_repo_load(plain, "s1", &b, &err), CORE_OK);
    thing_assert_same(&a, &b);
    assert_int_equal(a.agg.version, 13);
    assert_int_equal(a.count, 45);
    assert_int_equal(a.renames, 2);
    assert_int_equal(a.notes, 1);
    es_aggregate_release(&a.agg);
    es_aggregate_release(&b.agg);

    /* snapshot only (no later events): still found, at the snapshot's version */
    thing_init(&c);
    assert_int_equal(es_repo_load(repo, "s1", &c, &err), CORE_OK);
    assert_int_equal(thing_count(&c, 100, &err), CORE_OK);
    assert_int_equal(thing_count(&c, 100, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK); /* 15: crossed 15 -> snapshot at 15 */
    es_aggregate_release(&c.agg);
    assert_int_equal(query_long(f->pool,
                                "SELECT stream_version FROM estest.snapshots WHERE stream_id = $1",
                                "s1", NULL),
                     15);
    thing_init(&a);
    assert_int_equal(es_repo_load(repo, "s1", &a, &err), CORE_OK);
    assert_int_equal(a.agg.version, 15);
    assert_int_equal(a.count, 245);
    es_aggregate_release(&a.agg);
    es_repo_free(repo);
    es_repo_free(plain);
}

/* ---- round trips
 * --------------------------------------------------------------------------------- */

/* Whether a statement starting with prefix (and containing part, when not NULL) was prepared on
 * conn, i.e. ran on it (pg.h prepares every statement it runs). */
static bool prepared(pg_conn *conn, const char *prefix, const char *part)
{
    core_err err = CORE_ERR_INIT;
    PGresult *r = NULL;
    assert_int_equal(
        pg_exec(conn, "SELECT statement FROM pg_prepared_statements", 0, NULL, &r, &err), CORE_OK);
    bool found = false;
    for (int i = 0; i < PQntuples(r) && !found; i++) {
        const char *sql = pg_get(r, i, 0);
        found = strncmp(sql, prefix, strlen(prefix)) == 0 && (!part || strstr(sql, part));
    }
    PQclear(r);
    return found;
}

/* es_repo_load reads the snapshot and the later events in one statement, and the save of one
 * event is one statement (no BEGIN, no version read of its own, no COMMIT), also when it writes
 * the snapshot due at its version. On a pool of ONE connection, the statements prepared on it
 * tell what ran. The one-statement load still ignores a snapshot of another name and still
 * rebuilds the same entity. */
static void loads_and_single_appends_are_one_statement(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    pg_pool *one = NULL;
    es_store *store = NULL;
    es_repo *repo = NULL, *v2 = NULL;
    struct pg_pool_opts opts = {.conninfo = f->scratch.db.conninfo, .size = 1};
    assert_int_equal(pg_pool_new(&one, &opts, &err), CORE_OK);
    assert_int_equal(es_pg_store_new(&store, one, "estest", f->reg, &err), CORE_OK);
    assert_int_equal(es_repo_new(&repo, &thing_type, store, NULL, 3, &err), CORE_OK);
    assert_int_equal(es_repo_new(&v2, &thing_type_v2, store, NULL, 3, &err), CORE_OK);
    struct thing c;
    thing_init(&c);
    assert_int_equal(thing_create(&c, "r1", "round", &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK);
    es_aggregate_release(&c.agg);
    for (int i = 1; i <= 4; i++) { /* versions 2..5, a snapshot at 3 */
        thing_init(&c);
        assert_int_equal(es_repo_load(repo, "r1", &c, &err), CORE_OK);
        assert_int_equal(thing_count(&c, i, &err), CORE_OK);
        assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK);
        es_aggregate_release(&c.agg);
    }
    pg_conn *conn = NULL;
    assert_int_equal(pg_acquire(one, &conn, &err), CORE_OK);
    assert_false(prepared(conn, "BEGIN", NULL));
    assert_false(prepared(conn, "COMMIT", NULL));
    assert_false(prepared(conn, "SELECT coalesce(max(stream_version), 0)", NULL));
    assert_false(prepared(conn, "SELECT stream_version, snapshot_name", NULL));
    assert_false(prepared(conn, "INSERT INTO \"estest\".snapshots", NULL));
    assert_true(prepared(conn, "WITH snap AS", "\"estest\".events"));
    assert_true(prepared(conn, "INSERT INTO \"estest\".events", NULL));
    assert_true(prepared(conn, "WITH ev AS", "\"estest\".snapshots"));
    pg_release(one, conn);
    assert_int_equal(query_long(f->pool,
                                "SELECT stream_version FROM estest.snapshots WHERE stream_id = $1",
                                "r1", NULL),
                     3);

    struct thing a, b;
    thing_init(&a);
    thing_init(&b);
    thing_snapshots_applied = 0;
    assert_int_equal(es_repo_load(repo, "r1", &a, &err), CORE_OK); /* snapshot 3 + events 4, 5 */
    assert_int_equal(thing_snapshots_applied, 1);
    assert_int_equal(es_repo_load(v2, "r1", &b, &err), CORE_OK); /* ThingV1 ignored: all events */
    assert_int_equal(thing_snapshots_applied, 1);
    thing_assert_same(&a, &b);
    assert_int_equal(a.agg.version, 5);
    assert_int_equal(a.count, 10);
    es_aggregate_release(&a.agg);
    es_aggregate_release(&b.agg);
    thing_init(&c);
    assert_int_equal(es_repo_load(repo, "r2", &c, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "test.Thing r2 not found");
    es_aggregate_release(&c.agg);

    es_repo_free(v2);
    es_repo_free(repo);
    es_store_free(store);
    pg_pool_free(one);
}

/* A snapshot the database refuses never costs the events saved with it: the save succeeds, the
 * events are stored, the snapshot is not (and the next load rebuilds from the events). */
static void a_refused_snapshot_keeps_the_events(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    PQclear(query(f->pool,
                  "ALTER TABLE estest.snapshots ADD CONSTRAINT no_snapshots "
                  "CHECK (stream_version < 0)",
                  NULL, NULL));
    es_repo *repo = NULL;
    assert_int_equal(es_repo_new(&repo, &thing_type, f->store, NULL, 2, &err), CORE_OK);
    struct thing c;
    thing_init(&c);
    assert_int_equal(thing_create(&c, "k1", "kept", &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK); /* version 1 */
    assert_int_equal(thing_count(&c, 5, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK); /* version 2: a snapshot is due */
    assert_int_equal(c.agg.version, 2);
    es_aggregate_release(&c.agg);
    assert_int_equal(
        query_long(f->pool, "SELECT count(*) FROM estest.events WHERE stream_id = $1", "k1", NULL),
        2);
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM estest.snapshots", NULL, NULL), 0);
    thing_init(&c);
    assert_int_equal(es_repo_load(repo, "k1", &c, &err), CORE_OK);
    assert_int_equal(c.agg.version, 2);
    assert_int_equal(c.count, 5);
    es_aggregate_release(&c.agg);
    es_repo_free(repo);
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
    b->st = es_store_append(b->store, "test.Thing", "k1", 1, &b->ev, 1, &b->err);
    return NULL;
}

static void conflicts_are_clear_and_store_nothing(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    es_repo *repo = NULL;
    assert_int_equal(es_repo_new(&repo, &thing_type, f->store, NULL, 0, &err), CORE_OK);
    struct thing c, a, b;
    thing_init(&c);
    assert_int_equal(thing_create(&c, "k1", "keys", &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &c, &err), CORE_OK);
    es_aggregate_release(&c.agg);

    /* the version check: a stale writer */
    thing_init(&a);
    thing_init(&b);
    assert_int_equal(es_repo_load(repo, "k1", &a, &err), CORE_OK);
    assert_int_equal(es_repo_load(repo, "k1", &b, &err), CORE_OK);
    assert_int_equal(thing_count(&a, 1, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &a, &err), CORE_OK);
    assert_int_equal(thing_count(&b, 5, &err), CORE_OK);
    assert_int_equal(thing_count(&b, 6, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &b, &err), CORE_ERR_CONFLICT);
    assert_string_equal(
        err.msg,
        "test.Thing k1 was changed by someone else (expected version 1, stored version 2)");
    assert_int_equal(b.agg.base.events.n, 2);
    assert_int_equal(
        query_long(f->pool, "SELECT count(*) FROM estest.events WHERE stream_id = $1", "k1", NULL),
        2);
    es_aggregate_release(&a.agg);
    es_aggregate_release(&b.agg);

    thing_init(&c);
    assert_int_equal(thing_create(&c, "k1", "again", &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &c, &err), CORE_ERR_CONFLICT);
    assert_string_equal(err.msg,
                        "test.Thing k1 already exists (expected version 0, stored version 2)");
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
                             "event_data, metadata) VALUES ('k1', 'test.Thing', 2, 'x', "
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
        "test.Thing k1 was changed by someone else (expected version 1, stored version 2)");
    ddd_event_free(ba.ev);
    assert_int_equal(
        query_long(f->pool, "SELECT count(*) FROM estest.events WHERE stream_id = $1", "k1", NULL),
        2);
    assert_int_equal(
        query_long(f->pool, "SELECT count(*) FROM estest.events WHERE event_id = $1", "x", NULL),
        1);
    es_repo_free(repo);
}

/* ---- transactions the caller owns
 * ----------------------------------------------------------------
 */

/* A row of another table, written in the same transaction as the events (as chapter 09's outbox
 * will be). */
static core_status insert_side(pg_conn *tx, const char *note, core_err *err)
{
    const char *params[] = {note};
    return pg_exec(tx, "INSERT INTO estest.side (note) VALUES ($1)", 1, params, NULL, err);
}

struct side_and_save {
    es_repo *repo;
    struct thing *thing;
    struct ddd_event_list saved;
    const char *note;
    long visible_outside; /* events of the thing another connection saw before the commit */
    pg_pool *pool;
    bool then_fail; /* return an error after both writes: pg_with_tx rolls back */
};

static core_status side_and_save_body(pg_conn *tx, void *vctx, core_err *err)
{
    struct side_and_save *c = vctx;
    core_status st = insert_side(tx, c->note, err);
    if (!st)
        st = es_repo_save_in(c->repo, tx, c->thing, &c->saved, err);
    if (!st)
        c->visible_outside =
            query_long(c->pool, "SELECT count(*) FROM estest.events WHERE stream_id = $1",
                       c->thing->agg.base.id, NULL);
    if (!st && c->then_fail)
        st = core_err_set(err, CORE_ERR_INVALID, "the caller changed its mind");
    return st;
}

/* The events and a snapshot go into the caller's transaction: rolled back, nothing of them (nor
 * of the other table) is stored; committed, all of it is, and nothing was visible before. */
static void append_inside_the_callers_transaction(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    es_repo *repo = NULL;
    PQclear(query(f->pool, "CREATE TABLE estest.side (note text NOT NULL)", NULL, NULL));
    assert_int_equal(es_repo_new(&repo, &thing_type, f->store, NULL, 2, &err), CORE_OK);
    struct thing t;
    thing_init(&t);
    assert_int_equal(thing_create(&t, "tx1", "crate", &err), CORE_OK);
    assert_int_equal(thing_count(&t, 5, &err), CORE_OK);

    struct side_and_save c = {repo, &t, DDD_EVENT_LIST_INIT, "rolled back", -1, f->pool, true};
    assert_int_equal(pg_with_tx(f->pool, side_and_save_body, &c, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the caller changed its mind");
    assert_int_equal(c.visible_outside, 0);
    assert_int_equal(c.saved.n, 2); /* handed over: the caller drops them unpublished */
    ddd_event_list_release(&c.saved);
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM estest.events", NULL, NULL), 0);
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM estest.snapshots", NULL, NULL), 0);
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM estest.side", NULL, NULL), 0);
    struct thing u;
    thing_init(&u);
    assert_int_equal(es_repo_load(repo, "tx1", &u, &err), CORE_ERR_NOT_FOUND);
    thing_release(&u);
    thing_release(&t); /* its version no longer matches the store */

    thing_init(&t);
    assert_int_equal(thing_create(&t, "tx1", "crate", &err), CORE_OK);
    assert_int_equal(thing_count(&t, 5, &err), CORE_OK);
    c = (struct side_and_save){repo, &t, DDD_EVENT_LIST_INIT, "committed", -1, f->pool, false};
    assert_int_equal(pg_with_tx(f->pool, side_and_save_body, &c, &err), CORE_OK);
    assert_int_equal(c.visible_outside, 0);
    assert_int_equal(c.saved.n, 2);
    ddd_event_list_release(&c.saved);
    assert_int_equal(
        query_long(f->pool, "SELECT count(*) FROM estest.events WHERE stream_id = $1", "tx1", NULL),
        2);
    assert_int_equal(query_long(f->pool,
                                "SELECT stream_version FROM estest.snapshots WHERE stream_id = $1",
                                "tx1", NULL),
                     2);
    assert_int_equal(
        query_long(f->pool, "SELECT count(*) FROM estest.side WHERE note = $1", "committed", NULL),
        1);
    thing_init(&u);
    assert_int_equal(es_repo_load(repo, "tx1", &u, &err), CORE_OK);
    thing_assert_same(&u, &t);
    thing_release(&u);
    thing_release(&t);
    es_repo_free(repo);
}

/* Waits (at most 10 s) until a session of this database waits for a lock; false if none did. */
static bool wait_for_lock_waiter(pg_pool *pool)
{
    for (int i = 0; i < 200; i++) {
        if (query_long(pool,
                       "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                       "WHERE NOT l.granted AND a.datname = current_database()",
                       NULL, NULL) > 0)
            return true;
        usleep(50 * 1000);
    }
    return false;
}

/* A writer that appends inside its own transaction, then writes another row and commits. */
struct tx_writer {
    pg_pool *pool;
    es_store *store;
    ddd_event *ev;
    core_status append_st, after_st;
    core_err append_err, after_err;
};

static void *tx_writer_main(void *arg)
{
    struct tx_writer *w = arg;
    pg_conn *tx = NULL;
    w->after_st = pg_acquire(w->pool, &tx, &w->after_err);
    if (w->after_st)
        return NULL;
    if (!(w->after_st = pg_begin(tx, &w->after_err))) {
        w->append_st =
            es_store_append_in(w->store, tx, "test.Thing", "tx2", 1, &w->ev, 1, &w->append_err);
        if (!(w->after_st = insert_side(tx, "after the conflict", &w->after_err)))
            w->after_st = pg_commit(tx, &w->after_err);
    }
    pg_release(w->pool, tx);
    return NULL;
}

/* A conflict inside the caller's transaction (found by the version check, or by the primary key
 * when another writer commits while the insert waits) leaves nothing of the append and the
 * transaction usable: the caller's later write commits. */
static void conflict_leaves_the_callers_transaction_usable(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    PQclear(query(f->pool, "CREATE TABLE estest.side (note text NOT NULL)", NULL, NULL));
    es_repo *repo = NULL;
    assert_int_equal(es_repo_new(&repo, &thing_type, f->store, NULL, 100, &err), CORE_OK);
    struct thing t;
    thing_init(&t);
    assert_int_equal(thing_create(&t, "tx2", "barrel", &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &t, &err), CORE_OK);
    thing_release(&t);

    /* the version check */
    pg_conn *tx = NULL;
    struct ddd_event_list saved = DDD_EVENT_LIST_INIT;
    thing_init(&t);
    assert_int_equal(thing_create(&t, "tx2", "second barrel", &err), CORE_OK);
    assert_int_equal(pg_acquire(f->pool, &tx, &err), CORE_OK);
    assert_int_equal(pg_begin(tx, &err), CORE_OK);
    assert_int_equal(insert_side(tx, "before", &err), CORE_OK);
    assert_int_equal(es_repo_save_in(repo, tx, &t, &saved, &err), CORE_ERR_CONFLICT);
    assert_string_equal(err.msg,
                        "test.Thing tx2 already exists (expected version 0, stored version 1)");
    assert_int_equal(t.agg.base.events.n, 1); /* still pending */
    assert_int_equal(saved.n, 0);
    assert_int_equal(insert_side(tx, "after", &err), CORE_OK);
    assert_int_equal(pg_commit(tx, &err), CORE_OK);
    pg_release(f->pool, tx);
    thing_release(&t);
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM estest.side", NULL, NULL), 2);

    /* the primary key: this transaction holds version 2 uncommitted; the writer's check sees
     * version 1, its insert waits, our commit makes it fail with a unique violation */
    thing_init(&t);
    assert_int_equal(es_repo_load(repo, "tx2", &t, &err), CORE_OK);
    assert_int_equal(thing_note(&t, &err), CORE_OK);
    assert_int_equal(pg_acquire(f->pool, &tx, &err), CORE_OK);
    assert_int_equal(pg_begin(tx, &err), CORE_OK);
    assert_int_equal(es_repo_save_in(repo, tx, &t, &saved, &err), CORE_OK);
    struct tx_writer w = {.pool = f->pool, .store = f->store};
    ProtobufCMessage *p = pb_new(&estest__thing_noted__descriptor);
    assert_int_equal(ddd_event_new(&w.ev, "estest.ThingNoted", &p, &err), CORE_OK);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, tx_writer_main, &w), 0);
    bool waited = wait_for_lock_waiter(f->pool);
    assert_int_equal(pg_commit(tx, &err), CORE_OK);
    pg_release(f->pool, tx);
    pthread_join(th, NULL);
    ddd_event_free(w.ev);
    ddd_event_list_release(&saved);
    thing_release(&t);
    assert_true(waited); /* the writer did reach the insert while we held version 2 */
    assert_int_equal(w.append_st, CORE_ERR_CONFLICT);
    assert_string_equal(
        w.append_err.msg,
        "test.Thing tx2 was changed by someone else (expected version 1, stored version 2)");
    if (w.after_st)
        fprintf(stderr, "after the conflict: %s\n", w.after_err.msg);
    assert_int_equal(w.after_st, CORE_OK);
    assert_int_equal(query_long(f->pool, "SELECT count(*) FROM estest.side WHERE note = $1",
                                "after the conflict", NULL),
                     1);
    assert_int_equal(
        query_long(f->pool, "SELECT count(*) FROM estest.events WHERE stream_id = $1", "tx2", NULL),
        2);
    es_repo_free(repo);
}

/* Loads thing id on tx (NULL: a pooled connection) into a fresh thing; returns the status and,
 * when found, its version and notes through *version, *notes. */
static core_status load_thing(es_repo *repo, pg_conn *tx, const char *id, uint64_t *version,
                              int *notes)
{
    struct thing t;
    thing_init(&t);
    core_err err = CORE_ERR_INIT;
    core_status st = es_repo_load_in(repo, tx, id, &t, &err);
    if (st == CORE_OK) {
        *version = t.agg.version;
        *notes = t.notes;
    }
    thing_release(&t);
    return st;
}

/* es_repo_load_in reads inside the caller's transaction: it sees what that transaction wrote and
 * nobody else does until the commit; with and without snapshots. */
static void load_inside_the_callers_transaction(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    const struct es_aggregate_type *types[] = {&thing_type, &thing_type_no_snapshots};
    const char *ids[][2] = {{"li-snap", "li-snap-new"}, {"li-plain", "li-plain-new"}};
    for (size_t k = 0; k < 2; k++) {
        es_repo *repo = NULL;
        /* a snapshot every 2 versions: the loads below start from one */
        assert_int_equal(es_repo_new(&repo, types[k], f->store, NULL, 2, &err), CORE_OK);
        struct thing t;
        thing_init(&t);
        assert_int_equal(thing_create(&t, ids[k][0], "crate", &err), CORE_OK);
        assert_int_equal(thing_note(&t, &err), CORE_OK);
        assert_int_equal(es_repo_save(repo, &t, &err), CORE_OK); /* versions 1-2 */
        thing_release(&t);

        pg_conn *tx = NULL;
        struct ddd_event_list saved = DDD_EVENT_LIST_INIT;
        assert_int_equal(pg_acquire(f->pool, &tx, &err), CORE_OK);
        assert_int_equal(pg_begin(tx, &err), CORE_OK);
        thing_init(&t);
        assert_int_equal(es_repo_load_in(repo, tx, ids[k][0], &t, &err), CORE_OK);
        assert_int_equal(t.agg.version, 2);
        assert_int_equal(thing_note(&t, &err), CORE_OK);
        assert_int_equal(es_repo_save_in(repo, tx, &t, &saved, &err), CORE_OK); /* version 3 */
        thing_release(&t);
        thing_init(&t);
        assert_int_equal(thing_create(&t, ids[k][1], "box", &err), CORE_OK);
        assert_int_equal(es_repo_save_in(repo, tx, &t, &saved, &err), CORE_OK);
        thing_release(&t);
        ddd_event_list_release(&saved);

        uint64_t version = 0;
        int notes = 0;
        /* inside: its own writes */
        assert_int_equal(load_thing(repo, tx, ids[k][0], &version, &notes), CORE_OK);
        assert_int_equal(version, 3);
        assert_int_equal(notes, 2);
        assert_int_equal(load_thing(repo, tx, ids[k][1], &version, &notes), CORE_OK);
        assert_int_equal(version, 1);
        /* outside, before the commit: the committed state only */
        assert_int_equal(load_thing(repo, NULL, ids[k][0], &version, &notes), CORE_OK);
        assert_int_equal(version, 2);
        assert_int_equal(notes, 1);
        assert_int_equal(load_thing(repo, NULL, ids[k][1], &version, &notes), CORE_ERR_NOT_FOUND);
        /* a load is a read: the transaction goes on and commits */
        assert_int_equal(pg_commit(tx, &err), CORE_OK);
        pg_release(f->pool, tx);
        assert_int_equal(load_thing(repo, NULL, ids[k][0], &version, &notes), CORE_OK);
        assert_int_equal(version, 3);
        assert_int_equal(notes, 2);
        assert_int_equal(load_thing(repo, NULL, ids[k][1], &version, &notes), CORE_OK);

        /* not found inside a transaction: the message names the stream, the transaction stays
         * usable */
        assert_int_equal(pg_acquire(f->pool, &tx, &err), CORE_OK);
        assert_int_equal(pg_begin(tx, &err), CORE_OK);
        thing_init(&t);
        assert_int_equal(es_repo_load_in(repo, tx, "li-none", &t, &err), CORE_ERR_NOT_FOUND);
        assert_string_equal(err.msg, "test.Thing li-none not found");
        thing_release(&t);
        assert_int_equal(load_thing(repo, tx, ids[k][0], &version, &notes), CORE_OK);
        assert_int_equal(pg_commit(tx, &err), CORE_OK);
        pg_release(f->pool, tx);
        es_repo_free(repo);
    }
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
    assert_int_equal(es_store_load(s, "test.Thing", "x", 0, &l, &err), CORE_ERR_IO);
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
        cmocka_unit_test_setup_teardown(loads_and_single_appends_are_one_statement, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(a_refused_snapshot_keeps_the_events, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(conflicts_are_clear_and_store_nothing, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(append_inside_the_callers_transaction, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(conflict_leaves_the_callers_transaction_usable, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(load_inside_the_callers_transaction, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(schema_names_are_checked, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
