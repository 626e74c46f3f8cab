/* payments/domain.h -- the payments bounded context's entities and rules: payments and invoices.
 *
 * Layer: domain (pure C, no I/O). The book keeps these as plain "models" with the rules in the
 * application layer; here the rules live with the entities so they can be tested on their own.
 *
 * Entities are plain structs in caller storage with fixed-size string fields, so they need no
 * release: copy them by assignment. Ids and other modules' ids are at most PAYMENTS_ID_MAX bytes;
 * a longer id is rejected with CORE_ERR_INVALID ("the <what> id is too long").
 *
 * Money is a double. The tables store decimal(9,4), so an amount must lie in
 * [0, PAYMENTS_AMOUNT_MAX]; anything else (negative, too large, NaN, infinite) is
 * CORE_ERR_INVALID with a text naming the entity.
 *
 * Rule violations return CORE_ERR_INVALID with the texts below (the book's texts where it has
 * them). Thread-safety: functions touch only their arguments.
 */
#ifndef PAYMENTS_DOMAIN_H
#define PAYMENTS_DOMAIN_H

#include "core.h"

#define PAYMENTS_ID_MAX 64

/* Largest amount a decimal(9,4) column holds. */
#define PAYMENTS_AMOUNT_MAX 99999.9999

/* A payment authorization of a customer. */
struct payments_payment {
    char id[PAYMENTS_ID_MAX + 1];
    char customer_id[PAYMENTS_ID_MAX + 1];
    double amount;
};

/* The invoice statuses; stored and shown as the book's strings "pending", "paid", "canceled"
 * (one 'l', unlike the orders and shopping lists, as in the book). */
enum payments_invoice_status {
    PAYMENTS_INVOICE_PENDING,
    PAYMENTS_INVOICE_PAID,
    PAYMENTS_INVOICE_CANCELED,
};

/* The invoice of an order. */
struct payments_invoice {
    char id[PAYMENTS_ID_MAX + 1];
    char order_id[PAYMENTS_ID_MAX + 1];
    double amount;
    enum payments_invoice_status status;
};

/* The status's stored text ("pending", "paid", "canceled"). Never NULL. */
const char *payments_invoice_status_text(enum payments_invoice_status status);

/* Parses a stored status text. Returns false (and leaves *out alone) for an unknown text. */
bool payments_invoice_status_parse(const char *text, enum payments_invoice_status *out);

/* Fills *p with a new payment authorization. id, customer_id are copied.
 * Errors (CORE_ERR_INVALID; *p is then unspecified):
 *   "the payment id cannot be blank", "the payment id is too long",
 *   "the customer id cannot be blank", "the customer id is too long",
 *   "the payment amount cannot be negative", "the payment amount is too large" (also NaN). */
core_status payments_payment_authorize(struct payments_payment *p, const char *id,
                                       const char *customer_id, double amount, core_err *err);

/* Fills *inv with a new "pending" invoice of an order. id, order_id are copied.
 * Errors (CORE_ERR_INVALID; *inv is then unspecified):
 *   "the invoice id cannot be blank", "the invoice id is too long",
 *   "the order id cannot be blank", "the order id is too long",
 *   "the invoice amount cannot be negative", "the invoice amount is too large" (also NaN). */
core_status payments_invoice_create(struct payments_invoice *inv, const char *id,
                                    const char *order_id, double amount, core_err *err);

/* Changes the amount of a pending invoice. Errors (CORE_ERR_INVALID, *inv unchanged):
 * "invoice cannot be adjusted" when it is not pending; the amount texts of
 * payments_invoice_create(). */
core_status payments_invoice_adjust(struct payments_invoice *inv, double amount, core_err *err);

/* Marks a pending invoice paid. Error (CORE_ERR_INVALID, *inv unchanged): the book's
 * "invoice cannot be paid for" when it is not pending. */
core_status payments_invoice_pay(struct payments_invoice *inv, core_err *err);

/* Marks a pending invoice canceled. Error (CORE_ERR_INVALID, *inv unchanged):
 * "invoice cannot be canceled" when it is not pending (the book reuses the pay text here). */
core_status payments_invoice_cancel(struct payments_invoice *inv, core_err *err);

#endif /* PAYMENTS_DOMAIN_H */
