/* test_sent_once.c -- exercise 09.2: a notification sent once (notifications/handlers.c:
 * in_unit, notifications_subscribe_handlers_in) on the lab's PostgreSQL and a nats-server of the
 * test's own.
 *
 * One scratch database for the file (e2e_scratch_open(): through PG_CONN, dropped at the end, with
 * a leak check), migrated with the chapter's migrations, and one private nats-server (natsd.h) with
 * a stream "mallbots" whose duplicate window is short (300 ms), so that the test can store one
 * message twice as a redelivery past the window would. The notifications module's handlers are
 * assembled as notifications/module.c does (caches and units on PostgreSQL, the inbox of schema
 * "notifications"), with a fake customers service in place of the RPC client.
 *
 * In the order of the README: an OrderCreated is sent (one row in notifications.sent) and its id
 * recorded in notifications.inbox; the row and the inbox row are one transaction's (the same
 * xmin); the same message stored again sends nothing; a failing send leaves neither row and the
 * redelivery sends once; the customer events reach the cache through the inbox too.
 */
#include <signal.h>
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
#include "customers/events.h"
#include "e2e.h"
#include "log.h"
#include "monolith/messages.h"
#include "monolith/monolith.h"
#include "natsd.h"
#include "notifications/adapters.h"
#include "notifications/handlers.h"
#include "ordering/events.h"
#include "tm.h"

#define WAIT_MS 15000

static struct e2e_scratch scratch = E2E_SCRATCH_INIT;
static struct natsd srv;
static pg_pool *pool;
static am_stream *js;
static es_registry *reg;
static tm_outbox *inbox;
static struct notifications_caches caches;
static struct notifications_units units;

/* The fake customers service: every customer is "Ada" at 555-0100. */
static core_status fake_find(void *self, const char *customer_id,
                             struct notifications_customer *out, core_err *err)
{
    (void)self;
    (void)customer_id;
    out->name = core_strdup("Ada");
    out->sms_number = core_strdup("555-0100");
    if (!out->name || !out->sms_number) {
        notifications_customer_release(out);
        return core_err_nomem(err);
    }
    return CORE_OK;
}

static int group_setup(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    if (e2e_scratch_open(&scratch, "ex09_sent") != 0)
        return -1;
    if (natsd_init(&srv, "ex09_sent") != 0 || natsd_start(&srv) != 0 ||
        !natsd_wait_ready(&srv, WAIT_MS)) {
        fprintf(stderr, "ex09_sent: no nats-server (is nats-server installed? make deps)\n");
        return -1;
    }
    struct pg_pool_opts po = {scratch.db.conninfo, 4, 5000};
    core_status st = pg_pool_new(&pool, &po, &err);
    if (!st)
        st = pg_migrate(pool, chapter_migrations, chapter_migration_count, NULL, NULL, &err);
    struct am_js_opts o = AM_JS_OPTS_INIT;
    o.url = srv.url;
    o.stream = "mallbots";
    o.name = "ex09_sent";
    o.duplicate_window_ms = 300;
    if (!st)
        st = am_js_stream_new(&js, &o, &err);
    if (!st && !(st = es_registry_new(&reg, &err)))
        st = monolith_register_messages(reg, &err);
    if (!st)
        st = tm_outbox_new(&inbox, pool, "notifications", "mallbots", &err);
    if (st) {
        fprintf(stderr, "ex09_sent: setting up: %s\n", err.msg);
        return -1;
    }
    caches.db = pool;
    caches.fallback = (struct notifications_customers){NULL, fake_find};
    notifications__pg_units(&units, &caches);
    /* the learner's */
    if ((st = notifications_subscribe_handlers_in(js, inbox, reg, &units, &err))) {
        fprintf(stderr, "ex09_sent: notifications_subscribe_handlers_in: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    if (js)
        am_stream_close(js, 5000, &err);
    am_stream_free(js);
    tm_outbox_free(inbox);
    es_registry_free(reg);
    pg_pool_free(pool);
    natsd_stop(&srv, SIGTERM);
    natsd_release(&srv);
    am_js_library_close();
    return e2e_scratch_close(&scratch);
}

/* ---- helpers --------------------------------------------------------------------------------- */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long sql_long(const char *sql, const char *param)
{
    core_err err = CORE_ERR_INIT;
    PGresult *res = NULL;
    const char *params[] = {param};
    if (pg_run(pool, sql, param ? 1 : 0, param ? params : NULL, &res, &err) != CORE_OK)
        fail_msg("%s: %s", sql, err.msg);
    long v = strtol(pg_get(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

static void sql_do(const char *sql)
{
    core_err err = CORE_ERR_INIT;
    if (pg_run(pool, sql, 0, NULL, NULL, &err) != CORE_OK)
        fail_msg("%s: %s", sql, err.msg);
}

#define SENT "SELECT count(*) FROM notifications.sent WHERE order_id = $1"
#define IN_INBOX "SELECT count(*) FROM notifications.inbox WHERE id = $1"

/* Waits until sql(param) is want; fails after WAIT_MS with what. */
static void wait_for(const char *sql, const char *param, long want, const char *what)
{
    long v = sql_long(sql, param);
    for (int waited = 0; v != want && waited < WAIT_MS; waited += 50) {
        sleep_ms(50);
        v = sql_long(sql, param);
    }
    if (v != want)
        fail_msg("%s: %ld after %d ms, wanted %ld", what, v, WAIT_MS, want);
}

/* The group's acknowledgement floor reaches the stream's last sequence (bounded). */
static void wait_group_done(void)
{
    core_err err = CORE_ERR_INIT;
    struct am_stream_state ss;
    if (am_stream_state_get(js, &ss, &err) != CORE_OK)
        fail_msg("stream state: %s", err.msg);
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        struct am_group_info gi;
        if (am_stream_group_info(js, NOTIFICATIONS_ORDERS_GROUP, &gi, &err) != CORE_OK)
            fail_msg("group info: %s", err.msg);
        if (gi.ack_floor >= ss.last_seq && gi.ack_pending == 0)
            return;
        sleep_ms(50);
    }
    fail_msg("the group %s did not acknowledge every message within %d ms",
             NOTIFICATIONS_ORDERS_GROUP, WAIT_MS);
}

/* ordersapi.OrderCreated {order, customer-1} with a new message id (caller frees). */
static ddd_event *order_created(const char *order)
{
    core_err err = CORE_ERR_INIT;
    Ordersapi__OrderCreated *m = core_calloc(1, sizeof *m);
    assert_non_null(m);
    ordersapi__order_created__init(m);
    m->id = core_strdup(order);
    m->customer_id = core_strdup("customer-1");
    ProtobufCMessage *pm = &m->base;
    ddd_event *ev = NULL;
    if (ddd_event_new(&ev, ORDERSAPI_ORDER_CREATED, &pm, &err) != CORE_OK)
        fail_msg("event: %s", err.msg);
    return ev;
}

static void publish(const char *channel, const ddd_event *ev)
{
    core_err err = CORE_ERR_INIT;
    if (am_event_publish(js, channel, ev, &err) != CORE_OK)
        fail_msg("publishing: %s", err.msg);
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void an_order_created_is_sent_and_recorded(void **state)
{
    (void)state;
    ddd_event *ev = order_created("order-1");
    char id[DDD_ID_MAX + 1];
    core_strlcpy(id, ddd_event_id(ev), sizeof id);
    publish(ORDERING_ORDER_CHANNEL, ev);
    ddd_event_free(ev);
    wait_for(SENT, "order-1", 1, "notifications.sent rows of order-1");
    wait_for(IN_INBOX, id, 1, "notifications.inbox rows of the message");
    /* one transaction wrote both: the send commits with the inbox row, or neither does */
    if (sql_long("SELECT count(*) FROM notifications.sent s, notifications.inbox i WHERE "
                 "s.order_id = 'order-1' AND i.id = $1 AND s.xmin::text = i.xmin::text",
                 id) != 1)
        fail_msg("the notifications.sent row and the inbox row were written by two transactions: "
                 "the handler must send on the unit joined on the delivery's transaction");
}

static void the_same_message_again_sends_nothing(void **state)
{
    (void)state;
    ddd_event *ev = order_created("order-2");
    char id[DDD_ID_MAX + 1];
    core_strlcpy(id, ddd_event_id(ev), sizeof id);
    publish(ORDERING_ORDER_CHANNEL, ev);
    wait_for(SENT, "order-2", 1, "notifications.sent rows of order-2");
    wait_group_done();
    sleep_ms(400); /* past the stream's duplicate window: the same message is stored again */
    publish(ORDERING_ORDER_CHANNEL, ev);
    ddd_event_free(ev);
    wait_group_done();
    assert_int_equal(sql_long(SENT, "order-2"), 1);
    assert_int_equal(sql_long(IN_INBOX, id), 1);
}

static void a_failed_send_leaves_nothing_and_the_redelivery_sends_once(void **state)
{
    (void)state;
    /* the "SMS provider" refuses order-3 until the trigger goes */
    sql_do("CREATE FUNCTION notifications.refuse_order_3() RETURNS trigger LANGUAGE plpgsql AS "
           "$$ BEGIN IF NEW.order_id = 'order-3' THEN RAISE EXCEPTION 'refused'; END IF; "
           "RETURN NEW; END $$");
    sql_do("CREATE TRIGGER refuse_order_3 BEFORE INSERT ON notifications.sent FOR EACH ROW "
           "EXECUTE FUNCTION notifications.refuse_order_3()");
    ddd_event *ev = order_created("order-3");
    char id[DDD_ID_MAX + 1];
    core_strlcpy(id, ddd_event_id(ev), sizeof id);
    publish(ORDERING_ORDER_CHANNEL, ev);
    ddd_event_free(ev);
    sleep_ms(1500); /* the first delivery fails; the next one is a second or more away */
    assert_int_equal(sql_long(SENT, "order-3"), 0);
    if (sql_long(IN_INBOX, id) != 0)
        fail_msg("the message is in the inbox although its handler failed: the inbox row must "
                 "roll back with the handler (return the handler's error)");
    sql_do("DROP TRIGGER refuse_order_3 ON notifications.sent");
    wait_for(SENT, "order-3", 1, "notifications.sent rows of order-3 after the redelivery");
    wait_group_done();
    assert_int_equal(sql_long(SENT, "order-3"), 1);
    assert_int_equal(sql_long(IN_INBOX, id), 1);
}

static void customer_events_reach_the_cache_through_the_inbox(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    Customersapi__CustomerRegistered *m = core_calloc(1, sizeof *m);
    assert_non_null(m);
    customersapi__customer_registered__init(m);
    m->id = core_strdup("customer-9");
    m->name = core_strdup("Grace");
    m->sms_number = core_strdup("555-0199");
    ProtobufCMessage *pm = &m->base;
    ddd_event *ev = NULL;
    assert_int_equal(ddd_event_new(&ev, CUSTOMERSAPI_CUSTOMER_REGISTERED, &pm, &err), CORE_OK);
    char id[DDD_ID_MAX + 1];
    core_strlcpy(id, ddd_event_id(ev), sizeof id);
    publish(CUSTOMERS_CUSTOMER_CHANNEL, ev);
    ddd_event_free(ev);
    wait_for("SELECT count(*) FROM notifications.customers_cache WHERE id = $1", "customer-9", 1,
             "the cache row of customer-9");
    wait_for(IN_INBOX, id, 1, "notifications.inbox rows of the customer's message");
}

int main(void)
{
    log_init(LOG_LEVEL_ERROR); /* not the migrations' INFO lines, nor the expected retries */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_order_created_is_sent_and_recorded),
        cmocka_unit_test(the_same_message_again_sends_nothing),
        cmocka_unit_test(a_failed_send_leaves_nothing_and_the_redelivery_sends_once),
        cmocka_unit_test(customer_events_reach_the_cache_through_the_inbox),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
