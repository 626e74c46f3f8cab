/* test_ordering_units_pg.c -- integration tests (chapter 09): the ordering module's commands
 * inside a message's transaction (ordering/application.h: app->tx), on the real PostgreSQL of
 * the lab, with the module's own event store, units of work and outbox (ordering/units.c). One
 * scratch database for the file, migrated with the chapter's migrations.
 *
 * A handler runs its command on the transaction the subscription began (tm.h): the load of the
 * order, its new events and its outbox rows all go through that one connection. The pool here
 * has ONE connection, held by the message's transaction, so a load on a second pooled connection
 * would wait for the pool and fail. Checked:
 *   - an order created in the transaction is found by the next command of the same transaction
 *     (approve), though nothing is committed yet; another connection sees neither the order nor
 *     its outbox rows until the commit, then both events and both rows;
 *   - a rolled-back transaction leaves no event and no outbox row;
 *   - a command outside a transaction (app->tx NULL: REST or RPC) still loads on the pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "e2e.h"
#include "monolith/monolith.h"
#include "ordering/adapters.h"
#include "ordering/application.h"
#include "ordering/domain.h"

static struct e2e_scratch scratch = E2E_SCRATCH_INIT;
static pg_pool *db;       /* ONE connection: the transaction's */
static pg_pool *observer; /* another session, to see what is committed */
static es_registry *registry;
static es_store *store;
static tm_outbox *outbox;
static struct ordering_app app;

static core_status no_depot(void *self, const char *shopping_id, core_err *err)
{
    (void)self;
    return core_err_set(err, CORE_ERR_INTERNAL, "no depot here (list %s)", shopping_id);
}

static int group_setup(void **state)
{
    (void)state;
    if (e2e_scratch_open(&scratch, "orderunits"))
        return -1;
    core_err err = CORE_ERR_INIT;
    /* a short wait for the pool: a second connection asked for is a failure, soon */
    struct pg_pool_opts one = {scratch.db.conninfo, 1, 300}, two = {scratch.db.conninfo, 2, 0};
    if (pg_pool_new(&db, &one, &err) || pg_pool_new(&observer, &two, &err) ||
        pg_migrate(observer, chapter_migrations, chapter_migration_count, NULL, NULL, &err) ||
        es_registry_new(&registry, &err) || ordering_register_types(registry, &err) ||
        es_pg_store_new(&store, db, "ordering", registry, &err) ||
        tm_outbox_new(&outbox, db, "ordering", "mallbots", &err) ||
        es_repo_new(&app.orders, &ordering_order_type, store, NULL, 0, &err)) {
        fprintf(stderr, "orderunits: %s\n", err.msg);
        return -1;
    }
    app.depot = (struct ordering_depot){NULL, no_depot};
    ordering__pg_units(&app.units, outbox);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    es_repo_free(app.orders);
    tm_outbox_free(outbox);
    es_store_free(store);
    es_registry_free(registry);
    pg_pool_free(observer);
    pg_pool_free(db);
    return e2e_scratch_close(&scratch);
}

/* The first column of the first row of sql with one parameter, read by the observer. */
static long count(const char *sql, const char *param)
{
    PGresult *res = NULL;
    core_err err = CORE_ERR_INIT;
    const char *p[] = {param};
    if (pg_run(observer, sql, 1, p, &res, &err) != CORE_OK)
        fail_msg("%s: %s", sql, err.msg);
    long n = PQntuples(res) ? strtol(pg_get(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    return n;
}

#define EVENTS "SELECT count(*) FROM ordering.events WHERE stream_id = $1"
#define OUTBOX_ALL "SELECT count(*) FROM ordering.outbox WHERE $1 <> ''"

static const struct ordering_item items[] = {
    {"store-1", "product-1", "Waldorf Books", "EDA with Golang", 49.99, 2},
};

static void create_order_in(tm_tx *tx, const char *id)
{
    char out[ORDERING_ID_SIZE] = "";
    core_err err = CORE_ERR_INIT;
    app.tx = tx;
    core_status st =
        ordering_app_create_order(&app, id, "customer-1", "payment-1", items, 1, out, &err);
    app.tx = NULL;
    if (st)
        fail_msg("creating %s in the transaction: %s", id, err.msg);
    assert_string_equal(out, id);
}

static void the_next_command_of_the_transaction_finds_the_order(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    long rows_before = count(OUTBOX_ALL, "x");
    tm_tx *tx = NULL;
    assert_int_equal(tm_begin(outbox, &tx, &err), CORE_OK); /* holds the pool's one connection */
    create_order_in(tx, "ou-1");
    app.tx = tx;
    core_status st = ordering_app_approve_order(&app, "ou-1", "shopping-1", &err);
    app.tx = NULL;
    if (st)
        fail_msg("approving in the transaction: %s", err.msg);
    /* nothing is visible outside before the commit */
    assert_int_equal(count(EVENTS, "ou-1"), 0);
    assert_int_equal(count(OUTBOX_ALL, "x"), rows_before);
    assert_int_equal(tm_commit(tx, &err), CORE_OK);
    assert_int_equal(count(EVENTS, "ou-1"), 2);
    assert_int_equal(count(OUTBOX_ALL, "x"), rows_before + 2); /* OrderCreated, OrderApproved */

    /* outside a transaction the command loads on the pool, as before */
    struct ordering_order o = ORDERING_ORDER_INIT;
    assert_int_equal(ordering_app_get_order(&app, "ou-1", &o, &err), CORE_OK);
    assert_int_equal(o.status, ORDERING_STATUS_APPROVED);
    assert_string_equal(o.shopping_id, "shopping-1");
    assert_int_equal(o.agg.version, 2);
    ordering_order_release(&o);
}

static void a_rollback_leaves_nothing(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    long rows_before = count(OUTBOX_ALL, "x");
    tm_tx *tx = NULL;
    assert_int_equal(tm_begin(outbox, &tx, &err), CORE_OK);
    create_order_in(tx, "ou-2");
    app.tx = tx;
    assert_int_equal(ordering_app_reject_order(&app, "ou-2", &err), CORE_OK);
    app.tx = NULL;
    tm_rollback(tx);
    assert_int_equal(count(EVENTS, "ou-2"), 0);
    assert_int_equal(count(OUTBOX_ALL, "x"), rows_before);
    struct ordering_order o = ORDERING_ORDER_INIT;
    assert_int_equal(ordering_app_get_order(&app, "ou-2", &o, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "order ou-2 not found");
    ordering_order_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_next_command_of_the_transaction_finds_the_order),
        cmocka_unit_test(a_rollback_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
