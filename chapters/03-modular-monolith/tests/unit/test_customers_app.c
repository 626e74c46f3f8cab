/* test_customers_app.c -- unit tests of customers/application.h with a fake (in-memory)
 * repository port (tests/support/customers_fakes.h): every command and query, success, not
 * found, broken rules and a failing repository (the error is passed up and nothing is saved). No
 * servers. Every test checks it leaks nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"
#include "customers/application.h"
#include "customers_fakes.h"

static struct customers_fake_repo db;
static struct customers_app app;
static long live_at_start;

static struct customers_customer *row(const char *id)
{
    return customers_fake_customer(&db, id);
}

static int setup(void **state)
{
    (void)state;
    live_at_start = core_alloc_live();
    memset(&db, 0, sizeof db);
    customers_fake_repo_port(&app.customers, &db);
    assert_int_equal(
        customers_customer_restore(&db.rows[0], "c-1", "Buyer #1", "555-1212", true, NULL),
        CORE_OK);
    assert_int_equal(
        customers_customer_restore(&db.rows[1], "c-2", "Sleeper", "555-0000", false, NULL),
        CORE_OK);
    db.n = 2;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    customers_fake_repo_release(&db);
    assert_int_equal(core_alloc_live(), live_at_start);
    return 0;
}

static void expect_error(core_status got, const core_err *err, core_status want, const char *msg)
{
    assert_int_equal(got, want);
    assert_int_equal(err->status, want);
    assert_string_equal(err->msg, msg);
}

static void register_saves_an_enabled_customer(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(
        customers_app_register_customer(&app, "c-3", "John Smith", "555-555-1212", &err), CORE_OK);
    const struct customers_customer *c = row("c-3");
    assert_non_null(c);
    assert_string_equal(c->name, "John Smith");
    assert_string_equal(c->sms_number, "555-555-1212");
    assert_true(c->enabled);
    assert_int_equal(db.writes, 1);
}

static void register_rules_save_nothing(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    expect_error(customers_app_register_customer(&app, "c-3", "", "555", &err), &err,
                 CORE_ERR_INVALID, "the customer name cannot be blank");
    expect_error(customers_app_register_customer(&app, "c-3", "John", " ", &err), &err,
                 CORE_ERR_INVALID, "the SMS number cannot be blank");
    assert_int_equal(db.writes, 0);
    assert_null(row("c-3"));
}

static void register_passes_repository_errors_up(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    db.fail_op = "save";
    expect_error(customers_app_register_customer(&app, "c-3", "John", "555", &err), &err,
                 CORE_ERR_IO, "db down");
    db.fail_op = NULL;
    expect_error(customers_app_register_customer(&app, "c-1", "John", "555", &err), &err,
                 CORE_ERR_CONFLICT, "customer c-1 exists");
    core_alloc_fail_after(0);
    expect_error(customers_app_register_customer(&app, "c-3", "John", "555", &err), &err,
                 CORE_ERR_NOMEM, "out of memory");
    core_alloc_fail_after(-1);
    assert_int_equal(db.writes, 0);
    assert_null(row("c-3"));
}

static void authorize(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(customers_app_authorize_customer(&app, "c-1", &err), CORE_OK);
    expect_error(customers_app_authorize_customer(&app, "c-2", &err), &err, CORE_ERR_INVALID,
                 "customer c-2 is not authorized: the customer is disabled");
    expect_error(customers_app_authorize_customer(&app, "nope", &err), &err, CORE_ERR_NOT_FOUND,
                 "customer nope not found");
    expect_error(customers_app_authorize_customer(&app, "", &err), &err, CORE_ERR_INVALID,
                 "the customer id cannot be blank");
    db.fail_op = "find";
    expect_error(customers_app_authorize_customer(&app, "c-1", &err), &err, CORE_ERR_IO, "db down");
    assert_int_equal(db.writes, 0);
}

static void get_customer(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
    assert_int_equal(customers_app_get_customer(&app, "c-1", &c, &err), CORE_OK);
    assert_string_equal(c.id, "c-1");
    assert_string_equal(c.name, "Buyer #1");
    assert_string_equal(c.sms_number, "555-1212");
    assert_true(c.enabled);
    customers_customer_release(&c);
    expect_error(customers_app_get_customer(&app, "nope", &c, &err), &err, CORE_ERR_NOT_FOUND,
                 "customer nope not found");
    assert_null(c.name);
    expect_error(customers_app_get_customer(&app, NULL, &c, &err), &err, CORE_ERR_INVALID,
                 "the customer id cannot be blank");
    db.fail_op = "find";
    expect_error(customers_app_get_customer(&app, "c-1", &c, &err), &err, CORE_ERR_IO, "db down");
    assert_null(c.name);
}

static void enable_and_disable(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(customers_app_enable_customer(&app, "c-2", &err), CORE_OK);
    assert_true(row("c-2")->enabled);
    assert_int_equal(customers_app_disable_customer(&app, "c-1", &err), CORE_OK);
    assert_false(row("c-1")->enabled);
    assert_int_equal(db.writes, 2);
    /* the disabled customer is no longer authorized, the enabled one is */
    assert_int_equal(customers_app_authorize_customer(&app, "c-1", &err), CORE_ERR_INVALID);
    assert_int_equal(customers_app_authorize_customer(&app, "c-2", &err), CORE_OK);
}

static void enable_and_disable_rules(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    expect_error(customers_app_enable_customer(&app, "c-1", &err), &err, CORE_ERR_INVALID,
                 "the customer is already enabled");
    expect_error(customers_app_disable_customer(&app, "c-2", &err), &err, CORE_ERR_INVALID,
                 "the customer is already disabled");
    expect_error(customers_app_enable_customer(&app, "nope", &err), &err, CORE_ERR_NOT_FOUND,
                 "customer nope not found");
    expect_error(customers_app_disable_customer(&app, "nope", &err), &err, CORE_ERR_NOT_FOUND,
                 "customer nope not found");
    expect_error(customers_app_disable_customer(&app, "", &err), &err, CORE_ERR_INVALID,
                 "the customer id cannot be blank");
    assert_int_equal(db.writes, 0);
}

static void enable_and_disable_pass_repository_errors_up(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    db.fail_op = "find";
    expect_error(customers_app_disable_customer(&app, "c-1", &err), &err, CORE_ERR_IO, "db down");
    db.fail_op = "update";
    expect_error(customers_app_disable_customer(&app, "c-1", &err), &err, CORE_ERR_IO, "db down");
    expect_error(customers_app_enable_customer(&app, "c-2", &err), &err, CORE_ERR_IO, "db down");
    db.fail_op = NULL;
    core_alloc_fail_after(0);
    expect_error(customers_app_disable_customer(&app, "c-1", &err), &err, CORE_ERR_NOMEM,
                 "out of memory");
    core_alloc_fail_after(-1);
    assert_true(row("c-1")->enabled);
    assert_false(row("c-2")->enabled);
    assert_int_equal(db.writes, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(register_saves_an_enabled_customer),
        T(register_rules_save_nothing),
        T(register_passes_repository_errors_up),
        T(authorize),
        T(get_customer),
        T(enable_and_disable),
        T(enable_and_disable_rules),
        T(enable_and_disable_pass_repository_errors_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
