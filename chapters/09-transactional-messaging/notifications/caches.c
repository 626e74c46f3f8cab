/* caches.c -- the notifications module's copy of the customers (chapter 07; the book's
 * notifications/internal/postgres/customer_cache_repository.go). See adapters.h: a read that
 * misses asks customers and keeps the answer; every write is an idempotent upsert ordered by the
 * stream sequence.
 */
#include <inttypes.h>
#include <stdio.h>

#include "log.h"
#include "notifications/adapters.h"

#define COMP "notifications"

/* On the unit's transaction when c has one (chapter 09), else on the pool. */
static core_status run(struct notifications_caches *c, const char *sql, int n,
                       const char *const *params, PGresult **res, core_err *err)
{
    return c->tx ? pg_exec(c->tx, sql, n, params, res, err)
                 : pg_run(c->db, sql, n, params, res, err);
}

static core_status find(void *self, const char *customer_id, struct notifications_customer *out,
                        core_err *err)
{
    struct notifications_caches *c = self;
    const char *p[] = {customer_id};
    PGresult *res = NULL;
    core_status st =
        run(c, "SELECT name, sms_number FROM notifications.customers_cache WHERE id = $1", 1, p,
            &res, err);
    if (st)
        return st;
    if (PQntuples(res) == 1) {
        struct notifications_customer got = {core_strdup(pg_get(res, 0, 0)),
                                             core_strdup(pg_get(res, 0, 1))};
        PQclear(res);
        if (!got.name || !got.sms_number) {
            notifications_customer_release(&got);
            return core_err_nomem(err);
        }
        notifications_customer_release(out);
        *out = got;
        return CORE_OK;
    }
    PQclear(res);
    log_info(COMP, "customers cache miss customer=%s: asking customers", customer_id);
    if ((st = c->fallback.find(c->fallback.self, customer_id, out, err)))
        return st;
    const char *row[] = {customer_id, out->name, out->sms_number};
    core_err werr = CORE_ERR_INIT;
    if (run(c,
            "INSERT INTO notifications.customers_cache (id, name, sms_number) "
            "VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
            3, row, NULL, &werr))
        log_warn(COMP, "customer %s not kept in the cache: %s", customer_id, werr.msg);
    return CORE_OK;
}

void notifications__cached_customers(struct notifications_customers *out,
                                     struct notifications_caches *c)
{
    out->self = c;
    out->find = find;
}

static core_status add(void *self, const char *id, const char *name, const char *sms_number,
                       uint64_t seq, core_err *err)
{
    struct notifications_caches *c = self;
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, seq);
    const char *p[] = {id, name, sms_number, s};
    return run(c,
               "INSERT INTO notifications.customers_cache (id, name, sms_number, seq) "
               "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, "
               "sms_number = EXCLUDED.sms_number, seq = EXCLUDED.seq "
               "WHERE notifications.customers_cache.seq < EXCLUDED.seq",
               4, p, NULL, err);
}

static core_status change_sms(void *self, const char *id, const char *sms_number, uint64_t seq,
                              core_err *err)
{
    struct notifications_caches *c = self;
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, seq);
    const char *p[] = {id, sms_number, s};
    return run(c,
               "UPDATE notifications.customers_cache SET sms_number = $2, seq = $3 "
               "WHERE id = $1 AND seq < $3",
               3, p, NULL, err);
}

void notifications__cache_writers(struct notifications_customer_cache *out,
                                  struct notifications_caches *c)
{
    out->self = c;
    out->add = add;
    out->change_sms = change_sms;
}
