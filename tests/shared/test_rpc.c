/* test_rpc.c -- RPC registry, in-process invoke, and protobuf over HTTP (server + client).
 * Uses tests/shared/rpc_test.proto (package rpctest). Servers on 127.0.0.1, ephemeral ports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core.h"
#include "httpc.h"
#include "log.h"
#include "log_capture.h"
#include "pb.h"
#include "rpc.h"
#include "rpc_test.pb-c.h"
#include "web.h"

static log_level base_level; /* the level main() sets */

/* ---- implementations
 * ------------------------------------------------------------------------------ */

struct echo_state {
    atomic_int calls;
};

static core_status echo_impl(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                             core_err *err)
{
    struct echo_state *s = ud;
    const Rpctest__EchoRequest *in = (const Rpctest__EchoRequest *)req;
    int repeat = in->repeat > 0 ? in->repeat : 1;
    size_t len = strlen(in->text);
    Rpctest__EchoReply *out = pb_new_of(rpctest__echo_reply);
    char *text = core_malloc(len * (size_t)repeat + 1);
    if (!out || !text) {
        pb_free(out ? &out->base : NULL);
        core_free(text);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < repeat; i++)
        memcpy(text + len * (size_t)i, in->text, len);
    text[len * (size_t)repeat] = '\0';
    out->text = text;
    out->count = atomic_fetch_add(&s->calls, 1) + 1;
    *resp = &out->base;
    return CORE_OK;
}

/* Fails with the status and message it is asked for. */
static core_status fail_impl(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                             core_err *err)
{
    (void)ud;
    (void)resp;
    const Rpctest__FailRequest *in = (const Rpctest__FailRequest *)req;
    if (in->status == 0) /* a buggy implementation: an error without detail */
        return CORE_ERR_IO;
    core_err_set(err, (core_status)in->status, "%s", in->message);
    if (strncmp(in->message, "internal: ", 10) ==
        0) /* like pg.c: detail inside, public words outside */
        core_err_public(err, "the rpctest store is unavailable, try again");
    return err->status;
}

/* Answers with the wrong message type (a bug rpc_invoke must catch). */
static core_status wrong_type_impl(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                   core_err *err)
{
    (void)ud;
    (void)req;
    (void)err;
    *resp = pb_new(&rpctest__fail_reply__descriptor);
    return CORE_OK;
}

static const struct rpc_method echo_methods[] = {
    {"Echo", echo_impl},
    {"Fail", fail_impl},
};

static rpc_registry *new_registry(struct echo_state *s)
{
    rpc_registry *reg = NULL;
    core_err err = CORE_ERR_INIT;
    static const struct rpc_method other[] = {{"Ping", wrong_type_impl}};
    assert_int_equal(rpc_registry_new(&reg, &err), CORE_OK);
    assert_int_equal(
        rpc_registry_add(reg, &rpctest__echo_service__descriptor, echo_methods, 2, s, &err),
        CORE_OK);
    assert_int_equal(
        rpc_registry_add(reg, &rpctest__other_service__descriptor, other, 1, NULL, &err), CORE_OK);
    return reg;
}

static Rpctest__EchoRequest echo_req(const char *text, int repeat)
{
    Rpctest__EchoRequest r = RPCTEST__ECHO_REQUEST__INIT;
    r.text = (char *)text;
    r.repeat = repeat;
    return r;
}

/* ---- registry and in-process invoke
 * --------------------------------------------------------------- */

static void test_registry_add(void **state)
{
    (void)state;
    long live = core_alloc_live();
    rpc_registry *reg = NULL;
    core_err err = CORE_ERR_INIT;
    struct echo_state s = {0};
    assert_int_equal(rpc_registry_new(&reg, &err), CORE_OK);

    const struct rpc_method unknown[] = {{"Echo", echo_impl}, {"Nope", echo_impl}};
    assert_int_equal(
        rpc_registry_add(reg, &rpctest__echo_service__descriptor, unknown, 2, &s, &err),
        CORE_ERR_INVALID);
    assert_string_equal(err.msg, "service rpctest.EchoService has no method Nope");
    const struct rpc_method no_fn[] = {{"Echo", NULL}};
    assert_int_equal(rpc_registry_add(reg, &rpctest__echo_service__descriptor, no_fn, 1, &s, &err),
                     CORE_ERR_INVALID);
    const struct rpc_method twice[] = {{"Echo", echo_impl}, {"Echo", echo_impl}};
    assert_int_equal(rpc_registry_add(reg, &rpctest__echo_service__descriptor, twice, 2, &s, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "method rpctest.EchoService.Echo is listed twice");
    /* failed adds registered nothing */
    assert_null(rpc_registry_method(reg, "rpctest.EchoService", "Echo"));

    assert_int_equal(
        rpc_registry_add(reg, &rpctest__echo_service__descriptor, echo_methods, 2, &s, &err),
        CORE_OK);
    assert_int_equal(
        rpc_registry_add(reg, &rpctest__echo_service__descriptor, echo_methods, 2, &s, &err),
        CORE_ERR_CONFLICT);

    const ProtobufCMethodDescriptor *md = rpc_registry_method(reg, "rpctest.EchoService", "Fail");
    assert_non_null(md);
    assert_ptr_equal(md->input, &rpctest__fail_request__descriptor);
    assert_ptr_equal(md->output, &rpctest__fail_reply__descriptor);
    /* a declared but unimplemented method still has a descriptor */
    assert_non_null(rpc_registry_method(reg, "rpctest.EchoService", "Later"));
    assert_null(rpc_registry_method(reg, "rpctest.EchoService", "Nope"));
    assert_null(rpc_registry_method(reg, "rpctest.OtherService", "Ping"));

    /* out of memory while adding: an error, no leak */
    rpc_registry *reg2 = NULL;
    assert_int_equal(rpc_registry_new(&reg2, &err), CORE_OK);
    core_alloc_fail_after(1);
    core_status st =
        rpc_registry_add(reg2, &rpctest__echo_service__descriptor, echo_methods, 2, &s, &err);
    core_alloc_fail_after(-1);
    assert_int_equal(st, CORE_ERR_NOMEM);
    rpc_registry_free(reg2);

    rpc_registry_free(reg);
    rpc_registry_free(NULL);
    assert_int_equal(core_alloc_live(), live);
}

static void test_invoke(void **state)
{
    (void)state;
    long live = core_alloc_live();
    struct echo_state s = {0};
    rpc_registry *reg = new_registry(&s);
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *resp = NULL;

    Rpctest__EchoRequest req = echo_req("ab", 3);
    assert_int_equal(rpc_invoke(reg, "rpctest.EchoService", "Echo", &req.base, &resp, &err),
                     CORE_OK);
    assert_ptr_equal(resp->descriptor, &rpctest__echo_reply__descriptor);
    assert_string_equal(((Rpctest__EchoReply *)resp)->text, "ababab");
    assert_int_equal(((Rpctest__EchoReply *)resp)->count, 1);
    pb_free(resp);
    resp = NULL;

    /* the wrong request type */
    Rpctest__FailRequest freq = RPCTEST__FAIL_REQUEST__INIT;
    assert_int_equal(rpc_invoke(reg, "rpctest.EchoService", "Echo", &freq.base, &resp, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(
        err.msg,
        "method rpctest.EchoService.Echo takes a rpctest.EchoRequest, not a rpctest.FailRequest");
    assert_null(resp);
    assert_int_equal(atomic_load(&s.calls), 1); /* not called */

    /* unimplemented, unknown method, unknown service */
    assert_int_equal(rpc_invoke(reg, "rpctest.EchoService", "Later", &req.base, &resp, &err),
                     CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "method rpctest.EchoService.Later is not implemented");
    assert_int_equal(rpc_invoke(reg, "rpctest.EchoService", "Nope", &req.base, &resp, &err),
                     CORE_ERR_NOT_FOUND);
    assert_int_equal(rpc_invoke(reg, "rpctest.Nope", "Echo", &req.base, &resp, &err),
                     CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "no RPC service rpctest.Nope");

    /* an implementation's error passes through unchanged */
    freq.status = CORE_ERR_CONFLICT;
    freq.message = "store is already participating";
    assert_int_equal(rpc_invoke(reg, "rpctest.EchoService", "Fail", &freq.base, &resp, &err),
                     CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, "store is already participating");
    /* ... and one without detail gets a generic message */
    freq.status = 0;
    assert_int_equal(rpc_invoke(reg, "rpctest.EchoService", "Fail", &freq.base, &resp, &err),
                     CORE_ERR_IO);
    assert_string_equal(err.msg, "rpctest.EchoService.Fail failed: i/o error");
    /* a response of the wrong type is caught */
    assert_int_equal(rpc_invoke(reg, "rpctest.OtherService", "Ping", &req.base, &resp, &err),
                     CORE_ERR_INTERNAL);
    assert_null(resp);

    rpc_registry_free(reg);
    assert_int_equal(core_alloc_live(), live);
}

/* rpc_invoke writes the book's "-->" and "<--" records around every call, for every module (rpc.h,
 * "Logging"); nothing for a call of no method, nothing above debug level. */
static void test_invoke_logs(void **state)
{
    (void)state;
    long live = core_alloc_live();
    struct echo_state s = {0};
    rpc_registry *reg = new_registry(&s);
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *resp = NULL;
    struct log_capture cap;
    char text[4096];
    log_capture_start(&cap, LOG_LEVEL_DEBUG);

    Rpctest__EchoRequest req = echo_req("ab", 1);
    assert_int_equal(rpc_invoke(reg, "rpctest.EchoService", "Echo", &req.base, &resp, &err),
                     CORE_OK);
    pb_free(resp);
    resp = NULL;
    assert_string_equal(log_capture_take(&cap, text, sizeof text),
                        "DEBUG rpctest: --> Rpctest.Echo\n"
                        "DEBUG rpctest: <-- Rpctest.Echo took=Nms\n");

    /* a failure: its status and whole message, quoted so the record stays one line */
    Rpctest__FailRequest freq = RPCTEST__FAIL_REQUEST__INIT;
    freq.status = CORE_ERR_CONFLICT;
    freq.message = "store \"Corner\"\nis already participating";
    assert_int_equal(rpc_invoke(reg, "rpctest.EchoService", "Fail", &freq.base, &resp, &err),
                     CORE_ERR_CONFLICT);
    assert_string_equal(
        err.msg, "store \"Corner\"\nis already participating"); /* the caller's is unchanged */
    assert_string_equal(log_capture_take(&cap, text, sizeof text),
                        "DEBUG rpctest: --> Rpctest.Fail\n"
                        "DEBUG rpctest: <-- Rpctest.Fail status=CORE_ERR_CONFLICT "
                        "error=\"store \\\"Corner\\\"\\nis already participating\" took=Nms\n");
    /* the internal detail goes to the log, where the client gets the public words */
    freq.status = CORE_ERR_UNAVAILABLE;
    freq.message = "internal: connection to 10.0.0.7:5432 refused";
    assert_int_equal(rpc_invoke(reg, "rpctest.EchoService", "Fail", &freq.base, &resp, &err),
                     CORE_ERR_UNAVAILABLE);
    assert_string_equal(log_capture_take(&cap, text, sizeof text),
                        "DEBUG rpctest: --> Rpctest.Fail\n"
                        "DEBUG rpctest: <-- Rpctest.Fail status=CORE_ERR_UNAVAILABLE "
                        "error=\"internal: connection to 10.0.0.7:5432 refused\" took=Nms\n");
    /* checks of the core fail inside the records too */
    assert_int_equal(rpc_invoke(reg, "rpctest.OtherService", "Ping", &req.base, &resp, &err),
                     CORE_ERR_INTERNAL);
    assert_string_equal(
        log_capture_take(&cap, text, sizeof text),
        "DEBUG rpctest: --> Rpctest.Ping\n"
        "DEBUG rpctest: <-- Rpctest.Ping status=CORE_ERR_INTERNAL error=\"method "
        "rpctest.OtherService.Ping returned rpctest.FailReply instead of a rpctest.EchoReply\" "
        "took=Nms\n");

    /* no method is called: no records */
    assert_int_equal(rpc_invoke(reg, "rpctest.EchoService", "Later", &req.base, &resp, &err),
                     CORE_ERR_NOT_FOUND);
    assert_int_equal(rpc_invoke(reg, "rpctest.EchoService", "Nope", &req.base, &resp, &err),
                     CORE_ERR_NOT_FOUND);
    assert_int_equal(rpc_invoke(reg, "rpctest.Nope", "Echo", &req.base, &resp, &err),
                     CORE_ERR_NOT_FOUND);
    assert_string_equal(log_capture_take(&cap, text, sizeof text), "");

    /* above debug level: the calls are not logged */
    log_init(LOG_LEVEL_INFO);
    assert_int_equal(rpc_invoke(reg, "rpctest.EchoService", "Echo", &req.base, &resp, &err),
                     CORE_OK);
    pb_free(resp);
    resp = NULL;
    assert_int_equal(rpc_invoke(reg, "rpctest.EchoService", "Fail", &freq.base, &resp, &err),
                     CORE_ERR_UNAVAILABLE);
    assert_string_equal(log_capture_take(&cap, text, sizeof text), "");

    log_capture_stop(&cap, base_level);
    rpc_registry_free(reg);
    assert_int_equal(core_alloc_live(), live);
}

/* ---- over HTTP
 * ----------------------------------------------------------------------------------- */

struct rig {
    struct echo_state state;
    rpc_registry *reg;
    web_server *srv;
    rpc_client *client;
};

static void rig_start(struct rig *r)
{
    struct web_opts opts = WEB_OPTS_INIT;
    core_err err = CORE_ERR_INIT;
    memset(r, 0, sizeof *r);
    opts.port = 0;
    opts.threads = 16;
    r->reg = new_registry(&r->state);
    assert_int_equal(web_server_new(&r->srv, &opts, &err), CORE_OK);
    assert_int_equal(rpc_server_mount(r->reg, r->srv, &err), CORE_OK);
    assert_int_equal(web_server_start(r->srv, &err), CORE_OK);
    assert_int_equal(rpc_client_new(&r->client, "127.0.0.1", web_server_port(r->srv), 5000, &err),
                     CORE_OK);
}

static void rig_stop(struct rig *r)
{
    rpc_client_free(r->client);
    web_server_free(r->srv);
    rpc_registry_free(r->reg);
}

static void test_call_over_http(void **state)
{
    (void)state;
    long live = core_alloc_live();
    struct rig r;
    rig_start(&r);
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *resp = NULL;

    Rpctest__EchoRequest req = echo_req("hi ", 2);
    assert_int_equal(
        rpc_call(r.client, &rpctest__echo_service__descriptor, "Echo", &req.base, &resp, &err),
        CORE_OK);
    assert_ptr_equal(resp->descriptor, &rpctest__echo_reply__descriptor);
    assert_string_equal(((Rpctest__EchoReply *)resp)->text, "hi hi ");
    pb_free(resp);
    resp = NULL;

    /* an empty request message (zero bytes on the wire) is a valid request */
    Rpctest__EchoRequest empty = RPCTEST__ECHO_REQUEST__INIT;
    assert_int_equal(
        rpc_call(r.client, &rpctest__echo_service__descriptor, "Echo", &empty.base, &resp, &err),
        CORE_OK);
    assert_string_equal(((Rpctest__EchoReply *)resp)->text, "");
    pb_free(resp);
    resp = NULL;

    /* remote errors keep their status and message */
    Rpctest__FailRequest freq = RPCTEST__FAIL_REQUEST__INIT;
    freq.status = CORE_ERR_NOT_FOUND;
    freq.message = "store 42 not found";
    assert_int_equal(
        rpc_call(r.client, &rpctest__echo_service__descriptor, "Fail", &freq.base, &resp, &err),
        CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "store 42 not found");
    assert_null(resp);
    freq.status = CORE_ERR_CONFLICT;
    freq.message = "conflict: try again";
    assert_int_equal(
        rpc_call(r.client, &rpctest__echo_service__descriptor, "Fail", &freq.base, &resp, &err),
        CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, "conflict: try again");
    assert_int_equal(
        rpc_call(r.client, &rpctest__echo_service__descriptor, "Later", &req.base, &resp, &err),
        CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "method rpctest.EchoService.Later is not implemented");

    /* client-side checks: wrong request type, unknown method */
    assert_int_equal(
        rpc_call(r.client, &rpctest__echo_service__descriptor, "Echo", &freq.base, &resp, &err),
        CORE_ERR_INVALID);
    assert_int_equal(
        rpc_call(r.client, &rpctest__echo_service__descriptor, "Nope", &req.base, &resp, &err),
        CORE_ERR_INVALID);
    assert_int_equal(atomic_load(&r.state.calls), 2);

    /* a reply over HTTPC_MAX_RESPONSE is the callee's fault, not a too large input of the caller:
     * CORE_ERR_IO (a 500 at the gateway), not CORE_ERR_TOO_LARGE (which would become a 413) */
    char kilo[1025];
    memset(kilo, 'k', 1024);
    kilo[1024] = '\0';
    Rpctest__EchoRequest huge = echo_req(kilo, (int)(HTTPC_MAX_RESPONSE / 1024) + 1);
    assert_int_equal(
        rpc_call(r.client, &rpctest__echo_service__descriptor, "Echo", &huge.base, &resp, &err),
        CORE_ERR_IO);
    assert_non_null(strstr(err.msg, "larger than"));
    assert_null(resp);

    rig_stop(&r);
    assert_int_equal(core_alloc_live(), live);
}

static void test_wire_errors(void **state)
{
    (void)state;
    long live = core_alloc_live();
    struct rig r;
    rig_start(&r);
    httpc *h = NULL;
    core_err err = CORE_ERR_INIT;
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    assert_int_equal(httpc_new(&h, "127.0.0.1", web_server_port(r.srv), 5000, &err), CORE_OK);

    /* a malformed body: 400 + Rpc-Status CORE_ERR_INVALID, text message */
    static const char *const pb_type[] = {"Content-Type: application/x-protobuf", NULL};
    const char garbage[] = {(char)0x0a, (char)0x7f, 'x'}; /* field 1, length 127, only 1 byte */
    assert_int_equal(httpc_request(h, "POST", "/rpc/rpctest.EchoService/Echo", pb_type, garbage,
                                   sizeof garbage, &resp, &err),
                     CORE_OK);
    assert_int_equal(resp.status, 400);
    assert_string_equal(httpc_response_header(&resp, "Rpc-Status"), "CORE_ERR_INVALID");
    assert_string_equal(resp.body, "malformed protobuf data for rpctest.EchoRequest");
    httpc_response_release(&resp);

    /* a string with a NUL inside (protobuf-c would cut it at the NUL): 400 naming the field, and
     * the method is not called */
    const char nul[] = {(char)0x0a, 3, 'a', 0, 'b'}; /* text = "a\0b" */
    int calls = atomic_load(&r.state.calls);
    assert_int_equal(httpc_request(h, "POST", "/rpc/rpctest.EchoService/Echo", pb_type, nul,
                                   sizeof nul, &resp, &err),
                     CORE_OK);
    assert_int_equal(resp.status, 400);
    assert_string_equal(httpc_response_header(&resp, "Rpc-Status"), "CORE_ERR_INVALID");
    assert_string_equal(resp.body, "field \"text\": string contains a NUL character");
    assert_int_equal(atomic_load(&r.state.calls), calls);
    httpc_response_release(&resp);

    /* an unknown method: 404 + CORE_ERR_NOT_FOUND */
    assert_int_equal(
        httpc_request(h, "POST", "/rpc/rpctest.EchoService/Nope", pb_type, NULL, 0, &resp, &err),
        CORE_OK);
    assert_int_equal(resp.status, 404);
    assert_string_equal(httpc_response_header(&resp, "Rpc-Status"), "CORE_ERR_NOT_FOUND");
    httpc_response_release(&resp);

    /* the success path on the wire: 200, application/x-protobuf, a packed EchoReply */
    Rpctest__EchoRequest req = echo_req("wire", 1);
    unsigned char *packed = NULL;
    size_t packed_len = 0;
    assert_int_equal(pb_pack(&req.base, &packed, &packed_len, &err), CORE_OK);
    assert_int_equal(httpc_request(h, "POST", "/rpc/rpctest.EchoService/Echo", pb_type, packed,
                                   packed_len, &resp, &err),
                     CORE_OK);
    assert_int_equal(resp.status, 200);
    httpc_response_release(&resp);
    /* the same body as text/plain (which any web page can post to 127.0.0.1) or untyped: 415 */
    static const char *const text_plain[] = {"Content-Type: text/plain", NULL};
    assert_int_equal(httpc_request(h, "POST", "/rpc/rpctest.EchoService/Echo", text_plain, packed,
                                   packed_len, &resp, &err),
                     CORE_OK);
    assert_int_equal(resp.status, 415);
    assert_string_equal(httpc_response_header(&resp, "Rpc-Status"), "CORE_ERR_INVALID");
    assert_string_equal(resp.body, "an RPC body must be sent as application/x-protobuf");
    httpc_response_release(&resp);
    assert_int_equal(httpc_request(h, "POST", "/rpc/rpctest.EchoService/Echo", NULL, packed,
                                   packed_len, &resp, &err),
                     CORE_OK);
    assert_int_equal(resp.status, 415);
    httpc_response_release(&resp);
    assert_int_equal(httpc_request(h, "POST", "/rpc/rpctest.EchoService/Echo", pb_type, packed,
                                   packed_len, &resp, &err),
                     CORE_OK);
    core_free(packed);
    assert_int_equal(resp.status, 200);
    assert_string_equal(httpc_response_header(&resp, "Content-Type"), "application/x-protobuf");
    ProtobufCMessage *reply = NULL;
    assert_int_equal(pb_unpack(&rpctest__echo_reply__descriptor, (const unsigned char *)resp.body,
                               resp.body_len, &reply, &err),
                     CORE_OK);
    assert_string_equal(((Rpctest__EchoReply *)reply)->text, "wire");
    pb_free(reply);
    httpc_response_release(&resp);

    /* an internal failure of the implementation crosses as CORE_ERR_INTERNAL (HTTP 500) */
    ProtobufCMessage *out = NULL;
    assert_int_equal(
        rpc_call(r.client, &rpctest__other_service__descriptor, "Ping", &req.base, &out, &err),
        CORE_ERR_INTERNAL);
    assert_string_equal(err.msg, "method rpctest.OtherService.Ping returned rpctest.FailReply "
                                 "instead of a rpctest.EchoReply");

    /* an internal message crosses as its public words only (the detail is logged by the server) */
    Rpctest__FailRequest freq = RPCTEST__FAIL_REQUEST__INIT;
    freq.status = CORE_ERR_UNAVAILABLE;
    freq.message = "internal: cannot connect to PostgreSQL at 10.1.2.3:5432: timeout";
    assert_int_equal(
        rpc_call(r.client, &rpctest__echo_service__descriptor, "Fail", &freq.base, &out, &err),
        CORE_ERR_UNAVAILABLE);
    assert_string_equal(err.msg, "the rpctest store is unavailable, try again");

    httpc_free(h);
    rig_stop(&r);
    assert_int_equal(core_alloc_live(), live);
}

/* A call over HTTP is logged once, by the server that runs the method (the RPC server calls
 * rpc_invoke), with the request id the caller passed on. */
static void test_call_logs_over_http(void **state)
{
    (void)state;
    long live = core_alloc_live();
    struct rig r;
    struct log_capture cap;
    char text[4096];
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *resp = NULL;
    rig_start(&r);
    log_capture_start(&cap, LOG_LEVEL_DEBUG);
    log_request_id_set("req-logs-1");

    Rpctest__EchoRequest req = echo_req("hi", 2);
    assert_int_equal(
        rpc_call(r.client, &rpctest__echo_service__descriptor, "Echo", &req.base, &resp, &err),
        CORE_OK);
    pb_free(resp);
    resp = NULL;
    Rpctest__FailRequest freq = RPCTEST__FAIL_REQUEST__INIT;
    freq.status = CORE_ERR_NOT_FOUND;
    freq.message = "no store 42";
    assert_int_equal(
        rpc_call(r.client, &rpctest__echo_service__descriptor, "Fail", &freq.base, &resp, &err),
        CORE_ERR_NOT_FOUND);
    log_request_id_set(NULL);
    rig_stop(&r); /* no server thread logs any more */
    const char *got = log_capture_take(&cap, text, sizeof text);
    log_capture_stop(&cap, base_level);
    /* the web server may log its start and stop too: only the method's records are checked */
    const char *want[] = {
        "DEBUG rpctest: --> Rpctest.Echo req=req-logs-1\n",
        "DEBUG rpctest: <-- Rpctest.Echo took=Nms req=req-logs-1\n",
        "DEBUG rpctest: --> Rpctest.Fail req=req-logs-1\n",
        "DEBUG rpctest: <-- Rpctest.Fail status=CORE_ERR_NOT_FOUND error=\"no store 42\" took=Nms "
        "req=req-logs-1\n",
    };
    const char *at = got;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *found = strstr(at, want[i]);
        if (!found)
            fail_msg("record %s not found (in order) in:\n%s", want[i], got);
        at = found + strlen(want[i]);
    }
    size_t arrows = 0;
    for (const char *p = got; (p = strstr(p, "> Rpctest.")) != NULL; p++)
        arrows++;
    for (const char *p = got; (p = strstr(p, "<-- Rpctest.")) != NULL; p++)
        arrows++;
    assert_int_equal(arrows, 4); /* once each: the client side writes none */
    assert_int_equal(core_alloc_live(), live);
}

static void test_unreachable(void **state)
{
    (void)state;
    long live = core_alloc_live();
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    int port = ntohs(sa.sin_port);

    rpc_client *c = NULL;
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *resp = NULL;
    assert_int_equal(rpc_client_new(&c, "127.0.0.1", port, 1000, &err), CORE_OK);
    Rpctest__EchoRequest req = echo_req("x", 1);
    assert_int_equal(
        rpc_call(c, &rpctest__echo_service__descriptor, "Echo", &req.base, &resp, &err),
        CORE_ERR_UNAVAILABLE);
    char want[128];
    snprintf(want, sizeof want,
             "rpctest RPC at 127.0.0.1:%d unreachable: cannot connect to 127.0.0.1:%d: ", port,
             port);
    assert_int_equal(strncmp(err.msg, want, strlen(want)), 0);
    /* the address stays in msg, for the log: clients get the public words */
    assert_string_equal(core_err_client_msg(&err), "the rpctest module is unavailable, try again");
    assert_null(resp);
    rpc_client_free(c);
    rpc_client_free(NULL);
    assert_int_equal(rpc_client_new(&c, "127.0.0.1", 0, 1000, &err), CORE_ERR_INVALID);
    assert_int_equal(core_alloc_live(), live);
}

struct caller {
    rpc_client *client;
    int id;
    int ok;
};

static void *caller_main(void *arg)
{
    struct caller *cl = arg;
    for (int i = 0; i < 100; i++) {
        char text[32];
        snprintf(text, sizeof text, "t%d-%d;", cl->id, i);
        Rpctest__EchoRequest req = echo_req(text, 2);
        ProtobufCMessage *resp = NULL;
        core_err err = CORE_ERR_INIT;
        if (rpc_call(cl->client, &rpctest__echo_service__descriptor, "Echo", &req.base, &resp,
                     &err) == CORE_OK) {
            char want[64];
            snprintf(want, sizeof want, "%s%s", text, text);
            if (strcmp(((Rpctest__EchoReply *)resp)->text, want) == 0)
                cl->ok++;
            pb_free(resp);
        }
    }
    return NULL;
}

static void test_concurrent_calls(void **state)
{
    (void)state;
    long live = core_alloc_live();
    struct rig r;
    rig_start(&r);
    pthread_t th[8];
    struct caller cl[8];
    for (int i = 0; i < 8; i++) {
        cl[i] = (struct caller){r.client, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, caller_main, &cl[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(cl[i].ok, 100);
    }
    assert_int_equal(atomic_load(&r.state.calls), 800);
    rig_stop(&r);
    assert_int_equal(core_alloc_live(), live);
}

int main(void)
{
    base_level = getenv("TEST_LOG_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR;
    log_init(base_level);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_add), cmocka_unit_test(test_invoke),
        cmocka_unit_test(test_invoke_logs),  cmocka_unit_test(test_call_over_http),
        cmocka_unit_test(test_wire_errors),  cmocka_unit_test(test_call_logs_over_http),
        cmocka_unit_test(test_unreachable),  cmocka_unit_test(test_concurrent_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
