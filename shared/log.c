/* log.c -- see log.h. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static atomic_int min_level = LOG_LEVEL_INFO;
static _Thread_local char request_id[LOG_REQUEST_ID_MAX + 1];

static const char *const level_names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

void log_init(log_level level)
{
    atomic_store(&min_level, (int)level);
}

bool log_level_parse(const char *text, log_level *out)
{
    static const struct {
        const char *name;
        log_level level;
    } names[] = {{"DEBUG", LOG_LEVEL_DEBUG}, {"INFO", LOG_LEVEL_INFO}, {"WARN", LOG_LEVEL_WARN},
                 {"WARNING", LOG_LEVEL_WARN}, {"ERROR", LOG_LEVEL_ERROR}};
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
    if ((int)level < atomic_load(&min_level))
        return;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
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
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
