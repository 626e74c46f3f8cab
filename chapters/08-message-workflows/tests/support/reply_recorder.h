/* reply_recorder.h -- test support (chapter 08): sends commands to a module on the in-memory
 * stream (am.h's am_mem_broker) as a saga would, and records the replies that come back on the
 * reply channel, so a unit test checks a module's command handlers end to end: the reply's name,
 * outcome, error text, the command it answers and its typed payload, in order.
 *
 * Layer: test support (the chapter's tests/support/). struct reply_recorder is caller storage,
 * zeroed before use; reply_recorder_release() frees the payload copies. Up to REPLY_RECORDER_MAX
 * replies (more fails the test). Every failure of these helpers fails the test.
 *
 * Thread-safety: none; the memory broker delivers in the test's thread (am_mem_broker_run).
 */
#ifndef REPLY_RECORDER_H
#define REPLY_RECORDER_H

#include <stdbool.h>

#include "am.h"
#include "ddd.h"

#define REPLY_RECORDER_MAX 8
#define REPLY_RECORDER_CHANNEL "mallbots.test.replies" /* where the test's commands want answers   \
                                                        */

struct reply_recorder {
    size_t n;
    char names[REPLY_RECORDER_MAX][DDD_NAME_MAX + 1]; /* am.Success, am.Failure or a typed reply */
    char ids[REPLY_RECORDER_MAX][65];                 /* the replies' message ids */
    char command_ids[REPLY_RECORDER_MAX][65];         /* AM_REPLY_COMMAND_ID */
    char saga_ids[REPLY_RECORDER_MAX][65];            /* REPLY_SAGA_ID ("" if none) */
    char errors[REPLY_RECORDER_MAX][256];             /* AM_REPLY_ERROR ("" if none) */
    bool succeeded[REPLY_RECORDER_MAX];
    unsigned char *payloads[REPLY_RECORDER_MAX]; /* packed typed payloads, owned (NULL if none) */
    size_t lens[REPLY_RECORDER_MAX];
};

/* Subscribes r as group "test-replies" to REPLY_RECORDER_CHANNEL on s; reg decodes typed
 * replies (borrowed, outlives s). */
void reply_recorder_subscribe(struct reply_recorder *r, am_stream *s, const es_registry *reg);

/* Sends command name with *payload (ownership taken) on channel under message id cmd_id, with
 * COMMAND_REPLY_CHANNEL = REPLY_RECORDER_CHANNEL and COMMAND_SAGA_ID = "saga-1". */
void reply_recorder_send(am_stream *s, const char *channel, const char *cmd_id, const char *name,
                         ProtobufCMessage *payload);

/* The i-th reply's payload unpacked as desc (caller frees with pb_free). */
ProtobufCMessage *reply_recorder_payload(const struct reply_recorder *r, size_t i,
                                         const ProtobufCMessageDescriptor *desc);

/* Frees what r holds and empties it. */
void reply_recorder_release(struct reply_recorder *r);

#endif /* REPLY_RECORDER_H */
