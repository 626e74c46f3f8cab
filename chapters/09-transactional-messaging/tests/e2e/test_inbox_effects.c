/* test_inbox_effects.c -- end to end (chapter 09): a message delivered again has one effect in
 * cosec, search and notifications, whose consumers receive through their module's inbox.
 *
 * One mallbots process on a fresh database with the nats-server of its own that e2e_open()
 * starts, driven over REST like a user. An order goes through checkout and the saga to approved;
 * then the test snapshots what the order's messages did (the saga's row and its commands in
 * cosec.outbox, the order's row in search.orders, the customer's rows in the two caches, the
 * notifications sent) and PUBLISHES AGAIN, with their ids, three messages the modules handled:
 * the customer's CustomerRegistered, the order's OrderCreated and the last reply the saga got.
 * To make the stream store a copy of an id it has, the test shortens the stream's duplicate
 * window to 200 ms first (the program made it 2 minutes). Each copy is then delivered to the
 * groups as a new message, and the inboxes must drop it:
 *   - the customer caches of search and notifications are not written (updated_at unchanged;
 *     without the inbox, the copy's higher stream sequence would rewrite the row);
 *   - search.orders' row is not written (updated_at unchanged);
 *   - notifications.sent has still one OrderCreated notification for the order;
 *   - the saga is not moved (its row, updated_at included) and no command is added to
 *     cosec.outbox;
 *   - each copy's id is in the consuming modules' inboxes once.
 * Waits are bounded; nothing asserts on time. */
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
#include "cosec/saga.h"
#include "customers/events.h"
#include "e2e.h"
#include "monolith/messages.h"
#include "natsd.h"
#include "order_wait.h"
#include "ordering/events.h"
#include "pbjson.h"
#include "sec.h"

#define WAIT_MS 20000

static e2e_app *app;
static es_registry *types; /* every message of the chapter */
static char order_id[E2E_ID_MAX], customer_id[E2E_ID_MAX], list_id[E2E_ID_MAX];

/* ---- the stream ------------------------------------------------------------------------------
 */

/* A message found in the stream, to publish again. */
struct found {
    uint64_t seq;
    char subject[AM_SUBJECT_MAX];
    struct am_envelope env; /* owned */
};

struct finds {
    struct found registered; /* the customer's CustomerRegistered */
    struct found created;    /* the order's OrderCreated */
    struct found reply;      /* the last reply on the saga's channel for the order */
};

static void keep(struct found *f, const struct am_stored_msg *m, struct am_envelope *env)
{
    am_envelope_release(&f->env);
    f->seq = m->seq;
    snprintf(f->subject, sizeof f->subject, "%s", m->subject);
    f->env = *env;
    *env = (struct am_envelope)AM_ENVELOPE_INIT;
}

static core_status look(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct finds *fs = ud;
    bool customers = strcmp(m->subject, CUSTOMERS_CUSTOMER_CHANNEL) == 0;
    bool orders = strcmp(m->subject, ORDERING_ORDER_CHANNEL) == 0;
    bool replies = strcmp(m->subject, COSEC_REPLY_CHANNEL) == 0;
    if (!customers && !orders && !replies)
        return CORE_OK;
    struct am_envelope env = AM_ENVELOPE_INIT;
    ddd_event *ev = NULL;
    json_t *payload = NULL;
    core_status st = am_stream_message_unpack(m->data, m->len, &env, err);
    if (!st)
        st = am_data_unpack(types, env.id, env.name, env.data, env.len, &ev, err);
    if (!st && ddd_event_payload(ev))
        st = pbjson_to_json(ddd_event_payload(ev), &payload, err);
    if (!st && customers && strcmp(env.name, CUSTOMERSAPI_CUSTOMER_REGISTERED) == 0 &&
        strcmp(e2e_json_str(payload, "id"), customer_id) == 0)
        keep(&fs->registered, m, &env);
    else if (!st && orders && strcmp(env.name, ORDERSAPI_ORDER_CREATED) == 0 &&
             strcmp(e2e_json_str(payload, "id"), order_id) == 0)
        keep(&fs->created, m, &env);
    else if (!st && replies) {
        const char *saga = ddd_event_metadata(ev, SEC_REPLY_SAGA_ID);
        if (saga && strcmp(saga, order_id) == 0)
            keep(&fs->reply, m, &env);
    }
    json_decref(payload);
    ddd_event_free(ev);
    am_envelope_release(&env);
    return st;
}

/* A connection to the program's stream; window_ms > 0 also sets the stream's duplicate window. */
static am_stream *open_stream(int window_ms)
{
    am_stream *r = NULL;
    core_err err = CORE_ERR_INIT;
    struct am_js_opts o = AM_JS_OPTS_INIT;
    o.url = e2e_app_broker(app)->url;
    o.stream = "mallbots";
    o.name = "test_inbox_effects";
    o.duplicate_window_ms = window_ms;
    o.existing_only = window_ms == 0;
    if (am_js_stream_new(&r, &o, &err) != CORE_OK)
        fail_msg("connecting to %s: %s", o.url, err.msg);
    return r;
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Waits until group has acknowledged everything up to stream sequence floor, nothing pending. */
static void wait_group(am_stream *r, const char *group, uint64_t floor)
{
    struct am_group_info gi = {0};
    core_err err = CORE_ERR_INIT;
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        if (am_stream_group_info(r, group, &gi, &err) == CORE_OK && gi.pending == 0 &&
            gi.ack_pending == 0 && gi.ack_floor >= floor)
            return;
        sleep_ms(50);
    }
    fail_msg("group %s: pending %llu, ack pending %llu, ack floor %llu (want %llu)", group,
             (unsigned long long)gi.pending, (unsigned long long)gi.ack_pending,
             (unsigned long long)gi.ack_floor, (unsigned long long)floor);
}

/* Publishes f's message again, with its id; the stream must store it (not a duplicate). Returns
 * the copy's stream sequence. */
static uint64_t publish_again(am_stream *w, const struct found *f)
{
    if (!f->seq)
        fail_msg("the message to publish again was not found in the stream");
    struct am_publish_ack ack;
    memset(&ack, 0, sizeof ack);
    core_err err = CORE_ERR_INIT;
    if (am_stream_publish(w, f->subject, f->env.id, f->env.name, f->env.data, f->env.len, &ack,
                          &err) != CORE_OK)
        fail_msg("publishing %s %s again: %s", f->env.name, f->env.id, err.msg);
    if (ack.duplicate)
        fail_msg("the stream dropped the copy of %s %s as a duplicate", f->env.name, f->env.id);
    return ack.seq;
}

/* ---- snapshots -------------------------------------------------------------------------------
 */

static const char SQL_SAGA[] = "SELECT concat_ws('|', step, done, compensating, awaiting, "
                               "updated_at) FROM cosec.sagas WHERE id = $1";
static const char SQL_SAGA_COMMANDS[] = "SELECT count(*) FROM cosec.outbox";
static const char SQL_SEARCH_ORDER[] = "SELECT concat_ws('|', status, total, updated_at) FROM "
                                       "search.orders WHERE order_id = $1";
static const char SQL_SEARCH_CUSTOMER[] =
    "SELECT concat_ws('|', name, seq, updated_at) FROM search.customers_cache WHERE id = $1";
static const char SQL_NOTIFY_CUSTOMER[] = "SELECT concat_ws('|', name, sms_number, seq, "
                                          "updated_at) FROM notifications.customers_cache "
                                          "WHERE id = $1";
static const char SQL_SENT[] = "SELECT count(*) FROM notifications.sent WHERE order_id = $1 AND "
                               "notification = 'OrderCreated'";

struct snapshot {
    char *saga, *search_order, *search_customer, *notify_customer;
    long long commands, sent;
};

static char *value(const char *sql, const char *param)
{
    const char *p[] = {param};
    char *v = e2e_sql_value(app, sql, 1, p);
    if (!v)
        fail_msg("%s (%s): no row", sql, param);
    return v;
}

static void take(struct snapshot *s)
{
    const char *p[] = {order_id};
    s->saga = value(SQL_SAGA, order_id);
    s->search_order = value(SQL_SEARCH_ORDER, order_id);
    s->search_customer = value(SQL_SEARCH_CUSTOMER, customer_id);
    s->notify_customer = value(SQL_NOTIFY_CUSTOMER, customer_id);
    s->commands = e2e_sql_long(app, SQL_SAGA_COMMANDS, 0, NULL);
    s->sent = e2e_sql_long(app, SQL_SENT, 1, p);
}

static void release(struct snapshot *s)
{
    free(s->saga);
    free(s->search_order);
    free(s->search_customer);
    free(s->notify_customer);
}

static long long inbox_rows(const char *schema, const char *id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.inbox WHERE id = $1", schema);
    const char *p[] = {id};
    return e2e_sql_long(app, sql, 1, p);
}

/* ---- tests -----------------------------------------------------------------------------------
 */

static void an_order_is_approved_and_notified_once(void **state)
{
    (void)state;
    char store[E2E_ID_MAX], product[E2E_ID_MAX], payment[E2E_ID_MAX];
    e2e_expect_id(app, "POST", "/api/stores",
                  "{\"name\":\"Inbox Instruments\",\"location\":\"Level 3\"}", store);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/participating", store), NULL));
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store),
                  "{\"name\":\"Kazoo\",\"description\":\"a kazoo\",\"sku\":\"K-1\",\"price\":3}",
                  product);
    e2e_expect_id(app, "POST", "/api/customers",
                  "{\"name\":\"Ida Inbox\",\"smsNumber\":\"555-0191\"}", customer_id);
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer_id),
                  order_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", order_id),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":2}", product)));
    e2e_expect_id(app, "POST", "/api/payments",
                  E2E_F("{\"customerId\":\"%s\",\"amount\":6}", customer_id), payment);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/checkout", order_id),
                              E2E_F("{\"paymentId\":\"%s\"}", payment)));
    assert_true(order_wait_approved(app, order_id, list_id));

    /* every group of the three modules has handled everything so far */
    am_stream *r = open_stream(0);
    static const char *const groups[] = {"cosec-ordering",      "cosec-replies",
                                         "search-orders",       "search-customers",
                                         "notification-orders", "notification-customers"};
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        wait_group(r, groups[i], 0);
    am_stream_free(r);
    const char *p[] = {order_id};
    assert_int_equal(e2e_sql_long(app, SQL_SENT, 1, p), 1);
    e2e_expect_sql(app, "Approved", "SELECT status FROM search.orders WHERE order_id = $1",
                   order_id);
}

static void messages_delivered_again_have_no_second_effect(void **state)
{
    (void)state;
    struct snapshot before, after;
    take(&before);

    struct finds fs;
    memset(&fs, 0, sizeof fs);
    am_stream *w = open_stream(200); /* the stream now stores a copy of an id after 200 ms */
    core_err err = CORE_ERR_INIT;
    if (am_stream_read(w, "mallbots.>", 1, look, &fs, &err) != CORE_OK)
        fail_msg("reading the stream: %s", err.msg);
    assert_string_equal(fs.reply.env.name, AM_REPLY_SUCCESS); /* ApproveOrder's answer */
    sleep_ms(400);
    uint64_t s1 = publish_again(w, &fs.registered);
    uint64_t s2 = publish_again(w, &fs.created);
    uint64_t s3 = publish_again(w, &fs.reply);
    wait_group(w, "search-customers", s1);
    wait_group(w, "notification-customers", s1);
    wait_group(w, "cosec-ordering", s2);
    wait_group(w, "search-orders", s2);
    wait_group(w, "notification-orders", s2);
    wait_group(w, "cosec-replies", s3);

    take(&after);
    assert_int_equal(after.sent, 1);
    assert_string_equal(after.search_order, before.search_order);
    assert_string_equal(after.search_customer, before.search_customer);
    assert_string_equal(after.notify_customer, before.notify_customer);
    assert_string_equal(after.saga, before.saga);
    assert_int_equal(after.commands, before.commands);
    assert_int_equal(inbox_rows("search", fs.registered.env.id), 1);
    assert_int_equal(inbox_rows("notifications", fs.registered.env.id), 1);
    assert_int_equal(inbox_rows("search", fs.created.env.id), 1);
    assert_int_equal(inbox_rows("notifications", fs.created.env.id), 1);
    assert_int_equal(inbox_rows("cosec", fs.created.env.id), 1);
    assert_int_equal(inbox_rows("cosec", fs.reply.env.id), 1);
    release(&before);
    release(&after);
    am_envelope_release(&fs.registered.env);
    am_envelope_release(&fs.created.env);
    am_envelope_release(&fs.reply.env);
    am_stream_free(w);
}

int main(void)
{
    core_err err = CORE_ERR_INIT;
    if (es_registry_new(&types, &err) || monolith_register_messages(types, &err)) {
        fprintf(stderr, "test_inbox_effects: %s\n", err.msg);
        es_registry_free(types);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_order_is_approved_and_notified_once),
        cmocka_unit_test(messages_delivered_again_have_no_second_effect),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    int rc = e2e_run_group("inbox-effects", &app, tests);
    es_registry_free(types);
    am_js_library_close();
    return rc;
}
