/* test_pb.c -- unit tests of pb.h: messages as heap trees, pack/unpack, failure paths, and the
 * check of packed strings (NUL, UTF-8) and nesting depth that pb_unpack() makes first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pb.h"
#include "pbjson_test.pb-c.h"
#include "rpc_test.pb-c.h"

static void heap_tree_round_trip_and_free(void **state)
{
    (void)state;
    long live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    Rpctest__EchoRequest *m = pb_new_of(rpctest__echo_request);
    assert_non_null(m);
    assert_string_equal(m->text, ""); /* defaults from the generated init */
    assert_int_equal(pb_set_string(&m->text, "first", &err), CORE_OK);
    assert_int_equal(pb_set_string(&m->text, "h\xc3\xa9llo", &err), CORE_OK); /* frees "first" */
    m->repeat = 3;

    unsigned char *buf = NULL;
    size_t len = 0;
    assert_int_equal(pb_pack(&m->base, &buf, &len, &err), CORE_OK);
    ProtobufCMessage *back = NULL;
    assert_int_equal(pb_unpack(&rpctest__echo_request__descriptor, buf, len, &back, &err), CORE_OK);
    Rpctest__EchoRequest *b = (Rpctest__EchoRequest *)back;
    assert_string_equal(b->text, "h\xc3\xa9llo");
    assert_int_equal(b->repeat, 3);

    core_free(buf);
    pb_free(back);
    pb_free(&m->base);
    pb_free(NULL);
    assert_int_equal(core_alloc_live(), live);
}

static void malformed_bytes_are_invalid(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *m = NULL;
    const unsigned char junk[] = {0x0a, 0x7f, 'x'}; /* field 1, length 127, 1 byte */
    assert_int_equal(pb_unpack(&rpctest__echo_request__descriptor, junk, sizeof junk, &m, &err),
                     CORE_ERR_INVALID);
    assert_null(m);
    assert_non_null(strstr(err.msg, "rpctest.EchoRequest"));
}

static void out_of_memory_is_reported(void **state)
{
    (void)state;
    long live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    core_alloc_fail_after(0);
    assert_null(pb_new_of(rpctest__echo_request));
    core_alloc_fail_after(-1);

    Rpctest__EchoRequest *m = pb_new_of(rpctest__echo_request);
    assert_non_null(m);
    core_alloc_fail_after(0);
    assert_int_equal(pb_set_string(&m->text, "x", &err), CORE_ERR_NOMEM);
    unsigned char *buf = NULL;
    size_t len = 0;
    assert_int_equal(pb_pack(&m->base, &buf, &len, &err), CORE_ERR_NOMEM);
    core_alloc_fail_after(-1);
    assert_string_equal(m->text, ""); /* unchanged by the failed set */
    pb_free(&m->base);
    assert_int_equal(core_alloc_live(), live);
}

/* ---- hand-packed data: what a client other than protobuf-c may send ------------------------- */

/* A buffer that packed fields are appended to. */
struct wire {
    unsigned char b[512];
    size_t n;
};

static void put_varint(struct wire *w, uint64_t v)
{
    do {
        assert_true(w->n < sizeof w->b);
        w->b[w->n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

/* Appends field number with the n bytes at data as its length-delimited value. */
static void put_bytes(struct wire *w, uint32_t number, const void *data, size_t n)
{
    put_varint(w, (uint64_t)number << 3 | 2);
    put_varint(w, n);
    assert_true(w->n + n <= sizeof w->b);
    memcpy(w->b + w->n, data, n);
    w->n += n;
}

/* Appends field number holding the message packed in sub. */
static void put_message(struct wire *w, uint32_t number, const struct wire *sub)
{
    put_bytes(w, number, sub->b, sub->n);
}

/* pb_unpack of w as desc fails with CORE_ERR_INVALID and exactly want, leaving nothing. */
static void expect_refused(const ProtobufCMessageDescriptor *desc, const struct wire *w,
                           const char *want)
{
    long live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *m = NULL;
    assert_int_equal(pb_unpack(desc, w->b, w->n, &m, &err), CORE_ERR_INVALID);
    assert_null(m);
    assert_string_equal(err.msg, want);
    assert_int_equal(core_alloc_live(), live);
}

/* The case: "a\0b" in a string field would arrive as "a". */
static void a_nul_in_a_string_is_refused_naming_the_field(void **state)
{
    (void)state;
    struct wire w = {{0}, 0};
    put_bytes(&w, 1, "a\0b", 3);
    expect_refused(&rpctest__echo_request__descriptor, &w,
                   "field \"text\": string contains a NUL character");
    /* a NUL at the end, or alone, is no better */
    w.n = 0;
    put_bytes(&w, 1, "ab\0", 3);
    expect_refused(&rpctest__echo_request__descriptor, &w,
                   "field \"text\": string contains a NUL character");
    w.n = 0;
    put_bytes(&w, 1, "\0", 1);
    expect_refused(&rpctest__echo_request__descriptor, &w,
                   "field \"text\": string contains a NUL character");
}

/* Every place a string can be: nested, repeated (with its index), a map key, a oneof, a
 * google.protobuf.Value; the path names it from the outermost message. */
static void strings_are_checked_at_every_depth(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *everything = &pbjsontest__everything__descriptor;
    struct wire w = {{0}, 0}, item = {{0}, 0}, bad_item = {{0}, 0}, entry = {{0}, 0},
                value = {{0}, 0};
    put_bytes(&item, 1, "p-1", 3);
    put_bytes(&bad_item, 1, "p\0-2", 4);

    put_message(&w, 4, &item); /* items[0] fine, items[1] not */
    put_message(&w, 4, &bad_item);
    expect_refused(everything, &w,
                   "field \"items[1].product_id\": string contains a NUL character");

    w.n = 0;
    put_message(&w, 3, &bad_item);
    expect_refused(everything, &w, "field \"item.product_id\": string contains a NUL character");

    w.n = 0;
    put_bytes(&w, 6, "ok", 2);
    put_bytes(&w, 1, "id-1", 4); /* another field in between does not count */
    put_bytes(&w, 6, "n\0", 2);
    expect_refused(everything, &w, "field \"tags[1]\": string contains a NUL character");

    w.n = 0;
    put_bytes(&entry, 1, "k\0", 2); /* map<string, int32> counts: the key */
    put_message(&w, 10, &entry);
    expect_refused(everything, &w, "field \"counts[0].key\": string contains a NUL character");

    w.n = 0;
    put_message(&w, 15, &bad_item); /* oneof choice: choice_item */
    expect_refused(everything, &w,
                   "field \"choice_item.product_id\": string contains a NUL character");

    w.n = 0;
    put_bytes(&value, 3, "\xff", 1); /* google.protobuf.Value string_value */
    put_message(&w, 18, &value);
    expect_refused(everything, &w, "field \"extra.string_value\": string is not valid UTF-8");
}

static void strings_must_be_utf8(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xff",             /* never in UTF-8 */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong, 3 bytes */
        "\xed\xa0\x80",     /* a surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xe2\x82",         /* cut off */
        "a\x80"
        "b", /* a lone continuation byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct wire w = {{0}, 0};
        put_bytes(&w, 1, bad[i], strlen(bad[i]));
        expect_refused(&rpctest__echo_request__descriptor, &w,
                       "field \"text\": string is not valid UTF-8");
    }
    static const char *const good[] = {
        "", "plain", "h\xc3\xa9llo", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct wire w = {{0}, 0};
        core_err err = CORE_ERR_INIT;
        ProtobufCMessage *m = NULL;
        put_bytes(&w, 1, good[i], strlen(good[i]));
        assert_int_equal(pb_unpack(&rpctest__echo_request__descriptor, w.b, w.n, &m, &err),
                         CORE_OK);
        assert_string_equal(((Rpctest__EchoRequest *)m)->text, good[i]);
        pb_free(m);
    }
}

/* Bytes fields and unknown fields may hold anything: they are not text. */
static void bytes_and_unknown_fields_are_not_checked(void **state)
{
    (void)state;
    long live = core_alloc_live();
    struct wire w = {{0}, 0}, scalars = {{0}, 0};
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *m = NULL;
    put_bytes(&scalars, 15, "\0\xff", 2); /* Scalars.f_bytes */
    put_message(&w, 2, &scalars);
    put_bytes(&w, 9, "\0", 1);    /* repeated bytes blobs */
    put_bytes(&w, 99, "a\0b", 3); /* unknown to Everything */
    assert_int_equal(pb_unpack(&pbjsontest__everything__descriptor, w.b, w.n, &m, &err), CORE_OK);
    const Pbjsontest__Everything *e = (const void *)m;
    assert_int_equal(e->scalars->f_bytes.len, 2);
    assert_int_equal(e->n_blobs, 1);
    pb_free(m);
    assert_int_equal(core_alloc_live(), live);
}

/* Malformed data inside a nested message, and groups (which protobuf-c does not read). */
static void malformed_nested_data_and_groups_are_invalid(void **state)
{
    (void)state;
    struct wire w = {{0}, 0};
    const unsigned char cut[] = {0x0a, 0x05, 'p'}; /* Item.product_id: 5 bytes announced, 1 there */
    put_bytes(&w, 3, cut, sizeof cut);
    expect_refused(&pbjsontest__everything__descriptor, &w,
                   "malformed protobuf data for pbjsontest.Everything");
    w.n = 0;
    put_varint(&w, 1 << 3 | 3); /* start group 1 */
    put_varint(&w, 1 << 3 | 4); /* end group 1 */
    expect_refused(&rpctest__echo_request__descriptor, &w,
                   "malformed protobuf data for rpctest.EchoRequest");
    w.n = 0;
    put_varint(&w, 0 << 3 | 0); /* field number 0 */
    put_varint(&w, 1);
    expect_refused(&rpctest__echo_request__descriptor, &w,
                   "malformed protobuf data for rpctest.EchoRequest");
}

/* Everything.extra nested `levels` levels deep: a google.protobuf.Value holding a ListValue
 * holding a Value ... (Everything is level 0, each Value and each ListValue one more level;
 * Values are at the odd levels). The innermost message is a Value holding the string "x", or an
 * empty ListValue. Packed from the inside out, backwards into buf (size bytes); returns where the
 * data starts (it ends at buf + size). */
static unsigned char *nested_values(unsigned char *buf, size_t size, int levels)
{
    unsigned char *p = buf + size;
    size_t n;
    unsigned char len[10];
    if (levels % 2 == 1) {
        *--p = 'x';
        *--p = 1;
        *--p = 3 << 3 | 2; /* Value.string_value = "x" */
    }
    for (int level = levels; level >= 1; level--) {
        /* level 1 is Everything.extra (18); then ListValue.values (1) inside Value.list_value
         * (6), alternating */
        uint32_t number = level == 1 ? 18 : level % 2 == 0 ? 6 : 1;
        size_t inner = (size_t)(buf + size - p);
        for (n = 0; n == 0 || inner; inner >>= 7)
            len[n++] = (unsigned char)((inner & 0x7f) | (inner > 0x7f ? 0x80 : 0));
        assert_true((size_t)(p - buf) >= n + 2);
        p -= n;
        memcpy(p, len, n);
        if (number >= 16) {
            *--p = (unsigned char)(number >> 4);
            *--p = (unsigned char)((number & 0x0f) << 3 | 2 | 0x80);
        } else {
            *--p = (unsigned char)(number << 3 | 2);
        }
    }
    return p;
}

/* Nesting is bounded (protobuf-c itself would recurse once per level): PB_MAX_DEPTH levels (the
 * outermost message and PB_MAX_DEPTH - 1 below it) are read, one more is refused, and so is a
 * nesting as deep as a big body allows, without running out of stack. */
static void nesting_is_bounded(void **state)
{
    (void)state;
    long live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *m = NULL;
    size_t size = 400000 * 4 + 16;
    unsigned char *buf = core_malloc(size);
    assert_non_null(buf);

    const int deepest = PB_MAX_DEPTH - 1;
    unsigned char *p = nested_values(buf, size, deepest);
    assert_int_equal(
        pb_unpack(&pbjsontest__everything__descriptor, p, (size_t)(buf + size - p), &m, &err),
        CORE_OK);
    const Google__Protobuf__Value *v = ((const Pbjsontest__Everything *)m)->extra;
    int level = 1;
    for (; level + 2 <= deepest; level += 2)
        v = v->list_value->values[0];
    if (level == deepest) {
        assert_string_equal(v->string_value, "x");
    } else { /* the innermost level is an empty ListValue */
        assert_non_null(v->list_value);
        assert_int_equal(v->list_value->n_values, 0);
    }
    pb_free(m);
    m = NULL;

    p = nested_values(buf, size, deepest + 1);
    assert_int_equal(
        pb_unpack(&pbjsontest__everything__descriptor, p, (size_t)(buf + size - p), &m, &err),
        CORE_ERR_INVALID);
    assert_string_equal(
        err.msg, "protobuf data for pbjsontest.Everything nests messages deeper than 32 levels");
    assert_null(m);

    p = nested_values(buf, size, 400000 - 1);
    assert_int_equal(
        pb_unpack(&pbjsontest__everything__descriptor, p, (size_t)(buf + size - p), &m, &err),
        CORE_ERR_INVALID);
    assert_null(m);
    core_free(buf);
    assert_int_equal(core_alloc_live(), live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(heap_tree_round_trip_and_free),
        cmocka_unit_test(malformed_bytes_are_invalid),
        cmocka_unit_test(out_of_memory_is_reported),
        cmocka_unit_test(a_nul_in_a_string_is_refused_naming_the_field),
        cmocka_unit_test(strings_are_checked_at_every_depth),
        cmocka_unit_test(strings_must_be_utf8),
        cmocka_unit_test(bytes_and_unknown_fields_are_not_checked),
        cmocka_unit_test(malformed_nested_data_and_groups_are_invalid),
        cmocka_unit_test(nesting_is_bounded),
    };
    return cmocka_run_group_tests_name("pb", tests, NULL, NULL);
}
