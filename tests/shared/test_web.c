/* test_web.c -- web server: routing, errors, body limits, keep-alive, graceful stop.
 * Servers listen on 127.0.0.1 with an ephemeral port; httpc (and raw sockets) are the clients. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "httpc.h"
#include "log.h"
#include "web.h"

/* ---- helpers ----------------------------------------------------------------------------------
 */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Answers with JSON describing what the handler saw: route name (ud), method, params, query, body.
 */
static void echo_handler(void *ud, const struct web_request *req, struct web_response *resp)
{
    json_t *params = json_object();
    for (size_t i = 0; i < req->nparams; i++)
        json_object_set_new(params, req->param_names[i], json_string(req->param_values[i]));
    const char *hdr = web_request_header(req, "X-Test");
    json_t *j =
        json_pack("{s:s,s:s,s:s,s:o,s:s?,s:s%,s:s?,s:s?}", "route", (const char *)ud, "method",
                  req->method, "path", req->path, "params", params, "query", req->query, "body",
                  req->body, req->body_len, "x_test", hdr, "request_id", log_request_id());
    web_respond_json(resp, 200, j);
}

static void forgetful_handler(void *ud, const struct web_request *req, struct web_response *resp)
{
    (void)ud;
    (void)req;
    (void)resp; /* leaves status 0: a bug the server turns into 500 */
}

/* Fails like a call into the database during an outage: internal message, public message. */
static void outage_handler(void *ud, const struct web_request *req, struct web_response *resp)
{
    (void)ud;
    (void)req;
    core_err err = CORE_ERR_INIT;
    core_err_set(&err, CORE_ERR_UNAVAILABLE,
                 "cannot connect to PostgreSQL at 127.0.0.1:5432: Connection refused");
    core_err_public(&err, "the database is unavailable, try again");
    web_respond_failure(resp, &err, "GET /outage");
}

static void conflict_handler(void *ud, const struct web_request *req, struct web_response *resp)
{
    (void)ud;
    (void)req;
    snprintf(resp->extra_headers, sizeof resp->extra_headers, "X-Extra: yes\r\n");
    web_respond_error(resp, CORE_ERR_CONFLICT, "basket is already checked out");
}

/* Reports the client port of the connection, to count connections. */
static void port_handler(void *ud, const struct web_request *req, struct web_response *resp)
{
    (void)ud;
    const struct mg_request_info *ri = mg_get_request_info((struct mg_connection *)req->internal);
    char *body = core_malloc(16);
    int n = snprintf(body, 16, "%d", ri->remote_port);
    web_respond(resp, 200, "text/plain", body, (size_t)n);
}

struct slow_state {
    atomic_int started;
    atomic_int finished;
    int sleep_ms;
};

static void slow_handler(void *ud, const struct web_request *req, struct web_response *resp)
{
    struct slow_state *s = ud;
    (void)req;
    atomic_store(&s->started, 1);
    sleep_ms(s->sleep_ms);
    atomic_store(&s->finished, 1);
    web_respond(resp, 200, "text/plain", core_strdup("slow done"), 9);
}

static web_server *start_server(size_t body_limit, struct slow_state *slow)
{
    struct web_opts opts = WEB_OPTS_INIT;
    core_err err = CORE_ERR_INIT;
    web_server *srv = NULL;
    opts.port = 0;
    opts.body_limit = body_limit;
    opts.threads = 4;
    opts.drain_timeout_ms = 3000;
    assert_int_equal(web_server_new(&srv, &opts, &err), CORE_OK);
    assert_int_equal(web_route(srv, "GET", "/api/stores/{id}", echo_handler, "store", &err),
                     CORE_OK);
    assert_int_equal(
        web_route(srv, "GET", "/api/stores/participating", echo_handler, "participating", &err),
        CORE_OK);
    assert_int_equal(
        web_route(srv, "GET", "/api/stores/{store_id}/products", echo_handler, "products", &err),
        CORE_OK);
    assert_int_equal(web_route(srv, "GET", "/api/{a}/{b}/{c}", echo_handler, "three", &err),
                     CORE_OK);
    assert_int_equal(
        web_route(srv, "GET", "/api/stores/{id}/{what}", echo_handler, "store_what", &err),
        CORE_OK);
    assert_int_equal(web_route(srv, "POST", "/api/baskets", echo_handler, "start_basket", &err),
                     CORE_OK);
    assert_int_equal(web_route(srv, "PUT", "/api/baskets", echo_handler, "put_basket", &err),
                     CORE_OK);
    assert_int_equal(web_route(srv, "GET", "/", echo_handler, "root", &err), CORE_OK);
    assert_int_equal(web_route(srv, "GET", "/bug", forgetful_handler, NULL, &err), CORE_OK);
    assert_int_equal(web_route(srv, "POST", "/conflict", conflict_handler, NULL, &err), CORE_OK);
    assert_int_equal(web_route(srv, "GET", "/outage", outage_handler, NULL, &err), CORE_OK);
    assert_int_equal(web_route(srv, "GET", "/port", port_handler, NULL, &err), CORE_OK);
    if (slow)
        assert_int_equal(web_route(srv, "GET", "/slow", slow_handler, slow, &err), CORE_OK);
    assert_int_equal(web_server_start(srv, &err), CORE_OK);
    assert_true(web_server_port(srv) > 0);
    return srv;
}

/* One request; asserts the transport worked; returns the parsed JSON body (or NULL if not JSON). */
static json_t *do_request(httpc *c, const char *method, const char *path, const char *body,
                          int expect_status, struct httpc_response *resp)
{
    core_err err = CORE_ERR_INIT;
    const char *headers[] = {"X-Test: hello", NULL};
    core_status st =
        httpc_request(c, method, path, headers, body, body ? strlen(body) : 0, resp, &err);
    if (st != CORE_OK)
        fail_msg("request %s %s failed: %s", method, path, err.msg);
    assert_int_equal(resp->status, expect_status);
    assert_non_null(httpc_response_header(resp, "Content-Length"));
    const char *id = httpc_response_header(resp, "X-Request-Id"); /* on every response */
    assert_non_null(id);
    assert_true(core_uuid_valid(id));
    return json_loads(resp->body, 0, NULL);
}

static void expect_route(httpc *c, const char *path, const char *route, const char *param,
                         const char *value)
{
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    json_t *j = do_request(c, "GET", path, NULL, 200, &resp);
    assert_non_null(j);
    assert_string_equal(httpc_response_header(&resp, "content-type"), "application/json");
    assert_string_equal(json_string_value(json_object_get(j, "route")), route);
    if (param)
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "params"), param)),
                            value);
    json_decref(j);
    httpc_response_release(&resp);
}

static void expect_error(httpc *c, const char *method, const char *path, int status,
                         const char *expected_json)
{
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    json_t *j = do_request(c, method, path, NULL, status, &resp);
    assert_non_null(j);
    json_t *want = json_loads(expected_json, 0, NULL);
    assert_non_null(want);
    /* "requestId": "*" in expected_json: the body must carry the response's X-Request-Id */
    if (json_object_get(want, "requestId")) {
        const char *id = json_string_value(json_object_get(j, "requestId"));
        if (!id || strcmp(id, httpc_response_header(&resp, "X-Request-Id")) != 0)
            fail_msg("%s %s: requestId missing or not the X-Request-Id header: %s", method, path,
                     resp.body);
        json_object_del(want, "requestId");
        json_object_del(j, "requestId");
    }
    if (!json_equal(j, want))
        fail_msg("%s %s: got %s, want %s", method, path, resp.body, expected_json);
    assert_string_equal(httpc_response_header(&resp, "Content-Type"), "application/json");
    json_decref(want);
    json_decref(j);
    httpc_response_release(&resp);
}

static httpc *client_for(const web_server *srv)
{
    httpc *c = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(httpc_new(&c, "127.0.0.1", web_server_port(srv), 5000, &err), CORE_OK);
    return c;
}

/* Raw socket connected to the server. */
static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static void raw_send(int fd, const char *s)
{
    size_t len = strlen(s), off = 0;
    while (off < len) {
        ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);
        assert_true(n > 0);
        off += (size_t)n;
    }
}

/* Reads until the peer closes or timeout_ms passes; returns bytes read; *closed tells which. */
static size_t raw_read_all(int fd, char *buf, size_t cap, int timeout_ms, bool *closed)
{
    size_t len = 0;
    long long deadline = now_ms() + timeout_ms;
    *closed = false;
    while (len + 1 < cap) {
        int left = (int)(deadline - now_ms());
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0) {
            *closed = true;
            break;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    return len;
}

/* ---- tests ------------------------------------------------------------------------------------
 */

static void test_routing(void **state)
{
    (void)state;
    long live = core_alloc_live();
    web_server *srv = start_server(1024, NULL);
    httpc *c = client_for(srv);

    /* a literal segment beats a parameter, whatever the registration order */
    expect_route(c, "/api/stores/participating", "participating", NULL, NULL);
    expect_route(c, "/api/stores/42", "store", "id", "42");
    /* parameters are percent-decoded, a '/' escaped inside one does not split */
    expect_route(c, "/api/stores/a%20b%2Fc", "store", "id", "a b/c");
    /* two-level template, query string not part of matching */
    expect_route(c, "/api/stores/s-1/products?limit=5", "products", "store_id", "s-1");
    /* "/api/stores/{id}/{what}" beats "/api/{a}/{b}/{c}" (literal "stores" at position 1) */
    expect_route(c, "/api/stores/s-1/offers", "store_what", "what", "offers");
    expect_route(c, "/api/x/y/z", "three", "c", "z");
    expect_route(c, "/", "root", NULL, NULL);

    /* the handler sees method, path, query, params and headers */
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    json_t *j = do_request(c, "GET", "/api/stores/7/products?limit=5&x=%20", NULL, 200, &resp);
    assert_string_equal(json_string_value(json_object_get(j, "method")), "GET");
    assert_string_equal(json_string_value(json_object_get(j, "path")), "/api/stores/7/products");
    assert_string_equal(json_string_value(json_object_get(j, "query")), "limit=5&x=%20");
    assert_string_equal(json_string_value(json_object_get(j, "body")), "");
    assert_string_equal(json_string_value(json_object_get(j, "x_test")), "hello");
    json_decref(j);
    httpc_response_release(&resp);

    /* a POST body reaches the handler */
    j = do_request(c, "POST", "/api/baskets", "{\"customerId\":\"c1\"}", 200, &resp);
    assert_string_equal(json_string_value(json_object_get(j, "route")), "start_basket");
    assert_string_equal(json_string_value(json_object_get(j, "body")), "{\"customerId\":\"c1\"}");
    assert_true(json_is_null(json_object_get(j, "query")));
    json_decref(j);
    httpc_response_release(&resp);

    httpc_free(c);
    web_server_free(srv);
    assert_int_equal(core_alloc_live(), live);
}

static void test_not_found_and_method_not_allowed(void **state)
{
    (void)state;
    long live = core_alloc_live();
    web_server *srv = start_server(1024, NULL);
    httpc *c = client_for(srv);

    expect_error(c, "GET", "/api/nope", 404,
                 "{\"code\":5,\"message\":\"no route for GET /api/nope\"}");
    /* a trailing slash is a different path */
    expect_error(c, "POST", "/api/baskets/", 404,
                 "{\"code\":5,\"message\":\"no route for POST /api/baskets/\"}");
    /* an empty segment never matches a parameter */
    expect_error(c, "GET", "/api/stores//products", 404,
                 "{\"code\":5,\"message\":\"no route for GET /api/stores//products\"}");

    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    json_t *j = do_request(c, "DELETE", "/api/baskets", NULL, 405, &resp);
    assert_string_equal(httpc_response_header(&resp, "Allow"), "POST, PUT");
    json_t *want = json_loads("{\"code\":12,\"message\":\"method DELETE not allowed on "
                              "/api/baskets (allowed: POST, PUT)\"}",
                              0, NULL);
    assert_true(json_equal(j, want));
    json_decref(want);
    json_decref(j);
    httpc_response_release(&resp);

    /* a handler that forgets the response is a 500; handler errors map through core_status */
    expect_error(c, "GET", "/bug", 500,
                 "{\"code\":13,\"message\":\"handler produced no response\",\"requestId\":\"*\"}");
    j = do_request(c, "POST", "/conflict", NULL, 409, &resp);
    want = json_loads("{\"code\":10,\"message\":\"basket is already checked out\"}", 0, NULL);
    assert_true(json_equal(j, want));
    assert_string_equal(httpc_response_header(&resp, "X-Extra"), "yes");
    json_decref(want);
    json_decref(j);
    httpc_response_release(&resp);

    /* malformed percent-encoding in a parameter */
    expect_error(c, "GET", "/api/stores/%zz", 400,
                 "{\"code\":3,\"message\":\"malformed percent-encoding in path /api/stores/%zz\"}");

    httpc_free(c);
    web_server_free(srv);
    assert_int_equal(core_alloc_live(), live);
}

static void test_body_limit(void **state)
{
    (void)state;
    long live = core_alloc_live();
    web_server *srv = start_server(1024, NULL);
    char buf[4096];
    bool closed = false;

    /* Content-Length over the limit: answered at once, without waiting for the 100 MB body */
    int fd = raw_connect(web_server_port(srv));
    raw_send(
        fd, "POST /api/baskets HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n0123456789");
    long long t0 = now_ms();
    raw_read_all(fd, buf, sizeof buf, 5000, &closed);
    assert_true(closed); /* the server closed instead of reading the rest */
    assert_true(now_ms() - t0 < 3000);
    assert_non_null(strstr(buf, "HTTP/1.1 413 "));
    assert_non_null(strstr(buf, "Connection: close\r\n"));
    assert_non_null(
        strstr(buf, "{\"code\":8,\"message\":\"request body larger than 1024 bytes\"}"));
    close(fd);

    /* chunked body growing over the limit while it is read */
    fd = raw_connect(web_server_port(srv));
    raw_send(fd, "POST /api/baskets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    char chunk[700];
    memset(chunk, 'a', sizeof chunk);
    snprintf(chunk, sizeof chunk, "258\r\n");
    memset(chunk + 5, 'a', 600);
    memcpy(chunk + 605, "\r\n", 3);
    raw_send(fd, chunk);
    raw_send(fd, chunk);
    raw_read_all(fd, buf, sizeof buf, 5000, &closed);
    assert_true(closed);
    assert_non_null(strstr(buf, "HTTP/1.1 413 "));
    assert_non_null(strstr(buf, "request body larger than 1024 bytes"));
    close(fd);

    /* a chunked body under the limit is accepted */
    fd = raw_connect(web_server_port(srv));
    raw_send(fd, "POST /api/baskets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                 "chunked\r\nConnection: close\r\n\r\n"
                 "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    raw_read_all(fd, buf, sizeof buf, 5000, &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 200 "));
    assert_non_null(strstr(buf, "\"body\":\"hello world\""));
    close(fd);

    /* through httpc: a body of 200 KB against the 1 KB limit gets the 413 */
    httpc *c = client_for(srv);
    size_t big_len = 200 * 1024;
    char *big = core_malloc(big_len);
    memset(big, 'x', big_len);
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(httpc_request(c, "POST", "/api/baskets", NULL, big, big_len, &resp, &err),
                     CORE_OK);
    assert_int_equal(resp.status, 413);
    httpc_response_release(&resp);
    /* and exactly at the limit is fine */
    assert_int_equal(httpc_request(c, "POST", "/api/baskets", NULL, big, 1024, &resp, &err),
                     CORE_OK);
    assert_int_equal(resp.status, 200);
    httpc_response_release(&resp);
    core_free(big);
    httpc_free(c);
    web_server_free(srv);

    /* body_limit SIZE_MAX ("no limit"): limit + 1 must not wrap to a zero-sized buffer */
    srv = start_server(SIZE_MAX, NULL);
    c = client_for(srv);
    assert_int_equal(httpc_request(c, "POST", "/api/baskets", NULL, "hello", 5, &resp, &err),
                     CORE_OK);
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(resp.body, "\"body\":\"hello\""));
    httpc_response_release(&resp);
    fd = raw_connect(web_server_port(srv));
    raw_send(fd, "POST /api/baskets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                 "chunked\r\nConnection: close\r\n\r\n"
                 "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    raw_read_all(fd, buf, sizeof buf, 5000, &closed);
    assert_non_null(strstr(buf, "HTTP/1.1 200 "));
    assert_non_null(strstr(buf, "\"body\":\"hello world\""));
    close(fd);

    httpc_free(c);
    web_server_free(srv);
    assert_int_equal(core_alloc_live(), live);
}

static void test_keep_alive_reuse(void **state)
{
    (void)state;
    long live = core_alloc_live();
    web_server *srv = start_server(1024, NULL);
    httpc *c = client_for(srv);
    core_err err = CORE_ERR_INIT;
    char first[16] = "";

    for (int i = 0; i < 200; i++) {
        struct httpc_response resp = HTTPC_RESPONSE_INIT;
        assert_int_equal(httpc_request(c, "GET", "/port", NULL, NULL, 0, &resp, &err), CORE_OK);
        assert_int_equal(resp.status, 200);
        if (i == 0)
            core_strlcpy(first, resp.body, sizeof first);
        else
            assert_string_equal(resp.body, first); /* same client port: the same connection */
        httpc_response_release(&resp);
    }
    /* an error response (404) does not cost the connection either */
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    assert_int_equal(httpc_request(c, "GET", "/nope", NULL, NULL, 0, &resp, &err), CORE_OK);
    httpc_response_release(&resp);
    assert_int_equal(httpc_request(c, "GET", "/port", NULL, NULL, 0, &resp, &err), CORE_OK);
    assert_string_equal(resp.body, first);
    httpc_response_release(&resp);

    /* a request with "Connection: close" gets the connection closed; the next one opens another */
    const char *close_hdr[] = {"Connection: close", NULL};
    assert_int_equal(httpc_request(c, "GET", "/port", close_hdr, NULL, 0, &resp, &err), CORE_OK);
    assert_string_equal(httpc_response_header(&resp, "Connection"), "close");
    httpc_response_release(&resp);
    assert_int_equal(httpc_request(c, "GET", "/port", NULL, NULL, 0, &resp, &err), CORE_OK);
    assert_string_not_equal(resp.body, first);
    httpc_response_release(&resp);

    httpc_free(c);
    web_server_free(srv);
    assert_int_equal(core_alloc_live(), live);
}

/* ---- fairness: busy kept-alive clients must not starve a queued one ---- */

struct hog {
    int port;
    atomic_bool stop;
    int requests;
    bool failed;
    bool gave_up; /* still not told to stop after the safety bound */
};

static void *hog_thread(void *arg)
{
    struct hog *h = arg;
    httpc *c = NULL;
    core_err err = CORE_ERR_INIT;
    if (httpc_new(&c, "127.0.0.1", h->port, 5000, &err) != CORE_OK) {
        h->failed = true;
        return NULL;
    }
    long long deadline = now_ms() + 8000; /* a bound, so a starved test still ends */
    while (!atomic_load(&h->stop)) {
        if (now_ms() > deadline) {
            h->gave_up = true;
            break;
        }
        struct httpc_response resp = HTTPC_RESPONSE_INIT;
        if (httpc_request(c, "GET", "/port", NULL, NULL, 0, &resp, &err) != CORE_OK ||
            resp.status != 200)
            h->failed = true;
        httpc_response_release(&resp);
        h->requests++;
    }
    httpc_free(c);
    return NULL;
}

static void test_busy_keep_alive_clients_do_not_starve_others(void **state)
{
    (void)state;
    long live = core_alloc_live();
    web_server *srv = start_server(1024, NULL); /* 4 worker threads */
    enum { NHOGS = 4 };
    struct hog hogs[NHOGS];
    pthread_t tids[NHOGS];
    for (int i = 0; i < NHOGS; i++) {
        hogs[i] = (struct hog){.port = web_server_port(srv)};
        atomic_init(&hogs[i].stop, false);
        assert_int_equal(pthread_create(&tids[i], NULL, hog_thread, &hogs[i]), 0);
    }
    sleep_ms(300); /* every worker thread is now bound to a busy hog */

    /* a fifth client must be served while the hogs are still busy, not only when they give up */
    httpc *c = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(httpc_new(&c, "127.0.0.1", web_server_port(srv), 15000, &err), CORE_OK);
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    core_status st = httpc_request(c, "GET", "/port", NULL, NULL, 0, &resp, &err);
    httpc_response_release(&resp);
    httpc_free(c);

    for (int i = 0; i < NHOGS; i++) {
        atomic_store(&hogs[i].stop, true);
        pthread_join(tids[i], NULL);
        assert_false(hogs[i].failed);
        assert_true(hogs[i].requests > 0);
        assert_false(hogs[i].gave_up); /* the fifth client was served while they were busy */
    }
    web_server_free(srv);
    assert_int_equal(st, CORE_OK);
    assert_int_equal(core_alloc_live(), live);
}

struct req_thread {
    httpc *c;
    const char *path;
    core_status st;
    int status;
    char body[128];
};

static void *request_thread(void *arg)
{
    struct req_thread *t = arg;
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    core_err err = CORE_ERR_INIT;
    t->st = httpc_request(t->c, "GET", t->path, NULL, NULL, 0, &resp, &err);
    if (t->st == CORE_OK) {
        t->status = resp.status;
        core_strlcpy(t->body, resp.body, sizeof t->body);
    }
    httpc_response_release(&resp);
    return NULL;
}

static void *stop_thread(void *arg)
{
    web_server_stop(arg);
    return NULL;
}

static void test_graceful_stop(void **state)
{
    (void)state;
    long live = core_alloc_live();
    struct slow_state slow = {0};
    slow.sleep_ms = 600;
    web_server *srv = start_server(1024, &slow);
    httpc *c = client_for(srv);
    int port = web_server_port(srv);
    struct req_thread slow_req = {c, "/slow", CORE_ERR_INTERNAL, 0, ""};
    pthread_t th_req, th_stop;

    assert_int_equal(pthread_create(&th_req, NULL, request_thread, &slow_req), 0);
    while (!atomic_load(&slow.started))
        sleep_ms(2);
    assert_int_equal(pthread_create(&th_stop, NULL, stop_thread, srv), 0);
    sleep_ms(100); /* the stop is now draining */

    /* a new request while draining: 503 JSON */
    httpc *c2 = client_for(srv);
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(httpc_request(c2, "GET", "/api/stores/1", NULL, NULL, 0, &resp, &err),
                     CORE_OK);
    assert_int_equal(resp.status, 503);
    assert_string_equal(resp.body, "{\"code\":14,\"message\":\"server is shutting down\"}");
    assert_false(atomic_load(&slow.finished)); /* really answered during the drain */
    httpc_response_release(&resp);

    pthread_join(th_req, NULL);
    pthread_join(th_stop, NULL);
    assert_int_equal(slow_req.st, CORE_OK); /* the in-flight request completed */
    assert_int_equal(slow_req.status, 200);
    assert_string_equal(slow_req.body, "slow done");
    /* the drain slept until the slow request ended instead of polling inflight meanwhile (the
     * 503 request above ended while the slow one still ran, so it woke nothing) */
    assert_in_range(web_server_drain_wakeups(srv), 1, 3);

    /* after the stop nothing listens */
    err = (core_err)CORE_ERR_INIT;
    assert_int_equal(httpc_request(c2, "GET", "/api/stores/1", NULL, NULL, 0, &resp, &err),
                     CORE_ERR_UNAVAILABLE);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", port);
    assert_non_null(strstr(err.msg, want));

    web_server_stop(srv); /* idempotent */
    httpc_free(c2);
    httpc_free(c);
    web_server_free(srv);
    assert_int_equal(core_alloc_live(), live);
}

/* Sends raw bytes on a new connection and returns what came back until the server closed it. */
static void raw_exchange(int port, const char *request, char *out, size_t cap, bool *closed)
{
    int fd = raw_connect(port);
    raw_send(fd, request);
    raw_read_all(fd, out, cap, 3000, closed);
    close(fd);
}

/* The body of a raw response (after the blank line) as JSON; NULL when there is none. */
static json_t *raw_json(const char *response)
{
    const char *body = strstr(response, "\r\n\r\n");
    return body ? json_loads(body + 4, 0, NULL) : NULL;
}

static void expect_raw_error(int port, const char *request, const char *status_line, int code,
                             const char *message)
{
    char buf[8192];
    bool closed;
    raw_exchange(port, request, buf, sizeof buf, &closed);
    if (strncmp(buf, status_line, strlen(status_line)) != 0)
        fail_msg("want \"%s\", got: %.300s", status_line, buf);
    assert_non_null(strstr(buf, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(buf, "Connection: close\r\n"));
    assert_non_null(strstr(buf, "X-Request-Id: "));
    json_t *j = raw_json(buf);
    if (!j || json_integer_value(json_object_get(j, "code")) != code ||
        strcmp(json_string_value(json_object_get(j, "message")), message) != 0)
        fail_msg("want code %d \"%s\", got: %s", code, message, strstr(buf, "\r\n\r\n"));
    json_decref(j);
    assert_true(closed);
}

/* Request smuggling: the body's length must be unambiguous. */
static void test_ambiguous_body_length_is_refused(void **state)
{
    (void)state;
    long live = core_alloc_live();
    web_server *srv = start_server(1024, NULL);
    int port = web_server_port(srv);
    expect_raw_error(
        port,
        "POST /api/baskets HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\n{}"
        "GET / HTTP/1.1\r\n\r\n",
        "HTTP/1.1 400 ", 3, "conflicting Content-Length headers");
    expect_raw_error(port,
                     "POST /api/baskets HTTP/1.1\r\nHost: x\r\nContent-Length: "
                     "2\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "0\r\n\r\n",
                     "HTTP/1.1 400 ", 3,
                     "a request cannot have both Transfer-Encoding and Content-Length");
    expect_raw_error(port,
                     "POST /api/baskets HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n{}",
                     "HTTP/1.1 400 ", 3, "malformed Content-Length header");
    expect_raw_error(port, "POST /api/baskets HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n{}",
                     "HTTP/1.1 400 ", 3, "malformed Content-Length header");
    /* the same length twice is unambiguous */
    char buf[4096];
    bool closed;
    raw_exchange(
        port,
        "POST /api/baskets HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2 \r\n"
        "Connection: close\r\n\r\n{}",
        buf, sizeof buf, &closed);
    assert_true(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
    web_server_free(srv);
    assert_int_equal(core_alloc_live(), live);
}

/* What civetweb refuses before routing still gets the API's JSON error. */
static void test_refused_requests_get_json_errors(void **state)
{
    (void)state;
    long live = core_alloc_live();
    web_server *srv = start_server(1024, NULL);
    int port = web_server_port(srv);
    expect_raw_error(port, "TRACE /api/stores/1 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 501 ", 12,
                     "method TRACE is not supported");
    expect_raw_error(port, "BREW /api/stores/1 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 501 ", 12,
                     "method BREW is not supported");
    expect_raw_error(port, "GET /api/stores/\x80 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", 3,
                     "malformed HTTP request");
    expect_raw_error(port, "GET /api/stores/1 HTTP/1.1\r\nNo colon here\r\n\r\n", "HTTP/1.1 400 ",
                     3, "malformed HTTP request");
    expect_raw_error(port, "GET /api/stores/1 HTTP/2.0\r\nHost: x\r\n\r\n", "HTTP/1.1 505 ", 3,
                     "HTTP version not supported (use HTTP/1.1)");

    /* a 60,000-character id and a 64 KiB header: over civetweb's 16 KiB request buffer */
    size_t big = 64 * 1024;
    char *req = malloc(big + 256);
    assert_non_null(req);
    int n = snprintf(req, big + 256, "GET /api/stores/");
    memset(req + n, 'a', 60000);
    snprintf(req + n + 60000, big + 256 - (size_t)n - 60000, " HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_raw_error(port, req, "HTTP/1.1 400 ", 3,
                     "malformed request head, or request line and headers larger than 16384 bytes");
    n = snprintf(req, big + 256, "GET /api/stores/1 HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'b', big);
    snprintf(req + n + big, 256 - (size_t)n, "\r\n\r\n");
    expect_raw_error(port, req, "HTTP/1.1 400 ", 3,
                     "malformed request head, or request line and headers larger than 16384 bytes");
    free(req);

    /* and the server still answers */
    httpc *c = client_for(srv);
    expect_route(c, "/api/stores/7", "store", "id", "7");
    httpc_free(c);
    web_server_free(srv);
    assert_int_equal(core_alloc_live(), live);
}

/* Every request has an id: the handler's log records carry it, the response returns it; the
 * caller's own well-formed X-Request-Id is kept (the RPC client passes its request's id on). */
static void test_request_ids(void **state)
{
    (void)state;
    long live = core_alloc_live();
    web_server *srv = start_server(1024, NULL);
    httpc *c = client_for(srv);
    core_err err = CORE_ERR_INIT;
    struct httpc_response resp = HTTPC_RESPONSE_INIT;

    json_t *j = do_request(c, "GET", "/api/stores/1", NULL, 200, &resp);
    const char *seen = json_string_value(json_object_get(j, "request_id"));
    assert_non_null(seen);
    assert_string_equal(seen, httpc_response_header(&resp, "X-Request-Id"));
    char first[64];
    core_strlcpy(first, seen, sizeof first);
    json_decref(j);
    httpc_response_release(&resp);
    j = do_request(c, "GET", "/api/stores/1", NULL, 200, &resp);
    assert_string_not_equal(json_string_value(json_object_get(j, "request_id")),
                            first); /* a new one each time */
    json_decref(j);
    httpc_response_release(&resp);

    static const char *const mine[] = {"X-Request-Id: order-42_retry.1", NULL};
    assert_int_equal(httpc_request(c, "GET", "/api/stores/1", mine, NULL, 0, &resp, &err), CORE_OK);
    assert_string_equal(httpc_response_header(&resp, "X-Request-Id"), "order-42_retry.1");
    j = json_loads(resp.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "request_id")), "order-42_retry.1");
    json_decref(j);
    httpc_response_release(&resp);
    static const char *const odd[] = {"X-Request-Id: <script> x=1", NULL};
    assert_int_equal(httpc_request(c, "GET", "/api/stores/1", odd, NULL, 0, &resp, &err), CORE_OK);
    assert_true(core_uuid_valid(httpc_response_header(&resp, "X-Request-Id")));
    httpc_response_release(&resp);

    /* an internal message stays inside: the client gets the public words and the id */
    expect_error(
        c, "GET", "/outage", 503,
        "{\"code\":14,\"message\":\"the database is unavailable, try again\",\"requestId\":\"*\"}");
    assert_null(log_request_id()); /* only set on the server's threads, while they serve */
    httpc_free(c);
    web_server_free(srv);
    assert_int_equal(core_alloc_live(), live);
}

static void test_port_in_use(void **state)
{
    (void)state;
    long live = core_alloc_live();
    web_server *srv = start_server(1024, NULL);
    struct web_opts opts = WEB_OPTS_INIT;
    opts.port = web_server_port(srv);
    web_server *second = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(web_server_new(&second, &opts, &err), CORE_OK);
    assert_int_equal(web_server_start(second, &err), CORE_ERR_UNAVAILABLE);
    char want[64];
    snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%d: Address already in use", opts.port);
    assert_string_equal(err.msg,
                        want); /* the cause, not civetweb's "Failed to setup server ports" */
    web_server_free(second);
    web_server_free(srv);
    assert_int_equal(core_alloc_live(), live);
}

/* A path that matches a route once case is ignored gets a hint naming that route (issue:
 * "/api/baskets/{id}/additem" answered only "no route"). */
static void test_route_with_wrong_case(void **state)
{
    (void)state;
    long live = core_alloc_live();
    struct web_opts opts = WEB_OPTS_INIT;
    web_server *srv = NULL;
    core_err err = CORE_ERR_INIT;
    opts.port = 0;
    opts.threads = 2;
    assert_int_equal(web_server_new(&srv, &opts, &err), CORE_OK);
    assert_int_equal(web_route(srv, "PUT", "/api/baskets/{id}/addItem", echo_handler, "add", &err),
                     CORE_OK);
    assert_int_equal(web_route(srv, "GET", "/api/stores/{id}", echo_handler, "store", &err),
                     CORE_OK);
    assert_int_equal(web_route(srv, "GET", "/api/stores/participating", echo_handler, "part", &err),
                     CORE_OK);
    assert_int_equal(web_server_start(srv, &err), CORE_OK);
    httpc *c = client_for(srv);

    expect_error(c, "PUT", "/api/baskets/x/additem", 404,
                 "{\"code\":5,\"message\":\"no route for PUT /api/baskets/x/additem; did you mean "
                 "/api/baskets/{id}/addItem?\"}");
    /* only a route of another method matches so: the hint names its method */
    expect_error(
        c, "GET", "/api/baskets/x/ADDITEM", 404,
        "{\"code\":5,\"message\":\"no route for GET /api/baskets/x/ADDITEM; did you mean PUT "
        "/api/baskets/{id}/addItem?\"}");
    /* a literal segment beats a parameter, as in routing */
    expect_error(
        c, "GET", "/api/STORES/Participating", 404,
        "{\"code\":5,\"message\":\"no route for GET /api/STORES/Participating; did you mean "
        "/api/stores/participating?\"}");
    expect_error(c, "GET", "/API/stores/AbC", 404,
                 "{\"code\":5,\"message\":\"no route for GET /API/stores/AbC; did you mean "
                 "/api/stores/{id}?\"}");
    /* nothing similar: no hint */
    expect_error(c, "GET", "/api/nope/x", 404,
                 "{\"code\":5,\"message\":\"no route for GET /api/nope/x\"}");

    httpc_free(c);
    web_server_free(srv);
    assert_int_equal(core_alloc_live(), live);
}

/* Clients that connect and send nothing, or trickle header lines, hold a worker thread each; after
 * header_timeout_ms the server closes them, so more of them than threads delay other clients but
 * cannot stop the server (issue: sixteen slow clients stopped the API). */
static void test_slow_and_idle_clients_are_closed_after_the_header_timeout(void **state)
{
    (void)state;
    long live = core_alloc_live();
    struct web_opts opts = WEB_OPTS_INIT;
    web_server *srv = NULL;
    core_err err = CORE_ERR_INIT;
    opts.port = 0;
    opts.threads = 4;
    opts.header_timeout_ms = 500;
    assert_int_equal(web_server_new(&srv, &opts, &err), CORE_OK);
    assert_int_equal(web_route(srv, "GET", "/port", port_handler, NULL, &err), CORE_OK);
    assert_int_equal(web_server_start(srv, &err), CORE_OK);

    enum { NSLOW = 6, NIDLE = 6, N = NSLOW + NIDLE };
    int fds[N];
    bool closed[N] = {false};
    for (int i = 0; i < N; i++) {
        fds[i] = raw_connect(web_server_port(srv));
        if (i < NSLOW)
            raw_send(fds[i], "GET /port HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    }

    /* an ordinary request, on a thread, while the slow clients keep trickling */
    httpc *c = NULL;
    assert_int_equal(httpc_new(&c, "127.0.0.1", web_server_port(srv), 20000, &err), CORE_OK);
    struct req_thread normal = {c, "/port", CORE_ERR_INTERNAL, 0, ""};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, request_thread, &normal), 0);

    int open = N;
    long long deadline = now_ms() + 20000; /* generous: 12 clients / 4 threads x 0.5 s */
    while (open > 0 && now_ms() < deadline) {
        for (int i = 0; i < N; i++) {
            if (closed[i])
                continue;
            struct pollfd p = {fds[i], POLLIN, 0};
            char buf[512];
            if (poll(&p, 1, 0) > 0 && recv(fds[i], buf, sizeof buf, 0) <= 0) {
                closed[i] = true; /* (a slow one may get a 400 first) */
                open--;
            } else if (i < NSLOW && send(fds[i], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL) < 0) {
                closed[i] = true;
                open--;
            }
        }
        sleep_ms(50);
    }
    pthread_join(th, NULL);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    httpc_free(c);
    web_server_free(srv);
    assert_int_equal(open, 0); /* every slow and idle connection was closed by the server */
    assert_int_equal(normal.st, CORE_OK);
    assert_int_equal(normal.status, 200);
    assert_int_equal(core_alloc_live(), live);
}

static void test_route_setup_errors(void **state)
{
    (void)state;
    long live = core_alloc_live();
    struct web_opts opts = WEB_OPTS_INIT;
    web_server *srv = NULL;
    core_err err = CORE_ERR_INIT;
    opts.port = 0;
    assert_int_equal(web_server_new(&srv, &opts, &err), CORE_OK);
    assert_int_equal(web_route(srv, "GET", "/api/stores/{id}", echo_handler, "a", &err), CORE_OK);
    assert_int_equal(web_route(srv, "GET", "/api/stores/{id}", echo_handler, "b", &err),
                     CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, "route GET /api/stores/{id} is already registered");
    assert_int_equal(web_route(srv, "GET", "/api/stores/{store_id}", echo_handler, "b", &err),
                     CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, "route GET /api/stores/{store_id} duplicates /api/stores/{id}");
    assert_int_equal(web_route(srv, "POST", "/api/stores/{id}", echo_handler, "c", &err), CORE_OK);
    assert_int_equal(web_route(srv, "GET", "api/x", echo_handler, "d", &err), CORE_ERR_INVALID);
    assert_int_equal(web_route(srv, "GET", "/api/{x", echo_handler, "d", &err), CORE_ERR_INVALID);
    assert_int_equal(web_route(srv, "GET", "/api/{}", echo_handler, "d", &err), CORE_ERR_INVALID);
    assert_int_equal(web_route(srv, "GET", "/api//x", echo_handler, "d", &err), CORE_ERR_INVALID);
    assert_int_equal(
        web_route(srv, "GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", echo_handler, "d", &err),
        CORE_ERR_INVALID);
    /* out of memory while adding a route: an error, no leak */
    core_alloc_fail_after(1);
    core_status st = web_route(srv, "GET", "/api/oom/{x}", echo_handler, "e", &err);
    core_alloc_fail_after(-1);
    assert_int_equal(st, CORE_ERR_NOMEM);
    web_server_stop(srv); /* never started: no-op */
    web_server_free(srv);
    web_server_free(NULL);
    assert_int_equal(core_alloc_live(), live);
}

static void test_respond_helpers(void **state)
{
    (void)state;
    long live = core_alloc_live();
    struct web_response resp = {0};
    web_respond_error(&resp, CORE_ERR_NOT_FOUND, "store not found");
    assert_int_equal(resp.status, 404);
    assert_string_equal(resp.content_type, "application/json");
    assert_string_equal(resp.body, "{\"code\":5,\"message\":\"store not found\"}");
    assert_int_equal(resp.body_len, strlen(resp.body));
    /* replacing a response frees the previous body */
    web_respond(&resp, 204, NULL, NULL, 0);
    assert_int_equal(resp.status, 204);
    assert_null(resp.body);
    assert_int_equal(resp.body_len, 0);
    web_respond_json(&resp, 200, json_pack("{s:i}", "n", 1));
    assert_string_equal(resp.body, "{\"n\":1}");
    /* a message that is not UTF-8 (say a decoded path parameter "%FF" quoted by a handler) keeps
     * its status and JSON body; the bad bytes become '?' */
    web_respond_error(&resp, CORE_ERR_NOT_FOUND, "no store \xff\xfe here");
    assert_int_equal(resp.status, 404);
    assert_string_equal(resp.content_type, "application/json");
    assert_string_equal(resp.body, "{\"code\":5,\"message\":\"no store ?? here\"}");
    core_free(resp.body);
    assert_int_equal(core_alloc_live(), live);
}

/* web_server_keep: the server frees what it was handed, last first, once, also when a later
 * call runs out of memory (then at once); web_server_kept finds it again. */
static char kept_order[8];
static void note_free(void *p)
{
    size_t n = strlen(kept_order);
    if (n + 1 < sizeof kept_order)
        kept_order[n] = *(char *)p;
    core_free(p);
}

static void test_server_keeps_and_frees(void **state)
{
    (void)state;
    long live = core_alloc_live();
    struct web_opts opts = WEB_OPTS_INIT;
    core_err err = CORE_ERR_INIT;
    web_server *srv = NULL;
    memset(kept_order, 0, sizeof kept_order);
    assert_int_equal(web_server_new(&srv, &opts, &err), CORE_OK);
    for (char c = 'a'; c <= 'c'; c++) {
        char *p = core_malloc(1);
        assert_non_null(p);
        *p = c;
        assert_int_equal(web_server_keep(srv, p, note_free, &err), CORE_OK);
    }
    char *d = core_malloc(1);
    assert_non_null(d);
    *d = 'x';
    core_alloc_fail_after(0);
    assert_int_equal(web_server_keep(srv, d, note_free, &err), CORE_ERR_NOMEM);
    core_alloc_fail_after(-1);
    assert_string_equal(kept_order, "x"); /* freed at once, the caller does not own it any more */
    /* web_server_kept: the first pointer kept with a free function, NULL for any other */
    char *first = web_server_kept(srv, note_free);
    assert_non_null(first);
    assert_int_equal(*first, 'a');
    assert_null(web_server_kept(srv, core_free));
    web_server_free(srv);
    assert_string_equal(kept_order, "xcba");
    assert_int_equal(core_alloc_live(), live);
}

int main(void)
{
    log_init(getenv("TEST_LOG_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_respond_helpers),
        cmocka_unit_test(test_route_setup_errors),
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_not_found_and_method_not_allowed),
        cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_keep_alive_reuse),
        cmocka_unit_test(test_busy_keep_alive_clients_do_not_starve_others),
        cmocka_unit_test(test_graceful_stop),
        cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_ambiguous_body_length_is_refused),
        cmocka_unit_test(test_refused_requests_get_json_errors),
        cmocka_unit_test(test_request_ids),
        cmocka_unit_test(test_server_keeps_and_frees),
        cmocka_unit_test(test_route_with_wrong_case),
        cmocka_unit_test(test_slow_and_idle_clients_are_closed_after_the_header_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
