/* cfg.c -- see cfg.h. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

core_status cfg_parse_port(const char *text, int *out_port, core_err *err)
{
    const char *p = text && text[0] == ':' ? text + 1 : text;
    char *end = NULL;
    errno = 0;
    long v = p && *p ? strtol(p, &end, 10) : -1;
    if (!p || !*p || errno || *end || v < 1 || v > 65535)
        return core_err_set(err, CORE_ERR_INVALID, "\"%s\" is not a port number (1-65535)",
                            text ? text : "");
    *out_port = (int)v;
    return CORE_OK;
}

core_status cfg_parse_duration_ms(const char *text, int *out_ms, core_err *err)
{
    char *end = NULL;
    errno = 0;
    double v = text && *text && !isspace((unsigned char)*text) ? strtod(text, &end) : -1;
    double scale = 0;
    /* decimal digits and '.' only: strtod() would also take hex ("0x10"), exponents and signs */
    if (text && end && end != text && !errno && v >= 0 &&
        (size_t)(end - text) == strspn(text, "0123456789.")) {
        if (*end == '\0' || strcmp(end, "s") == 0)
            scale = 1000;
        else if (strcmp(end, "ms") == 0)
            scale = 1;
        else if (strcmp(end, "m") == 0)
            scale = 60000;
        else if (strcmp(end, "h") == 0)
            scale = 3600000;
    }
    if (scale == 0 || v * scale > INT_MAX)
        return core_err_set(err, CORE_ERR_INVALID,
                            "\"%s\" is not a duration (examples: 30s, 500ms, 2m)",
                            text ? text : "");
    *out_ms = (int)(v * scale);
    return CORE_OK;
}

/* A thread count from the environment variable name, CFG_DEFAULT_THREADS when it is unset. */
static core_status threads_var(const char *name, int *out, core_err *err)
{
    const char *v = getenv(name);
    *out = CFG_DEFAULT_THREADS;
    if (!v || !*v)
        return CORE_OK;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || !isdigit((unsigned char)*v) || n < CFG_MIN_THREADS || n > CFG_MAX_THREADS)
        return core_err_set(err, CORE_ERR_INVALID, "%s: \"%s\" is not a thread count (%d-%d)", name,
                            v, CFG_MIN_THREADS, CFG_MAX_THREADS);
    *out = (int)n;
    return CORE_OK;
}

static core_status copy_var(const char *name, const char *def, char *dst, size_t size,
                            core_err *err)
{
    const char *v = getenv(name);
    if (!v || !*v)
        v = def;
    if (!core_strlcpy(dst, v, size))
        return core_err_set(err, CORE_ERR_INVALID, "%s: value longer than %zu bytes", name,
                            size - 1);
    return CORE_OK;
}

core_status cfg_load(struct cfg_app *out, core_err *err)
{
    core_status st = CORE_OK;
    const char *v;
    memset(out, 0, sizeof *out);

    if ((st = copy_var("ENVIRONMENT", "development", out->environment, sizeof out->environment,
                       err)) ||
        (st = copy_var("PG_CONN", CFG_DEFAULT_PG_CONN, out->pg_conn, sizeof out->pg_conn, err)) ||
        (st = copy_var("NATS_URL", CFG_DEFAULT_NATS_URL, out->nats_url, sizeof out->nats_url,
                       err)) ||
        (st =
             copy_var("NATS_STREAM", "mallbots", out->nats_stream, sizeof out->nats_stream, err)) ||
        (st = copy_var("WEB_HOST", "127.0.0.1", out->web_host, sizeof out->web_host, err)) ||
        (st = copy_var("RPC_HOST", "127.0.0.1", out->rpc_host, sizeof out->rpc_host, err)))
        return st;

    v = getenv("LOG_LEVEL");
    out->log_level = LOG_LEVEL_DEBUG;
    if (v && *v && !log_level_parse(v, &out->log_level))
        return core_err_set(err, CORE_ERR_INVALID,
                            "LOG_LEVEL: \"%s\" is not one of DEBUG, INFO, WARN, ERROR", v);

    v = getenv("WEB_PORT");
    out->web_port = 8080;
    if (v && *v && (st = cfg_parse_port(v, &out->web_port, err)))
        return core_err_wrap(err, "WEB_PORT");

    v = getenv("RPC_PORT");
    out->rpc_port = 8085;
    if (v && *v && (st = cfg_parse_port(v, &out->rpc_port, err)))
        return core_err_wrap(err, "RPC_PORT");

    v = getenv("SHUTDOWN_TIMEOUT");
    out->shutdown_timeout_ms = 30000;
    if (v && *v && (st = cfg_parse_duration_ms(v, &out->shutdown_timeout_ms, err)))
        return core_err_wrap(err, "SHUTDOWN_TIMEOUT");

    if ((st = threads_var("WEB_THREADS", &out->web_threads, err)) ||
        (st = threads_var("RPC_THREADS", &out->rpc_threads, err)))
        return st;
    return CORE_OK;
}
