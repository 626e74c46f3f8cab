/* test_waiter.c -- unit tests of waiter.h: signals collected synchronously, timeouts, clock. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "waiter.h"

static void *stop_later(void *arg)
{
    (void)arg;
    usleep(50 * 1000);
    waiter_request_stop(); /* from another thread, as a worker would */
    return NULL;
}

static void timeout_returns_zero(void **state)
{
    (void)state;
    long long t0 = waiter_now_ms();
    assert_int_equal(waiter_wait(100), 0);
    long long waited = waiter_now_ms() - t0;
    assert_true(waited >= 90);
}

static void request_stop_is_collected_as_sigterm(void **state)
{
    (void)state;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, stop_later, NULL), 0);
    assert_int_equal(waiter_wait(5000), SIGTERM);
    pthread_join(t, NULL);
}

static void sigint_is_collected_too(void **state)
{
    (void)state;
    assert_int_equal(kill(getpid(), SIGINT), 0); /* blocked: stays pending, does not kill us */
    assert_int_equal(waiter_wait(1000), SIGINT);
    assert_int_equal(waiter_wait(10), 0); /* consumed */
}

static void clock_is_monotonic(void **state)
{
    (void)state;
    long long a = waiter_now_ms();
    usleep(20 * 1000);
    long long b = waiter_now_ms();
    assert_true(b >= a + 15);
}

int main(void)
{
    core_err err = CORE_ERR_INIT;
    if (waiter_block_signals(&err) != CORE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timeout_returns_zero),
        cmocka_unit_test(request_stop_is_collected_as_sigterm),
        cmocka_unit_test(sigint_is_collected_too),
        cmocka_unit_test(clock_is_monotonic),
    };
    return cmocka_run_group_tests_name("waiter", tests, NULL, NULL);
}
