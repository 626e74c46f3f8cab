/* stream_recorder.c -- see stream_recorder.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pb.h"
#include "stream_recorder.h"

static core_status record(void *ud, const struct am_delivery *d, const ddd_event *ev, core_err *err)
{
    struct stream_recorder *r = ud;
    assert_true(r->n < STREAM_RECORDER_MAX);
    assert_non_null(ddd_event_payload(ev));
    core_status st = pb_pack(ddd_event_payload(ev), &r->payloads[r->n], &r->lens[r->n], err);
    if (st)
        return st;
    core_strlcpy(r->names[r->n], d->name, sizeof r->names[0]);
    core_strlcpy(r->ids[r->n], d->id, sizeof r->ids[0]);
    r->n++;
    return CORE_OK;
}

void stream_recorder_subscribe(struct stream_recorder *r, am_stream *s, const char *channel,
                               const char *group, const es_registry *reg)
{
    struct am_sub_opts opts = AM_SUB_OPTS_INIT;
    core_err err = CORE_ERR_INIT;
    opts.group = group;
    core_status st = am_event_subscribe(s, channel, &opts, reg, record, r, &err);
    if (st)
        fail_msg("subscribing the recorder: %s", err.msg);
}

ProtobufCMessage *stream_recorder_payload(const struct stream_recorder *r, size_t i,
                                          const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *m = NULL;
    assert_true(i < r->n);
    assert_int_equal(pb_unpack(desc, r->payloads[i], r->lens[i], &m, NULL), CORE_OK);
    return m;
}

void stream_recorder_release(struct stream_recorder *r)
{
    for (size_t i = 0; i < r->n; i++)
        core_free(r->payloads[i]);
    memset(r, 0, sizeof *r);
}
