/* test_asyncapi.c -- the AsyncAPI document made from a registry of messages and their channels
 * (asyncapi.h), and the registry's channels themselves (es.h: es_registry_add_on, _count, _at). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "asyncapi.h"
#include "es.h"
#include "openapi_test.pb-c.h"

#define CH_NODES "mallbots.nodes.events.Node"
#define CH_PINGS "mallbots.pings.events.Ping"

static const struct {
    const char *channel, *name;
    const ProtobufCMessageDescriptor *desc;
} registered[] = {
    {CH_NODES, "nodesapi.NodePut", &oapitest__put_node_request__descriptor},
    {CH_PINGS, "pingsapi.Pinged", &oapitest__ping__descriptor},
    {CH_NODES, "nodesapi.NodeRead", &oapitest__get_node_request__descriptor},
    {CH_PINGS, "pingsapi.Ponged", &oapitest__pong__descriptor},
};
#define N_REGISTERED (sizeof registered / sizeof registered[0])

static es_registry *new_registry(void)
{
    es_registry *reg = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(es_registry_new(&reg, &err), CORE_OK);
    for (size_t i = 0; i < N_REGISTERED; i++)
        assert_int_equal(es_registry_add_on(reg, registered[i].channel, registered[i].name,
                                            registered[i].desc, &err),
                         CORE_OK);
    /* an event-sourcing payload: no channel */
    assert_int_equal(es_registry_add(reg, "nodes.Snapshot", &oapitest__node__descriptor, &err),
                     CORE_OK);
    return reg;
}

static json_t *document(const es_registry *reg)
{
    json_t *doc = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(asyncapi_document(reg, "MallBots messages", "mallbots", NULL, &doc, &err),
                     CORE_OK);
    assert_non_null(doc);
    return doc;
}

/* Follows a local "$ref" ("#/components/messages/x") in doc; NULL when it does not resolve. The
 * names here contain no '/'. */
static json_t *resolve(json_t *doc, json_t *ref_obj)
{
    const char *ref = json_string_value(json_object_get(ref_obj, "$ref"));
    if (!ref || strncmp(ref, "#/", 2) != 0)
        return NULL;
    json_t *at = doc;
    for (const char *p = ref + 2; at && *p;) {
        size_t n = strcspn(p, "/");
        char part[256];
        if (n >= sizeof part)
            return NULL;
        memcpy(part, p, n);
        part[n] = '\0';
        at = json_object_get(at, part);
        p += n + (p[n] == '/');
    }
    return at;
}

static void the_registry_keeps_each_name_with_its_channel(void **state)
{
    (void)state;
    long live = core_alloc_live();
    es_registry *reg = new_registry();
    assert_int_equal(es_registry_count(reg), N_REGISTERED + 1);
    for (size_t i = 0; i < N_REGISTERED; i++) {
        const char *name, *channel;
        const ProtobufCMessageDescriptor *desc;
        assert_true(es_registry_at(reg, i, &name, &desc, &channel));
        assert_string_equal(name, registered[i].name);
        assert_string_equal(channel, registered[i].channel);
        assert_ptr_equal(desc, registered[i].desc);
        assert_ptr_equal(es_registry_lookup(reg, name), registered[i].desc);
    }
    const char *channel = "x";
    assert_true(es_registry_at(reg, N_REGISTERED, NULL, NULL, &channel));
    assert_null(channel);
    assert_false(es_registry_at(reg, N_REGISTERED + 1, NULL, NULL, NULL));

    /* a blank channel is refused, a name twice too (with or without a channel) */
    core_err err = CORE_ERR_INIT;
    assert_int_equal(es_registry_add_on(reg, " ", "x.Y", &oapitest__node__descriptor, &err),
                     CORE_ERR_INVALID);
    assert_int_equal(
        es_registry_add_on(reg, CH_PINGS, "pingsapi.Pinged", &oapitest__ping__descriptor, &err),
        CORE_ERR_CONFLICT);
    assert_int_equal(es_registry_count(reg), N_REGISTERED + 1);
    es_registry_free(reg);
    assert_int_equal(core_alloc_live(), live);
}

static void the_document_has_the_required_fields_of_asyncapi_2(void **state)
{
    (void)state;
    es_registry *reg = new_registry();
    json_t *doc = document(reg);
    /* the AsyncAPI 2.6 schema requires asyncapi, info {title, version} and channels */
    assert_string_equal(json_string_value(json_object_get(doc, "asyncapi")), "2.6.0");
    json_t *info = json_object_get(doc, "info");
    assert_string_equal(json_string_value(json_object_get(info, "title")), "MallBots messages");
    assert_string_equal(json_string_value(json_object_get(info, "version")), "mallbots");
    assert_true(json_is_object(json_object_get(doc, "channels")));
    assert_string_equal(json_string_value(json_object_get(doc, "defaultContentType")),
                        ASYNCAPI_CONTENT_TYPE);
    /* each channel has an operation with a message; component names match the schema's key
     * pattern ^[a-zA-Z0-9\.\-_]+$ */
    const char *key;
    json_t *ch;
    json_object_foreach(json_object_get(doc, "channels"), key, ch)
    {
        json_t *op = json_object_get(ch, "subscribe");
        assert_non_null(op);
        assert_true(json_array_size(json_object_get(json_object_get(op, "message"), "oneOf")) > 0);
    }
    json_t *m;
    json_object_foreach(json_object_get(json_object_get(doc, "components"), "messages"), key, m)
    {
        assert_int_equal(strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789.-_"),
                         strlen(key));
        assert_non_null(json_object_get(m, "payload"));
    }
    json_decref(doc);
    es_registry_free(reg);
}

static void every_message_is_on_its_channel_with_its_payload_schema(void **state)
{
    (void)state;
    es_registry *reg = new_registry();
    json_t *doc = document(reg);
    json_t *channels = json_object_get(doc, "channels");
    assert_int_equal(json_object_size(channels), 2);
    for (size_t i = 0; i < N_REGISTERED; i++) {
        /* the channel lists the message */
        json_t *list = json_object_get(
            json_object_get(
                json_object_get(json_object_get(channels, registered[i].channel), "subscribe"),
                "message"),
            "oneOf");
        json_t *msg = NULL;
        size_t k;
        json_t *ref;
        json_array_foreach(list, k, ref)
        {
            json_t *m = resolve(doc, ref);
            if (m && strcmp(json_string_value(json_object_get(m, "name")), registered[i].name) == 0)
                msg = m;
        }
        assert_non_null(msg);
        assert_string_equal(json_string_value(json_object_get(msg, "x-channel")),
                            registered[i].channel);
        /* its payload is the schema of its type, with the type's fields */
        json_t *schema = resolve(doc, json_object_get(msg, "payload"));
        assert_non_null(schema);
        assert_string_equal(json_string_value(json_object_get(schema, "x-proto")),
                            registered[i].desc->name);
        json_t *props = json_object_get(schema, "properties");
        for (unsigned f = 0; f < registered[i].desc->n_fields; f++)
            assert_true(json_object_size(props) == registered[i].desc->n_fields);
    }
    /* types referred to by payloads are there too: PutNodeRequest -> Node; Ping <-> Pong */
    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    assert_non_null(json_object_get(schemas, "oapitest.Node"));
    assert_non_null(json_object_get(
        json_object_get(json_object_get(schemas, "oapitest.Ping"), "properties"), "pong"));
    /* a name without a channel is a message of the components, on no channel */
    json_t *snap = json_object_get(json_object_get(json_object_get(doc, "components"), "messages"),
                                   "nodes.Snapshot");
    assert_non_null(snap);
    assert_null(json_object_get(snap, "x-channel"));
    const char *why = json_string_value(json_object_get(snap, "description"));
    assert_non_null(why);
    assert_non_null(strstr(why, "no channel of its own"));
    json_decref(doc);
    es_registry_free(reg);
}

static void an_empty_registry_and_bad_arguments(void **state)
{
    (void)state;
    es_registry *reg = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(es_registry_new(&reg, &err), CORE_OK);
    json_t *doc = document(reg);
    assert_int_equal(json_object_size(json_object_get(doc, "channels")), 0);
    json_decref(doc);
    doc = NULL;
    assert_int_equal(asyncapi_document(reg, NULL, "v", NULL, &doc, &err), CORE_ERR_INVALID);
    assert_null(doc);
    es_registry_free(reg);
}

static void out_of_memory_is_reported_and_leaks_nothing(void **state)
{
    (void)state;
    es_registry *reg = new_registry();
    long live = core_alloc_live();
    bool failed = false;
    for (int n = 0; n < 8; n++) { /* core allocations: the list of types, the schema work list */
        json_t *doc = NULL;
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = asyncapi_document(reg, "t", "v", NULL, &doc, &err);
        core_alloc_fail_after(-1);
        if (st != CORE_OK) {
            failed = true;
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_null(doc);
        }
        json_decref(doc);
        assert_int_equal(core_alloc_live(), live);
    }
    assert_true(failed);
    es_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_registry_keeps_each_name_with_its_channel),
        cmocka_unit_test(the_document_has_the_required_fields_of_asyncapi_2),
        cmocka_unit_test(every_message_is_on_its_channel_with_its_payload_schema),
        cmocka_unit_test(an_empty_registry_and_bad_arguments),
        cmocka_unit_test(out_of_memory_is_reported_and_leaks_nothing),
    };
    return cmocka_run_group_tests_name("asyncapi", tests, NULL, NULL);
}
