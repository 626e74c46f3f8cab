/* test_depot_commands_pg.c -- integration tests (chapter 08): the depot's saga commands
 * (depot/application.h) on the real PostgreSQL of the lab, with the fake stores module of
 * tests/support/depot_fakes.h. One scratch database for the file, migrated with the chapter's
 * migrations (012: one shopping list per order).
 *
 * Checked: the list the command creates is stored "pending" and read back as such; the same
 * command again answers the same list and stores nothing; a second delivery that looked before
 * the first one saved (its lookup missed) is stopped by the unique index and answers the saved
 * list; InitiateShopping stores "available" once; CancelShopping twice stores "cancelled" once.
 * The tests use order ids of their own, so they do not depend on one another. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "depot/adapters.h"
#include "depot_fakes.h"
#include "e2e.h"
#include "monolith/monolith.h"

static struct e2e_scratch scratch = E2E_SCRATCH_INIT;
static pg_pool *db;
static struct depot_fake_stores stores;
static struct depot_list_repo pg_lists;
static struct depot_app app;
static ddd_dispatcher *dispatcher;
static int misses; /* find_by_order calls that answer NOT_FOUND without asking (a lost race) */

static core_status find_by_order(void *self, const char *order_id, struct depot_shopping_list *out,
                                 core_err *err)
{
    if (misses > 0) {
        misses--;
        return core_err_set(err, CORE_ERR_NOT_FOUND, "order %s has no shopping list", order_id);
    }
    return pg_lists.find_by_order(self, order_id, out, err);
}

static int group_setup(void **state)
{
    (void)state;
    if (e2e_scratch_open(&scratch, "depotcmd"))
        return -1;
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts o = {scratch.db.conninfo, 2, 0};
    if (pg_pool_new(&db, &o, &err) ||
        pg_migrate(db, chapter_migrations, chapter_migration_count, NULL, NULL, &err) ||
        ddd_dispatcher_new(&dispatcher, &err)) {
        fprintf(stderr, "depotcmd: %s\n", err.msg);
        return -1;
    }
    depot_postgres_lists(&pg_lists, db);
    app.lists = pg_lists;
    app.lists.find_by_order = find_by_order;
    depot_fake_stores_port(&app.stores, &stores);
    app.publisher = ddd_dispatcher_publisher(dispatcher);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    ddd_dispatcher_free(dispatcher);
    pg_pool_free(db);
    db = NULL;
    return e2e_scratch_close(&scratch);
}

/* The first column of the first row of sql with one parameter, into out ("" when no row). */
static const char *sql1(char *out, size_t size, const char *sql, const char *param)
{
    PGresult *res = NULL;
    core_err err = CORE_ERR_INIT;
    const char *p[] = {param};
    if (pg_run(db, sql, 1, p, &res, &err) != CORE_OK)
        fail_msg("%s: %s", sql, err.msg);
    snprintf(out, size, "%s", PQntuples(res) ? pg_get(res, 0, 0) : "");
    PQclear(res);
    return out;
}

#define ROW(param, sql) sql1((char[256]){0}, 256, (sql), (param))
#define LISTS_OF_ORDER "SELECT count(*) FROM depot.shopping_lists WHERE order_id = $1"
#define STATUS "SELECT status FROM depot.shopping_lists WHERE id = $1"
#define UPDATED "SELECT updated_at::text FROM depot.shopping_lists WHERE id = $1"

static const struct depot_order_item items[] = {{"s1", "p1", 2}, {"s2", "p3", 1}};
#define NITEMS (sizeof items / sizeof items[0])

static void the_same_command_again_answers_the_same_list(void **state)
{
    (void)state;
    char id[DEPOT_ID_MAX + 1] = "", again[DEPOT_ID_MAX + 1] = "";
    assert_int_equal(depot_app_create_order_shopping_list(&app, "pg-o1", items, NITEMS, id, NULL),
                     CORE_OK);
    assert_string_equal(ROW(id, STATUS), "pending");
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    assert_int_equal(pg_lists.find(db, id, &l, NULL), CORE_OK);
    assert_int_equal(l.status, DEPOT_LIST_PENDING);
    assert_int_equal(l.nstops, 2);
    depot_shopping_list_release(&l);

    assert_int_equal(
        depot_app_create_order_shopping_list(&app, "pg-o1", items, NITEMS, again, NULL), CORE_OK);
    assert_string_equal(again, id);
    assert_string_equal(ROW("pg-o1", LISTS_OF_ORDER), "1");
}

static void the_unique_index_stops_a_racing_delivery(void **state)
{
    (void)state;
    char first[DEPOT_ID_MAX + 1] = "", second[DEPOT_ID_MAX + 1] = "";
    core_err err = CORE_ERR_INIT;
    assert_int_equal(
        depot_app_create_order_shopping_list(&app, "pg-o2", items, NITEMS, first, NULL), CORE_OK);
    misses = 1; /* the second delivery looked before the first one's row was there */
    assert_int_equal(
        depot_app_create_order_shopping_list(&app, "pg-o2", items, NITEMS, second, &err), CORE_OK);
    assert_int_equal(misses, 0);
    assert_string_equal(second, first);
    assert_string_equal(ROW("pg-o2", LISTS_OF_ORDER), "1");

    /* the repository itself refuses a second list of the order */
    struct depot_shopping_list l = DEPOT_SHOPPING_LIST_INIT;
    assert_int_equal(depot_shopping_list_create_pending(&l, "pg-l-dup", "pg-o2", NULL), CORE_OK);
    assert_int_equal(pg_lists.save(db, &l, &err), CORE_ERR_CONFLICT);
    depot_shopping_list_release(&l);
}

static void initiate_and_cancel_are_stored_once(void **state)
{
    (void)state;
    char a[DEPOT_ID_MAX + 1] = "", b[DEPOT_ID_MAX + 1] = "";
    core_err err = CORE_ERR_INIT;
    assert_int_equal(depot_app_create_order_shopping_list(&app, "pg-o3", items, NITEMS, a, NULL),
                     CORE_OK);
    assert_int_equal(depot_app_create_order_shopping_list(&app, "pg-o4", items, NITEMS, b, NULL),
                     CORE_OK);
    assert_int_equal(depot_app_assign_shopping_list(&app, a, "bot-1", &err), CORE_ERR_INVALID);

    assert_int_equal(depot_app_initiate_shopping(&app, a, NULL), CORE_OK);
    assert_string_equal(ROW(a, STATUS), "available");
    char stamp[64];
    snprintf(stamp, sizeof stamp, "%s", ROW(a, UPDATED));
    assert_int_equal(depot_app_initiate_shopping(&app, a, NULL), CORE_OK);
    assert_string_equal(ROW(a, UPDATED), stamp); /* the second one wrote nothing */
    assert_int_equal(depot_app_assign_shopping_list(&app, a, "bot-1", NULL), CORE_OK);
    assert_string_equal(ROW(a, STATUS), "assigned");

    assert_int_equal(depot_app_ensure_cancelled(&app, b, NULL), CORE_OK);
    assert_string_equal(ROW(b, STATUS), "cancelled");
    snprintf(stamp, sizeof stamp, "%s", ROW(b, UPDATED));
    assert_int_equal(depot_app_ensure_cancelled(&app, b, NULL), CORE_OK);
    assert_string_equal(ROW(b, UPDATED), stamp);
    assert_int_equal(depot_app_initiate_shopping(&app, b, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list cannot be initiated: it is cancelled");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_same_command_again_answers_the_same_list),
        cmocka_unit_test(the_unique_index_stops_a_racing_delivery),
        cmocka_unit_test(initiate_and_cancel_are_stored_once),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
