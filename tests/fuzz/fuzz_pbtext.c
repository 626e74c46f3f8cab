/* fuzz_pbtext.c -- libFuzzer harness: values given as plain text (URL path parameters) and RFC 3339
 * timestamps: pbjson_set_field_text() and pbjson_timestamp_parse()/_format().
 *
 * Input byte 0 picks the target: one of the text-settable fields of pbjsontest.Everything (id,
 * the oneof members choice_text / choice_number) or of pbjsontest.Scalars (every scalar type), or
 * the timestamp parser. The rest, up to the first NUL, is the text.
 *
 * Properties besides ASan/UBSan:
 *   - set_field_text either succeeds or fails with CORE_ERR_INVALID, a clean UTF-8 message and
 *     the message left unchanged (its JSON encoding is compared before and after);
 *   - a value that was set survives encode -> decode -> encode unchanged, and a string field holds
 *     exactly the text;
 *   - setting a oneof member replaces the member set before (no leak, the case moves);
 *   - a timestamp that parses formats, and the formatted text parses back to the same instant;
 *   - core_alloc_live() is back where it started.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "pb.h"
#include "pbjson.h"
#include "pbjson_test.pb-c.h"

#define FUZZ_NAME "fuzz_pbtext"
#include "fuzz_common.h"

struct target {
    const ProtobufCMessageDescriptor *desc;
    const char *field;  /* proto or JSON name; NULL: the timestamp parser */
    const char *before; /* a field set first (NULL: none), to test replacing */
    const char *before_text;
};

static const struct target TARGETS[] = {
    {&pbjsontest__everything__descriptor, "id", "id", "old"},
    {&pbjsontest__everything__descriptor, "choice_text", "choiceNumber", "7"},
    {&pbjsontest__everything__descriptor, "choiceNumber", "choice_text", "old"},
    {&pbjsontest__scalars__descriptor, "f_double", NULL, NULL},
    {&pbjsontest__scalars__descriptor, "fFloat", NULL, NULL},
    {&pbjsontest__scalars__descriptor, "f_int32", NULL, NULL},
    {&pbjsontest__scalars__descriptor, "fInt64", NULL, NULL},
    {&pbjsontest__scalars__descriptor, "f_uint32", NULL, NULL},
    {&pbjsontest__scalars__descriptor, "fUint64", NULL, NULL},
    {&pbjsontest__scalars__descriptor, "f_sint32", NULL, NULL},
    {&pbjsontest__scalars__descriptor, "f_sint64", NULL, NULL},
    {&pbjsontest__scalars__descriptor, "f_fixed32", NULL, NULL},
    {&pbjsontest__scalars__descriptor, "f_fixed64", NULL, NULL},
    {&pbjsontest__scalars__descriptor, "f_sfixed32", NULL, NULL},
    {&pbjsontest__scalars__descriptor, "f_sfixed64", NULL, NULL},
    {&pbjsontest__scalars__descriptor, "f_bool", NULL, NULL},
    {&pbjsontest__scalars__descriptor, "f_string", "f_string", "old"},
    {&pbjsontest__scalars__descriptor, "fBytes", "f_bytes", "b2xk"},
    {&pbjsontest__scalars__descriptor, "status", NULL, NULL},
    {NULL, NULL, NULL, NULL},
};
#define NTARGETS (sizeof TARGETS / sizeof TARGETS[0])

static char *encode_ok(const ProtobufCMessage *m)
{
    char *text = NULL;
    core_err err = CORE_ERR_INIT;
    CHECK(pbjson_encode(m, &text, &err) == CORE_OK, "encode failed: %s", err.msg);
    return text;
}

static void fuzz_timestamp(const char *text)
{
    int64_t secs = 0, secs2 = 0;
    int32_t nanos = 0, nanos2 = 0;
    char out[PBJSON_TIMESTAMP_MAX];
    core_err err = CORE_ERR_INIT;
    if (pbjson_timestamp_parse(text, &secs, &nanos, &err) != CORE_OK) {
        char copy[CORE_ERR_MSG_MAX];
        core_strlcpy(copy, err.msg, sizeof copy);
        pbjson_make_utf8(copy);
        CHECK(err.status == CORE_ERR_INVALID && strcmp(copy, err.msg) == 0,
              "bad timestamp error: %s", err.msg);
        return;
    }
    CHECK(nanos >= 0 && nanos <= 999999999, "nanos %d from \"%s\"", (int)nanos, text);
    CHECK(pbjson_timestamp_format(secs, nanos, out, &err) == CORE_OK,
          "\"%s\" parsed but does not format: %s", text, err.msg);
    CHECK(pbjson_timestamp_parse(out, &secs2, &nanos2, &err) == CORE_OK,
          "\"%s\" formatted as \"%s\" does not parse", text, out);
    CHECK(secs == secs2 && nanos == nanos2, "\"%s\" -> \"%s\" changed the instant", text, out);
}

static void fuzz_field(const struct target *t, const char *text)
{
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *m = pb_new(t->desc), *back = NULL;
    char *before = NULL, *after = NULL, *again = NULL;
    CHECK(m != NULL, "pb_new");
    CHECK(pbjson_check_text_field(t->desc, t->field, &err) == CORE_OK, "%s: %s", t->field, err.msg);
    if (t->before)
        CHECK(pbjson_set_field_text(m, t->before, t->before_text, &err) == CORE_OK, "%s", err.msg);
    before = encode_ok(m);

    core_status st = pbjson_set_field_text(m, t->field, text, &err);
    if (st != CORE_OK) {
        after = encode_ok(m);
        char copy[CORE_ERR_MSG_MAX];
        core_strlcpy(copy, err.msg, sizeof copy);
        pbjson_make_utf8(copy);
        CHECK(st == CORE_ERR_INVALID && err.status == st, "%s \"%s\": status %d", t->field, text,
              (int)st);
        CHECK(strcmp(copy, err.msg) == 0, "error message is not valid UTF-8: %s", err.msg);
        CHECK(strcmp(before, after) == 0,
              "a failed set changed the message\n  before: %s\n  after:  %s", before, after);
        goto done;
    }
    const ProtobufCFieldDescriptor *f = pbjson_find_field(t->desc, t->field);
    CHECK(f != NULL, "find_field");
    if (f->type == PROTOBUF_C_TYPE_STRING)
        CHECK(strcmp(*(char **)((char *)m + f->offset), text) == 0,
              "string field holds another text");
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        CHECK(*(uint32_t *)((char *)m + f->quantifier_offset) == f->id, "oneof case not moved");
    /* a string that is not UTF-8 cannot be encoded as JSON; anything else must round-trip */
    if (pbjson_encode(m, &after, &err) != CORE_OK) {
        CHECK(f->type == PROTOBUF_C_TYPE_STRING && strstr(err.msg, "UTF-8"), "encode failed: %s",
              err.msg);
        goto done;
    }
    CHECK(pbjson_decode(t->desc, after, strlen(after), &back, &err) == CORE_OK,
          "our encoding does not decode: %s\n  %s", err.msg, after);
    again = encode_ok(back);
    CHECK(fuzz_same_but_zero_sign(after, again),
          "round trip changed the value\n  first:  %s\n  second: %s", after, again);

done:
    pb_free(m);
    pb_free(back);
    core_free(before);
    core_free(after);
    core_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    long live = core_alloc_live();
    const struct target *t = &TARGETS[data[0] % NTARGETS];
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (t->desc)
        fuzz_field(t, text);
    else
        fuzz_timestamp(text);
    free(text);
    CHECK(core_alloc_live() == live, "%ld allocation(s) leaked", core_alloc_live() - live);
    return 0;
}
