/* test_shutdown.c -- end to end: Ctrl-C while a request waits on a database lock (a regression
 * test, inherited unchanged by chapters 04 and 05).
 *
 * The test's own transaction locks the seed customer's row, so PUT /api/customers/{id}/disable
 * blocks in its UPDATE. A first SIGINT must say at once how many requests the program waits for
 * and that a second Ctrl-C exits at once; the second SIGINT must end the program quickly with a
 * non-zero status (128 + SIGINT). Nothing of the stuck request may survive: its database session
 * ends with the program (pg.h: client_connection_check_interval), so when the test lets go of the
 * row, the UPDATE never runs and the customer is still enabled.
 *
 * Why: the first SIGINT used to log only "stopping", then waited SHUTDOWN_TIMEOUT in silence and
 * then went on waiting for the stuck request (civetweb joins its threads), and a second SIGINT
 * stayed pending unread. A program killed by force left the UPDATE waiting in PostgreSQL, which
 * ran and committed it as soon as the lock was free.
 *
 * The customers table and the seed customer are the same in chapters 03 to 05.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "e2e.h"

#define CUSTOMER "f0e2d41a-a485-4008-b578-747732ae1089" /* seed row of chapters 03-05 */

static e2e_app *app;
static struct e2e_async_request req; /* static: a failed assertion leaves its thread running */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* true once the program's log holds text; looks every 50 ms for at most timeout_ms. */
static bool log_has(const char *text, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    static char buf[1 << 16];
    for (;;) {
        FILE *f = fopen(e2e_app_log_path(app), "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        if (strstr(buf, text))
            return true;
        if (now_ms() >= deadline) {
            fprintf(stderr, "log has no \"%s\"\n", text);
            e2e_app_dump_log(app, 20);
            return false;
        }
        sleep_ms(50);
    }
}

/* Sessions of this database other than the test's own that wait for a lock. */
static long long lock_waiters(void)
{
    return e2e_sql_long(app,
                        "select count(*) from pg_stat_activity where datname = current_database() "
                        "and pid <> pg_backend_pid() and wait_event_type = 'Lock'",
                        0, NULL);
}

static void second_ctrl_c_exits_at_once_and_loses_nothing(void **state)
{
    (void)state;
    const char *id[] = {CUSTOMER};
    assert_true(e2e_sql_ok(app, "begin", 0, NULL));
    assert_true(
        e2e_sql_ok(app, "select 1 from customers.customers where id = $1 for update", 1, id));

    e2e_request_init(&req, app, "PUT", "/api/customers/" CUSTOMER "/disable", NULL);
    assert_true(e2e_request_start(&req));
    long long t0 = now_ms();
    while (lock_waiters() < 1 && now_ms() - t0 < 15000)
        sleep_ms(50);
    assert_int_equal(lock_waiters(), 1); /* the request is stuck on the row */

    pid_t pid = e2e_app_pid(app);
    assert_int_equal(kill(pid, SIGINT), 0);
    assert_true(log_has("stopping signal=SIGINT requests=1 ", 10000));
    assert_true(log_has("waiting for 1 running request(s); Ctrl-C again", 0));
    assert_true(e2e_app_running(app)); /* still waiting for the request */

    long long t1 = now_ms();
    assert_int_equal(kill(pid, SIGINT), 0);
    while (e2e_app_running(app) && now_ms() - t1 < 10000)
        sleep_ms(20);
    long long took = now_ms() - t1;
    fprintf(stderr, "the program exited %lld ms after the second SIGINT\n", took);
    assert_false(e2e_app_running(app));
    assert_true(log_has("second SIGINT: exiting now", 0));

    e2e_request_join(&req);
    assert_int_equal(req.status, -1); /* the stuck request got no answer */
    e2e_request_release(&req);

    /* the program's session is gone before the row is free, so its UPDATE never runs */
    t1 = now_ms();
    while (lock_waiters() != 0 && now_ms() - t1 < 10000)
        sleep_ms(50);
    assert_int_equal(lock_waiters(), 0);
    assert_true(e2e_sql_ok(app, "rollback", 0, NULL));
    sleep_ms(200);
    e2e_expect_sql(app, "true", "select enabled::text from customers.customers where id = $1",
                   CUSTOMER);

    int code = 0;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(e2e_app_stop(app, &code, &err), CORE_OK);
    assert_int_equal(code, 128 + SIGINT);
}

static int setup(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    setenv("LOG_LEVEL", "INFO", 1); /* the stop messages are INFO */
    if (e2e_open(&app, "shutdown", &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int code = -1;
    core_err err = CORE_ERR_INIT;
    core_status st = e2e_close(app, &code, &err);
    app = NULL;
    e2e_request_join(&req); /* the program is gone: the request has ended */
    e2e_request_release(&req);
    if (st) {
        fprintf(stderr, "teardown: %s\n", err.msg);
        return -1;
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(second_ctrl_c_exits_at_once_and_loses_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
