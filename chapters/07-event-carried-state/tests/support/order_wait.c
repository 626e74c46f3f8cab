/* order_wait.c -- see order_wait.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "order_wait.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_50ms(void)
{
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
}

json_t *order_wait(e2e_app *app, const char *id, const char *status, bool with_invoice)
{
    long long deadline = now_ms() + ORDER_WAIT_MS;
    char last[256] = "no answer";
    for (;;) {
        int code = 0;
        json_t *j = e2e_call(app, "GET", e2e_fmt("/api/ordering/%s", id).s, NULL, &code);
        const char *st = code == 200 ? e2e_json_str(j, "order.status") : NULL;
        const char *inv = code == 200 ? e2e_json_str(j, "order.invoiceId") : NULL;
        if (st && strcmp(st, status) == 0 && (!with_invoice || (inv && *inv)))
            return j;
        snprintf(last, sizeof last, "HTTP %d status=%s invoiceId=%s", code, st ? st : "-",
                 inv ? inv : "-");
        json_decref(j);
        if (now_ms() > deadline)
            break;
        pause_50ms();
    }
    fprintf(stderr, "order %s did not become %s%s within %d ms: last seen %s\n", id, status,
            with_invoice ? " with an invoice" : "", ORDER_WAIT_MS, last);
    return NULL;
}

bool order_wait_sql(e2e_app *app, const char *want, const char *sql, const char *param)
{
    long long deadline = now_ms() + ORDER_WAIT_MS;
    const char *params[] = {param};
    char last[256] = "";
    for (;;) {
        char *v = e2e_sql_value(app, sql, param ? 1 : 0, params);
        bool same = v && strcmp(v, want) == 0;
        snprintf(last, sizeof last, "%s", v ? v : "(none)");
        core_free(v);
        if (same)
            return true;
        if (now_ms() > deadline)
            break;
        pause_50ms();
    }
    fprintf(stderr, "\"%s\" did not become \"%s\" within %d ms: last seen \"%s\"\n", sql, want,
            ORDER_WAIT_MS, last);
    return false;
}
