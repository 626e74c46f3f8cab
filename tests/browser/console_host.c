/* console_host.c -- runs the browser tests of the lab console (tests/browser/console.test.mjs)
 * against a chapter's program, started the way every end-to-end test starts it.
 *
 * scripts/test.sh runs it with MALLBOTS_BIN (the chapter's program, sanitizer build), CHAPTER and
 * PG_CONN (the lab) set, from the repository root, when Chromium and Node.js are installed. The
 * group setup starts the program on a fresh database (e2e_run_group(), tests/support/e2e.h);
 * the first test runs Node's test runner on console.test.mjs with CONSOLE_URL pointing at the
 * program's web port and expects it to pass (its own results, one line per browser test, are in
 * this test's log); the last one stops the program and expects a clean exit (no leak, no crash).
 *
 * Environment: NODE (default "node"), BROWSER_TESTS (default "tests/browser"), CHROMIUM and
 * SCREENSHOT_DIR are passed on to the script (console.test.mjs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "e2e.h"

static e2e_app *app;

static void console_tests_pass_in_chromium(void **state)
{
    (void)state;
    const char *node = getenv("NODE") ? getenv("NODE") : "node";
    const char *dir = getenv("BROWSER_TESTS") ? getenv("BROWSER_TESTS") : "tests/browser";
    char url[64], script[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", e2e_app_web_port(app));
    snprintf(script, sizeof script, "%s/console.test.mjs", dir);
    fprintf(stderr, "browser tests: %s --test %s against %s\n", node, script, url);
    fflush(NULL);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("CONSOLE_URL", url, 1);
        dup2(STDERR_FILENO, STDOUT_FILENO); /* one stream in the log, in order */
        execlp(node, node, "--test", "--test-reporter=tap", script, (char *)NULL);
        fprintf(stderr, "browser tests: cannot run %s\n", node);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        e2e_app_dump_log(app, 40);
        fail_msg("the browser tests failed (exit status %d): their TAP output is above",
                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(console_tests_pass_in_chromium),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    return e2e_run_group("browser", &app, tests);
}
