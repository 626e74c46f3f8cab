/* fuzz_gateway.c -- libFuzzer harness: whole request bodies through the web layer and the REST
 * gateway, on civetweb's own worker threads (100 KiB of stack each in Debian's civetweb, so
 * anything that recursed on the input would crash the harness).
 *
 * A web_server on 127.0.0.1 mounts one gateway route, POST /echo, on a method that takes a
 * pbjsontest.Everything (every field kind, maps, oneofs, Timestamp, Struct/Value/ListValue, which
 * nest without end) and answers a copy of it (packed and unpacked again, as an RPC would). One
 * httpc client posts each input. Byte 0 picks the Content-Type (application/json twice, text/plain,
 * none); the rest is the body.
 *
 * Oracle: the same steps in-process (content-type rule of gateway.h, pbjson_decode, pb_pack,
 * pb_unpack, pbjson_encode) predict the status and the whole body: 200 with the same JSON, 415, or
 * the error's status with {"code": ..., "message": <the same message>}. The server must answer
 * every input (a crash would surface as a failed request), and core_alloc_live() must come back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core.h"
#include "gateway.h"
#include "httpc.h"
#include "log.h"
#include "pb.h"
#include "pbjson.h"
#include "pbjson_test.pb-c.h"
#include "rpc.h"
#include "web.h"

#define FUZZ_NAME "fuzz_gateway"
#include "fuzz_common.h"

#define BODY_LIMIT (64 * 1024)

static web_server *srv;
static rpc_registry *reg;
static httpc *client;
static long base_live;

static core_status echo(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                        core_err *err)
{
    (void)ud;
    unsigned char *packed = NULL;
    size_t len = 0;
    core_status st = pb_pack(req, &packed, &len, err);
    if (st == CORE_OK)
        st = pb_unpack(&pbjsontest__everything__descriptor, packed, len, resp, err);
    core_free(packed);
    return st;
}

static void start(void)
{
    static const struct rpc_method methods[] = {{"Echo", echo}};
    static const struct gw_route routes[] = {{"POST", "/echo", "Echo"}};
    struct web_opts opts = WEB_OPTS_INIT;
    core_err err = CORE_ERR_INIT;
    log_init(LOG_LEVEL_ERROR); /* 5xx answers are logged; the oracle judges them */
    opts.port = 0;
    opts.threads = 2;
    opts.body_limit = BODY_LIMIT;
    CHECK(rpc_registry_new(&reg, &err) == CORE_OK, "%s", err.msg);
    CHECK(rpc_registry_add(reg, &pbjsontest__everything_service__descriptor, methods, 1, NULL,
                           &err) == CORE_OK,
          "%s", err.msg);
    CHECK(web_server_new(&srv, &opts, &err) == CORE_OK, "%s", err.msg);
    CHECK(gw_mount(srv, reg, &pbjsontest__everything_service__descriptor, routes, 1, &err) ==
              CORE_OK,
          "%s", err.msg);
    CHECK(web_server_start(srv, &err) == CORE_OK, "%s", err.msg);
    CHECK(httpc_new(&client, "127.0.0.1", web_server_port(srv), 10000, &err) == CORE_OK, "%s",
          err.msg);
    base_live = core_alloc_live();
}

/* What the server should answer: *status and the exact body (caller frees). */
static char *predict(const char *body, size_t len, int ct, int *status)
{
    if (len > 0 && ct >= 2) {
        *status = 415;
        return NULL; /* the message is checked by the unit tests; here only the status */
    }
    core_err err = CORE_ERR_INIT;
    ProtobufCMessage *in = NULL, *out = NULL;
    char *json = NULL;
    core_status st = pbjson_decode(&pbjsontest__everything__descriptor, body, len, &in, &err);
    if (st == CORE_OK)
        st = echo(NULL, in, &out, &err);
    if (st == CORE_OK)
        st = pbjson_encode(out, &json, &err);
    pb_free(in);
    pb_free(out);
    if (st == CORE_OK) {
        *status = 200;
        return json;
    }
    *status = core_status_http(st);
    json_t *j = json_pack("{s:i,s:s}", "code", core_status_code(st), "message", err.msg);
    CHECK(j != NULL, "error message is not UTF-8: %s", err.msg);
    char *text = NULL;
    CHECK(pbjson_dump(j, &text, NULL, &err) == CORE_OK, "%s", err.msg);
    json_decref(j);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv)
        start();
    if (size == 0 || size - 1 > BODY_LIMIT)
        return 0;
    static const char *const json_ct[] = {"Content-Type: application/json", NULL};
    static const char *const text_ct[] = {"Content-Type: text/plain", NULL};
    int ct = data[0] % 4;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;

    int want = 0;
    char *want_body = predict(body, len, ct, &want);
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    core_err err = CORE_ERR_INIT;
    core_status st = httpc_request(client, "POST", "/echo",
                                   ct < 2    ? json_ct
                                   : ct == 2 ? text_ct
                                             : NULL,
                                   body, len, &resp, &err);
    CHECK(st == CORE_OK, "the server did not answer (crashed?): %s", err.msg);
    CHECK(resp.status == want, "status %d, want %d; body %.*s", resp.status, want,
          (int)resp.body_len, resp.body);
    if (want_body)
        CHECK(strcmp(resp.body, want_body) == 0, "status %d: body\n  %s\nwant\n  %s", resp.status,
              resp.body, want_body);
    core_free(want_body);
    httpc_response_release(&resp);
    /* as in fuzz_web: the server frees a response just after sending it; one idle connection */
    for (int i = 0; i < 1000 && core_alloc_live() > base_live + 1; i++) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK(core_alloc_live() <= base_live + 1, "%ld allocation(s) leaked",
          core_alloc_live() - base_live - 1);
    return 0;
}
