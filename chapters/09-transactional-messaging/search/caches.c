/* search/caches.c -- the search module's copies of the names it shows (chapter 07; the book's
 * search/internal/postgres/customer_cache_repository.go, store_cache_repository.go and
 * product_cache_repository.go). See search/adapters.h: a read that misses asks the owner and
 * keeps the answer; every write is an idempotent upsert ordered by the stream sequence.
 */
#include <inttypes.h>
#include <stdio.h>

#include "log.h"
#include "search/adapters.h"

#define COMP "search"

/* On the unit's transaction when c has one (chapter 09), else on the pool. */
static core_status run(struct search_pg_caches *c, const char *sql, int n,
                       const char *const *params, PGresult **res, core_err *err)
{
    return c->tx ? pg_exec(c->tx, sql, n, params, res, err)
                 : pg_run(c->db, sql, n, params, res, err);
}

/* ---- read, with the fallback ----------------------------------------------------------------- */

/* Copies column col of res's only row into the caller's *out; CORE_ERR_NOMEM. */
static core_status copy_col(char **out, PGresult *res, int col, core_err *err)
{
    if (!(*out = core_strdup(pg_get(res, 0, col))))
        return core_err_nomem(err);
    return CORE_OK;
}

/* Keeps a row the fallback answered; a failure is logged, not returned. */
static void keep(struct search_pg_caches *c, const char *what, const char *id, const char *sql,
                 int n, const char *const *row)
{
    core_err werr = CORE_ERR_INIT;
    if (run(c, sql, n, row, NULL, &werr))
        log_warn(COMP, "%s %s not kept in the cache: %s", what, id, werr.msg);
}

static core_status get_customer(void *self, const char *id, char **name, core_err *err)
{
    struct search_pg_caches *c = self;
    const char *p[] = {id};
    PGresult *res = NULL;
    core_status st =
        run(c, "SELECT name FROM search.customers_cache WHERE id = $1", 1, p, &res, err);
    if (st)
        return st;
    if (PQntuples(res) == 1) {
        st = copy_col(name, res, 0, err);
        PQclear(res);
        return st;
    }
    PQclear(res);
    log_info(COMP, "customers cache miss customer=%s: asking customers", id);
    if ((st = c->fallback.get_customer(c->fallback.self, id, name, err)))
        return st;
    const char *row[] = {id, *name};
    keep(c, "customer", id,
         "INSERT INTO search.customers_cache (id, name) VALUES ($1, $2) "
         "ON CONFLICT (id) DO NOTHING",
         2, row);
    return CORE_OK;
}

static core_status get_store(void *self, const char *id, char **name, core_err *err)
{
    struct search_pg_caches *c = self;
    const char *p[] = {id};
    PGresult *res = NULL;
    core_status st = run(c, "SELECT name FROM search.stores_cache WHERE id = $1", 1, p, &res, err);
    if (st)
        return st;
    if (PQntuples(res) == 1) {
        st = copy_col(name, res, 0, err);
        PQclear(res);
        return st;
    }
    PQclear(res);
    log_info(COMP, "stores cache miss store=%s: asking stores", id);
    if ((st = c->fallback.get_store(c->fallback.self, id, name, err)))
        return st;
    const char *row[] = {id, *name};
    keep(c, "store", id,
         "INSERT INTO search.stores_cache (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
         2, row);
    return CORE_OK;
}

static core_status get_product(void *self, const char *id, char **name, char **store_id,
                               core_err *err)
{
    struct search_pg_caches *c = self;
    const char *p[] = {id};
    PGresult *res = NULL;
    core_status st =
        run(c, "SELECT name, store_id FROM search.products_cache WHERE id = $1", 1, p, &res, err);
    if (st)
        return st;
    if (PQntuples(res) == 1) {
        if (!(st = copy_col(name, res, 0, err)) && (st = copy_col(store_id, res, 1, err))) {
            core_free(*name);
            *name = NULL;
        }
        PQclear(res);
        return st;
    }
    PQclear(res);
    log_info(COMP, "products cache miss product=%s: asking stores", id);
    if ((st = c->fallback.get_product(c->fallback.self, id, name, store_id, err)))
        return st;
    const char *row[] = {id, *store_id, *name};
    keep(c, "product", id,
         "INSERT INTO search.products_cache (id, store_id, name) VALUES ($1, $2, $3) "
         "ON CONFLICT (id) DO NOTHING",
         3, row);
    return CORE_OK;
}

void search__cached_names(struct search_caches *out, struct search_pg_caches *c)
{
    out->self = c;
    out->get_customer = get_customer;
    out->get_store = get_store;
    out->get_product = get_product;
}

/* ---- writes from the handlers ---------------------------------------------------------------- */

#define SEQ_TEXT(buf, seq) snprintf((buf), sizeof(buf), "%" PRIu64, (seq))

static core_status customer_add(void *self, const char *id, const char *name, uint64_t seq,
                                core_err *err)
{
    struct search_pg_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, name, s};
    return run(c,
               "INSERT INTO search.customers_cache (id, name, seq) VALUES ($1, $2, $3) "
               "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, seq = EXCLUDED.seq "
               "WHERE search.customers_cache.seq < EXCLUDED.seq",
               3, p, NULL, err);
}

static core_status store_add(void *self, const char *id, const char *name, uint64_t seq,
                             core_err *err)
{
    struct search_pg_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, name, s};
    return run(c,
               "INSERT INTO search.stores_cache (id, name, seq) VALUES ($1, $2, $3) "
               "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, seq = EXCLUDED.seq "
               "WHERE search.stores_cache.seq < EXCLUDED.seq",
               3, p, NULL, err);
}

static core_status store_rename(void *self, const char *id, const char *name, uint64_t seq,
                                core_err *err)
{
    struct search_pg_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, name, s};
    return run(c, "UPDATE search.stores_cache SET name = $2, seq = $3 WHERE id = $1 AND seq < $3",
               3, p, NULL, err);
}

static core_status product_add(void *self, const char *id, const char *store_id, const char *name,
                               uint64_t seq, core_err *err)
{
    struct search_pg_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, store_id, name, s};
    return run(c,
               "INSERT INTO search.products_cache (id, store_id, name, seq) "
               "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET "
               "store_id = EXCLUDED.store_id, name = EXCLUDED.name, seq = EXCLUDED.seq "
               "WHERE search.products_cache.seq < EXCLUDED.seq",
               4, p, NULL, err);
}

static core_status product_rebrand(void *self, const char *id, const char *name, uint64_t seq,
                                   core_err *err)
{
    struct search_pg_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, name, s};
    return run(c, "UPDATE search.products_cache SET name = $2, seq = $3 WHERE id = $1 AND seq < $3",
               3, p, NULL, err);
}

static core_status product_remove(void *self, const char *id, uint64_t seq, core_err *err)
{
    struct search_pg_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, s};
    return run(c, "DELETE FROM search.products_cache WHERE id = $1 AND seq < $2", 2, p, NULL, err);
}

void search__cache_writers(struct search_cache_handlers *out, struct search_pg_caches *c)
{
    out->customers.self = c;
    out->customers.add = customer_add;
    out->stores.self = c;
    out->stores.add = store_add;
    out->stores.rename = store_rename;
    out->products.self = c;
    out->products.add = product_add;
    out->products.rebrand = product_rebrand;
    out->products.remove = product_remove;
}
