/* fuzz_web.c -- libFuzzer harness: web.c's router (path templates, specificity, 404/405) and the
 * percent-decoding of path parameters, through real requests on loopback.
 *
 * A web_server with a route table like the chapters' (literal and {param} segments, overlapping
 * templates, 8 parameters) runs on 127.0.0.1 (ephemeral port); one httpc client with keep-alive
 * sends one request per input. Input byte 0 picks the method; the rest, with the bytes that cannot
 * appear in a request line removed (NUL, blanks, CR, LF), is the request target after a leading
 * '/'. The handler echoes what it got (route index, parameters, query) in a binary body.
 *
 * Oracle: a small reference router written from web.h's rules (split at '/', literal segments
 * compared raw, a parameter takes one non-empty segment, the earliest literal wins,
 * percent-decoding with "%00" and bad escapes refused) predicts status, route, parameters and Allow
 * header; a target that civetweb refuses before routing (control or non-ASCII bytes) must get
 * web.c's JSON 400 (the http_error callback). Every JSON error body must parse and carry the
 * expected "code". core_alloc_live() must not grow.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core.h"
#include "httpc.h"
#include "log.h"
#include "web.h"

#define FUZZ_NAME "fuzz_web"
#include "fuzz_common.h"

#define ECHO_TYPE "application/x-fuzz-echo"
#define MAX_SEG 32

struct troute {
    const char *method, *tmpl;
};

static const struct troute ROUTES[] = {
    {"GET", "/api/stores"},
    {"POST", "/api/stores"},
    {"GET", "/api/stores/participating"},
    {"GET", "/api/stores/{id}"},
    {"PUT", "/api/stores/{id}"},
    {"DELETE", "/api/stores/{id}"},
    {"GET", "/api/stores/{id}/products"},
    {"GET", "/api/stores/{storeId}/products/{productId}"},
    {"POST", "/api/baskets/{id}/items/{itemId}"},
    {"PUT", "/api/baskets/{id}/items/{itemId}"},
    {"GET", "/x/{a}"},
    {"GET", "/{a}/y"},
    {"POST", "/{a}/y"},
    {"GET", "/{p1}/{p2}/{p3}/{p4}/{p5}/{p6}/{p7}/{p8}"},
    {"POST", "/rpc/{service}/{method}"},
    {"GET", "/"},
};
#define NROUTES (sizeof ROUTES / sizeof ROUTES[0])

static const char *const METHODS[] = {"GET",   "POST", "PUT",     "DELETE",
                                      "PATCH", "HEAD", "OPTIONS", "GET"};

static web_server *srv;
static httpc *client;
static size_t route_index[NROUTES];
static long base_live; /* core_alloc_live() with the server running and the client's pool empty */

/* ---- server side --------------------------------------------------------------------------- */

/* Body: route index byte, then name\0value\0 per parameter, then "?" query\0 when there is one. */
static void echo(void *ud, const struct web_request *req, struct web_response *resp)
{
    size_t idx = *(const size_t *)ud;
    size_t len = 1;
    for (size_t i = 0; i < req->nparams; i++)
        len += strlen(req->param_names[i]) + strlen(req->param_values[i]) + 2;
    if (req->query)
        len += strlen(req->query) + 2;
    char *body = core_malloc(len);
    if (!body) {
        web_respond_error(resp, CORE_ERR_NOMEM, "out of memory");
        return;
    }
    size_t o = 0;
    body[o++] = (char)idx;
    for (size_t i = 0; i < req->nparams; i++) {
        size_t n = strlen(req->param_names[i]) + 1;
        memcpy(body + o, req->param_names[i], n);
        o += n;
        n = strlen(req->param_values[i]) + 1;
        memcpy(body + o, req->param_values[i], n);
        o += n;
    }
    if (req->query) {
        body[o++] = '?';
        memcpy(body + o, req->query, strlen(req->query) + 1);
        o += strlen(req->query) + 1;
    }
    web_respond(resp, 200, ECHO_TYPE, body, o);
}

static void start(void)
{
    struct web_opts opts = WEB_OPTS_INIT;
    core_err err = CORE_ERR_INIT;
    log_init(LOG_LEVEL_WARN);
    opts.port = 0;
    opts.threads = 2;
    opts.body_limit = 1024;
    CHECK(web_server_new(&srv, &opts, &err) == CORE_OK, "%s", err.msg);
    for (size_t i = 0; i < NROUTES; i++) {
        route_index[i] = i;
        CHECK(web_route(srv, ROUTES[i].method, ROUTES[i].tmpl, echo, &route_index[i], &err) ==
                  CORE_OK,
              "%s: %s", ROUTES[i].tmpl, err.msg);
    }
    CHECK(web_server_start(srv, &err) == CORE_OK, "%s", err.msg);
    CHECK(httpc_new(&client, "127.0.0.1", web_server_port(srv), 5000, &err) == CORE_OK, "%s",
          err.msg);
    base_live = core_alloc_live();
}

/* ---- the reference router ------------------------------------------------------------------ */

struct seg {
    const char *p;
    size_t n;
};

/* Splits path ("/..." without the query) after its leading '/'; -1 when over MAX_SEG segments. */
static int ref_split(const char *path, size_t len, struct seg *segs)
{
    int n = 0;
    if (len <= 1)
        return 0;
    size_t start = 1;
    for (size_t i = 1; i <= len; i++) {
        if (i == len || path[i] == '/') {
            if (n == MAX_SEG)
                return -1;
            segs[n].p = path + start;
            segs[n].n = i - start;
            n++;
            start = i + 1;
        }
    }
    return n;
}

static bool tmpl_is_param(const struct seg *s)
{
    return s->n > 0 && s->p[0] == '{';
}

static bool ref_match(size_t r, const struct seg *ps, int np)
{
    struct seg ts[MAX_SEG];
    int nt = ref_split(ROUTES[r].tmpl, strlen(ROUTES[r].tmpl), ts);
    if (nt != np)
        return false;
    for (int i = 0; i < nt; i++) {
        if (tmpl_is_param(&ts[i])) {
            if (ps[i].n == 0)
                return false;
        } else if (ts[i].n != ps[i].n || memcmp(ts[i].p, ps[i].p, ps[i].n) != 0) {
            return false;
        }
    }
    return true;
}

/* true when route a beats route b (same segment count): earliest literal-vs-parameter wins. */
static bool ref_better(size_t a, size_t b)
{
    struct seg sa[MAX_SEG], sb[MAX_SEG];
    int n = ref_split(ROUTES[a].tmpl, strlen(ROUTES[a].tmpl), sa);
    ref_split(ROUTES[b].tmpl, strlen(ROUTES[b].tmpl), sb);
    for (int i = 0; i < n; i++)
        if (tmpl_is_param(&sa[i]) != tmpl_is_param(&sb[i]))
            return !tmpl_is_param(&sa[i]);
    return false;
}

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes into out (n + 1 bytes); false on a bad escape or %00. */
static bool ref_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        if (n - i < 3 || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0)
            return false;
        int v = hex(s[i + 1]) * 16 + hex(s[i + 2]);
        if (v == 0)
            return false;
        out[o++] = (char)v;
        i += 2;
    }
    out[o] = '\0';
    return true;
}

/* ---- checks -------------------------------------------------------------------------------- */

static void check_error_json(const struct httpc_response *resp, int code, bool head,
                             const char *target)
{
    if (head)
        return;
    json_error_t je;
    json_t *j = json_loadb(resp->body, resp->body_len, 0, &je);
    CHECK(j != NULL, "status %d body is not JSON (%s) for target \"%s\": %.*s", resp->status,
          je.text, target, (int)resp->body_len, resp->body);
    CHECK(json_is_integer(json_object_get(j, "code")) &&
              json_integer_value(json_object_get(j, "code")) == code,
          "status %d: want code %d in %.*s", resp->status, code, (int)resp->body_len, resp->body);
    CHECK(json_is_string(json_object_get(j, "message")), "no message in %.*s", (int)resp->body_len,
          resp->body);
    json_decref(j);
}

static void check_echo(const struct httpc_response *resp, size_t best, const struct seg *ps, int np,
                       const char *query, const char *target)
{
    struct seg ts[MAX_SEG];
    int nt = ref_split(ROUTES[best].tmpl, strlen(ROUTES[best].tmpl), ts);
    const char *b = resp->body, *end = resp->body + resp->body_len;
    CHECK(resp->body_len >= 1 && (size_t)(unsigned char)b[0] == best,
          "target \"%s\": route %d, want %zu (%s)", target,
          resp->body_len ? (int)(unsigned char)b[0] : -1, best, ROUTES[best].tmpl);
    b++;
    for (int i = 0; i < nt && i < np; i++) {
        if (!tmpl_is_param(&ts[i]))
            continue;
        char want[4096];
        CHECK(ps[i].n < sizeof want, "segment too long");
        CHECK(ref_decode(ps[i].p, ps[i].n, want),
              "target \"%s\": handler ran although segment %d is malformed", target, i);
        CHECK(b < end && strlen(b) == ts[i].n - 2 && memcmp(b, ts[i].p + 1, ts[i].n - 2) == 0,
              "target \"%s\": parameter %d name", target, i);
        b += strlen(b) + 1;
        CHECK(b < end && strcmp(b, want) == 0, "target \"%s\": parameter %d is \"%s\", want \"%s\"",
              target, i, b < end ? b : "(missing)", want);
        b += strlen(b) + 1;
    }
    if (query) {
        CHECK(b < end && *b == '?' && strcmp(b + 1, query) == 0,
              "target \"%s\": query \"%s\", want \"%s\"", target, b < end ? b : "(missing)", query);
        b += strlen(b) + 1;
    }
    CHECK(b == end, "target \"%s\": %zu unexpected byte(s) in the echo", target, (size_t)(end - b));
}

static void check_allow(const struct httpc_response *resp, const struct seg *ps, int np,
                        const char *target)
{
    char want[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < NROUTES; i++) {
        if (!ref_match(i, ps, np))
            continue;
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen =
                seen || (strcmp(ROUTES[j].method, ROUTES[i].method) == 0 && ref_match(j, ps, np));
        if (seen)
            continue;
        used += (size_t)snprintf(want + used, sizeof want - used, "%s%s", used ? ", " : "",
                                 ROUTES[i].method);
    }
    const char *allow = httpc_response_header(resp, "Allow");
    CHECK(allow && strcmp(allow, want) == 0, "target \"%s\": Allow \"%s\", want \"%s\"", target,
          allow ? allow : "(none)", want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv)
        start();
    if (size == 0 || size > 3000)
        return 0;
    const char *method = METHODS[data[0] % 8];
    bool head = strcmp(method, "HEAD") == 0;
    char target[3100];
    size_t tl = 0;
    target[tl++] = '/';
    for (size_t i = 1; i < size; i++) {
        unsigned char ch = data[i];
        if (ch == 0 || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
            continue;
        target[tl++] = (char)ch;
    }
    target[tl] = '\0';

    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    core_err err = CORE_ERR_INIT;
    core_status st = httpc_request(client, method, target, NULL, NULL, 0, &resp, &err);
    CHECK(st == CORE_OK, "target \"%s\": %s", target, err.msg);

    /* civetweb refuses a target with control characters or non-ASCII bytes before routing; web.c
     * answers those through civetweb's http_error callback with the API's JSON error */
    bool refused = false;
    for (size_t i = 0; i < tl; i++)
        refused |= (unsigned char)target[i] < 0x21 || (unsigned char)target[i] > 0x7e;
    if (refused) {
        CHECK(resp.status == 400, "target \"%s\": civetweb refused it, status %d, want 400", target,
              resp.status);
        check_error_json(&resp, 3, head, target);
    } else {
        const char *q = strchr(target, '?');
        size_t plen = q ? (size_t)(q - target) : tl;
        struct seg ps[MAX_SEG];
        int np = ref_split(target, plen, ps);
        size_t best = NROUTES;
        bool matched = false;
        for (size_t i = 0; np >= 0 && i < NROUTES; i++) {
            if (!ref_match(i, ps, np))
                continue;
            matched = true;
            if (strcmp(ROUTES[i].method, method) == 0 && (best == NROUTES || ref_better(i, best)))
                best = i;
        }
        bool params_ok = true;
        if (best < NROUTES) {
            struct seg ts[MAX_SEG];
            char scratch[4096];
            int nt = ref_split(ROUTES[best].tmpl, strlen(ROUTES[best].tmpl), ts);
            for (int i = 0; i < nt; i++)
                if (tmpl_is_param(&ts[i]) && !ref_decode(ps[i].p, ps[i].n, scratch))
                    params_ok = false;
        }
        int want = !matched ? 404 : best == NROUTES ? 405 : !params_ok ? 400 : 200;
        CHECK(resp.status == want, "%s \"%s\": status %d, want %d; body %.*s", method, target,
              resp.status, want, (int)resp.body_len, resp.body);
        if (want == 404)
            check_error_json(&resp, 5, head, target);
        else if (want == 405) {
            check_error_json(&resp, 12, head, target);
            check_allow(&resp, ps, np, target);
        } else if (want == 400)
            check_error_json(&resp, 3, head, target);
        else if (!head)
            check_echo(&resp, best, ps, np, q ? q + 1 : NULL, target);
    }
    httpc_response_release(&resp);
    /* Between requests the only live allocations are the server's (routes, set up before
     * base_live was taken) and at most one idle connection in the client's pool. The server frees
     * a response body just after sending it: wait briefly for the count to come down. */
    for (int i = 0; i < 1000 && core_alloc_live() > base_live + 1; i++) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK(core_alloc_live() <= base_live + 1, "%ld allocation(s) leaked",
          core_alloc_live() - base_live - 1);
    return 0;
}
