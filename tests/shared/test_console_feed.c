/* test_console_feed.c -- the lab console's event feed (console.h, EVENTS) over the in-memory
 * stream: history then live messages, decoded; at most CONSOLE_FEED_CLIENTS clients; a slow
 * client told what it lost; the server's stop ending every feed; the story. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "am.h"
#include "am_test.pb-c.h"
#include "console.h"
#include "pb.h"
#include "waiter.h"
#include "web.h"

#define CHANNEL "mallbots.stores.events.Store"
#define STORE_CREATED "storesapi.StoreCreated"

struct fixture {
    am_mem_broker *b;
    am_stream *s;
    es_registry *reg;
    web_server *srv;
    int port;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    core_err err = CORE_ERR_INIT;
    struct web_opts o = WEB_OPTS_INIT;
    o.port = 0;
    o.threads = 16;
    o.drain_timeout_ms = 3000;
    o.header_timeout_ms = 60000; /* also the write timeout: the slow client below is waited for */
    if (am_mem_broker_new(&f->b, &err) || am_mem_stream_new(&f->s, f->b, "mallbots", &err) ||
        es_registry_new(&f->reg, &err) ||
        es_registry_add_on(f->reg, CHANNEL, STORE_CREATED, &amtest__store_created__descriptor,
                           &err) ||
        web_server_new(&f->srv, &o, &err) || console_mount_events(f->srv, f->s, f->reg, &err) ||
        web_server_start(f->srv, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    f->port = web_server_port(f->srv);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    web_server_free(f->srv); /* its stop frees the watch, before the stream goes */
    am_stream_free(f->s);
    am_mem_broker_free(f->b);
    es_registry_free(f->reg);
    free(f);
    return 0;
}

/* Publishes a StoreCreated named name (of len bytes: filled with 'x' beyond the text) and lets
 * the watch see it. */
static void publish(struct fixture *f, const char *name, size_t len)
{
    Amtest__StoreCreated *p = pb_new_of(amtest__store_created);
    assert_non_null(p);
    char *text = calloc(1, len + 1);
    memset(text, 'x', len);
    memcpy(text, name, strlen(name) < len ? strlen(name) : len);
    assert_int_equal(pb_set_string(&p->id, "4f0c2a36-0000-4000-8000-000000000001", NULL), CORE_OK);
    assert_int_equal(pb_set_string(&p->name, text, NULL), CORE_OK);
    free(text);
    ProtobufCMessage *pm = &p->base;
    ddd_event *ev = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(ddd_event_new(&ev, STORE_CREATED, &pm, NULL), CORE_OK);
    assert_int_equal(am_event_publish(f->s, CHANNEL, ev, &err), CORE_OK);
    ddd_event_free(ev);
    am_mem_broker_run(f->b, NULL);
}

/* A client of GET path; rcvbuf > 0 makes its receive buffer that small (not below the loopback's
 * MSS of 64 KiB: a window that can never open to a full segment stalls the sender on the TCP
 * persist timer). */
static int client(struct fixture *f, const char *path, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)f->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    return fd;
}

/* What a client has read so far. */
struct reader {
    int fd;
    char *buf;
    size_t len, cap;
    bool eof;
};

/* Reads until needle is in what was read (true), EOF or timeout_ms (false). */
static bool read_until(struct reader *r, const char *needle, int timeout_ms)
{
    long long deadline = waiter_now_ms() + timeout_ms;
    size_t from = 0; /* what was searched already, less a needle's length */
    for (;;) {
        if (r->buf && strstr(r->buf + from, needle))
            return true;
        from = r->len > strlen(needle) ? r->len - strlen(needle) : 0;
        long long left = deadline - waiter_now_ms();
        if (r->eof || left <= 0)
            return false;
        struct pollfd p = {r->fd, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        if (r->len + 65537 > r->cap) {
            r->cap = r->cap ? r->cap * 2 : 1 << 17;
            r->buf = realloc(r->buf, r->cap);
        }
        ssize_t n = read(r->fd, r->buf + r->len, 65536);
        if (n <= 0)
            r->eof = true;
        else
            r->len += (size_t)n;
        r->buf[r->len] = '\0';
    }
}

/* How often needle occurs in text. A plain loop: ASan's strstr() checks the whole rest of the
 * text at every call, which makes counting in 20 MB take minutes. */
static size_t count(const char *text, const char *needle)
{
    size_t n = 0, k = strlen(needle);
    for (const char *p = text; *p; p++)
        if (*p == needle[0] && strncmp(p, needle, k) == 0)
            n++, p += k - 1;
    return n;
}

/* The number after the last occurrence of key in text; 0 when there is none. */
static size_t last_number_after(const char *text, const char *key)
{
    size_t k = strlen(key), v = 0;
    for (const char *p = text; *p; p++)
        if (*p == key[0] && strncmp(p, key, k) == 0)
            v = (size_t)strtoul(p + k, NULL, 10);
    return v;
}

static void reader_close(struct reader *r)
{
    close(r->fd);
    free(r->buf);
}

static void history_then_live_messages_decoded(void **state)
{
    struct fixture *f = *state;
    publish(f, "Books 1", 7);
    publish(f, "Books 2", 7);
    struct reader r = {client(f, "/console/events", 0), NULL, 0, 0, false};
    assert_true(read_until(&r, "\"name\":\"Books 2\"", 5000));
    assert_non_null(strstr(r.buf, "HTTP/1.1 200"));
    assert_non_null(strstr(r.buf, "Content-Type: text/event-stream"));
    assert_null(strstr(r.buf, "Content-Length"));
    assert_non_null(strstr(r.buf, "event: hello\ndata: {\"history\":1000,\"clients\":4"));
    /* decoded through the registry: subject, name and payload as JSON */
    assert_non_null(strstr(r.buf, "data: {\"seq\":1,"));
    assert_non_null(strstr(r.buf, "\"subject\":\"" CHANNEL "\",\"name\":\"" STORE_CREATED "\""));
    assert_non_null(strstr(r.buf, "\"payload\":{\"id\":\"4f0c2a36-0000-4000-8000-000000000001\","
                                  "\"name\":\"Books 1\",\"location\":\"\"}"));
    /* a new message wakes the writer */
    publish(f, "Books 3", 7);
    assert_true(read_until(&r, "\"name\":\"Books 3\"", 5000));
    assert_int_equal(count(r.buf, "\ndata: {\"seq\""), 3);
    reader_close(&r);
}

static void a_client_beyond_the_limit_gets_503(void **state)
{
    struct fixture *f = *state;
    struct reader rs[CONSOLE_FEED_CLIENTS];
    for (int i = 0; i < CONSOLE_FEED_CLIENTS; i++) {
        rs[i] = (struct reader){client(f, "/console/events", 0), NULL, 0, 0, false};
        assert_true(read_until(&rs[i], "event: hello", 5000));
    }
    struct reader extra = {client(f, "/console/events", 0), NULL, 0, 0, false};
    assert_true(read_until(&extra, "}", 5000));
    assert_non_null(strstr(extra.buf, "HTTP/1.1 503"));
    assert_non_null(strstr(extra.buf, "\"code\":14"));
    assert_non_null(strstr(extra.buf, "at most 4 clients at once"));
    reader_close(&extra);
    for (int i = 0; i < CONSOLE_FEED_CLIENTS; i++)
        reader_close(&rs[i]);
}

static void a_slow_client_loses_the_oldest_and_is_told(void **state)
{
    struct fixture *f = *state;
    enum { N = 1600, SIZE = 16 * 1024 };
    long long t0 = waiter_now_ms();
    struct reader r = {client(f, "/console/events", 256 * 1024), NULL, 0, 0, false};
    assert_true(read_until(&r, "event: hello", 5000));
    /* 26 MB while the client reads nothing: its writer blocks once the sockets' buffers are full
     * (some MB), the ring moves on */
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "Store %d.", i);
        publish(f, name, SIZE);
    }
    print_message("published %d messages in %lld ms\n", N, waiter_now_ms() - t0);
    snprintf(name, sizeof name, "\"name\":\"Store %d.", N - 1);
    t0 = waiter_now_ms();
    bool seen = read_until(&r, name, 20000);
    print_message("read %zu bytes in %lld ms\n", r.len, waiter_now_ms() - t0);
    if (!seen)
        print_error("read %zu bytes eof=%d tail=%.200s\n", r.len, r.eof,
                    r.len > 200 ? r.buf + r.len - 200 : r.buf);
    assert_true(seen);
    assert_true(count(r.buf, "event: lost\ndata: {\"lost\":") > 0);
    size_t got = count(r.buf, "\ndata: {\"seq\"");
    size_t lost = last_number_after(r.buf, "\"lostTotal\":");
    assert_true(lost > 0);
    assert_int_equal(got + lost, N); /* every message either shown or counted as lost */
    print_message("counted %zu + %zu lost at %lld ms\n", got, lost, waiter_now_ms() - t0);
    reader_close(&r);
}

static void the_story_lists_what_mentions_an_id(void **state)
{
    struct fixture *f = *state;
    publish(f, "Story 1", 7);
    publish(f, "Story 2", 7);
    struct reader r = {client(f, "/console/story/4f0c2a36-0000-4000-8000-000000000001", 0), NULL, 0,
                       0, false};
    assert_true(read_until(&r, "]}", 5000));
    assert_non_null(strstr(r.buf, "HTTP/1.1 200"));
    assert_int_equal(count(r.buf, "\"name\":\"" STORE_CREATED "\""), 2);
    reader_close(&r);
    r = (struct reader){client(f, "/console/story/4f0c2a36", 0), NULL, 0, 0, false};
    assert_true(read_until(&r, "]}", 5000)); /* part of an id is not the id */
    assert_non_null(strstr(r.buf, "\"messages\":[]"));
    reader_close(&r);
    r = (struct reader){client(f, "/console/story/x%22y", 0), NULL, 0, 0, false};
    assert_true(read_until(&r, "}", 5000));
    assert_non_null(strstr(r.buf, "HTTP/1.1 400"));
    reader_close(&r);
    r = (struct reader){client(f, "/asyncapi.json", 0), NULL, 0, 0, false};
    assert_true(read_until(&r, "\"schemas\"", 5000));
    assert_non_null(strstr(r.buf, "\"" CHANNEL "\":{\"subscribe\""));
    reader_close(&r);
}

static void the_servers_stop_ends_every_feed(void **state)
{
    struct fixture *f = *state;
    struct reader a = {client(f, "/console/events", 0), NULL, 0, 0, false};
    struct reader b = {client(f, "/console/events", 0), NULL, 0, 0, false};
    assert_true(read_until(&a, "event: hello", 5000));
    assert_true(read_until(&b, "event: hello", 5000));
    long long t0 = waiter_now_ms();
    web_server_stop(f->srv); /* does not wait out its 3 s drain timeout for the feeds */
    assert_true(waiter_now_ms() - t0 < 2500);
    assert_false(read_until(&a, "never", 5000));
    assert_true(a.eof);
    reader_close(&a);
    reader_close(&b);
    /* the watch is gone: messages published now reach nobody, and nothing breaks */
    publish(f, "after", 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(history_then_live_messages_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(a_client_beyond_the_limit_gets_503, setup, teardown),
        cmocka_unit_test_setup_teardown(a_slow_client_loses_the_oldest_and_is_told, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_story_lists_what_mentions_an_id, setup, teardown),
        cmocka_unit_test_setup_teardown(the_servers_stop_ends_every_feed, setup, teardown),
    };
    return cmocka_run_group_tests_name("console_feed", tests, NULL, NULL);
}
