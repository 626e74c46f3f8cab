/* test_am_cmd.c -- unit tests of am.h's commands and replies on the in-memory broker: a command
 * handler's result becomes the reply the sender asked for (am.Success, a typed reply, am.Failure
 * with the reason), with the book's correlation metadata and this workspace's REPLY_COMMAND_ID;
 * an outage is retried and answered am.Failure only on the last delivery; a reply that cannot be
 * published makes the handler run again and the stream keeps one reply; a command nobody can
 * answer is a dead letter; replies decode with and without a payload; reply ids are derived.
 *
 * Payloads: amtest.StoreCreated stands for a command ("amtest.CreateThing") and amtest.Counted
 * for a typed reply ("amtest.ThingCreated") (am_test.proto).
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
#include "am_test.pb-c.h"
#include "ddd.h"
#include "es.h"
#include "pb.h"

#define CMD_NAME "amtest.CreateThing"
#define TYPED_REPLY "amtest.ThingCreated"
#define CMD_CHANNEL "mallbots.things.commands"
#define REPLY_CHANNEL "mallbots.sagas.replies.Thing"

struct fx {
    long live;
    am_mem_broker *b;
    am_stream *s;
    es_registry *reg;
};

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    f.live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    if (am_mem_broker_new(&f.b, &err) || am_mem_stream_new(&f.s, f.b, "mallbots", &err) ||
        es_registry_new(&f.reg, &err) ||
        es_registry_add(f.reg, CMD_NAME, &amtest__store_created__descriptor, &err) ||
        es_registry_add(f.reg, TYPED_REPLY, &amtest__counted__descriptor, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    am_stream_free(f->s);
    am_mem_broker_free(f->b);
    es_registry_free(f->reg);
    assert_int_equal(core_alloc_live(), f->live); /* nothing leaked */
    return 0;
}

/* A command CMD_NAME with payload {id = thing} and the saga's metadata; reply_channel NULL leaves
 * the reply channel out. */
static ddd_event *new_command(const char *thing, const char *reply_channel)
{
    Amtest__StoreCreated *p = pb_new_of(amtest__store_created);
    assert_non_null(p);
    assert_int_equal(pb_set_string(&p->id, thing, NULL), CORE_OK);
    ProtobufCMessage *pm = &p->base;
    ddd_event *cmd = NULL;
    assert_int_equal(ddd_event_new(&cmd, CMD_NAME, &pm, NULL), CORE_OK);
    if (reply_channel)
        assert_int_equal(ddd_event_set_metadata(cmd, AM_CMD_REPLY_CHANNEL, reply_channel, NULL),
                         CORE_OK);
    assert_int_equal(ddd_event_set_metadata(cmd, "COMMAND_SAGA_ID", "saga-1", NULL), CORE_OK);
    assert_int_equal(ddd_event_set_metadata(cmd, "COMMAND_SAGA_NAME", "test.Saga", NULL), CORE_OK);
    assert_int_equal(ddd_event_set_metadata(cmd, AM_CMD_NAME, CMD_NAME, NULL), CORE_OK);
    return cmd;
}

/* Sends a command for thing; its id goes to id_out. */
static void send_command(am_stream *s, const char *thing, char id_out[CORE_UUID_LEN + 1])
{
    ddd_event *cmd = new_command(thing, REPLY_CHANNEL);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(am_command_send(s, CMD_CHANNEL, cmd, &err), CORE_OK);
    core_strlcpy(id_out, ddd_event_id(cmd), CORE_UUID_LEN + 1);
    ddd_event_free(cmd);
}

/* The participant: how it answers, and what it saw. */
struct participant {
    enum { ANSWER_OK, ANSWER_TYPED, ANSWER_RULE, ANSWER_OUTAGE } answer;
    int outages; /* ANSWER_OUTAGE: fail this many calls, then answer OK (-1: always) */
    int calls;
    char thing[64];
    char reply_channel[128];
};

static core_status participant_fn(void *ud, const struct am_delivery *d, const ddd_event *cmd,
                                  ddd_event **reply, core_err *err)
{
    struct participant *p = ud;
    p->calls++;
    assert_string_equal(d->name, CMD_NAME);
    assert_true(ddd_event_payload_is(cmd, &amtest__store_created__descriptor));
    const Amtest__StoreCreated *c = (const void *)ddd_event_payload(cmd);
    core_strlcpy(p->thing, c->id, sizeof p->thing);
    const char *rc = ddd_event_metadata(cmd, AM_CMD_REPLY_CHANNEL);
    core_strlcpy(p->reply_channel, rc ? rc : "", sizeof p->reply_channel);
    switch (p->answer) {
    case ANSWER_OK:
        return CORE_OK;
    case ANSWER_TYPED: {
        Amtest__Counted *m = pb_new_of(amtest__counted);
        assert_non_null(m);
        m->count = 42;
        ProtobufCMessage *pm = &m->base;
        return ddd_event_new(reply, TYPED_REPLY, &pm, err);
    }
    case ANSWER_RULE:
        core_err_set(err, CORE_ERR_INVALID, "thing %s is not allowed here", c->id);
        return core_err_public(err, "that thing is not allowed");
    case ANSWER_OUTAGE:
        if (p->outages < 0 || p->calls <= p->outages)
            return core_err_set(err, CORE_ERR_UNAVAILABLE, "the database is unreachable");
        return CORE_OK;
    }
    return CORE_ERR_INTERNAL;
}

static void subscribe_participant(struct fx *f, struct participant *p)
{
    struct am_sub_opts o = AM_SUB_OPTS_INIT;
    o.group = "thing-commands";
    core_err err = CORE_ERR_INIT;
    assert_int_equal(am_command_subscribe(f->s, CMD_CHANNEL, &o, f->reg, participant_fn, p, &err),
                     CORE_OK);
}

/* The sender's side: every reply it received. */
#define SEEN_MAX 8
struct sender {
    int n;
    char id[SEEN_MAX][64], name[SEEN_MAX][64];
    bool succeeded[SEEN_MAX], has_payload[SEEN_MAX];
    int64_t count[SEEN_MAX];
    char saga_id[SEEN_MAX][64], saga_name[SEEN_MAX][64], command_id[SEEN_MAX][64];
    char reply_channel_copy[SEEN_MAX][128], error[SEEN_MAX][128], command_name_copy[SEEN_MAX][64];
};

static void copy_md(char *dst, size_t size, const ddd_event *ev, const char *key)
{
    const char *v = ddd_event_metadata(ev, key);
    core_strlcpy(dst, v ? v : "(none)", size);
}

static core_status sender_fn(void *ud, const struct am_delivery *d, const ddd_event *reply,
                             core_err *err)
{
    (void)d;
    (void)err;
    struct sender *s = ud;
    assert_true(s->n < SEEN_MAX);
    int i = s->n++;
    core_strlcpy(s->id[i], ddd_event_id(reply), sizeof s->id[i]);
    core_strlcpy(s->name[i], ddd_event_name(reply), sizeof s->name[i]);
    s->succeeded[i] = am_reply_succeeded(reply);
    s->has_payload[i] = ddd_event_payload(reply) != NULL;
    if (ddd_event_payload_is(reply, &amtest__counted__descriptor))
        s->count[i] = ((const Amtest__Counted *)ddd_event_payload(reply))->count;
    copy_md(s->saga_id[i], sizeof s->saga_id[i], reply, "REPLY_SAGA_ID");
    copy_md(s->saga_name[i], sizeof s->saga_name[i], reply, "REPLY_SAGA_NAME");
    copy_md(s->command_id[i], sizeof s->command_id[i], reply, AM_REPLY_COMMAND_ID);
    copy_md(s->reply_channel_copy[i], sizeof s->reply_channel_copy[i], reply,
            "REPLY_REPLY_CHANNEL");
    copy_md(s->error[i], sizeof s->error[i], reply, AM_REPLY_ERROR);
    copy_md(s->command_name_copy[i], sizeof s->command_name_copy[i], reply, "REPLY_NAME");
    return CORE_OK;
}

static void subscribe_sender(struct fx *f, struct sender *s)
{
    struct am_sub_opts o = AM_SUB_OPTS_INIT;
    o.group = "thing-replies";
    core_err err = CORE_ERR_INIT;
    assert_int_equal(am_reply_subscribe(f->s, REPLY_CHANNEL, &o, f->reg, sender_fn, s, &err),
                     CORE_OK);
}

static core_status count_fn(void *ud, const struct am_stored_msg *m, core_err *err)
{
    (void)m;
    (void)err;
    (*(int *)ud)++;
    return CORE_OK;
}

static int stored_count(am_stream *s, const char *filter)
{
    int n = 0;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(am_stream_read(s, filter, 1, count_fn, &n, &err), CORE_OK);
    return n;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void a_handled_command_is_answered_success(void **state)
{
    struct fx *f = *state;
    struct participant p = {.answer = ANSWER_OK};
    struct sender s = {0};
    subscribe_participant(f, &p);
    subscribe_sender(f, &s);
    char cmd_id[CORE_UUID_LEN + 1], expect[CORE_UUID_LEN + 1];
    send_command(f->s, "t1", cmd_id);
    am_mem_broker_run(f->b, NULL);

    assert_int_equal(p.calls, 1);
    assert_string_equal(p.thing, "t1");
    assert_string_equal(p.reply_channel, REPLY_CHANNEL);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.name[0], AM_REPLY_SUCCESS);
    assert_true(s.succeeded[0]);
    assert_false(s.has_payload[0]);
    /* the book's correlation: COMMAND_* copied as REPLY_*, except COMMAND_NAME */
    assert_string_equal(s.saga_id[0], "saga-1");
    assert_string_equal(s.saga_name[0], "test.Saga");
    assert_string_equal(s.reply_channel_copy[0], REPLY_CHANNEL);
    assert_string_equal(s.command_name_copy[0], "(none)");
    assert_string_equal(s.command_id[0], cmd_id);
    assert_string_equal(s.error[0], "(none)");
    am_reply_id(cmd_id, expect);
    assert_string_equal(s.id[0], expect);
}

static void a_typed_reply_is_sent_as_it_is(void **state)
{
    struct fx *f = *state;
    struct participant p = {.answer = ANSWER_TYPED};
    struct sender s = {0};
    subscribe_participant(f, &p);
    subscribe_sender(f, &s);
    char cmd_id[CORE_UUID_LEN + 1];
    send_command(f->s, "t2", cmd_id);
    am_mem_broker_run(f->b, NULL);

    assert_int_equal(s.n, 1);
    assert_string_equal(s.name[0], TYPED_REPLY);
    assert_true(s.succeeded[0]);
    assert_true(s.has_payload[0]);
    assert_int_equal(s.count[0], 42);
    assert_string_equal(s.command_id[0], cmd_id);
}

static void a_broken_rule_is_answered_failure_at_once(void **state)
{
    struct fx *f = *state;
    struct participant p = {.answer = ANSWER_RULE};
    struct sender s = {0};
    subscribe_participant(f, &p);
    subscribe_sender(f, &s);
    char cmd_id[CORE_UUID_LEN + 1];
    send_command(f->s, "t3", cmd_id);
    am_mem_broker_run(f->b, NULL);

    assert_int_equal(p.calls, 1); /* not retried: the answer is no */
    assert_int_equal(s.n, 1);
    assert_string_equal(s.name[0], AM_REPLY_FAILURE);
    assert_false(s.succeeded[0]);
    assert_false(s.has_payload[0]);
    assert_string_equal(s.error[0], "that thing is not allowed"); /* the public words */
    assert_string_equal(s.saga_id[0], "saga-1");
    assert_int_equal(stored_count(f->s, "mallbots.dead.>"), 0);
}

static void an_outage_is_retried_then_answered(void **state)
{
    struct fx *f = *state;
    struct participant p = {.answer = ANSWER_OUTAGE, .outages = 2};
    struct sender s = {0};
    subscribe_participant(f, &p);
    subscribe_sender(f, &s);
    char cmd_id[CORE_UUID_LEN + 1];
    send_command(f->s, "t4", cmd_id);
    am_mem_broker_run(f->b, NULL);

    assert_int_equal(p.calls, 3); /* two outages, then the answer */
    assert_int_equal(s.n, 1);
    assert_string_equal(s.name[0], AM_REPLY_SUCCESS);
    assert_true(am_mem_broker_last_nak_delay(f->b) > 0);
}

static void an_outage_that_lasts_is_answered_failure_on_the_last_delivery(void **state)
{
    struct fx *f = *state;
    struct participant p = {.answer = ANSWER_OUTAGE, .outages = -1};
    struct sender s = {0};
    subscribe_participant(f, &p);
    subscribe_sender(f, &s);
    char cmd_id[CORE_UUID_LEN + 1];
    send_command(f->s, "t5", cmd_id);
    am_mem_broker_run(f->b, NULL);

    assert_int_equal(p.calls, AM_MAX_DELIVER_DEFAULT);
    assert_int_equal(s.n, 1); /* the sender is answered, not left waiting */
    assert_string_equal(s.name[0], AM_REPLY_FAILURE);
    assert_string_equal(s.error[0], "the database is unreachable");
    assert_int_equal(stored_count(f->s, "mallbots.dead.>"), 0);
}

static void a_reply_that_cannot_be_published_is_answered_again_once(void **state)
{
    struct fx *f = *state;
    struct participant p = {.answer = ANSWER_OK};
    struct sender s = {0};
    subscribe_participant(f, &p);
    subscribe_sender(f, &s);
    char cmd_id[CORE_UUID_LEN + 1];
    send_command(f->s, "t6", cmd_id);
    am_mem_broker_fail(f->b, AM_MEM_FAIL_PUBLISH, 1); /* the first reply is lost */
    am_mem_broker_run(f->b, NULL);

    assert_int_equal(p.calls, 2); /* the command came back: handlers must be idempotent */
    assert_int_equal(s.n, 1);
    assert_int_equal(stored_count(f->s, REPLY_CHANNEL), 1);
}

static void a_command_answered_twice_stores_one_reply(void **state)
{
    struct fx *f = *state;
    struct participant p = {.answer = ANSWER_OK};
    struct sender s = {0};
    subscribe_participant(f, &p);
    subscribe_sender(f, &s);
    char cmd_id[CORE_UUID_LEN + 1];
    send_command(f->s, "t7", cmd_id);
    am_mem_broker_fail(f->b, AM_MEM_FAIL_ACK, 1); /* the command's ack is lost after the reply */
    am_mem_broker_run(f->b, NULL);
    am_mem_broker_expire(f->b); /* its ack wait runs out: the command comes again */
    am_mem_broker_run(f->b, NULL);

    assert_int_equal(p.calls, 2);
    assert_int_equal(stored_count(f->s, REPLY_CHANNEL), 1); /* same reply id: a duplicate */
    assert_int_equal(s.n, 1);
}

static void a_command_without_a_reply_channel(void **state)
{
    struct fx *f = *state;
    struct participant p = {.answer = ANSWER_OK};
    subscribe_participant(f, &p);
    ddd_event *cmd = new_command("t8", NULL);
    core_err err = CORE_ERR_INIT;
    /* the sender is told at once */
    assert_int_equal(am_command_send(f->s, CMD_CHANNEL, cmd, &err), CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "no reply channel"));
    /* one that arrives anyway (another producer) is a dead letter, the handler never runs */
    assert_int_equal(am_event_publish(f->s, CMD_CHANNEL, cmd, &err), CORE_OK);
    ddd_event_free(cmd);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(p.calls, 0);
    assert_int_equal(stored_count(f->s, "mallbots.dead.>"), 1);
}

static void a_bare_reply_with_a_payload_is_refused(void **state)
{
    struct fx *f = *state;
    Amtest__Counted *m = pb_new_of(amtest__counted);
    assert_non_null(m);
    m->count = 7; /* a field set, so the payload has bytes */
    ProtobufCMessage *pm = &m->base;
    ddd_event *ev = NULL;
    assert_int_equal(ddd_event_new(&ev, AM_REPLY_SUCCESS, &pm, NULL), CORE_OK);
    unsigned char *data = NULL;
    size_t len = 0;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(am_data_pack(ev, &data, &len, &err), CORE_OK);
    ddd_event *out = NULL;
    assert_int_equal(
        am_data_unpack(f->reg, ddd_event_id(ev), AM_REPLY_SUCCESS, data, len, &out, &err),
        CORE_ERR_INVALID);
    assert_null(out);
    assert_non_null(strstr(err.msg, "carries a payload"));
    core_free(data);
    ddd_event_free(ev);
}

static void reply_ids_are_derived_from_the_command(void **state)
{
    (void)state;
    char a[CORE_UUID_LEN + 1], b[CORE_UUID_LEN + 1], c[CORE_UUID_LEN + 1];
    am_reply_id("6f1ad2b0-3c4d-4e5f-8a9b-0c1d2e3f4a5b", a);
    am_reply_id("6f1ad2b0-3c4d-4e5f-8a9b-0c1d2e3f4a5b", b);
    am_reply_id("6f1ad2b0-3c4d-4e5f-8a9b-0c1d2e3f4a5c", c);
    assert_true(core_uuid_valid(a));
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, "6f1ad2b0-3c4d-4e5f-8a9b-0c1d2e3f4a5b");
    assert_int_equal(a[14], '5'); /* a name-based (v5) UUID */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_handled_command_is_answered_success, setup, teardown),
        cmocka_unit_test_setup_teardown(a_typed_reply_is_sent_as_it_is, setup, teardown),
        cmocka_unit_test_setup_teardown(a_broken_rule_is_answered_failure_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(an_outage_is_retried_then_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(
            an_outage_that_lasts_is_answered_failure_on_the_last_delivery, setup, teardown),
        cmocka_unit_test_setup_teardown(a_reply_that_cannot_be_published_is_answered_again_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_command_answered_twice_stores_one_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(a_command_without_a_reply_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(a_bare_reply_with_a_payload_is_refused, setup, teardown),
        cmocka_unit_test(reply_ids_are_derived_from_the_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
