/* stores/postgres.c -- the stores module's read models on PostgreSQL (see stores/adapters.h).
 *
 * Since chapter 05 the stores and products are event-sourced (their events are in stores.events,
 * written by es.h's store); the tables stores.stores (the mall) and stores.products (the catalog)
 * of migrations/007_stores.sql are READ MODELS: written only by the MallHandlers and
 * CatalogHandlers (stores/handlers.h), read by the queries. Every value travels as a query
 * parameter. Prices are decimal(9,4): written as "%.4f" text, read back with strtod; a price
 * change adds its delta in SQL (exact decimal arithmetic). Listings are ordered by name, then id,
 * so they are stable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stores/adapters.h"

/* Runs one statement on a pooled connection. *res as in pg_exec (NULL: discarded). */
static core_status run(pg_pool *db, const char *sql, int nparams, const char *const *params,
                       PGresult **res, core_err *err)
{
    pg_conn *conn = NULL;
    core_status st = pg_acquire(db, &conn, err);
    if (st)
        return st;
    st = pg_exec(conn, sql, nparams, params, res, err);
    pg_release(db, conn);
    return st;
}

/* Runs an UPDATE/DELETE; no row affected -> CORE_ERR_NOT_FOUND "<what> <id> not found". */
static core_status run_one(pg_pool *db, const char *sql, int nparams, const char *const *params,
                           const char *what, core_err *err)
{
    PGresult *res = NULL;
    core_status st = run(db, sql, nparams, params, &res, err);
    if (!st && strtol(PQcmdTuples(res), NULL, 10) == 0)
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "%s %s not found", what, params[0]);
    PQclear(res);
    return st;
}

static bool is_true(const char *v)
{
    return v[0] == 't';
}

/* ---- the mall (stores.stores) ---------------------------------------------------------------- */

/* Appends the rows of res (id, name, location, participating) to out. */
static core_status stores_from_rows(const PGresult *res, struct stores_mall_store_list *out, core_err *err)
{
    core_status st = CORE_OK;
    for (int i = 0, n = PQntuples(res); i < n && !st; i++) {
        struct stores_mall_store s = STORES_MALL_STORE_INIT;
        st = stores_mall_store_fill(&s, pg_get(res, i, 0), pg_get(res, i, 1), pg_get(res, i, 2),
                                    is_true(pg_get(res, i, 3)), err);
        if (!st)
            st = stores_mall_store_list_add(out, &s, err);
        stores_mall_store_release(&s);
    }
    return st;
}

static core_status mall_add_store(void *self, const char *id, const char *name, const char *location, core_err *err)
{
    const char *params[] = {id, name, location};
    return run(self,
               "INSERT INTO stores.stores (id, name, location, participating) VALUES ($1, $2, $3, false)",
               3, params, NULL, err);
}

static core_status mall_set_participation(void *self, const char *id, bool participating, core_err *err)
{
    const char *params[] = {id, participating ? "true" : "false"};
    return run_one(self, "UPDATE stores.stores SET participating = $2 WHERE id = $1", 2, params, "store", err);
}

static core_status mall_rename_store(void *self, const char *id, const char *name, core_err *err)
{
    const char *params[] = {id, name};
    return run_one(self, "UPDATE stores.stores SET name = $2 WHERE id = $1", 2, params, "store", err);
}

static core_status mall_find(void *self, const char *id, struct stores_mall_store *out, core_err *err)
{
    const char *params[] = {id};
    PGresult *res = NULL;
    core_status st = run(self, "SELECT name, location, participating FROM stores.stores WHERE id = $1",
                         1, params, &res, err);
    if (!st) {
        if (PQntuples(res) == 0)
            st = core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", id);
        else
            st = stores_mall_store_fill(out, id, pg_get(res, 0, 0), pg_get(res, 0, 1),
                                        is_true(pg_get(res, 0, 2)), err);
    }
    PQclear(res);
    return st;
}

static core_status mall_all(void *self, struct stores_mall_store_list *out, core_err *err)
{
    PGresult *res = NULL;
    core_status st = run(self, "SELECT id, name, location, participating FROM stores.stores ORDER BY name, id",
                         0, NULL, &res, err);
    if (!st)
        st = stores_from_rows(res, out, err);
    PQclear(res);
    return st;
}

static core_status mall_all_participating(void *self, struct stores_mall_store_list *out, core_err *err)
{
    PGresult *res = NULL;
    core_status st = run(self,
                         "SELECT id, name, location, participating FROM stores.stores "
                         "WHERE participating ORDER BY name, id",
                         0, NULL, &res, err);
    if (!st)
        st = stores_from_rows(res, out, err);
    PQclear(res);
    return st;
}

void stores__pg_mall_repo(struct stores_mall_repo *out, pg_pool *db)
{
    out->self = db;
    out->add_store = mall_add_store;
    out->set_participation = mall_set_participation;
    out->rename_store = mall_rename_store;
    out->find = mall_find;
    out->all = mall_all;
    out->all_participating = mall_all_participating;
}

/* ---- the catalog (stores.products) ------------------------------------------------------------ */

/* Reads row i of res laid out as (id, store_id, name, description, sku, price) into out. */
static core_status product_from_row(const PGresult *res, int i, struct stores_catalog_product *out, core_err *err)
{
    double price = strtod(pg_get(res, i, 5), NULL);
    return stores_catalog_product_fill(out, pg_get(res, i, 0), pg_get(res, i, 1), pg_get(res, i, 2),
                                       pg_get(res, i, 3), pg_get(res, i, 4), price, err);
}

static core_status catalog_add_product(void *self, const char *id, const char *store_id, const char *name,
                                       const char *description, const char *sku, double price, core_err *err)
{
    char text[64];
    snprintf(text, sizeof text, "%.4f", price);
    const char *params[] = {id, store_id, name, description, sku, text};
    return run(self,
               "INSERT INTO stores.products (id, store_id, name, description, sku, price) "
               "VALUES ($1, $2, $3, $4, $5, $6)",
               6, params, NULL, err);
}

static core_status catalog_rebrand(void *self, const char *id, const char *name, const char *description,
                                   core_err *err)
{
    const char *params[] = {id, name, description};
    return run_one(self, "UPDATE stores.products SET name = $2, description = $3 WHERE id = $1", 3, params,
                   "product", err);
}

static core_status catalog_update_price(void *self, const char *id, double delta, core_err *err)
{
    char text[64];
    snprintf(text, sizeof text, "%.4f", delta);
    const char *params[] = {id, text};
    return run_one(self, "UPDATE stores.products SET price = price + $2::decimal WHERE id = $1", 2, params,
                   "product", err);
}

static core_status catalog_remove(void *self, const char *id, core_err *err)
{
    const char *params[] = {id};
    return run_one(self, "DELETE FROM stores.products WHERE id = $1", 1, params, "product", err);
}

static core_status catalog_find(void *self, const char *id, struct stores_catalog_product *out, core_err *err)
{
    const char *params[] = {id};
    PGresult *res = NULL;
    core_status st = run(self,
                         "SELECT id, store_id, name, description, sku, price FROM stores.products WHERE id = $1",
                         1, params, &res, err);
    if (!st) {
        if (PQntuples(res) == 0)
            st = core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
        else
            st = product_from_row(res, 0, out, err);
    }
    PQclear(res);
    return st;
}

static core_status catalog_products(void *self, const char *store_id, struct stores_catalog_product_list *out,
                                    core_err *err)
{
    const char *params[] = {store_id};
    PGresult *res = NULL;
    core_status st = run(self,
                         "SELECT id, store_id, name, description, sku, price FROM stores.products "
                         "WHERE store_id = $1 ORDER BY name, id",
                         1, params, &res, err);
    for (int i = 0, n = st ? 0 : PQntuples(res); i < n && !st; i++) {
        struct stores_catalog_product p = STORES_CATALOG_PRODUCT_INIT;
        if (!(st = product_from_row(res, i, &p, err)))
            st = stores_catalog_product_list_add(out, &p, err);
        stores_catalog_product_release(&p);
    }
    PQclear(res);
    return st;
}

void stores__pg_catalog_repo(struct stores_catalog_repo *out, pg_pool *db)
{
    out->self = db;
    out->add_product = catalog_add_product;
    out->rebrand = catalog_rebrand;
    out->update_price = catalog_update_price;
    out->remove = catalog_remove;
    out->find = catalog_find;
    out->catalog = catalog_products;
}
