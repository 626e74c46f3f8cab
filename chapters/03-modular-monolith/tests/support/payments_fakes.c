/* payments_fakes.c -- see payments_fakes.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "payments_fakes.h"

/* ---- payments ------------------------------------------------------------------------------ */

static core_status payment_save(void *self, const struct payments_payment *p, core_err *err)
{
    struct payments_fake_payments *f = self;
    if (f->fail_save)
        return core_err_set(err, f->fail_save, "payments table broken");
    assert_true(f->n < PAYMENTS_FAKE_ROWS);
    f->rows[f->n++] = *p;
    return CORE_OK;
}

static core_status payment_find(void *self, const char *id, struct payments_payment *out,
                                core_err *err)
{
    struct payments_fake_payments *f = self;
    if (f->fail_find)
        return core_err_set(err, f->fail_find, "payments table broken");
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->rows[i].id, id) == 0) {
            *out = f->rows[i];
            return CORE_OK;
        }
    }
    return core_err_set(err, CORE_ERR_NOT_FOUND, "payment %s not found", id);
}

void payments_fake_payments_port(struct payments_payment_repo *out,
                                 struct payments_fake_payments *f)
{
    *out = (struct payments_payment_repo){f, payment_save, payment_find};
}

/* ---- invoices ------------------------------------------------------------------------------ */

struct payments_invoice *payments_fake_invoice(struct payments_fake_invoices *f, const char *id)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->rows[i].id, id) == 0)
            return &f->rows[i];
    return NULL;
}

static core_status invoice_save(void *self, const struct payments_invoice *inv, core_err *err)
{
    struct payments_fake_invoices *f = self;
    if (f->fail_save)
        return core_err_set(err, f->fail_save, "invoices table broken");
    assert_true(f->n < PAYMENTS_FAKE_ROWS);
    f->rows[f->n++] = *inv;
    return CORE_OK;
}

static core_status invoice_find(void *self, const char *id, struct payments_invoice *out,
                                core_err *err)
{
    struct payments_fake_invoices *f = self;
    if (f->fail_find)
        return core_err_set(err, f->fail_find, "invoices table broken");
    struct payments_invoice *row = payments_fake_invoice(f, id);
    if (!row)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "invoice %s not found", id);
    *out = *row;
    return CORE_OK;
}

static core_status invoice_update(void *self, const struct payments_invoice *inv, core_err *err)
{
    struct payments_fake_invoices *f = self;
    if (f->fail_update)
        return core_err_set(err, f->fail_update, "invoices table broken");
    struct payments_invoice *row = payments_fake_invoice(f, inv->id);
    if (!row)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "invoice %s not found", inv->id);
    *row = *inv;
    f->updates++;
    return CORE_OK;
}

void payments_fake_invoices_port(struct payments_invoice_repo *out,
                                 struct payments_fake_invoices *f)
{
    *out = (struct payments_invoice_repo){f, invoice_save, invoice_find, invoice_update};
}

/* ---- the ordering module ------------------------------------------------------------------- */

static core_status order_complete(void *self, const char *order_id, const char *invoice_id,
                                  core_err *err)
{
    struct payments_fake_orders *f = self;
    f->calls++;
    core_strlcpy(f->order_id, order_id, sizeof f->order_id);
    core_strlcpy(f->invoice_id, invoice_id, sizeof f->invoice_id);
    if (f->fail)
        return core_err_set(err, f->fail, "the order cannot be completed");
    return CORE_OK;
}

void payments_fake_orders_port(struct payments_orders_port *out, struct payments_fake_orders *f)
{
    *out = (struct payments_orders_port){f, order_complete};
}
