/* test_caches_pg.c -- integration tests (chapter 07): the caches of baskets, depot and
 * notifications against the real PostgreSQL of the lab, with fakes of the stores and customers
 * modules as the fallback (the fakes of tests/support).
 *
 * One scratch database for the file, migrated with the chapter's migrations. The tests use ids
 * of their own, so they do not depend on one another. They check the rules of the caches
 * (baskets/adapters.h): a message twice, an older message after a newer one, an event that
 * arrives after the fallback stored the row or while the fallback is asking (the book's
 * unique-violation race), messages about rows the cache does not have, a miss that asks the
 * fallback once and keeps the answer, an unknown id that is not kept.
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
#include "depot/adapters.h"
#include "depot_fakes.h"
#include "e2e.h"
#include "log.h"
#include "monolith/monolith.h"
#include "notifications/adapters.h"
#include "notifications_fakes.h"

static struct e2e_scratch scratch = E2E_SCRATCH_INIT;
static pg_pool *db;
static int warnings; /* WARN records written (a cache write that failed is logged at WARN) */

static void count_warnings(void *ud, const char *line, size_t len)
{
    (void)ud;
    (void)len;
    if (strstr(line, "WARN"))
        warnings++;
}

static int group_setup(void **state)
{
    (void)state;
    if (e2e_scratch_open(&scratch, "caches"))
        return -1;
    core_err err = CORE_ERR_INIT;
    struct pg_pool_opts o = {scratch.db.conninfo, 2, 0};
    if (pg_pool_new(&db, &o, &err) ||
        pg_migrate(db, chapter_migrations, chapter_migration_count, NULL, NULL, &err)) {
        fprintf(stderr, "caches: %s\n", err.msg);
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
#define BASKETS_PRODUCT                                                                            \
    "SELECT store_id || '|' || name || '|' || price::text || '|' || seq "                          \
    "FROM baskets.products_cache WHERE id = $1"

/* ---- baskets ------------------------------------------------------------------------------- */

struct baskets_fx {
    struct baskets_fake_stores stores;
    struct baskets_caches caches;
    struct baskets_stores_port port;
    struct baskets_cache_handlers w;
};

static void baskets_fx_init(struct baskets_fx *f)
{
    memset(f, 0, sizeof *f);
    f->caches.db = db;
    baskets_fake_stores_port(&f->caches.fallback, &f->stores);
    baskets__cached_stores(&f->port, &f->caches);
    baskets__cache_writers(&f->w, &f->caches);
}

static void product(const char *id, double price, struct baskets_product *out)
{
    *out = (struct baskets_product){(char *)id, "s-9", "Atlas", price};
}

/* The same ProductAdded twice: one row, no error. An older message changes nothing. */
static void baskets_add_twice_and_older_add(void **state)
{
    (void)state;
    struct baskets_fx f;
    baskets_fx_init(&f);
    struct baskets_product p;
    core_err err = CORE_ERR_INIT;
    product("bp-1", 20, &p);
    assert_int_equal(f.w.products.add(f.w.products.self, &p, 5, &err), CORE_OK);
    assert_int_equal(f.w.products.add(f.w.products.self, &p, 5, &err), CORE_OK);
    assert_string_equal(ROW("bp-1", BASKETS_PRODUCT), "s-9|Atlas|20.0000|5");
    product("bp-1", 99, &p);
    assert_int_equal(f.w.products.add(f.w.products.self, &p, 4, &err), CORE_OK);
    assert_string_equal(ROW("bp-1", BASKETS_PRODUCT), "s-9|Atlas|20.0000|5");
    assert_string_equal(ROW("bp-1", "SELECT count(*)::text FROM baskets.products_cache "
                                    "WHERE id = $1"),
                        "1");
}

/* Two price changes, the older delivered again after the newer: the newer price stays. The same
 * change twice sets the same price (a delta would have been added twice). */
static void baskets_prices_out_of_order_and_twice(void **state)
{
    (void)state;
    struct baskets_fx f;
    baskets_fx_init(&f);
    struct baskets_product p;
    core_err err = CORE_ERR_INIT;
    product("bp-2", 20, &p);
    assert_int_equal(f.w.products.add(f.w.products.self, &p, 10, &err), CORE_OK);
    assert_int_equal(f.w.products.set_price(f.w.products.self, "bp-2", 25, 11, &err), CORE_OK);
    assert_int_equal(f.w.products.set_price(f.w.products.self, "bp-2", 22.5, 12, &err), CORE_OK);
    assert_int_equal(f.w.products.set_price(f.w.products.self, "bp-2", 22.5, 12, &err), CORE_OK);
    assert_int_equal(f.w.products.set_price(f.w.products.self, "bp-2", 25, 11, &err), CORE_OK);
    assert_string_equal(ROW("bp-2", BASKETS_PRODUCT), "s-9|Atlas|22.5000|12");
    assert_int_equal(f.w.products.rebrand(f.w.products.self, "bp-2", "Atlas II", 13, &err),
                     CORE_OK);
    assert_int_equal(f.w.products.rebrand(f.w.products.self, "bp-2", "Atlas I", 11, &err), CORE_OK);
    assert_string_equal(ROW("bp-2", BASKETS_PRODUCT), "s-9|Atlas II|22.5000|13");
    /* an old removal does not remove a row a newer message wrote; its own does */
    assert_int_equal(f.w.products.remove(f.w.products.self, "bp-2", 12, &err), CORE_OK);
    assert_string_equal(ROW("bp-2", BASKETS_PRODUCT), "s-9|Atlas II|22.5000|13");
    assert_int_equal(f.w.products.remove(f.w.products.self, "bp-2", 14, &err), CORE_OK);
    assert_string_equal(ROW("bp-2", BASKETS_PRODUCT), "");
}

/* Messages about rows the cache does not have (a rebrand before the create) are left out, with
 * no error and no row. */
static void baskets_unknown_rows_are_left_out(void **state)
{
    (void)state;
    struct baskets_fx f;
    baskets_fx_init(&f);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(f.w.stores.rename(f.w.stores.self, "bs-x", "Nobody", 3, &err), CORE_OK);
    assert_int_equal(f.w.products.rebrand(f.w.products.self, "bp-x", "Nobody", 3, &err), CORE_OK);
    assert_int_equal(f.w.products.set_price(f.w.products.self, "bp-x", 1, 3, &err), CORE_OK);
    assert_int_equal(f.w.products.remove(f.w.products.self, "bp-x", 3, &err), CORE_OK);
    assert_string_equal(ROW("bs-x", "SELECT name FROM baskets.stores_cache WHERE id = $1"), "");
    assert_string_equal(ROW("bp-x", BASKETS_PRODUCT), "");
}

/* A miss asks stores once and keeps the answer (seq 0); the next read is a hit. An event that
 * arrives afterwards replaces the fallback's row. */
static void baskets_miss_asks_stores_once_then_event_wins(void **state)
{
    (void)state;
    struct baskets_fx f;
    baskets_fx_init(&f);
    core_err err = CORE_ERR_INIT;
    struct baskets_product got = BASKETS_PRODUCT_INIT;
    assert_int_equal(f.port.get_product(f.port.self, "p-1", &got, &err), CORE_OK);
    assert_string_equal(got.name, "EDA with Golang");
    assert_true(got.price == 49.99);
    baskets_product_release(&got);
    assert_int_equal(f.stores.product_calls, 1);
    assert_string_equal(ROW("p-1", BASKETS_PRODUCT), "s-1|EDA with Golang|49.9900|0");
    assert_int_equal(f.port.get_product(f.port.self, "p-1", &got, &err), CORE_OK);
    assert_string_equal(got.store_id, "s-1");
    assert_true(got.price == 49.99);
    baskets_product_release(&got);
    assert_int_equal(f.stores.product_calls, 1); /* a hit */
    /* the ProductAdded the group had not reached yet, then a price change */
    struct baskets_product p = {"p-1", "s-1", "EDA with Golang", 45};
    assert_int_equal(f.w.products.add(f.w.products.self, &p, 30, &err), CORE_OK);
    assert_int_equal(f.w.products.set_price(f.w.products.self, "p-1", 47, 31, &err), CORE_OK);
    assert_string_equal(ROW("p-1", BASKETS_PRODUCT), "s-1|EDA with Golang|47.0000|31");
    /* the store, the same way */
    struct baskets_store s = BASKETS_STORE_INIT;
    assert_int_equal(f.port.get_store(f.port.self, "s-1", &s, &err), CORE_OK);
    assert_string_equal(s.name, "Waldorf Books");
    baskets_store_release(&s);
    assert_int_equal(f.stores.store_calls, 1);
    assert_int_equal(f.port.get_store(f.port.self, "s-1", &s, &err), CORE_OK);
    assert_string_equal(s.name, "Waldorf Books");
    baskets_store_release(&s);
    assert_int_equal(f.stores.store_calls, 1);
    assert_int_equal(f.w.stores.add(f.w.stores.self, "s-1", "Waldorf Books", 40, &err), CORE_OK);
    assert_int_equal(f.w.stores.rename(f.w.stores.self, "s-1", "Waldorf & Co", 41, &err), CORE_OK);
    assert_string_equal(ROW("s-1", "SELECT name || '|' || seq FROM baskets.stores_cache "
                                   "WHERE id = $1"),
                        "Waldorf & Co|41");
}

/* The race of the book (a unique violation there): while the fallback asks stores, the event
 * stores the row. The fallback's INSERT then changes nothing and does not fail. */
struct racing {
    struct baskets_stores_port inner;
    struct baskets_cache_handlers *w;
};

static core_status racing_get_product(void *self, const char *id, struct baskets_product *out,
                                      core_err *err)
{
    struct racing *r = self;
    struct baskets_product p = {(char *)id, "s-1", "Wizard (event)", 8};
    core_status st = r->w->products.add(r->w->products.self, &p, 50, err);
    return st ? st : r->inner.get_product(r->inner.self, id, out, err);
}

static void baskets_event_during_the_fallback(void **state)
{
    (void)state;
    struct baskets_fx f;
    baskets_fx_init(&f);
    struct racing r = {f.caches.fallback, &f.w};
    f.caches.fallback.self = &r;
    f.caches.fallback.get_product = racing_get_product;
    core_err err = CORE_ERR_INIT;
    struct baskets_product got = BASKETS_PRODUCT_INIT;
    warnings = 0;
    log_sink_set(count_warnings, NULL);
    core_status st = f.port.get_product(f.port.self, "p-2", &got, &err);
    log_sink_set(NULL, NULL);
    assert_int_equal(st, CORE_OK);
    assert_string_equal(got.name, "Wizard w/ crystal"); /* stores' answer, for this call */
    baskets_product_release(&got);
    assert_string_equal(ROW("p-2", BASKETS_PRODUCT), "s-1|Wizard (event)|8.0000|50");
    assert_int_equal(warnings, 0); /* the fallback's insert did not fail either */
}

/* An id stores does not know: its error, unchanged, and nothing kept. */
static void baskets_unknown_id_is_not_kept(void **state)
{
    (void)state;
    struct baskets_fx f;
    baskets_fx_init(&f);
    core_err err = CORE_ERR_INIT;
    struct baskets_product got = BASKETS_PRODUCT_INIT;
    assert_int_equal(f.port.get_product(f.port.self, "p-404", &got, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "product p-404 not found");
    assert_null(got.id);
    assert_string_equal(ROW("p-404", BASKETS_PRODUCT), "");
    assert_int_equal(f.port.get_product(f.port.self, "p-404", &got, &err), CORE_ERR_NOT_FOUND);
    assert_int_equal(f.stores.product_calls, 2);
}

/* ---- depot --------------------------------------------------------------------------------- */

static void depot_caches_keep_the_location(void **state)
{
    (void)state;
    struct depot_fake_stores stores = {0};
    struct depot_caches caches = {db, {0}};
    struct depot_stores_port port;
    struct depot_cache_handlers w;
    depot_fake_stores_port(&caches.fallback, &stores);
    depot_cached_stores(&port, &caches);
    depot_cache_writers(&w, &caches);
    core_err err = CORE_ERR_INIT;
    /* miss -> stores -> kept with its location */
    struct depot_store s = {0};
    assert_int_equal(port.get_store(port.self, "s1", &s, &err), CORE_OK);
    assert_string_equal(s.location, "West Upper Level");
    depot_store_release(&s);
    assert_int_equal(port.get_store(port.self, "s1", &s, &err), CORE_OK);
    assert_string_equal(s.location, "West Upper Level");
    depot_store_release(&s);
    assert_int_equal(stores.store_calls, 1);
    /* events: twice, older, unknown */
    assert_int_equal(w.stores.add(w.stores.self, "ds-1", "Nic & Naks", "East", 7, &err), CORE_OK);
    assert_int_equal(w.stores.add(w.stores.self, "ds-1", "Nic & Naks", "East", 7, &err), CORE_OK);
    assert_int_equal(w.stores.add(w.stores.self, "ds-1", "Old", "Old", 6, &err), CORE_OK);
    assert_int_equal(w.stores.rename(w.stores.self, "ds-1", "Nic's", 8, &err), CORE_OK);
    assert_int_equal(w.stores.rename(w.stores.self, "ds-x", "Nobody", 8, &err), CORE_OK);
    assert_string_equal(ROW("ds-1", "SELECT name || '|' || location || '|' || seq "
                                    "FROM depot.stores_cache WHERE id = $1"),
                        "Nic's|East|8");
    assert_string_equal(ROW("ds-x", "SELECT name FROM depot.stores_cache WHERE id = $1"), "");
    assert_int_equal(w.products.add(w.products.self, "dp-1", "ds-1", "Atlas", 9, &err), CORE_OK);
    assert_int_equal(w.products.add(w.products.self, "dp-1", "ds-1", "Atlas", 9, &err), CORE_OK);
    assert_int_equal(w.products.rebrand(w.products.self, "dp-1", "Atlas II", 10, &err), CORE_OK);
    assert_int_equal(w.products.rebrand(w.products.self, "dp-1", "Atlas I", 9, &err), CORE_OK);
    struct depot_product p = {0};
    assert_int_equal(port.get_product(port.self, "dp-1", &p, &err), CORE_OK);
    assert_string_equal(p.name, "Atlas II");
    depot_product_release(&p);
    assert_int_equal(stores.product_calls, 0);
    assert_int_equal(w.products.remove(w.products.self, "dp-1", 11, &err), CORE_OK);
    assert_int_equal(port.get_product(port.self, "dp-1", &p, &err), CORE_ERR_NOT_FOUND);
    assert_int_equal(stores.product_calls, 1);
}

/* ---- notifications ------------------------------------------------------------------------- */

static void customers_cache_rules(void **state)
{
    (void)state;
    struct notifications_fake_customers customers = {0};
    struct notifications_caches caches = {db, {0}, NULL};
    struct notifications_customers port;
    struct notifications_customer_cache w;
    notifications_fake_customers_port(&caches.fallback, &customers);
    notifications__cached_customers(&port, &caches);
    notifications__cache_writers(&w, &caches);
    core_err err = CORE_ERR_INIT;
    struct notifications_customer c = NOTIFICATIONS_CUSTOMER_INIT;
    /* miss -> customers -> kept; then a hit */
    assert_int_equal(port.find(port.self, "customer-1", &c, &err), CORE_OK);
    assert_string_equal(c.sms_number, "555-1212");
    notifications_customer_release(&c);
    assert_int_equal(port.find(port.self, "customer-1", &c, &err), CORE_OK);
    assert_string_equal(c.name, "Buyer #1");
    notifications_customer_release(&c);
    assert_int_equal(customers.calls, 1);
    /* CustomerRegistered after the fallback, twice; a new number; an older one again */
    assert_int_equal(w.add(w.self, "customer-1", "Buyer #1", "555-1212", 3, &err), CORE_OK);
    assert_int_equal(w.add(w.self, "customer-1", "Buyer #1", "555-1212", 3, &err), CORE_OK);
    assert_int_equal(w.change_sms(w.self, "customer-1", "555-2000", 5, &err), CORE_OK);
    assert_int_equal(w.change_sms(w.self, "customer-1", "555-1999", 4, &err), CORE_OK);
    assert_int_equal(port.find(port.self, "customer-1", &c, &err), CORE_OK);
    assert_string_equal(c.sms_number, "555-2000");
    notifications_customer_release(&c);
    /* unknown rows are left out; unknown ids are the fallback's NOT_FOUND, not kept */
    assert_int_equal(w.change_sms(w.self, "nc-x", "555-0000", 6, &err), CORE_OK);
    assert_string_equal(ROW("nc-x", "SELECT sms_number FROM notifications.customers_cache "
                                    "WHERE id = $1"),
                        "");
    assert_int_equal(port.find(port.self, "nc-x", &c, &err), CORE_ERR_NOT_FOUND);
    assert_null(c.name);
}

int main(void)
{
    log_init(LOG_LEVEL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(baskets_add_twice_and_older_add),
        cmocka_unit_test(baskets_prices_out_of_order_and_twice),
        cmocka_unit_test(baskets_unknown_rows_are_left_out),
        cmocka_unit_test(baskets_miss_asks_stores_once_then_event_wins),
        cmocka_unit_test(baskets_event_during_the_fallback),
        cmocka_unit_test(baskets_unknown_id_is_not_kept),
        cmocka_unit_test(depot_caches_keep_the_location),
        cmocka_unit_test(customers_cache_rules),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
