/* test_core.c -- unit tests of core.h: statuses, error detail, counted allocation, growable arrays
 * and buffers, UUIDs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>
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
    core_err_set(&err, CORE_ERR_UNAVAILABLE, "cannot connect to PostgreSQL at %s: refused",
                 "10.0.0.7:5432");
    assert_int_equal(core_err_public(&err, "the %s is unavailable, try again", "database"),
                     CORE_ERR_UNAVAILABLE);
    assert_string_equal(core_err_client_msg(&err), "the database is unavailable, try again");
    assert_string_equal(err.msg, "cannot connect to PostgreSQL at 10.0.0.7:5432: refused");
    core_err_wrap(&err, "loading basket %s", "b-1");
    assert_string_equal(
        err.msg, "loading basket b-1: cannot connect to PostgreSQL at 10.0.0.7:5432: refused");
    assert_string_equal(core_err_client_msg(&err), "the database is unavailable, try again");
    core_err_set(&err, CORE_ERR_NOT_FOUND,
                 "basket b-1 not found"); /* a new message is public again */
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

/* ---- growable arrays and buffers ---------------------------------------------------------- */

struct pair {
    int a;
    double b;
};

static void array_grow_keeps_elements(void **state)
{
    (void)state;
    long before = core_alloc_live();
    struct pair *items = NULL;
    size_t cap = 0, n = 0;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(core_array_grow(&items, &cap, n + 1, sizeof *items), CORE_OK);
        assert_true(cap >= n + 1);
        items[n++] = (struct pair){i, i * 0.5};
    }
    assert_int_equal(cap, 128); /* 8, 16, 32, 64, 128 */
    for (int i = 0; i < 100; i++) {
        assert_int_equal(items[i].a, i);
        assert_true(items[i].b == i * 0.5);
    }
    struct pair *same = items;
    assert_int_equal(core_array_grow(&items, &cap, 128, sizeof *items), CORE_OK); /* fits */
    assert_ptr_equal(items, same);
    assert_int_equal(cap, 128);
    assert_int_equal(core_array_grow(&items, &cap, 1000, sizeof *items), CORE_OK); /* > 2 cap */
    assert_int_equal(cap, 1000);
    assert_int_equal(items[99].a, 99);
    assert_int_equal(core_alloc_live(), before + 1);
    core_free(items);

    /* an array moved away (NULL) with its old capacity left behind has no room */
    items = NULL;
    cap = 1000;
    assert_int_equal(core_array_grow(&items, &cap, 1, sizeof *items), CORE_OK);
    assert_non_null(items);
    assert_int_equal(cap, 8);
    items[0] = (struct pair){1, 2.0};
    core_free(items);
    assert_int_equal(core_alloc_live(), before);
}

/* A failed growth leaves the array, its elements and its capacity as they were. */
static void array_grow_failure_changes_nothing(void **state)
{
    (void)state;
    long before = core_alloc_live();
    int *items = NULL;
    size_t cap = 0;
    core_alloc_fail_after(0);
    assert_int_equal(core_array_grow(&items, &cap, 1, sizeof *items), CORE_ERR_NOMEM);
    core_alloc_fail_after(-1);
    assert_null(items);
    assert_int_equal(cap, 0);

    assert_int_equal(core_array_grow(&items, &cap, 3, sizeof *items), CORE_OK);
    items[0] = 7;
    int *old = items;
    core_alloc_fail_after(0);
    assert_int_equal(core_array_grow(&items, &cap, 9, sizeof *items), CORE_ERR_NOMEM);
    core_alloc_fail_after(-1);
    assert_ptr_equal(items, old);
    assert_int_equal(cap, 8);
    assert_int_equal(items[0], 7);

    /* a size that does not fit a size_t is refused before anything is allocated */
    assert_int_equal(core_array_grow(&items, &cap, SIZE_MAX / 2, sizeof *items), CORE_ERR_NOMEM);
    assert_ptr_equal(items, old);
    assert_int_equal(cap, 8);
    core_free(items);
    assert_int_equal(core_alloc_live(), before);
}

static void buf_builds_text(void **state)
{
    (void)state;
    long before = core_alloc_live();
    struct core_buf b = CORE_BUF_INIT;
    assert_string_equal(core_buf_str(&b), "");
    assert_int_equal(core_alloc_live(), before); /* nothing allocated before the first addition */
    assert_int_equal(core_buf_add_str(&b, "basket "), CORE_OK);
    assert_int_equal(core_buf_add(&b, "b-1xyz", 3), CORE_OK);
    assert_int_equal(core_buf_add(&b, NULL, 0), CORE_OK);
    assert_int_equal(core_buf_add_fmt(&b, ": %d items, %.2f", 3, 9.5), CORE_OK);
    assert_string_equal(core_buf_str(&b), "basket b-1: 3 items, 9.50");
    assert_int_equal(b.len, strlen("basket b-1: 3 items, 9.50"));

    /* far past the first allocation, by single bytes, strings and formats */
    char expect[2000];
    size_t n = strlen(core_buf_str(&b));
    memcpy(expect, core_buf_str(&b), n);
    for (int i = 0; i < 300; i++) {
        char c = (char)('a' + i % 26);
        assert_int_equal(core_buf_add(&b, &c, 1), CORE_OK);
        expect[n++] = c;
    }
    char longtext[600];
    memset(longtext, 'L', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    assert_int_equal(core_buf_add_fmt(&b, "[%s]", longtext), CORE_OK); /* grows, then formats */
    n += (size_t)snprintf(expect + n, sizeof expect - n, "[%s]", longtext);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.buf, expect, n);
    assert_int_equal(b.buf[n], '\0');
    assert_true(b.cap > b.len);

    size_t len = 0;
    char *text = core_buf_detach(&b, &len);
    assert_non_null(text);
    assert_int_equal(len, n);
    assert_memory_equal(text, expect, n);
    assert_null(b.buf); /* b is empty and usable again */
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    core_free(text);

    /* bytes with NULs in them count too */
    assert_int_equal(core_buf_add(&b, "a\0b", 3), CORE_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.buf, "a\0b", 4);
    core_buf_release(&b);
    assert_int_equal(core_alloc_live(), before);
}

static void buf_reset_grow_and_set_len(void **state)
{
    (void)state;
    long before = core_alloc_live();
    struct core_buf b;
    core_buf_init(&b);
    assert_int_equal(core_buf_add_str(&b, "hello, world"), CORE_OK);
    core_buf_set_len(&b, 5); /* cut shorter */
    assert_string_equal(core_buf_str(&b), "hello");
    size_t cap = b.cap;
    core_buf_reset(&b); /* empty, memory kept */
    assert_string_equal(core_buf_str(&b), "");
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap);

    /* room to write into directly, as recv() does */
    assert_int_equal(core_buf_grow(&b, 1000), CORE_OK);
    assert_true(b.cap >= 1001);
    memset(b.buf, 'z', 1000);
    core_buf_set_len(&b, 1000);
    assert_int_equal(strlen(core_buf_str(&b)), 1000);
    assert_int_equal(core_buf_add_str(&b, "!"), CORE_OK);
    assert_int_equal(b.buf[1000], '!');

    /* a first allocation by core_buf_grow() is a text already: "" */
    core_buf_release(&b);
    assert_int_equal(core_buf_grow(&b, 10), CORE_OK);
    assert_string_equal(core_buf_str(&b), "");

    /* an empty buffer detaches as "" */
    core_buf_release(&b);
    assert_int_equal(core_alloc_live(), before);
    size_t len = 99;
    char *text = core_buf_detach(&b, &len);
    assert_non_null(text);
    assert_string_equal(text, "");
    assert_int_equal(len, 0);
    core_free(text);
    assert_int_equal(core_alloc_live(), before);
}

/* A failed addition marks the buffer failed: later additions do nothing, detach gives NULL and
 * frees; reset makes it usable again. Every allocation of a build may be the one that fails. */
static void buf_failure_is_sticky(void **state)
{
    (void)state;
    long before = core_alloc_live();
    struct core_buf b = CORE_BUF_INIT;
    assert_int_equal(core_buf_add_str(&b, "kept"), CORE_OK);
    char longtext[200];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    core_alloc_fail_after(0);
    assert_int_equal(core_buf_add_fmt(&b, "%s", longtext), CORE_ERR_NOMEM); /* needs to grow */
    core_alloc_fail_after(-1);
    assert_true(b.failed);
    assert_string_equal(core_buf_str(&b), "kept"); /* nothing of the failed addition */
    assert_int_equal(core_buf_add_str(&b, "more"), CORE_ERR_NOMEM); /* memory is back: still */
    assert_int_equal(core_buf_add_fmt(&b, "%d", 1), CORE_ERR_NOMEM);
    assert_int_equal(core_buf_grow(&b, 1), CORE_ERR_NOMEM);
    assert_string_equal(core_buf_str(&b), "kept");
    core_buf_reset(&b);
    assert_false(b.failed);
    assert_int_equal(core_buf_add_str(&b, "again"), CORE_OK);
    assert_string_equal(core_buf_str(&b), "again");

    core_alloc_fail_after(0);
    assert_int_equal(core_buf_add_str(&b, longtext), CORE_ERR_NOMEM);
    core_alloc_fail_after(-1);
    size_t len = 99;
    assert_null(core_buf_detach(&b, &len));
    assert_int_equal(len, 99);
    assert_null(b.buf); /* released */
    assert_false(b.failed);
    assert_int_equal(core_alloc_live(), before);

    /* the N-th allocation fails: the build reports it once, at the end, and leaks nothing */
    int failed = 0;
    for (long n = 0; n < 10; n++) {
        core_alloc_fail_after(n);
        for (int i = 0; i < 50; i++)
            core_buf_add_fmt(&b, "%s%d", i ? "," : "", i);
        char *text = core_buf_detach(&b, NULL);
        core_alloc_fail_after(-1);
        if (!text) {
            failed++;
            continue;
        }
        assert_int_equal(strncmp(text, "0,1,2,3,", 8), 0);
        assert_int_equal(strcmp(text + strlen(text) - 6, ",48,49"), 0);
        core_free(text);
    }
    assert_true(failed >= 2); /* the first allocation and at least one growth */
    assert_int_equal(core_alloc_live(), before);

    /* a conversion vsnprintf() refuses fails the buffer as well (CORE_ERR_INTERNAL) */
    const wchar_t bad[] = {0xd800, 0};
    assert_int_equal(core_buf_add_str(&b, "ok"), CORE_OK);
    assert_int_equal(core_buf_add_fmt(&b, "%ls", bad), CORE_ERR_INTERNAL);
    assert_true(b.failed);
    assert_string_equal(core_buf_str(&b), "ok");
    assert_null(core_buf_detach(&b, NULL));
    assert_int_equal(core_alloc_live(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_mapping_is_one_table),
        cmocka_unit_test(err_set_fills_and_wraps),
        cmocka_unit_test(allocations_are_counted),
        cmocka_unit_test(failure_injection),
        cmocka_unit_test(strings),
        cmocka_unit_test(uuids),
        cmocka_unit_test(public_messages),
        cmocka_unit_test(array_grow_keeps_elements),
        cmocka_unit_test(array_grow_failure_changes_nothing),
        cmocka_unit_test(buf_builds_text),
        cmocka_unit_test(buf_reset_grow_and_set_len),
        cmocka_unit_test(buf_failure_is_sticky),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
