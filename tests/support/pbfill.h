/* pbfill.h -- test support: protobuf messages filled with sample values, driven by descriptors.
 *
 * pbfill_new() builds a message of any type with EVERY field set to a non-default value
 * (strings "v-<field>", numbers derived from the field number, the last enum value, two elements
 * per repeated field, sub-messages filled recursively up to a depth; a google.protobuf.Timestamp
 * gets a valid time, since the JSON mapping refuses others), so round-trip tests
 * exercise every field of every message without knowing the types.
 * Thread-safety: none needed (tests).
 */
#ifndef PBFILL_H
#define PBFILL_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* A filled heap tree (pb.h) of type desc; caller frees with pb_free(). NULL when out of memory. */
ProtobufCMessage *pbfill_new(const ProtobufCMessageDescriptor *desc, int max_depth);

/* Every message descriptor of the chapter's protos (scripts/proto-index.sh, linked from the
 * chapter library). Only chapter tests may use these two. */
extern const ProtobufCMessageDescriptor *const chapter_messages[];
extern const size_t chapter_message_count;

#endif /* PBFILL_H */
