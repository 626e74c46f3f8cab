/* payments/application.h -- the payments module's commands (the book's application layer).
 *
 * Layer: application. Every dependency is a port: an ops struct { self, functions } for the two
 * repositories and for the ordering module, so unit tests pass fakes and the module wires the
 * Postgres repositories and the RPC client (adapters.h). The core logs the start and end of each
 * call (rpc.h, "Logging").
 *
 * Errors of a port (repository, ordering) are passed up with their status; the message is
 * prefixed with context only where it helps. Nothing is saved when a rule or a port fails.
 *
 * Thread-safety: a payments_app holds only its ports; it is as thread-safe as they are (the
 * module's adapters are).
 */
#ifndef PAYMENTS_APPLICATION_H
#define PAYMENTS_APPLICATION_H

#include "core.h"
#include "payments/domain.h"

/* Repository of payments. Entities are passed by value; strings are borrowed for the call. */
struct payments_payment_repo {
    void *self;
    /* Inserts a new payment; an existing id gives CORE_ERR_CONFLICT. */
    core_status (*save)(void *self, const struct payments_payment *p, core_err *err);
    /* Fills *out; an unknown id gives CORE_ERR_NOT_FOUND "payment <id> not found". */
    core_status (*find)(void *self, const char *id, struct payments_payment *out, core_err *err);
};

/* Repository of invoices. */
struct payments_invoice_repo {
    void *self;
    /* Inserts a new invoice; an existing id gives CORE_ERR_CONFLICT. */
    core_status (*save)(void *self, const struct payments_invoice *inv, core_err *err);
    /* Fills *out; an unknown id gives CORE_ERR_NOT_FOUND "invoice <id> not found". */
    core_status (*find)(void *self, const char *id, struct payments_invoice *out, core_err *err);
    /* Writes amount and status of an existing invoice; unknown id -> CORE_ERR_NOT_FOUND. */
    core_status (*update)(void *self, const struct payments_invoice *inv, core_err *err);
};

/* The ordering module, as payments needs it. */
struct payments_orders_port {
    void *self;
    /* ordering.CompleteOrder(order_id, invoice_id). */
    core_status (*complete)(void *self, const char *order_id, const char *invoice_id,
                            core_err *err);
};

/* The application: its ports, borrowed (they must outlive it). Fill the fields directly. */
struct payments_app {
    struct payments_payment_repo payments;
    struct payments_invoice_repo invoices;
    struct payments_orders_port orders;
};

/* Records a payment authorization of customer_id for amount under a new UUID, written to out_id.
 * Errors: the rules of payments_payment_authorize() (CORE_ERR_INVALID), the repository's. */
core_status payments_app_authorize_payment(struct payments_app *app, const char *customer_id,
                                           double amount, char out_id[PAYMENTS_ID_MAX + 1],
                                           core_err *err);

/* Succeeds when the payment id is known. Errors: "the payment id cannot be blank"
 * (CORE_ERR_INVALID); CORE_ERR_NOT_FOUND "payment cannot be confirmed: payment <id> not found";
 * other repository errors unchanged. */
core_status payments_app_confirm_payment(struct payments_app *app, const char *id, core_err *err);

/* Creates a pending invoice for order_id under a new UUID, written to out_id. payment_id is the
 * order's payment; it is logged only (the book's invoices table has no column for it).
 * Errors: the rules of payments_invoice_create(), the repository's. */
core_status payments_app_create_invoice(struct payments_app *app, const char *order_id,
                                        const char *payment_id, double amount,
                                        char out_id[PAYMENTS_ID_MAX + 1], core_err *err);

/* Changes the amount of a pending invoice. Errors: "the invoice id cannot be blank", unknown
 * id (CORE_ERR_NOT_FOUND), the rules of payments_invoice_adjust(), the repository's. */
core_status payments_app_adjust_invoice(struct payments_app *app, const char *id, double amount,
                                        core_err *err);

/* Pays a pending invoice: checks the rule, then asks ordering to complete the invoice's order
 * (ordering.CompleteOrder(order_id, id)), then saves the invoice as "paid". When ordering fails
 * the invoice stays pending. Errors: "the invoice id cannot be blank", unknown id, "invoice
 * cannot be paid for", ordering's error prefixed "completing order <order id>", the
 * repository's. */
core_status payments_app_pay_invoice(struct payments_app *app, const char *id, core_err *err);

/* Cancels a pending invoice. Errors: "the invoice id cannot be blank", unknown id, "invoice
 * cannot be canceled", the repository's. */
core_status payments_app_cancel_invoice(struct payments_app *app, const char *id, core_err *err);

#endif /* PAYMENTS_APPLICATION_H */
