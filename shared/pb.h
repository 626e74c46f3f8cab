/* pb.h -- protobuf-c messages as owned heap trees.
 *
 * Layer: core. Every protobuf message the project passes between layers (RPC requests and
 * responses, transcoded JSON bodies, later event payloads) is a "heap tree": the message and every
 * string, bytes buffer, array and sub-message it points to were allocated with core_malloc(), so
 * one call, pb_free(), releases all of it. Strings that are empty may instead point at protobuf-c's
 * shared protobuf_c_empty_string (what the generated *__init() functions set); pb_free() knows not
 * to free that.
 *
 * Building a response in a handler:
 *     Basketspb__StartBasketResponse *resp = pb_new_of(basketspb__start_basket_response);
 *     resp->id = core_strdup(id);          // NULL check as for any allocation
 *     *out = &resp->base;                  // ownership passes to the caller
 *
 * Depth: a tree nests at most PB_MAX_DEPTH messages (the message itself is level 1, each
 * sub-message, map entries included, one more). protobuf-c's unpack, pack and free recurse once per
 * level, and a request runs on a worker thread with about 100 KiB of stack (web.h), so every way
 * into a tree is bounded: pb_unpack() scans the wire data for its depth before protobuf-c sees it,
 * pbjson_decode() refuses deeper trees (pbjson.h), pb_pack() and pbjson_to_json() refuse to walk
 * one. Only a tree built deeper by hand would reach pb_free() (which recurses), and none is.
 * Messages of the project nest a handful of levels; only google.protobuf.Value/Struct/ListValue
 * can nest without end.
 *
 * Thread-safety: all functions are thread-safe.
 */
#ifndef PB_H
#define PB_H

#include <protobuf-c/protobuf-c.h>

#include "core.h"

#define PB_MAX_DEPTH 32

/* A ProtobufCAllocator over core_malloc/core_free (for protobuf_c_message_unpack & co). */
extern ProtobufCAllocator pb_allocator;

/* A new message of type desc with its default values (core_calloc + init). NULL when out of
 * memory. Caller frees with pb_free(). */
ProtobufCMessage *pb_new(const ProtobufCMessageDescriptor *desc);

/* Typed shorthand: pb_new_of(basketspb__start_basket_response) gives a
 * Basketspb__StartBasketResponse *, using the generated descriptor's name. */
#define pb_new_of(prefix) ((void *)pb_new(&prefix##__descriptor))

/* Frees a heap tree. NULL is a no-op. */
void pb_free(ProtobufCMessage *msg);

/* true when msg's tree nests at most max levels (see Depth above). Walks at most max + 1 levels
 * deep, so it is safe on any tree. */
bool pb_depth_ok(const ProtobufCMessage *msg, int max);

/* Serialises msg into a new core_malloc'd buffer (*out, caller frees with core_free). A tree
 * deeper than PB_MAX_DEPTH -> CORE_ERR_INVALID "message X nests deeper than 32 levels". */
core_status pb_pack(const ProtobufCMessage *msg, unsigned char **out, size_t *out_len,
                    core_err *err);

/* Parses len bytes as a desc message into a new heap tree (*out, caller frees with pb_free).
 * Malformed input gives CORE_ERR_INVALID ("malformed protobuf data for <type>"). So do, before
 * anything is unpacked (every packed string is checked first, at any depth, by walking the wire
 * format with the descriptors, without recursion):
 *   - a string field holding a NUL byte: protobuf-c hands a string over as a NUL-terminated
 *     char *, so "a\0b" would silently arrive as "a" (the REST API refuses such text as well):
 *     'field "<path>": string contains a NUL character';
 *   - a string field that is not valid UTF-8 (strict: no overlong forms, no surrogates, nothing
 *     above U+10FFFF), which no PostgreSQL text column takes: 'field "<path>": string is not
 *     valid UTF-8';
 *   - messages nested deeper than PB_MAX_DEPTH levels (see Depth above): "protobuf data for
 *     <type> nests messages deeper than 32 levels".
 * <path> names the field with the .proto names, from the outermost message, with the index of
 * repeated fields, e.g. "customer_id" or "items[1].product_id". */
core_status pb_unpack(const ProtobufCMessageDescriptor *desc, const unsigned char *data, size_t len,
                      ProtobufCMessage **out, core_err *err);

/* Replaces the string at *field (freeing a previous heap string) with a copy of value. */
core_status pb_set_string(char **field, const char *value, core_err *err);

#endif /* PB_H */
