/* test_customers_domain.c -- unit tests of customers/domain.h: registration rules, enable and
 * disable, authorization, allocation failures. No I/O. Every test checks it leaks nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"
#include "customers/domain.h"

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

static void assert_empty(const struct customers_customer *c)
{
    assert_string_equal(c->id, "");
    assert_null(c->name);
    assert_null(c->sms_number);
    assert_false(c->enabled);
}

static void register_makes_an_enabled_customer(void **state)
{
    (void)state;
    struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
    core_err err = CORE_ERR_INIT;
    char name[] = "John Smith";
    assert_int_equal(customers_customer_register(&c, "c-1", name, "555-1212", &err), CORE_OK);
    name[0] = 'X'; /* copied */
    assert_string_equal(c.id, "c-1");
    assert_string_equal(c.name, "John Smith");
    assert_string_equal(c.sms_number, "555-1212");
    assert_true(c.enabled);
    assert_int_equal(err.status, CORE_OK);
    customers_customer_release(&c);
    assert_empty(&c);
    customers_customer_release(NULL);
}

static void expect_register_error(const char *id, const char *name, const char *sms,
                                  const char *msg)
{
    struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(customers_customer_register(&c, id, name, sms, &err), CORE_ERR_INVALID);
    assert_int_equal(err.status, CORE_ERR_INVALID);
    assert_string_equal(err.msg, msg);
    assert_empty(&c);
}

static void register_rules(void **state)
{
    (void)state;
    char long_id[CUSTOMERS_ID_MAX + 2];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    expect_register_error("c-1", "", "555-1212", "the customer name cannot be blank");
    expect_register_error("c-1", " \n", "555-1212", "the customer name cannot be blank");
    expect_register_error("c-1", NULL, "555-1212", "the customer name cannot be blank");
    expect_register_error("c-1", "John", "", "the SMS number cannot be blank");
    expect_register_error("c-1", "John", NULL, "the SMS number cannot be blank");
    expect_register_error("c-1", "", "", "the customer name cannot be blank"); /* name first */
    expect_register_error("", "John", "555-1212", "the customer id cannot be blank");
    expect_register_error(NULL, "John", "555-1212", "the customer id cannot be blank");
    expect_register_error(long_id, "John", "555-1212", "the customer id is too long");
}

static void enable_and_disable_rules(void **state)
{
    (void)state;
    struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(customers_customer_register(&c, "c-1", "John", "555", &err), CORE_OK);
    assert_int_equal(customers_customer_enable(&c, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the customer is already enabled");
    assert_true(c.enabled);
    assert_int_equal(customers_customer_disable(&c, &err), CORE_OK);
    assert_false(c.enabled);
    assert_int_equal(customers_customer_disable(&c, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the customer is already disabled");
    assert_false(c.enabled);
    assert_int_equal(customers_customer_enable(&c, &err), CORE_OK);
    assert_true(c.enabled);
    customers_customer_release(&c);
}

static void only_an_enabled_customer_is_authorized(void **state)
{
    (void)state;
    struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(customers_customer_register(&c, "c-1", "John", "555", &err), CORE_OK);
    assert_int_equal(customers_customer_authorize(&c, &err), CORE_OK);
    assert_int_equal(customers_customer_disable(&c, &err), CORE_OK);
    assert_int_equal(customers_customer_authorize(&c, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "customer c-1 is not authorized: the customer is disabled");
    customers_customer_release(&c);
}

static void restore_skips_rules(void **state)
{
    (void)state;
    struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
    core_err err = CORE_ERR_INIT;
    char long_id[CUSTOMERS_ID_MAX + 2];
    memset(long_id, 'b', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(customers_customer_restore(&c, "c-9", "", NULL, false, &err), CORE_OK);
    assert_string_equal(c.name, "");
    assert_string_equal(c.sms_number, "");
    assert_false(c.enabled);
    customers_customer_release(&c);
    assert_int_equal(customers_customer_restore(&c, long_id, "a", "b", true, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the customer id is too long");
    assert_empty(&c);
}

static void register_out_of_memory(void **state)
{
    (void)state;
    for (long n = 0; n < 2; n++) {
        struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        assert_int_equal(customers_customer_register(&c, "c-1", "John", "555", &err),
                         CORE_ERR_NOMEM);
        core_alloc_fail_after(-1);
        assert_int_equal(err.status, CORE_ERR_NOMEM);
        assert_empty(&c);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, leak_setup, leak_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(register_makes_an_enabled_customer),
        T(register_rules),
        T(enable_and_disable_rules),
        T(only_an_enabled_customer_is_authorized),
        T(restore_skips_rules),
        T(register_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
