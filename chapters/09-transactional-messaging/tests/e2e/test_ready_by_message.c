/* test_ready_by_message.c -- end to end (chapter 09): a completed shopping list readies its order
 * by a message, not by a call.
 *
 * One mallbots process on a fresh database with the nats-server of its own that e2e_open()
 * starts, run with LOG_LEVEL=DEBUG so that its log records every call of an RPC method ("-->
 * Ordering.GetOrder ..."), driven over REST like a user with curl. The test reads the program's
 * stream (am_stream_read), its consumer group ordering-depot and its log:
 *   - /asyncapi.json lists depotapi.ShoppingListCompleted on mallbots.depot.events.ShoppingList;
 *   - an order goes through checkout and the saga to approved; a bot takes and completes its list;
 *     the order becomes ready (and invoiced);
 *   - the stream holds exactly one depotapi.ShoppingListCompleted, on
 *     mallbots.depot.events.ShoppingList, with the list's and the order's ids, and the order's
 *     ordersapi.OrderReadied comes after it; the group ordering-depot has acknowledged it;
 *   - the program's log shows RPC calls (the REST reads of the order) but none of
 *     Ordering.ReadyOrder: depot no longer calls ordering;
 *   - completing the list again is refused and announces nothing; the order is paid and
 *     completed.
 * The tests run in order and build on each other. Waits are bounded; nothing asserts on time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "am.h"
#include "depot/events.h"
#include "e2e.h"
#include "monolith/messages.h"
#include "natsd.h"
#include "order_wait.h"
#include "ordering/events.h"
#include "pbjson.h"
#include "streams_sql.h"

#define ACK_WAIT_MS 20000 /* upper bound of the wait for the group's acknowledgement */

static e2e_app *app;
static es_registry *types; /* every message of the chapter */
static char order_id[E2E_ID_MAX], list_id[E2E_ID_MAX], invoice_id[E2E_ID_MAX];

/* ---- reading the stream ------------------------------------------------------------------- */

/* The messages of the depot's channel, and the order's OrderReadied, in stream order. */
struct seen {
    int completed;              /* depotapi.ShoppingListCompleted messages */
    uint64_t completed_seq;     /* the first one's stream sequence */
    char completed_list[80];    /* its payload's id */
    char completed_order[80];   /* its payload's order_id */
    int readied;                /* ordersapi.OrderReadied of order_id */
    uint64_t readied_seq;       /* the first one's */
    char other[AM_SUBJECT_MAX]; /* the name of a message on the depot's channel that is not one */
};

static core_status look(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct seen *s = ud;
    bool depot = strcmp(m->subject, DEPOT_SHOPPING_LIST_CHANNEL) == 0;
    if (!depot && strcmp(m->subject, ORDERING_ORDER_CHANNEL) != 0)
        return CORE_OK;
    struct am_envelope env = AM_ENVELOPE_INIT;
    ddd_event *ev = NULL;
    json_t *payload = NULL;
    core_status st = am_stream_message_unpack(m->data, m->len, &env, err);
    if (!st)
        st = am_data_unpack(types, env.id, env.name, env.data, env.len, &ev, err);
    if (!st && ddd_event_payload(ev))
        st = pbjson_to_json(ddd_event_payload(ev), &payload, err);
    if (!st && depot && strcmp(env.name, DEPOTAPI_SHOPPING_LIST_COMPLETED) == 0) {
        if (s->completed++ == 0) {
            s->completed_seq = m->seq;
            snprintf(s->completed_list, sizeof s->completed_list, "%s",
                     e2e_json_str(payload, "id"));
            snprintf(s->completed_order, sizeof s->completed_order, "%s",
                     e2e_json_str(payload, "orderId"));
        }
    } else if (!st && depot) {
        snprintf(s->other, sizeof s->other, "%s", env.name);
    } else if (!st && strcmp(env.name, ORDERSAPI_ORDER_READIED) == 0 &&
               strcmp(e2e_json_str(payload, "id"), order_id) == 0) {
        if (s->readied++ == 0)
            s->readied_seq = m->seq;
    }
    json_decref(payload);
    ddd_event_free(ev);
    am_envelope_release(&env);
    return st;
}

static am_stream *open_reader(void)
{
    am_stream *r = NULL;
    core_err err = CORE_ERR_INIT;
    struct am_js_opts o = AM_JS_OPTS_INIT;
    o.url = e2e_app_broker(app)->url;
    o.stream = "mallbots";
    o.name = "test_ready_by_message";
    if (am_js_stream_new(&r, &o, &err) != CORE_OK)
        fail_msg("connecting to %s: %s", o.url, err.msg);
    return r;
}

static void read_stream(am_stream *r, struct seen *s)
{
    core_err err = CORE_ERR_INIT;
    memset(s, 0, sizeof *s);
    if (am_stream_read(r, "mallbots.>", 1, look, s, &err) != CORE_OK)
        fail_msg("reading the stream: %s", err.msg);
}

/* The number of lines of the program's log that contain text. */
static int log_lines_with(const char *text)
{
    FILE *f = fopen(e2e_app_log_path(app), "r");
    if (!f)
        fail_msg("cannot open %s", e2e_app_log_path(app));
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, text) != NULL;
    fclose(f);
    return n;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void the_message_is_in_the_asyncapi_document(void **state)
{
    (void)state;
    json_t *doc = e2e_expect_ok(app, "GET", "/asyncapi.json", NULL);
    json_t *ch = json_object_get(json_object_get(doc, "channels"), DEPOT_SHOPPING_LIST_CHANNEL);
    assert_non_null(ch);
    json_t *one =
        json_object_get(json_object_get(json_object_get(ch, "subscribe"), "message"), "oneOf");
    assert_int_equal(json_array_size(one), 1);
    e2e_expect_json_str(json_array_get(one, 0), "$ref",
                        "#/components/messages/" DEPOTAPI_SHOPPING_LIST_COMPLETED);
    json_t *msg = json_object_get(json_object_get(json_object_get(doc, "components"), "messages"),
                                  DEPOTAPI_SHOPPING_LIST_COMPLETED);
    assert_non_null(msg);
    e2e_expect_json_str(msg, "x-channel", DEPOT_SHOPPING_LIST_CHANNEL);
    e2e_expect_json_str(msg, "x-proto", "depotapi.ShoppingListCompleted");
    json_decref(doc);
}

static void an_order_is_approved(void **state)
{
    (void)state;
    char store[E2E_ID_MAX], product[E2E_ID_MAX], customer[E2E_ID_MAX], payment[E2E_ID_MAX];
    e2e_expect_id(app, "POST", "/api/stores",
                  "{\"name\":\"Relay Records\",\"location\":\"Level 2\"}", store);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/participating", store), NULL));
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store),
                  "{\"name\":\"Tape\",\"description\":\"a cassette\",\"sku\":\"T-1\",\"price\":7}",
                  product);
    e2e_expect_id(app, "POST", "/api/customers",
                  "{\"name\":\"Rhea Relay\",\"smsNumber\":\"555-0190\"}", customer);
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer),
                  order_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", order_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":2}", product)));
    e2e_expect_id(app, "POST", "/api/payments",
                  E2E_F("{\"customerId\":\"%s\",\"amount\":14}", customer), payment);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/checkout", order_id),
                              E2E_F("{\"paymentId\":\"%s\"}", payment)));
    assert_true(order_wait_approved(app, order_id, list_id));
}

static void completing_the_list_readies_the_order_by_message(void **state)
{
    (void)state;
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/assign", list_id),
                              "{\"botId\":\"bot-9\"}"));
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/depot/shopping/%s/complete", list_id), NULL));
    json_t *j = order_wait(app, order_id, "ready", true);
    assert_non_null(j);
    snprintf(invoice_id, sizeof invoice_id, "%s", e2e_json_str(j, "order.invoiceId"));
    json_decref(j);

    am_stream *r = open_reader();
    struct seen s;
    read_stream(r, &s);
    if (s.completed != 1 || s.other[0])
        fail_msg("%d ShoppingListCompleted on %s (and \"%s\"), want exactly one", s.completed,
                 DEPOT_SHOPPING_LIST_CHANNEL, s.other);
    assert_string_equal(s.completed_list, list_id);
    assert_string_equal(s.completed_order, order_id);
    assert_int_equal(s.readied, 1);
    if (s.readied_seq <= s.completed_seq)
        fail_msg("OrderReadied (#%llu) is not after ShoppingListCompleted (#%llu)",
                 (unsigned long long)s.readied_seq, (unsigned long long)s.completed_seq);

    /* ordering's group has handled it: acknowledged, nothing left (bounded wait: the order is
     * ready before the handler's acknowledgement reaches the server) */
    struct am_group_info info = {0};
    core_err err = CORE_ERR_INIT;
    for (int waited = 0;; waited += 50) {
        if (am_stream_group_info(r, "ordering-depot", &info, &err) != CORE_OK)
            fail_msg("group ordering-depot: %s", err.msg);
        if (info.ack_floor >= s.completed_seq || waited >= ACK_WAIT_MS)
            break;
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    assert_true(info.ack_floor >= s.completed_seq);
    assert_int_equal(info.redelivered, 0);
    am_stream_free(r);
}

static void depot_did_not_call_ordering(void **state)
{
    (void)state;
    /* the log records RPC calls (the REST reads of the order went through Ordering.GetOrder) */
    assert_true(log_lines_with("--> Ordering.GetOrder") > 0);
    int calls = log_lines_with("Ordering.ReadyOrder");
    if (calls != 0)
        fail_msg("the log has %d lines with Ordering.ReadyOrder, want none", calls);
}

static void completing_again_announces_nothing_and_the_order_completes(void **state)
{
    (void)state;
    e2e_expect_error(app, "PUT", E2E_F("/api/depot/shopping/%s/complete", list_id), NULL, 400,
                     "the shopping list cannot be completed");
    json_decref(
        e2e_expect_ok(app, "PUT", E2E_F("/api/payments/invoices/%s/pay", invoice_id), NULL));
    json_t *j = order_wait(app, order_id, "completed", true);
    assert_non_null(j);
    json_decref(j);
    am_stream *r = open_reader();
    struct seen s;
    read_stream(r, &s);
    assert_int_equal(s.completed, 1);
    assert_int_equal(s.readied, 1);
    am_stream_free(r);
    e2e_expect_sql(app, "completed", SQL_ORDER_STATUS, order_id);
}

int main(void)
{
    setenv("LOG_LEVEL", "DEBUG", 1); /* the program logs every RPC call */
    core_err err = CORE_ERR_INIT;
    if (es_registry_new(&types, &err) || monolith_register_messages(types, &err)) {
        fprintf(stderr, "test_ready_by_message: %s\n", err.msg);
        es_registry_free(types);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_message_is_in_the_asyncapi_document),
        cmocka_unit_test(an_order_is_approved),
        cmocka_unit_test(completing_the_list_readies_the_order_by_message),
        cmocka_unit_test(depot_did_not_call_ordering),
        cmocka_unit_test(completing_again_announces_nothing_and_the_order_completes),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    int rc = e2e_run_group("ready-by-message", &app, tests);
    es_registry_free(types);
    am_js_library_close();
    return rc;
}
