/* test_core.c -- unit tests of core.h: statuses, error detail, counted allocation, UUIDs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"

static void status_mapping_is_one_table(void **state)
{
    (void)state;
    assert_int_equal(core_status_http(CORE_OK), 200);
    assert_int_equal(core_status_http(CORE_ERR_INVALID), 400);
    assert_int_equal(core_status_http(CORE_ERR_NOT_FOUND), 404);
    assert_int_equal(core_status_http(CORE_ERR_CONFLICT), 409);
    assert_int_equal(core_status_http(CORE_ERR_TOO_LARGE), 413);
    assert_int_equal(core_status_http(CORE_ERR_UNAVAILABLE), 503);
    assert_int_equal(core_status_http(CORE_ERR_IO), 500);
    assert_int_equal(core_status_code(CORE_ERR_INVALID), 3);
    assert_int_equal(core_status_code(CORE_ERR_NOT_FOUND), 5);
    for (int i = 0; i < CORE_STATUS_COUNT; i++) {
        assert_int_equal(core_status_from_name(core_status_name((core_status)i)), i);
        assert_true(strlen(core_status_text((core_status)i)) > 0);
    }
    assert_int_equal(core_status_from_name("nonsense"), CORE_ERR_INTERNAL);
    assert_string_equal(core_status_name((core_status)999), "CORE_ERR_INTERNAL");
    /* the HTTP layer's refusals come from the same file */
    assert_int_equal(core_refusal_http(CORE_REFUSE_METHOD), 405);
    assert_int_equal(core_refusal_code(CORE_REFUSE_METHOD), 12);
    assert_int_equal(core_refusal_http(CORE_REFUSE_MEDIA_TYPE), 415);
    assert_int_equal(core_refusal_http(CORE_REFUSE_UNKNOWN_VERB), 501);
    assert_int_equal(core_refusal_http(CORE_REFUSE_HTTP_VERSION), 505);
    assert_int_equal(core_refusal_http((enum core_refusal)99), 500);
}

static void err_set_fills_and_wraps(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(core_err_set(&err, CORE_ERR_NOT_FOUND, "basket %s not found", "b1"),
                     CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "basket b1 not found");
    assert_int_equal(core_err_wrap(&err, "checkout"), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "checkout: basket b1 not found");
    assert_int_equal(core_err_set(NULL, CORE_ERR_IO, "ignored"), CORE_ERR_IO);
    char longtext[600];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    core_err_set(&err, CORE_ERR_INVALID, "%s", longtext);
    assert_int_equal(strlen(err.msg), CORE_ERR_MSG_MAX - 1);
    core_err_wrap(&err, "ctx");
    assert_int_equal(strlen(err.msg), CORE_ERR_MSG_MAX - 1);
    assert_memory_equal(err.msg, "ctx: x", 6);
    core_err_clear(&err);
    assert_int_equal(err.status, CORE_OK);
    assert_string_equal(err.msg, "");
}

/* Internal detail stays in msg; clients get the public words, through wraps too, until a new
 * message is set. */
static void public_messages(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    core_err_set(&err, CORE_ERR_INVALID, "the basket id cannot be blank");
    assert_string_equal(core_err_client_msg(&err), "the basket id cannot be blank");
    core_err_set(&err, CORE_ERR_UNAVAILABLE, "cannot connect to PostgreSQL at %s: refused", "10.0.0.7:5432");
    assert_int_equal(core_err_public(&err, "the %s is unavailable, try again", "database"), CORE_ERR_UNAVAILABLE);
    assert_string_equal(core_err_client_msg(&err), "the database is unavailable, try again");
    assert_string_equal(err.msg, "cannot connect to PostgreSQL at 10.0.0.7:5432: refused");
    core_err_wrap(&err, "loading basket %s", "b-1");
    assert_string_equal(err.msg, "loading basket b-1: cannot connect to PostgreSQL at 10.0.0.7:5432: refused");
    assert_string_equal(core_err_client_msg(&err), "the database is unavailable, try again");
    core_err_set(&err, CORE_ERR_NOT_FOUND, "basket b-1 not found"); /* a new message is public again */
    assert_string_equal(core_err_client_msg(&err), "basket b-1 not found");
    core_err_public(&err, "x");
    core_err_clear(&err);
    assert_string_equal(core_err_client_msg(&err), "");
    assert_int_equal(core_err_public(NULL, "x"), CORE_ERR_INTERNAL);
}

static void allocations_are_counted(void **state)
{
    (void)state;
    long before = core_alloc_live();
    char *a = core_strdup("hello");
    void *b = core_calloc(3, 8);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(core_alloc_live(), before + 2);
    a = core_realloc(a, 100);
    assert_non_null(a);
    assert_string_equal(a, "hello");
    assert_int_equal(core_alloc_live(), before + 2);
    core_free(a);
    core_free(b);
    core_free(NULL);
    assert_int_equal(core_alloc_live(), before);
}

static void failure_injection(void **state)
{
    (void)state;
    long before = core_alloc_live();
    core_alloc_fail_after(2);
    void *a = core_malloc(1), *b = core_malloc(1), *c = core_malloc(1);
    char *d = core_strdup("x");
    core_alloc_fail_after(-1);
    void *e = core_malloc(1);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c);
    assert_null(d);
    assert_non_null(e);
    core_free(a);
    core_free(b);
    core_free(e);
    assert_int_equal(core_alloc_live(), before);
}

static void strings(void **state)
{
    (void)state;
    char buf[4];
    assert_true(core_strlcpy(buf, "abc", sizeof buf));
    assert_string_equal(buf, "abc");
    assert_false(core_strlcpy(buf, "abcdef", sizeof buf));
    assert_string_equal(buf, "abc");
    assert_true(core_str_blank(NULL));
    assert_true(core_str_blank(" \t\n"));
    assert_false(core_str_blank(" a "));
    char *n = core_strndup("abcdef", 2);
    assert_string_equal(n, "ab");
    core_free(n);
}

static void uuids(void **state)
{
    (void)state;
    char a[CORE_UUID_LEN + 1], b[CORE_UUID_LEN + 1];
    core_uuid_new(a);
    core_uuid_new(b);
    assert_int_equal(strlen(a), CORE_UUID_LEN);
    assert_string_not_equal(a, b);
    assert_true(core_uuid_valid(a));
    assert_int_equal(a[14], '4'); /* version 4 */
    assert_true(core_uuid_valid("F0E2D41A-A485-4008-B578-747732AE1089"));
    assert_false(core_uuid_valid("not-a-uuid"));
    assert_false(core_uuid_valid(""));
    assert_false(core_uuid_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_mapping_is_one_table), cmocka_unit_test(err_set_fills_and_wraps),
        cmocka_unit_test(allocations_are_counted),     cmocka_unit_test(failure_injection),
        cmocka_unit_test(strings),                     cmocka_unit_test(uuids),
        cmocka_unit_test(public_messages),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
