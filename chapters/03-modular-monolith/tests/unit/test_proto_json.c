/* test_proto_json.c -- every message of the chapter's protos survives JSON and back.
 *
 * The REST gateway transcodes generically (shared/pbjson.h), so a module never writes JSON by
 * hand; this test proves it for every request, response and entity message the chapter defines:
 * fill every field, encode to JSON (lowerCamelCase), decode, and compare the protobuf bytes.
 * Inherited by later chapters, it covers the messages they add too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pb.h"
#include "pbfill.h"
#include "pbjson.h"

static void round_trip(const ProtobufCMessageDescriptor *d)
{
    core_err err = CORE_ERR_INIT;
    /* depth 6 reaches the values of nested maps (depot: list -> stops -> items) */
    ProtobufCMessage *in = pbfill_new(d, 6), *back = NULL;
    char *json = NULL;
    unsigned char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    assert_non_null(in);
    if (pbjson_encode(in, &json, &err) || pbjson_decode(d, json, strlen(json), &back, &err))
        fail_msg("%s: %s", d->name, err.msg);
    assert_int_equal(pb_pack(in, &a, &alen, &err), CORE_OK);
    assert_int_equal(pb_pack(back, &b, &blen, &err), CORE_OK);
    if (alen != blen || memcmp(a, b, alen) != 0)
        fail_msg("%s does not survive JSON: %s", d->name, json);
    /* names go out in lowerCamelCase */
    for (unsigned i = 0; i < d->n_fields; i++) {
        char key[80];
        snprintf(key, sizeof key, "\"%s\":", d->fields[i].name);
        if (strchr(d->fields[i].name, '_') && strstr(json, key))
            fail_msg("%s: field %s is not lowerCamelCase in %s", d->name, d->fields[i].name, json);
    }
    core_free(a);
    core_free(b);
    core_free(json);
    pb_free(in);
    pb_free(back);
}

static void every_message_round_trips(void **state)
{
    (void)state;
    long live = core_alloc_live();
    assert_true(chapter_message_count > 0);
    for (size_t i = 0; i < chapter_message_count; i++)
        round_trip(chapter_messages[i]);
    assert_int_equal(core_alloc_live(), live);
}

static void unknown_field_is_rejected_for_every_message(void **state)
{
    (void)state;
    for (size_t i = 0; i < chapter_message_count; i++) {
        core_err err = CORE_ERR_INIT;
        ProtobufCMessage *m = NULL;
        const char *bad = "{\"noSuchField\": 1}";
        assert_int_equal(pbjson_decode(chapter_messages[i], bad, strlen(bad), &m, &err),
                         CORE_ERR_INVALID);
        assert_non_null(strstr(err.msg, "noSuchField"));
        assert_null(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_message_round_trips),
        cmocka_unit_test(unknown_field_is_rejected_for_every_message),
    };
    return cmocka_run_group_tests_name("proto_json", tests, NULL, NULL);
}
