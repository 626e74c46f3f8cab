/* test_payments_commands.c -- unit tests of the payments' part in the create-order saga
 * (chapter 08): the rule that a payment covers the order's total (payments/domain.h), the
 * application's ConfirmPayment with the amount (payments/application.h), and
 * paymentsapi.ConfirmPayment consumed in the group payment-commands on the in-memory stream
 * (am.h), answered by the CommandHandlers (payments/handlers.h), with the fakes of
 * tests/support/payments_fakes.h. Checked: money compared in cents; an unknown payment and one
 * that authorizes less than the total are am.Failure naming the problem; the same command twice
 * has the same answer; an outage retries the command instead of answering "no". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include "am.h"
#include "monolith/messages.h"
#include "payments/application.h"
#include "payments/commands.h"
#include "payments/handlers.h"
#include "payments_fakes.h"
#include "pb.h"
#include "reply_recorder.h"

static struct payments_fake_payments payments;
static struct payments_fake_invoices invoices;
static struct payments_fake_events events;
static struct payments_app app;
static es_registry *messages;
static am_mem_broker *broker;
static am_stream *stream;
static struct reply_recorder rec;
static long live_before;

/* Stores payment id authorizing amount. */
static void given_payment(const char *id, double amount)
{
    assert_true(payments.n < PAYMENTS_FAKE_ROWS);
    assert_int_equal(
        payments_payment_authorize(&payments.rows[payments.n++], id, "customer-1", amount, NULL),
        CORE_OK);
}

/* ---- the domain and the application ---------------------------------------------------------- */

static void a_payment_covers_totals_up_to_its_amount(void **state)
{
    (void)state;
    struct payments_payment p;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(payments_payment_authorize(&p, "pay-1", "c1", 48.99, NULL), CORE_OK);
    assert_int_equal(payments_payment_covers(&p, 48.99, NULL), CORE_OK);
    assert_int_equal(payments_payment_covers(&p, 3 * 16.33, NULL), CORE_OK); /* 48.989999... */
    assert_int_equal(payments_payment_covers(&p, 0, NULL), CORE_OK);
    assert_int_equal(payments_payment_covers(&p, 49.0, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "payment pay-1 authorizes 48.99, the order totals 49.00");
    assert_int_equal(payments_payment_covers(&p, -1, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the order total amount cannot be negative");
    assert_int_equal(payments_payment_covers(&p, NAN, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the order total amount is too large");
}

static int setup(void **state)
{
    (void)state;
    live_before = core_alloc_live();
    memset(&payments, 0, sizeof payments);
    memset(&invoices, 0, sizeof invoices);
    memset(&events, 0, sizeof events);
    payments_fake_payments_port(&app.payments, &payments);
    payments_fake_invoices_port(&app.invoices, &invoices);
    payments_fake_events_port(&app.events, &events);
    given_payment("pay-1", 49.99);
    given_payment("pay-2", 10);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(core_alloc_live(), live_before);
    return 0;
}

static void the_app_confirms_a_payment_that_covers_the_total(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(payments_app_confirm_payment_amount(&app, "pay-1", 49.99, NULL), CORE_OK);
    assert_int_equal(payments_app_confirm_payment_amount(&app, "pay-2", 49.99, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "payment cannot be confirmed: payment pay-2 authorizes 10.00, "
                                 "the order totals 49.99");
    assert_int_equal(payments_app_confirm_payment_amount(&app, "pay-9", 1, &err),
                     CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "payment cannot be confirmed: payment pay-9 not found");
    assert_int_equal(payments_app_confirm_payment_amount(&app, "", 1, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "payment cannot be confirmed: the payment id cannot be blank");
    payments.fail_find = CORE_ERR_UNAVAILABLE;
    assert_int_equal(payments_app_confirm_payment_amount(&app, "pay-1", 49.99, &err),
                     CORE_ERR_UNAVAILABLE);
    assert_string_equal(err.msg, "payments table broken"); /* passed up unchanged */
}

/* ---- the CommandHandlers on the stream ------------------------------------------------------- */

static int stream_setup(void **state)
{
    setup(state);
    assert_int_equal(es_registry_new(&messages, NULL), CORE_OK);
    assert_int_equal(monolith_register_messages(messages, NULL), CORE_OK);
    assert_int_equal(am_mem_broker_new(&broker, NULL), CORE_OK);
    assert_int_equal(am_mem_stream_new(&stream, broker, "mallbots", NULL), CORE_OK);
    reply_recorder_subscribe(&rec, stream, messages);
    assert_int_equal(payments_subscribe_command_handlers(stream, messages, &app, NULL), CORE_OK);
    return 0;
}

static int stream_teardown(void **state)
{
    reply_recorder_release(&rec);
    am_stream_free(stream);
    am_mem_broker_free(broker);
    es_registry_free(messages);
    return teardown(state);
}

static void send_confirm(const char *cmd_id, const char *payment_id, double amount)
{
    Paymentsapi__ConfirmPayment *m = pb_new_of(paymentsapi__confirm_payment);
    assert_non_null(m);
    assert_int_equal(pb_set_string(&m->id, payment_id, NULL), CORE_OK);
    m->amount = amount;
    reply_recorder_send(stream, PAYMENTS_COMMAND_CHANNEL, cmd_id, PAYMENTSAPI_CONFIRM_PAYMENT,
                        &m->base);
}

static void confirm_payment_is_answered(void **state)
{
    (void)state;
    send_confirm("cmd-1", "pay-1", 49.99);
    send_confirm("cmd-2", "pay-2", 49.99);
    send_confirm("cmd-3", "pay-9", 49.99);
    am_mem_broker_run(broker, NULL);
    assert_int_equal(rec.n, 3);
    assert_string_equal(rec.names[0], AM_REPLY_SUCCESS);
    assert_true(rec.succeeded[0]);
    assert_string_equal(rec.command_ids[0], "cmd-1");
    assert_string_equal(rec.names[1], AM_REPLY_FAILURE);
    assert_false(rec.succeeded[1]);
    assert_non_null(
        strstr(rec.errors[1], "payment pay-2 authorizes 10.00, the order totals 49.99"));
    assert_string_equal(rec.names[2], AM_REPLY_FAILURE);
    assert_non_null(strstr(rec.errors[2], "payment pay-9 not found"));
    assert_int_equal(invoices.n, 0); /* confirming writes nothing */
}

static void a_redelivered_command_has_the_same_answer(void **state)
{
    (void)state;
    send_confirm("cmd-1", "pay-2", 49.99);
    am_mem_broker_fail(broker, AM_MEM_FAIL_PUBLISH, 1); /* the reply: the command is NAKed */
    assert_true(am_mem_broker_step(broker));
    assert_int_equal(rec.n, 0);
    am_mem_broker_run(broker, NULL);
    assert_int_equal(rec.n, 1);
    assert_false(rec.succeeded[0]);
    assert_string_equal(rec.command_ids[0], "cmd-1");
}

static void an_outage_retries_the_command(void **state)
{
    (void)state;
    payments.fail_find = CORE_ERR_UNAVAILABLE;
    send_confirm("cmd-1", "pay-1", 49.99);
    assert_true(am_mem_broker_step(broker)); /* delivery 1: NAKed, not answered "no" */
    assert_int_equal(rec.n, 0);
    payments.fail_find = CORE_OK;
    am_mem_broker_run(broker, NULL);
    assert_int_equal(rec.n, 1);
    assert_true(rec.succeeded[0]);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define S(name) cmocka_unit_test_setup_teardown(name, stream_setup, stream_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_payment_covers_totals_up_to_its_amount),
        T(the_app_confirms_a_payment_that_covers_the_total),
        S(confirm_payment_is_answered),
        S(a_redelivered_command_has_the_same_answer),
        S(an_outage_retries_the_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
