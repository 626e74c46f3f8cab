/* test_pb.c -- unit tests of pb.h: messages as heap trees, pack/unpack, failure paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pb.h"
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(heap_tree_round_trip_and_free),
        cmocka_unit_test(malformed_bytes_are_invalid),
        cmocka_unit_test(out_of_memory_is_reported),
    };
    return cmocka_run_group_tests_name("pb", tests, NULL, NULL);
}
