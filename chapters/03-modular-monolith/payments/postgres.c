/* payments/postgres.c -- the payments and invoices repositories on PostgreSQL (pg.h).
 *
 * Tables payments.payments and payments.invoices (migrations/006_payments.sql). Amounts are
 * decimal(9,4): written as "%.4f" text parameters, read back with strtod. Each call borrows one
 * pooled connection for one statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payments/adapters.h"

/* ---- payments.payments ----------------------------------------------------------------------- */

static core_status payment_save(void *self, const struct payments_payment *p, core_err *err)
{
    static const char sql[] =
        "INSERT INTO payments.payments (id, customer_id, amount) VALUES ($1, $2, $3)";
    char amount[48];
    snprintf(amount, sizeof amount, "%.4f", p->amount);
    const char *params[] = {p->id, p->customer_id, amount};
    core_status st = pg_run(self, sql, 3, params, NULL, err);
    if (st)
        core_err_wrap(err, "saving payment %s", p->id);
    return st;
}

static core_status payment_find(void *self, const char *id, struct payments_payment *out,
                                core_err *err)
{
    static const char sql[] = "SELECT customer_id, amount FROM payments.payments WHERE id = $1";
    const char *params[] = {id};
    PGresult *res = NULL;
    core_status st = pg_run(self, sql, 1, params, &res, err);
    if (st) {
        core_err_wrap(err, "finding payment %s", id);
    } else if (PQntuples(res) == 0) {
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "payment %s not found", id);
    } else if (!core_strlcpy(out->id, id, sizeof out->id) ||
               !core_strlcpy(out->customer_id, pg_get(res, 0, 0), sizeof out->customer_id)) {
        st = core_err_set(err, CORE_ERR_INTERNAL, "payment %s: stored id too long", id);
    } else {
        out->amount = strtod(pg_get(res, 0, 1), NULL);
    }
    PQclear(res);
    return st;
}

void payments_postgres_payments(struct payments_payment_repo *out, pg_pool *db)
{
    out->self = db;
    out->save = payment_save;
    out->find = payment_find;
}

/* ---- payments.invoices ----------------------------------------------------------------------- */

static core_status invoice_save(void *self, const struct payments_invoice *inv, core_err *err)
{
    static const char sql[] =
        "INSERT INTO payments.invoices (id, order_id, amount, status) VALUES ($1, $2, $3, $4)";
    char amount[48];
    snprintf(amount, sizeof amount, "%.4f", inv->amount);
    const char *params[] = {inv->id, inv->order_id, amount,
                            payments_invoice_status_text(inv->status)};
    core_status st = pg_run(self, sql, 4, params, NULL, err);
    if (st)
        core_err_wrap(err, "saving invoice %s", inv->id);
    return st;
}

static core_status invoice_find(void *self, const char *id, struct payments_invoice *out,
                                core_err *err)
{
    static const char sql[] =
        "SELECT order_id, amount, status FROM payments.invoices WHERE id = $1";
    const char *params[] = {id};
    PGresult *res = NULL;
    core_status st = pg_run(self, sql, 1, params, &res, err);
    if (st) {
        core_err_wrap(err, "finding invoice %s", id);
    } else if (PQntuples(res) == 0) {
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "invoice %s not found", id);
    } else if (!core_strlcpy(out->id, id, sizeof out->id) ||
               !core_strlcpy(out->order_id, pg_get(res, 0, 0), sizeof out->order_id)) {
        st = core_err_set(err, CORE_ERR_INTERNAL, "invoice %s: stored id too long", id);
    } else if (!payments_invoice_status_parse(pg_get(res, 0, 2), &out->status)) {
        st = core_err_set(err, CORE_ERR_INTERNAL, "invoice %s has an unknown status \"%s\"", id,
                          pg_get(res, 0, 2));
    } else {
        out->amount = strtod(pg_get(res, 0, 1), NULL);
    }
    PQclear(res);
    return st;
}

static core_status invoice_update(void *self, const struct payments_invoice *inv, core_err *err)
{
    static const char sql[] = "UPDATE payments.invoices SET amount = $2, status = $3 WHERE id = $1";
    char amount[48];
    snprintf(amount, sizeof amount, "%.4f", inv->amount);
    const char *params[] = {inv->id, amount, payments_invoice_status_text(inv->status)};
    PGresult *res = NULL;
    core_status st = pg_run(self, sql, 3, params, &res, err);
    if (st)
        core_err_wrap(err, "updating invoice %s", inv->id);
    else if (strcmp(PQcmdTuples(res), "0") == 0)
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "invoice %s not found", inv->id);
    PQclear(res);
    return st;
}

void payments_postgres_invoices(struct payments_invoice_repo *out, pg_pool *db)
{
    out->self = db;
    out->save = invoice_save;
    out->find = invoice_find;
    out->update = invoice_update;
}
