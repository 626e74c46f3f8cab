/* it_sec_tm.c -- integration tests of sec.h's transactional orchestrator (chapter 09) against the
 * lab's PostgreSQL (scripts/lab.sh up) and a private nats-server (natsd.h) per test: a saga's
 * state and the command it sends commit in one unit of work (tm.h), a failure rolls both back,
 * and a reply delivered twice moves the saga once.
 *
 * Every test gets a scratch database with the schema "sectm" (the saga table of sec.h and the
 * outbox and inbox of tm_schema_sql), the stream "sectm" (a 200 ms duplicate window, so that a
 * test can store one message id twice) and the outbox on it. No relay runs: the commands the
 * saga sends are read from the outbox table.
 *
 * The saga "sectm.Order" has three steps:
 *     step 0  sectm.Authorize(customer id)
 *     step 1  sectm.CreateList(order id) -> typed reply sectm.CreatedList{id} (shopping id)
 *                                            compensation sectm.CancelList(shopping id)
 *     step 2  sectm.Confirm(order id)     (its build fails while the test says so)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <libpq-fe.h>

#include "am.h"
#include "core.h"
#include "e2e.h"
#include "log.h"
#include "natsd.h"
#include "pb.h"
#include "pg.h"
#include "sec.h"
#include "sec_test.pb-c.h"
#include "tm.h"
#include "tm_fixture.h"

#define SCHEMA "sectm"
#define COMMANDS "sectm.a.commands"
#define REPLIES "sectm.cosec.replies.Order"
#define SAGA "sectm.Order"
#define CREATED "sectm.CreatedList"
#define WAIT_MS 10000

static const char TABLES_SQL[] =
    "CREATE SCHEMA " SCHEMA ";"
    "CREATE TABLE " SCHEMA ".sagas ("
    "  id text NOT NULL, name text NOT NULL, data jsonb NOT NULL, step int NOT NULL,"
    "  done bool NOT NULL, compensating bool NOT NULL, awaiting text NOT NULL DEFAULT '',"
    "  updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    "  PRIMARY KEY (id, name));";

/* ---- the saga ---------------------------------------------------------------------------------
 */

struct saga_ud {
    int confirm_fail; /* the next n builds of Confirm fail */
};

static core_status target(struct sec_command *out, const char *name, const char *id, core_err *err)
{
    Sectest__Target *t = pb_new_of(sectest__target);
    if (!t)
        return core_err_nomem(err);
    out->channel = COMMANDS;
    out->name = name;
    out->payload = &t->base;
    return pb_set_string(&t->id, id, err);
}

static const Sectest__Data *data_of(const struct sec_state *st)
{
    return (const Sectest__Data *)st->data;
}

static core_status authorize(void *ud, const struct sec_state *st, struct sec_command *out,
                             core_err *err)
{
    (void)ud;
    return target(out, "sectm.Authorize", data_of(st)->customer_id, err);
}

static core_status create_list(void *ud, const struct sec_state *st, struct sec_command *out,
                               core_err *err)
{
    (void)ud;
    return target(out, "sectm.CreateList", data_of(st)->order_id, err);
}

static core_status cancel_list(void *ud, const struct sec_state *st, struct sec_command *out,
                               core_err *err)
{
    (void)ud;
    return target(out, "sectm.CancelList", data_of(st)->shopping_id, err);
}

static core_status confirm(void *ud, const struct sec_state *st, struct sec_command *out,
                           core_err *err)
{
    struct saga_ud *u = ud;
    if (u->confirm_fail > 0) {
        u->confirm_fail--;
        return core_err_set(err, CORE_ERR_IO, "the order's total cannot be read");
    }
    return target(out, "sectm.Confirm", data_of(st)->order_id, err);
}

static core_status on_created(void *ud, struct sec_state *st, const ddd_event *reply, core_err *err)
{
    (void)ud;
    const Sectest__Created *c = (const Sectest__Created *)ddd_event_payload(reply);
    return pb_set_string(&((Sectest__Data *)st->data)->shopping_id, c->id, err);
}

static const struct sec_reply_handler create_list_replies[] = {{CREATED, on_created}, {NULL, NULL}};

static const struct sec_step steps[] = {
    {authorize, NULL, NULL, NULL},
    {create_list, create_list_replies, cancel_list, NULL},
    {confirm, NULL, NULL, NULL},
};

static const struct sec_saga saga = {SAGA, REPLIES, &sectest__data__descriptor, steps,
                                     sizeof steps / sizeof steps[0]};

/* ---- the fixture ------------------------------------------------------------------------------
 */

struct fx {
    struct tm_fx tm; /* tm_fixture.h */
    sec_store *store;
    sec_orchestrator *o;
    struct saga_ud ud;
};

static void must(core_status s, const core_err *err)
{
    if (s)
        fail_msg("failed: %s", err->msg);
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    if (f->tm.js)
        am_stream_close(f->tm.js, 5000, &err);
    sec_orchestrator_free(f->o);
    sec_store_free(f->store);
    int rc = tm_fx_close(&f->tm);
    free(f);
    return rc;
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    /* a duplicate window of 200 ms: one message id may be stored twice */
    struct tm_fx_opts o = {"it_sec_tm", SCHEMA, TABLES_SQL, 4, 200};
    if (!f || tm_fx_open(&f->tm, &o) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    core_err err = CORE_ERR_INIT;
    core_status st = es_registry_add(f->tm.reg, CREATED, &sectest__created__descriptor, &err);
    if (!st)
        st = sec_pg_store_new(&f->store, f->tm.pool, SCHEMA, &err);
    if (!st)
        st = sec_orchestrator_new(&f->o, &saga, &f->ud, f->store, f->tm.js, f->tm.reg, &err);
    if (!st)
        st = sec_orchestrator_use_outbox(f->o, f->tm.ob, &err);
    if (st) {
        fprintf(stderr, "it_sec_tm: setting up: %s\n", err.msg);
        fx_teardown(state);
        return -1;
    }
    return 0;
}

/* ---- helpers ----------------------------------------------------------------------------------
 */

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static long sql_long(struct fx *f, const char *sql)
{
    PGresult *res = NULL;
    core_err err = CORE_ERR_INIT;
    must(pg_run(f->tm.pool, sql, 0, NULL, &res, &err), &err);
    long v = strtol(pg_get(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

/* The names of the outbox's rows in seq order, joined by ",". */
static void outbox_names(struct fx *f, char *out, size_t cap)
{
    PGresult *res = NULL;
    core_err err = CORE_ERR_INIT;
    must(pg_run(f->tm.pool, "SELECT name FROM " SCHEMA ".outbox ORDER BY seq", 0, NULL, &res, &err),
         &err);
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < PQntuples(res) && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "," : "", pg_get(res, i, 0));
    PQclear(res);
}

static void assert_outbox(struct fx *f, const char *want)
{
    char got[512];
    outbox_names(f, got, sizeof got);
    assert_string_equal(got, want);
}

/* The stored state of saga "o1": step and awaited command id; -99 when there is none. */
static int stored_step(struct fx *f, char awaiting[CORE_UUID_LEN + 1])
{
    struct sec_state st = SEC_STATE_INIT;
    core_err err = CORE_ERR_INIT;
    core_status s = sec_store_load(f->store, &saga, "o1", &st, &err);
    if (s == CORE_ERR_NOT_FOUND)
        return -99;
    must(s, &err);
    if (awaiting)
        core_strlcpy(awaiting, st.awaiting, CORE_UUID_LEN + 1);
    int step = st.step;
    sec_state_release(&st);
    return step;
}

/* Starts saga "o1" in a unit of work; commit or roll it back. */
static core_status start_in(struct fx *f, bool commit, core_err *err)
{
    Sectest__Data *d = pb_new_of(sectest__data);
    assert_non_null(d);
    must(pb_set_string(&d->order_id, "o1", err), err);
    must(pb_set_string(&d->customer_id, "c1", err), err);
    ProtobufCMessage *data = &d->base;
    tm_tx *tx = NULL;
    must(tm_begin(f->tm.ob, &tx, err), err);
    core_status s = sec_orchestrator_start_in(f->o, tx, "o1", &data, err);
    if (s || !commit) {
        tm_rollback(tx);
        return s;
    }
    return tm_commit(tx, err);
}

/* A reply to command_id: am.Success, or the typed CreatedList{shopping} when shopping is set. */
static ddd_event *reply_to(const char *command_id, const char *shopping)
{
    core_err err = CORE_ERR_INIT;
    ddd_event *reply = NULL;
    ProtobufCMessage *payload = NULL;
    if (shopping) {
        Sectest__Created *c = pb_new_of(sectest__created);
        assert_non_null(c);
        must(pb_set_string(&c->id, shopping, &err), &err);
        payload = &c->base;
    }
    must(ddd_event_new(&reply, shopping ? CREATED : AM_REPLY_SUCCESS, &payload, &err), &err);
    char id[CORE_UUID_LEN + 1];
    am_reply_id(command_id, id);
    must(ddd_event_restore(reply, id, ddd_event_occurred_at(reply), &err), &err);
    must(ddd_event_set_metadata(reply, AM_REPLY_OUTCOME, AM_OUTCOME_SUCCESS, &err), &err);
    must(ddd_event_set_metadata(reply, SEC_REPLY_SAGA_ID, "o1", &err), &err);
    must(ddd_event_set_metadata(reply, SEC_REPLY_SAGA_NAME, SAGA, &err), &err);
    must(ddd_event_set_metadata(reply, AM_REPLY_COMMAND_ID, command_id, &err), &err);
    return reply;
}

/* Handles reply in a unit of work; commits when the orchestrator succeeded. */
static core_status reply_in(struct fx *f, const ddd_event *reply, core_err *err)
{
    tm_tx *tx = NULL;
    must(tm_begin(f->tm.ob, &tx, err), err);
    core_status s = sec_orchestrator_handle_reply_in(f->o, tx, reply, err);
    if (s) {
        tm_rollback(tx);
        return s;
    }
    return tm_commit(tx, err);
}

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

/* ---- tests ------------------------------------------------------------------------------------
 */

/* A start writes the state and the first command (an outbox row with the deterministic id the
 * state awaits) in one unit of work; rolled back, neither is there. */
static void start_commits_state_and_command_together(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    must(start_in(f, false, &err), &err);
    assert_int_equal(stored_step(f, NULL), -99);
    assert_outbox(f, "");

    must(start_in(f, true, &err), &err);
    char awaiting[CORE_UUID_LEN + 1];
    assert_int_equal(stored_step(f, awaiting), 0);
    assert_outbox(f, "sectm.Authorize");
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM " SCHEMA ".outbox WHERE id = '%s' AND subject = '" COMMANDS "'",
             awaiting);
    assert_int_equal(sql_long(f, sql), 1);

    /* a second start of the same saga (another trigger) writes nothing */
    must(start_in(f, true, &err), &err);
    assert_int_equal(stored_step(f, NULL), 0);
    assert_outbox(f, "sectm.Authorize");
}

/* A reply moves the saga and writes the next command together; a step that fails to build its
 * command rolls back the new state and any row; a retry then commits both once. */
static void a_failed_step_rolls_back_state_and_command(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    must(start_in(f, true, &err), &err);
    char awaiting[CORE_UUID_LEN + 1];
    stored_step(f, awaiting);
    ddd_event *r = reply_to(awaiting, NULL);
    must(reply_in(f, r, &err), &err);
    ddd_event_free(r);
    assert_int_equal(stored_step(f, awaiting), 1);
    assert_outbox(f, "sectm.Authorize,sectm.CreateList");

    f->ud.confirm_fail = 1;
    r = reply_to(awaiting, "list-1");
    core_err e2 = CORE_ERR_INIT;
    assert_int_equal(reply_in(f, r, &e2), CORE_ERR_IO);
    char after[CORE_UUID_LEN + 1];
    assert_int_equal(stored_step(f, after), 1); /* unchanged */
    assert_string_equal(after, awaiting);
    assert_outbox(f, "sectm.Authorize,sectm.CreateList");
    must(reply_in(f, r, &err), &err); /* the redelivery */
    ddd_event_free(r);
    assert_int_equal(stored_step(f, NULL), 2);
    assert_outbox(f, "sectm.Authorize,sectm.CreateList,sectm.Confirm");
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".sagas WHERE data->>'shoppingId' "
                                 "= 'list-1'"),
                     1);
}

/* A reply that is not the awaited one (a late copy of an earlier one with another id) changes
 * nothing and sends nothing again; neither does a reply after the saga is done. */
static void a_stale_reply_changes_nothing(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    must(start_in(f, true, &err), &err);
    char first[CORE_UUID_LEN + 1];
    stored_step(f, first);
    ddd_event *r = reply_to(first, NULL);
    must(reply_in(f, r, &err), &err);
    assert_int_equal(stored_step(f, NULL), 1);
    must(reply_in(f, r, &err), &err); /* the same reply again, past the inbox (called directly) */
    ddd_event_free(r);
    assert_int_equal(stored_step(f, NULL), 1);
    assert_outbox(f, "sectm.Authorize,sectm.CreateList");
}

/* Through the subscription: the reply is stored twice on the stream (past its duplicate window)
 * and delivered twice; the inbox drops the second, so the saga moves one step and one command is
 * written. */
static void a_redelivered_reply_moves_the_saga_once(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct am_sub_opts so = AM_SUB_OPTS_INIT;
    so.group = "sectm-replies";
    so.retry_delay_ms = 50;
    so.ack_wait_ms = 3000;
    must(sec_orchestrator_subscribe(f->o, &so, &err), &err);
    must(start_in(f, true, &err), &err);
    char awaiting[CORE_UUID_LEN + 1];
    stored_step(f, awaiting);
    ddd_event *r = reply_to(awaiting, NULL);
    must(am_event_publish(f->tm.js, REPLIES, r, &err), &err);
    wait_group_done(f, "sectm-replies", 1);
    sleep_ms(400); /* past the duplicate window: the stream stores the copy */
    must(am_event_publish(f->tm.js, REPLIES, r, &err), &err);
    ddd_event_free(r);
    wait_group_done(f, "sectm-replies", 2);
    assert_int_equal(stored_step(f, NULL), 1);
    assert_outbox(f, "sectm.Authorize,sectm.CreateList");
    assert_int_equal(sql_long(f, "SELECT count(*) FROM " SCHEMA ".inbox"), 1);
}

/* The memory store cannot work in a transaction: an orchestrator over it refuses the outbox. */
static void the_outbox_needs_a_transactional_store(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    sec_store *mem = NULL;
    sec_orchestrator *o = NULL;
    must(sec_mem_store_new(&mem, &err), &err);
    must(sec_orchestrator_new(&o, &saga, NULL, mem, f->tm.js, f->tm.reg, &err), &err);
    assert_int_equal(sec_orchestrator_use_outbox(o, f->tm.ob, &err), CORE_ERR_INTERNAL);
    sec_orchestrator_free(o);
    sec_store_free(mem);
}

int main(void)
{
    const char *lvl = getenv("LOG_LEVEL");
    log_level l = LOG_LEVEL_WARN;
    if (lvl)
        log_level_parse(lvl, &l);
    log_init(l);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(start_commits_state_and_command_together, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(a_failed_step_rolls_back_state_and_command, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(a_stale_reply_changes_nothing, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(a_redelivered_reply_moves_the_saga_once, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(the_outbox_needs_a_transactional_store, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
