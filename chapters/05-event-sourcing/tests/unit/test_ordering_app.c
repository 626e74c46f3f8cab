/* test_ordering_app.c -- unit tests of ordering/application.h (chapter 05: event-sourced)
 * without servers: the orders live in the in-memory event store (es_mem_store_new) behind a real
 * es_repo whose publisher is a real ddd_dispatcher; the customers, payments and depot modules
 * are fakes that record their calls and can be told to fail; the dispatcher's one subscriber
 * records the published events as calls too. Checked for every command and query: the flow
 * (which ports are called, in which order, with what; events published only after they were
 * appended), unknown ids (NOT_FOUND), rule violations, that a failing dependency is passed up
 * unchanged and nothing is appended or published, that a failing event handler is reported
 * after the append, and optimistic concurrency: someone else's append in between is a CONFLICT
 * and stores nothing (CreateOrder then cancels the shopping list it had depot create). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ddd.h"
#include "es.h"
#include "log.h"
#include "ordering/application.h"

/* ---- the store and the fakes ---------------------------------------------------------------- */

/* Which port should fail next. */
enum fake_port {
    PORT_NONE,
    PORT_AUTHORIZE,
    PORT_CONFIRM,
    PORT_CREATE_LIST,
    PORT_CANCEL_LIST,
    PORT_HANDLER, /* the subscriber of the published events */
};

struct fakes {
    es_registry *reg;
    es_store *store;
    es_repo *quiet;         /* a second repository on the same store, publishing nothing */
    char calls[1024];       /* "authorize(c1) confirm(p1) ..." */
    enum fake_port failing; /* this port fails with fail_status / fail_msg */
    core_status fail_status;
    const char *fail_msg;
    void (*meddle)(void); /* run inside the next depot call: someone else's change */
};

static struct fakes fk;
static long live_before;

static void record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void record(const char *fmt, ...)
{
    size_t used = strlen(fk.calls);
    va_list ap;
    va_start(ap, fmt);
    if (used > 0 && used < sizeof fk.calls - 1)
        fk.calls[used++] = ' ';
    vsnprintf(fk.calls + used, sizeof fk.calls - used, fmt, ap);
    va_end(ap);
}

static bool fails(enum fake_port port, core_err *err)
{
    if (fk.failing != port)
        return false;
    core_err_set(err, fk.fail_status, "%s", fk.fail_msg);
    return true;
}

static void meddle(void)
{
    void (*fn)(void) = fk.meddle;
    fk.meddle = NULL;
    if (fn)
        fn();
}

/* The number of events stored for order id (0: none). */
static uint64_t stored_version(const char *id)
{
    struct ordering_order o = ORDERING_ORDER_INIT;
    uint64_t version = 0;
    if (es_repo_load(fk.quiet, id, &o, NULL) == CORE_OK)
        version = es_aggregate_version(&o.agg);
    ordering_order_release(&o);
    return version;
}

/* Order id as the store has it now (caller releases). */
static struct ordering_order stored(const char *id)
{
    struct ordering_order o = ORDERING_ORDER_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(es_repo_load(fk.quiet, id, &o, &err), CORE_OK);
    return o;
}

static enum ordering_status stored_status(const char *id)
{
    struct ordering_order o = stored(id);
    enum ordering_status status = o.status;
    ordering_order_release(&o);
    return status;
}

static core_status fake_authorize(void *self, const char *customer_id, core_err *err)
{
    assert_ptr_equal(self, &fk);
    record("authorize(%s)", customer_id);
    return fails(PORT_AUTHORIZE, err) ? fk.fail_status : CORE_OK;
}

static core_status fake_confirm(void *self, const char *payment_id, core_err *err)
{
    (void)self;
    record("confirm(%s)", payment_id);
    return fails(PORT_CONFIRM, err) ? fk.fail_status : CORE_OK;
}

static core_status fake_create_invoice(void *self, const char *order_id, const char *payment_id,
                                       double amount, char *invoice_id, core_err *err)
{
    (void)self, (void)order_id, (void)payment_id, (void)amount, (void)invoice_id, (void)err;
    fail_msg("the application does not create invoices: the InvoiceHandlers do");
    return CORE_ERR_INTERNAL;
}

static core_status fake_create_list(void *self, const char *order_id,
                                    const struct ordering_item *items, size_t nitems,
                                    char *shopping_id, core_err *err)
{
    (void)self;
    record("create_shopping_list(%s,%zu items,%s x%d)", order_id, nitems,
           nitems ? items[0].product_id : "-", nitems ? items[0].quantity : 0);
    meddle();
    if (fails(PORT_CREATE_LIST, err))
        return fk.fail_status;
    core_strlcpy(shopping_id, "shopping-1", ORDERING_ID_SIZE);
    return CORE_OK;
}

static core_status fake_cancel_list(void *self, const char *shopping_id, core_err *err)
{
    (void)self;
    record("cancel_shopping_list(%s)", shopping_id);
    meddle();
    return fails(PORT_CANCEL_LIST, err) ? fk.fail_status : CORE_OK;
}

/* The dispatcher's one subscriber, to every event of an order: records "event(<name>,<aggregate
 * id>)" and checks that the event was appended before it was published. */
static core_status fake_handler(void *ud, const ddd_event *ev, core_err *err)
{
    assert_ptr_equal(ud, &fk);
    const char *id = ddd_event_metadata(ev, "aggregate-id");
    const char *version = ddd_event_metadata(ev, "aggregate-version");
    record("event(%s,%s)", ddd_event_name(ev), id ? id : "-");
    assert_non_null(id);
    assert_non_null(version);
    struct ordering_order o = ORDERING_ORDER_INIT;
    core_status st = es_repo_load(fk.quiet, id, &o, err); /* NOMEM under the allocation tests */
    if (st == CORE_OK)
        assert_true(es_aggregate_version(&o.agg) >= strtoull(version, NULL, 10)); /* appended */
    ordering_order_release(&o);
    if (st)
        return st;
    return fails(PORT_HANDLER, err) ? fk.fail_status : CORE_OK;
}

static ddd_dispatcher *events;
static es_repo *orders;

static struct ordering_app app = {
    NULL, /* orders: set by setup() */
    {&fk, fake_authorize},
    {&fk, fake_confirm, fake_create_invoice},
    {&fk, fake_create_list, fake_cancel_list},
};

static void fail_next(enum fake_port port, core_status st, const char *msg)
{
    fk.failing = port;
    fk.fail_status = st;
    fk.fail_msg = msg;
}

static int setup(void **state)
{
    (void)state;
    static const char *const names[] = {ORDERING_ORDER_CREATED, ORDERING_ORDER_CANCELED,
                                        ORDERING_ORDER_READIED, ORDERING_ORDER_INVOICED,
                                        ORDERING_ORDER_COMPLETED};
    memset(&fk, 0, sizeof fk);
    live_before = core_alloc_live();
    assert_int_equal(ddd_dispatcher_new(&events, NULL), CORE_OK);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_int_equal(
            ddd_dispatcher_subscribe(events, names[i], "test.Recorder", fake_handler, &fk, NULL),
            CORE_OK);
    assert_int_equal(es_registry_new(&fk.reg, NULL), CORE_OK);
    assert_int_equal(ordering_register_types(fk.reg, NULL), CORE_OK);
    assert_int_equal(es_mem_store_new(&fk.store, fk.reg, NULL), CORE_OK);
    assert_int_equal(es_repo_new(&orders, &ordering_order_type, fk.store, events, 0, NULL),
                     CORE_OK);
    assert_int_equal(es_repo_new(&fk.quiet, &ordering_order_type, fk.store, NULL, 0, NULL),
                     CORE_OK);
    app.orders = orders;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_alloc_fail_after(-1);
    es_repo_free(orders);
    es_repo_free(fk.quiet);
    es_store_free(fk.store);
    es_registry_free(fk.reg);
    ddd_dispatcher_free(events);
    app.orders = orders = NULL;
    assert_int_equal(core_alloc_live(), live_before);
    return 0;
}

static const struct ordering_item items[] = {
    {"store-1", "product-1", "Waldorf Books", "EDA with Golang", 49.99, 2},
    {"store-2", "product-2", "Nic & Naks", "Wizard w/ crystal", 9.98, 3},
};

/* Stores an order in the given status through its events, without publishing (no calls
 * recorded). The statuses reachable by events: pending, ready, completed, cancelled. */
static void preload(const char *id, enum ordering_status status)
{
    struct ordering_order o = ORDERING_ORDER_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(
        ordering_order_create(&o, id, "customer-1", "payment-1", "shopping-1", items, 2, &err),
        CORE_OK);
    if (status == ORDERING_STATUS_READY || status == ORDERING_STATUS_COMPLETED)
        assert_int_equal(ordering_order_ready(&o, &err), CORE_OK);
    if (status == ORDERING_STATUS_COMPLETED)
        assert_int_equal(ordering_order_complete(&o, "invoice-0", &err), CORE_OK);
    if (status == ORDERING_STATUS_CANCELLED)
        assert_int_equal(ordering_order_cancel(&o, &err), CORE_OK);
    assert_int_equal(es_repo_save(fk.quiet, &o, &err), CORE_OK);
    assert_int_equal(o.status, status);
    ordering_order_release(&o);
}

/* Someone else readies order-1 (meddling inside a depot call). */
static void ready_order_1_meanwhile(void)
{
    struct ordering_order o = stored("order-1");
    assert_int_equal(ordering_order_ready(&o, NULL), CORE_OK);
    assert_int_equal(es_repo_save(fk.quiet, &o, NULL), CORE_OK);
    ordering_order_release(&o);
}

/* Someone else creates order-1 with a shopping list of its own (meddling inside a depot call). */
static void create_order_1_meanwhile(void)
{
    struct ordering_order o = ORDERING_ORDER_INIT;
    assert_int_equal(ordering_order_create(&o, "order-1", "customer-1", "payment-1", "shopping-0",
                                           items, 2, NULL),
                     CORE_OK);
    assert_int_equal(es_repo_save(fk.quiet, &o, NULL), CORE_OK);
    ordering_order_release(&o);
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
    assert_string_equal(fk.calls, "authorize(customer-1) confirm(payment-1) "
                                  "create_shopping_list(order-1,2 items,product-1 x2) "
                                  "event(ordering.OrderCreated,order-1)");
    assert_int_equal(stored_version("order-1"), 1);
    struct ordering_order o = stored("order-1");
    assert_int_equal(o.status, ORDERING_STATUS_PENDING);
    assert_string_equal(o.id, "order-1");
    assert_string_equal(o.customer_id, "customer-1");
    assert_string_equal(o.payment_id, "payment-1");
    assert_string_equal(o.shopping_id, "shopping-1");
    assert_string_equal(o.invoice_id, "");
    assert_int_equal(o.nitems, 2);
    assert_string_equal(o.items[1].product_name, "Wizard w/ crystal");
    assert_true(o.items[1].price == 9.98);
    ordering_order_release(&o);
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
    assert_int_equal(stored_version(id), 1);
    char second[ORDERING_ID_SIZE] = "";
    assert_int_equal(
        ordering_app_create_order(&app, NULL, "customer-1", "payment-1", items, 1, second, &err),
        CORE_OK);
    assert_true(core_uuid_valid(second));
    assert_string_not_equal(id, second);
    assert_int_equal(stored_version(second), 1);
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
    assert_string_equal(fk.calls, ""); /* no other module was bothered */
    assert_int_equal(stored_version("order-1"), 1);
    assert_string_equal(id, "");
}

/* Someone creates the same order while depot schedules ours: our append at version 0 conflicts,
 * nothing of ours is stored or published, and the shopping list we had depot create is cancelled
 * again (a local compensation); the caller gets the save's error. */
static void create_order_racing_another_create_is_a_conflict(void **state)
{
    (void)state;
    char id[ORDERING_ID_SIZE] = "";
    core_err err = CORE_ERR_INIT;
    fk.meddle = create_order_1_meanwhile;
    assert_int_equal(
        ordering_app_create_order(&app, "order-1", "customer-1", "payment-1", items, 2, id, &err),
        CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, "saving order order-1: ordering.Order order-1 already exists "
                                 "(expected version 0, stored version 1)");
    assert_string_equal(fk.calls, "authorize(customer-1) confirm(payment-1) "
                                  "create_shopping_list(order-1,2 items,product-1 x2) "
                                  "cancel_shopping_list(shopping-1)"); /* once, no event */
    assert_int_equal(stored_version("order-1"), 1); /* the other one, with its own list */
    struct ordering_order o = stored("order-1");
    assert_string_equal(o.shopping_id, "shopping-0");
    ordering_order_release(&o);
    assert_string_equal(id, "");
}

/* The cancel fails too: that is only logged; the caller still gets the save's error. */
static void create_order_failing_cancel_still_returns_the_save_error(void **state)
{
    (void)state;
    char id[ORDERING_ID_SIZE] = "";
    core_err err = CORE_ERR_INIT;
    fk.meddle = create_order_1_meanwhile;
    fail_next(PORT_CANCEL_LIST, CORE_ERR_UNAVAILABLE, "depot RPC at 127.0.0.1:8085 unreachable");
    assert_int_equal(
        ordering_app_create_order(&app, "order-1", "customer-1", "payment-1", items, 2, id, &err),
        CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, "saving order order-1: ordering.Order order-1 already exists "
                                 "(expected version 0, stored version 1)");
    assert_non_null(strstr(fk.calls, "cancel_shopping_list(shopping-1)"));
    assert_null(strstr(fk.calls, "event("));
    assert_int_equal(stored_version("order-1"), 1);
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
        assert_int_equal(stored_version("order-1"), 0);
    }
}

static void create_order_failing_dependency_saves_nothing(void **state)
{
    (void)state;
    static const struct {
        enum fake_port port;
        core_status st;
        const char *msg;
        const char *calls; /* the calls made up to and including the failing one */
    } cases[] = {
        {PORT_AUTHORIZE, CORE_ERR_NOT_FOUND, "customer customer-1 not found",
         "authorize(customer-1)"},
        {PORT_AUTHORIZE, CORE_ERR_INVALID, "customer is not authorized", "authorize(customer-1)"},
        {PORT_CONFIRM, CORE_ERR_NOT_FOUND, "payment payment-1 not found",
         "authorize(customer-1) confirm(payment-1)"},
        {PORT_CREATE_LIST, CORE_ERR_NOT_FOUND, "product product-1 not found",
         "authorize(customer-1) confirm(payment-1) create_shopping_list(order-1,2 "
         "items,product-1 x2)"},
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
        assert_int_equal(stored_version("order-1"), 0); /* nothing appended */
        assert_string_equal(id, "");
    }
}

static void create_order_failing_handler_is_reported_after_the_save(void **state)
{
    (void)state;
    char id[ORDERING_ID_SIZE] = "";
    core_err err = CORE_ERR_INIT;
    fail_next(PORT_HANDLER, CORE_ERR_UNAVAILABLE,
              "notifications RPC at 127.0.0.1:8085 unreachable");
    assert_int_equal(
        ordering_app_create_order(&app, "order-1", "customer-1", "payment-1", items, 2, id, &err),
        CORE_ERR_UNAVAILABLE);
    assert_string_equal(err.msg, "test.Recorder on ordering.OrderCreated: notifications RPC at "
                                 "127.0.0.1:8085 unreachable");
    /* the dual write: the order is stored all the same */
    assert_int_equal(stored_version("order-1"), 1);
    assert_int_equal(stored_status("order-1"), ORDERING_STATUS_PENDING);
    assert_string_equal(id, "order-1");
}

static void create_order_out_of_memory_at_every_allocation(void **state)
{
    (void)state;
    int failures = 0, after_save = 0;
    for (long n = 0;; n++) {
        char id[ORDERING_ID_SIZE] = "";
        char name[32];
        core_err err = CORE_ERR_INIT;
        snprintf(name, sizeof name, "order-%ld", n);
        fk.calls[0] = '\0';
        core_alloc_fail_after(n);
        core_status st =
            ordering_app_create_order(&app, name, "customer-1", "payment-1", items, 2, id, &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK)
            break;
        assert_int_equal(st, CORE_ERR_NOMEM);
        if (stored_version(name) == 1) { /* failed publishing, after the append: reported */
            assert_string_equal(id, name);
            after_save++;
        } else {
            assert_int_equal(stored_version(name), 0);
            assert_string_equal(id, "");
            assert_null(strstr(fk.calls, "event("));
        }
        failures++;
    }
    assert_true(failures > 10);
    assert_true(after_save >= 1); /* reported, not swallowed */
}

/* ---- CancelOrder ---------------------------------------------------------------------------- */

static void cancel_order_cancels_the_shopping_list_and_publishes(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    preload("order-1", ORDERING_STATUS_PENDING);
    assert_int_equal(ordering_app_cancel_order(&app, "order-1", &err), CORE_OK);
    assert_string_equal(fk.calls, "cancel_shopping_list(shopping-1) "
                                  "event(ordering.OrderCanceled,order-1)");
    assert_int_equal(stored_status("order-1"), ORDERING_STATUS_CANCELLED);
    assert_int_equal(stored_version("order-1"), 2);
}

static void cancel_order_only_when_pending(void **state)
{
    (void)state;
    const enum ordering_status statuses[] = {ORDERING_STATUS_READY, ORDERING_STATUS_COMPLETED,
                                             ORDERING_STATUS_CANCELLED};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        char id[16];
        core_err err = CORE_ERR_INIT;
        snprintf(id, sizeof id, "order-%zu", i);
        preload(id, statuses[i]);
        uint64_t version = stored_version(id);
        assert_int_equal(ordering_app_cancel_order(&app, id, &err), CORE_ERR_INVALID);
        assert_string_equal(err.msg, "the order cannot be cancelled");
        assert_int_equal(stored_status(id), statuses[i]);
        assert_int_equal(stored_version(id), version);
    }
    assert_string_equal(fk.calls, "");
}

static void cancel_order_unknown_id(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(ordering_app_cancel_order(&app, "nope", &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "order nope not found");
    assert_string_equal(fk.calls, "");
}

static void cancel_order_failing_dependency_saves_nothing(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    preload("order-1", ORDERING_STATUS_PENDING);
    fail_next(PORT_CANCEL_LIST, CORE_ERR_INVALID, "the shopping list cannot be cancelled");
    assert_int_equal(ordering_app_cancel_order(&app, "order-1", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the shopping list cannot be cancelled");
    assert_int_equal(stored_status("order-1"), ORDERING_STATUS_PENDING);
    assert_int_equal(stored_version("order-1"), 1);
    assert_null(strstr(fk.calls, "event("));
}

/* The order is readied while depot cancels the list: the cancel's append conflicts (409) and
 * nothing of it is stored or published. */
static void cancel_order_racing_a_change_is_a_conflict(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    preload("order-1", ORDERING_STATUS_PENDING);
    fk.meddle = ready_order_1_meanwhile;
    assert_int_equal(ordering_app_cancel_order(&app, "order-1", &err), CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, "saving order order-1: ordering.Order order-1 was changed by "
                                 "someone else (expected version 1, stored version 2)");
    assert_null(strstr(fk.calls, "event("));
    assert_int_equal(stored_status("order-1"), ORDERING_STATUS_READY);
    assert_int_equal(stored_version("order-1"), 2);
    /* a retry meets the order as it is now */
    assert_int_equal(ordering_app_cancel_order(&app, "order-1", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the order cannot be cancelled");
}

static void cancel_order_failing_handler_is_reported_after_the_save(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    preload("order-1", ORDERING_STATUS_PENDING);
    fail_next(PORT_HANDLER, CORE_ERR_NOT_FOUND, "customer customer-1 not found");
    assert_int_equal(ordering_app_cancel_order(&app, "order-1", &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg,
                        "test.Recorder on ordering.OrderCanceled: customer customer-1 not found");
    assert_int_equal(stored_status("order-1"), ORDERING_STATUS_CANCELLED);
    assert_int_equal(stored_version("order-1"), 2);
}

/* ---- ReadyOrder ----------------------------------------------------------------------------- */

static void ready_order_saves_then_publishes(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    preload("order-1", ORDERING_STATUS_PENDING);
    assert_int_equal(ordering_app_ready_order(&app, "order-1", &err), CORE_OK);
    assert_string_equal(fk.calls, "event(ordering.OrderReadied,order-1)");
    struct ordering_order o = stored("order-1");
    assert_int_equal(o.status, ORDERING_STATUS_READY);
    assert_string_equal(o.invoice_id, ""); /* the InvoiceHandlers' job */
    assert_string_equal(o.shopping_id, "shopping-1");
    assert_int_equal(es_aggregate_version(&o.agg), 2);
    ordering_order_release(&o);
}

static void ready_order_unknown_id(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(ordering_app_ready_order(&app, "nope", &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "order nope not found");
    assert_string_equal(fk.calls, "");
    assert_int_equal(stored_version("nope"), 0); /* a failed load stores nothing */
}

static void ready_order_failing_handler_is_reported_after_the_save(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    preload("order-1", ORDERING_STATUS_PENDING);
    fail_next(PORT_HANDLER, CORE_ERR_UNAVAILABLE, "payments RPC at 127.0.0.1:8085 unreachable");
    assert_int_equal(ordering_app_ready_order(&app, "order-1", &err), CORE_ERR_UNAVAILABLE);
    assert_string_equal(err.msg, "test.Recorder on ordering.OrderReadied: payments RPC at "
                                 "127.0.0.1:8085 unreachable");
    assert_int_equal(stored_status("order-1"), ORDERING_STATUS_READY);
}

static void ready_order_refused_appends_nothing(void **state)
{
    (void)state;
    const enum ordering_status others[] = {ORDERING_STATUS_READY, ORDERING_STATUS_COMPLETED,
                                           ORDERING_STATUS_CANCELLED};
    const char *const ids[] = {"order-r", "order-c", "order-x"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        core_err err = CORE_ERR_INIT;
        preload(ids[i], others[i]);
        uint64_t version = stored_version(ids[i]);
        assert_int_equal(ordering_app_ready_order(&app, ids[i], &err), CORE_ERR_INVALID);
        assert_string_equal(err.msg, "the order cannot be readied");
        /* no OrderReadied: no notification, no second invoice */
        assert_string_equal(fk.calls, "");
        assert_int_equal(stored_status(ids[i]), others[i]);
        assert_int_equal(stored_version(ids[i]), version);
    }
}

/* ---- RecordInvoice -------------------------------------------------------------------------- */

static void record_invoice_raises_order_invoiced(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    char long_id[ORDERING_ID_MAX + 2];
    memset(long_id, 'i', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    preload("order-1", ORDERING_STATUS_READY);
    assert_int_equal(ordering_app_record_invoice(&app, "order-1", "invoice-1", &err), CORE_OK);
    assert_string_equal(fk.calls, "event(ordering.OrderInvoiced,order-1)");
    struct ordering_order o = stored("order-1");
    assert_string_equal(o.invoice_id, "invoice-1");
    assert_int_equal(o.status, ORDERING_STATUS_READY);
    assert_int_equal(es_aggregate_version(&o.agg), 3);
    ordering_order_release(&o);

    assert_int_equal(ordering_app_record_invoice(&app, "nope", "invoice-1", &err),
                     CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "order nope not found");
    assert_int_equal(ordering_app_record_invoice(&app, "order-1", long_id, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice id is too long");
    assert_int_equal(ordering_app_record_invoice(&app, "order-1", "", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice id cannot be blank");
    /* one invoice per order, and only for a ready order */
    assert_int_equal(ordering_app_record_invoice(&app, "order-1", "invoice-2", &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the order already has an invoice");
    assert_int_equal(stored_version("order-1"), 3);
    preload("order-2", ORDERING_STATUS_PENDING);
    assert_int_equal(ordering_app_record_invoice(&app, "order-2", "invoice-2", &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the order is not ready");
    assert_int_equal(stored_version("order-2"), 1);
}

/* ---- CompleteOrder -------------------------------------------------------------------------- */

static void complete_order_records_the_invoice(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    preload("order-1", ORDERING_STATUS_READY);
    assert_int_equal(ordering_app_complete_order(&app, "order-1", "invoice-9", &err), CORE_OK);
    assert_string_equal(fk.calls, "event(ordering.OrderCompleted,order-1)");
    struct ordering_order o = stored("order-1");
    assert_int_equal(o.status, ORDERING_STATUS_COMPLETED);
    assert_string_equal(o.invoice_id, "invoice-9");
    ordering_order_release(&o);

    /* a blank invoice id keeps the one the InvoiceHandlers recorded */
    preload("order-2", ORDERING_STATUS_READY);
    assert_int_equal(ordering_app_record_invoice(&app, "order-2", "invoice-2", &err), CORE_OK);
    assert_int_equal(ordering_app_complete_order(&app, "order-2", "", &err), CORE_OK);
    o = stored("order-2");
    assert_int_equal(o.status, ORDERING_STATUS_COMPLETED);
    assert_string_equal(o.invoice_id, "invoice-2");
    assert_int_equal(es_aggregate_version(&o.agg), 4);
    ordering_order_release(&o);
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
    assert_int_equal(stored_status("order-p"), ORDERING_STATUS_PENDING);
    assert_int_equal(stored_version("order-p"), 1);

    preload("order-1", ORDERING_STATUS_READY);
    core_err_clear(&err);
    assert_int_equal(ordering_app_complete_order(&app, "order-1", long_id, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "the invoice id is too long");
    assert_int_equal(stored_status("order-1"), ORDERING_STATUS_READY);
    assert_int_equal(stored_version("order-1"), 2);
    assert_string_equal(fk.calls, "");
}

/* ---- GetOrder ------------------------------------------------------------------------------- */

static void get_order_rebuilds_the_order(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct ordering_order out = ORDERING_ORDER_INIT;
    preload("order-1", ORDERING_STATUS_READY);
    assert_int_equal(ordering_app_record_invoice(&app, "order-1", "invoice-1", &err), CORE_OK);

    assert_int_equal(ordering_app_get_order(&app, "order-1", &out, &err), CORE_OK);
    assert_string_equal(out.id, "order-1");
    assert_string_equal(out.customer_id, "customer-1");
    assert_string_equal(out.shopping_id, "shopping-1");
    assert_string_equal(out.invoice_id, "invoice-1");
    assert_int_equal(out.status, ORDERING_STATUS_READY);
    assert_int_equal(out.nitems, 2);
    assert_string_equal(out.items[0].store_name, "Waldorf Books");
    assert_int_equal(es_aggregate_version(&out.agg), 3);
    ordering_order_release(&out);

    core_err_clear(&err);
    assert_int_equal(ordering_app_get_order(&app, "nope", &out, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "order nope not found");
    ordering_order_release(&out);
    assert_null(out.items);
    /* queries publish nothing */
    assert_string_equal(fk.calls, "event(ordering.OrderInvoiced,order-1)");
}

/* ---- snapshots and optimistic concurrency (chapter 05) --------------------------------------- */

/* The whole lifecycle: four events; the save that reaches version 3 writes "ordering.OrderV1"
 * (default ES_SNAPSHOT_EVERY 3), and a load starts from it. */
static void a_snapshot_is_written_at_version_three(void **state)
{
    (void)state;
    char id[ORDERING_ID_SIZE] = "";
    core_err err = CORE_ERR_INIT;
    struct es_snapshot snap = ES_SNAPSHOT_INIT;
    assert_int_equal(
        ordering_app_create_order(&app, "order-1", "customer-1", "payment-1", items, 2, id, &err),
        CORE_OK);
    assert_int_equal(ordering_app_ready_order(&app, "order-1", &err), CORE_OK);
    assert_int_equal(es_store_load_snapshot(fk.store, "ordering.Order", "order-1", &snap, &err),
                     CORE_ERR_NOT_FOUND);
    assert_int_equal(ordering_app_record_invoice(&app, "order-1", "invoice-1", &err), CORE_OK);
    assert_int_equal(ordering_app_complete_order(&app, "order-1", "", &err), CORE_OK);
    assert_int_equal(es_store_load_snapshot(fk.store, "ordering.Order", "order-1", &snap, &err),
                     CORE_OK);
    assert_int_equal(snap.version, 3);
    assert_string_equal(snap.name, "ordering.OrderV1");
    es_snapshot_release(&snap);
    struct ordering_order o = stored("order-1"); /* snapshot 3 + OrderCompleted */
    assert_int_equal(es_aggregate_version(&o.agg), 4);
    assert_int_equal(o.status, ORDERING_STATUS_COMPLETED);
    assert_string_equal(o.invoice_id, "invoice-1");
    assert_string_equal(o.shopping_id, "shopping-1");
    assert_int_equal(o.nitems, 2);
    ordering_order_release(&o);
    assert_string_equal(fk.calls, "authorize(customer-1) confirm(payment-1) "
                                  "create_shopping_list(order-1,2 items,product-1 x2) "
                                  "event(ordering.OrderCreated,order-1) "
                                  "event(ordering.OrderReadied,order-1) "
                                  "event(ordering.OrderInvoiced,order-1) "
                                  "event(ordering.OrderCompleted,order-1)");
}

/* Two writers loaded the same version: the second save is a CONFLICT. */
static void a_stale_order_cannot_be_saved(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    preload("order-1", ORDERING_STATUS_PENDING);
    struct ordering_order stale = stored("order-1");
    assert_int_equal(ordering_app_ready_order(&app, "order-1", &err), CORE_OK);
    assert_int_equal(ordering_order_cancel(&stale, &err), CORE_OK);
    assert_int_equal(es_repo_save(orders, &stale, &err), CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, "ordering.Order order-1 was changed by someone else (expected "
                                 "version 1, stored version 2)");
    ordering_order_release(&stale);
    assert_int_equal(stored_status("order-1"), ORDERING_STATUS_READY);
    assert_string_equal(fk.calls, "event(ordering.OrderReadied,order-1)");
}

int main(void)
{
    log_init(LOG_LEVEL_DEBUG); /* run the logging decorator's formatting too */
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(create_order_runs_the_flow_and_saves_a_pending_order),
        T(create_order_without_id_gets_a_uuid),
        T(create_order_with_an_existing_id_is_a_conflict),
        T(create_order_racing_another_create_is_a_conflict),
        T(create_order_failing_cancel_still_returns_the_save_error),
        T(create_order_rule_violations_call_nobody),
        T(create_order_failing_dependency_saves_nothing),
        T(create_order_failing_handler_is_reported_after_the_save),
        T(create_order_out_of_memory_at_every_allocation),
        T(cancel_order_cancels_the_shopping_list_and_publishes),
        T(cancel_order_only_when_pending),
        T(cancel_order_unknown_id),
        T(cancel_order_failing_dependency_saves_nothing),
        T(cancel_order_racing_a_change_is_a_conflict),
        T(cancel_order_failing_handler_is_reported_after_the_save),
        T(ready_order_saves_then_publishes),
        T(ready_order_unknown_id),
        T(ready_order_refused_appends_nothing),
        T(ready_order_failing_handler_is_reported_after_the_save),
        T(record_invoice_raises_order_invoiced),
        T(complete_order_records_the_invoice),
        T(complete_order_failures),
        T(get_order_rebuilds_the_order),
        T(a_snapshot_is_written_at_version_three),
        T(a_stale_order_cannot_be_saved),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
