/* log.c -- see log.h. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static atomic_int min_level = LOG_LEVEL_INFO;
static _Thread_local char request_id[LOG_REQUEST_ID_MAX + 1];

static _Atomic(log_sink_fn) sink;
static void *_Atomic sink_ud;

static const char *const level_names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

void log_init(log_level level)
{
    atomic_store(&min_level, (int)level);
}

bool log_enabled(log_level level)
{
    return (int)level >= atomic_load(&min_level);
}

void log_sink_set(log_sink_fn fn, void *ud)
{
    atomic_store(&sink_ud, ud); /* atomics: no data race, but see log.h: set while no thread logs */
    atomic_store(&sink, fn);
}

const char *log_quote(char *buf, size_t size, const char *text)
{
    if (size < 3) {
        if (size)
            buf[0] = '\0';
        return buf;
    }
    size_t n = 0;
    buf[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        char esc[8];
        size_t len = 2;
        esc[0] = '\\';
        if (*p == '"' || *p == '\\')
            esc[1] = (char)*p;
        else if (*p == '\n')
            esc[1] = 'n';
        else if (*p == '\r')
            esc[1] = 'r';
        else if (*p == '\t')
            esc[1] = 't';
        else if (*p < 0x20 || *p == 0x7f)
            len = (size_t)snprintf(esc, sizeof esc, "\\x%02x", *p);
        else {
            esc[0] = (char)*p;
            len = 1;
        }
        if (n + len + 2 > size) /* the closing quote and the NUL must fit */
            break;
        memcpy(buf + n, esc, len);
        n += len;
    }
    buf[n++] = '"';
    buf[n] = '\0';
    return buf;
}

bool log_level_parse(const char *text, log_level *out)
{
    static const struct {
        const char *name;
        log_level level;
    } names[] = {{"DEBUG", LOG_LEVEL_DEBUG},
                 {"INFO", LOG_LEVEL_INFO},
                 {"WARN", LOG_LEVEL_WARN},
                 {"WARNING", LOG_LEVEL_WARN},
                 {"ERROR", LOG_LEVEL_ERROR}};
    for (size_t i = 0; text && i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(text, names[i].name) == 0) {
            *out = names[i].level;
            return true;
        }
    }
    return false;
}

void log_request_id_set(const char *id)
{
    core_strlcpy(request_id, id ? id : "", sizeof request_id);
}

const char *log_request_id(void)
{
    return request_id[0] ? request_id : NULL;
}

void log_write(log_level level, const char *component, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line,
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(tv.tv_usec / 1000), level_names[level], component);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n >= 0 && request_id[0] && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, " req=%s", request_id);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line - 1)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    log_sink_fn fn = atomic_load(&sink);
    if (fn) {
        fn(atomic_load(&sink_ud), line, (size_t)n);
        return;
    }
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void log_call_enter(struct log_call *c, const char *fmt, ...)
{
    c->on = log_enabled(LOG_LEVEL_DEBUG);
    if (!c->on)
        return;
    char text[sizeof c->name + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    size_t len = strcspn(text, " ");
    snprintf(c->name, sizeof c->name, "%.*s", (int)len, text);
    snprintf(c->comp, sizeof c->comp, "%.*s", (int)strcspn(c->name, "."), c->name);
    if (c->name[0] >= 'a' && c->name[0] <= 'z')
        c->name[0] = (char)(c->name[0] - 'a' + 'A');
    log_write(LOG_LEVEL_DEBUG, c->comp, "--> %s%s", c->name, text + len);
    c->start_ms = now_ms();
}

core_status log_call_leave(const struct log_call *c, core_status st, const core_err *err)
{
    if (!c->on)
        return st;
    double took = now_ms() - c->start_ms;
    if (st == CORE_OK) {
        log_write(LOG_LEVEL_DEBUG, c->comp, "<-- %s took=%.3fms", c->name, took);
        return st;
    }
    char quoted[LOG_QUOTED_SIZE(CORE_ERR_MSG_MAX)];
    const char *msg = err && err->status == st ? err->msg : core_status_text(st);
    log_write(LOG_LEVEL_DEBUG, c->comp, "<-- %s status=%s error=%s took=%.3fms", c->name,
              core_status_name(st), log_quote(quoted, sizeof quoted, msg), took);
    return st;
}
