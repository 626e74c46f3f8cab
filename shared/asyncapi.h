/* asyncapi.h -- an AsyncAPI 2.6 document of the messages on the stream, made from the registry of
 * integration messages (es.h: each name with its payload type and its channel), the message
 * counterpart of openapi.h. The book hand-writes an AsyncAPI file for the stores module and never
 * serves it; here the lab console serves this one as GET /asyncapi.json (console.h), so the
 * chapter's messages are described by the same registration the consumers decode with, and a
 * chapter that registers more messages is described at once.
 *
 * Layer: core, above es.h and openapi.h; pure (no I/O).
 *
 * The document:
 *   asyncapi            "2.6.0"
 *   info                title, version (and description when given)
 *   defaultContentType  "application/x-protobuf"
 *   channels            one per channel of the registry, in order of first registration:
 *                       {"subscribe": {"summary": ..., "message": {"oneOf": [{"$ref":
 *                       "#/components/messages/<name>"}, ...]}}}: every message name registered
 *                       on that channel ("subscribe": what a client of the stream can receive)
 *   components.messages one per registered name: name, title, contentType, payload ($ref to its
 *                       type's schema), headers (Nats-Msg-Id), "x-channel" (its channel, or
 *                       absent for a name registered without one), "x-proto" (the payload type)
 *   components.schemas  every payload type and the types they refer to, as openapi_schemas()
 *                       writes them (the proto3 JSON mapping of pbjson.h)
 * A name registered without a channel (es_registry_add) is in components.messages only, with a
 * "description" that says it has no channel of its own (a reply travels on its command's).
 *
 * Memory: the result is a jansson value. Thread-safety: thread-safe; reg is only read (a registry
 * is filled at start-up and read-only afterwards).
 */
#ifndef ASYNCAPI_H
#define ASYNCAPI_H

#include <jansson.h>

#include "core.h"
#include "es.h"

#define ASYNCAPI_VERSION "2.6.0"
#define ASYNCAPI_CONTENT_TYPE "application/x-protobuf"

/* Builds the document described at the top into *out (a new reference). title and version are
 * required, description may be NULL; all borrowed. Missing arguments -> CORE_ERR_INVALID; more
 * than OPENAPI_MAX_SCHEMAS message types -> CORE_ERR_TOO_LARGE; CORE_ERR_NOMEM. On failure *out is
 * untouched. */
core_status asyncapi_document(const es_registry *reg, const char *title, const char *version,
                              const char *description, json_t **out, core_err *err);

#endif /* ASYNCAPI_H */
