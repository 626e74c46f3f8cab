/* stream_recorder.h -- test support (chapter 07): a consumer group that records the integration
 * events it receives on the in-memory stream (am.h's am_mem_broker), so a unit test checks what
 * a module published: names, message ids and payloads, in order.
 *
 * Layer: test support (the chapter's tests/support/). struct stream_recorder is caller storage,
 * zeroed before use; stream_recorder_release() frees the payload copies. Up to
 * STREAM_RECORDER_MAX messages (more fails the test).
 *
 * Thread-safety: none; the memory broker delivers in the test's thread (am_mem_broker_run).
 */
#ifndef STREAM_RECORDER_H
#define STREAM_RECORDER_H

#include "am.h"
#include "ddd.h"

#define STREAM_RECORDER_MAX 16

struct stream_recorder {
    size_t n;
    char names[STREAM_RECORDER_MAX][DDD_NAME_MAX + 1];
    char ids[STREAM_RECORDER_MAX][65];            /* message ids */
    unsigned char *payloads[STREAM_RECORDER_MAX]; /* packed payloads, owned */
    size_t lens[STREAM_RECORDER_MAX];
};

/* Subscribes r as group to channel on stream s; reg decodes the payloads (borrowed, outlives
 * s). Fails the test on error. */
void stream_recorder_subscribe(struct stream_recorder *r, am_stream *s, const char *channel,
                               const char *group, const es_registry *reg);

/* The i-th payload unpacked as desc (caller frees with pb_free). Fails the test on error. */
ProtobufCMessage *stream_recorder_payload(const struct stream_recorder *r, size_t i,
                                          const ProtobufCMessageDescriptor *desc);

/* Frees what r holds and empties it. */
void stream_recorder_release(struct stream_recorder *r);

#endif /* STREAM_RECORDER_H */
