/* test_stores_app.c -- unit tests of stores/application.h with fake (in-memory) repository
 * ports (tests/support/stores_fakes.h): every command and query, success, not found, broken rules
 * and failing repositories (the error is passed up and nothing is saved). No servers. Every test
 * checks it leaks nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"
#include "stores/application.h"
#include "stores_fakes.h"

static struct stores_fake_db db;
static struct stores_app app;
static long live_at_start;

static struct stores_store *find_store(const char *id)
{
    return stores_fake_store(&db, id);
}

/* The index of product id in db.products, or SIZE_MAX. */
static size_t find_product(const char *id)
{
    const struct stores_product *p = stores_fake_product(&db, id);
    return p ? (size_t)(p - db.products.items) : SIZE_MAX;
}

/* Puts a store straight into the fake database. */
static void seed_store(const char *id, const char *name, bool participating)
{
    struct stores_store s = STORES_STORE_INIT;
    assert_int_equal(stores_store_restore(&s, id, name, "Level 1", participating, NULL), CORE_OK);
    assert_int_equal(stores_store_list_add(&db.stores, &s, NULL), CORE_OK);
}

static void seed_product(const char *id, const char *store_id, const char *name, double price)
{
    struct stores_product p = STORES_PRODUCT_INIT;
    assert_int_equal(stores_product_restore(&p, id, store_id, name, "", "", price, NULL), CORE_OK);
    assert_int_equal(stores_product_list_add(&db.products, &p, NULL), CORE_OK);
}

static int setup(void **state)
{
    (void)state;
    live_at_start = core_alloc_live();
    stores_fake_init(&db);
    stores_fake_repos(&app, &db);
    seed_store("s-1", "Waldorf Books", false);
    seed_store("s-2", "Nic & Naks", true);
    seed_product("p-1", "s-1", "EDA with Golang", 49.99);
    seed_product("p-2", "s-2", "Wizard w/ crystal", 9.98);
    seed_product("p-3", "s-2", "Crystal ball", 19.5);
    db.writes = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    stores_fake_release(&db);
    assert_int_equal(core_alloc_live(), live_at_start);
    return 0;
}

static void expect_error(core_status got, const core_err *err, core_status want, const char *msg)
{
    assert_int_equal(got, want);
    assert_int_equal(err->status, want);
    assert_string_equal(err->msg, msg);
}

/* ---- CreateStore -------------------------------------------------------------------------- */

static void create_store_saves_a_new_store(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_app_create_store(&app, "s-3", "Store ABC", "The mall", &err), CORE_OK);
    const struct stores_store *s = find_store("s-3");
    assert_non_null(s);
    assert_string_equal(s->name, "Store ABC");
    assert_string_equal(s->location, "The mall");
    assert_false(s->participating);
    assert_int_equal(db.writes, 1);
}

static void create_store_rules_save_nothing(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    expect_error(stores_app_create_store(&app, "s-3", "", "The mall", &err), &err, CORE_ERR_INVALID,
                 "the store name cannot be blank");
    expect_error(stores_app_create_store(&app, "s-3", "Store ABC", " ", &err), &err,
                 CORE_ERR_INVALID, "the store location cannot be blank");
    assert_int_equal(db.writes, 0);
    assert_int_equal(db.stores.len, 2);
}

static void create_store_passes_repository_errors_up(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    db.fail_op = "store.save";
    expect_error(stores_app_create_store(&app, "s-3", "Store ABC", "The mall", &err), &err,
                 CORE_ERR_IO, "db down");
    db.fail_op = NULL;
    expect_error(stores_app_create_store(&app, "s-1", "Again", "The mall", &err), &err,
                 CORE_ERR_CONFLICT, "store s-1 exists");
    assert_int_equal(db.writes, 0);
}

static void create_store_out_of_memory(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    core_alloc_fail_after(0);
    assert_int_equal(stores_app_create_store(&app, "s-3", "Store ABC", "The mall", &err),
                     CORE_ERR_NOMEM);
    core_alloc_fail_after(-1);
    assert_null(find_store("s-3"));
}

/* ---- Enable/DisableParticipation ---------------------------------------------------------- */

static void participation_is_toggled_and_saved(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_app_enable_participation(&app, "s-1", &err), CORE_OK);
    assert_true(find_store("s-1")->participating);
    assert_int_equal(stores_app_disable_participation(&app, "s-2", &err), CORE_OK);
    assert_false(find_store("s-2")->participating);
    assert_int_equal(db.writes, 2);
}

static void participation_rules(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    expect_error(stores_app_enable_participation(&app, "s-2", &err), &err, CORE_ERR_INVALID,
                 "the store is already participating");
    expect_error(stores_app_disable_participation(&app, "s-1", &err), &err, CORE_ERR_INVALID,
                 "the store is already not participating");
    expect_error(stores_app_enable_participation(&app, "nope", &err), &err, CORE_ERR_NOT_FOUND,
                 "store nope not found");
    expect_error(stores_app_disable_participation(&app, "nope", &err), &err, CORE_ERR_NOT_FOUND,
                 "store nope not found");
    expect_error(stores_app_enable_participation(&app, "", &err), &err, CORE_ERR_INVALID,
                 "the store id cannot be blank");
    expect_error(stores_app_disable_participation(&app, NULL, &err), &err, CORE_ERR_INVALID,
                 "the store id cannot be blank");
    assert_int_equal(db.writes, 0);
}

static void participation_passes_repository_errors_up(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    db.fail_op = "store.find";
    expect_error(stores_app_enable_participation(&app, "s-1", &err), &err, CORE_ERR_IO, "db down");
    db.fail_op = "store.update";
    expect_error(stores_app_enable_participation(&app, "s-1", &err), &err, CORE_ERR_IO, "db down");
    expect_error(stores_app_disable_participation(&app, "s-2", &err), &err, CORE_ERR_IO, "db down");
    assert_false(find_store("s-1")->participating);
    assert_true(find_store("s-2")->participating);
    assert_int_equal(db.writes, 0);
}

/* ---- AddProduct / RemoveProduct ----------------------------------------------------------- */

static void add_product_saves_it(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_add_product cmd = {"p-9",        "s-1", "Product ABC", "Product description",
                                     "productABC", 9.99};
    assert_int_equal(stores_app_add_product(&app, &cmd, &err), CORE_OK);
    size_t i = find_product("p-9");
    assert_true(i != SIZE_MAX);
    const struct stores_product *p = &db.products.items[i];
    assert_string_equal(p->store_id, "s-1");
    assert_string_equal(p->name, "Product ABC");
    assert_string_equal(p->description, "Product description");
    assert_string_equal(p->sku, "productABC");
    assert_true(p->price == 9.99);
    assert_int_equal(db.writes, 1);
}

static void add_product_to_unknown_store_is_not_found(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_add_product cmd = {"p-9", "nope", "Product ABC", "", "", 9.99};
    expect_error(stores_app_add_product(&app, &cmd, &err), &err, CORE_ERR_NOT_FOUND,
                 "store nope not found");
    /* the store is looked up before the product's rules */
    struct stores_add_product bad = {"p-9", "nope", "", "", "", -1};
    expect_error(stores_app_add_product(&app, &bad, &err), &err, CORE_ERR_NOT_FOUND,
                 "store nope not found");
    struct stores_add_product blank = {"p-9", "", "Product ABC", "", "", 1};
    expect_error(stores_app_add_product(&app, &blank, &err), &err, CORE_ERR_INVALID,
                 "the store id cannot be blank");
    assert_int_equal(db.writes, 0);
    assert_int_equal(db.products.len, 3);
}

static void add_product_rules_save_nothing(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_add_product no_name = {"p-9", "s-1", " ", "", "", 1.0};
    expect_error(stores_app_add_product(&app, &no_name, &err), &err, CORE_ERR_INVALID,
                 "the product name cannot be blank");
    struct stores_add_product negative = {"p-9", "s-1", "Product ABC", "", "", -0.5};
    expect_error(stores_app_add_product(&app, &negative, &err), &err, CORE_ERR_INVALID,
                 "the product price cannot be negative");
    assert_int_equal(db.writes, 0);
    assert_int_equal(find_product("p-9"), SIZE_MAX);
}

static void add_product_passes_repository_errors_up(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_add_product cmd = {"p-9", "s-1", "Product ABC", "", "", 1.0};
    db.fail_op = "store.find";
    expect_error(stores_app_add_product(&app, &cmd, &err), &err, CORE_ERR_IO, "db down");
    db.fail_op = "product.add";
    expect_error(stores_app_add_product(&app, &cmd, &err), &err, CORE_ERR_IO, "db down");
    assert_int_equal(find_product("p-9"), SIZE_MAX);
    db.fail_op = NULL;
    for (long n = 0; n < 20; n++) { /* every allocation on the way may fail */
        core_alloc_fail_after(n);
        core_status st = stores_app_add_product(&app, &cmd, &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK) {
            assert_true(find_product("p-9") != SIZE_MAX);
            break;
        }
        assert_int_equal(st, CORE_ERR_NOMEM);
        assert_int_equal(find_product("p-9"), SIZE_MAX);
    }
    assert_true(find_product("p-9") != SIZE_MAX);
}

static void remove_product(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_app_remove_product(&app, "p-2", &err), CORE_OK);
    assert_int_equal(find_product("p-2"), SIZE_MAX);
    assert_int_equal(db.products.len, 2);
    expect_error(stores_app_remove_product(&app, "p-2", &err), &err, CORE_ERR_NOT_FOUND,
                 "product p-2 not found");
    expect_error(stores_app_remove_product(&app, "", &err), &err, CORE_ERR_INVALID,
                 "the product id cannot be blank");
    db.fail_op = "product.remove";
    expect_error(stores_app_remove_product(&app, "p-1", &err), &err, CORE_ERR_IO, "db down");
    assert_true(find_product("p-1") != SIZE_MAX);
}

/* ---- queries ------------------------------------------------------------------------------ */

static void get_store(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_store s = STORES_STORE_INIT;
    assert_int_equal(stores_app_get_store(&app, "s-2", &s, &err), CORE_OK);
    assert_string_equal(s.id, "s-2");
    assert_string_equal(s.name, "Nic & Naks");
    assert_true(s.participating);
    stores_store_release(&s);
    expect_error(stores_app_get_store(&app, "nope", &s, &err), &err, CORE_ERR_NOT_FOUND,
                 "store nope not found");
    assert_null(s.name);
    expect_error(stores_app_get_store(&app, " ", &s, &err), &err, CORE_ERR_INVALID,
                 "the store id cannot be blank");
    db.fail_op = "store.find";
    expect_error(stores_app_get_store(&app, "s-1", &s, &err), &err, CORE_ERR_IO, "db down");
    assert_null(s.name);
}

static void get_stores_and_participating_stores(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_store_list l = STORES_STORE_LIST_INIT;
    assert_int_equal(stores_app_get_stores(&app, &l, &err), CORE_OK);
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0].id, "s-1");
    assert_string_equal(l.items[1].id, "s-2");
    stores_store_list_release(&l);

    assert_int_equal(stores_app_get_participating_stores(&app, &l, &err), CORE_OK);
    assert_int_equal(l.len, 1);
    assert_string_equal(l.items[0].name, "Nic & Naks");
    stores_store_list_release(&l);

    /* a repository failing halfway: the error is passed up and the list is left empty */
    db.fail_op = "store.find_all";
    expect_error(stores_app_get_stores(&app, &l, &err), &err, CORE_ERR_IO, "db down");
    assert_int_equal(l.len, 0);
    assert_null(l.items);
    db.fail_op = "participating.find_all";
    expect_error(stores_app_get_participating_stores(&app, &l, &err), &err, CORE_ERR_IO, "db down");
    assert_int_equal(l.len, 0);
}

static void get_catalog(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_product_list l = STORES_PRODUCT_LIST_INIT;
    assert_int_equal(stores_app_get_catalog(&app, "s-2", &l, &err), CORE_OK);
    assert_int_equal(l.len, 2);
    for (size_t i = 0; i < l.len; i++)
        assert_string_equal(l.items[i].store_id, "s-2");
    stores_product_list_release(&l);

    assert_int_equal(stores_app_create_store(&app, "s-3", "Empty", "Level 2", &err), CORE_OK);
    assert_int_equal(stores_app_get_catalog(&app, "s-3", &l, &err), CORE_OK);
    assert_int_equal(l.len, 0);

    expect_error(stores_app_get_catalog(&app, "nope", &l, &err), &err, CORE_ERR_NOT_FOUND,
                 "store nope not found");
    expect_error(stores_app_get_catalog(&app, "", &l, &err), &err, CORE_ERR_INVALID,
                 "the store id cannot be blank");
    db.fail_op = "product.catalog";
    expect_error(stores_app_get_catalog(&app, "s-2", &l, &err), &err, CORE_ERR_IO, "db down");
    assert_int_equal(l.len, 0);
    assert_null(l.items);
    db.fail_op = "store.find";
    expect_error(stores_app_get_catalog(&app, "s-2", &l, &err), &err, CORE_ERR_IO, "db down");
}

static void get_product(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct stores_product p = STORES_PRODUCT_INIT;
    assert_int_equal(stores_app_get_product(&app, "p-2", &p, &err), CORE_OK);
    assert_string_equal(p.name, "Wizard w/ crystal");
    assert_string_equal(p.store_id, "s-2");
    assert_true(p.price == 9.98);
    stores_product_release(&p);
    expect_error(stores_app_get_product(&app, "nope", &p, &err), &err, CORE_ERR_NOT_FOUND,
                 "product nope not found");
    expect_error(stores_app_get_product(&app, NULL, &p, &err), &err, CORE_ERR_INVALID,
                 "the product id cannot be blank");
    db.fail_op = "product.find";
    expect_error(stores_app_get_product(&app, "p-1", &p, &err), &err, CORE_ERR_IO, "db down");
    assert_null(p.name);
}

static void null_err_is_allowed(void **state)
{
    (void)state;
    assert_int_equal(stores_app_enable_participation(&app, "nope", NULL), CORE_ERR_NOT_FOUND);
    assert_int_equal(stores_app_create_store(&app, "s-3", "", "x", NULL), CORE_ERR_INVALID);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(create_store_saves_a_new_store),
        T(create_store_rules_save_nothing),
        T(create_store_passes_repository_errors_up),
        T(create_store_out_of_memory),
        T(participation_is_toggled_and_saved),
        T(participation_rules),
        T(participation_passes_repository_errors_up),
        T(add_product_saves_it),
        T(add_product_to_unknown_store_is_not_found),
        T(add_product_rules_save_nothing),
        T(add_product_passes_repository_errors_up),
        T(remove_product),
        T(get_store),
        T(get_stores_and_participating_stores),
        T(get_catalog),
        T(get_product),
        T(null_err_is_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
