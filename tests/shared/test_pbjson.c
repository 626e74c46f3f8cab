/* test_pbjson.c -- unit tests of pbjson.h: JSON <-> protobuf-c transcoding.
 *
 * Uses the messages of tests/shared/pbjson_test.proto (package pbjsontest). Every test checks
 * that core_alloc_live() is back where it started (no leaks), and the allocation-failure tests
 * make every allocation of a decode/encode fail in turn.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "pb.h"
#include "pbjson.h"
#include "pbjson_test.pb-c.h"

/* 2026-11-26T13:04:05Z */
#define TS_2026 INT64_C(1795698245)

/* ---- building messages by hand ----------------------------------------------------------------
 */

static char *dup(const char *s)
{
    char *p = core_strdup(s);
    assert_non_null(p);
    return p;
}

static void *array(size_t n, size_t size)
{
    void *p = core_calloc(n, size);
    assert_non_null(p);
    return p;
}

static ProtobufCBinaryData bytes_of(const void *data, size_t n)
{
    ProtobufCBinaryData b = {0, NULL};
    if (n > 0) {
        b.data = array(n, 1);
        memcpy(b.data, data, n);
        b.len = n;
    }
    return b;
}

static Pbjsontest__Item *item(const char *product_id, int32_t quantity, double price)
{
    Pbjsontest__Item *it = pb_new_of(pbjsontest__item);
    assert_non_null(it);
    it->product_id = dup(product_id);
    it->quantity = quantity;
    it->price = price;
    return it;
}

static Google__Protobuf__Timestamp *timestamp(int64_t seconds, int32_t nanos)
{
    Google__Protobuf__Timestamp *ts = pb_new_of(google__protobuf__timestamp);
    assert_non_null(ts);
    ts->seconds = seconds;
    ts->nanos = nanos;
    return ts;
}

static Google__Protobuf__Value *value_string(const char *s)
{
    Google__Protobuf__Value *v = pb_new_of(google__protobuf__value);
    assert_non_null(v);
    v->string_value = dup(s);
    v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
    return v;
}

static Google__Protobuf__Value *value_number(double d)
{
    Google__Protobuf__Value *v = pb_new_of(google__protobuf__value);
    assert_non_null(v);
    v->number_value = d;
    v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
    return v;
}

static Google__Protobuf__Value *value_bool(bool b)
{
    Google__Protobuf__Value *v = pb_new_of(google__protobuf__value);
    assert_non_null(v);
    v->bool_value = b;
    v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
    return v;
}

static Google__Protobuf__Value *value_null(void)
{
    Google__Protobuf__Value *v = pb_new_of(google__protobuf__value);
    assert_non_null(v);
    v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE;
    return v;
}

static Google__Protobuf__Struct__FieldsEntry *struct_entry(const char *key,
                                                           Google__Protobuf__Value *v)
{
    Google__Protobuf__Struct__FieldsEntry *e = pb_new_of(google__protobuf__struct__fields_entry);
    assert_non_null(e);
    e->key = dup(key);
    e->value = v;
    return e;
}

/* A message with every field set, many to values at the edge of their type. */
static Pbjsontest__Everything *build_everything(void)
{
    static const unsigned char raw[] = {0x00, 0xff, 0xfe, 'a'};
    Pbjsontest__Everything *e = pb_new_of(pbjsontest__everything);
    assert_non_null(e);
    e->id = dup("thing-1");

    Pbjsontest__Scalars *s = pb_new_of(pbjsontest__scalars);
    assert_non_null(s);
    s->f_double = 9.99;
    s->f_float = 1.1f;
    s->f_int32 = -42;
    s->f_int64 = INT64_C(-9000000000);
    s->f_uint32 = 4000000000u;
    s->f_uint64 = UINT64_MAX;
    s->f_sint32 = INT32_MIN;
    s->f_sint64 = INT64_MIN;
    s->f_fixed32 = 7;
    s->f_fixed64 = UINT64_C(1) << 60;
    s->f_sfixed32 = -7;
    s->f_sfixed64 = INT64_MAX;
    s->f_bool = 1;
    s->f_string = dup("h\xc3\xa9llo \"quoted\"\n\ttab \\ \x01");
    s->f_bytes = bytes_of(raw, sizeof raw);
    s->status = PBJSONTEST__STATUS__STATUS_ACTIVE;
    e->scalars = s;

    e->item = item("p-1", 3, 0.1);
    e->n_items = 2;
    e->items = array(2, sizeof *e->items);
    e->items[0] = item("p-2", 1, 49.99);
    e->items[1] = item("p-3", 10, 9.98);

    e->n_numbers = 3;
    e->numbers = array(3, sizeof *e->numbers);
    e->numbers[0] = 1;
    e->numbers[1] = -2;
    e->numbers[2] = INT32_MAX;

    e->n_tags = 2;
    e->tags = array(2, sizeof *e->tags);
    e->tags[0] = dup("a");
    e->tags[1] = dup("b c");

    e->n_big_numbers = 2;
    e->big_numbers = array(2, sizeof *e->big_numbers);
    e->big_numbers[0] = INT64_MIN;
    e->big_numbers[1] = 5;

    e->n_statuses = 2;
    e->statuses = array(2, sizeof *e->statuses);
    e->statuses[0] = PBJSONTEST__STATUS__STATUS_ACTIVE;
    e->statuses[1] = PBJSONTEST__STATUS__STATUS_RETIRED;

    e->n_blobs = 2;
    e->blobs = array(2, sizeof *e->blobs);
    e->blobs[0] = bytes_of("hello world", 11);
    e->blobs[1] = bytes_of(NULL, 0);

    e->n_counts = 2;
    e->counts = array(2, sizeof *e->counts);
    for (int i = 0; i < 2; i++) {
        e->counts[i] = pb_new_of(pbjsontest__everything__counts_entry);
        assert_non_null(e->counts[i]);
        e->counts[i]->key = dup(i == 0 ? "a" : "b");
        e->counts[i]->value = i == 0 ? 1 : -1;
    }

    e->n_items_by_id = 2;
    e->items_by_id = array(2, sizeof *e->items_by_id);
    for (int i = 0; i < 2; i++) {
        e->items_by_id[i] = pb_new_of(pbjsontest__everything__items_by_id_entry);
        assert_non_null(e->items_by_id[i]);
        e->items_by_id[i]->key = i == 0 ? 7 : -3;
        e->items_by_id[i]->value = item(i == 0 ? "p-7" : "p-m3", i + 1, 1.5);
    }

    e->n_flags = 2;
    e->flags = array(2, sizeof *e->flags);
    for (int i = 0; i < 2; i++) {
        e->flags[i] = pb_new_of(pbjsontest__everything__flags_entry);
        assert_non_null(e->flags[i]);
        e->flags[i]->key = i == 0;
        e->flags[i]->value = dup(i == 0 ? "yes" : "no");
    }

    e->choice_item = item("p-choice", 2, 0);
    e->choice_case = PBJSONTEST__EVERYTHING__CHOICE_CHOICE_ITEM;

    e->created_at = timestamp(TS_2026, 123000000);

    Google__Protobuf__Struct *inner = pb_new_of(google__protobuf__struct);
    assert_non_null(inner);
    inner->n_fields = 1;
    inner->fields = array(1, sizeof *inner->fields);
    inner->fields[0] = struct_entry("k", value_bool(false));
    Google__Protobuf__ListValue *l = pb_new_of(google__protobuf__list_value);
    assert_non_null(l);
    l->n_values = 2;
    l->values = array(2, sizeof *l->values);
    l->values[0] = value_bool(true);
    l->values[1] = value_null();
    Google__Protobuf__Value *vl = pb_new_of(google__protobuf__value);
    assert_non_null(vl);
    vl->list_value = l;
    vl->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
    Google__Protobuf__Value *vs = pb_new_of(google__protobuf__value);
    assert_non_null(vs);
    vs->struct_value = inner;
    vs->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
    Google__Protobuf__Struct *md = pb_new_of(google__protobuf__struct);
    assert_non_null(md);
    md->n_fields = 4;
    md->fields = array(4, sizeof *md->fields);
    md->fields[0] = struct_entry("name", value_string("x"));
    md->fields[1] = struct_entry("n", value_number(2.5));
    md->fields[2] = struct_entry("list", vl);
    md->fields[3] = struct_entry("obj", vs);
    e->metadata = md;

    e->extra = value_number(42);

    Google__Protobuf__ListValue *lv = pb_new_of(google__protobuf__list_value);
    assert_non_null(lv);
    lv->n_values = 2;
    lv->values = array(2, sizeof *lv->values);
    lv->values[0] = value_string("s");
    lv->values[1] = value_number(1);
    e->list = lv;

    e->n_times = 2;
    e->times = array(2, sizeof *e->times);
    e->times[0] = timestamp(0, 0);
    e->times[1] = timestamp(-1, 1);

    e->n_doubles = 4;
    e->doubles = array(4, sizeof *e->doubles);
    e->doubles[0] = NAN;
    e->doubles[1] = INFINITY;
    e->doubles[2] = -INFINITY;
    e->doubles[3] = 0.1;

    e->n_floats = 2;
    e->floats = array(2, sizeof *e->floats);
    e->floats[0] = 1.5f;
    e->floats[1] = -0.25f;

    e->n_values = 1;
    e->values = array(1, sizeof *e->values);
    e->values[0] = pb_new_of(pbjsontest__everything__values_entry);
    assert_non_null(e->values[0]);
    e->values[0]->key = dup("v");
    e->values[0]->value = value_string("x");
    return e;
}

/* ---- helpers ----------------------------------------------------------------------------------
 */

static void assert_same_bytes(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    unsigned char *pa = NULL, *pb = NULL;
    size_t la = 0, lb = 0;
    assert_int_equal(pb_pack(a, &pa, &la, NULL), CORE_OK);
    assert_int_equal(pb_pack(b, &pb, &lb, NULL), CORE_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(pa, pb, la);
    core_free(pa);
    core_free(pb);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, haystack);
}

/* Decodes text as desc; expects CORE_ERR_INVALID with want in the message, no output, no leak. */
static void assert_decode_fails(const ProtobufCMessageDescriptor *desc, const char *text,
                                const char *want)
{
    long live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *out = NULL;
    core_status st = pbjson_decode(desc, text, strlen(text), &out, &err);
    if (st != CORE_ERR_INVALID)
        fail_msg("decoding %s: status %d (%s), expected CORE_ERR_INVALID with \"%s\"", text, st,
                 err.msg, want);
    assert_null(out);
    assert_contains(err.msg, want);
    assert_int_equal(core_alloc_live(), live);
}

static ProtobufCMessage *decode_ok(const ProtobufCMessageDescriptor *desc, const char *text)
{
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *out = NULL;
    if (pbjson_decode(desc, text, strlen(text), &out, &err) != CORE_OK)
        fail_msg("decoding %s: %s", text, err.msg);
    assert_non_null(out);
    return out;
}

static char *encode_ok(const ProtobufCMessage *msg)
{
    core_err err = CORE_ERR_INIT;
    char *text = NULL;
    if (pbjson_encode(msg, &text, &err) != CORE_OK)
        fail_msg("encoding: %s", err.msg);
    assert_non_null(text);
    return text;
}

/* ---- tests ------------------------------------------------------------------------------------
 */

static void everything_round_trips_through_text_and_json_t(void **state)
{
    (void)state;
    long live = core_alloc_live();
    Pbjsontest__Everything *e = build_everything();

    char *text = encode_ok(&e->base);
    ProtobufCMessage *back = decode_ok(&pbjsontest__everything__descriptor, text);
    assert_same_bytes(&e->base, back);
    /* and the text of the copy is the same text */
    char *text2 = encode_ok(back);
    assert_string_equal(text, text2);

    json_t *j = NULL;
    ProtobufCMessage *back2 = NULL;
    assert_int_equal(pbjson_to_json(&e->base, &j, NULL), CORE_OK);
    assert_int_equal(pbjson_from_json(&pbjsontest__everything__descriptor, j, &back2, NULL),
                     CORE_OK);
    assert_same_bytes(&e->base, back2);

    json_decref(j);
    pb_free(back2);
    core_free(text2);
    pb_free(back);
    core_free(text);
    pb_free(&e->base);
    assert_int_equal(core_alloc_live(), live);
}

static void output_follows_grpc_gateway_conventions(void **state)
{
    (void)state;
    long live = core_alloc_live();
    Pbjsontest__Everything *e = build_everything();
    char *text = encode_ok(&e->base);

    const char *start =
        "{\"id\":\"thing-1\",\"scalars\":{\"fDouble\":9.99,\"fFloat\":1.1,\"fInt32\":-42,";
    assert_int_equal(strncmp(text, start, strlen(start)), 0);
    assert_contains(
        text,
        "\"fInt64\":\"-9000000000\",\"fUint32\":4000000000,\"fUint64\":\"18446744073709551615\"");
    assert_contains(text,
                    "\"fSint32\":-2147483648,\"fSint64\":\"-9223372036854775808\",\"fFixed32\":7,"
                    "\"fFixed64\":\"1152921504606846976\",\"fSfixed32\":-7,\"fSfixed64\":"
                    "\"9223372036854775807\"");
    assert_contains(
        text, "\"fBool\":true,\"fString\":\"h\xc3\xa9llo \\\"quoted\\\"\\n\\ttab \\\\ \\u0001\"");
    assert_contains(text, "\"fBytes\":\"AP/+YQ==\",\"status\":\"STATUS_ACTIVE\"}");
    assert_contains(text, "\"item\":{\"productId\":\"p-1\",\"quantity\":3,\"price\":0.1}");
    assert_contains(text, "\"items\":[{\"productId\":\"p-2\",\"quantity\":1,\"price\":49.99},"
                          "{\"productId\":\"p-3\",\"quantity\":10,\"price\":9.98}]");
    assert_contains(text, "\"numbers\":[1,-2,2147483647],\"tags\":[\"a\",\"b c\"]");
    assert_contains(text, "\"bigNumbers\":[\"-9223372036854775808\",\"5\"]");
    assert_contains(text, "\"statuses\":[\"STATUS_ACTIVE\",\"STATUS_RETIRED\"]");
    assert_contains(text, "\"blobs\":[\"aGVsbG8gd29ybGQ=\",\"\"]");
    assert_contains(text, "\"counts\":{\"a\":1,\"b\":-1}");
    assert_contains(
        text, "\"itemsById\":{\"7\":{\"productId\":\"p-7\",\"quantity\":1,\"price\":1.5},\"-3\":{");
    assert_contains(text, "\"flags\":{\"true\":\"yes\",\"false\":\"no\"}");
    assert_contains(text, "\"choiceItem\":{\"productId\":\"p-choice\",\"quantity\":2,\"price\":0}");
    assert_null(strstr(text, "choiceText"));
    assert_null(strstr(text, "choiceNumber"));
    assert_contains(text, "\"createdAt\":\"2026-11-26T13:04:05.123Z\"");
    assert_contains(
        text, "\"metadata\":{\"name\":\"x\",\"n\":2.5,\"list\":[true,null],\"obj\":{\"k\":false}}");
    assert_contains(text, "\"extra\":42,\"list\":[\"s\",1]");
    assert_contains(text,
                    "\"times\":[\"1970-01-01T00:00:00Z\",\"1969-12-31T23:59:59.000000001Z\"]");
    assert_contains(text,
                    "\"doubles\":[\"NaN\",\"Infinity\",\"-Infinity\",0.1],\"floats\":[1.5,-0.25]");
    assert_contains(text, "\"values\":{\"v\":\"x\"}}");

    core_free(text);
    pb_free(&e->base);
    assert_int_equal(core_alloc_live(), live);
}

static void unpopulated_fields_are_emitted_with_defaults(void **state)
{
    (void)state;
    long live = core_alloc_live();
    ProtobufCMessage *e = pb_new(&pbjsontest__everything__descriptor);
    ProtobufCMessage *s = pb_new(&pbjsontest__scalars__descriptor);
    assert_non_null(e);
    assert_non_null(s);
    char *text = encode_ok(e);
    assert_string_equal(
        text, "{\"id\":\"\",\"scalars\":null,\"item\":null,\"items\":[],\"numbers\":[],\"tags\":[],"
              "\"bigNumbers\":[],\"statuses\":[],\"blobs\":[],\"counts\":{},\"itemsById\":{},"
              "\"flags\":{},\"createdAt\":null,\"metadata\":null,\"extra\":null,\"list\":null,"
              "\"times\":[],\"doubles\":[],\"floats\":[],\"values\":{}}");
    core_free(text);
    text = encode_ok(s);
    assert_string_equal(
        text,
        "{\"fDouble\":0,\"fFloat\":0,\"fInt32\":0,\"fInt64\":\"0\",\"fUint32\":0,"
        "\"fUint64\":\"0\",\"fSint32\":0,\"fSint64\":\"0\",\"fFixed32\":0,\"fFixed64\":\"0\","
        "\"fSfixed32\":0,\"fSfixed64\":\"0\",\"fBool\":false,\"fString\":\"\",\"fBytes\":\"\","
        "\"status\":\"STATUS_UNKNOWN\"}");
    core_free(text);
    /* an enum number without a name is written as the number */
    ((Pbjsontest__Scalars *)s)->status = 42;
    text = encode_ok(s);
    assert_contains(text, "\"status\":42}");
    core_free(text);
    pb_free(s);
    pb_free(e);
    assert_int_equal(core_alloc_live(), live);
}

static void snake_and_camel_names_are_both_accepted(void **state)
{
    (void)state;
    long live = core_alloc_live();
    Pbjsontest__Everything *a = (Pbjsontest__Everything *)decode_ok(
        &pbjsontest__everything__descriptor,
        "{\"id\":\"x\",\"scalars\":{\"f_int64\":\"5\",\"f_uint32\":7,\"f_bool\":true},"
        "\"items_by_id\":{\"1\":{\"product_id\":\"p\"}},\"created_at\":\"2026-11-26T13:04:05Z\","
        "\"big_numbers\":[1,\"2\"],\"choice_text\":\"t\"}");
    Pbjsontest__Everything *b = (Pbjsontest__Everything *)decode_ok(
        &pbjsontest__everything__descriptor,
        "{\"id\":\"x\",\"scalars\":{\"fInt64\":5,\"fUint32\":\"7\",\"fBool\":true},"
        "\"itemsById\":{\"1\":{\"productId\":\"p\"}},\"createdAt\":\"2026-11-26T14:04:05+01:00\","
        "\"bigNumbers\":[\"1\",2],\"choiceText\":\"t\"}");
    assert_int_equal(a->scalars->f_int64, 5);
    assert_int_equal(a->scalars->f_uint32, 7);
    assert_int_equal(a->n_items_by_id, 1);
    assert_int_equal(a->items_by_id[0]->key, 1);
    assert_string_equal(a->items_by_id[0]->value->product_id, "p");
    assert_int_equal(a->created_at->seconds, TS_2026);
    assert_int_equal(a->choice_case, PBJSONTEST__EVERYTHING__CHOICE_CHOICE_TEXT);
    assert_string_equal(a->choice_text, "t");
    assert_same_bytes(&a->base, &b->base);
    pb_free(&a->base);
    pb_free(&b->base);
    assert_int_equal(core_alloc_live(), live);
}

static void integers_accept_numbers_and_strings(void **state)
{
    (void)state;
    long live = core_alloc_live();
    Pbjsontest__Scalars *s = (Pbjsontest__Scalars *)decode_ok(
        &pbjsontest__scalars__descriptor,
        "{\"fInt32\":\"-2147483648\",\"fInt64\":\"-9223372036854775808\",\"fUint64\":"
        "\"18446744073709551615\","
        "\"fUint32\":4294967295,\"fSint64\":9223372036854775807,\"fFixed64\":\"0\",\"fSfixed32\":5."
        "0,"
        "\"fSint32\":1e2,\"fFixed32\":\"7e1\"}");
    assert_int_equal(s->f_int32, INT32_MIN);
    assert_true(s->f_int64 == INT64_MIN);
    assert_true(s->f_uint64 == UINT64_MAX);
    assert_int_equal(s->f_uint32, UINT32_MAX);
    assert_true(s->f_sint64 == INT64_MAX);
    assert_int_equal(s->f_sfixed32, 5);
    assert_int_equal(s->f_sint32, 100);
    assert_int_equal(s->f_fixed32, 70);
    pb_free(&s->base);
    assert_int_equal(core_alloc_live(), live);
}

static void enums_by_name_and_number(void **state)
{
    (void)state;
    long live = core_alloc_live();
    Pbjsontest__Everything *e = (Pbjsontest__Everything *)decode_ok(
        &pbjsontest__everything__descriptor,
        "{\"scalars\":{\"status\":2},\"statuses\":[\"STATUS_ACTIVE\",0,\"STATUS_RETIRED\"]}");
    assert_int_equal(e->scalars->status, PBJSONTEST__STATUS__STATUS_RETIRED);
    assert_int_equal(e->n_statuses, 3);
    assert_int_equal(e->statuses[0], PBJSONTEST__STATUS__STATUS_ACTIVE);
    assert_int_equal(e->statuses[1], PBJSONTEST__STATUS__STATUS_UNKNOWN);
    assert_int_equal(e->statuses[2], PBJSONTEST__STATUS__STATUS_RETIRED);
    char *text = encode_ok(&e->base);
    assert_contains(text, "\"statuses\":[\"STATUS_ACTIVE\",\"STATUS_UNKNOWN\",\"STATUS_RETIRED\"]");
    core_free(text);
    pb_free(&e->base);
    assert_int_equal(core_alloc_live(), live);
}

static void timestamps_are_rfc3339_both_ways(void **state)
{
    (void)state;
    long live = core_alloc_live();
    static const struct {
        const char *in;
        int64_t seconds;
        int32_t nanos;
        const char *out;
    } cases[] = {
        {"2026-11-26T13:04:05Z", TS_2026, 0, "2026-11-26T13:04:05Z"},
        {"2026-11-26T14:04:05+01:00", TS_2026, 0, "2026-11-26T13:04:05Z"},
        {"2026-11-26T08:34:05.5-04:30", TS_2026, 500000000, "2026-11-26T13:04:05.500Z"},
        {"2026-11-26t13:04:05.123456z", TS_2026, 123456000, "2026-11-26T13:04:05.123456Z"},
        {"2026-11-26T13:04:05.000000001Z", TS_2026, 1, "2026-11-26T13:04:05.000000001Z"},
        {"1970-01-01T00:00:00Z", 0, 0, "1970-01-01T00:00:00Z"},
        {"1969-12-31T23:59:59.999Z", -1, 999000000, "1969-12-31T23:59:59.999Z"},
        {"2024-02-29T00:00:00Z", INT64_C(1709164800), 0, "2024-02-29T00:00:00Z"},
        {"0001-01-01T00:00:00Z", INT64_C(-62135596800), 0, "0001-01-01T00:00:00Z"},
        {"9999-12-31T23:59:59.999999999Z", INT64_C(253402300799), 999999999,
         "9999-12-31T23:59:59.999999999Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[128];
        snprintf(json, sizeof json, "{\"createdAt\":\"%s\"}", cases[i].in);
        Pbjsontest__Everything *e =
            (Pbjsontest__Everything *)decode_ok(&pbjsontest__everything__descriptor, json);
        assert_non_null(e->created_at);
        assert_true(e->created_at->seconds == cases[i].seconds);
        assert_int_equal(e->created_at->nanos, cases[i].nanos);
        char buf[PBJSON_TIMESTAMP_MAX];
        assert_int_equal(pbjson_timestamp_format(cases[i].seconds, cases[i].nanos, buf, NULL),
                         CORE_OK);
        assert_string_equal(buf, cases[i].out);
        char *text = encode_ok(&e->base);
        char want[80];
        snprintf(want, sizeof want, "\"createdAt\":\"%s\"", cases[i].out);
        assert_contains(text, want);
        core_free(text);
        pb_free(&e->base);
    }
    static const char *const bad[] = {
        "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2026-11-26T24:00:00Z",
        "2026-11-26T13:04:60Z",
        "2026-11-26T13:04:05",
        "2026-11-26 13:04:05Z",
        "2026-11-26T13:04:05.Z",
        "2026-11-26T13:04:05.1234567891Z",
        "2026-11-26T13:04:05+0100",
        "0000-01-01T00:00:00Z",
        "yesterday",
        "2026-11-26T13:04:05Zjunk",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char json[128];
        snprintf(json, sizeof json, "{\"createdAt\":\"%s\"}", bad[i]);
        assert_decode_fails(&pbjsontest__everything__descriptor, json,
                            "field \"createdAt\": invalid timestamp");
        int64_t secs;
        int32_t nanos;
        core_err err = CORE_ERR_INIT;
        assert_int_equal(pbjson_timestamp_parse(bad[i], &secs, &nanos, &err), CORE_ERR_INVALID);
        assert_contains(err.msg, "want RFC 3339");
    }
    assert_decode_fails(&pbjsontest__everything__descriptor, "{\"createdAt\":5}",
                        "field \"createdAt\": expected an RFC 3339 timestamp string, got a number");
    char buf[PBJSON_TIMESTAMP_MAX];
    core_err err = CORE_ERR_INIT;
    assert_int_equal(pbjson_timestamp_format(INT64_C(253402300800), 0, buf, &err),
                     CORE_ERR_INVALID);
    assert_int_equal(pbjson_timestamp_format(0, 1000000000, buf, &err), CORE_ERR_INVALID);
    assert_int_equal(pbjson_timestamp_format(0, -1, buf, &err), CORE_ERR_INVALID);
    assert_int_equal(core_alloc_live(), live);
}

static void floats_doubles_and_special_values(void **state)
{
    (void)state;
    long live = core_alloc_live();
    Pbjsontest__Everything *e =
        (Pbjsontest__Everything *)decode_ok(&pbjsontest__everything__descriptor,
                                            "{\"doubles\":[\"NaN\",\"Infinity\",\"-Infinity\",\"2."
                                            "5\",3,1e300],\"floats\":[0.1,\"NaN\",3.4028235e38],"
                                            "\"scalars\":{\"fDouble\":-0.000001,\"fFloat\":9.99}}");
    assert_int_equal(e->n_doubles, 6);
    assert_true(isnan(e->doubles[0]));
    assert_true(isinf(e->doubles[1]) && e->doubles[1] > 0);
    assert_true(isinf(e->doubles[2]) && e->doubles[2] < 0);
    assert_true(e->doubles[3] == 2.5);
    assert_true(e->doubles[4] == 3.0);
    assert_true(e->doubles[5] == 1e300);
    assert_true(e->floats[0] == 0.1f);
    assert_true(isnan(e->floats[1]));
    assert_true(e->floats[2] == FLT_MAX);
    char *text = encode_ok(&e->base);
    assert_contains(text, "\"fDouble\":-0.000001,\"fFloat\":9.99,");
    assert_contains(text, "\"doubles\":[\"NaN\",\"Infinity\",\"-Infinity\",2.5,3,1e+300]");
    assert_contains(text, "\"floats\":[0.1,\"NaN\",3.4028235e+38]");
    core_free(text);
    pb_free(&e->base);
    assert_decode_fails(&pbjsontest__scalars__descriptor, "{\"fFloat\":1e39}",
                        "field \"fFloat\": 1e+39 out of range for float");
    assert_decode_fails(&pbjsontest__scalars__descriptor, "{\"fDouble\":\"1e999\"}",
                        "1e999 out of range for double");
    assert_decode_fails(&pbjsontest__scalars__descriptor, "{\"fDouble\":\"nan\"}",
                        "field \"fDouble\": expected a number, got a string");
    assert_decode_fails(&pbjsontest__scalars__descriptor, "{\"fDouble\":true}",
                        "expected a number, got a boolean");
    assert_int_equal(core_alloc_live(), live);
}

static void bytes_accept_both_base64_alphabets(void **state)
{
    (void)state;
    long live = core_alloc_live();
    static const char *const inputs[] = {"+/+/", "-_-_", "AP/+YQ==", "AP_-YQ", "AP/+YQ", ""};
    static const size_t lens[] = {3, 3, 4, 4, 4, 0};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"fBytes\":\"%s\"}", inputs[i]);
        Pbjsontest__Scalars *s =
            (Pbjsontest__Scalars *)decode_ok(&pbjsontest__scalars__descriptor, json);
        assert_int_equal(s->f_bytes.len, lens[i]);
        if (i < 2)
            assert_memory_equal(s->f_bytes.data, "\xfb\xff\xbf", 3);
        if (i >= 2 && i < 5)
            assert_memory_equal(s->f_bytes.data,
                                "\x00\xff\xfe"
                                "a",
                                4);
        pb_free(&s->base);
    }
    static const char *const bad[] = {"A", "AP/+YQ=", "AP/+Y===", "AP/+YQ==x", "a b=", "Zm9v!"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"fBytes\":\"%s\"}", bad[i]);
        assert_decode_fails(&pbjsontest__scalars__descriptor, json,
                            "field \"fBytes\": invalid base64 data");
    }
    assert_decode_fails(&pbjsontest__scalars__descriptor, "{\"fBytes\":[1]}",
                        "expected a base64 string, got an array");
    assert_int_equal(core_alloc_live(), live);
}

static void struct_value_and_list_are_plain_json(void **state)
{
    (void)state;
    long live = core_alloc_live();
    const char *in =
        "{\"metadata\":{\"a\":1,\"b\":[true,null,\"x\",{\"c\":[]}],\"d\":{\"e\":null},\"f\":-2.5},"
        "\"extra\":[1,\"two\"],\"list\":[{},null],\"values\":{\"n\":null,\"s\":\"t\"}}";
    Pbjsontest__Everything *e =
        (Pbjsontest__Everything *)decode_ok(&pbjsontest__everything__descriptor, in);
    assert_int_equal(e->metadata->n_fields, 4);
    assert_string_equal(e->metadata->fields[0]->key, "a");
    assert_int_equal(e->metadata->fields[0]->value->kind_case,
                     GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE);
    assert_true(e->metadata->fields[0]->value->number_value == 1.0);
    assert_int_equal(e->metadata->fields[1]->value->list_value->values[1]->kind_case,
                     GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE);
    assert_int_equal(e->extra->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE);
    assert_int_equal(e->values[0]->value->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE);
    char *text = encode_ok(&e->base);
    assert_contains(
        text,
        "\"metadata\":{\"a\":1,\"b\":[true,null,\"x\",{\"c\":[]}],\"d\":{\"e\":null},\"f\":-2.5},"
        "\"extra\":[1,\"two\"],\"list\":[{},null]");
    assert_contains(text, "\"values\":{\"n\":null,\"s\":\"t\"}");
    core_free(text);
    pb_free(&e->base);

    /* a Struct is an object, a ListValue an array */
    assert_decode_fails(&pbjsontest__everything__descriptor, "{\"metadata\":[1]}",
                        "field \"metadata\": expected an object, got an array");
    assert_decode_fails(&pbjsontest__everything__descriptor, "{\"list\":{}}",
                        "field \"list\": expected an array, got an object");

    /* a Value holding NaN cannot be written */
    Pbjsontest__Everything *bad = pb_new_of(pbjsontest__everything);
    assert_non_null(bad);
    bad->extra = value_number(NAN);
    core_err err = CORE_ERR_INIT;
    char *out = NULL;
    assert_int_equal(pbjson_encode(&bad->base, &out, &err), CORE_ERR_INVALID);
    assert_null(out);
    assert_contains(err.msg, "field \"extra\": a google.protobuf.Value cannot hold NaN");
    pb_free(&bad->base);
    assert_int_equal(core_alloc_live(), live);
}

static void maps_convert_keys(void **state)
{
    (void)state;
    long live = core_alloc_live();
    Pbjsontest__Everything *e = (Pbjsontest__Everything *)decode_ok(
        &pbjsontest__everything__descriptor, "{\"counts\":{\"x\":1,\"y\":\"2\"},\"itemsById\":{\"-"
                                             "9223372036854775808\":{\"quantity\":4}},"
                                             "\"flags\":{\"true\":\"on\",\"false\":\"off\"}}");
    assert_int_equal(e->n_counts, 2);
    assert_string_equal(e->counts[1]->key, "y");
    assert_int_equal(e->counts[1]->value, 2);
    assert_true(e->items_by_id[0]->key == INT64_MIN);
    assert_int_equal(e->items_by_id[0]->value->quantity, 4);
    assert_true(e->flags[0]->key);
    assert_false(e->flags[1]->key);
    assert_string_equal(e->flags[1]->value, "off");
    pb_free(&e->base);

    assert_decode_fails(&pbjsontest__everything__descriptor, "{\"itemsById\":{\"x\":{}}}",
                        "field \"itemsById[x]\": \"x\" is not an integer");
    assert_decode_fails(&pbjsontest__everything__descriptor, "{\"flags\":{\"yes\":\"a\"}}",
                        "field \"flags[yes]\": \"yes\" is not a boolean");
    assert_decode_fails(&pbjsontest__everything__descriptor, "{\"counts\":{\"a\":null}}",
                        "field \"counts[a]\": null is not allowed as a map value");
    assert_decode_fails(&pbjsontest__everything__descriptor, "{\"counts\":{\"a\":1.5}}",
                        "field \"counts[a]\": 1.5 is not an integer");
    /* list indexes in the path, of more than one digit, and a field of a listed message */
    assert_decode_fails(&pbjsontest__everything__descriptor,
                        "{\"numbers\":[0,1,2,3,4,5,6,7,8,9,10,11,\"x\"]}",
                        "field \"numbers[12]\": ");
    assert_decode_fails(&pbjsontest__everything__descriptor,
                        "{\"items\":[{},{\"quantity\":\"many\"}]}",
                        "field \"items[1].quantity\": ");
    assert_decode_fails(&pbjsontest__everything__descriptor, "{\"counts\":[]}",
                        "field \"counts\": expected an object, got an array");
    assert_decode_fails(&pbjsontest__everything__descriptor,
                        "{\"itemsById\":{\"1\":{\"bogus\":1}}}",
                        "unknown field \"itemsById[1].bogus\" in pbjsontest.Item");

    /* an entry whose message value is missing stands for the empty message */
    Pbjsontest__Everything *m = pb_new_of(pbjsontest__everything);
    assert_non_null(m);
    m->n_items_by_id = 1;
    m->items_by_id = array(1, sizeof *m->items_by_id);
    m->items_by_id[0] = pb_new_of(pbjsontest__everything__items_by_id_entry);
    assert_non_null(m->items_by_id[0]);
    m->items_by_id[0]->key = 3;
    char *text = encode_ok(&m->base);
    assert_contains(text, "\"itemsById\":{\"3\":{\"productId\":\"\",\"quantity\":0,\"price\":0}}");
    core_free(text);
    pb_free(&m->base);
    assert_int_equal(core_alloc_live(), live);
}

static void oneof_emits_only_the_member_set(void **state)
{
    (void)state;
    long live = core_alloc_live();
    Pbjsontest__Everything *e = (Pbjsontest__Everything *)decode_ok(
        &pbjsontest__everything__descriptor, "{\"choiceNumber\":5,\"choiceText\":null}");
    assert_int_equal(e->choice_case, PBJSONTEST__EVERYTHING__CHOICE_CHOICE_NUMBER);
    assert_int_equal(e->choice_number, 5);
    char *text = encode_ok(&e->base);
    assert_contains(text, "\"choiceNumber\":5,");
    assert_null(strstr(text, "choiceText"));
    assert_null(strstr(text, "choiceItem"));
    core_free(text);
    pb_free(&e->base);
    assert_decode_fails(&pbjsontest__everything__descriptor,
                        "{\"choiceText\":\"a\",\"choice_number\":1}",
                        "field \"choice_number\": only one member of a oneof may be set, and "
                        "\"choiceText\" is set too");
    assert_decode_fails(&pbjsontest__everything__descriptor,
                        "{\"choiceItem\":{},\"choiceText\":\"a\"}", "only one member of a oneof");
    assert_int_equal(core_alloc_live(), live);
}

static void bad_input_names_the_problem(void **state)
{
    (void)state;
    static const struct {
        const ProtobufCMessageDescriptor *desc;
        const char *json;
        const char *want;
    } cases[] = {
        {&pbjsontest__item__descriptor, "{\"customerID\":\"x\"}",
         "unknown field \"customerID\" in pbjsontest.Item"},
        {&pbjsontest__item__descriptor, "{\"quantity\":\"abc\"}",
         "field \"quantity\": expected an integer, got a string"},
        {&pbjsontest__item__descriptor, "{\"quantity\":3.5}",
         "field \"quantity\": 3.5 is not an integer"},
        {&pbjsontest__item__descriptor, "{\"quantity\":\"3.5\"}",
         "field \"quantity\": 3.5 is not an integer"},
        {&pbjsontest__item__descriptor, "{\"quantity\":99999999999}",
         "field \"quantity\": 99999999999 out of range for int32"},
        {&pbjsontest__item__descriptor, "{\"quantity\":\"99999999999\"}",
         "field \"quantity\": 99999999999 out of range for int32"},
        {&pbjsontest__item__descriptor, "{\"quantity\":1e10}",
         "field \"quantity\": 10000000000 out of range for int32"},
        {&pbjsontest__item__descriptor, "{\"quantity\":true}",
         "field \"quantity\": expected an integer, got a boolean"},
        {&pbjsontest__item__descriptor, "{\"quantity\":[1]}",
         "field \"quantity\": expected an integer, got an array"},
        {&pbjsontest__item__descriptor, "{\"quantity\":{}}",
         "field \"quantity\": expected an integer, got an object"},
        {&pbjsontest__item__descriptor, "{\"quantity\":\" 5\"}",
         "field \"quantity\": expected an integer, got a string"},
        {&pbjsontest__item__descriptor, "{\"productId\":5}",
         "field \"productId\": expected a string, got a number"},
        {&pbjsontest__item__descriptor, "{\"product_id\":\"a\",\"productId\":\"b\"}",
         "field \"productId\": given twice"},
        {&pbjsontest__scalars__descriptor, "{\"status\":\"FOO\"}",
         "field \"status\": unknown enum value \"FOO\" for pbjsontest.Status"},
        {&pbjsontest__scalars__descriptor, "{\"status\":7}",
         "field \"status\": unknown enum value 7 for pbjsontest.Status"},
        {&pbjsontest__scalars__descriptor, "{\"status\":\"1\"}",
         "unknown enum value \"1\" for pbjsontest.Status"},
        {&pbjsontest__scalars__descriptor, "{\"status\":true}",
         "field \"status\": expected an enum name or number, got a boolean"},
        {&pbjsontest__scalars__descriptor, "{\"fUint32\":-1}",
         "field \"fUint32\": -1 out of range for uint32"},
        {&pbjsontest__scalars__descriptor, "{\"fUint64\":\"-1\"}",
         "field \"fUint64\": -1 out of range for uint64"},
        {&pbjsontest__scalars__descriptor, "{\"fInt64\":\"99999999999999999999\"}",
         "99999999999999999999 out of range for int64"},
        {&pbjsontest__scalars__descriptor, "{\"fUint64\":\"18446744073709551616\"}",
         "out of range for uint64"},
        {&pbjsontest__scalars__descriptor, "{\"fSfixed64\":1e19}",
         "field \"fSfixed64\": 1e+19 out of range for sfixed64"},
        {&pbjsontest__scalars__descriptor, "{\"fBool\":\"true\"}",
         "field \"fBool\": expected a boolean, got a string"},
        {&pbjsontest__scalars__descriptor, "{\"fBool\":1}",
         "field \"fBool\": expected a boolean, got a number"},
        {&pbjsontest__everything__descriptor, "{\"items\":[{},{\"quantity\":\"x\"}]}",
         "field \"items[1].quantity\": expected an integer, got a string"},
        {&pbjsontest__everything__descriptor, "{\"items\":[{},{\"quantity\":2.5}]}",
         "field \"items[1].quantity\": 2.5 is not an integer"},
        {&pbjsontest__everything__descriptor, "{\"item\":{\"foo\":1}}",
         "unknown field \"item.foo\" in pbjsontest.Item"},
        {&pbjsontest__everything__descriptor, "{\"items\":[{\"foo\":1}]}",
         "unknown field \"items[0].foo\" in pbjsontest.Item"},
        {&pbjsontest__everything__descriptor, "{\"scalars\":{\"fInt32\":\"x\"}}",
         "field \"scalars.fInt32\": expected an integer"},
        {&pbjsontest__everything__descriptor, "{\"numbers\":[1,\"x\"]}",
         "field \"numbers[1]\": expected an integer, got a string"},
        {&pbjsontest__everything__descriptor, "{\"tags\":[\"a\",2]}",
         "field \"tags[1]\": expected a string, got a number"},
        {&pbjsontest__everything__descriptor, "{\"tags\":[null]}",
         "field \"tags[0]\": null is not allowed in a list"},
        {&pbjsontest__everything__descriptor, "{\"numbers\":5}",
         "field \"numbers\": expected an array, got a number"},
        {&pbjsontest__everything__descriptor, "{\"items\":{}}",
         "field \"items\": expected an array, got an object"},
        {&pbjsontest__everything__descriptor, "{\"item\":\"x\"}",
         "field \"item\": expected an object, got a string"},
        {&pbjsontest__everything__descriptor, "{\"items\":[\"x\"]}",
         "field \"items[0]\": expected an object, got a string"},
        {&pbjsontest__everything__descriptor, "{\"statuses\":[\"STATUS_ACTIVE\",\"NOPE\"]}",
         "field \"statuses[1]\": unknown enum value \"NOPE\""},
        {&pbjsontest__everything__descriptor, "{\"blobs\":[\"!!\"]}",
         "field \"blobs[0]\": invalid base64 data"},
        {&pbjsontest__everything__descriptor, "{\"times\":[\"2026-11-26T13:04:05Z\",\"x\"]}",
         "field \"times[1]\": invalid timestamp \"x\""},
        /* text level */
        {&pbjsontest__item__descriptor, "{\"quantity\":", "invalid JSON at line 1, column 12: "},
        {&pbjsontest__item__descriptor, "{\"quantity\":1} x", "invalid JSON at line 1, column"},
        {&pbjsontest__item__descriptor, "{\"quantity\":1,}", "invalid JSON"},
        {&pbjsontest__item__descriptor, "{\"quantity\":1,\"quantity\":2}", "duplicate object key"},
        {&pbjsontest__item__descriptor, "{\"productId\":\"\xff\"}", "invalid JSON"},
        {&pbjsontest__item__descriptor, "{\"productId\":\"a\\u0000b\"}", "invalid JSON"},
        {&pbjsontest__item__descriptor, "{\"quantity\":NaN}", "invalid JSON"},
        {&pbjsontest__item__descriptor, "[]",
         "expected a JSON object for pbjsontest.Item, got an array"},
        {&pbjsontest__item__descriptor, "[{\"quantity\":1}]",
         "expected a JSON object for pbjsontest.Item, got an array"},
        {&pbjsontest__item__descriptor, "\"x\"",
         "expected a JSON object for pbjsontest.Item, got a string"},
        {&pbjsontest__item__descriptor, "null",
         "expected a JSON object for pbjsontest.Item, got null"},
    };
    long live = core_alloc_live();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_decode_fails(cases[i].desc, cases[i].json, cases[i].want);
    assert_int_equal(core_alloc_live(), live);
}

static void empty_text_and_nulls_mean_defaults(void **state)
{
    (void)state;
    long live = core_alloc_live();
    static const char *const empties[] = {"", " \r\n\t", "{}",
                                          "{\"id\":null,\"item\":null,\"items\":null,"
                                          "\"counts\":null,\"createdAt\":null,\"extra\":null,"
                                          "\"choiceText\":null}"};
    ProtobufCMessage *fresh = pb_new(&pbjsontest__everything__descriptor);
    assert_non_null(fresh);
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        ProtobufCMessage *m = NULL;
        assert_int_equal(pbjson_decode(&pbjsontest__everything__descriptor, empties[i],
                                       strlen(empties[i]), &m, NULL),
                         CORE_OK);
        assert_same_bytes(fresh, m);
        Pbjsontest__Everything *e = (Pbjsontest__Everything *)m;
        assert_null(e->item);
        assert_null(e->created_at);
        assert_int_equal(e->choice_case, PBJSONTEST__EVERYTHING__CHOICE__NOT_SET);
        pb_free(m);
    }
    /* NULL text with length 0 is the empty body too */
    ProtobufCMessage *m = NULL;
    assert_int_equal(pbjson_decode(&pbjsontest__item__descriptor, NULL, 0, &m, NULL), CORE_OK);
    pb_free(m);
    pb_free(fresh);
    assert_int_equal(core_alloc_live(), live);
}

static void set_field_text_parses_by_type(void **state)
{
    (void)state;
    long live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    Pbjsontest__Everything *e = (Pbjsontest__Everything *)decode_ok(
        &pbjsontest__everything__descriptor, "{\"id\":\"from-body\",\"choiceText\":\"t\"}");
    /* replaces (and frees) the old string; proto and JSON names both work */
    assert_int_equal(pbjson_set_field_text(&e->base, "id", "from-path", &err), CORE_OK);
    assert_string_equal(e->id, "from-path");
    /* switching the oneof member frees the old one */
    assert_int_equal(pbjson_set_field_text(&e->base, "choice_number", "12", &err), CORE_OK);
    assert_int_equal(e->choice_case, PBJSONTEST__EVERYTHING__CHOICE_CHOICE_NUMBER);
    assert_int_equal(e->choice_number, 12);
    assert_int_equal(pbjson_set_field_text(&e->base, "choiceText", "again", &err), CORE_OK);
    assert_int_equal(e->choice_case, PBJSONTEST__EVERYTHING__CHOICE_CHOICE_TEXT);
    assert_string_equal(e->choice_text, "again");
    assert_int_equal(pbjson_set_field_text(&e->base, "choiceText", "twice", &err), CORE_OK);
    assert_string_equal(e->choice_text, "twice");
    /* message and repeated fields cannot be set from text */
    assert_int_equal(pbjson_set_field_text(&e->base, "item", "x", &err), CORE_ERR_INVALID);
    assert_contains(err.msg, "field \"item\" of pbjsontest.Everything cannot be set from text");
    assert_int_equal(pbjson_set_field_text(&e->base, "numbers", "1", &err), CORE_ERR_INVALID);
    assert_int_equal(pbjson_set_field_text(&e->base, "nope", "1", &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "unknown field \"nope\" in pbjsontest.Everything");
    pb_free(&e->base);

    Pbjsontest__Scalars *s = pb_new_of(pbjsontest__scalars);
    assert_non_null(s);
    assert_int_equal(pbjson_set_field_text(&s->base, "f_int32", "-17", &err), CORE_OK);
    assert_int_equal(s->f_int32, -17);
    assert_int_equal(pbjson_set_field_text(&s->base, "fUint64", "18446744073709551615", &err),
                     CORE_OK);
    assert_true(s->f_uint64 == UINT64_MAX);
    assert_int_equal(pbjson_set_field_text(&s->base, "fDouble", "-Infinity", &err), CORE_OK);
    assert_true(isinf(s->f_double));
    assert_int_equal(pbjson_set_field_text(&s->base, "fFloat", "2.5", &err), CORE_OK);
    assert_true(s->f_float == 2.5f);
    assert_int_equal(pbjson_set_field_text(&s->base, "fBool", "true", &err), CORE_OK);
    assert_true(s->f_bool);
    assert_int_equal(pbjson_set_field_text(&s->base, "status", "STATUS_RETIRED", &err), CORE_OK);
    assert_int_equal(s->status, PBJSONTEST__STATUS__STATUS_RETIRED);
    assert_int_equal(pbjson_set_field_text(&s->base, "status", "1", &err), CORE_OK);
    assert_int_equal(s->status, PBJSONTEST__STATUS__STATUS_ACTIVE);
    assert_int_equal(pbjson_set_field_text(&s->base, "fBytes", "aGVsbG8", &err), CORE_OK);
    assert_int_equal(s->f_bytes.len, 5);
    assert_memory_equal(s->f_bytes.data, "hello", 5);
    assert_int_equal(pbjson_set_field_text(&s->base, "fBytes", "", &err), CORE_OK);
    assert_int_equal(s->f_bytes.len, 0);
    assert_int_equal(pbjson_set_field_text(&s->base, "f_string", "a b/c", &err), CORE_OK);
    assert_string_equal(s->f_string, "a b/c");

    /* failures leave the message as it was */
    static const struct {
        const char *field, *text, *want;
    } bad[] = {
        {"fInt32", "abc", "field \"fInt32\": \"abc\" is not an integer"},
        {"fInt32", "3.5", "field \"fInt32\": 3.5 is not an integer"},
        {"fInt32", "99999999999", "field \"fInt32\": 99999999999 out of range for int32"},
        {"fInt32", "", "field \"fInt32\": \"\" is not an integer"},
        {"fDouble", "x", "field \"fDouble\": \"x\" is not a number"},
        {"fBool", "yes", "field \"fBool\": \"yes\" is not a boolean"},
        {"status", "FOO", "field \"status\": unknown enum value \"FOO\" for pbjsontest.Status"},
        {"status", "9", "field \"status\": unknown enum value 9 for pbjsontest.Status"},
        {"fBytes", "***", "field \"fBytes\": invalid base64 data"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        core_err_clear(&err);
        assert_int_equal(pbjson_set_field_text(&s->base, bad[i].field, bad[i].text, &err),
                         CORE_ERR_INVALID);
        assert_string_equal(err.msg, bad[i].want);
    }
    assert_int_equal(s->f_int32, -17);
    assert_true(s->f_bool);
    assert_int_equal(s->status, PBJSONTEST__STATUS__STATUS_ACTIVE);
    assert_int_equal(pbjson_check_text_field(&pbjsontest__scalars__descriptor, "fInt32", &err),
                     CORE_OK);
    assert_int_equal(pbjson_check_text_field(&pbjsontest__scalars__descriptor, "f_int_32", &err),
                     CORE_ERR_INVALID);
    assert_ptr_equal(pbjson_find_field(&pbjsontest__scalars__descriptor, "fSfixed64"),
                     pbjson_find_field(&pbjsontest__scalars__descriptor, "f_sfixed64"));
    assert_null(pbjson_find_field(&pbjsontest__scalars__descriptor, "FInt32"));
    pb_free(&s->base);
    assert_int_equal(core_alloc_live(), live);
}

static void encode_rejects_what_json_cannot_carry(void **state)
{
    (void)state;
    long live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    char *out = NULL;
    Pbjsontest__Everything *e = pb_new_of(pbjsontest__everything);
    assert_non_null(e);
    e->n_items = 1;
    e->items = array(1, sizeof *e->items);
    e->items[0] = item("bad \xc3\x28 utf8", 1, 1);
    assert_int_equal(pbjson_encode(&e->base, &out, &err), CORE_ERR_INVALID);
    assert_null(out);
    assert_string_equal(err.msg, "field \"items[0].productId\": string is not valid UTF-8");
    pb_free(&e->base);

    e = pb_new_of(pbjsontest__everything);
    assert_non_null(e);
    e->created_at = timestamp(INT64_C(253402300800), 0);
    assert_int_equal(pbjson_encode(&e->base, &out, &err), CORE_ERR_INVALID);
    assert_contains(err.msg, "field \"createdAt\": timestamp 253402300800s 0ns is outside");
    pb_free(&e->base);
    assert_int_equal(core_alloc_live(), live);
}

static void dump_writes_short_reals_and_escapes(void **state)
{
    (void)state;
    long live = core_alloc_live();
    json_t *j =
        json_pack("{s:f,s:f,s:f,s:f,s:I,s:s,s:[b,n,{}],s:f,s:[f,f,f,f,f]}", "a", 9.99, "b", 0.1,
                  "c", 1e300, "d", 200.0, "e", (json_int_t)-5, "f", "q\"\\/\n\x1f\xc3\xa9", "g", 1,
                  "h", -0.0, "i", 1e-7, 0.000001, 1e21, 1.5e20, 1e17);
    assert_non_null(j);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(pbjson_dump(j, &out, &len, NULL), CORE_OK);
    const char *want =
        "{\"a\":9.99,\"b\":0.1,\"c\":1e+300,\"d\":200,\"e\":-5,\"f\":\"q\\\"\\\\/"
        "\\n\\u001f\xc3\xa9\","
        "\"g\":[true,null,{}],\"h\":-0,\"i\":[1e-7,0.000001,1e+21,1.5e+20,100000000000000000]}";
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    /* and jansson reads it back to the same values */
    json_t *back = json_loads(out, 0, NULL);
    assert_non_null(back);
    assert_true(json_real_value(json_object_get(back, "a")) == 9.99);
    assert_true(json_real_value(json_array_get(json_object_get(back, "i"), 3)) == 1.5e20);
    json_decref(back);
    core_free(out);
    json_decref(j);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(pbjson_dump(NULL, &out, NULL, &err), CORE_ERR_INVALID);
    assert_int_equal(core_alloc_live(), live);
}

static void error_messages_are_always_utf8(void **state)
{
    (void)state;
    char text[] = "ok \xc3\xa9 \xff \xc3 \xed\xa0\x80 \xf0\x9f\x98\x80";
    pbjson_make_utf8(text);
    assert_string_equal(text, "ok \xc3\xa9 ? ? ??? \xf0\x9f\x98\x80");
    /* user text is cut at 64 bytes in messages, here inside the two-byte e-acute */
    char json[128];
    snprintf(json, sizeof json, "{\"%63s\xc3\xa9\":1}", "a");
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *m = NULL;
    assert_int_equal(pbjson_decode(&pbjsontest__item__descriptor, json, strlen(json), &m, &err),
                     CORE_ERR_INVALID);
    assert_contains(err.msg, "a?\" in pbjsontest.Item");
    json_t *j = json_string(err.msg); /* NULL if not valid UTF-8 */
    assert_non_null(j);
    json_decref(j);
    /* a path parameter that is not UTF-8 */
    Pbjsontest__Item *it = pb_new_of(pbjsontest__item);
    assert_non_null(it);
    assert_int_equal(pbjson_set_field_text(&it->base, "quantity", "\xff\xfe", &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "field \"quantity\": \"??\" is not an integer");
    pb_free(&it->base);
}

/* Found by tests/fuzz/fuzz_pbjson: jansson's error text quotes the input near the error, cut
 * byte-wise, so it may end inside a UTF-8 character (here the 2-byte U+031A after "\). */
static void json_syntax_error_messages_are_utf8(void **state)
{
    (void)state;
    static const char *const inputs[] = {"\"\\\xcc\x9a", "{\"a\":\"\\u0\xff\"}",
                                         "{\"a\xc3\xa9\xc3"};
    long live = core_alloc_live();
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        core_err err = CORE_ERR_INIT;
        ProtobufCMessage *m = NULL;
        assert_int_equal(
            pbjson_decode(&pbjsontest__item__descriptor, inputs[i], strlen(inputs[i]), &m, &err),
            CORE_ERR_INVALID);
        assert_null(m);
        assert_contains(err.msg, "invalid JSON at line 1");
        json_t *j = json_string(err.msg); /* NULL if not valid UTF-8 */
        if (!j)
            fail_msg("input %zu: error message is not UTF-8: %s", i, err.msg);
        json_decref(j);
    }
    assert_int_equal(core_alloc_live(), live);
}

static void decode_survives_every_allocation_failure(void **state)
{
    (void)state;
    Pbjsontest__Everything *e = build_everything();
    char *text = encode_ok(&e->base);
    long live = core_alloc_live();
    long i;
    for (i = 0; i < 100000; i++) {
        core_err err = CORE_ERR_INIT;
        ProtobufCMessage *m = NULL;
        core_alloc_fail_after(i);
        core_status st =
            pbjson_decode(&pbjsontest__everything__descriptor, text, strlen(text), &m, &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK) {
            assert_same_bytes(&e->base, m);
            pb_free(m);
            break;
        }
        assert_int_equal(st, CORE_ERR_NOMEM);
        assert_null(m);
        assert_int_equal(core_alloc_live(), live);
    }
    assert_true(i > 50); /* the message really needs many allocations */
    assert_int_equal(core_alloc_live(), live);
    core_free(text);
    pb_free(&e->base);
}

static void encode_survives_every_allocation_failure(void **state)
{
    (void)state;
    Pbjsontest__Everything *e = build_everything();
    char *want = encode_ok(&e->base);
    long live = core_alloc_live();
    long i;
    for (i = 0; i < 100000; i++) {
        core_err err = CORE_ERR_INIT;
        char *out = NULL;
        core_alloc_fail_after(i);
        core_status st = pbjson_encode(&e->base, &out, &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK) {
            assert_string_equal(out, want);
            core_free(out);
            break;
        }
        assert_int_equal(st, CORE_ERR_NOMEM);
        assert_null(out);
        assert_int_equal(core_alloc_live(), live);
    }
    assert_true(i > 1);
    /* set_field_text too */
    for (i = 0; i < 100; i++) {
        core_alloc_fail_after(i);
        core_status st = pbjson_set_field_text(&e->base, "id", "new-id", NULL);
        core_alloc_fail_after(-1);
        if (st == CORE_OK)
            break;
        assert_int_equal(st, CORE_ERR_NOMEM);
        assert_string_equal(e->id, "thing-1");
    }
    assert_string_equal(e->id, "new-id");
    assert_int_equal(core_alloc_live(), live);
    core_free(want);
    pb_free(&e->base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(everything_round_trips_through_text_and_json_t),
        cmocka_unit_test(output_follows_grpc_gateway_conventions),
        cmocka_unit_test(unpopulated_fields_are_emitted_with_defaults),
        cmocka_unit_test(snake_and_camel_names_are_both_accepted),
        cmocka_unit_test(integers_accept_numbers_and_strings),
        cmocka_unit_test(enums_by_name_and_number),
        cmocka_unit_test(timestamps_are_rfc3339_both_ways),
        cmocka_unit_test(floats_doubles_and_special_values),
        cmocka_unit_test(bytes_accept_both_base64_alphabets),
        cmocka_unit_test(struct_value_and_list_are_plain_json),
        cmocka_unit_test(maps_convert_keys),
        cmocka_unit_test(oneof_emits_only_the_member_set),
        cmocka_unit_test(bad_input_names_the_problem),
        cmocka_unit_test(empty_text_and_nulls_mean_defaults),
        cmocka_unit_test(set_field_text_parses_by_type),
        cmocka_unit_test(encode_rejects_what_json_cannot_carry),
        cmocka_unit_test(dump_writes_short_reals_and_escapes),
        cmocka_unit_test(error_messages_are_always_utf8),
        cmocka_unit_test(json_syntax_error_messages_are_utf8),
        cmocka_unit_test(decode_survives_every_allocation_failure),
        cmocka_unit_test(encode_survives_every_allocation_failure),
    };
    return cmocka_run_group_tests_name("pbjson", tests, NULL, NULL);
}
