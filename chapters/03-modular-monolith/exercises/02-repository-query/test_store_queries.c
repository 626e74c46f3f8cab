/* test_store_queries.c -- exercise 03.2: three queries of the stores module's PostgreSQL
 * repositories (stores/postgres.c), tested against a real database.
 *
 * Needs the lab's PostgreSQL (make lab-up). The group setup creates a scratch database through
 * PG_CONN (default: the lab's, see shared/cfg.h), applies the chapter's migrations to it (the
 * same SQL the monolith runs at start-up, embedded as chapter_migrations), and drops it again at
 * the end. Each test empties the two tables, inserts its rows with plain parameterized INSERTs
 * (not through your code), and then calls your query through the module's repository PORT, the
 * way the application layer does.
 *
 * Some values contain quotes on purpose ("O'Hare", "x' OR '1'='1"): a query that pastes values
 * into its SQL text breaks on them or returns the wrong rows. Parameters ($1) do not.
 *
 * Every test gets a pool with ONE connection and checks at the end that it leaked nothing and that
 * the connection was given back (pg_release). A query that keeps it makes its next call fail with
 * "no database connection free within 1000 ms".
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
#include "pg.h"
#include "stores/adapters.h"

/* ---- the database ---------------------------------------------------------------------------- */

static struct e2e_db scratch = E2E_DB_INIT;
static pg_pool *db; /* a new one per test, with ONE connection: a query that keeps it is noticed */
static struct stores_store_repo stores;
static struct stores_participating_repo participating;
static struct stores_product_repo products;
static long live_before;

static int group_setup(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    log_init(LOG_LEVEL_WARN); /* no "applied migration" lines */
    core_status st = e2e_db_create(&scratch, "ex03_2", &err);
    if (st == CORE_ERR_UNAVAILABLE) {
        print_error("error: this exercise needs PostgreSQL, and it cannot be reached: %s\n"
                    "error: start the lab with `make lab-up` (check it with `make lab-status`)\n",
                    err.msg);
        return -1;
    }
    if (st) {
        print_error("error: cannot create a scratch database: %s\n", err.msg);
        return -1;
    }
    pg_pool *pool = NULL;
    struct pg_pool_opts opts = {scratch.conninfo, 1, 0};
    if ((st = pg_pool_new(&pool, &opts, &err)) ||
        (st = pg_migrate(pool, chapter_migrations, chapter_migration_count, NULL, NULL, &err)))
        print_error("error: cannot prepare the scratch database %s: %s\n", scratch.name, err.msg);
    pg_pool_free(pool);
    return st ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    if (e2e_db_drop(&scratch, &err)) {
        print_error("error: cannot drop the scratch database %s: %s\n", scratch.name, err.msg);
        return -1;
    }
    return 0;
}

/* Runs one statement of the test's own (constant SQL, values as parameters); fails the test on
 * error. Returns the number of rows it returned or touched. */
static long sql(const char *text, int nparams, const char *const *params)
{
    pg_conn *conn = NULL;
    PGresult *res = NULL;
    core_err err = CORE_ERR_INIT;
    core_status st = pg_acquire(db, &conn, &err);
    if (st == CORE_OK)
        st = pg_exec(conn, text, nparams, params, &res, &err);
    pg_release(db, conn);
    if (st) {
        print_error("test SQL failed: %s\n    %s\n", text, err.msg);
        fail();
    }
    long n = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res)
                                                    : strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return n;
}

static void insert_store(const char *id, const char *name, const char *location, bool on)
{
    const char *p[] = {id, name, location, on ? "true" : "false"};
    sql("INSERT INTO stores.stores (id, name, location, participating) VALUES ($1, $2, $3, $4)", 4,
        p);
}

static void insert_product(const char *id, const char *store_id, const char *name,
                           const char *description, const char *sku, const char *price)
{
    const char *p[] = {id, store_id, name, description, sku, price};
    sql("INSERT INTO stores.products (id, store_id, name, description, sku, price) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        6, p);
}

static int setup(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts opts = {scratch.conninfo, 1, 1000};
    live_before =
        core_alloc_live(); /* the pool's own memory (statement cache) counts until freed */
    if (pg_pool_new(&db, &opts, &err)) {
        print_error("error: cannot connect to the scratch database: %s\n", err.msg);
        return -1;
    }
    stores__pg_store_repo(&stores, db);
    stores__pg_participating_repo(&participating, db);
    stores__pg_product_repo(&products, db);
    sql("TRUNCATE stores.stores, stores.products", 0, NULL);
    return 0;
}

/* Frees the test's pool -- unless a query kept its connection: pg_pool_free() would abort, so
 * that pool is abandoned (the sanitizer reports it as a leak at exit) and the next test gets a
 * new one. */
static int teardown(void **state)
{
    (void)state;
    pg_conn *conn = NULL;
    core_err err = CORE_ERR_INIT;
    if (db && pg_acquire(db, &conn, &err) == CORE_OK) {
        pg_release(db, conn);
        pg_pool_free(db);
    }
    db = NULL;
    return 0;
}

/* The last line of every test: the pool's one connection is free again, and once the pool is
 * freed (it keeps each connection's prepared statements, see shared/pg.h) nothing leaked. */
#define finish()                                                                                   \
    do {                                                                                           \
        pg_conn *c_ = NULL;                                                                        \
        core_err e_ = CORE_ERR_INIT;                                                               \
        if (pg_acquire(db, &c_, &e_) != CORE_OK) {                                                 \
            print_error("the connection was not given back to the pool (pg_release): %s\n",        \
                        e_.msg);                                                                   \
            fail();                                                                                \
        }                                                                                          \
        pg_release(db, c_);                                                                        \
        pg_pool_free(db);                                                                          \
        db = NULL;                                                                                 \
        long leaked_ = core_alloc_live() - live_before;                                            \
        if (leaked_ != 0) {                                                                        \
            print_error("memory leak: %ld allocation(s) not freed\n", leaked_);                    \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- checking results ------------------------------------------------------------------------ */

static void check_result(core_status got, const core_err *err, core_status want,
                         const char *want_msg, const char *call, const char *file, int line)
{
    if (got == want && (want == CORE_OK || strcmp(err->msg, want_msg) == 0))
        return;
    print_error("%s\n", call);
    if (want == CORE_OK)
        print_error("    wanted: CORE_OK (no error)\n");
    else
        print_error("    wanted: error %s \"%s\"\n", core_status_name(want), want_msg);
    if (got == CORE_OK)
        print_error("    got:    CORE_OK\n");
    else
        print_error("    got:    error %s \"%s\"\n", core_status_name(got), err->msg);
    _fail(file, line);
}

/* expect(call, status, text): call names its error argument `err`; text is only compared for an
 * error status. */
#define expect(call, want, text)                                                                   \
    do {                                                                                           \
        core_err err_ = CORE_ERR_INIT;                                                             \
        core_err *err = &err_;                                                                     \
        core_status got_ = (call);                                                                 \
        check_result(got_, err, (want), (text), #call, __FILE__, __LINE__);                        \
    } while (0)
#define expect_ok(call) expect(call, CORE_OK, NULL)

/* "id:name, id:name, ..." of a list, for comparing whole listings. */
static const char *store_ids(const struct stores_store_list *l)
{
    static char buf[1024];
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < l->len && used < sizeof buf; i++) {
        int n = snprintf(buf + used, sizeof buf - used, "%s%s:%s", i ? ", " : "", l->items[i].id,
                         l->items[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

static const char *product_ids(const struct stores_product_list *l)
{
    static char buf[1024];
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < l->len && used < sizeof buf; i++) {
        int n = snprintf(buf + used, sizeof buf - used, "%s%s:%s", i ? ", " : "", l->items[i].id,
                         l->items[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

#define expect_listing(got, want)                                                                  \
    do {                                                                                           \
        const char *got_ = (got);                                                                  \
        if (strcmp(got_, (want)) != 0) {                                                           \
            print_error("listing\n    wanted: \"%s\"\n    got:    \"%s\"\n", (want), got_);        \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* A small mall: four stores, two of them in the kiosk program, one with a quote in its id. */
static void insert_mall(void)
{
    insert_store("s-1", "Nic & Naks", "Upper Level, East", true);
    insert_store("s-2", "Waldorf Books", "West Upper Level", false);
    insert_store("s-3", "Candle Corner", "O'Hare wing", true);
    insert_store("o'brien", "O'Brien's Tea", "Lower Level \"by the fountain\"", false);
}

/* ---- store_find ------------------------------------------------------------------------------ */

static void find_store_reads_the_row_with_that_id(void **state)
{
    (void)state;
    insert_mall();
    struct stores_store s = STORES_STORE_INIT;
    expect_ok(stores.find(stores.self, "s-1", &s, err));
    assert_string_equal(s.id, "s-1");
    assert_string_equal(s.name, "Nic & Naks");
    assert_string_equal(s.location, "Upper Level, East");
    assert_true(s.participating);
    stores_store_release(&s);

    expect_ok(stores.find(stores.self, "s-2", &s, err));
    assert_string_equal(s.name, "Waldorf Books");
    assert_string_equal(s.location, "West Upper Level");
    assert_false(s.participating);
    stores_store_release(&s);
    finish();
}

static void find_store_of_an_unknown_id_is_not_found(void **state)
{
    (void)state;
    insert_mall();
    struct stores_store s = STORES_STORE_INIT;
    expect(stores.find(stores.self, "s-404", &s, err), CORE_ERR_NOT_FOUND, "store s-404 not found");
    assert_null(s.name); /* still empty */
    stores_store_release(&s);
    finish();
}

static void find_store_takes_the_id_as_a_parameter(void **state)
{
    (void)state;
    insert_mall();
    struct stores_store s = STORES_STORE_INIT;
    /* a quote in the id: pasted into the SQL text, this is a syntax error */
    expect_ok(stores.find(stores.self, "o'brien", &s, err));
    assert_string_equal(s.id, "o'brien");
    assert_string_equal(s.name, "O'Brien's Tea");
    assert_string_equal(s.location, "Lower Level \"by the fountain\"");
    stores_store_release(&s);

    /* pasted into the SQL text, this finds every store */
    expect(stores.find(stores.self, "x' OR '1'='1", &s, err), CORE_ERR_NOT_FOUND,
           "store x' OR '1'='1 not found");
    /* and this would delete them */
    expect(stores.find(stores.self, "x'; DELETE FROM stores.stores; --", &s, err),
           CORE_ERR_NOT_FOUND, "store x'; DELETE FROM stores.stores; -- not found");
    assert_null(s.name);
    assert_int_equal(sql("SELECT id FROM stores.stores", 0, NULL), 4);
    finish();
}

/* ---- participating_find_all ------------------------------------------------------------------ */

static void participating_stores_are_only_those_in_the_program(void **state)
{
    (void)state;
    insert_mall();
    struct stores_store_list l = STORES_STORE_LIST_INIT;
    expect_ok(participating.find_all(participating.self, &l, err));
    expect_listing(store_ids(&l), "s-3:Candle Corner, s-1:Nic & Naks");
    for (size_t i = 0; i < l.len; i++)
        assert_true(l.items[i].participating);
    assert_string_equal(l.items[0].location, "O'Hare wing");
    assert_string_equal(l.items[1].location, "Upper Level, East");
    stores_store_list_release(&l);
    finish();
}

static void participating_stores_are_ordered_by_name_then_id(void **state)
{
    (void)state;
    insert_store("s-10", "Zebra Toys", "North", true);
    insert_store("s-20", "Apple Shack", "South", true);
    insert_store("s-31", "Bakery", "East", true);
    insert_store("s-30", "Bakery", "West", true); /* same name: the id decides */
    insert_store("s-01", "Cafe", "Centre", false);
    struct stores_store_list l = STORES_STORE_LIST_INIT;
    expect_ok(participating.find_all(participating.self, &l, err));
    expect_listing(store_ids(&l), "s-20:Apple Shack, s-30:Bakery, s-31:Bakery, s-10:Zebra Toys");
    stores_store_list_release(&l);
    finish();
}

static void participating_stores_of_a_mall_without_any_is_an_empty_list(void **state)
{
    (void)state;
    struct stores_store_list l = STORES_STORE_LIST_INIT;
    expect_ok(participating.find_all(participating.self, &l, err)); /* no stores at all */
    assert_int_equal(l.len, 0);
    insert_store("s-2", "Waldorf Books", "West Upper Level", false);
    expect_ok(participating.find_all(participating.self, &l, err)); /* none participating */
    assert_int_equal(l.len, 0);
    stores_store_list_release(&l);
    finish();
}

static void participating_stores_are_appended_to_the_list(void **state)
{
    (void)state;
    insert_mall();
    struct stores_store_list l = STORES_STORE_LIST_INIT;
    /* the port's contract: "appends", so a caller can collect several listings in one list */
    expect_ok(participating.find_all(participating.self, &l, err));
    expect_ok(participating.find_all(participating.self, &l, err));
    expect_listing(store_ids(&l),
                   "s-3:Candle Corner, s-1:Nic & Naks, s-3:Candle Corner, s-1:Nic & Naks");
    stores_store_list_release(&l);
    finish();
}

/* ---- product_catalog ------------------------------------------------------------------------- */

static void catalog_lists_the_products_of_one_store(void **state)
{
    (void)state;
    insert_mall();
    insert_product("p-1", "s-1", "Wizard w/ crystal", "A wizard holding a crystal", "WIZ-1",
                   "9.98");
    insert_product("p-2", "s-2", "EDA with Golang", "", "1234", "49.99");
    insert_product("p-3", "s-1", "Dragon figurine", "", "", "14.5");
    struct stores_product_list l = STORES_PRODUCT_LIST_INIT;
    expect_ok(products.catalog(products.self, "s-1", &l, err));
    expect_listing(product_ids(&l), "p-3:Dragon figurine, p-1:Wizard w/ crystal");
    const struct stores_product *wiz = &l.items[1];
    assert_string_equal(wiz->store_id, "s-1");
    assert_string_equal(wiz->description, "A wizard holding a crystal");
    assert_string_equal(wiz->sku, "WIZ-1");
    assert_true(wiz->price == 9.98);
    assert_string_equal(l.items[0].description, "");
    assert_true(l.items[0].price == 14.5);
    stores_product_list_release(&l);
    finish();
}

static void catalog_is_ordered_by_name_then_id(void **state)
{
    (void)state;
    insert_product("p-9", "s-1", "Yo-yo", "", "", "1");
    insert_product("p-5", "s-1", "Kite", "blue", "", "12");
    insert_product("p-4", "s-1", "Kite", "red", "", "12"); /* same name: the id decides */
    insert_product("p-7", "s-1", "Abacus", "", "", "7.25");
    struct stores_product_list l = STORES_PRODUCT_LIST_INIT;
    expect_ok(products.catalog(products.self, "s-1", &l, err));
    expect_listing(product_ids(&l), "p-7:Abacus, p-4:Kite, p-5:Kite, p-9:Yo-yo");
    stores_product_list_release(&l);
    finish();
}

static void catalog_of_a_store_without_products_is_empty(void **state)
{
    (void)state;
    insert_mall();
    insert_product("p-1", "s-1", "Wizard w/ crystal", "", "", "9.98");
    struct stores_product_list l = STORES_PRODUCT_LIST_INIT;
    expect_ok(products.catalog(products.self, "s-2", &l, err));
    assert_int_equal(l.len, 0);
    /* an unknown store is no error here: the application checks that the store exists */
    expect_ok(products.catalog(products.self, "s-404", &l, err));
    assert_int_equal(l.len, 0);
    stores_product_list_release(&l);
    finish();
}

static void catalog_takes_the_store_id_as_a_parameter(void **state)
{
    (void)state;
    insert_mall();
    insert_product("p-1", "s-1", "Wizard w/ crystal", "", "", "9.98");
    insert_product("p-2", "o'brien", "Earl Grey", "Mr O'Brien's own blend", "T'1", "4.5");
    struct stores_product_list l = STORES_PRODUCT_LIST_INIT;
    expect_ok(products.catalog(products.self, "o'brien", &l, err));
    expect_listing(product_ids(&l), "p-2:Earl Grey");
    assert_string_equal(l.items[0].description, "Mr O'Brien's own blend");
    assert_string_equal(l.items[0].sku, "T'1");
    stores_product_list_release(&l);
    /* pasted into the SQL text, this lists every product of the mall */
    expect_ok(products.catalog(products.self, "x' OR '1'='1", &l, err));
    expect_listing(product_ids(&l), "");
    stores_product_list_release(&l);
    finish();
}

static void catalog_is_appended_to_the_list(void **state)
{
    (void)state;
    insert_product("p-1", "s-1", "Wizard w/ crystal", "", "", "9.98");
    insert_product("p-2", "s-2", "EDA with Golang", "", "1234", "49.99");
    struct stores_product_list l = STORES_PRODUCT_LIST_INIT;
    expect_ok(products.catalog(products.self, "s-1", &l, err));
    expect_ok(products.catalog(products.self, "s-2", &l, err));
    expect_listing(product_ids(&l), "p-1:Wizard w/ crystal, p-2:EDA with Golang");
    stores_product_list_release(&l);
    finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(find_store_reads_the_row_with_that_id, setup, teardown),
        cmocka_unit_test_setup_teardown(find_store_of_an_unknown_id_is_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(find_store_takes_the_id_as_a_parameter, setup, teardown),
        cmocka_unit_test_setup_teardown(participating_stores_are_only_those_in_the_program, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(participating_stores_are_ordered_by_name_then_id, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(participating_stores_of_a_mall_without_any_is_an_empty_list,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(participating_stores_are_appended_to_the_list, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(catalog_lists_the_products_of_one_store, setup, teardown),
        cmocka_unit_test_setup_teardown(catalog_is_ordered_by_name_then_id, setup, teardown),
        cmocka_unit_test_setup_teardown(catalog_of_a_store_without_products_is_empty, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(catalog_takes_the_store_id_as_a_parameter, setup, teardown),
        cmocka_unit_test_setup_teardown(catalog_is_appended_to_the_list, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
