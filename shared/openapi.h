/* openapi.h -- an OpenAPI 3.0 document of the REST gateway's routes, made from the route tables
 * and protobuf-c's message descriptors (the C counterpart of protoc-gen-openapiv2's output, which
 * the book generates at build time and serves with Swagger UI).
 *
 * Layer: core, beside gateway.h, whose route tables it reads; pure (no I/O), so unit tests call it
 * directly. The gateway serves its result as GET /openapi.json and the lab console (console.h)
 * builds its page from it, so there is no hand-kept list of routes anywhere.
 *
 * The document (openapi_document()):
 *   - "openapi": "3.0.3"; "info": {"title", "version", "description"} from struct openapi_api;
 *   - "paths": one entry per path template (the gateway's "{name}" syntax is OpenAPI's), one
 *     operation per route under its lower-case method. An operation has:
 *       - "operationId" "<service>.<Method>" (e.g. "storespb.StoresService.CreateStore"; a
 *         method served by several routes gets "_2", "_3", ... from its second route on),
 *         "summary" the method's name, "tags" [the service's full name], and the extension
 *         "x-rpc": "<service>/<Method>" (the RPC server's path is /rpc/<x-rpc>, rpc.h);
 *       - "parameters": every "{name}" of the path, "in": "path", "required": true, with the
 *         schema of the input field it fills (the field's JSON name in "x-field");
 *       - "requestBody" (application/json, required: false) when the input message has fields
 *         the path does not fill: an inline object schema of those fields with
 *         "additionalProperties": false (the gateway refuses unknown fields). Every method gets
 *         one, GET and DELETE included, because the gateway decodes a body for every method
 *         (gateway.h); an input filled entirely by the path has none;
 *       - "responses": "200" with the output message's schema, and "default": the API's error
 *         body (components.schemas.Error: code, message, requestId).
 *   - "components": {"schemas": one object schema per message type reachable from an input or
 *     output, named by its full name ("storespb.Store"), referenced as "#/components/schemas/
 *     storespb.Store"; plus "Error"}.
 * Field schemas follow pbjson.h's JSON mapping, so the document describes what the gateway
 * really sends and accepts: string -> {"type":"string"}; bytes -> string, format byte; int32,
 * sint32, sfixed32 -> integer, format int32; uint32, fixed32 -> integer, format int64, minimum
 * 0; 64-bit integers -> string, format int64 (or uint64): pbjson writes them as strings; double
 * and float -> number, format double/float; bool -> boolean; enum -> string with "enum" [its
 * value names]; message -> {"$ref": ...}; repeated -> {"type":"array","items": <element>}; map
 * -> {"type":"object","additionalProperties": <value>}; google.protobuf.Timestamp -> string,
 * format date-time; Struct -> object; Value -> {} (any JSON); ListValue -> array of any. Each
 * property also carries "x-proto" (the proto field's name and type, e.g. "int32 quantity").
 *
 * Recursion: none. Message types are collected with a work list (each type once, however often
 * and however deep it is referenced; a message that contains itself, directly or through others,
 * becomes a schema with a $ref to itself), so any depth of nesting costs no stack and the
 * document's own depth is fixed (about 10 levels). At most OPENAPI_MAX_SCHEMAS message types
 * (more -> CORE_ERR_TOO_LARGE naming the limit).
 *
 * Memory: the result is a jansson value (plain malloc, like every json_t here); the call itself
 * allocates nothing else that outlives it. Thread-safety: thread-safe (no global state); the
 * descriptors and route tables are static and only read.
 */
#ifndef OPENAPI_H
#define OPENAPI_H

#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "core.h"
#include "gateway.h"

#define OPENAPI_VERSION "3.0.3"
#define OPENAPI_MAX_SCHEMAS 512

/* One gw_mount() call: a service and the routes mounted for it. All borrowed (static). */
struct openapi_service {
    const ProtobufCServiceDescriptor *svc;
    const struct gw_route *routes;
    size_t n;
};

/* What the document describes. All borrowed; title and version must not be NULL, description
 * may be. services[i] in mount order (the order of "paths" and of the operations). */
struct openapi_api {
    const char *title;
    const char *version;
    const char *description;
    const struct openapi_service *services;
    size_t n;
};

/* Builds the document described at the top into *out (a new reference: json_decref it). A route
 * whose rpc is not a method of its service, or whose path parameter is not a field of the
 * method's input -> CORE_ERR_INVALID naming the route (gw_mount() refuses such tables first);
 * more than OPENAPI_MAX_SCHEMAS message types -> CORE_ERR_TOO_LARGE; out of memory ->
 * CORE_ERR_NOMEM. On failure *out is untouched. */
core_status openapi_document(const struct openapi_api *api, json_t **out, core_err *err);

/* The schemas alone: an object {"<full name>": schema, ...} of the message types types[0..n)
 * (borrowed) and every message type they refer to, each once, as the document's
 * "components.schemas" has them (the same $refs, "#/components/schemas/<full name>"). For other
 * documents with the same components layout (asyncapi.h). *out: a new reference. Errors as
 * openapi_document's. */
core_status openapi_schemas(const ProtobufCMessageDescriptor *const *types, size_t n, json_t **out,
                            core_err *err);

#endif /* OPENAPI_H */
