/* test_search_caches_pg.c -- integration tests (chapter 07): the search module's caches of the
 * names it shows (search/adapters.h, search/caches.c) against the real PostgreSQL of the lab,
 * with the fake of the customers and stores modules (search_fakes.h) as the fallback.
 *
 * One scratch database for the file, migrated with the chapter's migrations. The tests use ids
 * of their own, so they do not depend on one another. They check the caches' rules: a message
 * twice, an older message after a newer one (the seq guard), messages about rows the cache does
 * not have, a miss that asks the fallback once and keeps the answer, then an event that replaces
 * it, an unknown id that is not kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "e2e.h"
#include "log.h"
#include "monolith/monolith.h"
#include "search/adapters.h"
#include "search_fakes.h"

static struct e2e_scratch scratch = E2E_SCRATCH_INIT;
static pg_pool *db;

static int group_setup(void **state)
{
    (void)state;
    if (e2e_scratch_open(&scratch, "searchcaches"))
        return -1;
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts o = {scratch.db.conninfo, 2, 0};
    if (pg_pool_new(&db, &o, &err) ||
        pg_migrate(db, chapter_migrations, chapter_migration_count, NULL, NULL, &err)) {
        fprintf(stderr, "search caches: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
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

#define ROW(id, sql) sql1((char[256]){0}, 256, (sql), (id))
#define CUSTOMER "SELECT name || '|' || seq FROM search.customers_cache WHERE id = $1"
#define STORE "SELECT name || '|' || seq FROM search.stores_cache WHERE id = $1"
#define PRODUCT                                                                                    \
    "SELECT store_id || '|' || name || '|' || seq FROM search.products_cache WHERE id = $1"

/* What the owners (the fallback) know. */
static const struct search_fake_name customers[] = {{"sc-1", "Buyer #1", NULL}, {NULL, NULL, NULL}};
static const struct search_fake_name stores[] = {{"ss-1", "Waldorf Books", NULL},
                                                 {NULL, NULL, NULL}};
static const struct search_fake_name products[] = {{"sp-1", "EDA with Golang", "ss-1"},
                                                   {NULL, NULL, NULL}};

struct fx {
    struct search_fake_caches owners;
    struct search_pg_caches caches;
    struct search_caches port;
    struct search_cache_handlers w;
};

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof *f);
    f->owners.customers = customers;
    f->owners.stores = stores;
    f->owners.products = products;
    f->caches.db = db;
    search_fake_caches_port(&f->caches.fallback, &f->owners);
    search__cached_names(&f->port, &f->caches);
    search__cache_writers(&f->w, &f->caches);
}

/* The same message twice: one row, no error. An older message (a redelivery after a newer one)
 * changes nothing, for every write. */
static void messages_twice_and_out_of_order(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    core_err err = CORE_ERR_INIT;
    /* customers */
    assert_int_equal(f.w.customers.add(f.w.customers.self, "sc-2", "Ann", 5, &err), CORE_OK);
    assert_int_equal(f.w.customers.add(f.w.customers.self, "sc-2", "Ann", 5, &err), CORE_OK);
    assert_int_equal(f.w.customers.add(f.w.customers.self, "sc-2", "Old Ann", 4, &err), CORE_OK);
    assert_string_equal(ROW("sc-2", CUSTOMER), "Ann|5");
    /* stores */
    assert_int_equal(f.w.stores.add(f.w.stores.self, "ss-2", "Nic & Naks", 7, &err), CORE_OK);
    assert_int_equal(f.w.stores.add(f.w.stores.self, "ss-2", "Nic & Naks", 7, &err), CORE_OK);
    assert_int_equal(f.w.stores.add(f.w.stores.self, "ss-2", "Old", 6, &err), CORE_OK);
    assert_int_equal(f.w.stores.rename(f.w.stores.self, "ss-2", "Nic's", 8, &err), CORE_OK);
    assert_int_equal(f.w.stores.rename(f.w.stores.self, "ss-2", "Nic & Co", 7, &err), CORE_OK);
    assert_string_equal(ROW("ss-2", STORE), "Nic's|8");
    /* products */
    assert_int_equal(f.w.products.add(f.w.products.self, "sp-2", "ss-2", "Atlas", 9, &err),
                     CORE_OK);
    assert_int_equal(f.w.products.add(f.w.products.self, "sp-2", "ss-2", "Atlas", 9, &err),
                     CORE_OK);
    assert_int_equal(f.w.products.rebrand(f.w.products.self, "sp-2", "Atlas II", 10, &err),
                     CORE_OK);
    assert_int_equal(f.w.products.rebrand(f.w.products.self, "sp-2", "Atlas I", 9, &err), CORE_OK);
    assert_int_equal(f.w.products.add(f.w.products.self, "sp-2", "ss-9", "Old", 8, &err), CORE_OK);
    assert_string_equal(ROW("sp-2", PRODUCT), "ss-2|Atlas II|10");
    assert_string_equal(ROW("sp-2", "SELECT count(*)::text FROM search.products_cache "
                                    "WHERE id = $1"),
                        "1");
    /* an old removal does not remove a row a newer message wrote; its own does */
    assert_int_equal(f.w.products.remove(f.w.products.self, "sp-2", 10, &err), CORE_OK);
    assert_string_equal(ROW("sp-2", PRODUCT), "ss-2|Atlas II|10");
    /* the reads are hits: the owners are not asked */
    char *name = NULL, *store_id = NULL;
    assert_int_equal(f.port.get_product(f.port.self, "sp-2", &name, &store_id, &err), CORE_OK);
    assert_string_equal(name, "Atlas II");
    assert_string_equal(store_id, "ss-2");
    core_free(name);
    core_free(store_id);
    name = NULL;
    assert_int_equal(f.port.get_store(f.port.self, "ss-2", &name, &err), CORE_OK);
    assert_string_equal(name, "Nic's");
    core_free(name);
    name = NULL;
    assert_int_equal(f.port.get_customer(f.port.self, "sc-2", &name, &err), CORE_OK);
    assert_string_equal(name, "Ann");
    core_free(name);
    assert_int_equal(f.owners.calls, 0);
    assert_int_equal(f.w.products.remove(f.w.products.self, "sp-2", 11, &err), CORE_OK);
    assert_string_equal(ROW("sp-2", PRODUCT), "");
}

/* Messages about rows the cache does not have (a rename before the create) are left out, with
 * no error and no row. */
static void unknown_rows_are_left_out(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(f.w.stores.rename(f.w.stores.self, "ss-x", "Nobody", 3, &err), CORE_OK);
    assert_int_equal(f.w.products.rebrand(f.w.products.self, "sp-x", "Nobody", 3, &err), CORE_OK);
    assert_int_equal(f.w.products.remove(f.w.products.self, "sp-x", 3, &err), CORE_OK);
    assert_string_equal(ROW("ss-x", STORE), "");
    assert_string_equal(ROW("sp-x", PRODUCT), "");
}

/* A miss asks the owner once and keeps the answer (seq 0); the next read is a hit. The event that
 * arrives afterwards replaces the fallback's row, and a later one is applied too. */
static void fallback_then_event(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    core_err err = CORE_ERR_INIT;
    char *name = NULL, *store_id = NULL;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.port.get_customer(f.port.self, "sc-1", &name, &err), CORE_OK);
        assert_string_equal(name, "Buyer #1");
        core_free(name);
        name = NULL;
        assert_int_equal(f.port.get_store(f.port.self, "ss-1", &name, &err), CORE_OK);
        assert_string_equal(name, "Waldorf Books");
        core_free(name);
        name = NULL;
        assert_int_equal(f.port.get_product(f.port.self, "sp-1", &name, &store_id, &err), CORE_OK);
        assert_string_equal(name, "EDA with Golang");
        assert_string_equal(store_id, "ss-1");
        core_free(name);
        core_free(store_id);
        name = store_id = NULL;
        assert_int_equal(f.owners.calls, 3); /* the second round is three hits */
    }
    assert_string_equal(ROW("sc-1", CUSTOMER), "Buyer #1|0");
    assert_string_equal(ROW("ss-1", STORE), "Waldorf Books|0");
    assert_string_equal(ROW("sp-1", PRODUCT), "ss-1|EDA with Golang|0");
    /* the events the groups had not reached yet, then later ones */
    assert_int_equal(f.w.customers.add(f.w.customers.self, "sc-1", "Buyer One", 20, &err), CORE_OK);
    assert_int_equal(f.w.stores.add(f.w.stores.self, "ss-1", "Waldorf Books", 21, &err), CORE_OK);
    assert_int_equal(f.w.stores.rename(f.w.stores.self, "ss-1", "Waldorf & Co", 22, &err), CORE_OK);
    assert_int_equal(
        f.w.products.add(f.w.products.self, "sp-1", "ss-1", "EDA with Golang", 23, &err), CORE_OK);
    assert_int_equal(f.w.products.rebrand(f.w.products.self, "sp-1", "EDA in Go", 24, &err),
                     CORE_OK);
    assert_string_equal(ROW("sc-1", CUSTOMER), "Buyer One|20");
    assert_string_equal(ROW("ss-1", STORE), "Waldorf & Co|22");
    assert_string_equal(ROW("sp-1", PRODUCT), "ss-1|EDA in Go|24");
    assert_int_equal(f.port.get_store(f.port.self, "ss-1", &name, &err), CORE_OK);
    assert_string_equal(name, "Waldorf & Co");
    core_free(name);
    assert_int_equal(f.owners.calls, 3);
}

/* An id the owners do not know: their error, unchanged, and nothing kept (the next read asks
 * again). */
static void unknown_id_is_not_kept(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    core_err err = CORE_ERR_INIT;
    char *name = NULL, *store_id = NULL;
    assert_int_equal(f.port.get_product(f.port.self, "sp-404", &name, &store_id, &err),
                     CORE_ERR_NOT_FOUND);
    assert_null(name);
    assert_null(store_id);
    assert_int_equal(f.port.get_customer(f.port.self, "sc-404", &name, &err), CORE_ERR_NOT_FOUND);
    assert_null(name);
    assert_int_equal(f.port.get_store(f.port.self, "ss-404", &name, &err), CORE_ERR_NOT_FOUND);
    assert_null(name);
    assert_string_equal(ROW("sp-404", PRODUCT), "");
    assert_string_equal(ROW("sc-404", CUSTOMER), "");
    assert_string_equal(ROW("ss-404", STORE), "");
    assert_int_equal(f.port.get_product(f.port.self, "sp-404", &name, &store_id, &err),
                     CORE_ERR_NOT_FOUND);
    assert_int_equal(f.owners.calls, 4);
    /* an owner that cannot be reached: its error, nothing kept */
    f.owners.fail_op = "store";
    assert_int_equal(f.port.get_store(f.port.self, "ss-77", &name, &err), CORE_ERR_UNAVAILABLE);
    assert_null(name);
}

int main(void)
{
    log_init(LOG_LEVEL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(messages_twice_and_out_of_order),
        cmocka_unit_test(unknown_rows_are_left_out),
        cmocka_unit_test(fallback_then_event),
        cmocka_unit_test(unknown_id_is_not_kept),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
