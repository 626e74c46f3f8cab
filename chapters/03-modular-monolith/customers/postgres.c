/* customers/postgres.c -- the customers repository on PostgreSQL (see customers/adapters.h).
 *
 * Table customers.customers (migrations/003_customers.sql). Every value travels as a query
 * parameter.
 */
#include <stdlib.h>

#include "customers/adapters.h"

static core_status save(void *self, const struct customers_customer *c, core_err *err)
{
    const char *params[] = {c->id, c->name, c->sms_number, c->enabled ? "true" : "false"};
    return pg_run(
        self,
        "INSERT INTO customers.customers (id, name, sms_number, enabled) VALUES ($1, $2, $3, $4)",
        4, params, NULL, err);
}

static core_status find(void *self, const char *id, struct customers_customer *out, core_err *err)
{
    const char *params[] = {id};
    PGresult *res = NULL;
    core_status st =
        pg_run(self, "SELECT name, sms_number, enabled FROM customers.customers WHERE id = $1", 1,
               params, &res, err);
    if (!st) {
        if (PQntuples(res) == 0)
            st = core_err_set(err, CORE_ERR_NOT_FOUND, "customer %s not found", id);
        else
            st = customers_customer_restore(out, id, pg_get(res, 0, 0), pg_get(res, 0, 1),
                                            pg_get(res, 0, 2)[0] == 't', err);
    }
    PQclear(res);
    return st;
}

static core_status update(void *self, const struct customers_customer *c, core_err *err)
{
    const char *params[] = {c->id, c->name, c->sms_number, c->enabled ? "true" : "false"};
    PGresult *res = NULL;
    core_status st = pg_run(
        self,
        "UPDATE customers.customers SET name = $2, sms_number = $3, enabled = $4 WHERE id = $1", 4,
        params, &res, err);
    if (!st && strtol(PQcmdTuples(res), NULL, 10) == 0)
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "customer %s not found", c->id);
    PQclear(res);
    return st;
}

void customers__pg_repo(struct customers_repo *out, pg_pool *db)
{
    out->self = db;
    out->save = save;
    out->find = find;
    out->update = update;
}
