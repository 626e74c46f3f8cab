/* test_cfg.c -- unit tests of cfg.h and log.h: defaults, the book's formats, clear errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cfg.h"

static const char *const vars[] = {"ENVIRONMENT", "LOG_LEVEL",        "PG_CONN",     "NATS_URL",
                                   "NATS_STREAM", "WEB_HOST",         "WEB_PORT",    "RPC_HOST",
                                   "RPC_PORT",    "SHUTDOWN_TIMEOUT", "WEB_THREADS", "RPC_THREADS"};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    return 0;
}

static void defaults_point_at_the_lab_and_loopback(void **state)
{
    (void)state;
    struct cfg_app c;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(cfg_load(&c, &err), CORE_OK);
    assert_string_equal(c.environment, "development");
    assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
    assert_string_equal(c.pg_conn, CFG_DEFAULT_PG_CONN);
    assert_string_equal(c.nats_stream, "mallbots");
    assert_string_equal(c.web_host, "127.0.0.1");
    assert_string_equal(c.rpc_host, "127.0.0.1");
    assert_int_equal(c.web_port, 8080);
    assert_int_equal(c.rpc_port, 8085);
    assert_int_equal(c.shutdown_timeout_ms, 30000);
}

static void book_formats_are_accepted(void **state)
{
    (void)state;
    struct cfg_app c;
    core_err err = CORE_ERR_INIT;
    setenv("WEB_PORT", ":9090", 1);
    setenv("RPC_PORT", "9091", 1);
    setenv("SHUTDOWN_TIMEOUT", "1500ms", 1);
    setenv("LOG_LEVEL", "warn", 1);
    assert_int_equal(cfg_load(&c, &err), CORE_OK);
    assert_int_equal(c.web_port, 9090);
    assert_int_equal(c.rpc_port, 9091);
    assert_int_equal(c.shutdown_timeout_ms, 1500);
    assert_int_equal(c.log_level, LOG_LEVEL_WARN);
    int ms = 0;
    assert_int_equal(cfg_parse_duration_ms("2m", &ms, &err), CORE_OK);
    assert_int_equal(ms, 120000);
    assert_int_equal(cfg_parse_duration_ms("5", &ms, &err), CORE_OK);
    assert_int_equal(ms, 5000);
}

static void bad_values_name_the_variable(void **state)
{
    (void)state;
    struct cfg_app c;
    core_err err = CORE_ERR_INIT;
    setenv("WEB_PORT", "80a", 1);
    assert_int_equal(cfg_load(&c, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "WEB_PORT"));
    assert_non_null(strstr(err.msg, "80a"));
    unsetenv("WEB_PORT");
    setenv("RPC_PORT", "70000", 1);
    assert_int_equal(cfg_load(&c, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "RPC_PORT"));
    unsetenv("RPC_PORT");
    setenv("SHUTDOWN_TIMEOUT", "soon", 1);
    assert_int_equal(cfg_load(&c, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "SHUTDOWN_TIMEOUT"));
    unsetenv("SHUTDOWN_TIMEOUT");
    setenv("LOG_LEVEL", "LOUD", 1);
    assert_int_equal(cfg_load(&c, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "LOG_LEVEL"));
    unsetenv("LOG_LEVEL");
    char big[700];
    memset(big, 'h', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    setenv("PG_CONN", big, 1);
    assert_int_equal(cfg_load(&c, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "PG_CONN"));
}

/* Found by tests/fuzz/fuzz_cfg: the number was read with strtod(), which also takes hex ("0Xf" was
 * 15 s), exponents and signs; a Go-style duration or plain seconds is decimal digits. */
static void thread_counts_are_bounded(void **state)
{
    (void)state;
    struct cfg_app c;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(cfg_load(&c, &err), CORE_OK);
    assert_int_equal(c.web_threads, CFG_DEFAULT_THREADS);
    assert_int_equal(c.rpc_threads, CFG_DEFAULT_THREADS);
    setenv("WEB_THREADS", "64", 1);
    setenv("RPC_THREADS", "8", 1);
    assert_int_equal(cfg_load(&c, &err), CORE_OK);
    assert_int_equal(c.web_threads, 64);
    assert_int_equal(c.rpc_threads, 8);
    static const char *const bad[] = {"7", "4097", "0", "-64", "+64", " 64", "64x", "lots", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("RPC_THREADS", bad[i], 1);
        assert_int_equal(cfg_load(&c, &err), CORE_ERR_INVALID);
        assert_non_null(strstr(err.msg, "RPC_THREADS"));
        assert_non_null(strstr(err.msg, "is not a thread count (8-4096)"));
    }
    setenv("RPC_THREADS", "", 1); /* empty: the default, like every other variable */
    assert_int_equal(cfg_load(&c, &err), CORE_OK);
    assert_int_equal(c.rpc_threads, CFG_DEFAULT_THREADS);
}

static void durations_are_decimal(void **state)
{
    (void)state;
    static const char *const bad[] = {"0Xf",    "0x10s", "1e3", "1e3ms", "-0", "+5s",
                                      "1.2.3s", ".",     "s",   "inf",   "nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int ms = -1;
        core_err err = CORE_ERR_INIT;
        if (cfg_parse_duration_ms(bad[i], &ms, &err) != CORE_ERR_INVALID)
            fail_msg("\"%s\" was accepted as %d ms", bad[i], ms);
        assert_int_equal(ms, -1);
        assert_non_null(strstr(err.msg, "is not a duration"));
    }
    int ms = 0;
    assert_int_equal(cfg_parse_duration_ms("1.5s", &ms, NULL), CORE_OK);
    assert_int_equal(ms, 1500);
    assert_int_equal(cfg_parse_duration_ms(".5m", &ms, NULL), CORE_OK);
    assert_int_equal(ms, 30000);
    assert_int_equal(cfg_parse_duration_ms("30", &ms, NULL), CORE_OK);
    assert_int_equal(ms, 30000);
    assert_int_equal(cfg_parse_duration_ms("0ms", &ms, NULL), CORE_OK);
    assert_int_equal(ms, 0);
}

static void log_levels_parse(void **state)
{
    (void)state;
    log_level l;
    assert_true(log_level_parse("DEBUG", &l));
    assert_int_equal(l, LOG_LEVEL_DEBUG);
    assert_true(log_level_parse("error", &l));
    assert_int_equal(l, LOG_LEVEL_ERROR);
    assert_false(log_level_parse("verbose", &l));
    assert_false(log_level_parse(NULL, &l));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(defaults_point_at_the_lab_and_loopback, clear_env),
        cmocka_unit_test_setup(book_formats_are_accepted, clear_env),
        cmocka_unit_test_setup(bad_values_name_the_variable, clear_env),
        cmocka_unit_test_setup(thread_counts_are_bounded, clear_env),
        cmocka_unit_test(durations_are_decimal),
        cmocka_unit_test(log_levels_parse),
    };
    return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
