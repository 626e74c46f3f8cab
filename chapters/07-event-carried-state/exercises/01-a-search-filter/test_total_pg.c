/* test_total_pg.c -- exercise 07.1, the SQL: filters.minTotal and filters.maxTotal of
 * SearchOrders (search/postgres.c, the query builder) on the real PostgreSQL of the lab.
 *
 * One scratch database for the file (e2e_scratch_open(): through PG_CONN, dropped at the end, with
 * a leak check), migrated with the chapter's migrations. Orders of known totals are written to the
 * read model through its own port (save_created, save_status); each test then asks
 * search_app_search_orders() (the checks of search/domain.c, then the query) and compares the
 * answer with the orders picked here from the same list: the bounds alone and together, equal
 * bounds, bounds between two orders and on an order's total to the cent, a bound combined with
 * another filter (status), and a refused bound that never reaches the database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "e2e.h"
#include "log.h"
#include "monolith/monolith.h"
#include "search/adapters.h"
#include "search_fakes.h"

static struct e2e_scratch scratch = E2E_SCRATCH_INIT;
static pg_pool *pool;
static struct search_fake_caches caches;
static struct search_app app;

static const struct search_fake_name nobody[] = {{NULL, NULL, NULL}};

/* The orders of every test: id, total, status; order i was placed at BASE_US + i seconds. */
static const struct {
    const char *id;
    double total;
    const char *status;
} orders[] = {
    {"order-a", 5.00, SEARCH_STATUS_NEW},       {"order-b", 9.99, SEARCH_STATUS_COMPLETED},
    {"order-c", 10.00, SEARCH_STATUS_READY},    {"order-d", 10.01, SEARCH_STATUS_COMPLETED},
    {"order-e", 25.50, SEARCH_STATUS_CANCELED}, {"order-f", 99.95, SEARCH_STATUS_COMPLETED},
    {"order-g", 1234.5678, SEARCH_STATUS_NEW},
};
#define NORDERS (sizeof orders / sizeof orders[0])
#define BASE_US INT64_C(1767225600000000) /* 2026-01-01T00:00:00Z */

static int group_setup(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    if (e2e_scratch_open(&scratch, "ex07_totals") != 0)
        return -1;
    struct pg_pool_opts opts = {scratch.db.conninfo, 4, 10000};
    if (pg_pool_new(&pool, &opts, &err) ||
        pg_migrate(pool, chapter_migrations, chapter_migration_count, NULL, NULL, &err)) {
        fprintf(stderr, "ex07_totals: setting up %s: %s\n", scratch.db.name, err.msg);
        pg_pool_free(pool);
        pool = NULL;
        e2e_scratch_close(&scratch);
        return -1;
    }
    caches = (struct search_fake_caches){nobody, nobody, nobody, NULL, 0};
    search__pg_orders(&app.orders, pool);
    search_fake_caches_port(&app.caches, &caches);

    /* the orders, written once for the file */
    for (size_t i = 0; i < NORDERS; i++) {
        struct search_order o = SEARCH_ORDER_INIT;
        core_status st = search_order_set(&o, orders[i].id, "c-1", "Ada", SEARCH_STATUS_NEW, &err);
        if (!st)
            st = search_order_add_item(&o, "p-1", "s-1", "Lamp", "Lamp Land", orders[i].total, 1,
                                       &err);
        o.total = orders[i].total;
        o.created_us = BASE_US + (int64_t)i * 1000000;
        if (!st)
            st = app.orders.save_created(app.orders.self, &o, &err);
        search_order_release(&o);
        if (!st && strcmp(orders[i].status, SEARCH_STATUS_NEW) != 0)
            st = app.orders.save_status(app.orders.self, orders[i].id, orders[i].status, false, 0,
                                        &err);
        if (st) {
            fprintf(stderr, "ex07_totals: writing %s: %s\n", orders[i].id, err.msg);
            return -1;
        }
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pg_pool_free(pool);
    return e2e_scratch_close(&scratch);
}

/* Searches with f and checks that the answer is the orders (of orders[]) that match min, max and
 * status as the README says (0: no bound), newest first. */
/* Appends " id" (or "id" to an empty list) to the list text (512 bytes). */
static void append_id(char list[512], const char *id)
{
    size_t len = strlen(list);
    snprintf(list + len, 512 - len, "%s%s", len ? " " : "", id);
}

static void expect_search(const struct search_filters *f)
{
    char want[512] = "", got[512] = "", next[SEARCH_TOKEN_MAX];
    for (size_t k = NORDERS; k-- > 0;) { /* newest first */
        if ((f->min_total > 0 && orders[k].total < f->min_total) ||
            (f->max_total > 0 && orders[k].total > f->max_total) ||
            (f->status && strcmp(orders[k].status, f->status) != 0))
            continue;
        append_id(want, orders[k].id);
    }
    core_err err = CORE_ERR_INIT;
    struct search_order_list out = SEARCH_ORDER_LIST_INIT;
    core_status st = search_app_search_orders(&app, f, NULL, 100, &out, next, &err);
    for (size_t i = 0; !st && i < out.n; i++) {
        append_id(got, out.items[i].order_id);
    }
    search_order_list_release(&out);
    if (st)
        fail_msg("minTotal %g, maxTotal %g: the search failed: %s", f->min_total, f->max_total,
                 err.msg);
    if (strcmp(want, got) != 0)
        fail_msg("minTotal %g, maxTotal %g%s%s:\n    wanted [%s]\n    got    [%s]", f->min_total,
                 f->max_total, f->status ? ", status " : "", f->status ? f->status : "", want, got);
}

static void expect_totals(double min, double max)
{
    struct search_filters f = {0};
    f.min_total = min;
    f.max_total = max;
    expect_search(&f);
}

static void no_bound_finds_every_order(void **state)
{
    (void)state;
    expect_totals(0, 0);
}

static void a_minimum_alone(void **state)
{
    (void)state;
    expect_totals(10, 0);     /* 10.00 is in: "at least" */
    expect_totals(10.005, 0); /* between two orders */
    expect_totals(1234.5678, 0);
    expect_totals(5000, 0); /* none */
}

static void a_maximum_alone(void **state)
{
    (void)state;
    expect_totals(0, 10); /* 10.00 is in: "at most" */
    expect_totals(0, 9.995);
    expect_totals(0, 4.99); /* none */
}

static void both_bounds(void **state)
{
    (void)state;
    expect_totals(9.99, 25.5);
    expect_totals(10.01, 10.01); /* equal: exactly that total */
    expect_totals(26, 99);       /* between two orders: none */
    expect_totals(5, 1234.5678); /* all */
}

static void a_bound_and_another_filter(void **state)
{
    (void)state;
    struct search_filters f = {0};
    f.min_total = 10;
    f.status = SEARCH_STATUS_COMPLETED;
    expect_search(&f);
    f.min_total = 0;
    f.max_total = 50;
    expect_search(&f);
}

static void a_refused_bound_is_an_error_not_an_empty_page(void **state)
{
    (void)state;
    char next[SEARCH_TOKEN_MAX];
    struct search_filters f = {0};
    f.min_total = 50;
    f.max_total = 20;
    core_err err = CORE_ERR_INIT;
    struct search_order_list out = SEARCH_ORDER_LIST_INIT;
    core_status st = search_app_search_orders(&app, &f, NULL, 100, &out, next, &err);
    size_t n = out.n;
    search_order_list_release(&out);
    if (st == CORE_OK)
        fail_msg("minTotal 50, maxTotal 20: wanted an error, got a page of %zu orders", n);
    assert_int_equal(st, CORE_ERR_INVALID);
    assert_string_equal(err.msg, "filters.minTotal is greater than filters.maxTotal");
}

int main(void)
{
    log_init(LOG_LEVEL_WARN); /* not the migrations' INFO lines */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_bound_finds_every_order),
        cmocka_unit_test(a_minimum_alone),
        cmocka_unit_test(a_maximum_alone),
        cmocka_unit_test(both_bounds),
        cmocka_unit_test(a_bound_and_another_filter),
        cmocka_unit_test(a_refused_bound_is_an_error_not_an_empty_page),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
