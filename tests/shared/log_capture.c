/* log_capture.c -- see log_capture.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "log_capture.h"

/* "took=12.345ms" at p (len bytes left): the length of the value "12.345ms", or 0 if it is not
 * one. */
static size_t took_value(const char *p, size_t len)
{
    size_t i = 0;
    while (i < len && isdigit((unsigned char)p[i]))
        i++;
    if (i == 0 || i + 6 > len || p[i] != '.' || !isdigit((unsigned char)p[i + 1]) ||
        !isdigit((unsigned char)p[i + 2]) || !isdigit((unsigned char)p[i + 3]) ||
        memcmp(p + i + 4, "ms", 2) != 0)
        return 0;
    return i + 6;
}

static void sink(void *ud, const char *line, size_t len)
{
    struct log_capture *c = ud;
    const char *space = memchr(line, ' ', len); /* after the time stamp */
    if (space) {
        len -= (size_t)(space + 1 - line);
        line = space + 1;
    }
    char rec[4096];
    size_t n = 0;
    for (size_t i = 0; i < len && n + 8 < sizeof rec;) {
        size_t v;
        if (len - i > 5 && memcmp(line + i, "took=", 5) == 0 &&
            (v = took_value(line + i + 5, len - i - 5))) {
            memcpy(rec + n, "took=Nms", 8);
            n += 8;
            i += 5 + v;
        } else {
            rec[n++] = line[i++];
        }
    }
    pthread_mutex_lock(&c->mu);
    if (c->len + n < sizeof c->text) {
        memcpy(c->text + c->len, rec, n);
        c->len += n;
        c->text[c->len] = '\0';
    }
    pthread_mutex_unlock(&c->mu);
}

void log_capture_start(struct log_capture *c, log_level level)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    log_init(level);
    log_sink_set(sink, c);
}

const char *log_capture_take(struct log_capture *c, char *buf, size_t size)
{
    pthread_mutex_lock(&c->mu);
    snprintf(buf, size, "%.*s", (int)c->len, c->text);
    c->len = 0;
    pthread_mutex_unlock(&c->mu);
    return buf;
}

void log_capture_stop(struct log_capture *c, log_level restore)
{
    log_sink_set(NULL, NULL);
    log_init(restore);
    pthread_mutex_destroy(&c->mu);
}
