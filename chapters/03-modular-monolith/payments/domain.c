/* payments/domain.c -- see domain.h. */
#include <math.h>
#include <string.h>

#include "payments/domain.h"

static const char *const status_texts[] = {
    [PAYMENTS_INVOICE_PENDING] = "pending",
    [PAYMENTS_INVOICE_PAID] = "paid",
    [PAYMENTS_INVOICE_CANCELED] = "canceled",
};
#define NSTATUS (sizeof status_texts / sizeof status_texts[0])

const char *payments_invoice_status_text(enum payments_invoice_status status)
{
    return (size_t)status < NSTATUS ? status_texts[status] : "";
}

bool payments_invoice_status_parse(const char *text, enum payments_invoice_status *out)
{
    for (size_t i = 0; text && i < NSTATUS; i++) {
        if (strcmp(text, status_texts[i]) == 0) {
            *out = (enum payments_invoice_status)i;
            return true;
        }
    }
    return false;
}

/* Copies a required id into dst (PAYMENTS_ID_MAX + 1 bytes); what names it in the messages. */
static core_status copy_id(char *dst, const char *id, const char *what, core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the %s id cannot be blank", what);
    if (!core_strlcpy(dst, id, PAYMENTS_ID_MAX + 1))
        return core_err_set(err, CORE_ERR_INVALID, "the %s id is too long", what);
    return CORE_OK;
}

/* An amount a decimal(9,4) column can hold. NaN fails both comparisons, hence the isfinite. */
static core_status check_amount(double amount, const char *what, core_err *err)
{
    if (amount < 0)
        return core_err_set(err, CORE_ERR_INVALID, "the %s amount cannot be negative", what);
    if (!isfinite(amount) || amount > PAYMENTS_AMOUNT_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "the %s amount is too large", what);
    return CORE_OK;
}

core_status payments_payment_authorize(struct payments_payment *p, const char *id,
                                       const char *customer_id, double amount, core_err *err)
{
    core_status st;
    if ((st = copy_id(p->id, id, "payment", err)) ||
        (st = copy_id(p->customer_id, customer_id, "customer", err)) ||
        (st = check_amount(amount, "payment", err)))
        return st;
    p->amount = amount;
    return CORE_OK;
}

core_status payments_invoice_create(struct payments_invoice *inv, const char *id,
                                    const char *order_id, double amount, core_err *err)
{
    core_status st;
    if ((st = copy_id(inv->id, id, "invoice", err)) ||
        (st = copy_id(inv->order_id, order_id, "order", err)) ||
        (st = check_amount(amount, "invoice", err)))
        return st;
    inv->amount = amount;
    inv->status = PAYMENTS_INVOICE_PENDING;
    return CORE_OK;
}

core_status payments_invoice_adjust(struct payments_invoice *inv, double amount, core_err *err)
{
    if (inv->status != PAYMENTS_INVOICE_PENDING)
        return core_err_set(err, CORE_ERR_INVALID, "invoice cannot be adjusted");
    core_status st = check_amount(amount, "invoice", err);
    if (st)
        return st;
    inv->amount = amount;
    return CORE_OK;
}

core_status payments_invoice_pay(struct payments_invoice *inv, core_err *err)
{
    if (inv->status != PAYMENTS_INVOICE_PENDING)
        return core_err_set(err, CORE_ERR_INVALID, "invoice cannot be paid for");
    inv->status = PAYMENTS_INVOICE_PAID;
    return CORE_OK;
}

core_status payments_invoice_cancel(struct payments_invoice *inv, core_err *err)
{
    if (inv->status != PAYMENTS_INVOICE_PENDING)
        return core_err_set(err, CORE_ERR_INVALID, "invoice cannot be canceled");
    inv->status = PAYMENTS_INVOICE_CANCELED;
    return CORE_OK;
}
