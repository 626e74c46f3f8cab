/* payments_fakes.h -- test support for the payments module's unit tests: in-memory fakes of the
 * ports of payments/application.h (the payment and invoice repositories and the ordering
 * module), for test_payments_app.c.
 *
 * Layer: test support (the chapter's tests/support/, linked into every test of the chapter). A
 * later chapter whose payments ports change patches this file, not the tests that use it.
 *
 * Every fake is caller storage, zeroed before use (= {0}). The repositories hold copies of the
 * rows in an array (at most PAYMENTS_FAKE_ROWS rows; more is a test bug and fails the test); the
 * rows own no memory, so there is nothing to release. A fail_* status other than CORE_OK makes
 * that operation fail with it and one of these texts: "payments table broken", "invoices table
 * broken", "the order cannot be completed". An unknown id is CORE_ERR_NOT_FOUND "payment <id> not
 * found" / "invoice <id> not found", as the PostgreSQL adapters say it.
 *
 * Thread-safety: none; one test thread.
 */
#ifndef PAYMENTS_FAKES_H
#define PAYMENTS_FAKES_H

#include "payments/application.h"

#define PAYMENTS_FAKE_ROWS 8

struct payments_fake_payments {
    struct payments_payment rows[PAYMENTS_FAKE_ROWS];
    size_t n;
    core_status fail_save, fail_find;
};

struct payments_fake_invoices {
    struct payments_invoice rows[PAYMENTS_FAKE_ROWS];
    size_t n;
    int updates; /* successful updates */
    core_status fail_save, fail_find, fail_update;
};

/* The ordering module: remembers the last CompleteOrder call. */
struct payments_fake_orders {
    int calls;
    char order_id[PAYMENTS_ID_MAX + 1];
    char invoice_id[PAYMENTS_ID_MAX + 1];
    core_status fail;
};

/* Fill the ports with the fakes' operations (self = f, borrowed). */
void payments_fake_payments_port(struct payments_payment_repo *out,
                                 struct payments_fake_payments *f);
void payments_fake_invoices_port(struct payments_invoice_repo *out,
                                 struct payments_fake_invoices *f);
void payments_fake_orders_port(struct payments_orders_port *out, struct payments_fake_orders *f);

/* The invoice row of id, or NULL (borrowed from f). */
struct payments_invoice *payments_fake_invoice(struct payments_fake_invoices *f, const char *id);

#endif /* PAYMENTS_FAKES_H */
