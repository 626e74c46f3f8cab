/* test_log.c -- log.h: levels, quoting, the enter and leave records of a call, the test sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"
#include "log_capture.h"

static void levels_decide_what_is_written(void **state)
{
    (void)state;
    struct log_capture cap;
    char text[1024];
    log_capture_start(&cap, LOG_LEVEL_INFO);
    assert_false(log_enabled(LOG_LEVEL_DEBUG));
    assert_true(log_enabled(LOG_LEVEL_INFO));
    assert_true(log_enabled(LOG_LEVEL_ERROR));
    log_debug("test", "hidden");
    log_info("test", "shown n=%d", 1);
    log_request_id_set("r-1");
    log_warn("test", "with id");
    log_request_id_set(NULL);
    assert_string_equal(log_capture_take(&cap, text, sizeof text), "INFO  test: shown n=1\n"
                                                                   "WARN  test: with id req=r-1\n");
    log_capture_stop(&cap, LOG_LEVEL_ERROR);
    assert_false(log_enabled(LOG_LEVEL_WARN));
}

static void quote_keeps_a_record_on_one_line(void **state)
{
    (void)state;
    char buf[LOG_QUOTED_SIZE(32)];
    assert_string_equal(log_quote(buf, sizeof buf, "plain words"), "\"plain words\"");
    assert_string_equal(log_quote(buf, sizeof buf, "a \"b\" c\\d"), "\"a \\\"b\\\" c\\\\d\"");
    assert_string_equal(log_quote(buf, sizeof buf, "1\n2\r3\t4\x01\x7f"),
                        "\"1\\n2\\r3\\t4\\x01\\x7f\"");
    assert_string_equal(log_quote(buf, sizeof buf, "caf\xc3\xa9"),
                        "\"caf\xc3\xa9\""); /* UTF-8 as it is */
    assert_string_equal(log_quote(buf, sizeof buf, NULL), "\"\"");
    assert_string_equal(log_quote(buf, sizeof buf, ""), "\"\"");
    /* LOG_QUOTED_SIZE holds the worst case whole */
    const char *worst = "\x01\x01\x01\x01\x01\x01\x01\x01";
    char exact[LOG_QUOTED_SIZE(8)];
    assert_int_equal(strlen(log_quote(exact, sizeof exact, worst)), sizeof exact - 1);
    /* smaller buffers cut at a whole escape, still closed */
    char small[8];
    assert_string_equal(log_quote(small, sizeof small, "abcdefgh"), "\"abcde\"");
    assert_string_equal(log_quote(small, sizeof small, "ab\"cdef"), "\"ab\\\"c\"");
    assert_string_equal(log_quote(small, sizeof small, "\x01\x02"), "\"\\x01\"");
    char tiny[3];
    assert_string_equal(log_quote(tiny, sizeof tiny, "abc"), "\"\"");
    tiny[0] = 'x';
    assert_string_equal(log_quote(tiny, 2, "abc"), "");
    log_quote(tiny, 0, "abc"); /* writes nothing */
}

static void a_call_is_logged_on_enter_and_leave(void **state)
{
    (void)state;
    struct log_capture cap;
    char text[2048];
    struct log_call call;
    core_err err = CORE_ERR_INIT;
    log_capture_start(&cap, LOG_LEVEL_DEBUG);

    log_call_enter(&call, "%s.%s", "ordering", "CreateOrder");
    assert_int_equal(log_call_leave(&call, CORE_OK, NULL), CORE_OK);
    /* fields after the first space go to the enter record only */
    log_call_enter(&call, "stores.Mall.On(%s) event_id=%s", "stores.StoreCreated", "e-1");
    core_err_set(&err, CORE_ERR_CONFLICT, "store \"s-1\" exists");
    assert_int_equal(log_call_leave(&call, CORE_ERR_CONFLICT, &err), CORE_ERR_CONFLICT);
    /* no detail, or detail of another status: the status's text */
    log_call_enter(&call, "depot.GetShoppingList");
    log_call_leave(&call, CORE_ERR_NOT_FOUND, NULL);
    log_call_enter(&call, "depot.GetShoppingList");
    log_call_leave(&call, CORE_ERR_NOT_FOUND, &err);
    assert_string_equal(
        log_capture_take(&cap, text, sizeof text),
        "DEBUG ordering: --> Ordering.CreateOrder\n"
        "DEBUG ordering: <-- Ordering.CreateOrder took=Nms\n"
        "DEBUG stores: --> Stores.Mall.On(stores.StoreCreated) event_id=e-1\n"
        "DEBUG stores: <-- Stores.Mall.On(stores.StoreCreated) status=CORE_ERR_CONFLICT "
        "error=\"store \\\"s-1\\\" exists\" took=Nms\n"
        "DEBUG depot: --> Depot.GetShoppingList\n"
        "DEBUG depot: <-- Depot.GetShoppingList status=CORE_ERR_NOT_FOUND error=\"not found\" "
        "took=Nms\n"
        "DEBUG depot: --> Depot.GetShoppingList\n"
        "DEBUG depot: <-- Depot.GetShoppingList status=CORE_ERR_NOT_FOUND error=\"not found\" "
        "took=Nms\n");

    /* off above debug level, even when the level changes between enter and leave */
    log_init(LOG_LEVEL_INFO);
    log_call_enter(&call, "ordering.CreateOrder");
    log_init(LOG_LEVEL_DEBUG);
    assert_int_equal(log_call_leave(&call, CORE_ERR_IO, NULL), CORE_ERR_IO);
    assert_string_equal(log_capture_take(&cap, text, sizeof text), "");
    log_capture_stop(&cap, LOG_LEVEL_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(levels_decide_what_is_written),
        cmocka_unit_test(quote_keeps_a_record_on_one_line),
        cmocka_unit_test(a_call_is_logged_on_enter_and_leave),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
