/* caches.c -- the baskets module's copies of the stores' data (chapter 07; the book's
 * baskets/internal/postgres/store_cache_repository.go and product_cache_repository.go). See
 * adapters.h for the rules: a read that misses asks stores and keeps the answer; every write is
 * an idempotent upsert ordered by the stream sequence.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "baskets/adapters.h"
#include "log.h"

#define COMP "baskets"

/* ---- read, with the fallback ----------------------------------------------------------------- */

static core_status get_store(void *self, const char *id, struct baskets_store *out, core_err *err)
{
    struct baskets_caches *c = self;
    const char *p[] = {id};
    PGresult *res = NULL;
    core_status st =
        pg_run(c->db, "SELECT name FROM baskets.stores_cache WHERE id = $1", 1, p, &res, err);
    if (st)
        return st;
    if (PQntuples(res) == 1) {
        out->id = core_strdup(id);
        out->name = core_strdup(pg_get(res, 0, 0));
        out->location = core_strdup("");
        PQclear(res);
        if (!out->id || !out->name || !out->location) {
            baskets_store_release(out);
            return core_err_nomem(err);
        }
        return CORE_OK;
    }
    PQclear(res);
    log_info(COMP, "stores cache miss store=%s: asking stores", id);
    if ((st = c->fallback.get_store(c->fallback.self, id, out, err)))
        return st;
    const char *row[] = {out->id, out->name};
    core_err werr = CORE_ERR_INIT;
    if (pg_run(c->db,
               "INSERT INTO baskets.stores_cache (id, name) VALUES ($1, $2) "
               "ON CONFLICT (id) DO NOTHING",
               2, row, NULL, &werr))
        log_warn(COMP, "store %s not kept in the cache: %s", id, werr.msg);
    return CORE_OK;
}

static core_status get_product(void *self, const char *id, struct baskets_product *out,
                               core_err *err)
{
    struct baskets_caches *c = self;
    const char *p[] = {id};
    PGresult *res = NULL;
    core_status st = pg_run(c->db,
                            "SELECT store_id, name, price::text FROM baskets.products_cache "
                            "WHERE id = $1",
                            1, p, &res, err);
    if (st)
        return st;
    if (PQntuples(res) == 1) {
        out->id = core_strdup(id);
        out->store_id = core_strdup(pg_get(res, 0, 0));
        out->name = core_strdup(pg_get(res, 0, 1));
        out->price = strtod(pg_get(res, 0, 2), NULL);
        PQclear(res);
        if (!out->id || !out->store_id || !out->name) {
            baskets_product_release(out);
            return core_err_nomem(err);
        }
        return CORE_OK;
    }
    PQclear(res);
    log_info(COMP, "products cache miss product=%s: asking stores", id);
    if ((st = c->fallback.get_product(c->fallback.self, id, out, err)))
        return st;
    char price[64];
    snprintf(price, sizeof price, "%.4f", out->price);
    const char *row[] = {out->id, out->store_id, out->name, price};
    core_err werr = CORE_ERR_INIT;
    if (pg_run(c->db,
               "INSERT INTO baskets.products_cache (id, store_id, name, price) "
               "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
               4, row, NULL, &werr))
        log_warn(COMP, "product %s not kept in the cache: %s", id, werr.msg);
    return CORE_OK;
}

void baskets__cached_stores(struct baskets_stores_port *out, struct baskets_caches *c)
{
    out->self = c;
    out->get_store = get_store;
    out->get_product = get_product;
}

/* ---- writes from the handlers ---------------------------------------------------------------- */

#define SEQ_TEXT(buf, seq) snprintf((buf), sizeof(buf), "%" PRIu64, (seq))

static core_status store_add(void *self, const char *id, const char *name, uint64_t seq,
                             core_err *err)
{
    struct baskets_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, name, s};
    return pg_run(c->db,
                  "INSERT INTO baskets.stores_cache (id, name, seq) VALUES ($1, $2, $3) "
                  "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, seq = EXCLUDED.seq "
                  "WHERE baskets.stores_cache.seq < EXCLUDED.seq",
                  3, p, NULL, err);
}

static core_status store_rename(void *self, const char *id, const char *name, uint64_t seq,
                                core_err *err)
{
    struct baskets_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, name, s};
    return pg_run(c->db,
                  "UPDATE baskets.stores_cache SET name = $2, seq = $3 WHERE id = $1 AND seq < $3",
                  3, p, NULL, err);
}

static core_status product_add(void *self, const struct baskets_product *row, uint64_t seq,
                               core_err *err)
{
    struct baskets_caches *c = self;
    char s[24], price[64];
    SEQ_TEXT(s, seq);
    snprintf(price, sizeof price, "%.4f", row->price);
    const char *p[] = {row->id, row->store_id, row->name, price, s};
    return pg_run(c->db,
                  "INSERT INTO baskets.products_cache (id, store_id, name, price, seq) "
                  "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET "
                  "store_id = EXCLUDED.store_id, name = EXCLUDED.name, price = EXCLUDED.price, "
                  "seq = EXCLUDED.seq WHERE baskets.products_cache.seq < EXCLUDED.seq",
                  5, p, NULL, err);
}

static core_status product_rebrand(void *self, const char *id, const char *name, uint64_t seq,
                                   core_err *err)
{
    struct baskets_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, name, s};
    return pg_run(c->db,
                  "UPDATE baskets.products_cache SET name = $2, seq = $3 "
                  "WHERE id = $1 AND seq < $3",
                  3, p, NULL, err);
}

static core_status product_set_price(void *self, const char *id, double price, uint64_t seq,
                                     core_err *err)
{
    struct baskets_caches *c = self;
    char s[24], pr[64];
    SEQ_TEXT(s, seq);
    snprintf(pr, sizeof pr, "%.4f", price);
    const char *p[] = {id, pr, s};
    return pg_run(c->db,
                  "UPDATE baskets.products_cache SET price = $2, seq = $3 "
                  "WHERE id = $1 AND seq < $3",
                  3, p, NULL, err);
}

static core_status product_remove(void *self, const char *id, uint64_t seq, core_err *err)
{
    struct baskets_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, s};
    return pg_run(c->db, "DELETE FROM baskets.products_cache WHERE id = $1 AND seq < $2", 2, p,
                  NULL, err);
}

void baskets__cache_writers(struct baskets_cache_handlers *out, struct baskets_caches *c)
{
    out->stores.self = c;
    out->stores.add = store_add;
    out->stores.rename = store_rename;
    out->products.self = c;
    out->products.add = product_add;
    out->products.rebrand = product_rebrand;
    out->products.set_price = product_set_price;
    out->products.remove = product_remove;
}
