/* test_one_unit_pg.c -- exercise 09.1: one unit of work (stores/units.c: unit_begin, unit_commit,
 * unit_rollback) on the real PostgreSQL of the lab.
 *
 * One scratch database for the file (e2e_scratch_open(): through PG_CONN, dropped at the end, with
 * a leak check), migrated with the chapter's migrations. The stores application is assembled as
 * stores/module.c assembles it (event store and repositories on PostgreSQL, the two read models,
 * the outbox of schema "stores" and the learner's units over it), on a pool of only TWO
 * connections, so that a unit that forgets to give its connection back is found at once. No
 * relay runs: the outbox rows stay unpublished, where the tests can read them.
 *
 * In the order of the README: a command's event, read model and outbox row are all stored, the
 * row being the announcement of that very event; the commit wakes the relay (a NOTIFY on
 * TM_NOTIFY_CHANNEL, payload "stores", heard on a LISTEN connection of the test); a read model
 * that fails leaves no event and no outbox row; failures do not keep connections; a rule that
 * fails before the unit begins stores nothing.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libpq-fe.h>

#include "e2e.h"
#include "es.h"
#include "log.h"
#include "monolith/monolith.h"
#include "stores/adapters.h"
#include "stores/application.h"
#include "stores/domain.h"
#include "stores/events.h"
#include "tm.h"

static struct e2e_scratch scratch = E2E_SCRATCH_INIT;
static pg_pool *pool;
static es_registry *types;
static es_store *store;
static es_repo *stores_repo, *products_repo;
static tm_outbox *outbox;
static struct stores_pg_db db;
static struct stores_app app;
static PGconn *listener; /* LISTEN tm_outbox */

/* A read model that fails on demand: the trigger refuses a store named "Broken Mirror". */
#define BROKEN_NAME "Broken Mirror"
static const char *const trigger_sql =
    "CREATE FUNCTION stores.refuse_broken() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.name = '" BROKEN_NAME "' THEN RAISE EXCEPTION 'the read model refuses this store'; "
    "END IF; RETURN NEW; END $$; "
    "CREATE TRIGGER refuse_broken BEFORE INSERT OR UPDATE ON stores.stores "
    "FOR EACH ROW EXECUTE FUNCTION stores.refuse_broken()";

static int group_setup(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    if (e2e_scratch_open(&scratch, "ex09_unit") != 0)
        return -1;
    struct pg_pool_opts opts = {scratch.db.conninfo, 2, 3000};
    pg_conn *c = NULL;
    core_status st = pg_pool_new(&pool, &opts, &err);
    if (!st)
        st = pg_migrate(pool, chapter_migrations, chapter_migration_count, NULL, NULL, &err);
    if (!st && !(st = pg_acquire(pool, &c, &err))) {
        st = pg_exec_script(c, trigger_sql, &err);
        pg_release(pool, c);
    }
    if (!st && !(st = es_registry_new(&types, &err)))
        st = stores_register_types(types, &err);
    if (!st)
        st = es_pg_store_new(&store, pool, "stores", types, &err);
    if (!st)
        st = es_repo_new(&stores_repo, &stores_store_type, store, NULL, 0, &err);
    if (!st)
        st = es_repo_new(&products_repo, &stores_product_type, store, NULL, 0, &err);
    if (!st)
        st = tm_outbox_new(&outbox, pool, "stores", "mallbots", &err);
    if (st) {
        fprintf(stderr, "ex09_unit: setting up %s: %s\n", scratch.db.name, err.msg);
        return -1;
    }
    app.stores = stores_repo;
    app.products = products_repo;
    db.pool = pool;
    stores__pg_mall_repo(&app.mall, &db);
    stores__pg_catalog_repo(&app.catalog, &db);
    stores__pg_units(&app.units, outbox); /* the learner's */

    listener = PQconnectdb(scratch.db.conninfo);
    if (PQstatus(listener) != CONNECTION_OK) {
        fprintf(stderr, "ex09_unit: the LISTEN connection: %s", PQerrorMessage(listener));
        return -1;
    }
    PGresult *r = PQexec(listener, "LISTEN " TM_NOTIFY_CHANNEL);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    PQfinish(listener);
    tm_outbox_free(outbox);
    es_repo_free(stores_repo);
    es_repo_free(products_repo);
    es_store_free(store);
    es_registry_free(types);
    pg_pool_free(pool);
    return e2e_scratch_close(&scratch);
}

/* ---- reading the database ------------------------------------------------------------------ */

static long sql_long(const char *sql, const char *param)
{
    core_err err = CORE_ERR_INIT;
    PGresult *res = NULL;
    const char *params[] = {param};
    if (pg_run(pool, sql, param ? 1 : 0, param ? params : NULL, &res, &err) != CORE_OK)
        fail_msg("%s: %s", sql, err.msg);
    long v = strtol(pg_get(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

/* The first column of the first row as text (caller frees), or NULL when there is no row. */
static char *sql_text(const char *sql, const char *param)
{
    core_err err = CORE_ERR_INIT;
    PGresult *res = NULL;
    const char *params[] = {param};
    if (pg_run(pool, sql, 1, params, &res, &err) != CORE_OK)
        fail_msg("%s: %s", sql, err.msg);
    char *v = PQntuples(res) > 0 ? strdup(pg_get(res, 0, 0)) : NULL;
    PQclear(res);
    return v;
}

/* Notifications on the LISTEN connection with payload "stores", waiting up to wait_ms for the
 * first one. */
static int notifications(int wait_ms)
{
    int n = 0;
    for (;;) {
        PQconsumeInput(listener);
        PGnotify *nf;
        while ((nf = PQnotifies(listener)) != NULL) {
            if (strcmp(nf->relname, TM_NOTIFY_CHANNEL) == 0 && strcmp(nf->extra, "stores") == 0)
                n++;
            PQfreemem(nf);
        }
        if (n > 0 || wait_ms <= 0)
            return n;
        struct pollfd p = {PQsocket(listener), POLLIN, 0};
        if (poll(&p, 1, wait_ms) <= 0)
            return n;
        wait_ms = 0; /* one more look at what arrived */
    }
}

static void create(const char *id, const char *name, core_status want)
{
    core_err err = CORE_ERR_INIT;
    core_status st = stores_app_create_store(&app, id, name, "Level 1", &err);
    if (st != want)
        fail_msg("creating store %s \"%s\": wanted status %d, got %d (%s)", id, name, (int)want,
                 (int)st, st ? err.msg : "no error");
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void the_event_its_read_model_and_its_message_are_stored(void **state)
{
    (void)state;
    notifications(0); /* nothing from before */
    create("ex091-store-1", "Lamp Land", CORE_OK);
    assert_int_equal(
        sql_long("SELECT count(*) FROM stores.events WHERE stream_id = $1", "ex091-store-1"), 1);
    assert_int_equal(sql_long("SELECT count(*) FROM stores.stores WHERE id = $1", "ex091-store-1"),
                     1);
    /* the outbox row is the announcement of that event: same id, its integration name and
     * channel, not published yet (no relay runs here) */
    char *event_id =
        sql_text("SELECT event_id FROM stores.events WHERE stream_id = $1", "ex091-store-1");
    assert_non_null(event_id);
    long rows = sql_long("SELECT count(*) FROM stores.outbox WHERE id = $1", event_id);
    if (rows != 1)
        fail_msg("stores.outbox has %ld rows for the store's event %s, wanted 1: the integration "
                 "handlers must publish on the unit's outbox stream (tm_tx_stream)",
                 rows, event_id);
    char *name =
        sql_text("SELECT name || ' ' || subject FROM stores.outbox WHERE id = $1", event_id);
    assert_string_equal(name, STORESAPI_STORE_CREATED " " STORES_STORE_CHANNEL);
    assert_int_equal(
        sql_long("SELECT count(*) FROM stores.outbox WHERE id = $1 AND published_at IS NULL",
                 event_id),
        1);
    free(name);
    free(event_id);
}

static void the_commit_wakes_the_relay(void **state)
{
    (void)state;
    notifications(0);
    create("ex091-store-2", "Tape Town", CORE_OK);
    if (notifications(2000) != 1)
        fail_msg("no notification on \"" TM_NOTIFY_CHANNEL "\" with payload \"stores\" after the "
                 "commit: end a unit with tm_commit(), which wakes the relay");
}

static void a_failing_read_model_stores_nothing(void **state)
{
    (void)state;
    long events = sql_long("SELECT count(*) FROM stores.events", NULL);
    long rows = sql_long("SELECT count(*) FROM stores.outbox", NULL);
    notifications(0);
    create("ex091-broken", BROKEN_NAME, CORE_ERR_IO);
    if (sql_long("SELECT count(*) FROM stores.events WHERE stream_id = $1", "ex091-broken") != 0)
        fail_msg("the store's event was stored although its read model failed: the events must "
                 "be appended on the unit's connection (unit->conn), in its transaction");
    assert_int_equal(sql_long("SELECT count(*) FROM stores.events", NULL), events);
    assert_int_equal(sql_long("SELECT count(*) FROM stores.outbox", NULL), rows);
    assert_int_equal(notifications(300), 0); /* a rollback wakes nobody */
}

static void failures_give_their_connection_back(void **state)
{
    (void)state;
    /* the pool has two connections: a unit that keeps one fails the third command at the latest */
    for (int i = 0; i < 5; i++)
        create("ex091-broken", BROKEN_NAME, CORE_ERR_IO);
    create("ex091-store-3", "After The Storm", CORE_OK);
    assert_int_equal(sql_long("SELECT count(*) FROM stores.stores WHERE id = $1", "ex091-store-3"),
                     1);
}

static void a_broken_rule_stores_nothing(void **state)
{
    (void)state;
    long rows = sql_long("SELECT count(*) FROM stores.outbox", NULL);
    create("ex091-store-4", "", CORE_ERR_INVALID);                 /* "the name cannot be blank" */
    create("ex091-store-1", "Lamp Land Again", CORE_ERR_CONFLICT); /* the id has events */
    assert_int_equal(sql_long("SELECT count(*) FROM stores.outbox", NULL), rows);
    /* and every later command of a unit still works: a change of an existing store */
    core_err err = CORE_ERR_INIT;
    if (stores_app_rebrand_store(&app, "ex091-store-1", "Lamp Land Deluxe", &err) != CORE_OK)
        fail_msg("rebranding: %s", err.msg);
    assert_int_equal(sql_long("SELECT count(*) FROM stores.outbox", NULL), rows + 1);
    char *name = sql_text("SELECT name FROM stores.stores WHERE id = $1", "ex091-store-1");
    assert_string_equal(name, "Lamp Land Deluxe");
    free(name);
}

int main(void)
{
    log_init(LOG_LEVEL_WARN); /* not the migrations' INFO lines */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_event_its_read_model_and_its_message_are_stored),
        cmocka_unit_test(the_commit_wakes_the_relay),
        cmocka_unit_test(a_failing_read_model_stores_nothing),
        cmocka_unit_test(failures_give_their_connection_back),
        cmocka_unit_test(a_broken_rule_stores_nothing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
