/* test_openapi.c -- the OpenAPI 3 document made from route tables and message descriptors
 * (shared/openapi.h): OpenAPI 3's required fields, every route as an operation, path parameters,
 * request bodies from the input's fields with the JSON mapping's types, and message types that
 * nest without end (a message containing itself, two containing each other, a chain of 40).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "openapi.h"
#include "openapi_test.pb-c.h"
#include "pbjson.h"
#include "pbjson_test.pb-c.h"

static const struct gw_route thing_routes[] = {
    {"POST", "/api/things", "CreateThing"},
    {"GET", "/api/things", "ListThings"},
    {"GET", "/api/things/{id}", "GetThing"},
    {"PUT", "/api/things/{id}", "UpdateThing"},
    {"DELETE", "/api/things/{id}", "DeleteThing"},
    {"PUT", "/api/things/{id}/size/{size}", "UpdateThing"},
    {"PUT", "/api/things/{id}/status/{status}", "UpdateThing"},
};

static const struct gw_route tree_routes[] = {
    {"PUT", "/api/nodes/{id}/v/{version}", "PutNode"},
    {"GET", "/api/nodes/{id}", "GetNode"},
    {"POST", "/api/walk", "Walk"},
    {"POST", "/api/mixed", "Mixed"},
};

static const struct openapi_service services[] = {
    {&pbjsontest__things_service__descriptor, thing_routes,
     sizeof thing_routes / sizeof thing_routes[0]},
    {&oapitest__tree_service__descriptor, tree_routes, sizeof tree_routes / sizeof tree_routes[0]},
};

static const struct openapi_api api = {"Test API", "7", "two services", services, 2};

static json_t *document(const struct openapi_api *a)
{
    json_t *doc = NULL;
    core_err err = CORE_ERR_INIT;
    core_status st = openapi_document(a, &doc, &err);
    if (st != CORE_OK)
        fail_msg("openapi_document: %s", err.msg);
    assert_non_null(doc);
    return doc;
}

/* The value at a path of keys separated by '|' (keys such as "/api/things/{id}" hold '/' and
 * '.'); NULL when a step is missing. Borrowed. */
static json_t *at(json_t *j, const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *key = strtok_r(buf, "|", &save); j && key; key = strtok_r(NULL, "|", &save))
        j = json_is_array(j) ? json_array_get(j, (size_t)strtoul(key, NULL, 10))
                             : json_object_get(j, key);
    return j;
}

static const char *at_str(json_t *j, const char *path)
{
    json_t *v = at(j, path);
    if (!json_is_string(v))
        fail_msg("%s: not a string", path);
    return json_string_value(v);
}

static void expect_str(json_t *j, const char *path, const char *want)
{
    const char *got = at_str(j, path);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", path, got, want);
}

/* The schema at path has "type" type and "format" format (NULL: no format). */
static void expect_type(json_t *doc, const char *path, const char *type, const char *format)
{
    char p[512];
    snprintf(p, sizeof p, "%s|type", path);
    expect_str(doc, p, type);
    snprintf(p, sizeof p, "%s|format", path);
    if (format)
        expect_str(doc, p, format);
    else if (at(doc, p))
        fail_msg("%s: unexpected format", path);
}

static void test_required_fields_of_openapi_3(void **state)
{
    (void)state;
    long live = core_alloc_live();
    json_t *doc = document(&api);
    const char *version = at_str(doc, "openapi");
    assert_memory_equal(version, "3.0.", 4);
    expect_str(doc, "info|title", "Test API");
    expect_str(doc, "info|version", "7");
    expect_str(doc, "info|description", "two services");
    assert_true(json_is_object(at(doc, "paths")));
    /* every operation has responses, with a 200 and the API's error body */
    size_t ops = 0;
    const char *path;
    json_t *item;
    json_object_foreach(at(doc, "paths"), path, item)
    {
        assert_int_equal(path[0], '/'); /* OpenAPI: a path starts with '/' */
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
        {
            ops++;
            assert_true(json_is_object(json_object_get(op, "responses")));
            assert_true(json_object_size(json_object_get(op, "responses")) > 0);
            assert_non_null(at(op, "responses|200|description"));
            assert_non_null(at(op, "responses|200|content|application/json|schema|$ref"));
            expect_str(op, "responses|default|content|application/json|schema|$ref",
                       "#/components/schemas/Error");
            assert_true(json_is_string(json_object_get(op, "operationId")));
        }
    }
    assert_int_equal(ops, 11);
    expect_type(doc, "components|schemas|Error|properties|code", "integer", "int32");
    expect_type(doc, "components|schemas|Error|properties|message", "string", NULL);
    /* the document is written by the same writer as every response, within its depth bound */
    char *text = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(pbjson_dump(doc, &text, NULL, &err), CORE_OK);
    json_error_t jerr;
    json_t *back = json_loads(text, 0, &jerr);
    assert_non_null(back);
    assert_true(json_equal(back, doc));
    json_decref(back);
    core_free(text);
    json_decref(doc);
    assert_int_equal(core_alloc_live(), live);
}

static void test_every_route_is_an_operation(void **state)
{
    (void)state;
    json_t *doc = document(&api);
    for (size_t s = 0; s < 2; s++)
        for (size_t i = 0; i < services[s].n; i++) {
            const struct gw_route *r = &services[s].routes[i];
            char method[16], p[512], rpc[256];
            size_t k = 0;
            for (; r->method[k]; k++)
                method[k] = (char)(r->method[k] - 'A' + 'a');
            method[k] = '\0';
            snprintf(p, sizeof p, "paths|%s|%s", r->path, method);
            json_t *op = at(doc, p);
            if (!op)
                fail_msg("%s %s: no operation", r->method, r->path);
            snprintf(rpc, sizeof rpc, "%s/%s", services[s].svc->name, r->rpc);
            expect_str(op, "x-rpc", rpc);
            expect_str(op, "summary", r->rpc);
            expect_str(op, "tags|0", services[s].svc->name);
        }
    /* a method behind several routes gets distinct operation ids */
    expect_str(doc, "paths|/api/things/{id}|put|operationId",
               "pbjsontest.ThingsService.UpdateThing");
    expect_str(doc, "paths|/api/things/{id}/size/{size}|put|operationId",
               "pbjsontest.ThingsService.UpdateThing_2");
    expect_str(doc, "paths|/api/things/{id}/status/{status}|put|operationId",
               "pbjsontest.ThingsService.UpdateThing_3");
    expect_str(doc, "paths|/api/things|get|responses|200|content|application/json|schema|$ref",
               "#/components/schemas/pbjsontest.ListThingsResponse");
    json_decref(doc);
}

static void test_path_parameters_are_declared(void **state)
{
    (void)state;
    json_t *doc = document(&api);
    /* each {name} of each path, in order, in: path, required, typed like the field it fills */
    const char *path;
    json_t *item;
    json_object_foreach(at(doc, "paths"), path, item)
    {
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
        {
            size_t n = 0;
            for (const char *p = path; (p = strchr(p, '{')) != NULL; p++) {
                const char *end = strchr(p, '}');
                json_t *param = json_array_get(json_object_get(op, "parameters"), n++);
                if (!param)
                    fail_msg("%s %s: parameter %zu missing", method, path, n);
                const char *name = json_string_value(json_object_get(param, "name"));
                assert_non_null(name);
                assert_int_equal(strlen(name), (size_t)(end - p - 1));
                assert_memory_equal(name, p + 1, strlen(name));
                expect_str(param, "in", "path");
                assert_true(json_is_true(json_object_get(param, "required")));
            }
            assert_int_equal(json_array_size(json_object_get(op, "parameters")), n);
        }
    }
    expect_type(doc, "paths|/api/nodes/{id}/v/{version}|put|parameters|0|schema", "string", NULL);
    expect_type(doc, "paths|/api/nodes/{id}/v/{version}|put|parameters|1|schema", "string",
                "int64");
    expect_str(doc, "paths|/api/nodes/{id}/v/{version}|put|parameters|1|schema|x-proto",
               "int64 version");
    expect_type(doc, "paths|/api/things/{id}/size/{size}|put|parameters|1|schema", "integer",
                "int32");
    expect_str(doc, "paths|/api/things/{id}/status/{status}|put|parameters|1|schema|enum|1",
               "STATUS_ACTIVE");
    assert_null(at(doc, "paths|/api/things|post|parameters"));
    json_decref(doc);
}

static void test_request_body_from_the_input_fields(void **state)
{
    (void)state;
    json_t *doc = document(&api);
    /* the fields the path does not fill, by JSON name, unknown ones refused */
    const char *b = "paths|/api/nodes/{id}/v/{version}|put|requestBody|content|application/"
                    "json|schema";
    char p[512];
    json_t *props = at(doc, (snprintf(p, sizeof p, "%s|properties", b), p));
    assert_int_equal(json_object_size(props), 2);
    expect_str(props, "node|$ref", "#/components/schemas/oapitest.Node");
    expect_type(props, "dryRun", "boolean", NULL);
    expect_str(props, "dryRun|x-proto", "bool dry_run");
    assert_true(json_is_false(at(doc, (snprintf(p, sizeof p, "%s|additionalProperties", b), p))));
    /* UpdateThing on /api/things/{id}: everything but the id; on .../size/{size}: not size */
    props = at(doc, "paths|/api/things/{id}|put|requestBody|content|application/json|schema|"
                    "properties");
    assert_int_equal(json_object_size(props), 3);
    assert_null(json_object_get(props, "id"));
    assert_non_null(json_object_get(props, "name"));
    props = at(doc, "paths|/api/things/{id}/size/{size}|put|requestBody|content|application/"
                    "json|schema|properties");
    assert_int_equal(json_object_size(props), 2);
    assert_null(json_object_get(props, "size"));
    /* an input the path fills entirely, or one without fields, takes no body */
    assert_null(at(doc, "paths|/api/nodes/{id}|get|requestBody"));
    assert_null(at(doc, "paths|/api/things/{id}|delete|requestBody"));
    assert_null(at(doc, "paths|/api/things|get|requestBody"));
    assert_non_null(at(doc, "paths|/api/things|post|requestBody"));

    /* every type of the JSON mapping (pbjson.h) */
    const char *s = "components|schemas|pbjsontest.Scalars|properties";
    static const struct {
        const char *field, *type, *format;
    } scalars[] = {
        {"fDouble", "number", "double"},   {"fFloat", "number", "float"},
        {"fInt32", "integer", "int32"},    {"fInt64", "string", "int64"},
        {"fUint32", "integer", "int64"},   {"fUint64", "string", "uint64"},
        {"fSint32", "integer", "int32"},   {"fSint64", "string", "int64"},
        {"fFixed32", "integer", "int64"},  {"fFixed64", "string", "uint64"},
        {"fSfixed32", "integer", "int32"}, {"fSfixed64", "string", "int64"},
        {"fBool", "boolean", NULL},        {"fString", "string", NULL},
        {"fBytes", "string", "byte"},      {"status", "string", NULL},
    };
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        snprintf(p, sizeof p, "%s|%s", s, scalars[i].field);
        expect_type(doc, p, scalars[i].type, scalars[i].format);
    }
    assert_int_equal(json_object_size(at(doc, s)), 16);
    expect_str(doc, "components|schemas|pbjsontest.Scalars|properties|fUint32|x-proto",
               "uint32 f_uint32");
    json_t *status_enum = at(doc, "components|schemas|pbjsontest.Scalars|properties|status|enum");
    assert_int_equal(json_array_size(status_enum), 3);
    expect_str(status_enum, "2", "STATUS_RETIRED");

    const char *e = "components|schemas|pbjsontest.Everything|properties";
    json_t *ev = at(doc, e);
    assert_non_null(ev);
    expect_str(ev, "scalars|$ref", "#/components/schemas/pbjsontest.Scalars");
    expect_type(ev, "items", "array", NULL);
    expect_str(ev, "items|items|$ref", "#/components/schemas/pbjsontest.Item");
    expect_str(ev, "items|x-proto", "repeated pbjsontest.Item items");
    expect_type(ev, "numbers|items", "integer", "int32");
    expect_type(ev, "tags|items", "string", NULL);
    expect_type(ev, "bigNumbers|items", "string", "int64");
    expect_type(ev, "doubles|items", "number", "double");
    expect_type(ev, "counts", "object", NULL);
    expect_type(ev, "counts|additionalProperties", "integer", "int32");
    expect_str(ev, "counts|x-proto", "map<string, int32> counts");
    expect_str(ev, "itemsById|additionalProperties|$ref", "#/components/schemas/pbjsontest.Item");
    expect_type(ev, "createdAt", "string", "date-time");
    expect_type(ev, "times|items", "string", "date-time");
    expect_type(ev, "metadata", "object", NULL);
    assert_int_equal(json_object_size(at(ev, "extra")), 1); /* any JSON: only its x-proto */
    expect_type(ev, "list", "array", NULL);
    /* oneof members are plain properties */
    assert_non_null(json_object_get(ev, "choiceText"));
    expect_str(ev, "choiceItem|$ref", "#/components/schemas/pbjsontest.Item");
    /* map entries and well-known types get no schema of their own */
    assert_null(at(doc, "components|schemas|pbjsontest.Everything.CountsEntry"));
    assert_null(at(doc, "components|schemas|google.protobuf.Timestamp"));
    /* a nested message's schema is in the components, with the same mapping */
    expect_type(doc, "components|schemas|pbjsontest.Item|properties|price", "number", "double");
    expect_type(doc, "components|schemas|pbjsontest.Thing|properties|weight", "string", "int64");
    json_decref(doc);
}

/* The depth of a JSON value (a scalar is 0). Recursion is fine here: on the test's main thread. */
static size_t depth(json_t *j)
{
    size_t d = 0;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            size_t c = depth(v);
            d = c > d ? c : d;
        }
        return d + 1;
    }
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            size_t c = depth(v);
            d = c > d ? c : d;
        }
        return d + 1;
    }
    return 0;
}

struct stack_job {
    json_t *doc;
    core_status st;
    char msg[CORE_ERR_MSG_MAX];
};

static void *on_small_stack(void *arg)
{
    struct stack_job *job = arg;
    core_err err = CORE_ERR_INIT;
    job->st = openapi_document(&api, &job->doc, &err);
    snprintf(job->msg, sizeof job->msg, "%s", err.msg);
    return NULL;
}

static void test_nesting_without_end_is_bounded(void **state)
{
    (void)state;
    /* built on a thread with civetweb's 100 KiB worker stack, as a request would build it */
    struct stack_job job = {0};
    pthread_attr_t attr;
    pthread_t th;
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_int_equal(pthread_attr_setstacksize(&attr, 0x19000), 0);
    assert_int_equal(pthread_create(&th, &attr, on_small_stack, &job), 0);
    pthread_attr_destroy(&attr);
    assert_int_equal(pthread_join(th, NULL), 0);
    if (job.st != CORE_OK)
        fail_msg("openapi_document: %s", job.msg);
    json_t *doc = job.doc;
    json_t *schemas = at(doc, "components|schemas");

    /* a message that contains itself refers to its own schema */
    expect_str(schemas, "oapitest.Node|properties|parent|$ref",
               "#/components/schemas/oapitest.Node");
    expect_str(schemas, "oapitest.Node|properties|children|items|$ref",
               "#/components/schemas/oapitest.Node");
    /* two that contain each other, each once */
    expect_str(schemas, "oapitest.Ping|properties|pong|$ref", "#/components/schemas/oapitest.Pong");
    expect_str(schemas, "oapitest.Pong|properties|ping|$ref", "#/components/schemas/oapitest.Ping");
    /* a chain deeper than pb.h's 32 levels: every link, each a flat schema (the first is the
     * input, so the request body's inline schema) */
    expect_str(doc,
               "paths|/api/walk|post|requestBody|content|application/json|schema|properties|next|"
               "$ref",
               "#/components/schemas/oapitest.Chain1");
    assert_null(json_object_get(schemas, "oapitest.Chain0"));
    for (int i = 1; i < 40; i++) {
        char p[128];
        snprintf(p, sizeof p, "oapitest.Chain%d", i);
        assert_non_null(json_object_get(schemas, p));
        if (i < 39) {
            char want[128];
            snprintf(p, sizeof p, "oapitest.Chain%d|properties|next|$ref", i);
            snprintf(want, sizeof want, "#/components/schemas/oapitest.Chain%d", i + 1);
            expect_str(schemas, p, want);
        }
    }
    /* whatever the nesting, the document's own depth stays small */
    size_t d = depth(doc);
    if (d > 12)
        fail_msg("document %zu levels deep", d);
    json_decref(doc);
}

static void test_broken_tables_are_refused(void **state)
{
    (void)state;
    long live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    json_t *doc = NULL;

    static const struct gw_route no_method[] = {{"GET", "/api/x", "Nope"}};
    struct openapi_service s = {&pbjsontest__things_service__descriptor, no_method, 1};
    struct openapi_api a = {"T", "1", NULL, &s, 1};
    assert_int_equal(openapi_document(&a, &doc, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "route 0 of pbjsontest.ThingsService: no method \"Nope\"");

    static const struct gw_route bad_param[] = {{"GET", "/api/x/{idx}", "GetThing"}};
    s.routes = bad_param;
    assert_int_equal(openapi_document(&a, &doc, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "route GET /api/x/{idx}: a path parameter is not a singular "
                                 "scalar field of pbjsontest.GetThingRequest");

    static const struct gw_route twice[] = {{"GET", "/api/x/{id}", "GetThing"},
                                            {"GET", "/api/x/{id}", "GetThing"}};
    s.routes = twice;
    s.n = 2;
    assert_int_equal(openapi_document(&a, &doc, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "route GET /api/x/{id} is there twice");

    a.title = NULL;
    assert_int_equal(openapi_document(&a, &doc, &err), CORE_ERR_INVALID);
    assert_null(doc);

    /* no routes at all: a valid, empty document */
    struct openapi_api empty = {"Empty", "0", NULL, NULL, 0};
    assert_int_equal(openapi_document(&empty, &doc, &err), CORE_OK);
    assert_int_equal(json_object_size(at(doc, "paths")), 0);
    assert_non_null(at(doc, "components|schemas|Error"));
    json_decref(doc);
    assert_int_equal(core_alloc_live(), live);
}

static void test_out_of_memory_leaks_nothing(void **state)
{
    (void)state;
    long live = core_alloc_live();
    bool ok = false;
    for (long n = 0; !ok && n < 100; n++) {
        json_t *doc = NULL;
        core_err err = CORE_ERR_INIT;
        core_alloc_fail_after(n);
        core_status st = openapi_document(&api, &doc, &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK) {
            ok = true;
            json_decref(doc);
        } else {
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_null(doc);
        }
        assert_int_equal(core_alloc_live(), live);
    }
    assert_true(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_required_fields_of_openapi_3),
        cmocka_unit_test(test_every_route_is_an_operation),
        cmocka_unit_test(test_path_parameters_are_declared),
        cmocka_unit_test(test_request_body_from_the_input_fields),
        cmocka_unit_test(test_nesting_without_end_is_bounded),
        cmocka_unit_test(test_broken_tables_are_refused),
        cmocka_unit_test(test_out_of_memory_leaks_nothing),
    };
    return cmocka_run_group_tests_name("openapi", tests, NULL, NULL);
}
