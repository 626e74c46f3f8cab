/* test_saga.c -- end to end (chapter 08): the create-order saga as the stream shows it.
 *
 * One mallbots process on a fresh database with the nats-server of its own that e2e_open()
 * starts, driven over REST like a user with curl; the test reads the stream (am_stream_read) and
 * cosec.sagas to see the conversation behind each order:
 *   - the happy path: a checkout; ordering creates the order from basketsapi.BasketCheckedOut
 *     (pending), cosec runs cosec.CreateOrder: AuthorizeCustomer, CreateShoppingList (reply
 *     CreatedShoppingListReply with the list's id), ConfirmPayment (the order's total),
 *     InitiateShopping, ApproveOrder, each answered SUCCESS on the saga's reply channel, in that
 *     order, every command and reply carrying the order's id as COMMAND_SAGA_ID / REPLY_SAGA_ID
 *     and every reply its command's id; the saga ends done and the order approved with the list;
 *     a bot then shops, and the order is ready, invoiced, paid and completed;
 *   - a disabled customer: AuthorizeCustomer fails, the saga compensates with RejectOrder only:
 *     the order is rejected and depot made no shopping list;
 *   - a payment that does not cover the total: ConfirmPayment fails, the saga cancels the list
 *     it had made (CancelShoppingListCommand: the list is cancelled) and rejects the order;
 *   - nothing was dead-lettered.
 * Then, with a database and a broker of their own, programs stopped in the middle of several
 * sagas (SIGTERM: a drain; SIGKILL: a crash) and started again on the same database and broker:
 * every saga ends done and every order approved, with exactly one shopping list. One exception,
 * after SIGKILL only: an order stored by ordering whose ordersapi.OrderCreated was never
 * published (the crash fell between the commit and the publish: the dual-write gap that chapter
 * 09's outbox closes) has no saga to run; such orders are printed and not counted, and every
 * order whose OrderCreated is on the stream must end approved.
 * The tests run in order and build on each other. Waits are bounded (order_wait.h); nothing
 * asserts on time.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "am.h"
#include "cosec/saga.h"
#include "customers/commands.h"
#include "depot/commands.h"
#include "e2e.h"
#include "monolith/messages.h"
#include "natsd.h"
#include "order_wait.h"
#include "ordering/commands.h"
#include "ordering/events.h"
#include "payments/commands.h"
#include "pbjson.h"
#include "sec.h"
#include "streams_sql.h"

#define SAGA_WAIT_MS                                                                               \
    60000                /* upper bound of a wait after a restart: a failure, not a measurement    \
                          */
#define RESTART_ORDERS 8 /* sagas running when the program is stopped */

static e2e_app *app;
static es_registry *types; /* every message of the chapter: events, commands, replies */
static char store_id[E2E_ID_MAX], product_id[E2E_ID_MAX], customer_id[E2E_ID_MAX];
static char happy_order[E2E_ID_MAX], happy_list[E2E_ID_MAX];

/* ---- reading the saga's messages from the stream -------------------------------------------- */

#define SEEN_MAX 256
struct saga_msg {
    uint64_t seq;
    char subject[AM_SUBJECT_MAX + 1];
    char id[72];         /* StreamMessage.id */
    char name[96];       /* StreamMessage.name */
    char saga_id[72];    /* COMMAND_SAGA_ID or REPLY_SAGA_ID */
    char saga_name[64];  /* COMMAND_SAGA_NAME or REPLY_SAGA_NAME */
    char outcome[16];    /* REPLY_OUTCOME; "" for a command */
    char command_id[72]; /* REPLY_COMMAND_ID; "" for a command */
    bool is_reply;
    json_t *payload; /* the payload as proto3 JSON (every field present); NULL for none */
};
struct saga_msgs {
    struct saga_msg m[SEEN_MAX];
    int n;
};

static void copy_meta(char *out, size_t size, const ddd_event *ev, const char *key)
{
    const char *v = ddd_event_metadata(ev, key);
    snprintf(out, size, "%s", v ? v : "");
}

static bool is_command_channel(const char *subject)
{
    size_t n = strlen(subject), k = strlen(".commands");
    return n > k && strcmp(subject + n - k, ".commands") == 0;
}

/* Keeps the commands and the saga's replies, in stream order. */
static core_status collect(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct saga_msgs *s = ud;
    bool reply = strcmp(m->subject, COSEC_REPLY_CHANNEL) == 0;
    if (!reply && !is_command_channel(m->subject))
        return CORE_OK;
    if (s->n >= SEEN_MAX)
        return core_err_set(err, CORE_ERR_TOO_LARGE, "more than %d messages", SEEN_MAX);
    struct saga_msg *out = &s->m[s->n];
    memset(out, 0, sizeof *out);
    struct am_envelope env = AM_ENVELOPE_INIT;
    ddd_event *ev = NULL;
    core_status st = am_stream_message_unpack(m->data, m->len, &env, err);
    if (!st)
        st = am_data_unpack(types, env.id, env.name, env.data, env.len, &ev, err);
    if (!st && ddd_event_payload(ev))
        st = pbjson_to_json(ddd_event_payload(ev), &out->payload, err);
    if (!st) {
        out->seq = m->seq;
        out->is_reply = reply;
        snprintf(out->subject, sizeof out->subject, "%s", m->subject);
        snprintf(out->id, sizeof out->id, "%s", env.id);
        snprintf(out->name, sizeof out->name, "%s", env.name);
        copy_meta(out->saga_id, sizeof out->saga_id, ev,
                  reply ? SEC_REPLY_SAGA_ID : SEC_CMD_SAGA_ID);
        copy_meta(out->saga_name, sizeof out->saga_name, ev,
                  reply ? SEC_REPLY_SAGA_NAME : SEC_CMD_SAGA_NAME);
        if (reply) {
            copy_meta(out->outcome, sizeof out->outcome, ev, AM_REPLY_OUTCOME);
            copy_meta(out->command_id, sizeof out->command_id, ev, AM_REPLY_COMMAND_ID);
        }
        s->n++;
    }
    ddd_event_free(ev);
    am_envelope_release(&env);
    return st;
}

static void msgs_release(struct saga_msgs *s)
{
    for (int i = 0; i < s->n; i++)
        json_decref(s->m[i].payload);
    s->n = 0;
}

static am_stream *open_reader(const char *url, const char *name)
{
    am_stream *r = NULL;
    core_err err = CORE_ERR_INIT;
    struct am_js_opts o = AM_JS_OPTS_INIT;
    o.url = url;
    o.stream = "mallbots";
    o.name = name;
    if (am_js_stream_new(&r, &o, &err) != CORE_OK)
        fail_msg("connecting to %s: %s", url, err.msg);
    return r;
}

/* Every command and saga reply on the stream of the program's broker; caller releases. */
static void read_saga_messages(am_stream *r, struct saga_msgs *s)
{
    core_err err = CORE_ERR_INIT;
    s->n = 0;
    core_status st = am_stream_read(r, "mallbots.>", 1, collect, s, &err);
    if (st) {
        msgs_release(s);
        fail_msg("reading the stream: %s", err.msg);
    }
}

/* What one step of the conversation must look like. */
struct want {
    const char *subject;
    const char *name;
    const char *outcome; /* NULL for a command */
};

/* The messages of saga id (in stream order) are exactly want[0..n-1]: names, channels, saga
 * headers and outcomes, each reply answering the command before it. Prints the conversation seen
 * when it differs. Returns the indexes of saga id's messages in s (idx, n entries). */
static void expect_conversation(const struct saga_msgs *s, const char *id, const struct want *want,
                                int n, int *idx)
{
    int k = 0;
    bool same = true;
    for (int i = 0; i < s->n; i++) {
        const struct saga_msg *m = &s->m[i];
        if (strcmp(m->saga_id, id) != 0)
            continue;
        if (k >= n) {
            same = false;
            k++;
            continue;
        }
        idx[k] = i;
        const struct want *w = &want[k];
        same = same && strcmp(m->name, w->name) == 0 && strcmp(m->subject, w->subject) == 0 &&
               strcmp(m->saga_name, COSEC_CREATE_ORDER_SAGA) == 0 && m->is_reply == !!w->outcome &&
               (!w->outcome || strcmp(m->outcome, w->outcome) == 0);
        /* a reply names the command it answers: the one just before it */
        if (w->outcome)
            same = same && k > 0 && strcmp(m->command_id, s->m[idx[k - 1]].id) == 0;
        k++;
    }
    if (same && k == n)
        return;
    fprintf(stderr, "saga %s: expected %d messages, the stream has %d:\n", id, n, k);
    for (int i = 0; i < s->n; i++) {
        const struct saga_msg *m = &s->m[i];
        if (strcmp(m->saga_id, id) == 0)
            fprintf(stderr, "  #%llu %-36s %-45s %s %s (command %s)\n", (unsigned long long)m->seq,
                    m->subject, m->name, m->saga_name, m->outcome, m->command_id);
    }
    fprintf(stderr, "expected:\n");
    for (int i = 0; i < n; i++)
        fprintf(stderr, "  %-36s %-45s %s\n", want[i].subject, want[i].name,
                want[i].outcome ? want[i].outcome : "");
    fail_msg("the saga's conversation differs");
}

/* The saga's row: "done|compensating" as "true|false". */
#define SQL_SAGA_STATE                                                                             \
    "select done::text || '|' || compensating::text from cosec.sagas where id = $1 and name = "    \
    "'" COSEC_CREATE_ORDER_SAGA "'"

/* An order's events as "1:ordering.OrderCreated,2:..." */
#define SQL_ORDER_EVENTS                                                                           \
    "select string_agg(stream_version || ':' || event_name, ',' order by stream_version) "         \
    "from ordering.events where stream_id = $1"

/* ---- REST helpers ------------------------------------------------------------------------- */

/* A basket of quantity x product, for customer, and a payment of amount: returns the
 * basket's id (= the order's id, once checked out) in basket and the payment's in payment. */
/* Waits (SAGA_WAIT_MS at most) until search shows order id with status want; fails the test
 * otherwise. search follows ordering's events in a group of its own, so it lags a little. */
static void search_wait(const char *id, const char *want)
{
    struct timespec pause = {0, 20 * 1000 * 1000};
    const char *last = "(none)";
    char seen[64] = "";
    for (int waited = 0; waited < SAGA_WAIT_MS; waited += 20) {
        int status = 0;
        json_t *j = e2e_call(app, "GET", E2E_F("/api/search/orders/%s", id), NULL, &status);
        const char *s = status == 200 ? e2e_json_str(j, "order.status") : NULL;
        bool done = s && strcmp(s, want) == 0;
        if (s) {
            snprintf(seen, sizeof seen, "%s", s);
            last = seen;
        }
        json_decref(j);
        if (done)
            return;
        nanosleep(&pause, NULL);
    }
    fail_msg("search shows order %s as \"%s\", not \"%s\", after %d ms", id, last, want,
             SAGA_WAIT_MS);
}

static void given_basket(e2e_app *a, const char *customer, const char *product, int quantity,
                         double amount, char *basket, char *payment)
{
    e2e_expect_id(a, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer), basket);
    json_decref(e2e_expect_ok(a, "PUT", E2E_F("/api/baskets/%s/addItem", basket),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":%d}", product, quantity)));
    e2e_expect_id(a, "POST", "/api/payments",
                  E2E_F("{\"customerId\":\"%s\",\"amount\":%.2f}", customer, amount), payment);
}

static void checkout(e2e_app *a, const char *basket, const char *payment)
{
    json_decref(e2e_expect_ok(a, "PUT", E2E_F("/api/baskets/%s/checkout", basket),
                              E2E_F("{\"paymentId\":\"%s\"}", payment)));
}

static void catalog(e2e_app *a, char *store, char *product, char *customer)
{
    e2e_expect_id(a, "POST", "/api/stores", "{\"name\":\"Saga Sounds\",\"location\":\"Level 3\"}",
                  store);
    json_decref(e2e_expect_ok(a, "PUT", E2E_F("/api/stores/%s/participating", store), NULL));
    e2e_expect_id(a, "POST", E2E_F("/api/stores/%s/products", store),
                  "{\"name\":\"Vinyl\",\"description\":\"a record\",\"sku\":\"V-1\",\"price\":10}",
                  product);
    e2e_expect_id(a, "POST", "/api/customers", "{\"name\":\"Sam Saga\",\"smsNumber\":\"555-0188\"}",
                  customer);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void catalog_and_customer(void **state)
{
    (void)state;
    catalog(app, store_id, product_id, customer_id);
}

static void the_saga_approves_an_order_step_by_step(void **state)
{
    (void)state;
    char payment[E2E_ID_MAX];
    given_basket(app, customer_id, product_id, 3, 30, happy_order, payment);
    checkout(app, happy_order, payment);

    /* the order comes a moment later, and the saga approves it with the list depot made */
    assert_true(order_wait_approved(app, happy_order, happy_list));
    json_t *j = e2e_expect_ok(app, "GET", E2E_F("/api/ordering/%s", happy_order), NULL);
    e2e_expect_json_str(j, "order.customerId", customer_id);
    e2e_expect_json_str(j, "order.paymentId", payment);
    e2e_expect_json_str(j, "order.invoiceId", "");
    e2e_expect_json_num(j, "order.items.0.quantity", 3);
    json_decref(j);
    assert_true(order_wait_sql(app, "true|false", SQL_SAGA_STATE, happy_order));
    e2e_expect_sql(app, happy_list, "select data->>'shoppingId' from cosec.sagas where id = $1",
                   happy_order);
    e2e_expect_sql(app, happy_order, "select order_id from depot.shopping_lists where id = $1",
                   happy_list);
    e2e_expect_sql(app, "available", "select status from depot.shopping_lists where id = $1",
                   happy_list);
    e2e_expect_sql(app, "approved", SQL_ORDER_STATUS, happy_order);
    search_wait(happy_order, "Approved"); /* not "New", as in the book's search */
    e2e_expect_sql(app, happy_list, SQL_ORDER_SHOPPING, happy_order);

    static const struct want want[] = {
        {CUSTOMERS_COMMAND_CHANNEL, CUSTOMERSAPI_AUTHORIZE_CUSTOMER, NULL},
        {COSEC_REPLY_CHANNEL, AM_REPLY_SUCCESS, "SUCCESS"},
        {DEPOT_COMMAND_CHANNEL, DEPOTAPI_CREATE_SHOPPING_LIST_COMMAND, NULL},
        {COSEC_REPLY_CHANNEL, DEPOTAPI_CREATED_SHOPPING_LIST_REPLY, "SUCCESS"},
        {PAYMENTS_COMMAND_CHANNEL, PAYMENTSAPI_CONFIRM_PAYMENT, NULL},
        {COSEC_REPLY_CHANNEL, AM_REPLY_SUCCESS, "SUCCESS"},
        {DEPOT_COMMAND_CHANNEL, DEPOTAPI_INITIATE_SHOPPING_COMMAND, NULL},
        {COSEC_REPLY_CHANNEL, AM_REPLY_SUCCESS, "SUCCESS"},
        {ORDERING_COMMAND_CHANNEL, ORDERSAPI_APPROVE_ORDER, NULL},
        {COSEC_REPLY_CHANNEL, AM_REPLY_SUCCESS, "SUCCESS"},
    };
    int n = sizeof want / sizeof want[0], idx[sizeof want / sizeof want[0]];
    am_stream *r = open_reader(e2e_app_broker(app)->url, "test_saga");
    static struct saga_msgs s;
    read_saga_messages(r, &s);
    expect_conversation(&s, happy_order, want, n, idx);
    /* the payloads: what each module was asked, and what depot answered */
    json_t *p[10];
    for (int i = 0; i < n; i++)
        p[i] = s.m[idx[i]].payload;
    e2e_expect_json_str(p[0], "id", customer_id);
    e2e_expect_json_str(p[2], "orderId", happy_order);
    assert_int_equal(e2e_json_len(p[2], "items"), 1);
    e2e_expect_json_str(p[2], "items.0.productId", product_id);
    e2e_expect_json_str(p[2], "items.0.storeId", store_id);
    e2e_expect_json_num(p[2], "items.0.quantity", 3);
    e2e_expect_json_str(p[3], "id", happy_list);
    e2e_expect_json_str(p[4], "id", payment);
    e2e_expect_json_num(p[4], "amount", 30); /* the order's total: 3 x 10 */
    e2e_expect_json_str(p[6], "id", happy_list);
    e2e_expect_json_str(p[8], "id", happy_order);
    e2e_expect_json_str(p[8], "shoppingId", happy_list);
    assert_null(p[1]); /* am.Success carries no payload */
    msgs_release(&s);
    am_stream_free(r);
}

static void the_approved_order_is_shopped_and_completed(void **state)
{
    (void)state;
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/assign", happy_list),
                              "{\"botId\":\"bot-8\"}"));
    json_decref(
        e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/complete", happy_list), NULL));
    json_t *j = order_wait(app, happy_order, "ready", true);
    assert_non_null(j);
    char invoice[E2E_ID_MAX];
    snprintf(invoice, sizeof invoice, "%s", e2e_json_str(j, "order.invoiceId"));
    json_decref(j);
    e2e_expect_sql(app, "30.0000", "select amount::text from payments.invoices where id = $1",
                   invoice);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/payments/invoices/%s/pay", invoice), NULL));
    j = order_wait(app, happy_order, "completed", true);
    assert_non_null(j);
    e2e_expect_json_str(j, "order.shoppingId", happy_list);
    e2e_expect_json_str(j, "order.invoiceId", invoice);
    json_decref(j);
}

static void a_disabled_customer_gets_the_order_rejected(void **state)
{
    (void)state;
    char customer[E2E_ID_MAX], order[E2E_ID_MAX], payment[E2E_ID_MAX];
    e2e_expect_id(app, "POST", "/api/customers",
                  "{\"name\":\"Dora Disabled\",\"smsNumber\":\"555-0189\"}", customer);
    given_basket(app, customer, product_id, 1, 10, order, payment);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/customers/%s/disable", customer), NULL));
    checkout(app, order, payment); /* accepted: the rule is checked by the saga */

    json_t *j = order_wait(app, order, "rejected", false);
    assert_non_null(j);
    e2e_expect_json_str(j, "order.shoppingId", "");
    json_decref(j);
    assert_true(order_wait_sql(app, "true|true", SQL_SAGA_STATE, order));
    e2e_expect_sql(app, "rejected", SQL_ORDER_STATUS, order);
    e2e_expect_sql(app, "0", "select count(*) from depot.shopping_lists where order_id = $1",
                   order);
    search_wait(order, "Rejected");

    static const struct want want[] = {
        {CUSTOMERS_COMMAND_CHANNEL, CUSTOMERSAPI_AUTHORIZE_CUSTOMER, NULL},
        {COSEC_REPLY_CHANNEL, AM_REPLY_FAILURE, "FAILURE"},
        {ORDERING_COMMAND_CHANNEL, ORDERSAPI_REJECT_ORDER, NULL},
        {COSEC_REPLY_CHANNEL, AM_REPLY_SUCCESS, "SUCCESS"},
    };
    int idx[4];
    am_stream *r = open_reader(e2e_app_broker(app)->url, "test_saga");
    static struct saga_msgs s;
    read_saga_messages(r, &s);
    expect_conversation(&s, order, want, 4, idx);
    e2e_expect_json_str(s.m[idx[0]].payload, "id", customer);
    e2e_expect_json_str(s.m[idx[2]].payload, "id", order);
    msgs_release(&s);
    am_stream_free(r);

    /* a rejected order is no work for anyone: it cannot be cancelled either */
    e2e_expect_error(app, "DELETE", E2E_F("/api/ordering/%s", order), NULL, 400,
                     "the order cannot be cancelled");
}

static void a_payment_short_of_the_total_cancels_the_list(void **state)
{
    (void)state;
    char order[E2E_ID_MAX], payment[E2E_ID_MAX];
    given_basket(app, customer_id, product_id, 2, 5, order, payment); /* 2 x 10 = 20, paid 5 */
    checkout(app, order, payment);

    json_t *j = order_wait(app, order, "rejected", false);
    assert_non_null(j);
    e2e_expect_json_str(j, "order.shoppingId", "");
    json_decref(j);
    assert_true(order_wait_sql(app, "true|true", SQL_SAGA_STATE, order));
    /* depot made the list (step 2), the saga had it cancelled (step 2's compensation) */
    e2e_expect_sql(app, "1", "select count(*) from depot.shopping_lists where order_id = $1",
                   order);
    e2e_expect_sql(app, "cancelled", "select status from depot.shopping_lists where order_id = $1",
                   order);

    static const struct want want[] = {
        {CUSTOMERS_COMMAND_CHANNEL, CUSTOMERSAPI_AUTHORIZE_CUSTOMER, NULL},
        {COSEC_REPLY_CHANNEL, AM_REPLY_SUCCESS, "SUCCESS"},
        {DEPOT_COMMAND_CHANNEL, DEPOTAPI_CREATE_SHOPPING_LIST_COMMAND, NULL},
        {COSEC_REPLY_CHANNEL, DEPOTAPI_CREATED_SHOPPING_LIST_REPLY, "SUCCESS"},
        {PAYMENTS_COMMAND_CHANNEL, PAYMENTSAPI_CONFIRM_PAYMENT, NULL},
        {COSEC_REPLY_CHANNEL, AM_REPLY_FAILURE, "FAILURE"},
        {DEPOT_COMMAND_CHANNEL, DEPOTAPI_CANCEL_SHOPPING_LIST_COMMAND, NULL},
        {COSEC_REPLY_CHANNEL, AM_REPLY_SUCCESS, "SUCCESS"},
        {ORDERING_COMMAND_CHANNEL, ORDERSAPI_REJECT_ORDER, NULL},
        {COSEC_REPLY_CHANNEL, AM_REPLY_SUCCESS, "SUCCESS"},
    };
    int idx[10];
    am_stream *r = open_reader(e2e_app_broker(app)->url, "test_saga");
    static struct saga_msgs s;
    read_saga_messages(r, &s);
    expect_conversation(&s, order, want, 10, idx);
    const char *list = e2e_json_str(s.m[idx[3]].payload, "id");
    assert_non_null(list);
    e2e_expect_json_num(s.m[idx[4]].payload, "amount", 20);
    e2e_expect_json_str(s.m[idx[6]].payload, "id", list); /* the list it made is cancelled */
    e2e_expect_sql(app, order, "select order_id from depot.shopping_lists where id = $1", list);
    msgs_release(&s);
    am_stream_free(r);
}

static core_status count_one(void *ud, const struct am_stored_msg *m, core_err *err)
{
    (void)err;
    fprintf(stderr, "dead letter #%llu on %s: %s\n", (unsigned long long)m->seq, m->subject,
            am_stored_header(m, "Mallbots-Dead-Reason")
                ? am_stored_header(m, "Mallbots-Dead-Reason")
                : "?");
    (*(int *)ud)++;
    return CORE_OK;
}

static void nothing_is_dead_lettered(void **state)
{
    (void)state;
    am_stream *r = open_reader(e2e_app_broker(app)->url, "test_saga");
    core_err err = CORE_ERR_INIT;
    int dead = 0;
    core_status st = am_stream_read(r, "mallbots.dead.>", 1, count_one, &dead, &err);
    am_stream_free(r);
    assert_int_equal(st, CORE_OK);
    assert_int_equal(dead, 0);
    e2e_expect_sql(app, "0", "select count(*) from cosec.sagas where not done", NULL);
    e2e_expect_sql(app, "3", "select count(*) from cosec.sagas", NULL);
}

/* ---- a restart in the middle of several sagas -------------------------------------------- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts the program on db and broker d (log "<name>.app.log"); fails the test when it does not
 * come up. */
static e2e_app *start_on(const struct e2e_db *db, const struct natsd *d, const char *name)
{
    e2e_app *a = NULL;
    core_err err = CORE_ERR_INIT;
    struct e2e_app_opts o = E2E_APP_OPTS_INIT;
    o.name = name;
    o.pg_conn = db->conninfo;
    o.nats_url = d->url;
    if (e2e_app_start(&a, &o, &err) != CORE_OK)
        fail_msg("starting %s: %s", name, err.msg);
    return a;
}

/* Adds the order id of each ordersapi.OrderCreated on the stream to the list ud. */
struct created {
    char ids[RESTART_ORDERS * 2][E2E_ID_MAX];
    int n;
};
static core_status collect_created(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct created *c = ud;
    struct am_envelope env = AM_ENVELOPE_INIT;
    ddd_event *ev = NULL;
    core_status st = am_stream_message_unpack(m->data, m->len, &env, err);
    if (!st && strcmp(env.name, ORDERSAPI_ORDER_CREATED) == 0 &&
        !(st = am_data_unpack(types, env.id, env.name, env.data, env.len, &ev, err)) &&
        c->n < RESTART_ORDERS * 2)
        snprintf(c->ids[c->n++], E2E_ID_MAX, "%s",
                 ((const Ordersapi__OrderCreated *)ddd_event_payload(ev))->id);
    ddd_event_free(ev);
    am_envelope_release(&env);
    return st;
}

static bool was_announced(const struct created *c, const char *id)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->ids[i], id) == 0)
            return true;
    return false;
}

/* RESTART_ORDERS checkouts, the program stopped with sig at once (sagas in flight), started
 * again on the same database and broker: every saga ends done, every order approved with one
 * shopping list, and the second program shuts down cleanly. */
static void sagas_survive_a_stop(int sig, const char *tag)
{
    struct e2e_db db = E2E_DB_INIT;
    struct natsd d = {0};
    core_err err = CORE_ERR_INIT;
    char store[E2E_ID_MAX], product[E2E_ID_MAX], customer[E2E_ID_MAX];
    static char orders[RESTART_ORDERS][E2E_ID_MAX];
    assert_int_equal(e2e_db_create(&db, tag, &err), CORE_OK);
    if (natsd_init(&d, tag) != 0 || natsd_start(&d) != 0 || !natsd_wait_ready(&d, 10000)) {
        natsd_release(&d);
        e2e_db_drop(&db, NULL);
        fail_msg("%s: no nats-server", tag);
    }

    e2e_app *a = start_on(&db, &d, E2E_F("%s-1", tag));
    catalog(a, store, product, customer);
    char payments[RESTART_ORDERS][E2E_ID_MAX];
    for (int i = 0; i < RESTART_ORDERS; i++)
        given_basket(a, customer, product, 1, 10, orders[i], payments[i]);
    for (int i = 0; i < RESTART_ORDERS; i++)
        checkout(a, orders[i], payments[i]);
    if (sig != SIGTERM) /* e2e_app_stop() sends SIGTERM itself; a second one is no drain */
        kill(e2e_app_pid(a), sig);
    int code = 0;
    e2e_app_stop(a, &code, NULL);
    e2e_app_free(a);
    long long done = -1;
    fprintf(stderr, "%s: stopped with signal %d after %d checkouts (exit %d)\n", tag, sig,
            RESTART_ORDERS, code);
    if (sig == SIGTERM)
        assert_int_equal(code, 0); /* a drain is a clean exit */

    a = start_on(&db, &d, E2E_F("%s-2", tag));
    /* every saga done (bounded: a wait that ends early only when all are) */
    long long deadline = now_ms() + SAGA_WAIT_MS;
    for (;;) {
        done = e2e_sql_long(a, "select count(*) from cosec.sagas where done", 0, NULL);
        if (done == RESTART_ORDERS || now_ms() > deadline)
            break;
        nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
    }
    /* then the orders whose OrderCreated is on the stream: those must have their saga */
    static struct created created;
    created.n = 0;
    am_stream *r = open_reader(d.url, "test_saga_restart");
    core_status rst = am_stream_read(r, ORDERING_ORDER_CHANNEL, 1, collect_created, &created, &err);
    am_stream_free(r);
    int gap = 0;
    for (int i = 0; i < RESTART_ORDERS; i++) {
        if (!was_announced(&created, orders[i])) {
            gap++;
            fprintf(stderr, "%s: order %s: OrderCreated was never published (dual-write gap)\n",
                    tag, orders[i]);
        }
    }
    if (done != RESTART_ORDERS - gap)
        fprintf(stderr, "%s: %lld of %d sagas done after the restart\n", tag, done,
                RESTART_ORDERS - gap);
    /* every order approved with one list; the checks count, so that the program, the database
     * and the broker are ended before the test fails */
    int approved = 0, wrong = 0;
    for (int i = 0; i < RESTART_ORDERS; i++) {
        char list[E2E_ID_MAX];
        const char *id[] = {orders[i]};
        if (!was_announced(&created, orders[i]))
            continue;
        bool ok = order_wait_approved(a, orders[i], list);
        approved += ok;
        long long lists =
            e2e_sql_long(a, "select count(*) from depot.shopping_lists where order_id = $1", 1, id);
        char *status = e2e_sql_value(
            a, "select string_agg(status, ',') from depot.shopping_lists where order_id = $1", 1,
            id);
        if (!ok || lists != 1 || !status || strcmp(status, "available") != 0) {
            wrong++;
            char *saga = e2e_sql_value(a,
                                       "select concat_ws('|', 'step ' || step, 'done ' || done, "
                                       "'compensating ' || compensating, 'awaiting ' || awaiting) "
                                       "from cosec.sagas where id = $1",
                                       1, id);
            char *events = e2e_sql_value(a, SQL_ORDER_EVENTS, 1, id);
            fprintf(stderr, "%s: order %s: lists %lld (%s), saga %s, order events %s\n", tag,
                    orders[i], lists, status ? status : "none", saga ? saga : "none",
                    events ? events : "none");
            core_free(saga);
            core_free(events);
        }
        core_free(status);
    }
    long long compensated =
        e2e_sql_long(a, "select count(*) from cosec.sagas where compensating", 0, NULL);
    core_status st = e2e_app_stop(a, &code, &err);
    e2e_app_free(a);
    e2e_db_drop(&db, NULL);
    natsd_release(&d);
    assert_int_equal(rst, CORE_OK);
    if (sig == SIGTERM)
        assert_int_equal(gap, 0); /* a drain publishes what it stored */
    assert_int_equal(done, RESTART_ORDERS - gap);
    assert_int_equal(approved, RESTART_ORDERS - gap);
    assert_int_equal(wrong, 0);
    assert_int_equal(compensated, 0);
    assert_int_equal(st, CORE_OK);
    assert_int_equal(code, 0);
}

static void sagas_survive_a_drain_and_restart(void **state)
{
    (void)state;
    sagas_survive_a_stop(SIGTERM, "saga_term");
}

static void sagas_survive_a_crash_and_restart(void **state)
{
    (void)state;
    sagas_survive_a_stop(SIGKILL, "saga_kill");
}

int main(void)
{
    core_err err = CORE_ERR_INIT;
    if (es_registry_new(&types, &err) || monolith_register_messages(types, &err)) {
        fprintf(stderr, "test_saga: %s\n", err.msg);
        es_registry_free(types);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalog_and_customer),
        cmocka_unit_test(the_saga_approves_an_order_step_by_step),
        cmocka_unit_test(the_approved_order_is_shopped_and_completed),
        cmocka_unit_test(a_disabled_customer_gets_the_order_rejected),
        cmocka_unit_test(a_payment_short_of_the_total_cancels_the_list),
        cmocka_unit_test(nothing_is_dead_lettered),
        cmocka_unit_test(e2e_shuts_down_cleanly),
        cmocka_unit_test(sagas_survive_a_drain_and_restart),
        cmocka_unit_test(sagas_survive_a_crash_and_restart),
    };
    int rc = e2e_run_group("saga", &app, tests);
    es_registry_free(types);
    am_js_library_close();
    return rc;
}
