/* depot/caches.c -- the depot's copies of the stores' data (chapter 07; the book's
 * depot/internal/postgres/store_cache_repository.go and product_cache_repository.go). See
 * adapters.h: a read that misses asks stores and keeps the answer; every write is an idempotent
 * upsert ordered by the stream sequence.
 */
#include <inttypes.h>
#include <stdio.h>

#include "depot/adapters.h"
#include "log.h"

#define COMP "depot"

/* ---- read, with the fallback ----------------------------------------------------------------- */

static core_status get_store(void *self, const char *id, struct depot_store *out, core_err *err)
{
    struct depot_caches *c = self;
    const char *p[] = {id};
    PGresult *res = NULL;
    core_status st = pg_run(c->db, "SELECT name, location FROM depot.stores_cache WHERE id = $1", 1,
                            p, &res, err);
    if (st)
        return st;
    if (PQntuples(res) == 1) {
        out->id = core_strdup(id);
        out->name = core_strdup(pg_get(res, 0, 0));
        out->location = core_strdup(pg_get(res, 0, 1));
        PQclear(res);
        if (!out->id || !out->name || !out->location) {
            depot_store_release(out);
            return core_err_nomem(err);
        }
        return CORE_OK;
    }
    PQclear(res);
    log_info(COMP, "stores cache miss store=%s: asking stores", id);
    if ((st = c->fallback.get_store(c->fallback.self, id, out, err)))
        return st;
    const char *row[] = {out->id, out->name, out->location};
    core_err werr = CORE_ERR_INIT;
    if (pg_run(c->db,
               "INSERT INTO depot.stores_cache (id, name, location) VALUES ($1, $2, $3) "
               "ON CONFLICT (id) DO NOTHING",
               3, row, NULL, &werr))
        log_warn(COMP, "store %s not kept in the cache: %s", id, werr.msg);
    return CORE_OK;
}

static core_status get_product(void *self, const char *id, struct depot_product *out, core_err *err)
{
    struct depot_caches *c = self;
    const char *p[] = {id};
    PGresult *res = NULL;
    core_status st = pg_run(c->db, "SELECT store_id, name FROM depot.products_cache WHERE id = $1",
                            1, p, &res, err);
    if (st)
        return st;
    if (PQntuples(res) == 1) {
        out->id = core_strdup(id);
        out->store_id = core_strdup(pg_get(res, 0, 0));
        out->name = core_strdup(pg_get(res, 0, 1));
        PQclear(res);
        if (!out->id || !out->store_id || !out->name) {
            depot_product_release(out);
            return core_err_nomem(err);
        }
        return CORE_OK;
    }
    PQclear(res);
    log_info(COMP, "products cache miss product=%s: asking stores", id);
    if ((st = c->fallback.get_product(c->fallback.self, id, out, err)))
        return st;
    const char *row[] = {out->id, out->store_id, out->name};
    core_err werr = CORE_ERR_INIT;
    if (pg_run(c->db,
               "INSERT INTO depot.products_cache (id, store_id, name) VALUES ($1, $2, $3) "
               "ON CONFLICT (id) DO NOTHING",
               3, row, NULL, &werr))
        log_warn(COMP, "product %s not kept in the cache: %s", id, werr.msg);
    return CORE_OK;
}

void depot_cached_stores(struct depot_stores_port *out, struct depot_caches *c)
{
    out->self = c;
    out->get_store = get_store;
    out->get_product = get_product;
}

/* ---- writes from the handlers ---------------------------------------------------------------- */

#define SEQ_TEXT(buf, seq) snprintf((buf), sizeof(buf), "%" PRIu64, (seq))

static core_status store_add(void *self, const char *id, const char *name, const char *location,
                             uint64_t seq, core_err *err)
{
    struct depot_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, name, location, s};
    return pg_run(c->db,
                  "INSERT INTO depot.stores_cache (id, name, location, seq) "
                  "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, "
                  "location = EXCLUDED.location, seq = EXCLUDED.seq "
                  "WHERE depot.stores_cache.seq < EXCLUDED.seq",
                  4, p, NULL, err);
}

static core_status store_rename(void *self, const char *id, const char *name, uint64_t seq,
                                core_err *err)
{
    struct depot_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, name, s};
    return pg_run(c->db,
                  "UPDATE depot.stores_cache SET name = $2, seq = $3 WHERE id = $1 AND seq < $3", 3,
                  p, NULL, err);
}

static core_status product_add(void *self, const char *id, const char *store_id, const char *name,
                               uint64_t seq, core_err *err)
{
    struct depot_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, store_id, name, s};
    return pg_run(c->db,
                  "INSERT INTO depot.products_cache (id, store_id, name, seq) "
                  "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET "
                  "store_id = EXCLUDED.store_id, name = EXCLUDED.name, seq = EXCLUDED.seq "
                  "WHERE depot.products_cache.seq < EXCLUDED.seq",
                  4, p, NULL, err);
}

static core_status product_rebrand(void *self, const char *id, const char *name, uint64_t seq,
                                   core_err *err)
{
    struct depot_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, name, s};
    return pg_run(c->db,
                  "UPDATE depot.products_cache SET name = $2, seq = $3 WHERE id = $1 AND seq < $3",
                  3, p, NULL, err);
}

static core_status product_remove(void *self, const char *id, uint64_t seq, core_err *err)
{
    struct depot_caches *c = self;
    char s[24];
    SEQ_TEXT(s, seq);
    const char *p[] = {id, s};
    return pg_run(c->db, "DELETE FROM depot.products_cache WHERE id = $1 AND seq < $2", 2, p, NULL,
                  err);
}

void depot_cache_writers(struct depot_cache_handlers *out, struct depot_caches *c)
{
    out->stores.self = c;
    out->stores.add = store_add;
    out->stores.rename = store_rename;
    out->products.self = c;
    out->products.add = product_add;
    out->products.rebrand = product_rebrand;
    out->products.remove = product_remove;
}
