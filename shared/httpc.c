/* httpc.c -- small HTTP/1.1 client with a keep-alive pool. See httpc.h.
 *
 * Sockets are non-blocking; every wait is a poll() bounded by the client's timeout. A response is
 * read into one growing buffer: first the header block, then the body, which for chunked encoding
 * is decoded in place (decoded bytes never overtake the bytes still to decode). At the end the
 * body is moved to the front of that buffer, which becomes resp->body; the header lines are copied
 * into resp->headers as "name\0value\0...name\0value\0\0" for httpc_response_header().
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"

#define MAX_IDLE 64            /* idle connections kept per client */
#define MAX_HEADER_BLOCK 65536 /* status line + header lines */
#define MAX_LINE 4096          /* a chunk-size or trailer line */

struct idle_conn {
    int fd;
    struct idle_conn *next;
};

struct httpc {
    char *host;
    int port;
    int timeout_ms;
    char where[300]; /* "host:port" for messages */
    pthread_mutex_t mu;
    struct idle_conn *idle;
    size_t nidle;
};

/* ---- connections ---------------------------------------------------------------------------- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll() one fd for events within timeout_ms, riding over EINTR. >0 ready, 0 timeout, <0 error. */
static int wait_fd(int fd, short events, int timeout_ms, short *revents)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        struct pollfd p = {fd, events, 0};
        int left = (int)(deadline - now_ms());
        int n = poll(&p, 1, left < 0 ? 0 : left);
        if (n < 0 && errno == EINTR)
            continue;
        if (revents)
            *revents = p.revents;
        return n;
    }
}

static core_status connect_one(httpc *c, const struct addrinfo *ai, int *out, core_err *err)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return core_err_set(err, CORE_ERR_UNAVAILABLE, "cannot create a socket for %s: %s",
                            c->where, strerror(errno));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            int e = errno;
            close(fd);
            return core_err_set(err, CORE_ERR_UNAVAILABLE, "cannot connect to %s: %s", c->where,
                                strerror(e));
        }
        int n = wait_fd(fd, POLLOUT, c->timeout_ms, NULL);
        if (n <= 0) {
            int e = errno;
            close(fd);
            if (n == 0)
                return core_err_set(err, CORE_ERR_UNAVAILABLE,
                                    "timeout connecting to %s after %d ms", c->where,
                                    c->timeout_ms);
            return core_err_set(err, CORE_ERR_UNAVAILABLE, "cannot connect to %s: %s", c->where,
                                strerror(e));
        }
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
            close(fd);
            return core_err_set(err, CORE_ERR_UNAVAILABLE, "cannot connect to %s: %s", c->where,
                                strerror(soerr ? soerr : errno));
        }
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *out = fd;
    return CORE_OK;
}

static core_status conn_open(httpc *c, int *out, core_err *err)
{
    struct addrinfo hints, *res = NULL;
    char port[16];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(port, sizeof port, "%d", c->port);
    int rc = getaddrinfo(c->host, port, &hints, &res);
    if (rc != 0)
        return core_err_set(err, CORE_ERR_UNAVAILABLE, "cannot resolve %s: %s", c->where,
                            gai_strerror(rc));
    core_status st = CORE_ERR_UNAVAILABLE;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        st = connect_one(c, ai, out, err);
        if (st == CORE_OK)
            break;
    }
    freeaddrinfo(res);
    return st;
}

/* Takes a pooled connection that still looks alive (not readable: a readable idle connection was
 * closed by the server or carries garbage). -1 when none. */
static int take_idle(httpc *c)
{
    for (;;) {
        pthread_mutex_lock(&c->mu);
        struct idle_conn *ic = c->idle;
        if (ic) {
            c->idle = ic->next;
            c->nidle--;
        }
        pthread_mutex_unlock(&c->mu);
        if (!ic)
            return -1;
        int fd = ic->fd;
        core_free(ic);
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 0) == 0)
            return fd;
        close(fd);
    }
}

static void give_back(httpc *c, int fd)
{
    struct idle_conn *ic = core_malloc(sizeof *ic);
    if (!ic) {
        close(fd);
        return;
    }
    ic->fd = fd;
    pthread_mutex_lock(&c->mu);
    bool keep = c->nidle < MAX_IDLE;
    if (keep) {
        ic->next = c->idle;
        c->idle = ic;
        c->nidle++;
    }
    pthread_mutex_unlock(&c->mu);
    if (!keep) {
        core_free(ic);
        close(fd);
    }
}

/* ---- public: life cycle --------------------------------------------------------------------- */

core_status httpc_new(httpc **out, const char *host, int port, int timeout_ms, core_err *err)
{
    if (core_str_blank(host) || port <= 0 || port > 65535 || timeout_ms <= 0)
        return core_err_set(err, CORE_ERR_INVALID, "httpc_new: invalid host, port or timeout");
    httpc *c = core_calloc(1, sizeof *c);
    if (!c)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory creating an HTTP client");
    c->host = core_strdup(host);
    if (!c->host) {
        core_free(c);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory creating an HTTP client");
    }
    c->port = port;
    c->timeout_ms = timeout_ms;
    snprintf(c->where, sizeof c->where, "%s:%d", host, port);
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return CORE_OK;
}

void httpc_free(httpc *c)
{
    if (!c)
        return;
    while (c->idle) {
        struct idle_conn *ic = c->idle;
        c->idle = ic->next;
        close(ic->fd);
        core_free(ic);
    }
    pthread_mutex_destroy(&c->mu);
    core_free(c->host);
    core_free(c);
}

/* ---- one exchange on one connection --------------------------------------------------------- */

struct exchange {
    httpc *c;
    int fd;
    struct core_buf rx; /* raw response bytes: at most HTTPC_MAX_RESPONSE + 1 */
    bool stale;         /* failed before anything of the response arrived: retry may help */
    bool sent_all;      /* the whole request went out */
    bool received;      /* some response bytes arrived (a 1xx head dropped from buf counts too) */
};

/* Sends the request. Stops early (sent_all false, OK) when the server already answers, or closes
 * or resets the connection (its answer, if any, is read next). */
static core_status send_request(struct exchange *x, const char *data, size_t len, core_err *err)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(x->fd, data + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            short rev = 0;
            int w = wait_fd(x->fd, POLLOUT | POLLIN, x->c->timeout_ms, &rev);
            if (w == 0)
                return core_err_set(err, CORE_ERR_UNAVAILABLE, "timeout sending to %s after %d ms",
                                    x->c->where, x->c->timeout_ms);
            if (w > 0 && (rev & POLLIN))
                return CORE_OK; /* an early answer (e.g. 413) or a close: the reader decides */
            if (w > 0)
                continue;
        }
        int e = n < 0 ? errno : EPIPE;
        /* The server closed: maybe after answering early (a 413 before reading the whole body),
         * and then the answer is already in the receive queue even though the close arrived as a
         * reset. The reader decides: the answer, or "closed without a response" (stale). */
        if (e == EPIPE || e == ECONNRESET)
            return CORE_OK;
        return core_err_set(err, CORE_ERR_UNAVAILABLE, "cannot send to %s: %s", x->c->where,
                            strerror(e));
    }
    x->sent_all = true;
    return CORE_OK;
}

/* Reads more bytes into x->rx. *eof set when the peer closed (or reset) the connection. */
static core_status fill(struct exchange *x, bool *eof, core_err *err)
{
    *eof = false;
    size_t left = HTTPC_MAX_RESPONSE + 1 - x->rx.len; /* one byte more than a response may have */
    if (left == 0)
        return core_err_set(err, CORE_ERR_TOO_LARGE, "response from %s larger than %u bytes",
                            x->c->where, HTTPC_MAX_RESPONSE);
    size_t room = x->rx.cap ? x->rx.cap - x->rx.len - 1 : 0; /* - the NUL */
    if (room == 0) {
        size_t more = x->rx.len > 4096 ? x->rx.len : 4096; /* double it */
        if (core_buf_grow(&x->rx, more < left ? more : left))
            return core_err_set(err, CORE_ERR_NOMEM, "out of memory reading a response from %s",
                                x->c->where);
        room = x->rx.cap - x->rx.len - 1;
    }
    if (room > left)
        room = left;
    for (;;) {
        ssize_t n = recv(x->fd, x->rx.buf + x->rx.len, room, 0);
        if (n > 0) {
            core_buf_set_len(&x->rx, x->rx.len + (size_t)n);
            x->received = true;
            return CORE_OK;
        }
        if (n == 0 || errno == ECONNRESET) {
            *eof = true;
            return CORE_OK;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return core_err_set(err, CORE_ERR_IO, "cannot read from %s: %s", x->c->where,
                                strerror(errno));
        int w = wait_fd(x->fd, POLLIN, x->c->timeout_ms, NULL);
        if (w == 0)
            return core_err_set(err, CORE_ERR_UNAVAILABLE, "timeout waiting for %s after %d ms",
                                x->c->where, x->c->timeout_ms);
        if (w < 0)
            return core_err_set(err, CORE_ERR_IO, "cannot wait for %s: %s", x->c->where,
                                strerror(errno));
    }
}

/* Makes sure x->rx holds at least `upto` bytes. */
static core_status need(struct exchange *x, size_t upto, const char *what, core_err *err)
{
    while (x->rx.len < upto) {
        bool eof;
        if (upto > HTTPC_MAX_RESPONSE)
            return core_err_set(err, CORE_ERR_TOO_LARGE, "response from %s larger than %u bytes",
                                x->c->where, HTTPC_MAX_RESPONSE);
        core_status st = fill(x, &eof, err);
        if (st != CORE_OK)
            return st;
        if (eof)
            return core_err_set(err, CORE_ERR_IO, "%s closed the connection in the middle of %s",
                                x->c->where, what);
    }
    return CORE_OK;
}

/* Finds "\r\n" at or after `from`, reading more as needed; *eol is its offset. */
static core_status read_line(struct exchange *x, size_t from, size_t *eol, core_err *err)
{
    size_t scanned = from;
    for (;;) {
        for (; scanned + 1 < x->rx.len; scanned++) {
            if (x->rx.buf[scanned] == '\r' && x->rx.buf[scanned + 1] == '\n') {
                *eol = scanned;
                return CORE_OK;
            }
        }
        if (x->rx.len - from > MAX_LINE)
            return core_err_set(err, CORE_ERR_IO,
                                "malformed chunked response from %s (line too long)", x->c->where);
        core_status st = need(x, x->rx.len + 1, "a chunked body", err);
        if (st != CORE_OK)
            return st;
    }
}

static const char *find_crlfcrlf(const char *buf, size_t len, size_t from)
{
    for (size_t i = from; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return buf + i;
    return NULL;
}

/* Reads until the end of a header block; *hdr_len is its length including the blank line. */
static core_status read_head(struct exchange *x, size_t *hdr_len, core_err *err)
{
    size_t scanned = 0;
    for (;;) {
        const char *end = find_crlfcrlf(x->rx.buf, x->rx.len, scanned);
        if (end) {
            *hdr_len = (size_t)(end - x->rx.buf) + 4;
            return CORE_OK;
        }
        scanned = x->rx.len > 3 ? x->rx.len - 3 : 0;
        if (x->rx.len > MAX_HEADER_BLOCK)
            return core_err_set(err, CORE_ERR_TOO_LARGE,
                                "response header from %s larger than %d bytes", x->c->where,
                                MAX_HEADER_BLOCK);
        bool eof;
        core_status st = fill(x, &eof, err);
        if (st != CORE_OK)
            return st;
        if (eof) {
            if (!x->received) {
                x->stale = true;
                return core_err_set(err, CORE_ERR_UNAVAILABLE,
                                    "%s closed the connection without a response", x->c->where);
            }
            return core_err_set(err, CORE_ERR_IO,
                                "%s closed the connection in the middle of the response header",
                                x->c->where);
        }
    }
}

struct head {
    int status;
    int minor; /* HTTP/1.minor */
    bool chunked;
    bool has_length;
    unsigned long long length;
    bool conn_close, conn_keep_alive;
    char *headers; /* name\0value\0...\0 */
};

static bool token_in(const char *value, size_t len, const char *token)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i + tl <= len; i++) {
        bool start_ok =
            i == 0 || value[i - 1] == ',' || value[i - 1] == ' ' || value[i - 1] == '\t';
        size_t e = i + tl;
        bool end_ok =
            e == len || value[e] == ',' || value[e] == ' ' || value[e] == '\t' || value[e] == ';';
        if (start_ok && end_ok && strncasecmp(value + i, token, tl) == 0)
            return true;
    }
    return false;
}

/* Parses the header block buf[0..hdr_len). */
static core_status parse_head(const httpc *c, const char *buf, size_t hdr_len, struct head *h,
                              core_err *err)
{
    core_status st;
    memset(h, 0, sizeof *h);
    if (hdr_len < 16 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') ||
        buf[8] != ' ' || buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' ||
        buf[11] < '0' || buf[11] > '9' || (buf[12] != ' ' && buf[12] != '\r'))
        return core_err_set(err, CORE_ERR_IO, "malformed status line from %s", c->where);
    h->minor = buf[7] - '0';
    h->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');

    h->headers = core_malloc(hdr_len + 1);
    if (!h->headers)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory reading a response from %s",
                            c->where);
    size_t out = 0;
    const char *p = memchr(buf, '\n', hdr_len) + 1;
    const char *end = buf + hdr_len - 2; /* the final empty line */
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p) + 1);
        if (!eol || eol == p || eol[-1] != '\r')
            goto malformed;
        const char *line_end = eol - 1;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (!colon || colon == p || *p == ' ' || *p == '\t' || colon[-1] == ' ' ||
            colon[-1] == '\t')
            goto malformed;
        const char *v = colon + 1, *ve = line_end;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t nlen = (size_t)(colon - p), vlen = (size_t)(ve - v);
        if (memchr(p, '\0', (size_t)(line_end - p)))
            goto malformed;
        memcpy(h->headers + out, p, nlen);
        out += nlen;
        h->headers[out++] = '\0';
        memcpy(h->headers + out, v, vlen);
        out += vlen;
        h->headers[out++] = '\0';

        if (nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
            unsigned long long n = 0;
            if (vlen == 0 || vlen > 18)
                goto malformed;
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9')
                    goto malformed;
                n = n * 10 + (unsigned)(v[i] - '0');
            }
            if (h->has_length && h->length != n)
                goto malformed;
            h->has_length = true;
            h->length = n;
        } else if (nlen == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
            if (vlen == 7 && strncasecmp(v, "chunked", 7) == 0)
                h->chunked = true;
            else if (!(vlen == 8 && strncasecmp(v, "identity", 8) == 0)) {
                st =
                    core_err_set(err, CORE_ERR_IO, "unsupported Transfer-Encoding \"%.*s\" from %s",
                                 (int)vlen, v, c->where);
                goto fail;
            }
        } else if (nlen == 10 && strncasecmp(p, "Connection", 10) == 0) {
            h->conn_close |= token_in(v, vlen, "close");
            h->conn_keep_alive |= token_in(v, vlen, "keep-alive");
        }
        p = eol + 1;
    }
    h->headers[out] = '\0';
    return CORE_OK;

malformed:
    st = core_err_set(err, CORE_ERR_IO, "malformed response header from %s", c->where);
fail:
    core_free(h->headers);
    h->headers = NULL;
    return st;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes a chunked body starting at x->rx.buf[start] in place. On OK *body_len is the decoded
 * length (stored at x->rx.buf[start]) and *end the offset just after the last trailer line. */
static core_status read_chunked(struct exchange *x, size_t start, size_t *body_len, size_t *end,
                                core_err *err)
{
    size_t w = start, p = start;
    for (;;) {
        size_t eol;
        core_status st = read_line(x, p, &eol, err);
        if (st != CORE_OK)
            return st;
        unsigned long long size = 0;
        size_t i = p, digits = 0;
        for (; i < eol && hexval(x->rx.buf[i]) >= 0; i++, digits++) {
            if (digits >= 8)
                return core_err_set(err, CORE_ERR_TOO_LARGE, "chunk from %s larger than %u bytes",
                                    x->c->where, HTTPC_MAX_RESPONSE);
            size = size * 16 + (unsigned)hexval(x->rx.buf[i]);
        }
        if (digits == 0 ||
            (i < eol && x->rx.buf[i] != ';' && x->rx.buf[i] != ' ' && x->rx.buf[i] != '\t'))
            return core_err_set(err, CORE_ERR_IO, "malformed chunk size from %s", x->c->where);
        p = eol + 2;
        if (size == 0)
            break;
        if (size > HTTPC_MAX_RESPONSE)
            return core_err_set(err, CORE_ERR_TOO_LARGE, "response from %s larger than %u bytes",
                                x->c->where, HTTPC_MAX_RESPONSE);
        st = need(x, p + (size_t)size + 2, "a chunked body", err);
        if (st != CORE_OK)
            return st;
        memmove(x->rx.buf + w, x->rx.buf + p, (size_t)size);
        w += (size_t)size;
        p += (size_t)size;
        if (x->rx.buf[p] != '\r' || x->rx.buf[p + 1] != '\n')
            return core_err_set(err, CORE_ERR_IO,
                                "malformed chunk from %s (no CRLF after the data)", x->c->where);
        p += 2;
    }
    /* trailer lines until an empty one */
    for (;;) {
        size_t eol;
        core_status st = read_line(x, p, &eol, err);
        if (st != CORE_OK)
            return st;
        bool empty = eol == p;
        p = eol + 2;
        if (empty)
            break;
    }
    *body_len = w - start;
    *end = p;
    return CORE_OK;
}

/* Reads one complete response. *reusable tells whether the connection may serve another request. */
static core_status read_response(struct exchange *x, bool head_request, struct httpc_response *resp,
                                 bool *reusable, core_err *err)
{
    struct head h = {0};
    size_t hdr_len = 0, body_start = 0, body_len = 0, end = 0;
    core_status st;
    bool until_eof = false;

    for (;;) {
        st = read_head(x, &hdr_len, err);
        if (st != CORE_OK)
            return st;
        st = parse_head(x->c, x->rx.buf, hdr_len, &h, err);
        if (st != CORE_OK)
            return st;
        if (h.status >= 200)
            break;
        /* 1xx interim response: drop it and read the next head */
        core_free(h.headers);
        h.headers = NULL;
        memmove(x->rx.buf, x->rx.buf + hdr_len, x->rx.len - hdr_len);
        core_buf_set_len(&x->rx, x->rx.len - hdr_len);
    }

    body_start = hdr_len;
    if (head_request || h.status == 204 || h.status == 304) {
        end = hdr_len;
    } else if (h.chunked) {
        st = read_chunked(x, hdr_len, &body_len, &end, err);
    } else if (h.has_length) {
        if (h.length > HTTPC_MAX_RESPONSE - hdr_len)
            st = core_err_set(err, CORE_ERR_TOO_LARGE, "response from %s larger than %u bytes",
                              x->c->where, HTTPC_MAX_RESPONSE);
        else
            st = need(x, hdr_len + (size_t)h.length, "the response body", err);
        body_len = (size_t)h.length;
        end = hdr_len + body_len;
    } else {
        until_eof = true; /* body delimited by the server closing the connection */
        for (;;) {
            bool eof;
            st = fill(x, &eof, err);
            if (st != CORE_OK || eof)
                break;
        }
        body_len = x->rx.len - hdr_len;
        end = x->rx.len;
    }
    if (st != CORE_OK) {
        core_free(h.headers);
        return st;
    }

    bool keep = h.minor == 1 ? !h.conn_close : h.conn_keep_alive;
    *reusable = keep && !until_eof && x->sent_all && x->rx.len == end;

    memmove(x->rx.buf, x->rx.buf + body_start, body_len);
    core_buf_set_len(&x->rx, body_len);
    resp->status = h.status;
    resp->body = core_buf_detach(&x->rx, &resp->body_len); /* not NULL: the head was read into it */
    resp->headers = h.headers;
    return CORE_OK;
}

/* ---- public: requests ----------------------------------------------------------------------- */

static bool has_ctl(const char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            return true;
    return false;
}

static core_status build_request(const httpc *c, const char *method, const char *path,
                                 const char *const *extra_headers, const void *body,
                                 size_t body_len, char **out, size_t *out_len, core_err *err)
{
    if (core_str_blank(method) || !path || path[0] == '\0' || strpbrk(method, " \t\r\n") ||
        strpbrk(path, " \t\r\n"))
        return core_err_set(err, CORE_ERR_INVALID, "httpc_request: invalid method or path");
    if (body_len > 0 && !body)
        return core_err_set(err, CORE_ERR_INVALID, "httpc_request: body_len without a body");
    size_t size = strlen(method) + strlen(path) + strlen(c->where) + 100 + body_len;
    for (size_t i = 0; extra_headers && extra_headers[i]; i++) {
        if (has_ctl(extra_headers[i]) || !strchr(extra_headers[i], ':'))
            return core_err_set(err, CORE_ERR_INVALID, "httpc_request: malformed header \"%s\"",
                                extra_headers[i]);
        size += strlen(extra_headers[i]) + 2;
    }
    struct core_buf b = CORE_BUF_INIT;
    core_buf_grow(&b, size); /* all in one allocation; a failure shows at core_buf_detach() */
    core_buf_add_fmt(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, c->where);
    for (size_t i = 0; extra_headers && extra_headers[i]; i++)
        core_buf_add_fmt(&b, "%s\r\n", extra_headers[i]);
    if (body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
        strcmp(method, "PATCH") == 0)
        core_buf_add_fmt(&b, "Content-Length: %zu\r\n", body_len);
    core_buf_add_str(&b, "\r\n");
    core_buf_add(&b, body, body_len);
    if (!(*out = core_buf_detach(&b, out_len)))
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory building a request to %s",
                            c->where);
    return CORE_OK;
}

core_status httpc_request(httpc *c, const char *method, const char *path,
                          const char *const *extra_headers, const void *body, size_t body_len,
                          struct httpc_response *resp, core_err *err)
{
    char *req = NULL;
    size_t req_len = 0;
    core_status st =
        build_request(c, method, path, extra_headers, body, body_len, &req, &req_len, err);
    if (st != CORE_OK)
        return st;
    bool head_request = strcmp(method, "HEAD") == 0;

    for (int attempt = 0; attempt < 2; attempt++) {
        struct exchange x = {0};
        bool pooled = false, reusable = false;
        core_err local = CORE_ERR_INIT;
        x.c = c;
        x.fd = attempt == 0 ? take_idle(c) : -1;
        if (x.fd >= 0) {
            pooled = true;
        } else {
            st = conn_open(c, &x.fd, err);
            if (st != CORE_OK)
                break;
        }
        st = send_request(&x, req, req_len, &local);
        if (st == CORE_OK)
            st = read_response(&x, head_request, resp, &reusable, &local);
        core_buf_release(&x.rx);
        if (st == CORE_OK && reusable)
            give_back(c, x.fd);
        else
            close(x.fd);
        if (st == CORE_OK)
            break;
        if (!(pooled && x.stale)) {
            if (err)
                *err = local;
            break;
        }
        /* a stale keep-alive connection: try once more on a fresh one */
    }
    core_free(req);
    return st;
}

const char *httpc_response_header(const struct httpc_response *resp, const char *name)
{
    const char *p = resp->headers;
    if (!p)
        return NULL;
    while (*p) {
        const char *value = p + strlen(p) + 1;
        if (strcasecmp(p, name) == 0)
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

void httpc_response_release(struct httpc_response *resp)
{
    if (!resp)
        return;
    core_free(resp->body);
    core_free(resp->headers);
    resp->status = 0;
    resp->body = NULL;
    resp->body_len = 0;
    resp->headers = NULL;
}
