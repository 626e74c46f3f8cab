/* pbjson.h -- JSON <-> protobuf-c transcoding, driven by protobuf-c's message descriptors.
 *
 * Layer: core, above pb.h. The REST gateway (gateway.h) decodes request bodies and encodes
 * responses with it, so no module writes JSON by hand for an endpoint. Works for ANY generated
 * message type: it walks ProtobufCMessageDescriptor / ProtobufCFieldDescriptor.
 *
 * Output (pbjson_to_json, pbjson_encode) follows grpc-gateway v2's default marshaler (protojson
 * with EmitUnpopulated):
 *   - keys are the lowerCamelCase JSON names (proto3 rule: drop '_', upper-case the next letter);
 *   - fields are emitted in field-number order, every field present: "" 0 false [] {} for unset
 *     scalars, lists and maps; null for an unset message field (and for an unset proto2 optional);
 *     of a oneof only the member that is set;
 *   - int64, uint64, sint64, fixed64, sfixed64 as decimal strings; other integers as numbers;
 *   - enums by name (a number with no name as a number; google.protobuf.NullValue as null);
 *   - bytes as standard base64 with padding;
 *   - float/double as the shortest number that reads back exactly (9.99, not 9.9900000000000002;
 *     a float as its shortest float text, 9.99f -> 9.99), in plain notation for 1e-6 <= |x| < 1e18
 *     and exponent notation outside ("1e-7", "1.5e+20"; Go switches at 1e21, but jansson cannot
 *     read integer-looking numbers beyond int64); NaN/Infinity/-Infinity as strings;
 *   - google.protobuf.Timestamp as RFC 3339 UTC, "2026-11-26T13:04:05.123Z" (0, 3, 6 or 9
 *     fraction digits); google.protobuf.Struct/Value/ListValue as plain JSON;
 *   - maps (protobuf-c's repeated map-entry messages) as objects; later duplicate keys win.
 *
 * Input (pbjson_decode, pbjson_from_json) is strict, every problem is CORE_ERR_INVALID with a
 * message that names it (nested fields by path, e.g. field "items[1].quantity"):
 *   - depth: text with arrays and objects nested deeper than PBJSON_MAX_DEPTH (64) is refused
 *     before it is parsed ("JSON nested deeper than 64 levels"), and so is a decoded tree deeper
 *     than PB_MAX_DEPTH (pb.h; "pkg.Msg: messages nested deeper than 32 levels", reachable only
 *     through google.protobuf.Value/Struct/ListValue). jansson and this decoder recurse once per
 *     level, and requests run on worker threads with about 100 KiB of stack; no message of the
 *     project comes near either limit;
 *   - JSON text: jansson with JSON_REJECT_DUPLICATES (malformed text, trailing garbage, duplicate
 *     keys are errors); the top level must be an object; empty or all-blank text = {};
 *   - keys: the JSON name ("customerId") or the proto name ("customer_id"); an unknown key is an
 *     error ('unknown field "customerID" in basketspb.StartBasketRequest'), so is giving one field
 *     under both names, or two members of one oneof;
 *   - null for any field = its default (not set), google.protobuf.Value fields included (protojson
 *     would store a Value with null_value there);
 *   - integers: JSON numbers or numeric strings; a fraction is an error ("3.5 is not an
 *     integer"), so is a value out of the type's range ("99999999999 out of range for int32");
 *     integral reals (5.0, 1e2) are accepted. uint64 values above 2^63-1 must be strings
 *     (jansson refuses bigger JSON integers);
 *   - float/double: numbers, numeric strings, "NaN", "Infinity", "-Infinity";
 *   - bool: true/false only; strings: JSON strings only;
 *   - enums: by name or by number (a number without a name is an error);
 *   - bytes: base64, standard or URL-safe alphabet, padding optional;
 *   - Timestamp: RFC 3339 with 'Z' or an offset, 0-9 fraction digits, years 0001-9999;
 *   - Struct/Value/ListValue: any JSON (inside them null is a Value with null_value);
 *   - maps: objects, keys converted to the key type ("7" for an int64 key, "true" for bool);
 *     a null map value is an error (except for google.protobuf.Value values: null_value);
 *   - repeated: arrays only (a null element is an error except for google.protobuf.Value).
 *
 * Memory: decoded messages are heap trees (pb.h; every part core_malloc'd), released with
 * pb_free(). On any failure nothing is returned and nothing leaks. jansson's own allocator is
 * left alone (json_t values use plain malloc).
 *
 * Thread-safety: all functions are thread-safe (no global state).
 */
#ifndef PBJSON_H
#define PBJSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "core.h"

#define PBJSON_MAX_DEPTH 64 /* arrays and objects, in JSON text and in a json_t (see Input) */

/* Parses len bytes of JSON text (need not be NUL-terminated; len 0 = {}) into a new message of
 * type desc. On OK the caller frees *out with pb_free(). Malformed JSON gives
 * 'invalid JSON at line 1, column 12: <jansson text>'. */
core_status pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                          ProtobufCMessage **out, core_err *err);

/* Like pbjson_decode() from an already parsed JSON value (borrowed). For a well-known type
 * (Timestamp, Struct, Value, ListValue) the value takes that type's JSON form; for any other type
 * it must be an object. On OK the caller frees *out with pb_free(). */
core_status pbjson_from_json(const ProtobufCMessageDescriptor *desc, json_t *obj,
                             ProtobufCMessage **out, core_err *err);

/* Finds a field of desc by proto name ("customer_id") or JSON name ("customerId"); NULL if none.
 * The descriptor is static (generated code). */
const ProtobufCFieldDescriptor *pbjson_find_field(const ProtobufCMessageDescriptor *desc,
                                                  const char *name);

/* Writes the JSON name of a proto field name into buf (cap bytes): "customer_id" -> "customerId"
 * (protoc's ToJsonName, the name pbjson_to_json() writes). Returns buf, or proto itself when the
 * name does not fit. */
const char *pbjson_json_name(const char *proto, char *buf, size_t cap);

/* true when field f of message parent is a map (protobuf-c's repeated <Field>Entry message with
 * fields key = 1 and value = 2): such a field is a JSON object, not an array. */
bool pbjson_field_is_map(const ProtobufCMessageDescriptor *parent,
                         const ProtobufCFieldDescriptor *f);

/* Checks that field_name names a field of desc that pbjson_set_field_text() can set: a singular,
 * non-message field. Otherwise CORE_ERR_INVALID ('unknown field "x" in pkg.Msg' or
 * 'field "x" of pkg.Msg cannot be set from text'). */
core_status pbjson_check_text_field(const ProtobufCMessageDescriptor *desc, const char *field_name,
                                    core_err *err);

/* Sets one top-level singular scalar field of msg (a heap tree) from text, as for an URL path
 * parameter. field_name is the proto or the JSON name. text (borrowed, used as is) is parsed by
 * the field's type: strings copied, numbers and enums (name or number) and bools ("true" /
 * "false") parsed with the same checks and messages as JSON input (e.g.
 * 'field "quantity": "abc" is not an integer'), bytes as base64. Replaces (and frees) the old
 * value; for a oneof member, clears the member that was set. A name check_text_field refuses ->
 * CORE_ERR_INVALID (a programmer error in a route table). On failure msg is unchanged. */
core_status pbjson_set_field_text(ProtobufCMessage *msg, const char *field_name, const char *text,
                                  core_err *err);

/* Converts msg (borrowed) into a new JSON value (*out, a new reference: json_decref it), in the
 * output form described at the top. A string that is not valid UTF-8, a Timestamp out of the
 * RFC 3339 range or a Value number that is NaN/Infinity -> CORE_ERR_INVALID naming the field; a
 * tree deeper than PB_MAX_DEPTH -> CORE_ERR_INVALID (checked before the walk, which recurses);
 * out of memory -> CORE_ERR_NOMEM. A tree of PB_MAX_DEPTH levels gives JSON at most
 * PBJSON_MAX_DEPTH deep. */
core_status pbjson_to_json(const ProtobufCMessage *msg, json_t **out, core_err *err);

/* pbjson_to_json() then pbjson_dump(): *out is compact NUL-terminated JSON text, core_malloc'd;
 * caller frees with core_free(). */
core_status pbjson_encode(const ProtobufCMessage *msg, char **out, core_err *err);

/* Serialises any JSON value (borrowed) compactly, in insertion order, with reals written as the
 * shortest text that reads back exactly (jansson's own dump writes 17 digits). *out is
 * NUL-terminated, core_malloc'd (caller frees with core_free); *out_len (may be NULL) gets its
 * length. Non-finite reals cannot occur in a json_t. A value with arrays and objects nested
 * deeper than PBJSON_MAX_DEPTH -> CORE_ERR_INVALID (the writer recurses once per level). */
core_status pbjson_dump(const json_t *json, char **out, size_t *out_len, core_err *err);

/* true when s[0..n) is valid UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF). */
bool pbjson_utf8_valid(const char *s, size_t n);

/* Replaces, in place, every byte of text that is not part of a valid UTF-8 sequence with '?', so
 * that a message that may quote user input (or was cut inside a character) can go into JSON.
 * pbjson's own error messages are already clean. */
void pbjson_make_utf8(char *text);

/* ---- RFC 3339 timestamps, as used for google.protobuf.Timestamp ----------------------------- */

#define PBJSON_TIMESTAMP_MAX 36 /* "9999-12-31T23:59:59.999999999Z" + NUL, with room */

/* Parses RFC 3339 text ("2026-11-26T13:04:05Z", "2026-11-26T14:04:05.5+01:00") into seconds
 * since the Unix epoch (UTC) and nanoseconds (0..999999999). Years 0001-9999. Bad text ->
 * CORE_ERR_INVALID 'invalid timestamp "..." (want RFC 3339, e.g. 2026-11-26T13:04:05Z)'. */
core_status pbjson_timestamp_parse(const char *text, int64_t *seconds, int32_t *nanos,
                                   core_err *err);

/* Formats seconds/nanos as RFC 3339 UTC with 0, 3, 6 or 9 fraction digits into out. Out of the
 * years 0001-9999 or nanos outside 0..999999999 -> CORE_ERR_INVALID. */
core_status pbjson_timestamp_format(int64_t seconds, int32_t nanos, char out[PBJSON_TIMESTAMP_MAX],
                                    core_err *err);

#endif /* PBJSON_H */
