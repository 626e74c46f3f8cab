/* test_payments_app.c -- unit tests of the payments module's application layer and domain rules,
 * with fake repositories and a fake ordering module (tests/support/payments_fakes.h; no
 * servers). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "payments/application.h"
#include "payments_fakes.h"

struct fixture {
    struct payments_fake_payments payments;
    struct payments_fake_invoices invoices;
    struct payments_fake_orders orders;
    struct payments_app app;
    long live;
};

static int setup(void **state)
{
    struct fixture *fx = test_calloc(1, sizeof *fx);
    payments_fake_payments_port(&fx->app.payments, &fx->payments);
    payments_fake_invoices_port(&fx->app.invoices, &fx->invoices);
    payments_fake_orders_port(&fx->app.orders, &fx->orders);
    fx->live = core_alloc_live();
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(core_alloc_live(), fx->live); /* leak check */
    test_free(fx);
    return 0;
}

/* Adds an invoice row directly, in the given status. */
static void given_invoice(struct fixture *fx, const char *id, const char *order_id, double amount,
                          enum payments_invoice_status status)
{
    struct payments_invoice *row = &fx->invoices.rows[fx->invoices.n++];
    assert_int_equal(payments_invoice_create(row, id, order_id, amount, NULL), CORE_OK);
    row->status = status;
}

static char long_id[PAYMENTS_ID_MAX + 2];

/* ---- AuthorizePayment ------------------------------------------------------------------------ */

static void authorize_payment_saves_under_a_new_uuid(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    char id[PAYMENTS_ID_MAX + 1] = "", id2[PAYMENTS_ID_MAX + 1] = "";
    assert_int_equal(payments_app_authorize_payment(&fx->app, "c1", 200.5, id, &err), CORE_OK);
    assert_true(core_uuid_valid(id));
    assert_int_equal(fx->payments.n, 1);
    assert_string_equal(fx->payments.rows[0].id, id);
    assert_string_equal(fx->payments.rows[0].customer_id, "c1");
    assert_true(fx->payments.rows[0].amount == 200.5);
    assert_int_equal(payments_app_authorize_payment(&fx->app, "c1", 0, id2, &err), CORE_OK);
    assert_string_not_equal(id, id2);
    assert_int_equal(err.status, CORE_OK); /* untouched on success */
}

static void authorize_payment_rejects_bad_input(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *customer;
        double amount;
        const char *text;
    } cases[] = {
        {"", 1, "the customer id cannot be blank"},
        {"  ", 1, "the customer id cannot be blank"},
        {NULL, 1, "the customer id cannot be blank"},
        {long_id, 1, "the customer id is too long"},
        {"c1", -0.01, "the payment amount cannot be negative"},
        {"c1", 100000, "the payment amount is too large"},
        {"c1", NAN, "the payment amount is too large"},
        {"c1", INFINITY, "the payment amount is too large"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        core_err err = CORE_ERR_INIT;
        char id[PAYMENTS_ID_MAX + 1] = "unchanged";
        assert_int_equal(
            payments_app_authorize_payment(&fx->app, cases[i].customer, cases[i].amount, id, &err),
            CORE_ERR_INVALID);
        assert_string_equal(err.msg, cases[i].text);
        assert_string_equal(id, "unchanged");
    }
    assert_int_equal(fx->payments.n, 0);
    /* the largest decimal(9,4) amount is fine */
    char id[PAYMENTS_ID_MAX + 1];
    assert_int_equal(payments_app_authorize_payment(&fx->app, "c1", PAYMENTS_AMOUNT_MAX, id, NULL),
                     CORE_OK);
}

static void authorize_payment_passes_repository_errors_up(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    char id[PAYMENTS_ID_MAX + 1] = "unchanged";
    fx->payments.fail_save = CORE_ERR_IO;
    assert_int_equal(payments_app_authorize_payment(&fx->app, "c1", 5, id, &err), CORE_ERR_IO);
    assert_string_equal(err.msg, "payments table broken");
    assert_string_equal(id, "unchanged");
}

/* ---- ConfirmPayment -------------------------------------------------------------------------- */

static void confirm_payment_needs_a_known_payment(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    char id[PAYMENTS_ID_MAX + 1];
    assert_int_equal(payments_app_authorize_payment(&fx->app, "c1", 10, id, &err), CORE_OK);
    assert_int_equal(payments_app_confirm_payment(&fx->app, id, &err), CORE_OK);

    assert_int_equal(payments_app_confirm_payment(&fx->app, "nope", &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "payment cannot be confirmed: payment nope not found");

    assert_int_equal(payments_app_confirm_payment(&fx->app, " ", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the payment id cannot be blank");

    fx->payments.fail_find = CORE_ERR_UNAVAILABLE; /* other errors: unchanged */
    assert_int_equal(payments_app_confirm_payment(&fx->app, id, &err), CORE_ERR_UNAVAILABLE);
    assert_string_equal(err.msg, "payments table broken");
}

/* ---- CreateInvoice --------------------------------------------------------------------------- */

static void create_invoice_saves_a_pending_invoice(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    char id[PAYMENTS_ID_MAX + 1] = "";
    assert_int_equal(payments_app_create_invoice(&fx->app, "o1", "p1", 49.99, id, &err), CORE_OK);
    assert_true(core_uuid_valid(id));
    assert_int_equal(fx->invoices.n, 1);
    assert_string_equal(fx->invoices.rows[0].id, id);
    assert_string_equal(fx->invoices.rows[0].order_id, "o1");
    assert_true(fx->invoices.rows[0].amount == 49.99);
    assert_int_equal(fx->invoices.rows[0].status, PAYMENTS_INVOICE_PENDING);
}

static void create_invoice_rejects_bad_input_and_passes_errors_up(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    char id[PAYMENTS_ID_MAX + 1];
    assert_int_equal(payments_app_create_invoice(&fx->app, "", "p1", 1, id, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the order id cannot be blank");
    assert_int_equal(payments_app_create_invoice(&fx->app, long_id, "p1", 1, id, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the order id is too long");
    assert_int_equal(payments_app_create_invoice(&fx->app, "o1", "p1", -1, id, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice amount cannot be negative");
    assert_int_equal(payments_app_create_invoice(&fx->app, "o1", "p1", 1e9, id, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice amount is too large");
    assert_int_equal(fx->invoices.n, 0);

    fx->invoices.fail_save = CORE_ERR_CONFLICT;
    assert_int_equal(payments_app_create_invoice(&fx->app, "o1", "p1", 1, id, &err),
                     CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, "invoices table broken");
    assert_int_equal(fx->invoices.n, 0);
}

/* ---- AdjustInvoice --------------------------------------------------------------------------- */

static void adjust_invoice_changes_a_pending_amount_only(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    given_invoice(fx, "i1", "o1", 10, PAYMENTS_INVOICE_PENDING);
    given_invoice(fx, "i2", "o2", 10, PAYMENTS_INVOICE_PAID);

    assert_int_equal(payments_app_adjust_invoice(&fx->app, "i1", 12.25, &err), CORE_OK);
    assert_true(fx->invoices.rows[0].amount == 12.25);
    assert_int_equal(fx->invoices.rows[0].status, PAYMENTS_INVOICE_PENDING);

    assert_int_equal(payments_app_adjust_invoice(&fx->app, "i2", 12, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "invoice cannot be adjusted");
    assert_true(fx->invoices.rows[1].amount == 10);

    assert_int_equal(payments_app_adjust_invoice(&fx->app, "i1", -3, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice amount cannot be negative");
    assert_true(fx->invoices.rows[0].amount == 12.25);

    assert_int_equal(payments_app_adjust_invoice(&fx->app, "i9", 1, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "invoice i9 not found");
    assert_int_equal(payments_app_adjust_invoice(&fx->app, "", 1, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice id cannot be blank");
    assert_int_equal(fx->invoices.updates, 1);

    fx->invoices.fail_update = CORE_ERR_IO;
    assert_int_equal(payments_app_adjust_invoice(&fx->app, "i1", 1, &err), CORE_ERR_IO);
    assert_string_equal(err.msg, "invoices table broken");
}

/* ---- PayInvoice ------------------------------------------------------------------------------ */

static void pay_invoice_completes_the_order_then_marks_paid(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    given_invoice(fx, "i1", "o1", 10, PAYMENTS_INVOICE_PENDING);
    assert_int_equal(payments_app_pay_invoice(&fx->app, "i1", &err), CORE_OK);
    assert_int_equal(fx->orders.calls, 1);
    assert_string_equal(fx->orders.order_id, "o1");
    assert_string_equal(fx->orders.invoice_id, "i1");
    assert_int_equal(fx->invoices.rows[0].status, PAYMENTS_INVOICE_PAID);
    assert_int_equal(fx->invoices.updates, 1);

    /* paid once: a second payment is refused and ordering is not called again */
    assert_int_equal(payments_app_pay_invoice(&fx->app, "i1", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "invoice cannot be paid for");
    assert_int_equal(fx->orders.calls, 1);
}

static void pay_invoice_refuses_what_is_not_pending(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    given_invoice(fx, "i1", "o1", 10, PAYMENTS_INVOICE_CANCELED);
    assert_int_equal(payments_app_pay_invoice(&fx->app, "i1", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "invoice cannot be paid for");
    assert_int_equal(payments_app_pay_invoice(&fx->app, "i2", &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "invoice i2 not found");
    assert_int_equal(payments_app_pay_invoice(&fx->app, NULL, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice id cannot be blank");
    assert_int_equal(fx->orders.calls, 0);
    assert_int_equal(fx->invoices.updates, 0);
    assert_int_equal(fx->invoices.rows[0].status, PAYMENTS_INVOICE_CANCELED);
}

static void pay_invoice_keeps_it_pending_when_ordering_fails(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    given_invoice(fx, "i1", "o1", 10, PAYMENTS_INVOICE_PENDING);
    fx->orders.fail = CORE_ERR_INVALID;
    assert_int_equal(payments_app_pay_invoice(&fx->app, "i1", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "completing order o1: the order cannot be completed");
    assert_int_equal(fx->invoices.rows[0].status, PAYMENTS_INVOICE_PENDING);
    assert_int_equal(fx->invoices.updates, 0);

    fx->orders.fail = CORE_ERR_UNAVAILABLE; /* the status is kept */
    assert_int_equal(payments_app_pay_invoice(&fx->app, "i1", &err), CORE_ERR_UNAVAILABLE);

    fx->orders.fail = CORE_OK; /* a retry then works */
    assert_int_equal(payments_app_pay_invoice(&fx->app, "i1", &err), CORE_OK);
    assert_int_equal(fx->invoices.rows[0].status, PAYMENTS_INVOICE_PAID);
}

static void pay_invoice_passes_repository_errors_up(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    given_invoice(fx, "i1", "o1", 10, PAYMENTS_INVOICE_PENDING);
    fx->invoices.fail_find = CORE_ERR_IO;
    assert_int_equal(payments_app_pay_invoice(&fx->app, "i1", &err), CORE_ERR_IO);
    assert_int_equal(fx->orders.calls, 0);
    fx->invoices.fail_find = CORE_OK;
    fx->invoices.fail_update = CORE_ERR_IO;
    assert_int_equal(payments_app_pay_invoice(&fx->app, "i1", &err), CORE_ERR_IO);
    assert_string_equal(err.msg, "invoices table broken");
    assert_int_equal(fx->invoices.rows[0].status, PAYMENTS_INVOICE_PENDING);
}

/* ---- CancelInvoice --------------------------------------------------------------------------- */

static void cancel_invoice_cancels_pending_only(void **state)
{
    struct fixture *fx = *state;
    core_err err = CORE_ERR_INIT;
    given_invoice(fx, "i1", "o1", 10, PAYMENTS_INVOICE_PENDING);
    given_invoice(fx, "i2", "o2", 10, PAYMENTS_INVOICE_PAID);
    assert_int_equal(payments_app_cancel_invoice(&fx->app, "i1", &err), CORE_OK);
    assert_int_equal(fx->invoices.rows[0].status, PAYMENTS_INVOICE_CANCELED);
    assert_int_equal(payments_app_cancel_invoice(&fx->app, "i1", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "invoice cannot be canceled");
    assert_int_equal(payments_app_cancel_invoice(&fx->app, "i2", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "invoice cannot be canceled");
    assert_int_equal(fx->invoices.rows[1].status, PAYMENTS_INVOICE_PAID);
    assert_int_equal(payments_app_cancel_invoice(&fx->app, "i3", &err), CORE_ERR_NOT_FOUND);
    assert_int_equal(payments_app_cancel_invoice(&fx->app, "", &err), CORE_ERR_INVALID);
    assert_int_equal(fx->invoices.updates, 1);
    assert_int_equal(fx->orders.calls, 0);
}

/* ---- domain details -------------------------------------------------------------------------- */

static void invoice_status_texts_round_trip(void **state)
{
    (void)state;
    static const char *const texts[] = {"pending", "paid", "canceled"};
    for (int s = PAYMENTS_INVOICE_PENDING; s <= PAYMENTS_INVOICE_CANCELED; s++) {
        enum payments_invoice_status parsed = PAYMENTS_INVOICE_PAID;
        assert_string_equal(payments_invoice_status_text((enum payments_invoice_status)s),
                            texts[s]);
        assert_true(payments_invoice_status_parse(texts[s], &parsed));
        assert_int_equal(parsed, s);
    }
    enum payments_invoice_status unchanged = PAYMENTS_INVOICE_PAID;
    assert_false(
        payments_invoice_status_parse("cancelled", &unchanged)); /* the book spells it with one l */
    assert_false(payments_invoice_status_parse(NULL, &unchanged));
    assert_int_equal(unchanged, PAYMENTS_INVOICE_PAID);
    assert_string_equal(payments_invoice_status_text((enum payments_invoice_status)42), "");
}

static void domain_ids_are_checked(void **state)
{
    (void)state;
    struct payments_payment p;
    struct payments_invoice inv;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(payments_payment_authorize(&p, "", "c1", 1, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the payment id cannot be blank");
    assert_int_equal(payments_payment_authorize(&p, long_id, "c1", 1, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the payment id is too long");
    assert_int_equal(payments_invoice_create(&inv, " ", "o1", 1, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice id cannot be blank");
    assert_int_equal(payments_invoice_create(&inv, long_id, "o1", 1, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice id is too long");
    /* exactly PAYMENTS_ID_MAX characters fit */
    char max_id[PAYMENTS_ID_MAX + 1];
    memset(max_id, 'a', PAYMENTS_ID_MAX);
    max_id[PAYMENTS_ID_MAX] = '\0';
    assert_int_equal(payments_invoice_create(&inv, max_id, max_id, 1, &err), CORE_OK);
    assert_string_equal(inv.order_id, max_id);
}

int main(void)
{
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(authorize_payment_saves_under_a_new_uuid, setup, teardown),
        cmocka_unit_test_setup_teardown(authorize_payment_rejects_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(authorize_payment_passes_repository_errors_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(confirm_payment_needs_a_known_payment, setup, teardown),
        cmocka_unit_test_setup_teardown(create_invoice_saves_a_pending_invoice, setup, teardown),
        cmocka_unit_test_setup_teardown(create_invoice_rejects_bad_input_and_passes_errors_up,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(adjust_invoice_changes_a_pending_amount_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pay_invoice_completes_the_order_then_marks_paid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pay_invoice_refuses_what_is_not_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(pay_invoice_keeps_it_pending_when_ordering_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pay_invoice_passes_repository_errors_up, setup, teardown),
        cmocka_unit_test_setup_teardown(cancel_invoice_cancels_pending_only, setup, teardown),
        cmocka_unit_test(invoice_status_texts_round_trip),
        cmocka_unit_test(domain_ids_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
