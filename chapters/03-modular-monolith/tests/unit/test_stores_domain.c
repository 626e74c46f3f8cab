/* test_stores_domain.c -- unit tests of stores/domain.h: Store and Product rules, lifecycles,
 * lists, allocation failures. No I/O. Every test checks that it leaks nothing. */
#include <math.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"
#include "stores/domain.h"

static long live_at_start;

static int leak_setup(void **state)
{
    (void)state;
    live_at_start = core_alloc_live();
    return 0;
}

static int leak_teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    assert_int_equal(core_alloc_live(), live_at_start);
    return 0;
}

/* An id of n 'a' characters (n < 128). */
static const char *id_of_len(size_t n)
{
    static char buf[128];
    memset(buf, 'a', n);
    buf[n] = '\0';
    return buf;
}

static void assert_store_empty(const struct stores_store *s)
{
    assert_string_equal(s->id, "");
    assert_null(s->name);
    assert_null(s->location);
    assert_false(s->participating);
}

static void assert_product_empty(const struct stores_product *p)
{
    assert_string_equal(p->id, "");
    assert_string_equal(p->store_id, "");
    assert_null(p->name);
    assert_null(p->description);
    assert_null(p->sku);
}

/* ---- Store -------------------------------------------------------------------------------- */

static void create_store_copies_and_is_not_participating(void **state)
{
    (void)state;
    struct stores_store s = STORES_STORE_INIT;
    char name[] = "Waldorf Books";
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_store_create(&s, "s-1", name, "West Upper Level", &err), CORE_OK);
    name[0] = 'X'; /* the entity holds a copy */
    assert_string_equal(s.id, "s-1");
    assert_string_equal(s.name, "Waldorf Books");
    assert_string_equal(s.location, "West Upper Level");
    assert_false(s.participating);
    assert_int_equal(err.status, CORE_OK); /* untouched on success */
    stores_store_release(&s);
    assert_store_empty(&s);
    stores_store_release(NULL); /* no-op */
}

static void expect_create_store_error(const char *id, const char *name, const char *location,
                                      const char *msg)
{
    struct stores_store s = STORES_STORE_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_store_create(&s, id, name, location, &err), CORE_ERR_INVALID);
    assert_int_equal(err.status, CORE_ERR_INVALID);
    assert_string_equal(err.msg, msg);
    assert_store_empty(&s);
}

static void create_store_rules(void **state)
{
    (void)state;
    expect_create_store_error("s-1", "", "Level 1", "the store name cannot be blank");
    expect_create_store_error("s-1", "  \t", "Level 1", "the store name cannot be blank");
    expect_create_store_error("s-1", NULL, "Level 1", "the store name cannot be blank");
    expect_create_store_error("s-1", "Books", "", "the store location cannot be blank");
    expect_create_store_error("s-1", "Books", NULL, "the store location cannot be blank");
    /* the name is checked before the location */
    expect_create_store_error("s-1", "", "", "the store name cannot be blank");
    expect_create_store_error("", "Books", "Level 1", "the store id cannot be blank");
    expect_create_store_error(id_of_len(STORES_ID_MAX + 1), "Books", "Level 1",
                              "the store id is too long");

    struct stores_store s = STORES_STORE_INIT;
    assert_int_equal(stores_store_create(&s, id_of_len(STORES_ID_MAX), "Books", "Level 1", NULL),
                     CORE_OK);
    assert_int_equal(strlen(s.id), STORES_ID_MAX);
    stores_store_release(&s);
}

static void participation_rules(void **state)
{
    (void)state;
    struct stores_store s = STORES_STORE_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_store_create(&s, "s-1", "Books", "Level 1", &err), CORE_OK);

    assert_int_equal(stores_store_disable_participation(&s, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the store is already not participating");
    assert_false(s.participating);

    assert_int_equal(stores_store_enable_participation(&s, &err), CORE_OK);
    assert_true(s.participating);
    assert_int_equal(stores_store_enable_participation(&s, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the store is already participating");
    assert_true(s.participating);

    assert_int_equal(stores_store_disable_participation(&s, &err), CORE_OK);
    assert_false(s.participating);
    stores_store_release(&s);
}

static void restore_store_skips_rules(void **state)
{
    (void)state;
    struct stores_store s = STORES_STORE_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_store_restore(&s, "s-9", "", NULL, true, &err), CORE_OK);
    assert_string_equal(s.name, "");
    assert_string_equal(s.location, "");
    assert_true(s.participating);
    stores_store_release(&s);
    assert_int_equal(stores_store_restore(&s, id_of_len(STORES_ID_MAX + 1), "a", "b", false, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the store id is too long");
    assert_store_empty(&s);
}

static void create_store_out_of_memory(void **state)
{
    (void)state;
    for (long n = 0; n < 2; n++) { /* the first, then the second copy fails */
        struct stores_store s = STORES_STORE_INIT;
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        assert_int_equal(stores_store_create(&s, "s-1", "Books", "Level 1", &err), CORE_ERR_NOMEM);
        core_alloc_fail_after(-1);
        assert_int_equal(err.status, CORE_ERR_NOMEM);
        assert_store_empty(&s);
    }
}

/* ---- Product ------------------------------------------------------------------------------ */

static void create_product_copies_fields(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(
        stores_product_create(&p, "p-1", "s-1", "EDA with Golang", "a book", "1234", 49.99, &err),
        CORE_OK);
    assert_string_equal(p.id, "p-1");
    assert_string_equal(p.store_id, "s-1");
    assert_string_equal(p.name, "EDA with Golang");
    assert_string_equal(p.description, "a book");
    assert_string_equal(p.sku, "1234");
    assert_true(p.price == 49.99);
    stores_product_release(&p);
    assert_product_empty(&p);

    /* description and sku are optional; a price of 0 is allowed, as is the column's maximum */
    assert_int_equal(stores_product_create(&p, "p-2", "s-1", "Free sample", NULL, NULL, 0.0, &err),
                     CORE_OK);
    assert_string_equal(p.description, "");
    assert_string_equal(p.sku, "");
    assert_true(p.price == 0.0);
    stores_product_release(&p);
    assert_int_equal(
        stores_product_create(&p, "p-3", "s-1", "Dear", "", "", STORES_PRICE_MAX, &err), CORE_OK);
    stores_product_release(&p);
    stores_product_release(NULL);
}

static void expect_create_product_error(const char *id, const char *store_id, const char *name,
                                        double price, const char *msg)
{
    struct stores_product p = STORES_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_product_create(&p, id, store_id, name, "d", "sku", price, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, msg);
    assert_product_empty(&p);
}

static void create_product_rules(void **state)
{
    (void)state;
    expect_create_product_error("p-1", "s-1", "", 1.0, "the product name cannot be blank");
    expect_create_product_error("p-1", "s-1", " ", 1.0, "the product name cannot be blank");
    expect_create_product_error("p-1", "s-1", NULL, 1.0, "the product name cannot be blank");
    expect_create_product_error("p-1", "s-1", "Wizard", -0.01,
                                "the product price cannot be negative");
    expect_create_product_error("p-1", "s-1", "Wizard", NAN,
                                "the product price cannot be negative");
    expect_create_product_error("p-1", "s-1", "Wizard", 100000.0,
                                "the product price cannot be over 99999.9999");
    expect_create_product_error("p-1", "s-1", "Wizard", INFINITY,
                                "the product price cannot be over 99999.9999");
    /* the name is checked before the price */
    expect_create_product_error("p-1", "s-1", "", -1.0, "the product name cannot be blank");
    expect_create_product_error("", "s-1", "Wizard", 1.0, "the product id cannot be blank");
    expect_create_product_error(id_of_len(STORES_ID_MAX + 1), "s-1", "Wizard", 1.0,
                                "the product id is too long");
    expect_create_product_error("p-1", "", "Wizard", 1.0, "the store id cannot be blank");
    expect_create_product_error("p-1", id_of_len(STORES_ID_MAX + 1), "Wizard", 1.0,
                                "the store id is too long");
}

static void create_product_out_of_memory(void **state)
{
    (void)state;
    for (long n = 0; n < 3; n++) {
        struct stores_product p = STORES_PRODUCT_INIT;
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        assert_int_equal(stores_product_create(&p, "p-1", "s-1", "Wizard", "d", "sku", 1.0, &err),
                         CORE_ERR_NOMEM);
        core_alloc_fail_after(-1);
        assert_product_empty(&p);
    }
}

static void restore_product_skips_rules(void **state)
{
    (void)state;
    struct stores_product p = STORES_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_product_restore(&p, "p-1", "s-1", "", NULL, NULL, -5.0, &err), CORE_OK);
    assert_true(p.price == -5.0);
    assert_string_equal(p.name, "");
    stores_product_release(&p);
    assert_int_equal(
        stores_product_restore(&p, "p-1", id_of_len(STORES_ID_MAX + 1), "n", "", "", 1, &err),
        CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the store id is too long");
    assert_product_empty(&p);
}

/* ---- lists -------------------------------------------------------------------------------- */

static void store_list_takes_ownership(void **state)
{
    (void)state;
    struct stores_store_list l = STORES_STORE_LIST_INIT;
    core_err err = CORE_ERR_INIT;
    char id[32], name[32];
    for (int i = 0; i < 20; i++) { /* past the first growth */
        struct stores_store s = STORES_STORE_INIT;
        snprintf(id, sizeof id, "s-%d", i);
        snprintf(name, sizeof name, "Store %d", i);
        assert_int_equal(stores_store_create(&s, id, name, "Level 1", &err), CORE_OK);
        assert_int_equal(stores_store_list_add(&l, &s, &err), CORE_OK);
        assert_store_empty(&s); /* moved */
    }
    assert_int_equal(l.len, 20);
    assert_string_equal(l.items[0].name, "Store 0");
    assert_string_equal(l.items[19].id, "s-19");
    stores_store_list_release(&l);
    assert_int_equal(l.len, 0);
    assert_null(l.items);
    stores_store_list_release(NULL);
}

static void list_add_out_of_memory_keeps_entity(void **state)
{
    (void)state;
    struct stores_store_list l = STORES_STORE_LIST_INIT;
    struct stores_product_list pl = STORES_PRODUCT_LIST_INIT;
    struct stores_store s = STORES_STORE_INIT;
    struct stores_product p = STORES_PRODUCT_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(stores_store_create(&s, "s-1", "Books", "Level 1", &err), CORE_OK);
    assert_int_equal(stores_product_create(&p, "p-1", "s-1", "Wizard", "", "", 9.98, &err),
                     CORE_OK);

    core_alloc_fail_after(0);
    assert_int_equal(stores_store_list_add(&l, &s, &err), CORE_ERR_NOMEM);
    assert_int_equal(stores_product_list_add(&pl, &p, &err), CORE_ERR_NOMEM);
    core_alloc_fail_after(-1);
    assert_int_equal(l.len, 0);
    assert_int_equal(pl.len, 0);
    assert_string_equal(s.name, "Books"); /* still owned by s */
    assert_string_equal(p.name, "Wizard");

    assert_int_equal(stores_product_list_add(&pl, &p, &err), CORE_OK);
    assert_int_equal(pl.len, 1);
    assert_string_equal(pl.items[0].name, "Wizard");
    assert_product_empty(&p);
    stores_product_list_release(&pl);
    stores_product_list_release(NULL);
    stores_store_release(&s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, leak_setup, leak_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(create_store_copies_and_is_not_participating),
        T(create_store_rules),
        T(participation_rules),
        T(restore_store_skips_rules),
        T(create_store_out_of_memory),
        T(create_product_copies_fields),
        T(create_product_rules),
        T(create_product_out_of_memory),
        T(restore_product_skips_rules),
        T(store_list_takes_ownership),
        T(list_add_out_of_memory_keeps_entity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
