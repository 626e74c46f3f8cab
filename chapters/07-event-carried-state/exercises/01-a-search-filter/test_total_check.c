/* test_total_check.c -- exercise 07.1, the check: search_filters_check() (search/domain.c) on
 * filters.minTotal and filters.maxTotal. Pure C, no servers.
 *
 * Checked: 0 is no bound and any positive bound is accepted; a negative bound, NaN and the
 * infinities are CORE_ERR_INVALID with a message that names the field as the client wrote it; a
 * minimum above the maximum is refused, a minimum equal to it is not, and a minimum with no
 * maximum (0) is no contradiction; the other filters' checks still come first.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"
#include "search/domain.h"

/* search_filters_check() on the totals min and max (everything else unset). */
static core_status check(double min, double max, core_err *err)
{
    struct search_filters f = {0};
    f.min_total = min;
    f.max_total = max;
    return search_filters_check(&f, err);
}

static void accepted(double min, double max)
{
    core_err err = CORE_ERR_INIT;
    if (check(min, max, &err) != CORE_OK)
        fail_msg("minTotal %g, maxTotal %g: wanted accepted, got \"%s\"", min, max, err.msg);
}

static void refused(double min, double max, const char *msg)
{
    core_err err = CORE_ERR_INIT;
    core_status st = check(min, max, &err);
    if (st == CORE_OK)
        fail_msg("minTotal %g, maxTotal %g: wanted \"%s\", got accepted", min, max, msg);
    assert_int_equal(st, CORE_ERR_INVALID);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("minTotal %g, maxTotal %g: wanted \"%s\", got \"%s\"", min, max, msg, err.msg);
}

static void bounds_that_make_sense_are_accepted(void **state)
{
    (void)state;
    accepted(0, 0);       /* no bound at all */
    accepted(10, 0);      /* a minimum only */
    accepted(0, 10);      /* a maximum only */
    accepted(9.99, 100);  /* both */
    accepted(25.5, 25.5); /* equal: the orders of exactly that total */
    accepted(0.0001, 1e9);
}

static void a_negative_bound_is_refused(void **state)
{
    (void)state;
    refused(-1, 0, "filters.minTotal cannot be negative");
    refused(0, -0.01, "filters.maxTotal cannot be negative");
    refused(-5, 10, "filters.minTotal cannot be negative");
    refused(5, -10, "filters.maxTotal cannot be negative");
}

static void a_bound_that_is_not_a_number_is_refused(void **state)
{
    (void)state;
    refused(NAN, 0, "filters.minTotal is not a number");
    refused(INFINITY, 0, "filters.minTotal is not a number");
    refused(0, NAN, "filters.maxTotal is not a number");
    refused(0, INFINITY, "filters.maxTotal is not a number");
    refused(-INFINITY, 0, "filters.minTotal is not a number"); /* not "negative": not a number */
}

static void a_minimum_above_the_maximum_is_refused(void **state)
{
    (void)state;
    refused(20, 10, "filters.minTotal is greater than filters.maxTotal");
    refused(10.0001, 10, "filters.minTotal is greater than filters.maxTotal");
}

static void the_other_filters_are_checked_as_before(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    const char *stores[] = {" "};
    struct search_filters f = {0};
    f.store_ids = stores;
    f.nstore_ids = 1;
    f.min_total = -1;
    assert_int_equal(search_filters_check(&f, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "filters.storeIds[0] cannot be blank");

    core_err_clear(&err);
    f = (struct search_filters){0};
    f.min_total = 5;
    f.status = "Shipped";
    assert_int_equal(search_filters_check(&f, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "filters.status \"Shipped\" is not one of: New, Ready For Pickup, "
                                 "Canceled, Completed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bounds_that_make_sense_are_accepted),
        cmocka_unit_test(a_negative_bound_is_refused),
        cmocka_unit_test(a_bound_that_is_not_a_number_is_refused),
        cmocka_unit_test(a_minimum_above_the_maximum_is_refused),
        cmocka_unit_test(the_other_filters_are_checked_as_before),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
