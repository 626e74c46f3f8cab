/* test_notifications_app.c -- unit tests of notifications/application.h with a fake customers
 * port (tests/support/notifications_fakes.h): each notification looks the customer up and writes
 * exactly one info log line naming the notification, the order id, the customer's name and SMS
 * number; a failing lookup (unknown customer, unreachable module, no memory) is passed up
 * unchanged and logs nothing.
 * The log goes to stderr: the tests point file descriptor 2 at a temporary file while the
 * command runs and read the file back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "notifications/application.h"
#include "notifications_fakes.h"

static struct notifications_fake_customers fc;
static struct notifications_app app;
static long live_before;

/* ---- capturing the log ---------------------------------------------------------------------- */

typedef core_status (*notify_fn)(struct notifications_app *, const char *, const char *,
                                 core_err *);

/* Runs fn with stderr redirected; the text written is returned in out (NUL-terminated). */
static core_status run_captured(notify_fn fn, const char *order_id, const char *customer_id,
                                core_err *err, char *out, size_t out_size)
{
    char path[] = "/tmp/test_notifications_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);

    core_status st = fn(&app, order_id, customer_id, err);

    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    assert_true(lseek(fd, 0, SEEK_SET) == 0);
    ssize_t n = read(fd, out, out_size - 1);
    assert_true(n >= 0);
    out[n] = '\0';
    close(fd);
    return st;
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

static int setup(void **state)
{
    (void)state;
    live_before = core_alloc_live();
    memset(&fc, 0, sizeof fc);
    notifications_fake_customers_port(&app.customers, &fc);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    assert_int_equal(core_alloc_live(), live_before);
    return 0;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void assert_notified(notify_fn fn, const char *kind)
{
    char log[4096];
    core_err err = CORE_ERR_INIT;
    int calls = fc.calls;
    assert_int_equal(run_captured(fn, "order-1", "customer-1", &err, log, sizeof log), CORE_OK);
    assert_int_equal(err.status, CORE_OK);
    assert_int_equal(fc.calls, calls + 1);
    assert_string_equal(fc.last_id, "customer-1");
    assert_int_equal(count_lines(log), 1);
    assert_non_null(strstr(log, " INFO  notifications: "));
    char expected[256];
    snprintf(expected, sizeof expected,
             "sending SMS notification=%s order_id=order-1 customer_name=\"Buyer #1\" "
             "sms_number=555-1212\n",
             kind);
    assert_non_null(strstr(log, expected));
}

static void each_notification_logs_one_line(void **state)
{
    (void)state;
    assert_notified(notifications_app_notify_order_created, "OrderCreated");
    assert_notified(notifications_app_notify_order_canceled, "OrderCanceled");
    assert_notified(notifications_app_notify_order_ready, "OrderReady");
}

static void unknown_customer_is_passed_up_and_logs_nothing(void **state)
{
    (void)state;
    const notify_fn fns[] = {notifications_app_notify_order_created,
                             notifications_app_notify_order_canceled,
                             notifications_app_notify_order_ready};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        char log[4096];
        core_err err = CORE_ERR_INIT;
        assert_int_equal(run_captured(fns[i], "order-1", "nobody", &err, log, sizeof log),
                         CORE_ERR_NOT_FOUND);
        assert_string_equal(err.msg, "customer nobody not found");
        assert_string_equal(fc.last_id, "nobody");
        assert_string_equal(log, "");
    }
    assert_int_equal(fc.calls, 3);
}

static void failing_customers_module_is_passed_up(void **state)
{
    (void)state;
    char log[4096];
    core_err err = CORE_ERR_INIT;
    fc.fail = CORE_ERR_UNAVAILABLE;
    assert_int_equal(run_captured(notifications_app_notify_order_ready, "order-1", "customer-1",
                                  &err, log, sizeof log),
                     CORE_ERR_UNAVAILABLE);
    assert_string_equal(err.msg, "customers RPC at 127.0.0.1:8085 unreachable");
    assert_string_equal(log, "");
}

static void out_of_memory_in_the_lookup_is_passed_up(void **state)
{
    (void)state;
    char log[4096];
    core_err err = CORE_ERR_INIT;
    core_alloc_fail_after(1); /* the name is copied, the SMS number is not */
    core_status st = run_captured(notifications_app_notify_order_created, "order-1", "customer-1",
                                  &err, log, sizeof log);
    core_alloc_fail_after(-1);
    assert_int_equal(st, CORE_ERR_NOMEM);
    assert_string_equal(log, "");
    assert_int_equal(core_alloc_live(), live_before);
}

static void customer_release_is_idempotent(void **state)
{
    (void)state;
    struct notifications_customer c = NOTIFICATIONS_CUSTOMER_INIT;
    c.name = core_strdup("x");
    c.sms_number = core_strdup("y");
    assert_non_null(c.name);
    notifications_customer_release(&c);
    assert_null(c.name);
    assert_null(c.sms_number);
    notifications_customer_release(&c);
}

int main(void)
{
    log_init(
        LOG_LEVEL_INFO); /* the notification is an info line; debug lines would be noise here */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(each_notification_logs_one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_customer_is_passed_up_and_logs_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(failing_customers_module_is_passed_up, setup, teardown),
        cmocka_unit_test_setup_teardown(out_of_memory_in_the_lookup_is_passed_up, setup, teardown),
        cmocka_unit_test_setup_teardown(customer_release_is_idempotent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
