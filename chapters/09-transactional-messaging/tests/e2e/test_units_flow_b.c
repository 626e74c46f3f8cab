/* test_units_flow_b.c -- end to end (chapter 09): customers, payments and depot write their
 * changes and their messages in one transaction (the outbox) and handle each message once (the
 * inbox).
 *
 * One mallbots process on a fresh database with the nats-server of its own that e2e_open()
 * starts, run with LOG_LEVEL=INFO, driven over REST like a user with curl; the test reads the
 * program's tables with SQL, its stream with am_stream_read() and its log. The tests run in
 * order and build on each other:
 *   - a registered customer and its customersapi.CustomerRegistered row of customers.outbox are
 *     stored together, and the relay publishes the row; changing the SMS number too;
 *   - a failing step leaves nothing: while a trigger refuses rows of <schema>.outbox,
 *     registering a customer, completing a shopping list and paying an invoice each fail, and
 *     neither the change nor an outbox row is stored (the customer does not exist, the list stays
 *     assigned, the invoice pending); without the trigger the same request succeeds;
 *   - an order goes through the saga to approved: the saga's commands to customers, depot and
 *     payments are each claimed once in the module's inbox;
 *   - a completed list commits with its depotapi.ShoppingListCompleted row; the order becomes
 *     ready and invoiced, and the OrderReadied message is in payments.inbox;
 *   - a message delivered again under the same message id (the stored message published again
 *     with a new Nats-Msg-Id, so that the stream's duplicate window lets it through) has one
 *     effect: the module's inbox holds its id once, the program logs that it skipped it, and
 *     OrderReadied -> still one invoice and the handler ran once (one "invoiced" line in the
 *     log); CreateShoppingList -> one list and the handler ran once (one "has shopping list"
 *     line); AuthorizeCustomer and StoreCreated -> skipped;
 *   - the paid invoice commits with its paymentsapi.InvoicePaid row and the order completes.
 * Waits are bounded; nothing asserts on time. Against chapter 08's program it fails at the first
 * outbox row (there is no outbox). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <jansson.h>
#include <nats/nats.h>

#include "am.h"
#include "customers/commands.h"
#include "depot/commands.h"
#include "e2e.h"
#include "monolith/messages.h"
#include "natsd.h"
#include "order_wait.h"
#include "ordering/events.h"
#include "payments/handlers.h"
#include "pbjson.h"
#include "stores/events.h"

#define WAIT_MS 20000 /* upper bound of every wait for the program */

static e2e_app *app;
static es_registry *types; /* every message of the chapter */
static char store_id[E2E_ID_MAX], product_id[E2E_ID_MAX], customer_id[E2E_ID_MAX];
static char order_id[E2E_ID_MAX], list_id[E2E_ID_MAX], invoice_id[E2E_ID_MAX];

static void pause_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* ---- SQL ---------------------------------------------------------------------------------- */

/* count(*) of sql with up to two parameters. */
static long long count2(const char *sql, const char *p1, const char *p2)
{
    const char *p[] = {p1, p2};
    return e2e_sql_long(app, sql, p2 ? 2 : 1, p);
}

/* The outbox rows of schema named name whose data holds text (an id of the payload). */
static long long outbox_rows(const char *schema, const char *name, const char *text)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM %s.outbox WHERE name = $1 "
             "AND position(convert_to($2, 'UTF8') in data) > 0",
             schema);
    return count2(sql, name, text);
}

/* The same for the inbox. */
static long long inbox_rows(const char *schema, const char *name, const char *text)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM %s.inbox WHERE name = $1 "
             "AND position(convert_to($2, 'UTF8') in data) > 0",
             schema);
    return count2(sql, name, text);
}

/* Waits until every outbox row of schema whose data holds text is published. */
static bool wait_published(const char *schema, const char *text)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM %s.outbox WHERE published_at IS NULL "
             "AND position(convert_to($1, 'UTF8') in data) > 0",
             schema);
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        if (count2(sql, text, NULL) == 0)
            return true;
        pause_ms(50);
    }
    return false;
}

/* A trigger that refuses every new row of <schema>.outbox (on) or its removal (off). */
static void refuse_outbox(const char *schema, bool on)
{
    char sql[512];
    if (on) {
        assert_true(e2e_sql_ok(app,
                               "CREATE OR REPLACE FUNCTION public.test_refuse() RETURNS trigger "
                               "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the "
                               "test'; END $$",
                               0, NULL));
        snprintf(sql, sizeof sql,
                 "CREATE TRIGGER test_refuse BEFORE INSERT ON %s.outbox "
                 "FOR EACH ROW EXECUTE FUNCTION public.test_refuse()",
                 schema);
    } else {
        snprintf(sql, sizeof sql, "DROP TRIGGER test_refuse ON %s.outbox", schema);
    }
    assert_true(e2e_sql_ok(app, sql, 0, NULL));
}

/* ---- the stream --------------------------------------------------------------------------- */

static am_stream *open_reader(void)
{
    am_stream *r = NULL;
    core_err err = CORE_ERR_INIT;
    struct am_js_opts o = AM_JS_OPTS_INIT;
    o.url = e2e_app_broker(app)->url;
    o.stream = "mallbots";
    o.name = "test_units_flow_b";
    if (am_js_stream_new(&r, &o, &err) != CORE_OK)
        fail_msg("connecting to %s: %s", o.url, err.msg);
    return r;
}

/* A stored message (copied), found by its name and a field of its payload. */
struct found {
    const char *name;  /* what to look for */
    const char *field; /* a string field of the payload (JSON name) */
    const char *value; /* ... that must have this value */
    int n;             /* how many matched */
    uint64_t seq;      /* the first match: */
    char subject[AM_SUBJECT_MAX];
    char id[128]; /* its envelope id (= the inbox key) */
    unsigned char *data;
    size_t len;
    size_t n_headers;
    char keys[16][64], values[16][256];
};

static core_status look(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct found *f = ud;
    struct am_envelope env = AM_ENVELOPE_INIT;
    ddd_event *ev = NULL;
    json_t *payload = NULL;
    core_status st = am_stream_message_unpack(m->data, m->len, &env, err);
    if (st || strcmp(env.name, f->name) != 0) {
        am_envelope_release(&env);
        return CORE_OK; /* not one: other messages may not decode with the registry */
    }
    if (!(st = am_data_unpack(types, env.id, env.name, env.data, env.len, &ev, err)) &&
        ddd_event_payload(ev))
        st = pbjson_to_json(ddd_event_payload(ev), &payload, err);
    if (!st && payload && strcmp(e2e_json_str(payload, f->field), f->value) == 0 && f->n++ == 0) {
        f->seq = m->seq;
        snprintf(f->subject, sizeof f->subject, "%s", m->subject);
        snprintf(f->id, sizeof f->id, "%s", env.id);
        f->data = malloc(m->len);
        assert_non_null(f->data);
        memcpy(f->data, m->data, m->len);
        f->len = m->len;
        for (size_t i = 0; i < m->n_headers && f->n_headers < 16; i++) {
            snprintf(f->keys[f->n_headers], sizeof f->keys[0], "%s", m->headers[i].key);
            snprintf(f->values[f->n_headers], sizeof f->values[0], "%s", m->headers[i].value);
            f->n_headers++;
        }
    }
    json_decref(payload);
    ddd_event_free(ev);
    am_envelope_release(&env);
    return st;
}

/* Finds the messages called name on subject (a filter) whose payload's field is value. */
static void find(struct found *f, const char *subject, const char *name, const char *field,
                 const char *value)
{
    memset(f, 0, sizeof *f);
    f->name = name;
    f->field = field;
    f->value = value;
    am_stream *r = open_reader();
    core_err err = CORE_ERR_INIT;
    if (am_stream_read(r, subject, 1, look, f, &err) != CORE_OK)
        fail_msg("reading %s: %s", subject, err.msg);
    am_stream_free(r);
    if (f->n != 1)
        fail_msg("%d messages %s with %s %s on %s, want one", f->n, name, field, value, subject);
}

/* Publishes the found message again, with every header of it but a NEW Nats-Msg-Id, so that
 * the stream stores it (its duplicate window would drop the same Nats-Msg-Id) and the consumers
 * get it with its own message id (the envelope's): a redelivery as the inbox sees it. Returns
 * its stream sequence. */
static uint64_t publish_again(const struct found *f)
{
    natsConnection *nc = NULL;
    natsMsg *msg = NULL, *reply = NULL;
    char again[160];
    snprintf(again, sizeof again, "%s-again", f->id);
    if (natsConnection_ConnectTo(&nc, e2e_app_broker(app)->url) != NATS_OK ||
        natsMsg_Create(&msg, f->subject, NULL, (const char *)f->data, (int)f->len) != NATS_OK)
        fail_msg("nats: %s", nats_GetLastError(NULL));
    for (size_t i = 0; i < f->n_headers; i++) {
        if (strcmp(f->keys[i], AM_MSG_ID_HDR) != 0 &&
            natsMsgHeader_Add(msg, f->keys[i], f->values[i]) != NATS_OK)
            fail_msg("nats header %s: %s", f->keys[i], nats_GetLastError(NULL));
    }
    if (natsMsgHeader_Set(msg, AM_MSG_ID_HDR, again) != NATS_OK ||
        natsConnection_RequestMsg(&reply, nc, msg, 5000) != NATS_OK)
        fail_msg("publishing %s again: %s", f->id, nats_GetLastError(NULL));
    json_error_t jerr;
    json_t *ack =
        json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, &jerr);
    json_t *seq = json_object_get(ack, "seq");
    if (!json_is_integer(seq) || json_object_get(ack, "duplicate"))
        fail_msg("the stream did not store %s again: %.*s", f->id, natsMsg_GetDataLength(reply),
                 natsMsg_GetData(reply));
    uint64_t out = (uint64_t)json_integer_value(seq);
    json_decref(ack);
    natsMsg_Destroy(reply);
    natsMsg_Destroy(msg);
    natsConnection_Destroy(nc);
    return out;
}

/* Waits until group has acknowledged everything up to seq. */
static void wait_acked(const char *group, uint64_t seq)
{
    am_stream *r = open_reader();
    struct am_group_info info = {0};
    core_err err = CORE_ERR_INIT;
    for (int waited = 0;; waited += 50) {
        if (am_stream_group_info(r, group, &info, &err) != CORE_OK)
            fail_msg("group %s: %s", group, err.msg);
        if ((info.ack_floor >= seq && info.ack_pending == 0) || waited >= WAIT_MS)
            break;
        pause_ms(50);
    }
    am_stream_free(r);
    if (info.ack_floor < seq || info.ack_pending != 0)
        fail_msg("group %s: acknowledged up to #%llu (%llu pending), want #%llu", group,
                 (unsigned long long)info.ack_floor, (unsigned long long)info.ack_pending,
                 (unsigned long long)seq);
}

/* The number of lines of the program's log that contain both texts. */
static int log_lines_with(const char *a, const char *b)
{
    FILE *f = fopen(e2e_app_log_path(app), "r");
    if (!f)
        fail_msg("cannot open %s", e2e_app_log_path(app));
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, a) && strstr(line, b);
    fclose(f);
    return n;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void a_customer_commits_with_its_outbox_row(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", "/api/customers",
                  "{\"name\":\"Olive Outbox\",\"smsNumber\":\"555-0101\"}", customer_id);
    assert_int_equal(
        count2("SELECT count(*) FROM customers.customers WHERE id = $1", customer_id, NULL), 1);
    assert_int_equal(outbox_rows("customers", "customersapi.CustomerRegistered", customer_id), 1);
    assert_true(wait_published("customers", customer_id));
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/customers/%s/change-sms", customer_id),
                              "{\"smsNumber\":\"555-0102\"}"));
    assert_int_equal(outbox_rows("customers", "customersapi.CustomerSmsChanged", customer_id), 1);
    assert_true(wait_published("customers", customer_id));
}

static void a_refused_outbox_row_leaves_no_customer(void **state)
{
    (void)state;
    refuse_outbox("customers", true);
    int status = 0;
    json_t *body = e2e_call(app, "POST", "/api/customers",
                            "{\"name\":\"Never Stored\",\"smsNumber\":\"555-0199\"}", &status);
    json_decref(body);
    refuse_outbox("customers", false);
    assert_int_not_equal(status, 200);
    assert_int_equal(
        count2("SELECT count(*) FROM customers.customers WHERE name = $1", "Never Stored", NULL),
        0);
    assert_int_equal(outbox_rows("customers", "customersapi.CustomerRegistered", "Never Stored"),
                     0);
    char again[E2E_ID_MAX];
    e2e_expect_id(app, "POST", "/api/customers",
                  "{\"name\":\"Never Stored\",\"smsNumber\":\"555-0199\"}", again);
    assert_int_equal(outbox_rows("customers", "customersapi.CustomerRegistered", again), 1);
}

static void an_order_goes_through_the_saga_behind_the_inboxes(void **state)
{
    (void)state;
    char payment[E2E_ID_MAX];
    e2e_expect_id(app, "POST", "/api/stores", "{\"name\":\"Inbox Inks\",\"location\":\"Level 1\"}",
                  store_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/participating", store_id), NULL));
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                  "{\"name\":\"Ink\",\"description\":\"blue\",\"sku\":\"I-1\",\"price\":5}",
                  product_id);
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  order_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", order_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":2}", product_id)));
    e2e_expect_id(app, "POST", "/api/payments",
                  E2E_F("{\"customerId\":\"%s\",\"amount\":10}", customer_id), payment);
    assert_int_equal(count2("SELECT count(*) FROM payments.payments WHERE id = $1", payment, NULL),
                     1);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/checkout", order_id),
                              E2E_F("{\"paymentId\":\"%s\"}", payment)));
    assert_true(order_wait_approved(app, order_id, list_id));
    /* every command of the saga claimed once, by the module it went to */
    assert_int_equal(inbox_rows("customers", CUSTOMERSAPI_AUTHORIZE_CUSTOMER, customer_id), 1);
    assert_int_equal(inbox_rows("depot", DEPOTAPI_CREATE_SHOPPING_LIST_COMMAND, order_id), 1);
    assert_int_equal(inbox_rows("depot", DEPOTAPI_INITIATE_SHOPPING_COMMAND, list_id), 1);
    assert_int_equal(inbox_rows("payments", "paymentsapi.ConfirmPayment", payment), 1);
    assert_int_equal(
        count2("SELECT count(*) FROM depot.shopping_lists WHERE order_id = $1", order_id, NULL), 1);
    /* the depot's caches learnt the store and the product behind its inbox */
    assert_true(order_wait_sql(app, "1",
                               "SELECT count(*) FROM depot.inbox WHERE name = "
                               "'storesapi.StoreCreated' AND position(convert_to($1, 'UTF8') "
                               "in data) > 0",
                               store_id));
}

static void a_completed_list_commits_with_its_message(void **state)
{
    (void)state;
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/assign", list_id),
                              "{\"botId\":\"bot-7\"}"));
    refuse_outbox("depot", true);
    int status = 0;
    json_decref(
        e2e_call(app, "PUT", E2E_F("/api/depot/shopping/%s/complete", list_id), NULL, &status));
    refuse_outbox("depot", false);
    assert_int_not_equal(status, 200);
    e2e_expect_sql(app, "assigned", "SELECT status FROM depot.shopping_lists WHERE id = $1",
                   list_id);
    assert_int_equal(outbox_rows("depot", "depotapi.ShoppingListCompleted", list_id), 0);

    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/complete", list_id), NULL));
    e2e_expect_sql(app, "completed", "SELECT status FROM depot.shopping_lists WHERE id = $1",
                   list_id);
    assert_int_equal(outbox_rows("depot", "depotapi.ShoppingListCompleted", list_id), 1);
    json_t *j = order_wait(app, order_id, "ready", true);
    assert_non_null(j);
    snprintf(invoice_id, sizeof invoice_id, "%s", e2e_json_str(j, "order.invoiceId"));
    json_decref(j);
    assert_true(wait_published("depot", list_id));
    /* payments: the invoice, its InvoiceCreated row and the OrderReadied inbox row */
    assert_int_equal(
        count2("SELECT count(*) FROM payments.invoices WHERE order_id = $1", order_id, NULL), 1);
    assert_int_equal(outbox_rows("payments", "paymentsapi.InvoiceCreated", invoice_id), 1);
    assert_int_equal(inbox_rows("payments", ORDERSAPI_ORDER_READIED, order_id), 1);
}

static void order_readied_again_makes_no_second_invoice(void **state)
{
    (void)state;
    struct found f;
    find(&f, ORDERING_ORDER_CHANNEL, ORDERSAPI_ORDER_READIED, "id", order_id);
    assert_int_equal(log_lines_with(E2E_F("order %s invoiced", order_id), f.id), 1);
    uint64_t seq = publish_again(&f);
    free(f.data);
    wait_acked(PAYMENTS_ORDERS_GROUP, seq);
    assert_int_equal(
        count2("SELECT count(*) FROM payments.invoices WHERE order_id = $1", order_id, NULL), 1);
    assert_int_equal(count2("SELECT count(*) FROM payments.inbox WHERE id = $1", f.id, NULL), 1);
    /* the handler ran once: without the inbox it would have run (and logged) again */
    assert_int_equal(log_lines_with(E2E_F("order %s invoiced", order_id), f.id), 1);
    assert_int_equal(log_lines_with("inbox payments: " ORDERSAPI_ORDER_READIED, f.id), 1);
}

static void saga_commands_again_are_handled_once(void **state)
{
    (void)state;
    struct found f;
    find(&f, DEPOT_COMMAND_CHANNEL, DEPOTAPI_CREATE_SHOPPING_LIST_COMMAND, "orderId", order_id);
    assert_int_equal(log_lines_with(E2E_F("order %s has shopping list %s", order_id, list_id), ""),
                     1);
    uint64_t seq = publish_again(&f);
    free(f.data);
    wait_acked(DEPOT_COMMANDS_GROUP, seq);
    assert_int_equal(
        count2("SELECT count(*) FROM depot.shopping_lists WHERE order_id = $1", order_id, NULL), 1);
    assert_int_equal(count2("SELECT count(*) FROM depot.inbox WHERE id = $1", f.id, NULL), 1);
    /* the handler did not run again (it logs every run, the idempotent one too): the inbox
     * skipped the delivery */
    assert_int_equal(log_lines_with(E2E_F("order %s has shopping list %s", order_id, list_id), ""),
                     1);
    assert_int_equal(log_lines_with("inbox depot: " DEPOTAPI_CREATE_SHOPPING_LIST_COMMAND, f.id),
                     1);

    find(&f, CUSTOMERS_COMMAND_CHANNEL, CUSTOMERSAPI_AUTHORIZE_CUSTOMER, "id", customer_id);
    seq = publish_again(&f);
    free(f.data);
    wait_acked(CUSTOMERS_COMMANDS_GROUP, seq);
    assert_int_equal(count2("SELECT count(*) FROM customers.inbox WHERE id = $1", f.id, NULL), 1);
    assert_int_equal(log_lines_with("inbox customers: " CUSTOMERSAPI_AUTHORIZE_CUSTOMER, f.id), 1);
}

static void store_created_again_is_claimed_once(void **state)
{
    (void)state;
    struct found f;
    find(&f, STORES_STORE_CHANNEL, STORESAPI_STORE_CREATED, "id", store_id);
    uint64_t seq = publish_again(&f);
    free(f.data);
    wait_acked("depot-stores", seq);
    assert_int_equal(count2("SELECT count(*) FROM depot.inbox WHERE id = $1", f.id, NULL), 1);
    assert_int_equal(
        count2("SELECT count(*) FROM depot.stores_cache WHERE id = $1", store_id, NULL), 1);
}

static void a_paid_invoice_commits_with_invoice_paid(void **state)
{
    (void)state;
    refuse_outbox("payments", true);
    int status = 0;
    json_decref(
        e2e_call(app, "PUT", E2E_F("/api/payments/invoices/%s/pay", invoice_id), NULL, &status));
    refuse_outbox("payments", false);
    assert_int_not_equal(status, 200);
    e2e_expect_sql(app, "pending", "SELECT status FROM payments.invoices WHERE id = $1",
                   invoice_id);
    assert_int_equal(outbox_rows("payments", "paymentsapi.InvoicePaid", invoice_id), 0);

    json_decref(
        e2e_expect_ok(app, "PUT", E2E_F("/api/payments/invoices/%s/pay", invoice_id), NULL));
    e2e_expect_sql(app, "paid", "SELECT status FROM payments.invoices WHERE id = $1", invoice_id);
    assert_int_equal(outbox_rows("payments", "paymentsapi.InvoicePaid", invoice_id), 1);
    json_t *j = order_wait(app, order_id, "completed", true);
    assert_non_null(j);
    json_decref(j);
    assert_true(wait_published("payments", invoice_id));
}

int main(void)
{
    setenv("LOG_LEVEL", "INFO", 1); /* the handlers' and the inbox's records */
    core_err err = CORE_ERR_INIT;
    if (es_registry_new(&types, &err) || monolith_register_messages(types, &err)) {
        fprintf(stderr, "test_units_flow_b: %s\n", err.msg);
        es_registry_free(types);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_customer_commits_with_its_outbox_row),
        cmocka_unit_test(a_refused_outbox_row_leaves_no_customer),
        cmocka_unit_test(an_order_goes_through_the_saga_behind_the_inboxes),
        cmocka_unit_test(a_completed_list_commits_with_its_message),
        cmocka_unit_test(order_readied_again_makes_no_second_invoice),
        cmocka_unit_test(saga_commands_again_are_handled_once),
        cmocka_unit_test(store_created_again_is_claimed_once),
        cmocka_unit_test(a_paid_invoice_commits_with_invoice_paid),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    int rc = e2e_run_group("units-flow-b", &app, tests);
    es_registry_free(types);
    am_js_library_close();
    return rc;
}
