/* stores/postgres.c -- the stores module's repositories on PostgreSQL (see stores/adapters.h).
 *
 * Tables stores.stores and stores.products (migrations/007_stores.sql). Every value travels as a
 * query parameter. Prices are decimal(9,4): written as "%.4f" text, read back with strtod.
 * Listings are ordered by name, then id, so they are stable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stores/adapters.h"

/* Runs an UPDATE/DELETE; no row affected -> CORE_ERR_NOT_FOUND "<what> <id> not found". */
static core_status run_one(pg_pool *db, const char *sql, int nparams, const char *const *params,
                           const char *what, core_err *err)
{
    PGresult *res = NULL;
    core_status st = pg_run(db, sql, nparams, params, &res, err);
    if (!st && strtol(PQcmdTuples(res), NULL, 10) == 0)
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "%s %s not found", what, params[0]);
    PQclear(res);
    return st;
}

static bool is_true(const char *v)
{
    return v[0] == 't';
}

/* ---- stores ------------------------------------------------------------------------------- */

/* Appends the rows of res (id, name, location, participating) to out. */
static core_status stores_from_rows(const PGresult *res, struct stores_store_list *out,
                                    core_err *err)
{
    core_status st = CORE_OK;
    for (int i = 0, n = PQntuples(res); i < n && !st; i++) {
        struct stores_store s = STORES_STORE_INIT;
        st = stores_store_restore(&s, pg_get(res, i, 0), pg_get(res, i, 1), pg_get(res, i, 2),
                                  is_true(pg_get(res, i, 3)), err);
        if (!st)
            st = stores_store_list_add(out, &s, err);
        stores_store_release(&s);
    }
    return st;
}

static core_status store_save(void *self, const struct stores_store *store, core_err *err)
{
    const char *params[] = {store->id, store->name, store->location,
                            store->participating ? "true" : "false"};
    return pg_run(
        self,
        "INSERT INTO stores.stores (id, name, location, participating) VALUES ($1, $2, $3, $4)", 4,
        params, NULL, err);
}

static core_status store_update(void *self, const struct stores_store *store, core_err *err)
{
    const char *params[] = {store->id, store->name, store->location,
                            store->participating ? "true" : "false"};
    return run_one(
        self, "UPDATE stores.stores SET name = $2, location = $3, participating = $4 WHERE id = $1",
        4, params, "store", err);
}

static core_status store_find(void *self, const char *id, struct stores_store *out, core_err *err)
{
    const char *params[] = {id};
    PGresult *res = NULL;
    core_status st =
        pg_run(self, "SELECT name, location, participating FROM stores.stores WHERE id = $1", 1,
               params, &res, err);
    if (!st) {
        if (PQntuples(res) == 0)
            st = core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", id);
        else
            st = stores_store_restore(out, id, pg_get(res, 0, 0), pg_get(res, 0, 1),
                                      is_true(pg_get(res, 0, 2)), err);
    }
    PQclear(res);
    return st;
}

static core_status store_find_all(void *self, struct stores_store_list *out, core_err *err)
{
    PGresult *res = NULL;
    core_status st = pg_run(
        self, "SELECT id, name, location, participating FROM stores.stores ORDER BY name, id", 0,
        NULL, &res, err);
    if (!st)
        st = stores_from_rows(res, out, err);
    PQclear(res);
    return st;
}

static core_status participating_find_all(void *self, struct stores_store_list *out, core_err *err)
{
    PGresult *res = NULL;
    core_status st = pg_run(self,
                            "SELECT id, name, location, participating FROM stores.stores "
                            "WHERE participating ORDER BY name, id",
                            0, NULL, &res, err);
    if (!st)
        st = stores_from_rows(res, out, err);
    PQclear(res);
    return st;
}

void stores__pg_store_repo(struct stores_store_repo *out, pg_pool *db)
{
    out->self = db;
    out->save = store_save;
    out->update = store_update;
    out->find = store_find;
    out->find_all = store_find_all;
}

void stores__pg_participating_repo(struct stores_participating_repo *out, pg_pool *db)
{
    out->self = db;
    out->find_all = participating_find_all;
}

/* ---- products ----------------------------------------------------------------------------- */

/* Reads row i of res laid out as (id, store_id, name, description, sku, price) into out. */
static core_status product_from_row(const PGresult *res, int i, struct stores_product *out,
                                    core_err *err)
{
    double price = strtod(pg_get(res, i, 5), NULL);
    return stores_product_restore(out, pg_get(res, i, 0), pg_get(res, i, 1), pg_get(res, i, 2),
                                  pg_get(res, i, 3), pg_get(res, i, 4), price, err);
}

static core_status product_add(void *self, const struct stores_product *p, core_err *err)
{
    char price[64];
    snprintf(price, sizeof price, "%.4f", p->price);
    const char *params[] = {p->id, p->store_id, p->name, p->description, p->sku, price};
    return pg_run(self,
                  "INSERT INTO stores.products (id, store_id, name, description, sku, price) "
                  "VALUES ($1, $2, $3, $4, $5, $6)",
                  6, params, NULL, err);
}

static core_status product_remove(void *self, const char *id, core_err *err)
{
    const char *params[] = {id};
    return run_one(self, "DELETE FROM stores.products WHERE id = $1", 1, params, "product", err);
}

static core_status product_find(void *self, const char *id, struct stores_product *out,
                                core_err *err)
{
    const char *params[] = {id};
    PGresult *res = NULL;
    core_status st = pg_run(
        self,
        "SELECT id, store_id, name, description, sku, price FROM stores.products WHERE id = $1", 1,
        params, &res, err);
    if (!st) {
        if (PQntuples(res) == 0)
            st = core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
        else
            st = product_from_row(res, 0, out, err);
    }
    PQclear(res);
    return st;
}

static core_status product_catalog(void *self, const char *store_id,
                                   struct stores_product_list *out, core_err *err)
{
    const char *params[] = {store_id};
    PGresult *res = NULL;
    core_status st =
        pg_run(self,
               "SELECT id, store_id, name, description, sku, price FROM stores.products "
               "WHERE store_id = $1 ORDER BY name, id",
               1, params, &res, err);
    for (int i = 0, n = st ? 0 : PQntuples(res); i < n && !st; i++) {
        struct stores_product p = STORES_PRODUCT_INIT;
        if (!(st = product_from_row(res, i, &p, err)))
            st = stores_product_list_add(out, &p, err);
        stores_product_release(&p);
    }
    PQclear(res);
    return st;
}

void stores__pg_product_repo(struct stores_product_repo *out, pg_pool *db)
{
    out->self = db;
    out->add = product_add;
    out->remove = product_remove;
    out->find = product_find;
    out->catalog = product_catalog;
}
