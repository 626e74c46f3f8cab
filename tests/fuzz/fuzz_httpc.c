/* fuzz_httpc.c -- libFuzzer harness: the HTTP response parser of httpc (status line, headers,
 * Content-Length, chunked encoding with extensions and trailers, 1xx interim responses, bodies
 * delimited by close).
 *
 * No internal entry point is needed: a tiny server thread on 127.0.0.1 (ephemeral port) accepts a
 * connection, reads the request head, writes the fuzz input as the response and closes. The main
 * thread sends one httpc_request() per input through a fresh client. Input byte 0 picks the
 * method (odd: HEAD, even: GET); the rest is the response.
 *
 * Properties checked besides ASan/UBSan:
 *   - a reference parser (below, written from httpc.h's rules) agrees: same status and body bytes
 *     when it accepts the response, a failure when it refuses it;
 *   - the server always closes, so the client never times out; a failure is CORE_ERR_IO,
 *     CORE_ERR_TOO_LARGE, or CORE_ERR_UNAVAILABLE only for an empty response;
 *   - on OK: status 200..599, body NUL-terminated, body_len no larger than the input, and for a
 *     non-chunked response with Content-Length (not HEAD/204/304) body_len equals it;
 *   - header lookups do not crash; core_alloc_live() is back where it started.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core.h"
#include "httpc.h"

#define FUZZ_NAME "fuzz_httpc"
#include "fuzz_common.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static const uint8_t *cur_data; /* the response to send, set before each request */
static size_t cur_len;
static int listen_fd = -1;
static int listen_port;

/* Reads the request head (up to the blank line); false on EOF, error or 2 s of silence. */
static bool read_request_head(int fd)
{
    char buf[8192];
    size_t len = 0;
    while (len < sizeof buf - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 2000) != 1)
            return false;
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0)
            return false;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            return true;
    }
    return false;
}

static void *server_main(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL;
        }
        /* the input of this request was set before the client connected, and stays valid while
         * the client waits; copy it, since the client may give up before everything is sent */
        pthread_mutex_lock(&mu);
        size_t n = cur_len;
        uint8_t *d = malloc(n ? n : 1);
        if (d)
            memcpy(d, cur_data, n);
        else
            n = 0;
        pthread_mutex_unlock(&mu);
        if (read_request_head(fd)) {
            size_t off = 0;
            while (off < n) {
                ssize_t w = send(fd, d + off, n - off, MSG_NOSIGNAL);
                if (w <= 0)
                    break; /* the client gave up early (e.g. a malformed header): fine */
                off += (size_t)w;
            }
        }
        close(fd);
        free(d);
    }
}

static void start_server(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    pthread_t th;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(listen_fd >= 0, "socket");
    CHECK(bind(listen_fd, (struct sockaddr *)&a, sizeof a) == 0, "bind");
    CHECK(listen(listen_fd, 16) == 0, "listen");
    CHECK(getsockname(listen_fd, (struct sockaddr *)&a, &alen) == 0, "getsockname");
    listen_port = ntohs(a.sin_port);
    CHECK(pthread_create(&th, NULL, server_main, NULL) == 0, "pthread_create");
    pthread_detach(th);
}

/* ---- the reference parser -------------------------------------------------------------------- */

/* What a complete response (all bytes, then the close) means under httpc.h's rules, written
 * independently of httpc.c for a differential check. */
enum ref_result {
    REF_OK,
    REF_BAD,
    REF_EITHER /* a line over httpc's 4096-byte limit: depends on timing */
};

struct ref_resp {
    int status;
    char *body; /* malloc'd */
    size_t body_len;
};

static bool ci_eq(const char *a, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(a, lit, n) == 0;
}

/* Parses the head in d[0..n) (ending with the blank line). */
static bool ref_head(const char *d, size_t n, int *status, bool *chunked, bool *has_len,
                     unsigned long long *len)
{
    *chunked = *has_len = false;
    *len = 0;
    if (n < 16 || memcmp(d, "HTTP/1.", 7) != 0 || (d[7] != '0' && d[7] != '1') || d[8] != ' ')
        return false;
    for (int i = 9; i < 12; i++)
        if (d[i] < '0' || d[i] > '9')
            return false;
    if (d[9] < '1' || d[9] > '5' || (d[12] != ' ' && d[12] != '\r'))
        return false;
    *status = (d[9] - '0') * 100 + (d[10] - '0') * 10 + (d[11] - '0');
    size_t i = (size_t)((const char *)memchr(d, '\n', n) - d) + 1;
    while (i < n - 2) { /* header lines up to the final CRLF */
        size_t e = i;
        while (d[e] != '\n')
            e++;
        if (e == i || d[e - 1] != '\r')
            return false;
        const char *line = d + i;
        size_t ll = e - 1 - i;
        const char *colon = memchr(line, ':', ll);
        if (!colon || colon == line || line[0] == ' ' || line[0] == '\t' || colon[-1] == ' ' ||
            colon[-1] == '\t' || memchr(line, '\0', ll))
            return false;
        size_t nl = (size_t)(colon - line);
        const char *v = colon + 1, *ve = line + ll;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t vl = (size_t)(ve - v);
        if (ci_eq(line, nl, "content-length")) {
            unsigned long long x = 0;
            if (vl == 0 || vl > 18)
                return false;
            for (size_t k = 0; k < vl; k++) {
                if (v[k] < '0' || v[k] > '9')
                    return false;
                x = x * 10 + (unsigned)(v[k] - '0');
            }
            if (*has_len && *len != x)
                return false;
            *has_len = true;
            *len = x;
        } else if (ci_eq(line, nl, "transfer-encoding")) {
            if (ci_eq(v, vl, "chunked"))
                *chunked = true;
            else if (!ci_eq(v, vl, "identity"))
                return false;
        }
        i = e + 1;
    }
    return true;
}

/* Offset just after the CRLF of the line starting at from; 0 when there is none. */
static size_t ref_line_end(const char *d, size_t n, size_t from, bool *too_long)
{
    for (size_t i = from; i + 1 < n; i++)
        if (d[i] == '\r' && d[i + 1] == '\n') {
            *too_long = *too_long || i - from > 4000;
            return i + 2;
        }
    *too_long = *too_long || n - from > 4000;
    return 0;
}

static int hexdig(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static enum ref_result ref_parse(const char *d, size_t n, bool head_req, struct ref_resp *out)
{
    size_t p = 0;
    int status;
    bool chunked, has_len, too_long = false;
    unsigned long long len;
    memset(out, 0, sizeof *out);
    for (;;) {
        const char *e = NULL;
        for (size_t i = p; i + 3 < n && !e; i++)
            if (memcmp(d + i, "\r\n\r\n", 4) == 0)
                e = d + i;
        if (!e || !ref_head(d + p, (size_t)(e + 4 - (d + p)), &status, &chunked, &has_len, &len))
            return REF_BAD;
        p = (size_t)(e + 4 - d);
        if (status >= 200)
            break;
    }
    out->status = status;
    out->body = malloc(n + 1);
    CHECK(out->body != NULL, "malloc");
    if (head_req || status == 204 || status == 304)
        return REF_OK;
    if (chunked) {
        for (;;) {
            size_t le = ref_line_end(d, n, p, &too_long);
            if (!le)
                return too_long ? REF_EITHER : REF_BAD;
            unsigned long long sz = 0;
            size_t k = p, digits = 0;
            for (; k < le - 2 && hexdig(d[k]) >= 0; k++, digits++)
                sz = sz * 16 + (unsigned)hexdig(d[k]);
            if (digits == 0 || digits > 8 ||
                (k < le - 2 && d[k] != ';' && d[k] != ' ' && d[k] != '\t'))
                return too_long ? REF_EITHER : REF_BAD;
            p = le;
            if (sz == 0)
                break;
            if (sz > n - p || n - p - sz < 2 || d[p + sz] != '\r' || d[p + sz + 1] != '\n')
                return too_long ? REF_EITHER : REF_BAD;
            memcpy(out->body + out->body_len, d + p, sz);
            out->body_len += sz;
            p += sz + 2;
        }
        for (;;) { /* trailer lines up to an empty one */
            size_t le = ref_line_end(d, n, p, &too_long);
            if (!le)
                return too_long ? REF_EITHER : REF_BAD;
            bool empty = le == p + 2;
            p = le;
            if (empty)
                break;
        }
        return too_long ? REF_EITHER : REF_OK;
    }
    if (has_len) {
        if (len > n - p)
            return REF_BAD;
        memcpy(out->body, d + p, len);
        out->body_len = len;
        return REF_OK;
    }
    memcpy(out->body, d + p, n - p);
    out->body_len = n - p;
    return REF_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (listen_fd < 0)
        start_server();
    if (size == 0)
        return 0;
    long live = core_alloc_live();
    bool head = data[0] & 1;
    httpc *c = NULL;
    core_err err = CORE_ERR_INIT;
    struct httpc_response resp = HTTPC_RESPONSE_INIT;

    pthread_mutex_lock(&mu);
    cur_data = data + 1;
    cur_len = size - 1;
    pthread_mutex_unlock(&mu);

    CHECK(httpc_new(&c, "127.0.0.1", listen_port, 5000, &err) == CORE_OK, "httpc_new: %s", err.msg);
    core_status st = httpc_request(c, head ? "HEAD" : "GET", "/fuzz", NULL, NULL, 0, &resp, &err);
    struct ref_resp ref;
    enum ref_result rr = ref_parse((const char *)data + 1, size - 1, head, &ref);
    if (rr == REF_OK)
        CHECK(st == CORE_OK && resp.status == ref.status && resp.body_len == ref.body_len &&
                  memcmp(resp.body, ref.body, ref.body_len) == 0,
              "the reference parser reads status %d and a %zu-byte body; httpc: status %d (%s), "
              "%d, %zu bytes",
              ref.status, ref.body_len, (int)st, st ? err.msg : "ok", resp.status, resp.body_len);
    else if (rr == REF_BAD)
        CHECK(st != CORE_OK,
              "httpc accepted what the reference parser refuses (status %d, %zu bytes)",
              resp.status, resp.body_len);
    free(ref.body);
    if (st == CORE_OK) {
        CHECK(resp.status >= 200 && resp.status <= 599, "status %d", resp.status);
        CHECK(resp.body != NULL, "no body buffer");
        CHECK(resp.body_len <= size - 1, "body_len %zu from %zu input bytes", resp.body_len,
              size - 1);
        CHECK(resp.body[resp.body_len] == '\0', "body not NUL-terminated");
        const char *cl = httpc_response_header(&resp, "content-length");
        const char *te = httpc_response_header(&resp, "Transfer-Encoding");
        (void)httpc_response_header(&resp, "Connection");
        if (cl && !te && !head && resp.status != 204 && resp.status != 304)
            CHECK(resp.body_len == strtoull(cl, NULL, 10), "body_len %zu, Content-Length %s",
                  resp.body_len, cl);
    } else {
        CHECK(err.status == st, "err.status %d, returned %d", (int)err.status, (int)st);
        CHECK(strncmp(err.msg, "timeout ", 8) != 0,
              "the client timed out although the server closed: %s", err.msg);
        CHECK(st == CORE_ERR_IO || st == CORE_ERR_TOO_LARGE ||
                  (st == CORE_ERR_UNAVAILABLE && size == 1),
              "status %d: %s", (int)st, err.msg);
        CHECK(resp.body == NULL && resp.headers == NULL, "a failed request left a response");
    }
    httpc_response_release(&resp);
    httpc_free(c);
    CHECK(core_alloc_live() == live, "%ld allocation(s) leaked", core_alloc_live() - live);
    return 0;
}
