/* test_gateway.c -- the REST gateway (gateway.h) end to end on loopback: a web server on an
 * ephemeral port, an RPC registry with a small in-memory "things" service (pbjson_test.proto),
 * and httpc as the client. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "console.h"
#include "core.h"
#include "gateway.h"
#include "httpc.h"
#include "pb.h"
#include "pbjson_test.pb-c.h"
#include "rpc_test.pb-c.h"
#include "rpc.h"
#include "web.h"

#define BODY_LIMIT 4096

/* ---- the things service -------------------------------------------------------------------------
 */

#define MAX_THINGS 16

struct thing {
    char id[32];
    char name[64];
    int32_t size;
    int64_t weight;
    int status;
};

struct things {
    pthread_mutex_t lock;
    struct thing items[MAX_THINGS];
    size_t n;
    char last_update_id[64]; /* what UpdateThing saw last */
    char last_update_name[64];
};

static struct thing *find(struct things *t, const char *id)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->items[i].id, id) == 0)
            return &t->items[i];
    return NULL;
}

static core_status thing_to_pb(const struct thing *th, Pbjsontest__Thing **out, core_err *err)
{
    Pbjsontest__Thing *pb = pb_new_of(pbjsontest__thing);
    if (!pb)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    core_status st = pb_set_string(&pb->id, th->id, err);
    if (st == CORE_OK)
        st = pb_set_string(&pb->name, th->name, err);
    pb->size = th->size;
    pb->weight = th->weight;
    pb->status = th->status;
    if (st != CORE_OK) {
        pb_free(&pb->base);
        return st;
    }
    *out = pb;
    return CORE_OK;
}

static core_status create_thing(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                core_err *err)
{
    struct things *t = ud;
    const Pbjsontest__CreateThingRequest *in = (const Pbjsontest__CreateThingRequest *)req;
    if (core_str_blank(in->name))
        return core_err_set(err, CORE_ERR_INVALID, "the thing name cannot be blank");
    Pbjsontest__CreateThingResponse *out = pb_new_of(pbjsontest__create_thing_response);
    if (!out)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&t->lock);
    core_status st = CORE_OK;
    if (t->n == MAX_THINGS) {
        st = core_err_set(err, CORE_ERR_CONFLICT, "too many things");
    } else {
        struct thing *th = &t->items[t->n++];
        memset(th, 0, sizeof *th);
        snprintf(th->id, sizeof th->id, "thing-%zu", t->n);
        core_strlcpy(th->name, in->name, sizeof th->name);
        th->size = in->size;
        th->weight = in->weight;
        st = pb_set_string(&out->id, th->id, err);
    }
    pthread_mutex_unlock(&t->lock);
    if (st != CORE_OK) {
        pb_free(&out->base);
        return st;
    }
    *resp = &out->base;
    return CORE_OK;
}

static core_status get_thing(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                             core_err *err)
{
    struct things *t = ud;
    const Pbjsontest__GetThingRequest *in = (const Pbjsontest__GetThingRequest *)req;
    Pbjsontest__GetThingResponse *out = pb_new_of(pbjsontest__get_thing_response);
    if (!out)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&t->lock);
    const struct thing *th = find(t, in->id);
    core_status st = th ? thing_to_pb(th, &out->thing, err)
                        : core_err_set(err, CORE_ERR_NOT_FOUND, "thing %s not found", in->id);
    pthread_mutex_unlock(&t->lock);
    if (st != CORE_OK) {
        pb_free(&out->base);
        return st;
    }
    *resp = &out->base;
    return CORE_OK;
}

static core_status update_thing(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                core_err *err)
{
    struct things *t = ud;
    const Pbjsontest__UpdateThingRequest *in = (const Pbjsontest__UpdateThingRequest *)req;
    Pbjsontest__UpdateThingResponse *out = pb_new_of(pbjsontest__update_thing_response);
    if (!out)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&t->lock);
    core_strlcpy(t->last_update_id, in->id, sizeof t->last_update_id);
    core_strlcpy(t->last_update_name, in->name, sizeof t->last_update_name);
    struct thing *th = find(t, in->id);
    core_status st;
    if (!th) {
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "thing %s not found", in->id);
    } else {
        if (!core_str_blank(in->name))
            core_strlcpy(th->name, in->name, sizeof th->name);
        if (in->size)
            th->size = in->size;
        th->status = in->status;
        st = thing_to_pb(th, &out->thing, err);
    }
    pthread_mutex_unlock(&t->lock);
    if (st != CORE_OK) {
        pb_free(&out->base);
        return st;
    }
    *resp = &out->base;
    return CORE_OK;
}

static core_status delete_thing(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                core_err *err)
{
    (void)ud;
    const Pbjsontest__DeleteThingRequest *in = (const Pbjsontest__DeleteThingRequest *)req;
    if (strcmp(in->id, "boom") == 0)
        return core_err_set(err, CORE_ERR_IO, "the thing store is on fire");
    if (strcmp(in->id, "wrong-type") == 0) { /* a buggy implementation: answers the wrong type */
        ProtobufCMessage *m = pb_new(&pbjsontest__thing__descriptor);
        if (!m)
            return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
        *resp = m;
        return CORE_OK;
    }
    return core_err_set(err, CORE_ERR_NOT_FOUND, "thing %s not found", in->id);
}

/* ListThings is deliberately not implemented. */
static const struct rpc_method methods[] = {
    {"CreateThing", create_thing},
    {"GetThing", get_thing},
    {"UpdateThing", update_thing},
    {"DeleteThing", delete_thing},
};

static const struct gw_route routes[] = {
    {"POST", "/api/things", "CreateThing"},
    {"GET", "/api/things", "ListThings"},
    {"GET", "/api/things/{id}", "GetThing"},
    {"PUT", "/api/things/{id}", "UpdateThing"},
    {"DELETE", "/api/things/{id}", "DeleteThing"},
    {"PUT", "/api/things/{id}/size/{size}", "UpdateThing"},
    {"PUT", "/api/things/{id}/status/{status}", "UpdateThing"},
};

/* ---- fixture ------------------------------------------------------------------------------------
 */

struct fixture {
    long live_before;
    struct things things;
    rpc_registry *reg;
    web_server *srv;
    httpc *http;
};

static struct fixture the_fixture;

static int setup(void **state)
{
    struct fixture *fx = &the_fixture;
    memset(fx, 0, sizeof *fx);
    fx->live_before = core_alloc_live();
    pthread_mutex_init(&fx->things.lock, NULL);
    core_err err = CORE_ERR_INIT;
    struct web_opts opts = WEB_OPTS_INIT;
    opts.port = 0;
    opts.body_limit = BODY_LIMIT;
    opts.threads = 4;
    opts.drain_timeout_ms = 2000;
    if (rpc_registry_new(&fx->reg, &err) != CORE_OK ||
        rpc_registry_add(fx->reg, &pbjsontest__things_service__descriptor, methods,
                         sizeof methods / sizeof methods[0], &fx->things, &err) != CORE_OK ||
        web_server_new(&fx->srv, &opts, &err) != CORE_OK ||
        gw_mount(fx->srv, fx->reg, &pbjsontest__things_service__descriptor, routes,
                 sizeof routes / sizeof routes[0], &err) != CORE_OK ||
        web_server_start(fx->srv, &err) != CORE_OK ||
        httpc_new(&fx->http, "127.0.0.1", web_server_port(fx->srv), 5000, &err) != CORE_OK) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    httpc_free(fx->http);
    web_server_stop(fx->srv);
    web_server_free(fx->srv);
    rpc_registry_free(fx->reg);
    pthread_mutex_destroy(&fx->things.lock);
    long leaked = core_alloc_live() - fx->live_before;
    if (leaked != 0) {
        fprintf(stderr, "teardown: %ld allocations leaked\n", leaked);
        return -1;
    }
    return 0;
}

static const char *const json_headers[] = {"Content-Type: application/json", NULL};

/* Sends a request (body with Content-Type application/json unless headers given). */
static void call(struct fixture *fx, const char *method, const char *path,
                 const char *const *headers, const char *body, struct httpc_response *resp)
{
    core_err err = CORE_ERR_INIT;
    httpc_response_release(resp);
    if (httpc_request(fx->http, method, path, headers, body, body ? strlen(body) : 0, resp, &err) !=
        CORE_OK)
        fail_msg("%s %s: %s", method, path, err.msg);
}

static void expect(struct fixture *fx, const char *method, const char *path, const char *body,
                   int status, const char *want_body)
{
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    call(fx, method, path, body ? json_headers : NULL, body, &resp);
    if (resp.status != status || (want_body && strcmp(resp.body, want_body) != 0))
        fail_msg("%s %s %s: got %d %s, want %d %s", method, path, body ? body : "", resp.status,
                 resp.body, status, want_body ? want_body : "(any)");
    const char *ct = httpc_response_header(&resp, "Content-Type");
    assert_non_null(ct);
    assert_string_equal(ct, "application/json");
    httpc_response_release(&resp);
}

/* Same, checking that the body starts with want_prefix. */
static void expect_prefix(struct fixture *fx, const char *method, const char *path,
                          const char *body, int status, const char *want_prefix)
{
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    call(fx, method, path, body ? json_headers : NULL, body, &resp);
    if (resp.status != status || strncmp(resp.body, want_prefix, strlen(want_prefix)) != 0)
        fail_msg("%s %s: got %d %s, want %d %s...", method, path, resp.status, resp.body, status,
                 want_prefix);
    httpc_response_release(&resp);
}

/* ---- tests --------------------------------------------------------------------------------------
 */

static void post_with_json_body_answers_json(void **state)
{
    struct fixture *fx = *state;
    expect(fx, "POST", "/api/things", "{\"name\":\"bolt\",\"size\":3,\"weight\":\"12\"}", 200,
           "{\"id\":\"thing-1\"}");
    expect(fx, "GET", "/api/things/thing-1", NULL, 200,
           "{\"thing\":{\"id\":\"thing-1\",\"name\":\"bolt\",\"size\":3,\"weight\":\"12\","
           "\"status\":\"STATUS_UNKNOWN\"}}");
    /* snake_case input and a charset parameter are fine too */
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    static const char *const charset[] = {"Content-Type: application/json; charset=utf-8", NULL};
    call(fx, "POST", "/api/things", charset, "{\"name\":\"nut\",\"size\":\"4\"}", &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, "{\"id\":\"thing-2\"}");
    httpc_response_release(&resp);
}

static void path_parameters_fill_fields_and_win_over_the_body(void **state)
{
    struct fixture *fx = *state;
    expect(fx, "POST", "/api/things", "{\"name\":\"gear\"}", 200, "{\"id\":\"thing-1\"}");
    expect(fx, "PUT", "/api/things/thing-1",
           "{\"id\":\"thing-99\",\"name\":\"cog\",\"status\":\"STATUS_ACTIVE\"}", 200,
           "{\"thing\":{\"id\":\"thing-1\",\"name\":\"cog\",\"size\":0,\"weight\":\"0\",\"status\":"
           "\"STATUS_ACTIVE\"}}");
    assert_string_equal(fx->things.last_update_id, "thing-1");
    assert_string_equal(fx->things.last_update_name, "cog");
    /* an int32 and an enum from the path, no body at all */
    expect(fx, "PUT", "/api/things/thing-1/size/7", NULL, 200,
           "{\"thing\":{\"id\":\"thing-1\",\"name\":\"cog\",\"size\":7,\"weight\":\"0\",\"status\":"
           "\"STATUS_UNKNOWN\"}}");
    expect(fx, "PUT", "/api/things/thing-1/status/STATUS_RETIRED", "{\"size\":8}", 200,
           "{\"thing\":{\"id\":\"thing-1\",\"name\":\"cog\",\"size\":8,\"weight\":\"0\",\"status\":"
           "\"STATUS_RETIRED\"}}");
    /* the path wins over the body for the same field */
    expect(fx, "PUT", "/api/things/thing-1/size/9", "{\"size\":100}", 200,
           "{\"thing\":{\"id\":\"thing-1\",\"name\":\"cog\",\"size\":9,\"weight\":\"0\",\"status\":"
           "\"STATUS_UNKNOWN\"}}");
    /* percent-decoded parameter */
    expect(fx, "GET", "/api/things/a%20b", NULL, 404,
           "{\"code\":5,\"message\":\"thing a b not found\"}");
    /* a path value that does not parse */
    expect(fx, "PUT", "/api/things/thing-1/size/abc", NULL, 400,
           "{\"code\":3,\"message\":\"field \\\"size\\\": \\\"abc\\\" is not an integer\"}");
    expect(fx, "PUT", "/api/things/thing-1/status/NOPE", NULL, 400,
           "{\"code\":3,\"message\":\"field \\\"status\\\": unknown enum value \\\"NOPE\\\" for "
           "pbjsontest.Status\"}");
}

static void bad_bodies_answer_400_naming_the_problem(void **state)
{
    struct fixture *fx = *state;
    expect(
        fx, "POST", "/api/things", "{\"nmae\":\"bolt\"}", 400,
        "{\"code\":3,\"message\":\"unknown field \\\"nmae\\\" in pbjsontest.CreateThingRequest\"}");
    expect_prefix(fx, "POST", "/api/things", "{\"name\":", 400,
                  "{\"code\":3,\"message\":\"invalid JSON at line 1, column");
    expect_prefix(fx, "POST", "/api/things", "{\"name\":\"a\"} trailing", 400,
                  "{\"code\":3,\"message\":\"invalid JSON");
    expect_prefix(fx, "POST", "/api/things", "{\"name\":\"a\",\"name\":\"b\"}", 400,
                  "{\"code\":3,\"message\":\"invalid JSON");
    expect(fx, "POST", "/api/things", "[]", 400,
           "{\"code\":3,\"message\":\"expected a JSON object for pbjsontest.CreateThingRequest, "
           "got an array\"}");
    expect(fx, "POST", "/api/things", "{\"name\":\"bolt\",\"size\":\"big\"}", 400,
           "{\"code\":3,\"message\":\"field \\\"size\\\": expected an integer, got a string\"}");
    expect(fx, "POST", "/api/things", "{\"name\":\"bolt\",\"size\":2.5}", 400,
           "{\"code\":3,\"message\":\"field \\\"size\\\": 2.5 is not an integer\"}");
    /* a body on GET is decoded too */
    expect(
        fx, "GET", "/api/things/x", "{\"bogus\":1}", 400,
        "{\"code\":3,\"message\":\"unknown field \\\"bogus\\\" in pbjsontest.GetThingRequest\"}");
    /* a body that is not JSON by its Content-Type */
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    static const char *const text_plain[] = {"Content-Type: text/plain", NULL};
    call(fx, "POST", "/api/things", text_plain, "{\"name\":\"bolt\"}", &resp);
    assert_int_equal(resp.status, 415);
    assert_string_equal(
        resp.body,
        "{\"code\":3,\"message\":\"unsupported Content-Type \\\"text/plain\\\": send the body "
        "as JSON with -H 'Content-Type: application/json'\"}");
    /* what `curl -d` and an HTML form send, and a body with no type (fetch() with a Blob): any web
     * page can make a browser post those cross-site */
    static const char *const form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    call(fx, "POST", "/api/things", form, "{\"name\":\"bolt\"}", &resp);
    assert_int_equal(resp.status, 415);
    assert_string_equal(resp.body,
                        "{\"code\":3,\"message\":\"unsupported Content-Type "
                        "\\\"application/x-www-form-urlencoded\\\": send the body as JSON with -H "
                        "'Content-Type: application/json'\"}");
    call(fx, "POST", "/api/things", NULL, "{\"name\":\"bolt\"}", &resp);
    assert_int_equal(resp.status, 415);
    assert_string_equal(
        resp.body, "{\"code\":3,\"message\":\"missing Content-Type: send the body as JSON with -H "
                   "'Content-Type: application/json'\"}");
    /* nesting beyond what any message needs, before anything recursive parses it */
    char deep[2 * 1000 + 1];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    deep[2000] = '\0';
    expect(fx, "POST", "/api/things", deep, 400,
           "{\"code\":3,\"message\":\"JSON nested deeper than 64 levels\"}");
    static const char *const problem[] = {"Content-Type: application/merge-patch+json", NULL};
    call(fx, "POST", "/api/things", problem, "{\"name\":\"bolt\"}", &resp);
    assert_int_equal(resp.status, 200);
    /* no body: the Content-Type does not matter */
    call(fx, "GET", "/api/things/thing-1", text_plain, NULL, &resp);
    assert_int_equal(resp.status, 200);
    httpc_response_release(&resp);
    assert_int_equal(fx->things.n, 1); /* none of the bad requests reached the implementation */
}

static void implementation_errors_map_to_http(void **state)
{
    struct fixture *fx = *state;
    expect(fx, "GET", "/api/things/nope", NULL, 404,
           "{\"code\":5,\"message\":\"thing nope not found\"}");
    expect(fx, "DELETE", "/api/things/nope", NULL, 404,
           "{\"code\":5,\"message\":\"thing nope not found\"}");
    expect(fx, "POST", "/api/things", "{\"name\":\"  \"}", 400,
           "{\"code\":3,\"message\":\"the thing name cannot be blank\"}");
    expect(fx, "POST", "/api/things", "", 400,
           "{\"code\":3,\"message\":\"the thing name cannot be blank\"}");
    /* 5xx details are logged under the request id, which the body carries */
    expect_prefix(fx, "DELETE", "/api/things/boom", NULL, 500,
                  "{\"code\":13,\"message\":\"the thing store is on fire\",\"requestId\":\"");
    expect_prefix(fx, "DELETE", "/api/things/wrong-type", NULL, 500,
                  "{\"code\":13,\"message\":\"method pbjsontest.ThingsService.DeleteThing returned "
                  "pbjsontest.Thing");
    expect(fx, "GET", "/api/things", NULL, 404,
           "{\"code\":5,\"message\":\"method pbjsontest.ThingsService.ListThings is not "
           "implemented\"}");
    /* a path parameter that is not UTF-8 never reaches the implementation (nor a database) */
    expect(fx, "GET", "/api/things/%FF%FE", NULL, 400,
           "{\"code\":3,\"message\":\"the id is not valid UTF-8\"}");
}

static void routing_errors_come_from_the_web_server(void **state)
{
    struct fixture *fx = *state;
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    call(fx, "GET", "/api/nothing", NULL, NULL, &resp);
    assert_int_equal(resp.status, 404);
    call(fx, "PATCH", "/api/things", json_headers, "{}", &resp);
    assert_int_equal(resp.status, 405);
    char big[BODY_LIMIT + 100];
    memset(big, ' ', sizeof big - 1);
    big[0] = '{';
    big[sizeof big - 2] = '}';
    big[sizeof big - 1] = '\0';
    call(fx, "POST", "/api/things", json_headers, big, &resp);
    assert_int_equal(resp.status, 413);
    httpc_response_release(&resp);
    /* and the server still answers afterwards */
    expect(fx, "POST", "/api/things", "{\"name\":\"after\"}", 200, "{\"id\":\"thing-1\"}");
}

static void mount_rejects_broken_route_tables(void **state)
{
    (void)state;
    long live = core_alloc_live();
    web_server *srv = NULL;
    rpc_registry *reg = NULL;
    core_err err = CORE_ERR_INIT;
    struct web_opts opts = WEB_OPTS_INIT;
    opts.port = 0;
    assert_int_equal(web_server_new(&srv, &opts, &err), CORE_OK);
    assert_int_equal(rpc_registry_new(&reg, &err), CORE_OK);
    const ProtobufCServiceDescriptor *svc = &pbjsontest__things_service__descriptor;

    static const struct gw_route unknown_rpc[] = {{"GET", "/api/a/{id}", "GetThing"},
                                                  {"GET", "/api/b", "Nope"}};
    assert_int_equal(gw_mount(srv, reg, svc, unknown_rpc, 2, &err), CORE_ERR_INVALID);
    assert_string_equal(
        err.msg, "route GET /api/b: rpc \"Nope\" is not a method of pbjsontest.ThingsService");

    static const struct gw_route unknown_field[] = {{"PUT", "/api/things/{idx}/x", "UpdateThing"}};
    assert_int_equal(gw_mount(srv, reg, svc, unknown_field, 1, &err), CORE_ERR_INVALID);
    assert_string_equal(
        err.msg, "route PUT /api/things/{idx}/x: path parameter {idx}: unknown field \"idx\" in "
                 "pbjsontest.UpdateThingRequest");

    static const struct gw_route second_bad[] = {{"GET", "/api/c/{id}", "GetThing"},
                                                 {"GET", "/api/d/{id}/{name}", "GetThing"}};
    assert_int_equal(gw_mount(srv, reg, svc, second_bad, 2, &err), CORE_ERR_INVALID);
    assert_string_equal(
        err.msg, "route GET /api/d/{id}/{name}: path parameter {name}: unknown field \"name\" in "
                 "pbjsontest.GetThingRequest");

    static const struct gw_route null_rpc[] = {{"GET", "/api/e", NULL}};
    assert_int_equal(gw_mount(srv, reg, svc, null_rpc, 1, &err), CORE_ERR_INVALID);
    assert_int_equal(gw_mount(NULL, reg, svc, routes, 1, &err), CORE_ERR_INVALID);

    /* JSON names work as parameter names too; a duplicate route is the web server's conflict */
    static const struct gw_route ok[] = {{"GET", "/api/f/{id}", "GetThing"},
                                         {"PUT", "/api/f/{id}/{size}", "UpdateThing"}};
    assert_int_equal(gw_mount(srv, reg, svc, ok, 2, &err), CORE_OK);
    static const struct gw_route dup[] = {{"GET", "/api/f/{id}", "GetThing"}};
    assert_int_equal(gw_mount(srv, reg, svc, dup, 1, &err), CORE_ERR_CONFLICT);
    assert_memory_equal(err.msg, "route GET /api/f/{id}: ", 23);

    /* none of the rejected tables was mounted: their paths answer 404 */
    assert_int_equal(web_server_start(srv, &err), CORE_OK);
    httpc *http = NULL;
    assert_int_equal(httpc_new(&http, "127.0.0.1", web_server_port(srv), 5000, &err), CORE_OK);
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    static const char *const paths[] = {"/api/a/1", "/api/c/1"};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(httpc_request(http, "GET", paths[i], NULL, NULL, 0, &resp, &err), CORE_OK);
        assert_int_equal(resp.status, 404);
        httpc_response_release(&resp);
    }
    /* the service is mounted but not registered: 404 from the registry */
    assert_int_equal(httpc_request(http, "GET", "/api/f/1", NULL, NULL, 0, &resp, &err), CORE_OK);
    assert_int_equal(resp.status, 404);
    assert_string_equal(resp.body,
                        "{\"code\":5,\"message\":\"no RPC service pbjsontest.ThingsService\"}");
    httpc_response_release(&resp);

    httpc_free(http);
    web_server_stop(srv);
    web_server_free(srv);
    rpc_registry_free(reg);
    assert_int_equal(core_alloc_live(), live);
}

/* The first gw_mount() mounts the console; each mount's routes join /openapi.json. */
static void console_and_openapi_describe_every_mount(void **state)
{
    struct fixture *fx = *state;
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    call(fx, "GET", "/", NULL, NULL, &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(httpc_response_header(&resp, "Content-Type"), "text/html; charset=utf-8");
    assert_non_null(strstr(resp.body, "<script src=\"/console.js\""));
    const char *csp = httpc_response_header(&resp, "Content-Security-Policy");
    assert_non_null(csp);
    assert_non_null(strstr(csp, "default-src 'self'"));
    assert_string_equal(httpc_response_header(&resp, "X-Content-Type-Options"), "nosniff");
    assert_int_equal(resp.body_len, console_index_html_len);
    call(fx, "GET", "/console.js", NULL, NULL, &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(httpc_response_header(&resp, "Content-Type"),
                        "text/javascript; charset=utf-8");
    assert_int_equal(resp.body_len, console_js_len);
    assert_memory_equal(resp.body, console_js, console_js_len);
    call(fx, "GET", "/console.css", NULL, NULL, &resp);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body_len, console_css_len);

    call(fx, "GET", "/openapi.json", NULL, NULL, &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(httpc_response_header(&resp, "Content-Type"), "application/json");
    json_error_t jerr;
    json_t *doc = json_loads(resp.body, 0, &jerr);
    assert_non_null(doc);
    json_t *paths = json_object_get(doc, "paths");
    assert_int_equal(json_object_size(paths), 4); /* the 7 routes have 4 paths */
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        char method[8];
        size_t k = 0;
        for (; routes[i].method[k]; k++)
            method[k] = (char)(routes[i].method[k] - 'A' + 'a');
        method[k] = '\0';
        json_t *op = json_object_get(json_object_get(paths, routes[i].path), method);
        if (!op)
            fail_msg("%s %s is not in /openapi.json", routes[i].method, routes[i].path);
    }
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "info"), "title")),
                        GW_API_TITLE);
    json_decref(doc);
    /* the console's own routes are not API routes */
    assert_null(json_object_get(paths, "/"));
    httpc_response_release(&resp);
}

static void own_root(void *ud, const struct web_request *req, struct web_response *resp)
{
    (void)ud;
    (void)req;
    web_respond(resp, 204, "text/plain", NULL, 0);
}

static void second_mount_joins_the_document(void **state)
{
    (void)state;
    long live = core_alloc_live();
    web_server *srv = NULL;
    rpc_registry *reg = NULL;
    core_err err = CORE_ERR_INIT;
    struct web_opts opts = WEB_OPTS_INIT;
    opts.port = 0;
    assert_int_equal(web_server_new(&srv, &opts, &err), CORE_OK);
    assert_int_equal(rpc_registry_new(&reg, &err), CORE_OK);
    static const struct gw_route first[] = {{"GET", "/api/things/{id}", "GetThing"}};
    static const struct gw_route second[] = {{"POST", "/api/echo", "Echo"},
                                             {"POST", "/api/ping", "Ping"}};
    static const struct gw_route other[] = {{"POST", "/api/other/ping", "Ping"}};
    assert_int_equal(gw_mount(srv, reg, &pbjsontest__things_service__descriptor, first, 1, &err),
                     CORE_OK);
    /* a broken table joins nothing */
    assert_int_equal(gw_mount(srv, reg, &rpctest__echo_service__descriptor, second, 2, &err),
                     CORE_ERR_INVALID);
    assert_int_equal(gw_mount(srv, reg, &rpctest__echo_service__descriptor, second, 1, &err),
                     CORE_OK);
    assert_int_equal(gw_mount(srv, reg, &rpctest__other_service__descriptor, other, 1, &err),
                     CORE_OK);
    assert_int_equal(web_server_start(srv, &err), CORE_OK);
    httpc *http = NULL;
    assert_int_equal(httpc_new(&http, "127.0.0.1", web_server_port(srv), 5000, &err), CORE_OK);
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    assert_int_equal(httpc_request(http, "GET", "/openapi.json", NULL, NULL, 0, &resp, &err),
                     CORE_OK);
    assert_int_equal(resp.status, 200);
    json_error_t jerr;
    json_t *doc = json_loads(resp.body, 0, &jerr);
    assert_non_null(doc);
    json_t *paths = json_object_get(doc, "paths");
    assert_int_equal(json_object_size(paths), 3);
    const char *keys[3];
    size_t n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(paths, key, v) keys[n++] = key;
    assert_string_equal(keys[0], "/api/things/{id}"); /* in mount order */
    assert_string_equal(keys[1], "/api/echo");
    assert_string_equal(keys[2], "/api/other/ping");
    json_decref(doc);
    httpc_response_release(&resp);
    httpc_free(http);
    web_server_free(srv);

    /* a program that serves "/" itself is told so by its first gw_mount() */
    assert_int_equal(web_server_new(&srv, &opts, &err), CORE_OK);
    assert_int_equal(web_route(srv, "GET", "/", own_root, NULL, &err), CORE_OK);
    assert_int_equal(gw_mount(srv, reg, &pbjsontest__things_service__descriptor, first, 1, &err),
                     CORE_ERR_CONFLICT);
    assert_memory_equal(err.msg, "the console: ", 13);
    web_server_free(srv);
    rpc_registry_free(reg);
    assert_int_equal(core_alloc_live(), live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(post_with_json_body_answers_json, setup, teardown),
        cmocka_unit_test_setup_teardown(path_parameters_fill_fields_and_win_over_the_body, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_bodies_answer_400_naming_the_problem, setup, teardown),
        cmocka_unit_test_setup_teardown(implementation_errors_map_to_http, setup, teardown),
        cmocka_unit_test_setup_teardown(routing_errors_come_from_the_web_server, setup, teardown),
        cmocka_unit_test(mount_rejects_broken_route_tables),
        cmocka_unit_test_setup_teardown(console_and_openapi_describe_every_mount, setup, teardown),
        cmocka_unit_test(second_mount_joins_the_document),
    };
    return cmocka_run_group_tests_name("gateway", tests, NULL, NULL);
}
