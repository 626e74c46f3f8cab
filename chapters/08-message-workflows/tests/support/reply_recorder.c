/* reply_recorder.c -- see reply_recorder.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "pb.h"
#include "reply_recorder.h"

static void copy_meta(char *dst, size_t size, const ddd_event *reply, const char *key)
{
    const char *v = ddd_event_metadata(reply, key);
    core_strlcpy(dst, v ? v : "", size);
}

static core_status record(void *ud, const struct am_delivery *d, const ddd_event *reply,
                          core_err *err)
{
    struct reply_recorder *r = ud;
    assert_true(r->n < REPLY_RECORDER_MAX);
    if (ddd_event_payload(reply)) {
        core_status st = pb_pack(ddd_event_payload(reply), &r->payloads[r->n], &r->lens[r->n], err);
        if (st)
            return st;
    }
    core_strlcpy(r->names[r->n], d->name, sizeof r->names[0]);
    core_strlcpy(r->ids[r->n], d->id, sizeof r->ids[0]);
    copy_meta(r->command_ids[r->n], sizeof r->command_ids[0], reply, AM_REPLY_COMMAND_ID);
    copy_meta(r->saga_ids[r->n], sizeof r->saga_ids[0], reply, "REPLY_SAGA_ID");
    copy_meta(r->errors[r->n], sizeof r->errors[0], reply, AM_REPLY_ERROR);
    r->succeeded[r->n] = am_reply_succeeded(reply);
    r->n++;
    return CORE_OK;
}

void reply_recorder_subscribe(struct reply_recorder *r, am_stream *s, const es_registry *reg)
{
    struct am_sub_opts opts = AM_SUB_OPTS_INIT;
    core_err err = CORE_ERR_INIT;
    opts.group = "test-replies";
    if (am_reply_subscribe(s, REPLY_RECORDER_CHANNEL, &opts, reg, record, r, &err))
        fail_msg("subscribing the reply recorder: %s", err.msg);
}

void reply_recorder_send(am_stream *s, const char *channel, const char *cmd_id, const char *name,
                         ProtobufCMessage *payload)
{
    ddd_event *cmd = NULL;
    core_err err = CORE_ERR_INIT;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (ddd_event_new(&cmd, name, &payload, &err) || ddd_event_restore(cmd, cmd_id, now, &err) ||
        ddd_event_set_metadata(cmd, AM_CMD_REPLY_CHANNEL, REPLY_RECORDER_CHANNEL, &err) ||
        ddd_event_set_metadata(cmd, "COMMAND_SAGA_ID", "saga-1", &err) ||
        am_command_send(s, channel, cmd, &err)) {
        ddd_event_free(cmd);
        fail_msg("sending %s: %s", name, err.msg);
    }
    ddd_event_free(cmd);
}

ProtobufCMessage *reply_recorder_payload(const struct reply_recorder *r, size_t i,
                                         const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *m = NULL;
    assert_true(i < r->n);
    assert_non_null(r->payloads[i]);
    assert_int_equal(pb_unpack(desc, r->payloads[i], r->lens[i], &m, NULL), CORE_OK);
    return m;
}

void reply_recorder_release(struct reply_recorder *r)
{
    for (size_t i = 0; i < r->n; i++)
        core_free(r->payloads[i]);
    memset(r, 0, sizeof *r);
}
