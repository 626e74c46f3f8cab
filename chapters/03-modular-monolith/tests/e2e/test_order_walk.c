/* test_order_walk.c -- scripts/order-walk.sh against this chapter's program.
 *
 * The script is what a reader (and `make test-docker`) runs to walk one whole order with curl:
 * store, product, customer, basket, payment, checkout, then the order followed through the
 * bot's shopping and the paid invoice to "completed". Each chapter moves the order differently
 * (synchronous calls, events, a saga), and the script has to follow every one of them, so each
 * chapter runs it against its own program: a chapter that changes the order's way through the
 * system and leaves the script behind fails here, not in a reader's terminal.
 *
 * The test runs from the workspace's top folder (scripts/test.sh does), where the script is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "e2e.h"

#define WALK_SCRIPT "scripts/order-walk.sh"

static e2e_app *app;

static void the_walk_ends_with_a_completed_order(void **state)
{
    (void)state;
    if (access(WALK_SCRIPT, X_OK) != 0)
        fail_msg("%s is not here (run the test from the workspace's top folder)", WALK_SCRIPT);
    char cmd[256];
    int n = snprintf(cmd, sizeof cmd, "ORDER_WAIT_S=30 %s http://127.0.0.1:%d 2>&1", WALK_SCRIPT,
                     e2e_app_web_port(app));
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[512], last[512] = "";
    while (fgets(line, sizeof line, p)) {
        fputs(line, stderr); /* the walk's steps, in the test's log */
        snprintf(last, sizeof last, "%s", line);
    }
    int rc = pclose(p);
    if (!(WIFEXITED(rc) && WEXITSTATUS(rc) == 0))
        fail_msg("order-walk.sh failed (status %d); its last line: %s", rc, last);
    assert_non_null(strstr(last, "order-walk: completed order "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_walk_ends_with_a_completed_order),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    return e2e_run_group("order-walk", &app, tests);
}
