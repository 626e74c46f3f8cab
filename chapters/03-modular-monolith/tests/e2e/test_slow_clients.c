/* test_slow_clients.c -- end to end: slow and idle clients do not stop the program (a regression
 * test, inherited unchanged by chapters 04 and 05).
 *
 * On each of the two ports (REST and RPC) the test opens NSLOW connections that send a request
 * line and then one header line every second, never finishing the header, and NIDLE connections
 * that send nothing. Meanwhile ordinary requests must be answered: GET /api/stores, an AddItem
 * (baskets calls stores over the RPC port) and an RPC call made directly. Then every slow and idle
 * connection must be closed by the program after its header deadline (web.h: 10 s), well within
 * the test's bound of 40 s.
 *
 * Why: civetweb binds a worker thread to a connection while its header is still arriving. The
 * REST server had 16 threads and the RPC server 48, and a header could trickle for 30 s, so 16 slow
 * clients stopped the API and 48 stopped every call between modules (docs/ERRATA.md D48).
 * The bounds are generous correctness bounds, not speed goals: the speed is measured with
 * scripts/slowclients.py.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "e2e.h"
#include "httpc.h"

#define NSLOW 100 /* per port; more than the old thread counts (16 and 48) */
#define NIDLE 100
#define NCONN (2 * (NSLOW + NIDLE))
#define CUSTOMER "f0e2d41a-a485-4008-b578-747732ae1089" /* seed row of chapters 03-05 */

static e2e_app *app;
static int fds[NCONN]; /* [0, NCONN/2): REST port, then RPC port; slow ones first in each half */
static bool closed[NCONN];
static long long opened_at;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool is_slow(int i)
{
    return i % (NCONN / 2) < NSLOW;
}

/* A non-blocking connection to 127.0.0.1:port, connected within 5 s; -1 on failure. */
static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    struct pollfd p = {fd, POLLOUT, 0};
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (poll(&p, 1, 5000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 ||
        soerr) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One ordinary request with a client of its own (10 s per wait); returns the HTTP status or -1. */
static int ordinary(int port, const char *method, const char *path, const char *ctype,
                    const char *body)
{
    httpc *c = NULL;
    core_err err = CORE_ERR_INIT;
    struct httpc_response resp = HTTPC_RESPONSE_INIT;
    const char *headers[] = {ctype, NULL};
    int status = -1;
    long long t0 = now_ms();
    if (httpc_new(&c, "127.0.0.1", port, 10000, &err) == CORE_OK &&
        httpc_request(c, method, path, ctype ? headers : NULL, body, body ? strlen(body) : 0, &resp,
                      &err) == CORE_OK)
        status = resp.status;
    fprintf(stderr, "%s %s: %d after %lld ms%s%s\n", method, path, status, now_ms() - t0,
            status < 0 ? ": " : "", status < 0 ? err.msg : "");
    httpc_response_release(&resp);
    httpc_free(c);
    return status;
}

static void ordinary_requests_are_answered_meanwhile(void **state)
{
    (void)state;
    char store[E2E_ID_MAX], product[E2E_ID_MAX], basket[E2E_ID_MAX];
    e2e_expect_id(app, "POST", "/api/stores", "{\"name\":\"Slow Shop\",\"location\":\"Hall\"}",
                  store);
    e2e_expect_id(app, "POST", E2E_F("/api/stores/%s/products", store),
                  "{\"name\":\"Snail\",\"description\":\"\",\"sku\":\"S-1\",\"price\":1.5}",
                  product);
    e2e_expect_id(app, "POST", "/api/baskets", "{\"customerId\": \"" CUSTOMER "\"}", basket);

    opened_at = now_ms();
    for (int i = 0; i < NCONN; i++) {
        int port = i < NCONN / 2 ? e2e_app_web_port(app) : e2e_app_rpc_port(app);
        fds[i] = connect_to(port);
        assert_true(fds[i] >= 0);
        static const char head[] = "GET /api/stores HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        if (is_slow(i))
            assert_int_equal(send(fds[i], head, sizeof head - 1, MSG_NOSIGNAL), sizeof head - 1);
    }
    sleep_ms(500); /* the program has taken them by now */

    int web = e2e_app_web_port(app), rpc = e2e_app_rpc_port(app);
    assert_int_equal(ordinary(web, "GET", "/api/stores", NULL, NULL), 200);
    assert_int_equal(ordinary(web, "PUT", E2E_F("/api/baskets/%s/addItem", basket),
                              "Content-Type: application/json",
                              E2E_F("{\"productId\": \"%s\", \"quantity\": 1}", product)),
                     200);
    assert_int_equal(ordinary(rpc, "POST", "/rpc/storespb.StoresService/GetStores",
                              "Content-Type: application/x-protobuf", ""),
                     200);
}

static void slow_and_idle_connections_are_closed_after_a_deadline(void **state)
{
    (void)state;
    int open = 0;
    for (int i = 0; i < NCONN; i++)
        open += fds[i] >= 0 && !closed[i];
    assert_int_equal(open, NCONN);
    long long next_line = now_ms() + 1000;
    while (open > 0 && now_ms() - opened_at < 40000) {
        bool trickle = now_ms() >= next_line;
        for (int i = 0; i < NCONN; i++) {
            if (closed[i])
                continue;
            char buf[512];
            struct pollfd p = {fds[i], POLLIN, 0};
            bool gone = poll(&p, 1, 0) > 0 && recv(fds[i], buf, sizeof buf, 0) <= 0;
            if (!gone && trickle && is_slow(i))
                gone = send(fds[i], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL) < 0 && errno != EAGAIN;
            if (gone) {
                closed[i] = true;
                open--;
            }
        }
        if (trickle)
            next_line += 1000;
        sleep_ms(50);
    }
    fprintf(stderr, "%d of %d connections closed by the program within %lld ms\n", NCONN - open,
            NCONN, now_ms() - opened_at);
    assert_int_equal(open, 0);
}

static void shuts_down_cleanly(void **state)
{
    (void)state;
    int code = -1;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(e2e_app_stop(app, &code, &err), CORE_OK);
    assert_int_equal(code, 0);
}

static int setup(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    for (int i = 0; i < NCONN; i++)
        fds[i] = -1;
    /* the program's own thread counts: they are what this test is about */
    if (e2e_open_threads(&app, "slow-clients", E2E_PROGRAM_THREADS, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int code = -1;
    core_err err = CORE_ERR_INIT;
    for (int i = 0; i < NCONN; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    core_status st = e2e_close(app, &code, &err);
    app = NULL;
    if (st || code != 0) {
        fprintf(stderr, "teardown: %s (exit code %d)\n", st ? err.msg : "unclean shutdown", code);
        return -1;
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ordinary_requests_are_answered_meanwhile),
        cmocka_unit_test(slow_and_idle_connections_are_closed_after_a_deadline),
        cmocka_unit_test(shuts_down_cleanly),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
