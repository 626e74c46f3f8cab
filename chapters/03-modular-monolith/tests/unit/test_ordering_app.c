/* test_ordering_app.c -- unit tests of ordering/application.h with fake ports: the order
 * repository and the customers, payments, depot and notifications modules are in-memory fakes
 * that record their calls and can be told to fail (tests/support/ordering_fakes.h). Checked for
 * every command and query: the flow (which ports are called, in which order, with what), not found,
 * rule violations, and that a failing dependency is passed up unchanged and nothing is saved (a
 * failed save cancels the shopping list that CreateOrder had depot create). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"
#include "ordering/application.h"
#include "ordering_fakes.h"

static struct ordering_fakes fk;
static struct ordering_app app;
static long live_before;

static struct ordering_order *stored(const char *id)
{
    return ordering_fake_order(&fk, id);
}

static void fail_next(enum ordering_fake_port port, core_status st, const char *msg)
{
    ordering_fake_fail_next(&fk, port, st, msg);
}

static int setup(void **state)
{
    (void)state;
    live_before = core_alloc_live();
    memset(&fk, 0, sizeof fk);
    ordering_fake_app(&app, &fk);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    ordering_fake_release(&fk);
    assert_int_equal(core_alloc_live(), live_before);
    return 0;
}

static const struct ordering_item items[] = {
    {"store-1", "product-1", "Waldorf Books", "EDA with Golang", 49.99, 2},
    {"store-2", "product-2", "Nic & Naks", "Wizard w/ crystal", 9.98, 3},
};

/* Puts an order straight into the fake table (not counted as a write). */
static struct ordering_order *preload(const char *id, enum ordering_status status)
{
    struct ordering_order *o = &fk.orders[fk.norders++];
    assert_int_equal(ordering_order_create(o, id, "customer-1", "payment-1", items, 2, NULL),
                     CORE_OK);
    assert_int_equal(ordering_order_set_shopping_id(o, "shopping-1", NULL), CORE_OK);
    o->status = status;
    return o;
}

/* Someone else creates order-1 with a shopping list of its own, inside our save: two CreateOrders
 * of one id (a basket checked out twice at once) both got past the existence check. */
static void create_order_1_meanwhile(void)
{
    struct ordering_order *o = preload("order-1", ORDERING_STATUS_PENDING);
    assert_int_equal(ordering_order_set_shopping_id(o, "shopping-0", NULL), CORE_OK);
}

/* ---- CreateOrder ---------------------------------------------------------------------------- */

static void create_order_runs_the_flow_and_saves_a_pending_order(void **state)
{
    (void)state;
    char id[ORDERING_ID_SIZE] = "";
    core_err err = CORE_ERR_INIT;
    assert_int_equal(
        ordering_app_create_order(&app, "order-1", "customer-1", "payment-1", items, 2, id, &err),
        CORE_OK);
    assert_string_equal(id, "order-1");
    assert_string_equal(fk.calls, "find(order-1) authorize(customer-1) confirm(payment-1) "
                                  "create_shopping_list(order-1,2 items,product-1 x2) "
                                  "notify_created(order-1,customer-1) save(order-1)");
    assert_int_equal(fk.norders, 1);
    struct ordering_order *o = stored("order-1");
    assert_non_null(o);
    assert_int_equal(o->status, ORDERING_STATUS_PENDING);
    assert_string_equal(o->customer_id, "customer-1");
    assert_string_equal(o->payment_id, "payment-1");
    assert_string_equal(o->shopping_id, "shopping-1");
    assert_string_equal(o->invoice_id, "");
    assert_int_equal(o->nitems, 2);
    assert_string_equal(o->items[1].product_name, "Wizard w/ crystal");
    assert_true(o->items[1].price == 9.98);
}

static void create_order_without_id_gets_a_uuid(void **state)
{
    (void)state;
    char id[ORDERING_ID_SIZE] = "";
    core_err err = CORE_ERR_INIT;
    assert_int_equal(
        ordering_app_create_order(&app, "", "customer-1", "payment-1", items, 1, id, &err),
        CORE_OK);
    assert_true(core_uuid_valid(id));
    assert_non_null(stored(id));
    char second[ORDERING_ID_SIZE] = "";
    assert_int_equal(
        ordering_app_create_order(&app, NULL, "customer-1", "payment-1", items, 1, second, &err),
        CORE_OK);
    assert_true(core_uuid_valid(second));
    assert_string_not_equal(id, second);
    assert_int_equal(fk.norders, 2);
}

static void create_order_with_an_existing_id_is_a_conflict(void **state)
{
    (void)state;
    char id[ORDERING_ID_SIZE] = "";
    core_err err = CORE_ERR_INIT;
    preload("order-1", ORDERING_STATUS_PENDING);
    assert_int_equal(
        ordering_app_create_order(&app, "order-1", "customer-1", "payment-1", items, 2, id, &err),
        CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, "order order-1 already exists");
    assert_string_equal(fk.calls, "find(order-1)"); /* no other module was bothered */
    assert_int_equal(fk.writes, 0);
    assert_string_equal(id, "");
}

static void create_order_rule_violations_call_nobody(void **state)
{
    (void)state;
    static const struct {
        const char *customer_id, *payment_id;
        size_t nitems;
        const char *text;
    } cases[] = {
        {"customer-1", "payment-1", 0, "the order has no items"},
        {"", "payment-1", 2, "the customer id cannot be blank"},
        {"customer-1", "", 2, "the payment id cannot be blank"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char id[ORDERING_ID_SIZE] = "";
        core_err err = CORE_ERR_INIT;
        assert_int_equal(
            ordering_app_create_order(&app, "order-1", cases[i].customer_id, cases[i].payment_id,
                                      cases[i].nitems ? items : NULL, cases[i].nitems, id, &err),
            CORE_ERR_INVALID);
        assert_string_equal(err.msg, cases[i].text);
        assert_string_equal(fk.calls, "");
        assert_int_equal(fk.norders, 0);
    }
}

static void create_order_failing_dependency_saves_nothing(void **state)
{
    (void)state;
    static const struct {
        enum ordering_fake_port port;
        core_status st;
        const char *msg;
        const char *calls; /* the calls made up to and including the failing one */
    } cases[] = {
        {ORDERING_FAKE_FIND, CORE_ERR_UNAVAILABLE, "no database connection free within 5000 ms",
         "find(order-1)"},
        {ORDERING_FAKE_AUTHORIZE, CORE_ERR_NOT_FOUND, "customer customer-1 not found",
         "find(order-1) authorize(customer-1)"},
        {ORDERING_FAKE_AUTHORIZE, CORE_ERR_INVALID, "customer is not authorized",
         "find(order-1) authorize(customer-1)"},
        {ORDERING_FAKE_CONFIRM, CORE_ERR_NOT_FOUND, "payment payment-1 not found",
         "find(order-1) authorize(customer-1) confirm(payment-1)"},
        {ORDERING_FAKE_CREATE_LIST, CORE_ERR_NOT_FOUND, "product product-1 not found",
         "find(order-1) authorize(customer-1) confirm(payment-1) create_shopping_list(order-1,2 "
         "items,product-1 x2)"},
        {ORDERING_FAKE_NOTIFY_CREATED, CORE_ERR_UNAVAILABLE,
         "notifications RPC at 127.0.0.1:8085 unreachable",
         "find(order-1) authorize(customer-1) confirm(payment-1) create_shopping_list(order-1,2 "
         "items,product-1 x2) "
         "notify_created(order-1,customer-1)"},
        {ORDERING_FAKE_SAVE, CORE_ERR_IO, "disk full (SQLSTATE 53100)",
         "find(order-1) authorize(customer-1) confirm(payment-1) create_shopping_list(order-1,2 "
         "items,product-1 x2) "
         "notify_created(order-1,customer-1) save(order-1) cancel_shopping_list(shopping-1)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char id[ORDERING_ID_SIZE] = "";
        core_err err = CORE_ERR_INIT;
        fk.calls[0] = '\0';
        fail_next(cases[i].port, cases[i].st, cases[i].msg);
        assert_int_equal(ordering_app_create_order(&app, "order-1", "customer-1", "payment-1",
                                                   items, 2, id, &err),
                         cases[i].st);
        assert_string_equal(err.msg, cases[i].msg); /* passed up unchanged */
        assert_string_equal(fk.calls, cases[i].calls);
        assert_int_equal(fk.norders, 0); /* nothing saved */
        assert_int_equal(fk.writes, 0);
        assert_string_equal(id, "");
        assert_int_equal(core_alloc_live(), live_before);
    }
}

/* The other CreateOrder saved first: our save fails with CORE_ERR_CONFLICT, and the shopping list
 * we had depot create is cancelled again (a local compensation); the caller gets the save's
 * error, the other order keeps its list. */
static void create_order_failing_save_cancels_the_shopping_list(void **state)
{
    (void)state;
    char id[ORDERING_ID_SIZE] = "";
    core_err err = CORE_ERR_INIT;
    fk.meddle = create_order_1_meanwhile;
    assert_int_equal(
        ordering_app_create_order(&app, "order-1", "customer-1", "payment-1", items, 2, id, &err),
        CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, "order order-1 already exists"); /* the save's error */
    assert_string_equal(fk.calls, "find(order-1) authorize(customer-1) confirm(payment-1) "
                                  "create_shopping_list(order-1,2 items,product-1 x2) "
                                  "notify_created(order-1,customer-1) save(order-1) "
                                  "cancel_shopping_list(shopping-1)"); /* once */
    /* only the other order is stored, with its own list */
    assert_int_equal(fk.norders, 1);
    assert_string_equal(stored("order-1")->shopping_id, "shopping-0");
    assert_int_equal(fk.writes, 0);
    assert_string_equal(id, "");
}

/* The cancel fails too: that is only logged; the caller still gets the save's error. */
static void create_order_failing_cancel_still_returns_the_save_error(void **state)
{
    (void)state;
    char id[ORDERING_ID_SIZE] = "";
    core_err err = CORE_ERR_INIT;
    fk.meddle = create_order_1_meanwhile;
    fail_next(ORDERING_FAKE_CANCEL_LIST, CORE_ERR_UNAVAILABLE,
              "depot RPC at 127.0.0.1:8085 unreachable");
    assert_int_equal(
        ordering_app_create_order(&app, "order-1", "customer-1", "payment-1", items, 2, id, &err),
        CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, "order order-1 already exists");
    assert_non_null(strstr(fk.calls, "save(order-1) cancel_shopping_list(shopping-1)"));
    assert_int_equal(fk.norders, 1);
    assert_int_equal(fk.writes, 0);
    assert_string_equal(id, "");
}

static void create_order_out_of_memory_at_every_allocation(void **state)
{
    (void)state;
    int failures = 0;
    for (long n = 0;; n++) {
        char id[ORDERING_ID_SIZE] = "";
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = ordering_app_create_order(&app, "order-1", "customer-1", "payment-1",
                                                   items, 2, id, &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK)
            break;
        assert_int_equal(st, CORE_ERR_NOMEM);
        assert_int_equal(fk.norders, 0);
        assert_int_equal(core_alloc_live(), live_before);
        failures++;
    }
    assert_true(failures > 0);
    assert_non_null(stored("order-1"));
}

/* ---- CancelOrder ---------------------------------------------------------------------------- */

static void cancel_order_cancels_the_shopping_list_and_notifies(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    preload("order-1", ORDERING_STATUS_PENDING);
    assert_int_equal(ordering_app_cancel_order(&app, "order-1", &err), CORE_OK);
    assert_string_equal(fk.calls, "find(order-1) cancel_shopping_list(shopping-1) "
                                  "notify_canceled(order-1,customer-1) update(order-1)");
    assert_int_equal(stored("order-1")->status, ORDERING_STATUS_CANCELLED);
    assert_int_equal(fk.writes, 1);
}

static void cancel_order_only_when_pending(void **state)
{
    (void)state;
    const enum ordering_status statuses[] = {ORDERING_STATUS_READY, ORDERING_STATUS_COMPLETED,
                                             ORDERING_STATUS_CANCELLED,
                                             ORDERING_STATUS_IN_PROGRESS};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        char id[16];
        core_err err = CORE_ERR_INIT;
        snprintf(id, sizeof id, "order-%zu", i);
        preload(id, statuses[i]);
        fk.calls[0] = '\0';
        assert_int_equal(ordering_app_cancel_order(&app, id, &err), CORE_ERR_INVALID);
        assert_string_equal(err.msg, "the order cannot be cancelled");
        assert_int_equal(strncmp(fk.calls, "find(", 5), 0);
        assert_null(strchr(fk.calls, ' ')); /* only the find */
        assert_int_equal(stored(id)->status, statuses[i]);
    }
    assert_int_equal(fk.writes, 0);
}

static void cancel_order_unknown_id(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(ordering_app_cancel_order(&app, "nope", &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "order nope not found");
    assert_string_equal(fk.calls, "find(nope)");
}

static void cancel_order_failing_dependency_saves_nothing(void **state)
{
    (void)state;
    const enum ordering_fake_port ports[] = {ORDERING_FAKE_FIND, ORDERING_FAKE_CANCEL_LIST,
                                             ORDERING_FAKE_NOTIFY_CANCELED, ORDERING_FAKE_UPDATE};
    preload("order-1", ORDERING_STATUS_PENDING);
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        core_err err = CORE_ERR_INIT;
        fail_next(ports[i], CORE_ERR_INVALID, "the shopping list cannot be cancelled");
        assert_int_equal(ordering_app_cancel_order(&app, "order-1", &err), CORE_ERR_INVALID);
        assert_string_equal(err.msg, "the shopping list cannot be cancelled");
        assert_int_equal(stored("order-1")->status, ORDERING_STATUS_PENDING);
        assert_int_equal(fk.writes, 0);
    }
}

/* ---- ReadyOrder ----------------------------------------------------------------------------- */

static void ready_order_notifies_and_creates_the_invoice(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    preload("order-1", ORDERING_STATUS_PENDING);
    assert_int_equal(ordering_app_ready_order(&app, "order-1", &err), CORE_OK);
    assert_string_equal(fk.calls, "find(order-1) notify_ready(order-1,customer-1) "
                                  "create_invoice(order-1,payment-1) update(order-1)");
    assert_float_equal(fk.invoice_amount, 49.99 * 2 + 9.98 * 3, 1e-9);
    struct ordering_order *o = stored("order-1");
    assert_int_equal(o->status, ORDERING_STATUS_READY);
    assert_string_equal(o->invoice_id, "invoice-1");
    assert_string_equal(o->shopping_id, "shopping-1");
    assert_int_equal(fk.writes, 1);
}

static void ready_order_unknown_id(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(ordering_app_ready_order(&app, "nope", &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "order nope not found");
    assert_string_equal(fk.calls, "find(nope)");
}

static void ready_order_failing_dependency_saves_nothing(void **state)
{
    (void)state;
    const enum ordering_fake_port ports[] = {ORDERING_FAKE_FIND, ORDERING_FAKE_NOTIFY_READY,
                                             ORDERING_FAKE_CREATE_INVOICE, ORDERING_FAKE_UPDATE};
    preload("order-1", ORDERING_STATUS_PENDING);
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        core_err err = CORE_ERR_INIT;
        fail_next(ports[i], CORE_ERR_UNAVAILABLE, "payments RPC at 127.0.0.1:8085 unreachable");
        assert_int_equal(ordering_app_ready_order(&app, "order-1", &err), CORE_ERR_UNAVAILABLE);
        assert_string_equal(err.msg, "payments RPC at 127.0.0.1:8085 unreachable");
        struct ordering_order *o = stored("order-1");
        assert_int_equal(o->status, ORDERING_STATUS_PENDING);
        assert_string_equal(o->invoice_id, "");
        assert_int_equal(fk.writes, 0);
    }
}

static void ready_order_refused_calls_nobody(void **state)
{
    (void)state;
    const enum ordering_status others[] = {ORDERING_STATUS_READY, ORDERING_STATUS_COMPLETED,
                                           ORDERING_STATUS_CANCELLED};
    const char *const ids[] = {"order-r", "order-c", "order-x"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        core_err err = CORE_ERR_INIT;
        fk.calls[0] = '\0';
        preload(ids[i], others[i]);
        assert_int_equal(ordering_app_ready_order(&app, ids[i], &err), CORE_ERR_INVALID);
        assert_string_equal(err.msg, "the order cannot be readied");
        /* no notification, no second invoice */
        char want[64];
        snprintf(want, sizeof want, "find(%s)", ids[i]);
        assert_string_equal(fk.calls, want);
        assert_int_equal(stored(ids[i])->status, others[i]);
        assert_int_equal(fk.writes, 0);
    }
}

/* ---- CompleteOrder -------------------------------------------------------------------------- */

static void complete_order_records_the_invoice(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    preload("order-1", ORDERING_STATUS_READY);
    assert_int_equal(ordering_app_complete_order(&app, "order-1", "invoice-9", &err), CORE_OK);
    assert_string_equal(fk.calls, "find(order-1) update(order-1)");
    assert_int_equal(stored("order-1")->status, ORDERING_STATUS_COMPLETED);
    assert_string_equal(stored("order-1")->invoice_id, "invoice-9");

    /* a blank invoice id keeps the one stored by ready-order */
    struct ordering_order *o = preload("order-2", ORDERING_STATUS_READY);
    assert_int_equal(ordering_order_set_invoice_id(o, "invoice-2", NULL), CORE_OK);
    assert_int_equal(ordering_app_complete_order(&app, "order-2", "", &err), CORE_OK);
    assert_int_equal(stored("order-2")->status, ORDERING_STATUS_COMPLETED);
    assert_string_equal(stored("order-2")->invoice_id, "invoice-2");
}

static void complete_order_failures(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    char long_id[ORDERING_ID_MAX + 2];
    memset(long_id, 'i', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';

    assert_int_equal(ordering_app_complete_order(&app, "nope", "invoice-1", &err),
                     CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "order nope not found");

    /* a pending order is not completed, whatever the invoice id */
    preload("order-p", ORDERING_STATUS_PENDING);
    core_err_clear(&err);
    assert_int_equal(ordering_app_complete_order(&app, "order-p", "fake-invoice", &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the order cannot be completed");
    assert_int_equal(stored("order-p")->status, ORDERING_STATUS_PENDING);
    assert_string_equal(stored("order-p")->invoice_id, "");

    preload("order-1", ORDERING_STATUS_READY);
    core_err_clear(&err);
    assert_int_equal(ordering_app_complete_order(&app, "order-1", long_id, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice id is too long");

    core_err_clear(&err);
    fail_next(ORDERING_FAKE_UPDATE, CORE_ERR_IO, "connection reset");
    assert_int_equal(ordering_app_complete_order(&app, "order-1", "invoice-1", &err), CORE_ERR_IO);
    assert_string_equal(err.msg, "connection reset");
    assert_int_equal(stored("order-1")->status, ORDERING_STATUS_READY);
    assert_int_equal(fk.writes, 0);
}

/* ---- GetOrder ------------------------------------------------------------------------------- */

static void get_order_returns_a_copy(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct ordering_order out = ORDERING_ORDER_INIT;
    struct ordering_order *o = preload("order-1", ORDERING_STATUS_READY);
    assert_int_equal(ordering_order_set_invoice_id(o, "invoice-1", NULL), CORE_OK);

    assert_int_equal(ordering_app_get_order(&app, "order-1", &out, &err), CORE_OK);
    assert_string_equal(out.id, "order-1");
    assert_string_equal(out.customer_id, "customer-1");
    assert_string_equal(out.shopping_id, "shopping-1");
    assert_string_equal(out.invoice_id, "invoice-1");
    assert_int_equal(out.status, ORDERING_STATUS_READY);
    assert_int_equal(out.nitems, 2);
    assert_string_equal(out.items[0].store_name, "Waldorf Books");
    assert_ptr_not_equal(out.items, o->items);
    ordering_order_release(&out);

    core_err_clear(&err);
    assert_int_equal(ordering_app_get_order(&app, "nope", &out, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "order nope not found");
    assert_null(out.items);
    assert_int_equal(fk.writes, 0);
}

int main(void)
{
    log_init(LOG_LEVEL_DEBUG); /* run the logging decorator's formatting too */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_order_runs_the_flow_and_saves_a_pending_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(create_order_without_id_gets_a_uuid, setup, teardown),
        cmocka_unit_test_setup_teardown(create_order_with_an_existing_id_is_a_conflict, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(create_order_rule_violations_call_nobody, setup, teardown),
        cmocka_unit_test_setup_teardown(create_order_failing_dependency_saves_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(create_order_failing_save_cancels_the_shopping_list, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(create_order_failing_cancel_still_returns_the_save_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(create_order_out_of_memory_at_every_allocation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cancel_order_cancels_the_shopping_list_and_notifies, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cancel_order_only_when_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(cancel_order_unknown_id, setup, teardown),
        cmocka_unit_test_setup_teardown(cancel_order_failing_dependency_saves_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ready_order_notifies_and_creates_the_invoice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ready_order_unknown_id, setup, teardown),
        cmocka_unit_test_setup_teardown(ready_order_failing_dependency_saves_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ready_order_refused_calls_nobody, setup, teardown),
        cmocka_unit_test_setup_teardown(complete_order_records_the_invoice, setup, teardown),
        cmocka_unit_test_setup_teardown(complete_order_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(get_order_returns_a_copy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
