/* fuzz_cfg.c -- libFuzzer harness: configuration values from the environment (cfg.c).
 *
 * The input is up to ten lines; line i becomes the value of the i-th variable cfg_load() reads
 * (ENVIRONMENT, LOG_LEVEL, PG_CONN, NATS_URL, NATS_STREAM, WEB_HOST, WEB_PORT, RPC_HOST, RPC_PORT,
 * SHUTDOWN_TIMEOUT; a missing line unsets it), and every line is also given to cfg_parse_port()
 * and cfg_parse_duration_ms() directly.
 *
 * Properties: a port that parses is 1..65535 and its text ends in a digit (strtol() also skips
 * leading blanks and a '+': tolerated); a duration that parses is 0..INT_MAX ms and its text is
 * decimal digits (and '.') followed by "", "s", "ms", "m" or "h"; a failure is CORE_ERR_INVALID
 * with a message and writes nothing; cfg_load() either fills every field (ports in range,
 * timeout >= 0, strings NUL-terminated) or fails naming a variable.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "core.h"

#define FUZZ_NAME "fuzz_cfg"
#include "fuzz_common.h"

static const char *const VARS[] = {"ENVIRONMENT", "LOG_LEVEL",       "PG_CONN",  "NATS_URL",
                                   "NATS_STREAM", "WEB_HOST",        "WEB_PORT", "RPC_HOST",
                                   "RPC_PORT",    "SHUTDOWN_TIMEOUT"};
#define NVARS (sizeof VARS / sizeof VARS[0])

static void check_line(const char *line)
{
    core_err err = CORE_ERR_INIT;
    int port = -1, ms = -1;
    core_status st = cfg_parse_port(line, &port, &err);
    if (st == CORE_OK) {
        CHECK(port >= 1 && port <= 65535, "port %d from \"%s\"", port, line);
        CHECK(strlen(line) > 0 && line[strlen(line) - 1] >= '0' && line[strlen(line) - 1] <= '9',
              "port text \"%s\" does not end in a digit", line);
    } else {
        CHECK(st == CORE_ERR_INVALID && err.status == st && err.msg[0], "port \"%s\": status %d",
              line, (int)st);
        CHECK(port == -1, "a failed parse wrote the port");
    }
    core_err_clear(&err);
    st = cfg_parse_duration_ms(line, &ms, &err);
    if (st == CORE_OK) {
        CHECK(ms >= 0, "duration %d ms from \"%s\"", ms, line);
        const char *unit = line + strspn(line, "0123456789.");
        CHECK(unit > line && (!*unit || !strcmp(unit, "s") || !strcmp(unit, "ms") ||
                              !strcmp(unit, "m") || !strcmp(unit, "h")),
              "duration text \"%s\" is not decimal digits and a unit", line);
    } else {
        CHECK(st == CORE_ERR_INVALID && err.status == st && err.msg[0],
              "duration \"%s\": status %d", line, (int)st);
        CHECK(ms == -1, "a failed parse wrote the duration");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *lines[NVARS] = {0};
    size_t nlines = 0;
    long live = core_alloc_live();
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *p = text;
    while (nlines < NVARS && p) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        lines[nlines++] = p;
        p = nl ? nl + 1 : NULL;
    }
    for (size_t i = 0; i < NVARS; i++) {
        if (i < nlines) {
            setenv(VARS[i], lines[i], 1);
            check_line(lines[i]);
        } else {
            unsetenv(VARS[i]);
        }
    }

    struct cfg_app app;
    core_err err = CORE_ERR_INIT;
    core_status st = cfg_load(&app, &err);
    if (st == CORE_OK) {
        CHECK(app.web_port >= 1 && app.web_port <= 65535 && app.rpc_port >= 1 &&
                  app.rpc_port <= 65535,
              "ports %d %d", app.web_port, app.rpc_port);
        CHECK(app.shutdown_timeout_ms >= 0, "timeout %d", app.shutdown_timeout_ms);
        CHECK(memchr(app.environment, 0, sizeof app.environment) &&
                  memchr(app.pg_conn, 0, sizeof app.pg_conn) &&
                  memchr(app.nats_url, 0, sizeof app.nats_url) &&
                  memchr(app.nats_stream, 0, sizeof app.nats_stream) &&
                  memchr(app.web_host, 0, sizeof app.web_host) &&
                  memchr(app.rpc_host, 0, sizeof app.rpc_host),
              "a string field is not terminated");
        CHECK(app.log_level >= LOG_LEVEL_DEBUG && app.log_level <= LOG_LEVEL_ERROR, "log level %d",
              (int)app.log_level);
    } else {
        bool named = false;
        for (size_t i = 0; i < NVARS; i++)
            named = named || strncmp(err.msg, VARS[i], strlen(VARS[i])) == 0;
        CHECK(st == CORE_ERR_INVALID && named, "cfg_load: status %d, message \"%s\"", (int)st,
              err.msg);
    }
    free(text);
    CHECK(core_alloc_live() == live, "%ld allocation(s) leaked", core_alloc_live() - live);
    return 0;
}
