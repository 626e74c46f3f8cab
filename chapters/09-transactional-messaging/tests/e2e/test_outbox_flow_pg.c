/* test_outbox_flow_pg.c -- end to end (chapter 09): baskets and ordering publish through their
 * outboxes and consume behind their inboxes.
 *
 * One mallbots process on a fresh database with the nats-server of its own that e2e_open()
 * starts, driven over REST like a user with curl. The test reads the module tables
 * (baskets.events, baskets.outbox, baskets.inbox, ordering.*), the program's stream
 * (am_stream_read) and its consumer groups, and it plays the faults itself:
 *   - COMMIT TOGETHER: each basket command's announced event (basketsapi.BasketStarted,
 *     basketsapi.BasketCheckedOut) is a row of baskets.outbox whose id is the id of the domain
 *     event stored in baskets.events, and the relay marks it published; the order made from the
 *     checkout has its ordersapi.OrderCreated and ordersapi.OrderApproved rows in ordering.outbox
 *     with the ids of its events, and ordering.inbox holds the checkout message's id and the
 *     saga's ApproveOrder command's;
 *   - ROLLBACK LEAVES NOTHING: with a trigger that refuses inserts into baskets.outbox, a
 *     checkout fails and stores no event (the basket stays open); with one on ordering.outbox,
 *     the checkout message's handler fails: no order event and no inbox row, the message is
 *     redelivered, and once the trigger is gone the order is made, once;
 *   - ONE EFFECT PER MESSAGE ID: a message stored again in the stream (the same StreamMessage
 *     bytes published a second time without a Nats-Msg-Id, so the stream keeps both, as after a
 *     relay that died between the broker's acknowledgement and its mark, past the duplicate
 *     window) is acknowledged by the group and changes nothing: ordering does not make again an
 *     order whose events the test removed (its own guard would: only the inbox stops it), and
 *     baskets does not repair a cache row the test changed (the handler's upsert would).
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
#include <nats/nats.h>

#include "am.h"
#include "baskets/events.h"
#include "e2e.h"
#include "natsd.h"
#include "order_wait.h"
#include "stores/events.h"
#include "streams_sql.h"

#define WAIT_MS 20000 /* upper bound of every wait */

static e2e_app *app;
static char store[E2E_ID_MAX], product[E2E_ID_MAX], customer[E2E_ID_MAX];
static char basket[E2E_ID_MAX], shopping[E2E_ID_MAX], checkout_msg[E2E_ID_MAX];

/* ---- helpers
 * -------------------------------------------------------------------------------
 */

static void pause_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static long long count1(const char *sql, const char *param)
{
    const char *p[] = {param};
    return e2e_sql_long(app, sql, param ? 1 : 0, p);
}

static void exec_sql(const char *sql)
{
    core_err err = CORE_ERR_INIT;
    if (e2e_sql_exec(app, sql, 0, NULL, &err) != CORE_OK)
        fail_msg("%s: %s", sql, err.msg);
}

/* Waits until sql ($1 = param) counts want rows; false after WAIT_MS. */
static bool wait_count(const char *sql, const char *param, long long want)
{
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        if (count1(sql, param) == want)
            return true;
        pause_ms(50);
    }
    return count1(sql, param) == want;
}

/* The stored domain event of a stream with this name joined to the outbox row
 * of the same id and message name: 1 when both are there. */
#define SQL_EVENT_WITH_ROW(schema, event, message)                                                 \
    "select count(*) from " schema ".events e join " schema ".outbox o on o.id = e.event_id "      \
    "where e.stream_id = $1 and e.event_name = '" event "' and o.name = '" message "'"

static am_stream *open_reader(void)
{
    am_stream *r = NULL;
    core_err err = CORE_ERR_INIT;
    struct am_js_opts o = AM_JS_OPTS_INIT;
    o.url = e2e_app_broker(app)->url;
    o.stream = "mallbots";
    o.name = "test_outbox_flow_pg";
    if (am_js_stream_new(&r, &o, &err) != CORE_OK)
        fail_msg("connecting to %s: %s", o.url, err.msg);
    return r;
}

/* The first stored message with this envelope id: its subject and bytes
 * (copied). */
struct found {
    const char *want_id;
    char subject[AM_SUBJECT_MAX];
    unsigned char *data;
    size_t len;
};

static core_status find_msg(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct found *f = ud;
    struct am_envelope env = AM_ENVELOPE_INIT;
    core_status st = am_stream_message_unpack(m->data, m->len, &env, err);
    if (!st && !f->data && strcmp(env.id, f->want_id) == 0) {
        snprintf(f->subject, sizeof f->subject, "%s", m->subject);
        f->data = test_malloc(m->len);
        memcpy(f->data, m->data, m->len);
        f->len = m->len;
    }
    am_envelope_release(&env);
    return st;
}

/* Stores the message with envelope id again, as a new message of the stream (no
 * Nats-Msg-Id, so no duplicate detection), and waits until group has
 * acknowledged it. */
static void store_again_and_wait(const char *id, const char *group)
{
    am_stream *r = open_reader();
    struct found f = {id, "", NULL, 0};
    core_err err = CORE_ERR_INIT;
    if (am_stream_read(r, "mallbots.>", 1, find_msg, &f, &err) != CORE_OK)
        fail_msg("reading the stream: %s", err.msg);
    if (!f.data)
        fail_msg("no message %s in the stream", id);
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(natsConnection_ConnectTo(&nc, e2e_app_broker(app)->url), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    assert_int_equal(js_Publish(&pa, js, f.subject, f.data, (int)f.len, NULL, &jerr), NATS_OK);
    uint64_t seq = pa->Sequence;
    assert_false(pa->Duplicate);
    jsPubAck_Destroy(pa);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    test_free(f.data);

    struct am_group_info info = {0};
    for (int waited = 0;; waited += 50) {
        if (am_stream_group_info(r, group, &info, &err) != CORE_OK)
            fail_msg("group %s: %s", group, err.msg);
        if (info.ack_floor >= seq || waited >= WAIT_MS)
            break;
        pause_ms(50);
    }
    am_stream_free(r);
    if (info.ack_floor < seq)
        fail_msg("group %s has not acknowledged message #%llu (ack floor %llu)", group,
                 (unsigned long long)seq, (unsigned long long)info.ack_floor);
}

/* ---- commit together
 * ------------------------------------------------------------------------ */

static void a_basket_and_its_messages_commit_together(void **state)
{
    (void)state;
    char payment[E2E_ID_MAX];
    e2e_expect_id(app, "POST", "/api/stores", "{\"name\":\"Outbox Books\",\"location\":\"L1\"}",
                  store);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/participating", store), NULL));
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store),
                  "{\"name\":\"Ledger\",\"description\":\"a "
                  "book\",\"sku\":\"L-1\",\"price\":7}",
                  product);
    e2e_expect_id(app, "POST", "/api/customers",
                  "{\"name\":\"Otto Outbox\",\"smsNumber\":\"555-0191\"}", customer);
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer), basket);
    assert_int_equal(
        count1(SQL_EVENT_WITH_ROW("baskets", "baskets.BasketStarted", "basketsapi.BasketStarted"),
               basket),
        1);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":2}", product)));
    e2e_expect_id(app, "POST", "/api/payments",
                  E2E_F("{\"customerId\":\"%s\",\"amount\":14}", customer), payment);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket),
                              E2E_F("{\"paymentId\":\"%s\"}", payment)));
    assert_int_equal(count1(SQL_EVENT_WITH_ROW("baskets", "baskets.BasketCheckedOut",
                                               "basketsapi.BasketCheckedOut"),
                            basket),
                     1);
    const char *p[] = {basket};
    char *id = e2e_sql_value(app,
                             "select event_id from baskets.events where stream_id = $1 and "
                             "event_name = 'baskets.BasketCheckedOut'",
                             1, p);
    assert_non_null(id);
    snprintf(checkout_msg, sizeof checkout_msg, "%s", id);
    core_free(id);
    /* the relay publishes it and marks the row */
    assert_true(wait_count("select count(*) from baskets.outbox where id = $1 and published_at "
                           "is not null",
                           checkout_msg, 1));
}

static void the_order_and_its_messages_commit_together(void **state)
{
    (void)state;
    assert_true(order_wait_approved(app, basket, shopping));
    assert_int_equal(count1("select count(*) from ordering.inbox where id = $1 and name = "
                            "'basketsapi.BasketCheckedOut'",
                            checkout_msg),
                     1);
    assert_int_equal(
        count1(SQL_EVENT_WITH_ROW("ordering", "ordering.OrderCreated", "ordersapi.OrderCreated"),
               basket),
        1);
    assert_int_equal(
        count1(SQL_EVENT_WITH_ROW("ordering", "ordering.OrderApproved", "ordersapi.OrderApproved"),
               basket),
        1);
    /* the saga's command reached ordering behind its inbox, in the transaction of
     * the approval */
    assert_true(count1("select count(*) from ordering.inbox where name = "
                       "'ordersapi.ApproveOrder'",
                       NULL) >= 1);
}

/* ---- rollback leaves nothing
 * ----------------------------------------------------------------- */

static void refuse_outbox_inserts(const char *schema, const char *name)
{
    exec_sql(E2E_F("create or replace function %s.test_refuse() returns trigger "
                   "language plpgsql "
                   "as $$ begin if new.name = '%s' then raise exception 'test: "
                   "outbox refused'; "
                   "end if; return new; end $$",
                   schema, name));
    exec_sql(E2E_F("create trigger test_refuse before insert on %s.outbox for "
                   "each row execute "
                   "function %s.test_refuse()",
                   schema, schema));
}

static void allow_outbox_inserts(const char *schema)
{
    exec_sql(E2E_F("drop trigger test_refuse on %s.outbox", schema));
    exec_sql(E2E_F("drop function %s.test_refuse()", schema));
}

static char basket2[E2E_ID_MAX], payment2[E2E_ID_MAX];

static void a_checkout_that_cannot_be_announced_stores_nothing(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", "/api/baskets", E2E_F("{\"customerId\":\"%s\"}", customer), basket2);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/addItem", basket2),
                              E2E_F("{\"productId\":\"%s\",\"quantity\":1}", product)));
    e2e_expect_id(app, "POST", "/api/payments",
                  E2E_F("{\"customerId\":\"%s\",\"amount\":7}", customer), payment2);
    long long rows = count1("select count(*) from baskets.outbox", NULL);
    refuse_outbox_inserts("baskets", "basketsapi.BasketCheckedOut");
    int status = 0;
    json_t *body = e2e_call(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket2),
                            E2E_F("{\"paymentId\":\"%s\"}", payment2), &status);
    json_decref(body);
    allow_outbox_inserts("baskets");
    if (status < 500)
        fail_msg("checkout with a refused outbox row answered %d, want a 5xx", status);
    /* neither the event nor the row: the basket is open, as before */
    assert_int_equal(count1("select count(*) from baskets.events where stream_id = $1 and "
                            "event_name = 'baskets.BasketCheckedOut'",
                            basket2),
                     0);
    assert_int_equal(count1("select count(*) from baskets.outbox", NULL), rows);
    e2e_expect_sql(app, "open", SQL_BASKET_STATUS, basket2);
}

static void a_failing_handler_leaves_no_row_and_the_redelivery_makes_the_order(void **state)
{
    (void)state;
    refuse_outbox_inserts("ordering", "ordersapi.OrderCreated");
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/baskets/%s/checkout", basket2),
                              E2E_F("{\"paymentId\":\"%s\"}", payment2)));
    /* wait until ordering's group has seen the checkout fail at least once */
    am_stream *r = open_reader();
    struct am_group_info info = {0};
    core_err err = CORE_ERR_INIT;
    for (int waited = 0; waited < WAIT_MS; waited += 20) {
        if (am_stream_group_info(r, "ordering-baskets", &info, &err) != CORE_OK)
            fail_msg("group ordering-baskets: %s", err.msg);
        if (info.redelivered > 0)
            break;
        pause_ms(20);
    }
    am_stream_free(r);
    const char *p[] = {basket2};
    char *id = e2e_sql_value(app,
                             "select event_id from baskets.events where stream_id = $1 and "
                             "event_name = 'baskets.BasketCheckedOut'",
                             1, p);
    assert_non_null(id);
    long long events = count1("select count(*) from ordering.events where stream_id = $1", basket2);
    long long inbox = count1("select count(*) from ordering.inbox where id = $1", id);
    allow_outbox_inserts("ordering");
    if (info.redelivered == 0)
        fail_msg("the checkout of %s was not redelivered to ordering-baskets", basket2);
    assert_int_equal(events, 0); /* the handler's append was rolled back ... */
    assert_int_equal(inbox, 0);  /* ... and so was its inbox row */
    /* the next delivery makes the order, once */
    assert_true(wait_count("select count(*) from ordering.inbox where id = $1", id, 1));
    assert_int_equal(
        count1(SQL_EVENT_WITH_ROW("ordering", "ordering.OrderCreated", "ordersapi.OrderCreated"),
               basket2),
        1);
    core_free(id);
}

/* ---- one effect per message id
 * ------------------------------------------------------------ */

static void ordering_handles_a_message_id_once(void **state)
{
    (void)state;
    /* remove the order made from the checkout: its own guard ("the order exists")
     * would no longer stop a second handling, only the inbox does */
    const char *p[] = {basket};
    core_err err = CORE_ERR_INIT;
    if (e2e_sql_exec(app, "delete from ordering.snapshots where stream_id = $1", 1, p, &err) ||
        e2e_sql_exec(app, "delete from ordering.events where stream_id = $1", 1, p, &err))
        fail_msg("removing order %s: %s", basket, err.msg);
    e2e_expect_sql(app, "0", SQL_ORDER_EXISTS, basket);
    store_again_and_wait(checkout_msg, "ordering-baskets");
    e2e_expect_sql(app, "0", SQL_ORDER_EXISTS, basket); /* not made again */
    assert_int_equal(count1("select count(*) from ordering.inbox where id = $1", checkout_msg), 1);
}

static void baskets_handles_a_message_id_once(void **state)
{
    (void)state;
    const char *p[] = {product};
    char *id = e2e_sql_value(app,
                             "select event_id from stores.events where stream_id = $1 and "
                             "event_name = 'stores.ProductAdded'",
                             1, p);
    assert_non_null(id);
    assert_true(wait_count("select count(*) from baskets.inbox where id = $1", id, 1));
    /* change the cache row behind the handler's back: handling ProductAdded again
     * would restore it (its upsert replaces a row with a lower seq) */
    core_err err = CORE_ERR_INIT;
    if (e2e_sql_exec(app,
                     "update baskets.products_cache set name = 'changed by the "
                     "test', seq = 0 "
                     "where id = $1",
                     1, p, &err))
        fail_msg("%s", err.msg);
    store_again_and_wait(id, "baskets-products");
    e2e_expect_sql(app, "changed by the test",
                   "select name from baskets.products_cache where id = $1", product);
    assert_int_equal(count1("select count(*) from baskets.inbox where id = $1", id), 1);
    core_free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_basket_and_its_messages_commit_together),
        cmocka_unit_test(the_order_and_its_messages_commit_together),
        cmocka_unit_test(a_checkout_that_cannot_be_announced_stores_nothing),
        cmocka_unit_test(a_failing_handler_leaves_no_row_and_the_redelivery_makes_the_order),
        cmocka_unit_test(ordering_handles_a_message_id_once),
        cmocka_unit_test(baskets_handles_a_message_id_once),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    int rc = e2e_run_group("outbox-flow", &app, tests);
    am_js_library_close();
    return rc;
}
