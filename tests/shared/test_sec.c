/* test_sec.c -- unit tests of sec.h's orchestrator on the in-memory broker and store.
 *
 * The saga "sectest.Order" is laid out like chapter 08's create-order saga:
 *     step 0  -                          compensation sectest.Reject(order id)
 *     step 1  sectest.Authorize(customer id)
 *     step 2  sectest.CreateList(order id) -> typed reply sectest.CreatedList{id} stored as the
 *             shopping id                compensation sectest.CancelList(shopping id)
 *     step 3  sectest.Confirm(order id)
 *     step 4  sectest.Initiate(shopping id)
 *     step 5  sectest.Approve(shopping id)
 * A fake participant, on a stream of its own on the same broker, subscribes both command channels
 * with am_command_subscribe and answers each command: am.Success, am.Failure for the names a test
 * lists (a rule failure, CORE_ERR_INVALID), or the typed reply of CreateList. It records each
 * command it handles as "name:id", so the tests assert the exact sequence of commands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "am.h"
#include "ddd.h"
#include "es.h"
#include "log.h"
#include "log_capture.h"
#include "pb.h"
#include "sec.h"
#include "sec_test.pb-c.h"

#define CH_A "mallbots.sectest.a.commands"
#define CH_B "mallbots.sectest.b.commands"
#define REPLIES "mallbots.sectest.replies.Order"
#define CREATED "sectest.CreatedList"
#define SAGA "sectest.Order"

/* ---- the saga ---------------------------------------------------------------------------------
 */

/* The orchestrator's user data: lets a test make the typed reply's handler fail. */
struct saga_ud {
    int created_fail; /* the next n calls of on_created fail (CORE_ERR_UNAVAILABLE) */
    int created_calls;
    int confirm_fail; /* the next n builds of the Confirm command fail */
};

static core_status target(struct sec_command *out, const char *channel, const char *name,
                          const char *id, core_err *err)
{
    Sectest__Target *t = pb_new_of(sectest__target);
    if (!t)
        return core_err_nomem(err);
    out->channel = channel;
    out->name = name;
    out->payload = &t->base;
    return pb_set_string(&t->id, id, err);
}

static const Sectest__Data *data_of(const struct sec_state *st)
{
    return (const Sectest__Data *)st->data;
}

static core_status reject(void *ud, const struct sec_state *st, struct sec_command *out,
                          core_err *err)
{
    return target(out, CH_A, "sectest.Reject", data_of(st)->order_id, err);
}
static core_status authorize(void *ud, const struct sec_state *st, struct sec_command *out,
                             core_err *err)
{
    return target(out, CH_A, "sectest.Authorize", data_of(st)->customer_id, err);
}
static core_status create_list(void *ud, const struct sec_state *st, struct sec_command *out,
                               core_err *err)
{
    return target(out, CH_B, "sectest.CreateList", data_of(st)->order_id, err);
}
static core_status cancel_list(void *ud, const struct sec_state *st, struct sec_command *out,
                               core_err *err)
{
    return target(out, CH_B, "sectest.CancelList", data_of(st)->shopping_id, err);
}
static core_status confirm(void *ud, const struct sec_state *st, struct sec_command *out,
                           core_err *err)
{
    struct saga_ud *u = ud;
    if (u->confirm_fail > 0) {
        u->confirm_fail--;
        return core_err_set(err, CORE_ERR_IO, "the order's total cannot be read");
    }
    return target(out, CH_A, "sectest.Confirm", data_of(st)->order_id, err);
}
static core_status initiate(void *ud, const struct sec_state *st, struct sec_command *out,
                            core_err *err)
{
    return target(out, CH_B, "sectest.Initiate", data_of(st)->shopping_id, err);
}
static core_status approve(void *ud, const struct sec_state *st, struct sec_command *out,
                           core_err *err)
{
    return target(out, CH_A, "sectest.Approve", data_of(st)->shopping_id, err);
}

static core_status on_created(void *ud, struct sec_state *st, const ddd_event *reply, core_err *err)
{
    struct saga_ud *u = ud;
    u->created_calls++;
    if (u->created_fail > 0) {
        u->created_fail--;
        return core_err_set(err, CORE_ERR_UNAVAILABLE, "the handler's database is down");
    }
    const Sectest__Created *c = (const Sectest__Created *)ddd_event_payload(reply);
    Sectest__Data *d = (Sectest__Data *)st->data;
    return pb_set_string(&d->shopping_id, c->id, err);
}

static const struct sec_reply_handler create_list_replies[] = {{CREATED, on_created}, {NULL, NULL}};

static const struct sec_step steps[] = {
    {NULL, NULL, reject, NULL},
    {authorize, NULL, NULL, NULL},
    {create_list, create_list_replies, cancel_list, NULL},
    {confirm, NULL, NULL, NULL},
    {initiate, NULL, NULL, NULL},
    {approve, NULL, NULL, NULL},
};

static const struct sec_saga saga = {SAGA, REPLIES, &sectest__data__descriptor, steps,
                                     sizeof steps / sizeof steps[0]};

/* ---- the participant --------------------------------------------------------------------------
 */

#define SEEN_MAX 32
struct participant {
    const char *fail[4]; /* names answered with am.Failure (NULL-terminated) */
    int n;
    char seen[SEEN_MAX][64]; /* "name:id" of each command handled */
    bool bad_metadata;       /* a command lacked the saga's metadata */
};

static core_status participate(void *ud, const struct am_delivery *d, const ddd_event *command,
                               ddd_event **reply, core_err *err)
{
    struct participant *p = ud;
    const char *name = ddd_event_name(command);
    const Sectest__Target *t = (const Sectest__Target *)ddd_event_payload(command);
    if (p->n < SEEN_MAX)
        snprintf(p->seen[p->n], sizeof p->seen[0], "%s:%s", name + strlen("sectest."), t->id);
    p->n++;
    const char *sid = ddd_event_metadata(command, SEC_CMD_SAGA_ID);
    const char *sname = ddd_event_metadata(command, SEC_CMD_SAGA_NAME);
    const char *rch = ddd_event_metadata(command, AM_CMD_REPLY_CHANNEL);
    if (!sid || strcmp(sid, "o1") != 0 || !sname || strcmp(sname, SAGA) != 0 || !rch ||
        strcmp(rch, REPLIES) != 0)
        p->bad_metadata = true;
    for (int i = 0; p->fail[i]; i++)
        if (strcmp(p->fail[i], name) == 0)
            return core_err_set(err, CORE_ERR_INVALID, "%s refused", name);
    if (strcmp(name, "sectest.CreateList") == 0) {
        Sectest__Created *c = pb_new_of(sectest__created);
        if (!c)
            return core_err_nomem(err);
        ProtobufCMessage *m = &c->base;
        core_status s = pb_set_string(&c->id, "list-1", err);
        if (!s)
            s = ddd_event_new(reply, CREATED, &m, err);
        pb_free(m);
        return s;
    }
    return CORE_OK;
}

/* ---- fixture ----------------------------------------------------------------------------------
 */

struct fx {
    long live;
    am_mem_broker *b;
    am_stream *so; /* the orchestrator's */
    am_stream *sp; /* the participant's */
    es_registry *reg;
    sec_store *store;
    sec_orchestrator *o;
    struct saga_ud ud;
    struct participant p;
};

static void must(core_status s, const core_err *err)
{
    if (s)
        fprintf(stderr, "failed: %s\n", err->msg);
    assert_int_equal(s, CORE_OK);
}

/* A new orchestrator stream and orchestrator, subscribed to the replies. */
static void orchestrator_up(struct fx *f)
{
    core_err err = CORE_ERR_INIT;
    must(am_mem_stream_new(&f->so, f->b, "mallbots", &err), &err);
    must(sec_orchestrator_new(&f->o, &saga, &f->ud, f->store, f->so, f->reg, &err), &err);
    struct am_sub_opts so = AM_SUB_OPTS_INIT;
    so.group = "sectest-replies";
    so.max_deliver = 10;
    must(sec_orchestrator_subscribe(f->o, &so, &err), &err);
}

static void orchestrator_down(struct fx *f)
{
    am_stream_free(f->so);
    sec_orchestrator_free(f->o);
    f->so = NULL;
    f->o = NULL;
}

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    f.live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    const char *targets[] = {"sectest.Reject",     "sectest.Authorize", "sectest.CreateList",
                             "sectest.CancelList", "sectest.Confirm",   "sectest.Initiate",
                             "sectest.Approve"};
    core_status s = am_mem_broker_new(&f.b, &err);
    if (!s)
        s = es_registry_new(&f.reg, &err);
    for (size_t i = 0; !s && i < sizeof targets / sizeof targets[0]; i++)
        s = es_registry_add(f.reg, targets[i], &sectest__target__descriptor, &err);
    if (!s)
        s = es_registry_add(f.reg, CREATED, &sectest__created__descriptor, &err);
    if (!s)
        s = sec_mem_store_new(&f.store, &err);
    if (!s)
        s = am_mem_stream_new(&f.sp, f.b, "mallbots", &err);
    struct am_sub_opts so = AM_SUB_OPTS_INIT;
    so.group = "sectest-a";
    if (!s)
        s = am_command_subscribe(f.sp, CH_A, &so, f.reg, participate, &f.p, &err);
    so.group = "sectest-b";
    if (!s)
        s = am_command_subscribe(f.sp, CH_B, &so, f.reg, participate, &f.p, &err);
    if (s) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    *state = &f;
    orchestrator_up(&f);
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    core_alloc_fail_after(-1);
    orchestrator_down(f);
    am_stream_free(f->sp);
    am_mem_broker_free(f->b);
    sec_store_free(f->store);
    es_registry_free(f->reg);
    assert_int_equal(core_alloc_live(), f->live); /* nothing leaked */
    return 0;
}

/* The data of order o1: customer c1, total 10. */
static ProtobufCMessage *order_data(void)
{
    Sectest__Data *d = pb_new_of(sectest__data);
    assert_non_null(d);
    assert_int_equal(pb_set_string(&d->order_id, "o1", NULL), CORE_OK);
    assert_int_equal(pb_set_string(&d->customer_id, "c1", NULL), CORE_OK);
    d->total = 10;
    return &d->base;
}

static core_status start(struct fx *f, core_err *err)
{
    ProtobufCMessage *d = order_data();
    core_status s = sec_orchestrator_start(f->o, "o1", &d, err);
    assert_null(d);
    return s;
}

/* Asserts the commands the participant handled, in order: "Name:id" separated by spaces. */
static void assert_seen(const struct participant *p, const char *want)
{
    char got[SEEN_MAX * 64] = "";
    size_t len = 0;
    for (int i = 0; i < p->n && i < SEEN_MAX; i++)
        len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? " " : "", p->seen[i]);
    assert_string_equal(got, want);
    assert_false(p->bad_metadata);
}

/* Loads o1's state and checks it. */
static void assert_state(struct fx *f, bool done, bool compensating, const char *shopping_id)
{
    struct sec_state st = SEC_STATE_INIT;
    core_err err = CORE_ERR_INIT;
    must(sec_store_load(f->store, &saga, "o1", &st, &err), &err);
    assert_string_equal(st.id, "o1");
    assert_int_equal(st.done, done);
    assert_int_equal(st.compensating, compensating);
    if (done)
        assert_string_equal(st.awaiting, "");
    else
        assert_true(core_uuid_valid(st.awaiting));
    const Sectest__Data *d = (const Sectest__Data *)st.data;
    assert_string_equal(d->shopping_id, shopping_id);
    assert_string_equal(d->customer_id, "c1");
    sec_state_release(&st);
}

#define ALL_OK "Authorize:c1 CreateList:o1 Confirm:o1 Initiate:list-1 Approve:list-1"

/* ---- tests ------------------------------------------------------------------------------------
 */

static void every_step_succeeds(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct log_capture cap;
    log_capture_start(&cap, LOG_LEVEL_INFO);
    must(start(f, &err), &err);
    am_mem_broker_run(f->b, NULL);
    char logs[8192];
    log_capture_take(&cap, logs, sizeof logs);
    log_capture_stop(&cap, LOG_LEVEL_WARN);
    assert_seen(&f->p, ALL_OK);
    assert_state(f, true, false, "list-1");
    assert_int_equal(f->ud.created_calls, 1);
    assert_non_null(
        strstr(logs, "INFO  sec: saga sectest.Order o1: step 2 -> sectest.CreateList\n"));
    assert_non_null(strstr(logs, "INFO  sec: saga sectest.Order o1: done\n"));
}

/* Fails the command `name` (and, when not NULL, `also`) and asserts the sequence. */
static void fail_at(void **state, const char *name, const char *also, const char *want,
                    const char *shopping_id)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    f->p.fail[0] = name;
    f->p.fail[1] = also;
    must(start(f, &err), &err);
    am_mem_broker_run(f->b, NULL);
    assert_seen(&f->p, want);
    assert_state(f, true, true, shopping_id);
}

static void failure_at_step_1(void **state)
{
    fail_at(state, "sectest.Authorize", NULL, "Authorize:c1 Reject:o1", "");
}

static void failure_at_step_2(void **state)
{
    fail_at(state, "sectest.CreateList", NULL, "Authorize:c1 CreateList:o1 Reject:o1", "");
}

static void failure_at_step_3(void **state)
{
    fail_at(state, "sectest.Confirm", NULL,
            "Authorize:c1 CreateList:o1 Confirm:o1 CancelList:list-1 Reject:o1", "list-1");
}

static void failure_at_step_4(void **state)
{
    fail_at(state, "sectest.Initiate", NULL,
            "Authorize:c1 CreateList:o1 Confirm:o1 Initiate:list-1 CancelList:list-1 Reject:o1",
            "list-1");
}

static void failure_at_step_5(void **state)
{
    fail_at(state, "sectest.Approve", NULL,
            "Authorize:c1 CreateList:o1 Confirm:o1 Initiate:list-1 Approve:list-1 "
            "CancelList:list-1 Reject:o1",
            "list-1");
}

/* A compensation that fails is logged at ERROR and the walk goes on back. */
static void failed_compensation_goes_on_back(void **state)
{
    struct fx *f = *state;
    struct log_capture cap;
    log_capture_start(&cap, LOG_LEVEL_ERROR);
    fail_at(state, "sectest.Confirm", "sectest.CancelList",
            "Authorize:c1 CreateList:o1 Confirm:o1 CancelList:list-1 Reject:o1", "list-1");
    char logs[4096];
    log_capture_take(&cap, logs, sizeof logs);
    log_capture_stop(&cap, LOG_LEVEL_WARN);
    assert_non_null(strstr(logs, "ERROR sec: saga sectest.Order o1: step 2 (compensation) failed "
                                 "and cannot be undone: sectest.CancelList refused"));
    (void)f;
}

/* The orchestrator stops (stream and orchestrator freed) in the middle; a new one on the same
 * broker and store finishes the saga. */
static void restart_in_the_middle(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    must(start(f, &err), &err);
    while (f->p.n < 2 && am_mem_broker_step(f->b)) /* Authorize and CreateList handled */
        ;
    assert_int_equal(f->p.n, 2);
    orchestrator_down(f);
    am_mem_broker_run(f->b, NULL); /* nobody takes the replies now */
    assert_int_equal(f->p.n, 2);
    orchestrator_up(f);
    am_mem_broker_run(f->b, NULL);
    assert_seen(&f->p, ALL_OK);
    assert_state(f, true, false, "list-1");
}

/* A reply to another command than the awaited one (a late duplicate) is acknowledged and the
 * awaited command sent again, which the stream drops as a duplicate: no command is doubled. A
 * reply once the saga is done changes nothing. */
static void stale_reply_resends_the_awaited_command(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    must(start(f, &err), &err);
    ddd_event *reply = NULL;
    ProtobufCMessage *none = NULL;
    must(ddd_event_new(&reply, AM_REPLY_SUCCESS, &none, &err), &err);
    must(ddd_event_set_metadata(reply, AM_REPLY_OUTCOME, AM_OUTCOME_SUCCESS, &err), &err);
    must(ddd_event_set_metadata(reply, SEC_REPLY_SAGA_ID, "o1", &err), &err);
    must(ddd_event_set_metadata(reply, SEC_REPLY_SAGA_NAME, SAGA, &err), &err);
    must(ddd_event_set_metadata(reply, AM_REPLY_COMMAND_ID, "6f1ad2b0-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
                                &err),
         &err);
    must(sec_orchestrator_handle_reply(f->o, reply, &err), &err);
    assert_state(f, false, false, ""); /* still awaiting Authorize */
    am_mem_broker_run(f->b, NULL);
    assert_seen(&f->p, ALL_OK);
    must(sec_orchestrator_handle_reply(f->o, reply, &err), &err); /* the saga is done */
    am_mem_broker_run(f->b, NULL);
    assert_seen(&f->p, ALL_OK);
    assert_state(f, true, false, "list-1");
    ddd_event_free(reply);
}

/* Replies the orchestrator cannot place are errors: an unknown saga, another saga's name, and a
 * typed reply the step has no handler for. */
static void unplaceable_replies_are_errors(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    must(start(f, &err), &err);
    struct sec_state st = SEC_STATE_INIT;
    must(sec_store_load(f->store, &saga, "o1", &st, &err), &err);
    ddd_event *reply = NULL;
    ProtobufCMessage *none = NULL;
    must(ddd_event_new(&reply, "sectest.Unexpected", &none, &err), &err);
    must(ddd_event_set_metadata(reply, AM_REPLY_OUTCOME, AM_OUTCOME_SUCCESS, &err), &err);
    must(ddd_event_set_metadata(reply, SEC_REPLY_SAGA_NAME, SAGA, &err), &err);
    must(ddd_event_set_metadata(reply, AM_REPLY_COMMAND_ID, st.awaiting, &err), &err);
    must(ddd_event_set_metadata(reply, SEC_REPLY_SAGA_ID, "o1", &err), &err);
    assert_int_equal(sec_orchestrator_handle_reply(f->o, reply, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "saga sectest.Order o1: step 1 has no handler for reply "
                                 "sectest.Unexpected");
    must(ddd_event_set_metadata(reply, SEC_REPLY_SAGA_ID, "o2", &err), &err);
    assert_int_equal(sec_orchestrator_handle_reply(f->o, reply, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "saga sectest.Order o2: reply sectest.Unexpected for a saga that "
                                 "does not exist");
    must(ddd_event_set_metadata(reply, SEC_REPLY_SAGA_NAME, "other.Saga", &err), &err);
    assert_int_equal(sec_orchestrator_handle_reply(f->o, reply, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "is for saga \"other.Saga\""));
    ddd_event_free(reply);
    sec_state_release(&st);
    assert_state(f, false, false, ""); /* untouched */
}

/* A save that fails is returned: the reply is NAKed, comes back, and the saga ends right. */
static void failed_save_is_retried(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    must(start(f, &err), &err);
    while (f->p.n < 1 && am_mem_broker_step(f->b)) /* Authorize handled, its reply stored */
        ;
    sec_mem_store_fail_save(f->store, 1);
    assert_int_equal(am_mem_broker_last_nak_delay(f->b), -1);
    am_mem_broker_run(f->b, NULL);
    assert_true(am_mem_broker_last_nak_delay(f->b) > 0); /* the reply was NAKed once */
    assert_seen(&f->p, ALL_OK);
    assert_state(f, true, false, "list-1");
}

/* A failed start saves nothing and sends nothing; starting again works. */
static void failed_save_at_start(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    sec_mem_store_fail_save(f->store, 1);
    assert_int_equal(start(f, &err), CORE_ERR_UNAVAILABLE);
    assert_non_null(strstr(err.msg, "saga sectest.Order o1: state not saved: "));
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(f->p.n, 0);
    must(start(f, &err), &err);
    am_mem_broker_run(f->b, NULL);
    assert_seen(&f->p, ALL_OK);
}

/* A send that fails after the save (a crash between the two, as far as the stream knows): the
 * reply is NAKed; its redelivery is no longer the awaited one, so the awaited command is sent
 * again, and the saga goes on. */
static void failed_send_is_retried(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    must(start(f, &err), &err);
    while (f->p.n < 1 && am_mem_broker_step(f->b)) /* Authorize handled, its reply stored */
        ;
    am_mem_broker_fail(f->b, AM_MEM_FAIL_PUBLISH, 1); /* the CreateList command */
    am_mem_broker_run(f->b, NULL);
    assert_true(am_mem_broker_last_nak_delay(f->b) > 0);
    assert_seen(&f->p, ALL_OK);
    assert_state(f, true, false, "list-1");
}

/* A reply handler that fails is returned too: the reply comes back and is handled again. */
static void failed_reply_handler_is_retried(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    f->ud.created_fail = 2;
    must(start(f, &err), &err);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(f->ud.created_calls, 3);
    assert_seen(&f->p, ALL_OK);
    assert_state(f, true, false, "list-1");
}

/* A step function that fails is returned: the reply is NAKed and the step built again. */
static void failed_step_function_is_retried(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    f->ud.confirm_fail = 1;
    must(start(f, &err), &err);
    am_mem_broker_run(f->b, NULL);
    assert_true(am_mem_broker_last_nak_delay(f->b) > 0);
    assert_seen(&f->p, ALL_OK);
    assert_state(f, true, false, "list-1");
}

/* Starting twice (a redelivered trigger) sends the awaited command again under its id: the stream
 * drops it, so no command is handled twice; starting a done saga changes nothing. */
static void start_twice(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    must(start(f, &err), &err);
    must(start(f, &err), &err);
    am_mem_broker_run(f->b, NULL);
    assert_seen(&f->p, ALL_OK);
    must(start(f, &err), &err);
    am_mem_broker_run(f->b, NULL);
    assert_seen(&f->p, ALL_OK);
    assert_state(f, true, false, "list-1");
}

/* The in-memory store: not found, round trip, fault injection. */
static void mem_store_round_trip(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct sec_state st = SEC_STATE_INIT;
    assert_int_equal(sec_store_load(f->store, &saga, "nope", &st, &err), CORE_ERR_NOT_FOUND);
    core_strlcpy(st.id, "x1", sizeof st.id);
    st.data = order_data();
    st.step = 3;
    st.compensating = true;
    core_strlcpy(st.awaiting, "6f1ad2b0-3c4d-4e5f-8a9b-0c1d2e3f4a5b", sizeof st.awaiting);
    must(sec_store_save(f->store, &saga, &st, &err), &err);
    sec_mem_store_fail_save(f->store, 1);
    st.step = 4;
    assert_int_equal(sec_store_save(f->store, &saga, &st, &err), CORE_ERR_UNAVAILABLE);
    sec_state_release(&st);
    must(sec_store_load(f->store, &saga, "x1", &st, &err), &err);
    assert_int_equal(st.step, 3);
    assert_true(st.compensating);
    assert_false(st.done);
    assert_string_equal(st.awaiting, "6f1ad2b0-3c4d-4e5f-8a9b-0c1d2e3f4a5b");
    assert_string_equal(((Sectest__Data *)st.data)->order_id, "o1");
    sec_state_release(&st);
}

int main(void)
{
    log_init(LOG_LEVEL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_step_succeeds, setup, teardown),
        cmocka_unit_test_setup_teardown(failure_at_step_1, setup, teardown),
        cmocka_unit_test_setup_teardown(failure_at_step_2, setup, teardown),
        cmocka_unit_test_setup_teardown(failure_at_step_3, setup, teardown),
        cmocka_unit_test_setup_teardown(failure_at_step_4, setup, teardown),
        cmocka_unit_test_setup_teardown(failure_at_step_5, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_compensation_goes_on_back, setup, teardown),
        cmocka_unit_test_setup_teardown(restart_in_the_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_reply_resends_the_awaited_command, setup, teardown),
        cmocka_unit_test_setup_teardown(unplaceable_replies_are_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_save_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_save_at_start, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_send_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_reply_handler_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_step_function_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(start_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(mem_store_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
