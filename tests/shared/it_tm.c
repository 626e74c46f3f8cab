/* it_tm.c -- integration tests of tm.h (the outbox, its relay and the inbox) against the lab's
 * PostgreSQL (scripts/lab.sh up) and a private nats-server (natsd.h) per test, so a test may
 * stop the broker and count the stream's messages.
 *
 * Every test gets a scratch database with the schema "tmtest" (tm_schema_sql's tables plus a
 * table "effects" that handlers write to), the stream "tmtest" and an outbox on it. Payloads are
 * amtest.StoreCreated (am_test.proto) under the name "storesapi.StoreCreated".
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <inttypes.h>
#include <cmocka.h>

#include "am.h"
#include "am_test.pb-c.h"
#include "core.h"
#include "e2e.h"
#include "log.h"
#include "natsd.h"
#include "pb.h"
#include "pg.h"
#include "tm.h"
#include "tm_fixture.h"

#define SCHEMA "tmtest"
#define CHANNEL "tmtest.stores.events.Store"
#define COMMANDS "tmtest.depot.commands"
#define REPLIES "tmtest.cosec.replies"
#define STORE_CREATED "storesapi.StoreCreated"
#define MAKE_LIST "depotapi.CreateShoppingList"
#define WAIT_MS 10000

struct fx {
    struct tm_fx tm; /* tm_fixture.h */
    tm_relay *relay[2];
};

static void must(core_status s, const core_err *err)
{
    if (s)
        fail_msg("failed: %s", err->msg);
}

/* The fixture's options; window_ms is the stream's duplicate window (0 = the default, 2 min). */
static struct tm_fx_opts fx_opts(int window_ms)
{
    return (struct tm_fx_opts){"it_tm", SCHEMA,
                               "CREATE SCHEMA " SCHEMA ";"
                               "CREATE TABLE " SCHEMA ".effects (message_id text NOT NULL, "
                               "note text NOT NULL)",
                               6, window_ms};
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 2; i++)
        tm_relay_free(f->relay[i]);
    int rc = tm_fx_close(&f->tm);
    free(f);
    return rc;
}

/* A fixture whose stream has a duplicate window of window_ms (0 = the default, 2 minutes). */
static int setup_with_window(void **state, int window_ms)
{
    struct fx *f = calloc(1, sizeof *f);
    struct tm_fx_opts o = fx_opts(window_ms);
    if (!f || tm_fx_open(&f->tm, &o) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    core_err err = CORE_ERR_INIT;
    core_status st =
        es_registry_add(f->tm.reg, STORE_CREATED, &amtest__store_created__descriptor, &err);
    if (!st)
        st = es_registry_add(f->tm.reg, MAKE_LIST, &amtest__store_created__descriptor, &err);
    if (st) {
        fprintf(stderr, "it_tm: setting up: %s\n", err.msg);
        fx_teardown(state);
        return -1;
    }
    return 0;
}

static int fx_setup(void **state)
{
    return setup_with_window(state, 0);
}

/* ---- helpers --------------------------------------------------------------------------------- */

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* One number from SQL on the fixture's pool. */
static long sql_long(struct fx *f, const char *sql)
{
    PGresult *res = NULL;
    core_err err = CORE_ERR_INIT;
    must(pg_run(f->tm.pool, sql, 0, NULL, &res, &err), &err);
    long v = strtol(pg_get(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

static void sql_do(struct fx *f, const char *sql)
{
    core_err err = CORE_ERR_INIT;
    must(pg_run(f->tm.pool, sql, 0, NULL, NULL, &err), &err);
}

static uint64_t stream_messages(struct fx *f)
{
    struct am_stream_state st;
    core_err err = CORE_ERR_INIT;
    must(am_stream_state_get(f->tm.js, &st, &err), &err);
    return st.messages;
}

/* A StoreCreated event with id (NULL: a new one) named name. */
static ddd_event *store_event(const char *name, const char *id, const char *store)
{
    Amtest__StoreCreated *p = pb_new_of(amtest__store_created);
    assert_non_null(p);
    core_err err = CORE_ERR_INIT;
    must(pb_set_string(&p->name, store, &err), &err);
    ProtobufCMessage *payload = &p->base;
    ddd_event *ev = NULL;
    must(ddd_event_new(&ev, name, &payload, &err), &err);
    if (id)
        must(ddd_event_restore(ev, id, ddd_event_occurred_at(ev), &err), &err);
    return ev;
}

/* Commits n events on CHANNEL in one unit of work; their ids into ids (may be NULL). */
static void commit_events(struct fx *f, int n, char (*ids)[DDD_ID_MAX + 1])
{
    core_err err = CORE_ERR_INIT;
    tm_tx *tx = NULL;
    must(tm_begin(f->tm.ob, &tx, &err), &err);
    for (int i = 0; i < n; i++) {
        ddd_event *ev = store_event(STORE_CREATED, NULL, "shop");
        if (ids)
            core_strlcpy(ids[i], ddd_event_id(ev), sizeof ids[i]);
        core_status st = am_event_publish(tm_tx_stream(tx), CHANNEL, ev, &err);
        ddd_event_free(ev);
        must(st, &err);
    }
    must(tm_commit(tx, &err), &err);
}

static void relay_make(struct fx *f, int slot, int poll_ms, int64_t keep_ms, int batch)
{
    const char *schemas[] = {SCHEMA, NULL};
    struct tm_relay_opts o = TM_RELAY_OPTS_INIT;
    o.pool = f->tm.pool;
    o.conninfo = f->tm.scratch.db.conninfo;
    o.stream = f->tm.js;
    o.schemas = schemas;
    o.poll_ms = poll_ms;
    o.keep_ms = keep_ms;
    o.batch = batch;
    core_err err = CORE_ERR_INIT;
    must(tm_relay_new(&f->relay[slot], &o, &err), &err);
    must(tm_relay_start(f->relay[slot], &err), &err);
}

static struct tm_relay_stats stats_of(tm_relay *r)
{
    struct tm_relay_stats st;
    tm_relay_stats(r, &st);
    return st;
}

/* Waits until the relay has published at least n rows; its stats. */
static struct tm_relay_stats wait_published(tm_relay *r, uint64_t n)
{
    struct tm_relay_stats st = stats_of(r);
    for (int waited = 0; st.published < n && waited < WAIT_MS; waited += 20) {
        sleep_ms(20);
        st = stats_of(r);
    }
    if (st.published < n)
        fail_msg("relay published %llu rows, not %llu", (unsigned long long)st.published,
                 (unsigned long long)n);
    return st;
}

/* Waits until SQL's number is want; fails after WAIT_MS. */
static void wait_sql(struct fx *f, const char *sql, long want)
{
    long v = sql_long(f, sql);
    for (int waited = 0; v != want && waited < WAIT_MS; waited += 20) {
        sleep_ms(20);
        v = sql_long(f, sql);
    }
    if (v != want)
        fail_msg("%s: %ld, not %ld", sql, v, want);
}

struct seen {
    int n;
    char ids[400][DDD_ID_MAX + 1];
};

static core_status collect(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct seen *s = ud;
    if (s->n < 400)
        core_strlcpy(s->ids[s->n++], m->msg_id ? m->msg_id : "", sizeof s->ids[0]);
    return CORE_OK;
}

static void read_stream(struct fx *f, const char *filter, struct seen *s)
{
    core_err err = CORE_ERR_INIT;
    s->n = 0;
    must(am_stream_read(f->tm.js, filter, 1, collect, s, &err), &err);
}

#define UNPUBLISHED "SELECT count(*) FROM " SCHEMA ".outbox WHERE published_at IS NULL"
#define PUBLISHED "SELECT count(*) FROM " SCHEMA ".outbox WHERE published_at IS NOT NULL"
#define ROWS "SELECT count(*) FROM " SCHEMA ".outbox"

/* ---- the outbox and the relay ---------------------------------------------------------------- */

/* A committed unit of work is published by the relay, woken by the NOTIFY of its commit (the poll
 * timer is a minute), in seq order, with the message id as Nats-Msg-Id; a rolled-back one leaves
 * nothing. */
static void committed_rows_are_published_on_notify(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    relay_make(f, 0, 60000, 0, 0);
    sleep_ms(100); /* the relay's first pass (nothing to do) is over */

    tm_tx *tx = NULL;
    must(tm_begin(f->tm.ob, &tx, &err), &err);
    ddd_event *ev = store_event(STORE_CREATED, NULL, "rolled back");
    must(am_event_publish(tm_tx_stream(tx), CHANNEL, ev, &err), &err);
    ddd_event_free(ev);
    tm_rollback(tx);
    assert_int_equal(sql_long(f, ROWS), 0);

    char ids[5][DDD_ID_MAX + 1];
    commit_events(f, 3, ids);
    commit_events(f, 2, ids + 3);
    struct tm_relay_stats st = wait_published(f->relay[0], 5);
    assert_true(st.wakeups_notify >= 1);
    assert_int_equal(st.wakeups_poll, 0);
    assert_int_equal(st.duplicates, 0);
    assert_int_equal(st.errors, 0);
    assert_int_equal(sql_long(f, UNPUBLISHED), 0);
    assert_int_equal(sql_long(f, PUBLISHED), 5);
    struct seen s;
    read_stream(f, NULL, &s);
    assert_int_equal(s.n, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(s.ids[i], ids[i]); /* the order of seq */
}

/* A notification names its schema, and the pass it starts looks at that schema only: a row of
 * another schema, inserted without a notification, waits for its own notification (or the poll
 * timer, a minute here); a notification for a schema the relay does not serve starts nothing. */
static void a_notification_makes_only_its_schema_due(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    char *ddl = NULL;
    pg_conn *c = NULL;
    must(pg_acquire(f->tm.pool, &c, &err), &err);
    core_status st = pg_exec_script(c, "CREATE SCHEMA tmother", &err);
    if (!st && !(st = tm_schema_sql("tmother", &ddl, &err)))
        st = pg_exec_script(c, ddl, &err);
    core_free(ddl);
    pg_release(f->tm.pool, c);
    must(st, &err);
    const char *schemas[] = {SCHEMA, "tmother", NULL};
    struct tm_relay_opts o = TM_RELAY_OPTS_INIT;
    o.pool = f->tm.pool;
    o.conninfo = f->tm.scratch.db.conninfo;
    o.stream = f->tm.js;
    o.schemas = schemas;
    o.poll_ms = 60000;
    must(tm_relay_new(&f->relay[0], &o, &err), &err);
    must(tm_relay_start(f->relay[0], &err), &err);
    sleep_ms(100); /* the first pass, over both schemas, found nothing */

    sql_do(f, "INSERT INTO tmother.outbox (id, name, subject, data) VALUES ('other-1', "
              "'" STORE_CREATED "', '" CHANNEL "', '\\x00'::bytea)");
    commit_events(f, 1, NULL); /* notifies SCHEMA */
    wait_published(f->relay[0], 1);
    sleep_ms(200);
    assert_int_equal(sql_long(f, UNPUBLISHED), 0);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM tmother.outbox WHERE published_at IS NULL"),
                     1);
    uint64_t notified = stats_of(f->relay[0]).wakeups_notify;

    sql_do(f, "SELECT pg_notify('" TM_NOTIFY_CHANNEL "', 'nosuchschema')");
    sleep_ms(200);
    assert_int_equal(stats_of(f->relay[0]).wakeups_notify, notified);

    sql_do(f, "SELECT pg_notify('" TM_NOTIFY_CHANNEL "', 'tmother')");
    wait_published(f->relay[0], 2);
    wait_sql(f, "SELECT count(*) FROM tmother.outbox WHERE published_at IS NULL", 0);
    assert_int_equal(stats_of(f->relay[0]).wakeups_poll, 0);
}

/* The same message id written twice (in one unit of work and in another) is one row and one
 * message; the outbox stream only publishes. */
static void a_repeated_id_is_one_row_and_the_outbox_stream_only_publishes(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    const char *id = "7d5f0a3e-5a44-4c1e-9d49-4f4a1b6e2c10";
    for (int round = 0; round < 2; round++) {
        tm_tx *tx = NULL;
        must(tm_begin(f->tm.ob, &tx, &err), &err);
        for (int i = 0; i < 2; i++) {
            struct am_publish_ack ack = {99, true};
            must(am_stream_publish(tm_tx_stream(tx), CHANNEL, id, STORE_CREATED,
                                   (const unsigned char *)"x", 1, &ack, &err),
                 &err);
            assert_int_equal(ack.seq, 0);
            assert_false(ack.duplicate);
        }
        am_stream *s = tm_tx_stream(tx);
        struct am_sub_opts o = AM_SUB_OPTS_INIT;
        o.group = "g";
        assert_int_equal(am_stream_subscribe(s, CHANNEL, &o, NULL, NULL, &err), CORE_ERR_INTERNAL);
        struct am_stream_state ss;
        assert_int_equal(am_stream_state_get(s, &ss, &err), CORE_ERR_INTERNAL);
        /* a subject outside the stream is refused when written, not when relayed */
        assert_int_equal(am_stream_publish(s, "other.x", "i2", "n", NULL, 0, NULL, &err),
                         CORE_ERR_INTERNAL);
        must(tm_commit(tx, &err), &err);
    }
    assert_int_equal(sql_long(f, ROWS), 1);
    relay_make(f, 0, 0, 0, 0);
    wait_published(f->relay[0], 1);
    assert_int_equal(stream_messages(f), 1);
    long waiting = -1;
    int64_t age = -1;
    must(tm_outbox_backlog(f->tm.pool, SCHEMA, &waiting, &age, &err), &err);
    assert_int_equal(waiting, 0);
    assert_int_equal(age, 0);
}

/* With the broker down, committed rows stay unpublished (the relay does not mark what the stream
 * did not acknowledge); once it is back, they are published and marked. */
static void rows_wait_for_the_broker(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    relay_make(f, 0, 60000, 0, 0);
    commit_events(f, 2, NULL);
    wait_published(f->relay[0], 2);

    natsd_stop(&f->tm.srv, SIGKILL);
    char ids[3][DDD_ID_MAX + 1];
    commit_events(f, 3, ids);
    sleep_ms(1500);
    assert_int_equal(sql_long(f, UNPUBLISHED), 3);
    long waiting = 0;
    int64_t age = 0;
    must(tm_outbox_backlog(f->tm.pool, SCHEMA, &waiting, &age, &err), &err);
    assert_int_equal(waiting, 3);
    assert_true(age >= 1000);
    struct tm_relay_stats st = stats_of(f->relay[0]);
    assert_int_equal(st.published, 2);
    assert_true(st.errors >= 1);
    assert_true(st.errors < 8); /* it backs off: 250, 500, 1000 ms ... */

    assert_int_equal(natsd_start(&f->tm.srv), 0);
    assert_true(am_stream_wait_connected(f->tm.js, WAIT_MS));
    wait_published(f->relay[0], 5);
    assert_int_equal(sql_long(f, UNPUBLISHED), 0);
    assert_int_equal(stream_messages(f), 5);
    struct seen s;
    read_stream(f, NULL, &s);
    for (int i = 0; i < 3; i++)
        assert_string_equal(s.ids[2 + i], ids[i]);
}

/* A relay that died between the stream's acknowledgement and the mark (simulated: the marks are
 * undone) publishes the rows again; the stream stores each message once. */
static void a_relay_killed_before_the_mark_republishes_once(void **state)
{
    struct fx *f = *state;
    relay_make(f, 0, 60000, 0, 0);
    commit_events(f, 4, NULL);
    wait_published(f->relay[0], 4);
    tm_relay_free(f->relay[0]);
    f->relay[0] = NULL;
    sql_do(f, "UPDATE " SCHEMA ".outbox SET published_at = NULL");

    relay_make(f, 0, 60000, 0, 0); /* its first pass finds them */
    struct tm_relay_stats st = wait_published(f->relay[0], 4);
    assert_int_equal(st.duplicates, 4);
    assert_int_equal(sql_long(f, UNPUBLISHED), 0);
    assert_int_equal(stream_messages(f), 4);
}

/* Two relays on one table (two instances of a program) publish each row exactly once, and in seq
 * order. */
static void two_relays_publish_each_row_once(void **state)
{
    struct fx *f = *state;
    relay_make(f, 0, 60000, 0, 7);
    relay_make(f, 1, 60000, 0, 7);
    char ids[300][DDD_ID_MAX + 1];
    for (int i = 0; i < 30; i++)
        commit_events(f, 10, ids + 10 * i);
    wait_sql(f, UNPUBLISHED, 0);
    struct tm_relay_stats a = stats_of(f->relay[0]), b = stats_of(f->relay[1]);
    print_message("relay 1: %llu rows in %llu batches; relay 2: %llu rows in %llu batches\n",
                  (unsigned long long)a.published, (unsigned long long)a.batches,
                  (unsigned long long)b.published, (unsigned long long)b.batches);
    assert_int_equal(a.published + b.published, 300);
    assert_int_equal(a.duplicates + b.duplicates, 0);
    assert_int_equal(stream_messages(f), 300);
    static struct seen s;
    read_stream(f, NULL, &s);
    assert_int_equal(s.n, 300);
    for (int i = 0; i < 300; i++)
        assert_string_equal(s.ids[i], ids[i]);
}

/* Cleanup deletes published rows older than keep_ms, never unpublished ones; the relay runs it. */
static void cleanup_deletes_only_old_published_rows(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    sql_do(f, "INSERT INTO " SCHEMA ".outbox (id, name, subject, data, created_at, published_at) "
              "VALUES ('old-published', 'n', 's', '\\x00', now() - interval '1 hour', "
              "now() - interval '1 hour'), "
              "('new-published', 'n', 's', '\\x00', now(), now()), "
              "('old-waiting', 'n', 'tmtest.x', '\\x00', now() - interval '1 hour', NULL)");
    long deleted = -1;
    must(tm_outbox_cleanup(f->tm.pool, SCHEMA, 60000, &deleted, &err), &err);
    assert_int_equal(deleted, 1);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA
                                 ".outbox WHERE id IN ('new-published', 'old-waiting')"),
                     2);
    assert_int_equal(tm_outbox_cleanup(f->tm.pool, "Bad", 1, &deleted, &err), CORE_ERR_INVALID);

    /* the relay (keep 300 ms) publishes the waiting row, then deletes every published one */
    sql_do(f, "DELETE FROM " SCHEMA ".outbox");
    relay_make(f, 0, 60000, 300, 0);
    commit_events(f, 3, NULL);
    wait_published(f->relay[0], 3);
    wait_sql(f, ROWS, 0);
}

/* A relay whose LISTEN connection is cut reconnects, makes a full pass and is woken by
 * notifications again. */
static void a_lost_listen_connection_is_reopened(void **state)
{
    struct fx *f = *state;
    relay_make(f, 0, 60000, 0, 0);
    commit_events(f, 1, NULL);
    wait_published(f->relay[0], 1);
    wait_sql(f,
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
             "current_database() AND query = 'LISTEN " TM_NOTIFY_CHANNEL "'",
             1);
    struct tm_relay_stats st = stats_of(f->relay[0]);
    for (int waited = 0; st.errors == 0 && waited < WAIT_MS; waited += 20) {
        sleep_ms(20);
        st = stats_of(f->relay[0]);
    }
    assert_int_equal(st.errors, 1); /* it noticed at once, without waiting for the poll */
    wait_sql(f,
             "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query "
             "= 'LISTEN " TM_NOTIFY_CHANNEL "'",
             1);
    uint64_t notified = st.wakeups_notify;
    commit_events(f, 2, NULL);
    st = wait_published(f->relay[0], 3);
    assert_true(st.wakeups_notify > notified);
    assert_int_equal(st.wakeups_poll, 0);
}

/* ---- the inbox and the transactional subscriptions ----------------------------------------------
 */

static int fx_setup_short_window(void **state)
{
    return setup_with_window(state, 200); /* the same message id can be stored twice */
}

/* What the handlers saw and how they are to behave. */
struct probe {
    pthread_mutex_t mu;
    int calls;
    int fail_first;  /* fail this many calls with CORE_ERR_UNAVAILABLE (after writing) */
    int max_deliver; /* what the last delivery said the message's budget is */
};

static void probe_init(struct probe *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
}

static int probe_calls(struct probe *p)
{
    pthread_mutex_lock(&p->mu);
    int n = p->calls;
    pthread_mutex_unlock(&p->mu);
    return n;
}

/* Counts the call; true when this call is to fail. */
static bool probe_call(struct probe *p)
{
    pthread_mutex_lock(&p->mu);
    bool fail = p->calls < p->fail_first;
    p->calls++;
    pthread_mutex_unlock(&p->mu);
    return fail;
}

static core_status write_effect(tm_tx *tx, const char *id, const char *note, core_err *err)
{
    const char *params[2] = {id, note};
    return pg_exec(tm_tx_conn(tx), "INSERT INTO " SCHEMA ".effects VALUES ($1, $2)", 2, params,
                   NULL, err);
}

/* An event handler that writes an effect and an outbox row (a follow-up event), then fails
 * while the probe says so. */
static core_status on_event(void *ud, tm_tx *tx, const struct am_delivery *d,
                            const ddd_event *event, core_err *err)
{
    struct probe *p = ud;
    bool fail = probe_call(p);
    pthread_mutex_lock(&p->mu);
    p->max_deliver = d->max_deliver;
    pthread_mutex_unlock(&p->mu);
    core_status st = write_effect(tx, d->id, "event", err);
    if (!st) {
        ddd_event *next = store_event(STORE_CREATED, NULL, "follow-up");
        st = am_event_publish(tm_tx_stream(tx), "tmtest.baskets.events.Basket", next, err);
        ddd_event_free(next);
    }
    if (!st && fail)
        st = core_err_set(err, CORE_ERR_UNAVAILABLE, "the test says no (call %d)", p->calls);
    return st;
}

/* Waits until group has acknowledged everything up to stream sequence floor. */
static void wait_group_done(struct fx *f, const char *group, uint64_t floor)
{
    struct am_group_info gi = {0, 0, 0, 0};
    core_err err = CORE_ERR_INIT;
    for (int waited = 0; waited < WAIT_MS; waited += 20) {
        if (am_stream_group_info(f->tm.js, group, &gi, &err) == CORE_OK && gi.pending == 0 &&
            gi.ack_pending == 0 && gi.ack_floor >= floor)
            return;
        sleep_ms(20);
    }
    fail_msg("group %s: pending %llu, ack pending %llu, ack floor %llu (want %llu)", group,
             (unsigned long long)gi.pending, (unsigned long long)gi.ack_pending,
             (unsigned long long)gi.ack_floor, (unsigned long long)floor);
}

static struct am_sub_opts group_opts(const char *group)
{
    struct am_sub_opts o = AM_SUB_OPTS_INIT;
    o.group = group;
    o.retry_delay_ms = 50;
    o.ack_wait_ms = 3000;
    return o;
}

/* The same message id delivered twice (stored twice: the stream's window has passed) runs the
 * handler once: the inbox knows it. */
static void a_duplicate_message_runs_the_handler_once(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct probe p;
    probe_init(&p);
    struct am_sub_opts o = group_opts("g");
    must(tm_event_subscribe(f->tm.js, f->tm.ob, CHANNEL, &o, f->tm.reg, on_event, &p, &err), &err);
    ddd_event *ev = store_event(STORE_CREATED, NULL, "twice");
    must(am_event_publish(f->tm.js, CHANNEL, ev, &err), &err);
    wait_group_done(f, "g", 1);
    sleep_ms(400); /* past the duplicate window */
    must(am_event_publish(f->tm.js, CHANNEL, ev, &err), &err);
    ddd_event_free(ev);
    assert_int_equal(stream_messages(f), 2); /* two copies of one message */
    wait_group_done(f, "g", 2);
    assert_int_equal(probe_calls(&p), 1);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".effects"), 1);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".inbox"), 1);
    assert_int_equal(sql_long(f, ROWS), 1);
    must(am_stream_close(f->tm.js, 5000, &err), &err); /* no handler runs once the probe goes */
    /* the options left max_deliver 0: the transactional default, not am.h's */
    assert_int_equal(p.max_deliver, TM_MAX_DELIVER_DEFAULT);
    pthread_mutex_destroy(&p.mu);
}

/* A handler that fails rolls back its writes, its outbox row and the inbox row; the redelivery
 * commits them once. */
static void a_failed_handler_rolls_back_and_the_retry_commits_once(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct probe p;
    probe_init(&p);
    p.fail_first = 1;
    struct am_sub_opts o = group_opts("g");
    must(tm_event_subscribe(f->tm.js, f->tm.ob, CHANNEL, &o, f->tm.reg, on_event, &p, &err), &err);
    ddd_event *ev = store_event(STORE_CREATED, NULL, "retried");
    must(am_event_publish(f->tm.js, CHANNEL, ev, &err), &err);
    ddd_event_free(ev);
    wait_group_done(f, "g", 1);
    assert_int_equal(probe_calls(&p), 2);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".effects"), 1);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".inbox"), 1);
    assert_int_equal(sql_long(f, ROWS), 1);
    must(am_stream_close(f->tm.js, 5000, &err), &err);
    pthread_mutex_destroy(&p.mu);
}

/* ---- batches: several deliveries in one transaction ---------------------------------------- */

#define BACKLOG 120
/* The batch tests' tables: what each delivery did, and a deferred foreign key to break a COMMIT. */
static void batched_tables(struct fx *f)
{
    sql_do(f, "CREATE TABLE " SCHEMA ".batched (message_id text NOT NULL, txid bigint NOT NULL, "
              "delivered int NOT NULL, store text NOT NULL)");
    sql_do(f, "CREATE TABLE " SCHEMA ".parent (id int PRIMARY KEY)");
    sql_do(f, "CREATE TABLE " SCHEMA ".child (parent int REFERENCES " SCHEMA ".parent "
              "DEFERRABLE INITIALLY DEFERRED)");
}

/* Records the delivery with its transaction's id; a store named "fail once" fails its first
 * delivery after writing, with an SQL error (the transaction is aborted), one named "poison once"
 * writes a row that breaks the COMMIT (a deferred foreign key) on its first delivery. */
static core_status on_batched(void *ud, tm_tx *tx, const struct am_delivery *d,
                              const ddd_event *event, core_err *err)
{
    struct probe *p = ud;
    probe_call(p);
    const Amtest__StoreCreated *sc = (const Amtest__StoreCreated *)ddd_event_payload(event);
    char delivered[24];
    snprintf(delivered, sizeof delivered, "%" PRIu64, d->delivered);
    const char *params[] = {d->id, delivered, sc->name};
    core_status st = pg_exec(tm_tx_conn(tx),
                             "INSERT INTO " SCHEMA ".batched VALUES ($1, txid_current(), $2, $3)",
                             3, params, NULL, err);
    if (!st && d->delivered == 1 && strcmp(sc->name, "poison once") == 0)
        st =
            pg_exec(tm_tx_conn(tx), "INSERT INTO " SCHEMA ".child VALUES (42)", 0, NULL, NULL, err);
    if (!st && d->delivered == 1 && strcmp(sc->name, "fail once") == 0) /* aborts the tx */
        st = pg_exec(tm_tx_conn(tx), "SELECT 1 / 0", 0, NULL, NULL, err);
    return st;
}

/* Publishes BACKLOG events before anyone consumes them; event i is named by special(i) (NULL:
 * "shop"). */
static void publish_backlog(struct fx *f, const char *(*special)(int i))
{
    core_err err = CORE_ERR_INIT;
    for (int i = 0; i < BACKLOG; i++) {
        const char *name = special ? special(i) : NULL;
        ddd_event *ev = store_event(STORE_CREATED, NULL, name ? name : "shop");
        core_status st = am_event_publish(f->tm.js, CHANNEL, ev, &err);
        ddd_event_free(ev);
        must(st, &err);
    }
}

/* Subscribes on_batched as group "g" to the backlog and waits until the group is done. */
static void consume_backlog(struct fx *f, struct probe *p)
{
    core_err err = CORE_ERR_INIT;
    struct am_sub_opts o = group_opts("g");
    must(tm_event_subscribe(f->tm.js, f->tm.ob, CHANNEL, &o, f->tm.reg, on_batched, p, &err), &err);
    wait_group_done(f, "g", BACKLOG);
    must(am_stream_close(f->tm.js, 5000, &err), &err);
}

/* Every message of the backlog has its effect once, and its inbox row. */
static void each_effect_once(struct fx *f)
{
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".batched"), BACKLOG);
    assert_int_equal(sql_long(f, "SELECT count(DISTINCT message_id) FROM " SCHEMA ".batched"),
                     BACKLOG);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".inbox"), BACKLOG);
}

/* The batch tests' common part: their tables, the backlog (names from special), the group
 * consuming it to the end, every effect once. Returns how often the handler ran. */
static int run_backlog(struct fx *f, const char *(*special)(int i))
{
    batched_tables(f);
    publish_backlog(f, special);
    struct probe p;
    probe_init(&p);
    consume_backlog(f, &p); /* closes the stream: no handler runs afterwards */
    each_effect_once(f);
    int calls = probe_calls(&p);
    pthread_mutex_destroy(&p.mu);
    return calls;
}

/* A backlog is handled in batches: fewer transactions than deliveries, none larger than
 * AM_BATCH_MAX, and every effect once. */
static void a_backlog_is_handled_in_batches(void **state)
{
    struct fx *f = *state;
    int calls = run_backlog(f, NULL);
    assert_int_equal(calls, BACKLOG);
    long txs = sql_long(f, "SELECT count(DISTINCT txid) FROM " SCHEMA ".batched");
    long largest = sql_long(f, "SELECT max(n) FROM (SELECT count(*) n FROM " SCHEMA
                               ".batched GROUP BY txid) b");
    fprintf(stderr, "it_tm: %d deliveries in %ld transactions, the largest %ld\n", BACKLOG, txs,
            largest);
    assert_true(txs < BACKLOG / 2);
    assert_true(largest <= AM_BATCH_MAX);
}

static const char *every_tenth_fails(int i)
{
    return i % 10 == 3 ? "fail once" : NULL;
}

/* A delivery that fails inside a batch leaves nothing (its savepoint is rolled back) and is
 * retried; the batch's other deliveries commit once. */
static void a_failed_delivery_leaves_its_batch_alone(void **state)
{
    struct fx *f = *state;
    int calls = run_backlog(f, every_tenth_fails);
    assert_int_equal(calls, BACKLOG + BACKLOG / 10); /* each failed one twice */
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".batched WHERE delivered > 1"),
                     BACKLOG / 10);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".batched WHERE delivered > 1 "
                                 "AND store <> 'fail once'"),
                     0);
    assert_true(sql_long(f, "SELECT count(DISTINCT txid) FROM " SCHEMA ".batched") < BACKLOG);
}

static const char *one_poisons_its_batch(int i)
{
    return i == BACKLOG / 2 ? "poison once" : NULL;
}

/* A batch whose COMMIT fails is NAKed as a whole: every delivery of it comes back and has its
 * effect once, with the rest of the backlog. */
static void a_batch_that_cannot_commit_comes_back_whole(void **state)
{
    struct fx *f = *state;
    int calls = run_backlog(f, one_poisons_its_batch);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".child"), 0);
    /* the poisoned delivery's batch mates were handled again, in a later transaction */
    long again = sql_long(f, "SELECT count(*) FROM " SCHEMA ".batched WHERE delivered > 1");
    assert_true(again >= 1);
    assert_int_equal(calls, BACKLOG + again);
    assert_int_equal(sql_long(f, "SELECT delivered FROM " SCHEMA ".batched WHERE store = "
                                 "'poison once'"),
                     2);
}

/* A command handler: writes an effect; a store named "refuse" is a rule failure. */
static core_status on_command(void *ud, tm_tx *tx, const struct am_delivery *d,
                              const ddd_event *command, ddd_event **reply, core_err *err)
{
    struct probe *p = ud;
    probe_call(p);
    core_status st = write_effect(tx, d->id, "command", err);
    const Amtest__StoreCreated *pl = (const Amtest__StoreCreated *)ddd_event_payload(command);
    if (!st && pl && pl->name && strcmp(pl->name, "refuse") == 0)
        st = core_err_set(err, CORE_ERR_INVALID, "the store may not have a shopping list");
    return st;
}

static core_status on_reply(void *ud, tm_tx *tx, const struct am_delivery *d,
                            const ddd_event *reply, core_err *err)
{
    struct probe *p = ud;
    probe_call(p);
    return write_effect(tx, ddd_event_metadata(reply, AM_REPLY_COMMAND_ID),
                        am_reply_succeeded(reply) ? "success" : "failure", err);
}

static void send_command(struct fx *f, const char *store, char id[DDD_ID_MAX + 1])
{
    ddd_event *cmd = store_event(MAKE_LIST, NULL, store);
    core_err err = CORE_ERR_INIT;
    must(ddd_event_set_metadata(cmd, AM_CMD_REPLY_CHANNEL, REPLIES, &err), &err);
    must(am_command_send(f->tm.js, COMMANDS, cmd, &err), &err);
    core_strlcpy(id, ddd_event_id(cmd), DDD_ID_MAX + 1);
    ddd_event_free(cmd);
}

/* A command's reply is an outbox row of the handler's unit of work: it reaches the stream only
 * through the relay. A rule failure commits the inbox row and an am.Failure reply, without the
 * handler's writes. The replies reach a transactional reply handler. */
static void command_replies_go_through_the_outbox(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct probe pc, pr;
    probe_init(&pc);
    probe_init(&pr);
    struct am_sub_opts oc = group_opts("depot"), orp = group_opts("cosec");
    must(tm_command_subscribe(f->tm.js, f->tm.ob, COMMANDS, &oc, f->tm.reg, on_command, &pc, &err),
         &err);
    must(tm_reply_subscribe(f->tm.js, f->tm.ob, REPLIES, &orp, f->tm.reg, on_reply, &pr, &err),
         &err);
    char ok_id[DDD_ID_MAX + 1], no_id[DDD_ID_MAX + 1];
    send_command(f, "fine", ok_id);
    send_command(f, "refuse", no_id);
    wait_group_done(f, "depot", 2);
    assert_int_equal(probe_calls(&pc), 2);
    /* both answers wait in the outbox; none is on the stream (no relay runs) */
    struct seen s;
    read_stream(f, REPLIES, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".outbox WHERE subject = '" REPLIES
                                 "' AND name = 'am.Success'"),
                     1);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".outbox WHERE subject = '" REPLIES
                                 "' AND name = 'am.Failure'"),
                     1);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".effects WHERE note = 'command'"),
                     1); /* the refused command's write was undone */
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".inbox"), 2);

    relay_make(f, 0, 60000, 0, 0);
    wait_published(f->relay[0], 2);
    read_stream(f, REPLIES, &s);
    assert_int_equal(s.n, 2);
    char want[CORE_UUID_LEN + 1];
    am_reply_id(ok_id, want);
    assert_string_equal(s.ids[0], want);
    wait_group_done(f, "cosec", 4);
    assert_int_equal(probe_calls(&pr), 2);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".effects WHERE note = 'success'"),
                     1);
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".effects WHERE note = 'failure'"),
                     1);
    must(am_stream_close(f->tm.js, 5000, &err), &err);
    pthread_mutex_destroy(&pc.mu);
    pthread_mutex_destroy(&pr.mu);
}

int main(void)
{
    const char *lvl = getenv("LOG_LEVEL");
    log_level l = LOG_LEVEL_WARN;
    if (lvl)
        log_level_parse(lvl, &l);
    log_init(l);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(committed_rows_are_published_on_notify, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(
            a_repeated_id_is_one_row_and_the_outbox_stream_only_publishes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(a_notification_makes_only_its_schema_due, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(rows_wait_for_the_broker, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(a_relay_killed_before_the_mark_republishes_once, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(two_relays_publish_each_row_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(cleanup_deletes_only_old_published_rows, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(a_lost_listen_connection_is_reopened, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(a_duplicate_message_runs_the_handler_once,
                                        fx_setup_short_window, fx_teardown),
        cmocka_unit_test_setup_teardown(a_failed_handler_rolls_back_and_the_retry_commits_once,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(a_backlog_is_handled_in_batches, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(a_failed_delivery_leaves_its_batch_alone, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(a_batch_that_cannot_commit_comes_back_whole, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(command_replies_go_through_the_outbox, fx_setup,
                                        fx_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    am_js_library_close();
    return rc;
}
