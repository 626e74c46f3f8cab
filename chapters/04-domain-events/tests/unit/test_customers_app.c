/* test_customers_app.c -- unit tests of customers/application.h with a fake (in-memory)
 * repository port: every command and query, success, not found, broken rules and a failing
 * repository (the error is passed up and nothing is saved). Chapter 04: the app publishes to a
 * REAL ddd_dispatcher with a recording handler on every customer event: events are published
 * after the save, never for a failed command, and a handler's failure is reported (with the
 * customer already saved). No servers. Every test checks it leaks nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"
#include "customers/application.h"

#define MAX_ROWS 8

/* The fake table. fail_op ("save", "find", "update") fails with CORE_ERR_IO "db down". */
struct fake_db {
    struct customers_customer rows[MAX_ROWS];
    size_t n;
    const char *fail_op;
    int writes; /* successful save/update calls */
};

static struct fake_db db;
static struct customers_app app;
static long live_at_start;

static core_status maybe_fail(const char *op, core_err *err)
{
    if (db.fail_op && strcmp(db.fail_op, op) == 0)
        return core_err_set(err, CORE_ERR_IO, "db down");
    return CORE_OK;
}

static struct customers_customer *row(const char *id)
{
    for (size_t i = 0; i < db.n; i++)
        if (strcmp(db.rows[i].id, id) == 0)
            return &db.rows[i];
    return NULL;
}

/* ---- a recording handler on every customer event --------------------------------------------- */

#define REC_MAX 8

static struct {
    char names[REC_MAX][DDD_NAME_MAX + 1]; /* the events seen, in order */
    char ids[REC_MAX][CUSTOMERS_ID_MAX + 1];
    bool stored[REC_MAX];  /* whether the customer's row existed when the handler ran */
    bool enabled[REC_MAX]; /* and its enabled column then */
    size_t n;
    const char *fail_on; /* an event name to refuse, or NULL */
} rec;

static ddd_dispatcher *events;

static core_status recorder(void *ud, const ddd_event *ev, core_err *err)
{
    (void)ud;
    const char *id = ddd_event_metadata(ev, "aggregate-id");
    const struct customers_customer *r = row(id);
    assert_true(rec.n < REC_MAX);
    core_strlcpy(rec.names[rec.n], ddd_event_name(ev), sizeof rec.names[0]);
    core_strlcpy(rec.ids[rec.n], id, sizeof rec.ids[0]);
    rec.stored[rec.n] = r != NULL;
    rec.enabled[rec.n] = r && r->enabled;
    rec.n++;
    if (rec.fail_on && strcmp(rec.fail_on, ddd_event_name(ev)) == 0)
        return core_err_set(err, CORE_ERR_UNAVAILABLE, "recorder refused");
    return CORE_OK;
}

static core_status copy(const struct customers_customer *from, struct customers_customer *to, core_err *err)
{
    return customers_customer_restore(to, from->id, from->name, from->sms_number, from->enabled, err);
}

static core_status fake_save(void *self, const struct customers_customer *c, core_err *err)
{
    core_status st;
    assert_ptr_equal(self, &db);
    if ((st = maybe_fail("save", err)))
        return st;
    if (row(c->id))
        return core_err_set(err, CORE_ERR_CONFLICT, "customer %s exists", c->id);
    assert_true(db.n < MAX_ROWS);
    if ((st = copy(c, &db.rows[db.n], err)))
        return st;
    db.n++;
    db.writes++;
    return CORE_OK;
}

static core_status fake_find(void *self, const char *id, struct customers_customer *out, core_err *err)
{
    core_status st;
    const struct customers_customer *r;
    if ((st = maybe_fail("find", err)))
        return st;
    if (!(r = row(id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "customer %s not found", id);
    return copy(r, out, err);
}

static core_status fake_update(void *self, const struct customers_customer *c, core_err *err)
{
    core_status st;
    struct customers_customer *r;
    if ((st = maybe_fail("update", err)))
        return st;
    if (!(r = row(c->id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "customer %s not found", c->id);
    customers_customer_release(r);
    if ((st = copy(c, r, err)))
        return st;
    db.writes++;
    return CORE_OK;
}

static int setup(void **state)
{
    (void)state;
    live_at_start = core_alloc_live();
    memset(&db, 0, sizeof db);
    memset(&rec, 0, sizeof rec);
    assert_int_equal(ddd_dispatcher_new(&events, NULL), CORE_OK);
    static const char *const names[] = {CUSTOMERS_CUSTOMER_REGISTERED, CUSTOMERS_CUSTOMER_AUTHORIZED,
                                        CUSTOMERS_CUSTOMER_ENABLED, CUSTOMERS_CUSTOMER_DISABLED};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(ddd_dispatcher_subscribe(events, names[i], "recorder", recorder, NULL, NULL), CORE_OK);
    app.customers = (struct customers_repo){&db, fake_save, fake_find, fake_update};
    app.publisher = events;
    assert_int_equal(customers_customer_restore(&db.rows[0], "c-1", "Buyer #1", "555-1212", true, NULL), CORE_OK);
    assert_int_equal(customers_customer_restore(&db.rows[1], "c-2", "Sleeper", "555-0000", false, NULL), CORE_OK);
    db.n = 2;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    for (size_t i = 0; i < db.n; i++)
        customers_customer_release(&db.rows[i]);
    ddd_dispatcher_free(events);
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
    assert_int_equal(customers_app_register_customer(&app, "c-3", "John Smith", "555-555-1212", &err), CORE_OK);
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
    expect_error(customers_app_register_customer(&app, "c-3", "", "555", &err), &err, CORE_ERR_INVALID,
                 "the customer name cannot be blank");
    expect_error(customers_app_register_customer(&app, "c-3", "John", " ", &err), &err, CORE_ERR_INVALID,
                 "the SMS number cannot be blank");
    assert_int_equal(db.writes, 0);
    assert_null(row("c-3"));
}

static void register_passes_repository_errors_up(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    db.fail_op = "save";
    expect_error(customers_app_register_customer(&app, "c-3", "John", "555", &err), &err, CORE_ERR_IO, "db down");
    db.fail_op = NULL;
    expect_error(customers_app_register_customer(&app, "c-1", "John", "555", &err), &err, CORE_ERR_CONFLICT,
                 "customer c-1 exists");
    core_alloc_fail_after(0);
    expect_error(customers_app_register_customer(&app, "c-3", "John", "555", &err), &err, CORE_ERR_NOMEM,
                 "out of memory");
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
    expect_error(customers_app_disable_customer(&app, "c-1", &err), &err, CORE_ERR_NOMEM, "out of memory");
    core_alloc_fail_after(-1);
    assert_true(row("c-1")->enabled);
    assert_false(row("c-2")->enabled);
    assert_int_equal(db.writes, 0);
}

/* ---- publishing (chapter 04) ----------------------------------------------------------------- */

static void commands_publish_after_saving(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
    assert_int_equal(customers_app_register_customer(&app, "c-3", "John Smith", "555", &err), CORE_OK);
    assert_int_equal(customers_app_disable_customer(&app, "c-3", &err), CORE_OK);
    assert_int_equal(customers_app_enable_customer(&app, "c-3", &err), CORE_OK);
    assert_int_equal(customers_app_authorize_customer(&app, "c-3", &err), CORE_OK);
    assert_int_equal(customers_app_get_customer(&app, "c-3", &c, &err), CORE_OK); /* a query: nothing */
    customers_customer_release(&c);
    static const char *const want[] = {"customers.CustomerRegistered", "customers.CustomerDisabled",
                                       "customers.CustomerEnabled", "customers.CustomerAuthorized"};
    static const bool enabled_then[] = {true, false, true, true};
    assert_int_equal(rec.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(rec.names[i], want[i]);
        assert_string_equal(rec.ids[i], "c-3");
        assert_true(rec.stored[i]);                        /* saved before it was published */
        assert_int_equal(rec.enabled[i], enabled_then[i]); /* with the change already in it */
    }
}

static void failed_commands_publish_nothing(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(customers_app_register_customer(&app, "c-3", "", "555", &err), CORE_ERR_INVALID);
    assert_int_equal(customers_app_enable_customer(&app, "c-1", &err), CORE_ERR_INVALID);
    assert_int_equal(customers_app_authorize_customer(&app, "c-2", &err), CORE_ERR_INVALID);
    db.fail_op = "save";
    assert_int_equal(customers_app_register_customer(&app, "c-3", "John", "555", &err), CORE_ERR_IO);
    db.fail_op = "update";
    assert_int_equal(customers_app_disable_customer(&app, "c-1", &err), CORE_ERR_IO);
    db.fail_op = "find";
    assert_int_equal(customers_app_authorize_customer(&app, "c-1", &err), CORE_ERR_IO);
    assert_int_equal(rec.n, 0);
}

/* A handler's failure is the command's failure, but the customer is already saved (chapter 09's
 * transactional outbox closes that gap). */
static void handler_failure_is_reported_after_saving(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    rec.fail_on = "customers.CustomerRegistered";
    expect_error(customers_app_register_customer(&app, "c-3", "John", "555", &err), &err, CORE_ERR_UNAVAILABLE,
                 "recorder on customers.CustomerRegistered: recorder refused");
    assert_non_null(row("c-3"));
    rec.fail_on = "customers.CustomerDisabled";
    expect_error(customers_app_disable_customer(&app, "c-1", &err), &err, CORE_ERR_UNAVAILABLE,
                 "recorder on customers.CustomerDisabled: recorder refused");
    assert_false(row("c-1")->enabled);
    rec.fail_on = "customers.CustomerAuthorized";
    expect_error(customers_app_authorize_customer(&app, "c-3", &err), &err, CORE_ERR_UNAVAILABLE,
                 "recorder on customers.CustomerAuthorized: recorder refused");
    assert_int_equal(rec.n, 3);
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
        T(commands_publish_after_saving),
        T(failed_commands_publish_nothing),
        T(handler_failure_is_reported_after_saving),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
