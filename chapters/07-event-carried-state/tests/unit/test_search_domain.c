/* test_search_domain.c -- unit tests of search/domain.h: the statuses' order, every check of the
 * filters with its message, the limit, and the page token (round trip, and every way a token can
 * be malformed). No servers. Every test checks it leaks nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <math.h>

#include "core.h"
#include "search/domain.h"

static long live_at_start;

static int setup(void **state)
{
    (void)state;
    live_at_start = core_alloc_live();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(core_alloc_live(), live_at_start);
    return 0;
}

static void statuses_rank_in_lifecycle_order(void **state)
{
    (void)state;
    assert_int_equal(search_status_rank("New"), 0);
    assert_int_equal(search_status_rank("Ready For Pickup"), 1);
    assert_int_equal(search_status_rank("Canceled"), 2);
    assert_int_equal(search_status_rank("Completed"), 3);
    assert_int_equal(search_status_rank("new"), -1);
    assert_int_equal(search_status_rank(""), -1);
    assert_int_equal(search_status_rank(NULL), -1);
}

/* f must be refused with exactly msg. */
static void refused(const struct search_filters *f, const char *msg)
{
    core_err err = CORE_ERR_INIT;
    assert_int_equal(search_filters_check(f, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, msg);
}

static void no_filter_and_every_filter_pass(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct search_filters none = {0};
    assert_int_equal(search_filters_check(&none, &err), CORE_OK);
    const char *stores[] = {"s1", "s2"}, *products[] = {"p1"};
    struct search_filters all = {"c1", true,     1, true, 2,   stores,
                                 2,    products, 1, 1.5,  2.5, "Ready For Pickup"};
    assert_int_equal(search_filters_check(&all, &err), CORE_OK);
    /* equal bounds are a range of one value, not an error */
    struct search_filters same = {.min_total = 3, .max_total = 3};
    assert_int_equal(search_filters_check(&same, &err), CORE_OK);
}

static void each_malformed_filter_is_named(void **state)
{
    (void)state;
    char long_id[SEARCH_ID_MAX + 2];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    const char *blank[] = {"s1", " "}, *too_long[] = {long_id}, *many[SEARCH_FILTER_IDS_MAX + 1];
    for (size_t i = 0; i < SEARCH_FILTER_IDS_MAX + 1; i++)
        many[i] = "p";

    refused(&(struct search_filters){.customer_id = long_id}, "filters.customerId is too long");
    refused(&(struct search_filters){.store_ids = blank, .nstore_ids = 2},
            "filters.storeIds[1] cannot be blank");
    refused(&(struct search_filters){.product_ids = blank, .nproduct_ids = 2},
            "filters.productIds[1] cannot be blank");
    refused(&(struct search_filters){.store_ids = too_long, .nstore_ids = 1},
            "filters.storeIds[0] is too long");
    refused(
        &(struct search_filters){.product_ids = many, .nproduct_ids = SEARCH_FILTER_IDS_MAX + 1},
        "filters.productIds has more than 100 ids");
    refused(&(struct search_filters){.min_total = -1}, "filters.minTotal cannot be negative");
    refused(&(struct search_filters){.max_total = -0.01}, "filters.maxTotal cannot be negative");
    refused(&(struct search_filters){.min_total = NAN}, "filters.minTotal is not a number");
    refused(&(struct search_filters){.max_total = INFINITY}, "filters.maxTotal is not a number");
    refused(&(struct search_filters){.min_total = 5, .max_total = 4},
            "filters.minTotal is greater than filters.maxTotal");
    refused(
        &(struct search_filters){
            .has_after = true, .after_us = 5, .has_before = true, .before_us = 5},
        "filters.after is not earlier than filters.before");
    refused(&(struct search_filters){.status = "Ready"},
            "filters.status \"Ready\" is not one of: New, Ready For Pickup, Canceled, Completed");
}

static void limit_defaults_to_20_and_stays_within_100(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    int page = -1;
    assert_int_equal(search_limit_resolve(0, &page, &err), CORE_OK);
    assert_int_equal(page, 20);
    assert_int_equal(search_limit_resolve(1, &page, &err), CORE_OK);
    assert_int_equal(page, 1);
    assert_int_equal(search_limit_resolve(100, &page, &err), CORE_OK);
    assert_int_equal(page, 100);
    assert_int_equal(search_limit_resolve(101, &page, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "limit must be between 1 and 100 (0 means 20)");
    assert_int_equal(search_limit_resolve(-1, &page, &err), CORE_ERR_INVALID);
}

static void token_round_trips(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    char token[SEARCH_TOKEN_MAX];
    const int64_t times[] = {0, 1, 1765072800123456, -86400000001, INT64_MAX};
    const char *ids[] = {"a", "6f1c2d3e-0000-4000-8000-000000000001", "with.dots.and \"quotes\"",
                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
    for (size_t t = 0; t < sizeof times / sizeof times[0]; t++)
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
            struct search_cursor c = {times[t], {0}}, back = {0, {0}};
            assert_true(core_strlcpy(c.order_id, ids[i], sizeof c.order_id));
            assert_int_equal(search_cursor_encode(&c, token, &err), CORE_OK);
            for (const char *p = token; *p; p++) /* URL-safe, no padding */
                assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789-_",
                                       *p));
            assert_int_equal(search_cursor_decode(token, &back, &err), CORE_OK);
            assert_true(back.created_us == times[t]);
            assert_string_equal(back.order_id, ids[i]);
        }
}

/* The base64url of text, unpadded (made here independently of the code under test). */
static void b64(const char *text, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = strlen(text), o = 0;
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
                     (i + 2 < n ? s[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = a[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = a[v & 63];
    }
    out[o] = '\0';
}

static void malformed_tokens_are_refused(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct search_cursor c;
    char tok[256], long_id[4 + SEARCH_ID_MAX + 2] = "1.5.";
    memset(long_id + 4, 'x', SEARCH_ID_MAX + 1); /* one byte over */
    long_id[sizeof long_id - 1] = '\0';
    const char *plain_bad[] = {"",
                               "1.",
                               "1.123",
                               "1.123.",
                               "1.x.id",
                               "2.123.id",
                               "1..id",
                               "1.12a.id",
                               "1.+5.id",
                               "1.5. ",
                               "1.99999999999999999999.id",
                               long_id};
    for (size_t i = 0; i < sizeof plain_bad / sizeof plain_bad[0]; i++) {
        b64(plain_bad[i], tok);
        if (search_cursor_decode(tok, &c, &err) != CORE_ERR_INVALID)
            fail_msg("accepted \"%s\"", plain_bad[i]);
        assert_int_equal(search_cursor_decode(tok, &c, &err), CORE_ERR_INVALID);
        assert_string_equal(err.msg, "next is not a page token of this search");
    }
    const char *raw_bad[] = {"not base64!", "MS4xLmE=", "M", "MS4xLmE\n", "MS4xLmE*"};
    for (size_t i = 0; i < sizeof raw_bad / sizeof raw_bad[0]; i++)
        assert_int_equal(search_cursor_decode(raw_bad[i], &c, &err), CORE_ERR_INVALID);
    /* an embedded NUL: "1.1.a\0b" */
    assert_int_equal(search_cursor_decode("MS4xLmEAYg", &c, &err), CORE_ERR_INVALID);
    /* too long to be one of ours */
    memset(tok, 'A', 200);
    tok[200] = '\0';
    assert_int_equal(search_cursor_decode(tok, &c, &err), CORE_ERR_INVALID);
    /* and the good one next to them decodes */
    b64("1.7.a", tok);
    assert_int_equal(search_cursor_decode(tok, &c, &err), CORE_OK);
    assert_string_equal(c.order_id, "a");
}

static void order_values_own_their_strings(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct search_order_list l = SEARCH_ORDER_LIST_INIT;
    for (int i = 0; i < 5; i++) {
        struct search_order *o = NULL;
        assert_int_equal(search_order_list_add(&l, &o, &err), CORE_OK);
        assert_int_equal(search_order_set(o, "o", "c", NULL, "New", &err), CORE_OK);
        assert_string_equal(o->customer_name, "");
        for (int k = 0; k < 3; k++)
            assert_int_equal(search_order_add_item(o, "p", "s", "P", NULL, 1.5, 2, &err), CORE_OK);
        assert_int_equal(o->nitems, 3);
    }
    assert_int_equal(l.n, 5);
    search_order_list_release(&l);
    assert_int_equal(l.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(statuses_rank_in_lifecycle_order, setup, teardown),
        cmocka_unit_test_setup_teardown(no_filter_and_every_filter_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(each_malformed_filter_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(limit_defaults_to_20_and_stays_within_100, setup, teardown),
        cmocka_unit_test_setup_teardown(token_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_tokens_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(order_values_own_their_strings, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
