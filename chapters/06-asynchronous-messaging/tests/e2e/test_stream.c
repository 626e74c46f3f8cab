/* test_stream.c -- end to end (chapter 06): the stores module's changes leave the process as
 * messages on a real NATS JetStream stream, and the baskets module consumes them.
 *
 * One mallbots process on a fresh database, with a nats-server of its own (e2e_open starts one
 * from chapter 06 on: tests/support/natsd.h), which one test kills and restarts. The test reads the
 * stream with the core's own client (am_stream_read), decodes each message the way any consumer
 * would (StreamMessage -> EventMessageData -> payload through the chapter's registry,
 * monolith/messages.h) and checks:
 *   - a store created over REST is a storesapi.StoreCreated on mallbots.stores.events.Store whose
 *     payload carries the STORE's id (the book's chapter 06 puts the event id there), whose
 *     message id is the domain event's id in stores.events and equals the Nats-Msg-Id header;
 *   - every further change of a store or a product is announced, in order, on its channel;
 *   - the baskets module's two consumer groups receive and acknowledge everything;
 *   - with the broker killed, a change answers 503 with the API's message, is stored all the same
 *     (the dual-write gap of this chapter), and after the broker's restart the program publishes
 *     again while the file store kept every earlier message;
 *   - a program that cannot reach the broker at start-up exits non-zero with one clear line.
 * The tests run in order and build on each other. Waits are bounded; nothing asserts on time.
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
#include "e2e.h"
#include "monolith/messages.h"
#include "natsd.h"
#include "stores/events.h"

#define WAIT_MS 30000 /* upper bound of every wait: a failure, not a measurement */

static e2e_app *app;
static am_stream *reader;  /* the test's own connection to the program's stream */
static es_registry *types; /* every integration message of the chapter */
static char store_id[E2E_ID_MAX], product_id[E2E_ID_MAX];

/* ---- reading the stream -----------------------------------------------------------------------
 */

#define SEEN_MAX 64
struct seen_msg {
    uint64_t seq;
    char subject[AM_SUBJECT_MAX + 1];
    char header_id[64]; /* Nats-Msg-Id */
    char id[64];        /* StreamMessage.id */
    char name[96];      /* StreamMessage.name */
    char about[64];     /* the payload's id field: the store's or product's id */
    char text[128];     /* name, or location, or the delta as text: enough to tell messages apart */
};
struct seen {
    struct seen_msg m[SEEN_MAX];
    int n;
    char error[256];
};

/* The id field (field number 1 in every stores integration message) and one more field. */
static void describe(const ddd_event *ev, struct seen_msg *out)
{
    const ProtobufCMessage *p = ddd_event_payload(ev);
    const void *v = p;
    if (ddd_event_payload_is(ev, &storesapi__store_created__descriptor)) {
        const Storesapi__StoreCreated *m = v;
        snprintf(out->about, sizeof out->about, "%s", m->id);
        snprintf(out->text, sizeof out->text, "%s|%s", m->name, m->location);
    } else if (ddd_event_payload_is(ev, &storesapi__store_participation_toggled__descriptor)) {
        const Storesapi__StoreParticipationToggled *m = v;
        snprintf(out->about, sizeof out->about, "%s", m->id);
        snprintf(out->text, sizeof out->text, "%s", m->participating ? "true" : "false");
    } else if (ddd_event_payload_is(ev, &storesapi__store_rebranded__descriptor)) {
        const Storesapi__StoreRebranded *m = v;
        snprintf(out->about, sizeof out->about, "%s", m->id);
        snprintf(out->text, sizeof out->text, "%s", m->name);
    } else if (ddd_event_payload_is(ev, &storesapi__product_added__descriptor)) {
        const Storesapi__ProductAdded *m = v;
        snprintf(out->about, sizeof out->about, "%s", m->id);
        snprintf(out->text, sizeof out->text, "%s|%s|%s|%.2f", m->store_id, m->name, m->sku,
                 m->price);
    } else if (ddd_event_payload_is(ev, &storesapi__product_rebranded__descriptor)) {
        const Storesapi__ProductRebranded *m = v;
        snprintf(out->about, sizeof out->about, "%s", m->id);
        snprintf(out->text, sizeof out->text, "%s|%s", m->name, m->description);
    } else if (ddd_event_payload_is(ev, &storesapi__product_price_changed__descriptor)) {
        const Storesapi__ProductPriceChanged *m = v;
        snprintf(out->about, sizeof out->about, "%s", m->id);
        snprintf(out->text, sizeof out->text, "%.2f", m->delta);
    } else if (ddd_event_payload_is(ev, &storesapi__product_removed__descriptor)) {
        const Storesapi__ProductRemoved *m = v;
        snprintf(out->about, sizeof out->about, "%s", m->id);
    }
}

static core_status collect(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct seen *s = ud;
    if (s->n >= SEEN_MAX)
        return core_err_set(err, CORE_ERR_TOO_LARGE, "more than %d messages", SEEN_MAX);
    struct seen_msg *out = &s->m[s->n];
    memset(out, 0, sizeof *out);
    out->seq = m->seq;
    snprintf(out->subject, sizeof out->subject, "%s", m->subject);
    snprintf(out->header_id, sizeof out->header_id, "%s", m->msg_id ? m->msg_id : "");
    struct am_envelope env = AM_ENVELOPE_INIT;
    ddd_event *ev = NULL;
    core_status st = am_stream_message_unpack(m->data, m->len, &env, err);
    if (!st)
        st = am_data_unpack(types, env.id, env.name, env.data, env.len, &ev, err);
    if (!st) {
        snprintf(out->id, sizeof out->id, "%s", env.id);
        snprintf(out->name, sizeof out->name, "%s", env.name);
        describe(ev, out);
        s->n++;
    }
    ddd_event_free(ev);
    am_envelope_release(&env);
    return st;
}

/* Every message on the subjects matching filter, decoded, into *s. Fails the test on an error. */
static void read_stream(const char *filter, struct seen *s)
{
    core_err err = CORE_ERR_INIT;
    if (!reader) { /* connects on first use, to the program's broker */
        struct am_js_opts o = AM_JS_OPTS_INIT;
        o.url = e2e_app_broker(app)->url;
        o.stream = "mallbots";
        o.name = "test_stream";
        if (am_js_stream_new(&reader, &o, &err) != CORE_OK)
            fail_msg("connecting to %s: %s", o.url, err.msg);
    }
    memset(s, 0, sizeof *s);
    if (am_stream_read(reader, filter, 1, collect, s, &err) != CORE_OK)
        fail_msg("reading %s: %s", filter, err.msg);
}

/* The message about id named name, or NULL. */
static const struct seen_msg *find(const struct seen *s, const char *name, const char *id)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->m[i].name, name) == 0 && strcmp(s->m[i].about, id) == 0)
            return &s->m[i];
    return NULL;
}

static void expect_message(const struct seen *s, const char *subject, const char *name,
                           const char *id, const char *text)
{
    const struct seen_msg *m = find(s, name, id);
    if (!m)
        fail_msg("no %s about %s on the stream (%d messages)", name, id, s->n);
    assert_string_equal(m->subject, subject);
    assert_string_equal(m->header_id, m->id); /* Nats-Msg-Id = StreamMessage.id */
    if (text)
        assert_string_equal(m->text, text);
}

/* ---- tests --------------------------------------------------------------------------------------
 */

static void a_created_store_is_on_the_stream(void **state)
{
    (void)state;
    e2e_expect_id(app, "POST", "/api/stores",
                  "{\"name\":\"Waldorf Books\",\"location\":\"Upper floor\"}", store_id);
    struct seen s;
    read_stream(STORES_STORE_CHANNEL, &s);
    expect_message(&s, STORES_STORE_CHANNEL, STORESAPI_STORE_CREATED, store_id,
                   "Waldorf Books|Upper floor");
    /* the message id is the id of the domain event it announces */
    const struct seen_msg *m = find(&s, STORESAPI_STORE_CREATED, store_id);
    e2e_expect_sql(app, m->id,
                   "select event_id from stores.events where stream_id = $1 and stream_version = 1",
                   store_id);
    assert_string_not_equal(m->id, store_id);
}

static void every_change_is_announced_in_order(void **state)
{
    (void)state;
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/participating", store_id), "{}"));
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/%s/rebrand", store_id),
                              "{\"name\":\"Waldorf Books & Co\"}"));
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store_id),
                  "{\"name\":\"Atlas\",\"description\":\"maps\",\"sku\":\"AT-1\",\"price\":20}",
                  product_id);
    json_decref(e2e_expect_ok(app, "PUT", E2E_F("/api/stores/products/%s/rebrand", product_id),
                              "{\"name\":\"World Atlas\",\"description\":\"all maps\"}"));
    json_decref(e2e_expect_ok(
        app, "PUT", E2E_F("/api/stores/products/%s/increasePrice", product_id), "{\"price\":25}"));
    json_decref(e2e_expect_ok(app, "PUT",
                              E2E_F("/api/stores/products/%s/decreasePrice", product_id),
                              "{\"price\":22.5}"));
    json_decref(e2e_expect_ok(app, "DELETE", E2E_F("/api/stores/products/%s", product_id), NULL));

    struct seen s;
    read_stream(STORES_STORE_CHANNEL, &s);
    expect_message(&s, STORES_STORE_CHANNEL, STORESAPI_STORE_PARTICIPATING_TOGGLED, store_id,
                   "true");
    expect_message(&s, STORES_STORE_CHANNEL, STORESAPI_STORE_REBRANDED, store_id,
                   "Waldorf Books & Co");
    read_stream(STORES_PRODUCT_CHANNEL, &s);
    static const char *const order[] = {
        STORESAPI_PRODUCT_ADDED, STORESAPI_PRODUCT_REBRANDED, STORESAPI_PRODUCT_PRICE_INCREASED,
        STORESAPI_PRODUCT_PRICE_DECREASED, STORESAPI_PRODUCT_REMOVED};
    int at = 0;
    for (int i = 0; i < s.n && at < 5; i++)
        if (strcmp(s.m[i].about, product_id) == 0 && strcmp(s.m[i].name, order[at]) == 0)
            at++;
    if (at != 5)
        fail_msg("the product's five messages are not all on the stream in order: found %d", at);
    expect_message(&s, STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_ADDED, product_id,
                   E2E_F("%s|Atlas|AT-1|20.00", store_id));
    expect_message(&s, STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_PRICE_INCREASED, product_id,
                   "5.00");
    expect_message(&s, STORES_PRODUCT_CHANNEL, STORESAPI_PRODUCT_PRICE_DECREASED, product_id,
                   "-2.50");
}

/* Waits until group has acknowledged every message up to seq. */
static void expect_group_done(const char *group, uint64_t seq)
{
    core_err err = CORE_ERR_INIT;
    struct am_group_info gi = {0};
    struct timespec pause = {0, 50 * 1000 * 1000};
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        if (am_stream_group_info(reader, group, &gi, &err) != CORE_OK)
            fail_msg("group %s: %s", group, err.msg);
        if (gi.ack_floor >= seq && gi.pending == 0 && gi.ack_pending == 0)
            return;
        nanosleep(&pause, NULL);
    }
    fail_msg("group %s acknowledged up to %llu, not %llu (pending %llu, ack pending %llu)", group,
             (unsigned long long)gi.ack_floor, (unsigned long long)seq,
             (unsigned long long)gi.pending, (unsigned long long)gi.ack_pending);
}

static void baskets_consumes_both_channels(void **state)
{
    (void)state;
    struct seen stores, products;
    read_stream(STORES_STORE_CHANNEL, &stores);
    read_stream(STORES_PRODUCT_CHANNEL, &products);
    assert_true(stores.n >= 3);
    assert_true(products.n >= 5);
    /* one stream: a group's ack floor is a stream sequence, and the floor passes the sequences
     * of other subjects too */
    expect_group_done("baskets-stores", stores.m[stores.n - 1].seq);
    expect_group_done("baskets-products", products.m[products.n - 1].seq);
}

static void a_dead_broker_is_503_and_the_change_is_kept(void **state)
{
    (void)state;
    long long before = e2e_sql_long(app, "select count(*) from stores.stores", 0, NULL);
    struct natsd *broker = e2e_app_broker(app);
    assert_non_null(broker);
    natsd_stop(broker, SIGKILL);
    e2e_expect_error(app, "POST", "/api/stores", "{\"name\":\"Dark Shop\",\"location\":\"Cellar\"}",
                     503,
                     "the change was saved but not published: the message broker is unavailable");
    /* saved: the dual-write gap; nothing will ever publish its StoreCreated */
    assert_int_equal(e2e_sql_long(app, "select count(*) from stores.stores", 0, NULL), before + 1);
    char lost[E2E_ID_MAX];
    char *v = e2e_sql_value(app, "select id from stores.stores where name = 'Dark Shop'", 0, NULL);
    assert_non_null(v);
    snprintf(lost, sizeof lost, "%s", v);
    free(v);

    assert_int_equal(natsd_start(broker), 0);
    assert_true(natsd_wait_ready(broker, WAIT_MS));
    assert_true(am_stream_wait_connected(reader, WAIT_MS));
    /* the program reconnects by itself; until then a create answers 503 (and is saved) */
    char again[E2E_ID_MAX] = "";
    struct timespec pause = {0, 100 * 1000 * 1000};
    for (int waited = 0; waited < WAIT_MS && !again[0]; waited += 100) {
        int status = 0;
        json_t *j = e2e_call(app, "POST", "/api/stores",
                             "{\"name\":\"Dawn Shop\",\"location\":\"Roof\"}", &status);
        if (status == 200 && e2e_json_str(j, "id"))
            snprintf(again, sizeof again, "%s", e2e_json_str(j, "id"));
        else if (status != 503)
            fail_msg("create after the restart: HTTP %d", status);
        json_decref(j);
        if (!again[0])
            nanosleep(&pause, NULL);
    }
    assert_true(again[0] != '\0');
    struct seen s;
    read_stream(STORES_STORE_CHANNEL, &s);
    expect_message(&s, STORES_STORE_CHANNEL, STORESAPI_STORE_CREATED, again, "Dawn Shop|Roof");
    expect_message(&s, STORES_STORE_CHANNEL, STORESAPI_STORE_CREATED, store_id, NULL); /* kept */
    assert_null(find(&s, STORESAPI_STORE_CREATED, lost)); /* lost for good */
}

/* Start-up without a broker: the program tries for a bounded time, then one line and exit 1. */
static void no_broker_at_start_up_is_a_clear_exit(void **state)
{
    (void)state;
    struct natsd nobody;
    assert_int_equal(natsd_init(&nobody, "ch06-nobody"), 0); /* a port nobody listens on */
    struct e2e_db db = E2E_DB_INIT;
    core_err err = CORE_ERR_INIT;
    if (e2e_db_create(&db, "ch06nb", &err) != CORE_OK)
        fail_msg("%s", err.msg);
    struct e2e_app_opts o = E2E_APP_OPTS_INIT;
    o.name = "ch06-nobroker";
    o.pg_conn = db.conninfo;
    o.nats_url = nobody.url;
    e2e_app *lone = NULL;
    core_status st = e2e_app_start(&lone, &o, &err);
    e2e_app_free(lone);
    core_err derr = CORE_ERR_INIT;
    if (e2e_db_drop(&db, &derr))
        fprintf(stderr, "%s\n", derr.msg);
    if (st == CORE_OK)
        fail_msg("the program started without a message broker");
    assert_int_equal(st, CORE_ERR_UNAVAILABLE);
    /* its log ends with the reason, naming the URL it tried */
    char dir[200], path[300], line[1024], last[1024] = "";
    snprintf(path, sizeof path, "%s/ch06-nobroker.app.log", e2e_log_dir(dir, sizeof dir));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f))
        snprintf(last, sizeof last, "%s", line);
    fclose(f);
    if (!strstr(last, "start-up failed") || !strstr(last, "cannot reach the message broker") ||
        !strstr(last, nobody.url))
        fail_msg("the last log line does not say why: %s", last);
    natsd_release(&nobody);
}

int main(void)
{
    core_err err = CORE_ERR_INIT;
    if (es_registry_new(&types, &err) || monolith_register_messages(types, &err)) {
        fprintf(stderr, "test_stream: %s\n", err.msg);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_created_store_is_on_the_stream),
        cmocka_unit_test(every_change_is_announced_in_order),
        cmocka_unit_test(baskets_consumes_both_channels),
        cmocka_unit_test(a_dead_broker_is_503_and_the_change_is_kept),
        cmocka_unit_test(no_broker_at_start_up_is_a_clear_exit),
        cmocka_unit_test(e2e_shuts_down_cleanly),
    };
    int rc = e2e_run_group("stream", &app, tests);
    am_stream_free(reader);
    es_registry_free(types);
    am_js_library_close();
    return rc;
}
