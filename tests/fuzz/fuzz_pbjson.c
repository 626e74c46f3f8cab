/* fuzz_pbjson.c -- libFuzzer harness: JSON text -> pbjsontest.Everything (pbjson_decode).
 *
 * The input is a request body as the REST gateway would receive it. Besides "no crash, no leak,
 * no undefined behaviour" (ASan/UBSan), every input is checked against these properties:
 *   - a failure is CORE_ERR_INVALID with a non-empty, valid UTF-8 message (it goes into a JSON
 *     error response);
 *   - a decoded message encodes (pbjson_encode) without error, and the encoding is a fixed point:
 *     decode(encode(m)) encodes to the same text (up to the sign of zeros, see
 *     fuzz_without_negative_zero());
 *   - the protobuf wire form agrees: pack, unpack, encode gives the same text again;
 *   - with an allocation failing part-way through (core_alloc_fail_after, the count taken from the
 *     input), decoding gives OK or CORE_ERR_NOMEM, never anything else;
 *   - core_alloc_live() is back where it started after each input.
 * A broken property aborts, which libFuzzer reports as a crash with the input saved.
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

#define FUZZ_NAME "fuzz_pbjson"
#include "fuzz_common.h"

static const ProtobufCMessageDescriptor *const DESC = &pbjsontest__everything__descriptor;

static void check_clean_error(const core_err *err, core_status st)
{
    char copy[CORE_ERR_MSG_MAX];
    CHECK(st == CORE_ERR_INVALID || st == CORE_ERR_NOMEM, "status %d (%s)", (int)st, err->msg);
    CHECK(err->status == st, "err.status %d but returned %d", (int)err->status, (int)st);
    CHECK(err->msg[0] != '\0', "empty error message");
    core_strlcpy(copy, err->msg, sizeof copy);
    pbjson_make_utf8(copy);
    CHECK(strcmp(copy, err->msg) == 0, "error message is not valid UTF-8: %s", err->msg);
}

/* Encodes m; the text is core_malloc'd. Any failure breaks a property. */
static char *encode_ok(const ProtobufCMessage *m, const char *what)
{
    char *text = NULL;
    core_err err = CORE_ERR_INIT;
    core_status st = pbjson_encode(m, &text, &err);
    CHECK(st == CORE_OK, "encoding %s failed: %s", what, err.msg);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long live = core_alloc_live();
    const char *json = (const char *)data;
    ProtobufCMessage *m = NULL, *again = NULL, *unpacked = NULL;
    core_err err = CORE_ERR_INIT;
    char *text1 = NULL, *text2 = NULL, *text3 = NULL;
    unsigned char *packed = NULL;
    size_t packed_len = 0;

    core_status st = pbjson_decode(DESC, json, size, &m, &err);
    if (st != CORE_OK) {
        check_clean_error(&err, st);
        CHECK(st == CORE_ERR_INVALID, "a decode without injected failures ran out of memory");
        goto done;
    }

    /* encoding is a fixed point */
    text1 = encode_ok(m, "the decoded message");
    core_err_clear(&err);
    st = pbjson_decode(DESC, text1, strlen(text1), &again, &err);
    CHECK(st == CORE_OK, "decoding our own encoding failed: %s\n  text: %s", err.msg, text1);
    text2 = encode_ok(again, "the re-decoded message");
    CHECK(fuzz_same_but_zero_sign(text1, text2),
          "encoding is not stable\n  first:  %s\n  second: %s", text1, text2);

    /* the wire form agrees */
    core_err_clear(&err);
    CHECK(pb_pack(m, &packed, &packed_len, &err) == CORE_OK, "pack failed: %s", err.msg);
    st = pb_unpack(DESC, packed, packed_len, &unpacked, &err);
    if (st == CORE_ERR_INVALID && strstr(err.msg, "nests messages deeper than"))
        goto done; /* JSON may nest google.protobuf.Value deeper than pb_unpack() reads
                      (PB_MAX_DEPTH) */
    CHECK(st == CORE_OK, "unpack of our own packing failed: %s", err.msg);
    text3 = encode_ok(unpacked, "the unpacked message");
    CHECK(fuzz_same_but_zero_sign(text1, text3),
          "pack/unpack changed the message\n  before: %s\n  after:  %s", text1, text3);

    /* the same input with an allocation failing part-way through */
    {
        long n = size > 0 ? (long)(data[size - 1] % 48) : 0;
        ProtobufCMessage *partial = NULL;
        core_err_clear(&err);
        core_alloc_fail_after(n);
        st = pbjson_decode(DESC, json, size, &partial, &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK)
            pb_free(partial);
        else
            CHECK(st == CORE_ERR_NOMEM, "with allocation %ld failing: status %d (%s)", n, (int)st,
                  err.msg);
    }

done:
    pb_free(m);
    pb_free(again);
    pb_free(unpacked);
    core_free(text1);
    core_free(text2);
    core_free(text3);
    core_free(packed);
    CHECK(core_alloc_live() == live, "%ld allocation(s) leaked", core_alloc_live() - live);
    return 0;
}
