/* test_stack.c -- the recursive parts of the core on a request thread's stack.
 *
 * civetweb (Debian 1.15) starts its worker threads with a stack of 0x19000 = 102,400 bytes, and
 * every request handler runs there. jansson parses recursively up to 2,048 levels, protobuf-c
 * unpacks, packs and frees recursively without any limit, and pbjson's decoder, encoder and
 * writer recurse once per level: each test runs its work on a thread created exactly like a
 * civetweb worker, so input that nests too deep would crash the test instead of answering
 * CORE_ERR_INVALID. The deepest input that is still accepted goes through every recursive path
 * (parse, decode, depth checks, encode, write, pack, unpack, free) on such a thread too.
 *
 * The stack each worker used is measured (a painted stack, scanned afterwards) and printed, for
 * the record; the tests do not assert on it beyond "it did not overflow".
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "pb.h"
#include "pbjson.h"
#include "pbjson_test.pb-c.h"
#include "google/protobuf/struct.pb-c.h"

#define CIVETWEB_STACK 0x19000 /* pthread_attr_setstacksize() in Debian's libcivetweb.so.1 */
#define PAINT 0xA5

struct job {
    void (*fn)(void *arg);
    void *arg;
    size_t used; /* bytes of stack touched, measured */
};

/* Paints the unused part of this thread's stack, below the caller's frame. */
__attribute__((noinline, no_sanitize_address)) static void paint_below(char *low, char *high)
{
    for (volatile char *p = low; p < (volatile char *)high; p++)
        *p = (char)PAINT;
}

__attribute__((no_sanitize_address)) static size_t untouched_from(const char *low, const char *high)
{
    const volatile char *p = low;
    while (p < (const volatile char *)high && (unsigned char)*p == PAINT)
        p++;
    return (size_t)(p - (const volatile char *)low);
}

static void *worker(void *arg)
{
    struct job *job = arg;
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
    char here;
    pthread_getattr_np(pthread_self(), &attr);
    pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    char *low = (char *)addr + 8192; /* above the guard page, with room */
    char *high = &here - 1024;       /* below this frame and paint_below's */
    paint_below(low, high);
    job->fn(job->arg);
    job->used = (size_t)((char *)addr + size - low) - untouched_from(low, high);
    return NULL;
}

/* Runs fn(arg) on a thread made like a civetweb worker and waits for it. */
static void on_request_stack(const char *what, void (*fn)(void *), void *arg)
{
    struct job job = {fn, arg, 0};
    pthread_attr_t attr;
    pthread_t th;
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_int_equal(pthread_attr_setstacksize(&attr, CIVETWEB_STACK), 0);
    assert_int_equal(pthread_create(&th, &attr, worker, &job), 0);
    pthread_attr_destroy(&attr);
    assert_int_equal(pthread_join(th, NULL), 0);
    fprintf(stderr, "stack: %-52s %6zu of %d bytes\n", what, job.used, CIVETWEB_STACK);
}

/* "[[[...]]]" n deep, or {"a":{"a":...{}}} */
static char *nested(size_t n, bool objects)
{
    size_t len = objects ? n * 6 + 3 : n * 2 + 1;
    char *s = malloc(len);
    assert_non_null(s);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(s + o, len - o, "%s", objects ? "{\"a\":" : "[");
    if (objects)
        o += (size_t)snprintf(s + o, len - o, "{}");
    for (size_t i = 0; i < n; i++)
        s[o++] = objects ? '}' : ']';
    s[o] = '\0';
    return s;
}

struct decode_case {
    const ProtobufCMessageDescriptor *desc;
    const char *json;
    core_status st;
    core_err err;
    ProtobufCMessage *msg;
};

static void run_decode(void *arg)
{
    struct decode_case *dc = arg;
    dc->st = pbjson_decode(dc->desc, dc->json, strlen(dc->json), &dc->msg, &dc->err);
}

/* The request: 1,000 nested arrays (and objects) as a body. Before the limit jansson
 * recursed 1,000 levels deep and overflowed the stack. */
static void deep_json_is_refused_before_parsing(void **state)
{
    (void)state;
    long live = core_alloc_live();
    for (int objects = 0; objects <= 1; objects++) {
        char *body = nested(1000, objects);
        struct decode_case dc = {&pbjsontest__create_thing_request__descriptor, body, CORE_OK,
                                 CORE_ERR_INIT, NULL};
        on_request_stack(objects ? "decode 1,000 nested objects" : "decode 1,000 nested arrays",
                         run_decode, &dc);
        assert_int_equal(dc.st, CORE_ERR_INVALID);
        assert_string_equal(dc.err.msg, "JSON nested deeper than 64 levels");
        free(body);
    }
    /* 65 levels: refused; 64: parsed (and then judged as a CreateThingRequest) */
    char *body = nested(65, true);
    struct decode_case dc = {&pbjsontest__create_thing_request__descriptor, body, CORE_OK,
                             CORE_ERR_INIT, NULL};
    on_request_stack("decode 65 nested objects", run_decode, &dc);
    assert_string_equal(dc.err.msg, "JSON nested deeper than 64 levels");
    free(body);
    body = nested(63, true); /* 63 "a" levels + the innermost {} = 64 */
    dc = (struct decode_case){&pbjsontest__create_thing_request__descriptor, body, CORE_OK,
                              CORE_ERR_INIT, NULL};
    on_request_stack("decode 64 nested objects", run_decode, &dc);
    assert_int_equal(dc.st, CORE_ERR_INVALID);
    assert_string_equal(dc.err.msg, "unknown field \"a\" in pbjsontest.CreateThingRequest");
    free(body);
    assert_int_equal(core_alloc_live(), live);
}

/* Brackets inside strings are text, not nesting. */
static void brackets_in_strings_do_not_count(void **state)
{
    (void)state;
    char *brackets = nested(500, false);
    size_t len = strlen(brackets) + 64;
    char *body = malloc(len);
    assert_non_null(body);
    snprintf(body, len, "{\"name\":\"\\\"%s\\\\\"}", brackets);
    struct decode_case dc = {&pbjsontest__create_thing_request__descriptor, body, CORE_OK,
                             CORE_ERR_INIT, NULL};
    on_request_stack("decode a string full of brackets", run_decode, &dc);
    assert_int_equal(dc.st, CORE_OK);
    Pbjsontest__CreateThingRequest *r = (Pbjsontest__CreateThingRequest *)dc.msg;
    assert_int_equal(strlen(r->name), 1000 + 2);
    pb_free(dc.msg);
    free(body);
    free(brackets);
}

/* google.protobuf.Value nests messages without end: {"extra": [[[...]]]} within the JSON limit
 * still makes a tree deeper than PB_MAX_DEPTH (two messages per list), which is refused. */
static void deep_value_trees_are_refused(void **state)
{
    (void)state;
    long live = core_alloc_live();
    char *lists = nested(40, false);
    size_t len = strlen(lists) + 32;
    char *body = malloc(len);
    assert_non_null(body);
    snprintf(body, len, "{\"extra\":%s}", lists);
    struct decode_case dc = {&pbjsontest__everything__descriptor, body, CORE_OK, CORE_ERR_INIT,
                             NULL};
    on_request_stack("decode 40 nested lists into a Value", run_decode, &dc);
    assert_int_equal(dc.st, CORE_ERR_INVALID);
    assert_string_equal(dc.err.msg, "pbjsontest.Everything: messages nested deeper than 32 levels");
    assert_null(dc.msg);
    free(body);
    free(lists);
    assert_int_equal(core_alloc_live(), live);
}

/* The deepest tree accepted, through every recursive path on one request stack. */
struct round_trip {
    const char *json;
    core_status st;
    char *again;
    size_t packed_len;
};

static void run_round_trip(void *arg)
{
    struct round_trip *rt = arg;
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *m = NULL, *back = NULL;
    unsigned char *packed = NULL;
    rt->st =
        pbjson_decode(&pbjsontest__everything__descriptor, rt->json, strlen(rt->json), &m, &err);
    if (rt->st == CORE_OK)
        rt->st = pb_pack(m, &packed, &rt->packed_len, &err);
    if (rt->st == CORE_OK)
        rt->st =
            pb_unpack(&pbjsontest__everything__descriptor, packed, rt->packed_len, &back, &err);
    if (rt->st == CORE_OK)
        rt->st = pbjson_encode(back, &rt->again, &err);
    if (rt->st != CORE_OK)
        fprintf(stderr, "round trip: %s\n", err.msg);
    core_free(packed);
    pb_free(back);
    pb_free(m);
}

static void deepest_accepted_tree_round_trips(void **state)
{
    (void)state;
    long live = core_alloc_live();
    /* Everything (1) -> Value (2) -> ListValue (3) -> Value (4) ... : 15 lists reach level 32 */
    char *lists = nested(15, false);
    size_t len = strlen(lists) + 32;
    char *body = malloc(len);
    assert_non_null(body);
    snprintf(body, len, "{\"extra\":%s}", lists);
    struct round_trip rt = {body, CORE_OK, NULL, 0};
    on_request_stack("32 levels: decode, pack, unpack, encode, free", run_round_trip, &rt);
    assert_int_equal(rt.st, CORE_OK);
    assert_non_null(strstr(rt.again, lists));
    core_free(rt.again);
    /* one more list is one level too many */
    free(lists);
    lists = nested(16, false);
    snprintf(body, len, "{\"extra\":%s}", lists);
    rt = (struct round_trip){body, CORE_OK, NULL, 0};
    on_request_stack("33 levels: refused", run_round_trip, &rt);
    assert_int_equal(rt.st, CORE_ERR_INVALID);
    free(body);
    free(lists);
    assert_int_equal(core_alloc_live(), live);
}

/* ---- protobuf from the wire (the RPC port) ----------------------------------------------------
 */

static size_t varint_len(size_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t put_varint(unsigned char *p, size_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* A google.protobuf.Value holding a list holding a Value ... `pairs` times: 2 * pairs + 1
 * messages deep, 2-4 bytes per level. *len gets its size; caller frees. */
static unsigned char *deep_value_wire(size_t pairs, size_t *len)
{
    size_t levels = 2 * pairs;
    size_t *inner = malloc((levels + 1) * sizeof *inner); /* inner[k]: bytes inside level k */
    assert_non_null(inner);
    inner[levels] = 2; /* the innermost Value: null_value = 0 (field 1, varint) */
    for (size_t k = levels; k-- > 0;)
        inner[k] = 1 + varint_len(inner[k + 1]) + inner[k + 1];
    unsigned char *buf = malloc(inner[0]);
    assert_non_null(buf);
    size_t o = 0;
    for (size_t k = 0; k < levels; k++) {
        buf[o++] =
            k % 2 == 0 ? (6 << 3 | 2) : (1 << 3 | 2); /* Value.list_value, ListValue.values */
        o += put_varint(buf + o, inner[k + 1]);
    }
    buf[o++] = 1 << 3;
    buf[o++] = 0;
    assert_int_equal(o, inner[0]);
    *len = inner[0];
    free(inner);
    return buf;
}

struct unpack_case {
    const unsigned char *data;
    size_t len;
    core_status st;
    core_err err;
    ProtobufCMessage *msg;
};

static void run_unpack(void *arg)
{
    struct unpack_case *uc = arg;
    uc->st = pb_unpack(&google__protobuf__value__descriptor, uc->data, uc->len, &uc->msg, &uc->err);
    pb_free(uc->msg);
    uc->msg = NULL;
}

/* A hostile RPC body: protobuf-c's unpack has no depth limit; 20,001 messages deep took the
 * thread down before the scan. */
static void deep_protobuf_is_refused_before_unpacking(void **state)
{
    (void)state;
    long live = core_alloc_live();
    size_t len;
    unsigned char *data = deep_value_wire(10000, &len);
    struct unpack_case uc = {data, len, CORE_OK, CORE_ERR_INIT, NULL};
    on_request_stack("unpack 20,001 nested messages", run_unpack, &uc);
    assert_int_equal(uc.st, CORE_ERR_INVALID);
    assert_string_equal(
        uc.err.msg, "protobuf data for google.protobuf.Value nests messages deeper than 32 levels");
    free(data);
    /* 31 levels are fine, 33 are not */
    data = deep_value_wire(15, &len);
    uc = (struct unpack_case){data, len, CORE_OK, CORE_ERR_INIT, NULL};
    on_request_stack("unpack 31 nested messages", run_unpack, &uc);
    assert_int_equal(uc.st, CORE_OK);
    free(data);
    data = deep_value_wire(16, &len);
    uc = (struct unpack_case){data, len, CORE_OK, CORE_ERR_INIT, NULL};
    on_request_stack("unpack 33 nested messages", run_unpack, &uc);
    assert_int_equal(uc.st, CORE_ERR_INVALID);
    free(data);
    assert_int_equal(core_alloc_live(), live);
}

/* ---- trees and JSON values built by code --------------------------------------------------------
 */

/* A Value -> ListValue -> Value ... chain `pairs` deep, built by hand (on the test's own stack). */
static ProtobufCMessage *deep_value_tree(size_t pairs)
{
    Google__Protobuf__Value *top = pb_new_of(google__protobuf__value), *v = top;
    assert_non_null(top);
    for (size_t i = 0; i < pairs; i++) {
        Google__Protobuf__ListValue *l = pb_new_of(google__protobuf__list_value);
        assert_non_null(l);
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
        v->list_value = l;
        l->values = core_calloc(1, sizeof *l->values);
        assert_non_null(l->values);
        l->n_values = 1;
        l->values[0] = pb_new_of(google__protobuf__value);
        assert_non_null(l->values[0]);
        v = l->values[0];
    }
    return &top->base;
}

struct walk_case {
    const ProtobufCMessage *msg;
    const json_t *json;
    core_status to_json, pack, dump;
    core_err err;
};

static void run_walks(void *arg)
{
    struct walk_case *wc = arg;
    json_t *j = NULL;
    unsigned char *packed = NULL;
    char *text = NULL;
    size_t len = 0;
    core_err e1 = CORE_ERR_INIT, e2 = CORE_ERR_INIT;
    if (wc->msg) {
        wc->to_json = pbjson_to_json(wc->msg, &j, &e1);
        wc->pack = pb_pack(wc->msg, &packed, &len, &e2);
        wc->err = e2;
    }
    if (wc->json)
        wc->dump = pbjson_dump(wc->json, &text, &len, &wc->err);
    json_decref(j);
    core_free(packed);
    core_free(text);
}

static void deep_trees_from_code_are_refused(void **state)
{
    (void)state;
    long live = core_alloc_live();
    ProtobufCMessage *m = deep_value_tree(1000);
    struct walk_case wc = {m, NULL, CORE_OK, CORE_OK, CORE_OK, CORE_ERR_INIT};
    on_request_stack("encode and pack 2,001 nested messages", run_walks, &wc);
    assert_int_equal(wc.to_json, CORE_ERR_INVALID);
    assert_int_equal(wc.pack, CORE_ERR_INVALID);
    assert_string_equal(wc.err.msg, "message google.protobuf.Value nests deeper than 32 levels");
    pb_free(m); /* protobuf-c frees recursively: on this thread's big stack */

    /* a json_t 5,000 arrays deep, built and released here */
    json_t *top = json_array(), *a = top;
    for (int i = 0; i < 5000; i++) {
        json_t *next = json_array();
        json_array_append_new(a, next);
        a = next;
    }
    wc = (struct walk_case){NULL, top, CORE_OK, CORE_OK, CORE_OK, CORE_ERR_INIT};
    on_request_stack("write a json_t 5,001 arrays deep", run_walks, &wc);
    assert_int_equal(wc.dump, CORE_ERR_INVALID);
    assert_string_equal(wc.err.msg, "JSON nested deeper than 64 levels");
    json_decref(top);
    assert_int_equal(core_alloc_live(), live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deep_json_is_refused_before_parsing),
        cmocka_unit_test(brackets_in_strings_do_not_count),
        cmocka_unit_test(deep_value_trees_are_refused),
        cmocka_unit_test(deepest_accepted_tree_round_trips),
        cmocka_unit_test(deep_protobuf_is_refused_before_unpacking),
        cmocka_unit_test(deep_trees_from_code_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
