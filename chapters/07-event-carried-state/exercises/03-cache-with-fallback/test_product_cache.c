/* test_product_cache.c -- exercise 07.3: the baskets' product cache (baskets/caches.c): a read
 * that falls back to stores, and writes that stay right when a message comes twice, late, or
 * after the fallback. Tested against a real database.
 *
 * Needs the lab's PostgreSQL (make lab-up). The group setup creates a scratch database with the
 * chapter's migrations (chapter_migrations, the SQL the monolith runs at start-up); each test
 * empties baskets.products_cache, calls your functions through the ports (the application's
 * stores port, the handlers' product cache), with the fake stores module of
 * tests/support/baskets_fakes.h as the fallback, and checks the rows with plain SQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "baskets/adapters.h"
#include "baskets_fakes.h"
#include "e2e.h"
#include "log.h"
#include "monolith/monolith.h"

static struct e2e_db scratch = E2E_DB_INIT;
static pg_pool *db;
static long live_before;

struct fx {
    struct baskets_fake_stores stores;
    struct baskets_caches caches;
    struct baskets_stores_port port; /* your get_product */
    struct baskets_cache_handlers w; /* your product_add, product_set_price */
};
static struct fx f;

static int group_setup(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    log_init(LOG_LEVEL_ERROR); /* no "applied migration" or "cache miss" lines */
    core_status st = e2e_db_create(&scratch, "ex07_1", &err);
    if (st) {
        print_error("error: this exercise needs PostgreSQL (make lab-up): %s\n", err.msg);
        return -1;
    }
    struct pg_pool_opts opts = {scratch.conninfo, 1, 0};
    if ((st = pg_pool_new(&db, &opts, &err)) ||
        (st = pg_migrate(db, chapter_migrations, chapter_migration_count, NULL, NULL, &err))) {
        print_error("error: cannot prepare the scratch database: %s\n", err.msg);
        return -1;
    }
    pg_pool_free(db); /* each test gets a pool of its own (setup) */
    db = NULL;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    e2e_db_drop(&scratch, &err);
    return 0;
}

/* A pool with ONE connection per test: a call that keeps its connection makes the next one fail
 * ("no database connection free within ..."). */
static int setup(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    live_before = core_alloc_live();
    struct pg_pool_opts opts = {scratch.conninfo, 1, 1000};
    if (pg_pool_new(&db, &opts, &err) ||
        pg_run(db, "DELETE FROM baskets.products_cache", 0, NULL, NULL, &err)) {
        print_error("error: %s\n", err.msg);
        return -1;
    }
    memset(&f, 0, sizeof f);
    f.caches.db = db;
    baskets_fake_stores_port(&f.caches.fallback, &f.stores);
    baskets__cached_stores(&f.port, &f.caches);
    baskets__cache_writers(&f.w, &f.caches);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pg_pool_free(db);
    db = NULL;
    assert_int_equal(core_alloc_live(), live_before); /* nothing leaked */
    return 0;
}

/* The row of id as "store_id|name|price|seq", or "" when there is none. */
static const char *row(const char *id)
{
    static char out[256];
    PGresult *res = NULL;
    core_err err = CORE_ERR_INIT;
    const char *p[] = {id};
    if (pg_run(db,
               "SELECT store_id || '|' || name || '|' || price::text || '|' || seq "
               "FROM baskets.products_cache WHERE id = $1",
               1, p, &res, &err))
        fail_msg("reading the cache: %s", err.msg);
    snprintf(out, sizeof out, "%s", PQntuples(res) ? pg_get(res, 0, 0) : "");
    PQclear(res);
    return out;
}

static void insert_row(const char *id, const char *name, const char *price, const char *seq)
{
    core_err err = CORE_ERR_INIT;
    const char *p[] = {id, name, price, seq};
    if (pg_run(db,
               "INSERT INTO baskets.products_cache (id, store_id, name, price, seq) "
               "VALUES ($1, 's-7', $2, $3, $4)",
               4, p, NULL, &err))
        fail_msg("inserting a row: %s", err.msg);
}

/* ---- get_product ------------------------------------------------------------------------------
 */

/* A row in the cache is the answer: stores is not asked. */
static void hit_reads_the_row(void **state)
{
    (void)state;
    insert_row("p-1", "Cached Atlas", "12.5", "3");
    struct baskets_product got = BASKETS_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(f.port.get_product(f.port.self, "p-1", &got, &err), CORE_OK);
    assert_string_equal(got.id, "p-1");
    assert_string_equal(got.store_id, "s-7");
    assert_string_equal(got.name, "Cached Atlas");
    assert_true(got.price == 12.5);
    baskets_product_release(&got);
    assert_int_equal(f.stores.product_calls, 0);
}

/* A miss asks stores once, keeps the answer (seq 0), and the next read is a hit. */
static void miss_asks_stores_once_and_keeps_the_row(void **state)
{
    (void)state;
    struct baskets_product got = BASKETS_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(f.port.get_product(f.port.self, "p-1", &got, &err), CORE_OK);
    assert_string_equal(got.name, "EDA with Golang");
    assert_true(got.price == 49.99);
    baskets_product_release(&got);
    assert_string_equal(row("p-1"), "s-1|EDA with Golang|49.9900|0");
    assert_int_equal(f.port.get_product(f.port.self, "p-1", &got, &err), CORE_OK);
    assert_string_equal(got.name, "EDA with Golang");
    baskets_product_release(&got);
    assert_int_equal(f.stores.product_calls, 1);
}

/* A product stores does not know: its error unchanged, and nothing kept. */
static void unknown_product_is_stores_error_and_not_kept(void **state)
{
    (void)state;
    struct baskets_product got = BASKETS_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(f.port.get_product(f.port.self, "p-404", &got, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "product p-404 not found");
    assert_null(got.id);
    assert_string_equal(row("p-404"), "");
}

/* ---- product_add --------------------------------------------------------------------------------
 */

static void add_twice_older_and_after_the_fallback(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct baskets_product p = {"p-5", "s-5", "Atlas", 20};
    assert_int_equal(f.w.products.add(f.w.products.self, &p, 8, &err), CORE_OK);
    assert_int_equal(f.w.products.add(f.w.products.self, &p, 8, &err), CORE_OK); /* again */
    assert_string_equal(row("p-5"), "s-5|Atlas|20.0000|8");
    struct baskets_product old = {"p-5", "s-5", "Old Atlas", 19};
    assert_int_equal(f.w.products.add(f.w.products.self, &old, 7, &err), CORE_OK); /* late */
    assert_string_equal(row("p-5"), "s-5|Atlas|20.0000|8");
    /* a row the fallback stored (seq 0) is replaced by the message */
    insert_row("p-6", "Fetched", "1", "0");
    struct baskets_product q = {"p-6", "s-6", "Globe", 30};
    assert_int_equal(f.w.products.add(f.w.products.self, &q, 9, &err), CORE_OK);
    assert_string_equal(row("p-6"), "s-6|Globe|30.0000|9");
}

/* ---- product_set_price --------------------------------------------------------------------------
 */

static void prices_newer_wins_unknown_left_alone(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    insert_row("p-8", "Atlas", "20", "10");
    assert_int_equal(f.w.products.set_price(f.w.products.self, "p-8", 25, 11, &err), CORE_OK);
    assert_int_equal(f.w.products.set_price(f.w.products.self, "p-8", 22.5, 12, &err), CORE_OK);
    assert_int_equal(f.w.products.set_price(f.w.products.self, "p-8", 22.5, 12, &err), CORE_OK);
    assert_int_equal(f.w.products.set_price(f.w.products.self, "p-8", 25, 11, &err), CORE_OK);
    assert_string_equal(row("p-8"), "s-7|Atlas|22.5000|12");
    assert_int_equal(f.w.products.set_price(f.w.products.self, "p-9", 5, 13, &err), CORE_OK);
    assert_string_equal(row("p-9"), "");
}

/* ---- the race
 * ------------------------------------------------------------------------------------ */

/* While the fallback asks stores, the ProductAdded event stores the row. Your read must still
 * answer (with stores' answer) and keep the event's row. */
struct racing {
    struct baskets_stores_port inner;
};
static struct racing racer;

static core_status racing_get_product(void *self, const char *id, struct baskets_product *out,
                                      core_err *err)
{
    struct racing *r = self;
    struct baskets_product p = {(char *)id, "s-1", "From the event", 8};
    core_status st = f.w.products.add(f.w.products.self, &p, 50, err);
    return st ? st : r->inner.get_product(r->inner.self, id, out, err);
}

static void event_during_the_fallback(void **state)
{
    (void)state;
    racer.inner = f.caches.fallback;
    f.caches.fallback.self = &racer;
    f.caches.fallback.get_product = racing_get_product;
    struct baskets_product got = BASKETS_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(f.port.get_product(f.port.self, "p-2", &got, &err), CORE_OK);
    assert_string_equal(got.name, "Wizard w/ crystal");
    baskets_product_release(&got);
    assert_string_equal(row("p-2"), "s-1|From the event|8.0000|50");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hit_reads_the_row, setup, teardown),
        cmocka_unit_test_setup_teardown(miss_asks_stores_once_and_keeps_the_row, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_product_is_stores_error_and_not_kept, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(add_twice_older_and_after_the_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(prices_newer_wins_unknown_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(event_during_the_fallback, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
