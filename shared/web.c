/* web.c -- HTTP server with path-template routing on civetweb. See web.h.
 *
 * Civetweb gets ONE catch-all request handler ("/"); routing, body reading and response writing
 * happen here so civetweb's own error pages never reach our clients. Responses are written raw
 * (status line, headers, body) with an exact Content-Length.
 *
 * Keep-alive: civetweb keeps a connection open when the request body was consumed and the
 * client did not ask to close; after a handler returns it would read and discard any unread body.
 * When we answer without reading the body (413, 404/405/503 with a body) we call
 * mg_disable_keep_alive() (a Debian civetweb 1.15 addition that sets the connection's must-close
 * flag) so civetweb closes the connection instead of reading the rest, and we say
 * "Connection: close".
 *
 * Graceful stop: an atomic in-flight counter and a stopping flag. A request increments the counter
 * and then reads the flag; web_server_stop() sets the flag and then reads the counter
 * (both sequentially consistent), so every request either sees the flag (503) or is waited for.
 */
#include <assert.h>
#include <arpa/inet.h>
#include <civetweb.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pbjson.h"
#include "web.h"

#define COMP "web"
#define MAX_SEGMENTS 32

struct route {
    char *method;
    char *tmpl; /* the template as given */
    size_t nseg;
    char **segs;             /* literal text, or the parameter name for a parameter */
    unsigned char *is_param; /* per segment */
    web_handler_fn fn;
    void *ud;
};

/* Something the server owns and frees last (web_server_keep). */
struct kept {
    void *ptr;
    void (*free_fn)(void *);
};

/* A stop hook (web_server_on_stop). */
struct stop_hook {
    void (*fn)(void *);
    void *ud;
};

struct web_stream {
    struct mg_connection *conn;
    bool broken; /* a write failed, or the head was never sent */
};

struct web_server {
    struct web_opts opts;
    struct stop_hook *hooks;
    size_t nhooks, hooks_cap;
    bool hooks_ran;
    char *host;
    struct route *routes;
    size_t nroutes;
    struct kept *kept;
    size_t nkept;
    struct mg_context *ctx;
    int port;
    bool started;
    bool stopped;
    atomic_int inflight;
    atomic_bool stopping;
    /* the graceful stop sleeps on drain_cv until the last in-flight request ends (on_request
     * broadcasts when it brings inflight to 0 while stopping) or drain_timeout_ms passes */
    pthread_mutex_t drain_mu;
    pthread_cond_t drain_cv;
    atomic_int drain_wakeups; /* times the stop woke up to look at inflight (tests) */
    atomic_int open_conns;    /* connections a worker thread is bound to (civetweb callbacks) */
    int crowded_at;           /* from this many open connections on, responses close them */
    atomic_bool
        starting; /* inside mg_start2(): civetweb's first complaint is the cause of a failure */
    char start_cause[160];
};

/* ---- templates and matching ----------------------------------------------------------------- */

static void route_release(struct route *r)
{
    for (size_t i = 0; i < r->nseg; i++)
        core_free(r->segs[i]);
    core_free(r->segs);
    core_free(r->is_param);
    core_free(r->method);
    core_free(r->tmpl);
}

/* Splits "/a/b/c" (after the leading '/') into segments; "/" has none. Returns the number of
 * segments, or -1 when there are more than max. starts[i]/lens[i] point into path. */
static int split_path(const char *path, size_t path_len, const char **starts, size_t *lens, int max)
{
    if (path_len <= 1)
        return 0;
    int n = 0;
    const char *p = path + 1, *end = path + path_len;
    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *seg_end = slash ? slash : end;
        if (n == max)
            return -1;
        starts[n] = p;
        lens[n] = (size_t)(seg_end - p);
        n++;
        if (!slash)
            break;
        p = slash + 1;
    }
    return n;
}

static core_status parse_template(struct route *r, const char *tmpl, core_err *err)
{
    const char *starts[MAX_SEGMENTS];
    size_t lens[MAX_SEGMENTS];
    size_t nparams = 0;

    if (tmpl[0] != '/')
        return core_err_set(err, CORE_ERR_INVALID, "route template \"%s\" must start with '/'",
                            tmpl);
    int n = split_path(tmpl, strlen(tmpl), starts, lens, MAX_SEGMENTS);
    if (n < 0)
        return core_err_set(err, CORE_ERR_INVALID, "route template \"%s\" has too many segments",
                            tmpl);
    for (int i = 0; i < n; i++) {
        if (lens[i] == 0)
            return core_err_set(err, CORE_ERR_INVALID, "route template \"%s\" has an empty segment",
                                tmpl);
        bool open = starts[i][0] == '{', close = starts[i][lens[i] - 1] == '}';
        if (open != close || (open && lens[i] < 3) || memchr(starts[i] + 1, '{', lens[i] - 1) ||
            memchr(starts[i], '}', lens[i] - 1))
            return core_err_set(err, CORE_ERR_INVALID,
                                "route template \"%s\" has a malformed {parameter}", tmpl);
        if (open && ++nparams > WEB_MAX_PARAMS)
            return core_err_set(err, CORE_ERR_INVALID,
                                "route template \"%s\" has more than %d parameters", tmpl,
                                WEB_MAX_PARAMS);
    }

    r->nseg = (size_t)n;
    if (n > 0) {
        r->segs = core_calloc((size_t)n, sizeof *r->segs);
        r->is_param = core_calloc((size_t)n, 1);
        if (!r->segs || !r->is_param)
            return core_err_set(err, CORE_ERR_NOMEM, "out of memory adding route %s", tmpl);
    }
    for (int i = 0; i < n; i++) {
        bool param = starts[i][0] == '{';
        r->is_param[i] = param;
        r->segs[i] =
            param ? core_strndup(starts[i] + 1, lens[i] - 2) : core_strndup(starts[i], lens[i]);
        if (!r->segs[i])
            return core_err_set(err, CORE_ERR_NOMEM, "out of memory adding route %s", tmpl);
    }
    return CORE_OK;
}

static bool route_matches(const struct route *r, int n, const char *const *starts,
                          const size_t *lens)
{
    if ((size_t)n != r->nseg)
        return false;
    for (int i = 0; i < n; i++) {
        if (r->is_param[i]) {
            if (lens[i] == 0)
                return false;
        } else if (strlen(r->segs[i]) != lens[i] || memcmp(r->segs[i], starts[i], lens[i]) != 0) {
            return false;
        }
    }
    return true;
}

/* true when a is more specific than b (both match the same path, so same segment count): at the
 * first position where one has a literal and the other a parameter, the literal wins. */
static bool more_specific(const struct route *a, const struct route *b)
{
    for (size_t i = 0; i < a->nseg; i++)
        if (a->is_param[i] != b->is_param[i])
            return !a->is_param[i];
    return false;
}

/* true when a and b match exactly the same paths ("/a/{x}" and "/a/{y}"). */
static bool same_shape(const struct route *a, const struct route *b)
{
    if (a->nseg != b->nseg)
        return false;
    for (size_t i = 0; i < a->nseg; i++)
        if (a->is_param[i] != b->is_param[i] ||
            (!a->is_param[i] && strcmp(a->segs[i], b->segs[i]) != 0))
            return false;
    return true;
}

/* A route whose template matches the path once letters are compared without case, for a hint on a
 * 404: one for method if there is one, the most specific among equals. NULL when none. */
static const struct route *route_by_case(const web_server *srv, const char *method, int n,
                                         const char *const *starts, const size_t *lens)
{
    const struct route *found = NULL;
    for (size_t i = 0; n >= 0 && i < srv->nroutes; i++) {
        const struct route *r = &srv->routes[i];
        bool same = (size_t)n == r->nseg;
        for (int k = 0; same && k < n; k++)
            same = r->is_param[k] ? lens[k] > 0
                                  : strlen(r->segs[k]) == lens[k] &&
                                        strncasecmp(r->segs[k], starts[k], lens[k]) == 0;
        if (!same)
            continue;
        bool mine = strcmp(r->method, method) == 0;
        bool theirs = found && strcmp(found->method, method) == 0;
        if (!found || (mine != theirs ? mine : more_specific(r, found)))
            found = r;
    }
    return found;
}

/* ---- public: set-up ------------------------------------------------------------------------- */

core_status web_server_new(web_server **out, const struct web_opts *opts, core_err *err)
{
    if (!opts || core_str_blank(opts->host) || opts->port < 0 || opts->port > 65535 ||
        opts->threads < 1)
        return core_err_set(err, CORE_ERR_INVALID, "invalid web server options");
    web_server *srv = core_calloc(1, sizeof *srv);
    if (!srv)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory creating the web server");
    srv->opts = *opts;
    srv->host = core_strdup(opts->host);
    if (!srv->host) {
        core_free(srv);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory creating the web server");
    }
    srv->opts.host = srv->host;
    atomic_init(&srv->inflight, 0);
    atomic_init(&srv->stopping, false);
    atomic_init(&srv->drain_wakeups, 0);
    pthread_mutex_init(&srv->drain_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->drain_cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&srv->starting, false);
    *out = srv;
    return CORE_OK;
}

core_status web_route(web_server *srv, const char *method, const char *path_template,
                      web_handler_fn fn, void *ud, core_err *err)
{
    if (!srv || core_str_blank(method) || !path_template || !fn)
        return core_err_set(err, CORE_ERR_INVALID,
                            "web_route: missing method, template or handler");
    if (srv->started)
        return core_err_set(err, CORE_ERR_INVALID,
                            "web_route: routes must be added before the server starts");
    for (size_t i = 0; i < srv->nroutes; i++)
        if (strcmp(srv->routes[i].method, method) == 0 &&
            strcmp(srv->routes[i].tmpl, path_template) == 0)
            return core_err_set(err, CORE_ERR_CONFLICT, "route %s %s is already registered", method,
                                path_template);

    struct route r = {0};
    core_status st = parse_template(&r, path_template, err);
    for (size_t i = 0; st == CORE_OK && i < srv->nroutes; i++)
        if (strcmp(srv->routes[i].method, method) == 0 && same_shape(&srv->routes[i], &r))
            st = core_err_set(err, CORE_ERR_CONFLICT, "route %s %s duplicates %s", method,
                              path_template, srv->routes[i].tmpl);
    if (st == CORE_OK) {
        r.method = core_strdup(method);
        r.tmpl = core_strdup(path_template);
        if (!r.method || !r.tmpl)
            st = core_err_set(err, CORE_ERR_NOMEM, "out of memory adding route %s", path_template);
    }
    if (st == CORE_OK) {
        struct route *grown = core_realloc(srv->routes, (srv->nroutes + 1) * sizeof *grown);
        if (!grown) {
            st = core_err_set(err, CORE_ERR_NOMEM, "out of memory adding route %s", path_template);
        } else {
            srv->routes = grown;
            r.fn = fn;
            r.ud = ud;
            srv->routes[srv->nroutes++] = r;
        }
    }
    if (st != CORE_OK)
        route_release(&r);
    return st;
}

/* ---- responses ------------------------------------------------------------------------------- */

void web_respond(struct web_response *resp, int status, const char *content_type, char *body,
                 size_t len)
{
    if (resp->body != body)
        core_free(resp->body);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = body;
    resp->body_len = body ? len : 0;
}

void web_respond_stream(struct web_response *resp, const char *content_type,
                        struct web_stream_spec *spec)
{
    web_respond(resp, 200, content_type, NULL, 0);
    resp->stream = spec;
}

bool web_stream_write(web_stream *s, const char *data, size_t len)
{
    if (s->broken)
        return false;
    while (len > 0) {
        size_t chunk = len > (1u << 20) ? (1u << 20) : len;
        int n = mg_write(s->conn, data, chunk);
        if (n <= 0) {
            s->broken = true;
            return false;
        }
        data += n;
        len -= (size_t)n;
    }
    return true;
}

void web_respond_json(struct web_response *resp, int status, json_t *json)
{
    char *buf = NULL;
    size_t len = 0;
    core_err err = CORE_ERR_INIT;
    if (json) { /* pbjson_dump, not jansson's recursive writer: its depth is bounded */
        if (pbjson_dump(json, &buf, &len, &err) != CORE_OK)
            buf = NULL;
        json_decref(json);
    }
    if (!buf) {
        log_error(COMP, "cannot serialise a JSON response: %s", json ? err.msg : "no value");
        web_respond(resp, 500, NULL, NULL, 0);
        return;
    }
    web_respond(resp, status, "application/json", buf, len);
}

/* The error JSON with an HTTP status and code, both from core.c's tables (or, for an error page
 * civetweb chose, its status); with_id adds the request id (the detail of this error is in the
 * log under it). */
static void respond_error_code(struct web_response *resp, int http, int code, const char *message,
                               bool with_id)
{
    /* json_pack refuses text that is not UTF-8, which would turn any status into a bare 500: a
     * handler may quote a decoded path parameter ("%FF") or user text cut inside a character */
    char clean[CORE_ERR_MSG_MAX * 2];
    core_strlcpy(clean, message ? message : "", sizeof clean);
    pbjson_make_utf8(clean);
    json_t *j = json_pack("{s:i,s:s}", "code", code, "message", clean);
    const char *id = with_id ? log_request_id() : NULL;
    if (j && id && json_object_set_new(j, "requestId", json_string(id)) != 0) {
        json_decref(j);
        j = NULL;
    }
    web_respond_json(resp, http, j);
}

void web_respond_error(struct web_response *resp, core_status st, const char *message)
{
    respond_error_code(resp, core_status_http(st), core_status_code(st), message, false);
}

void web_respond_refusal(struct web_response *resp, enum core_refusal r, const char *message)
{
    respond_error_code(resp, core_refusal_http(r), core_refusal_code(r), message, false);
}

void web_respond_failure(struct web_response *resp, const core_err *err, const char *what)
{
    int http = core_status_http(err->status);
    bool hidden = err->public_msg[0] != '\0';
    if (http >= 500 || hidden)
        log_write(http >= 500 ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN, COMP, "%s: %s status=%s", what,
                  err->msg, core_status_name(err->status));
    respond_error_code(resp, http, core_status_code(err->status), core_err_client_msg(err),
                       http >= 500 || hidden);
}

/* printf-style errors of the web layer: respond_status for a core_status, respond_refused for a
 * refusal of the HTTP layer (core.h has both tables). */
static void respond_status(struct web_response *resp, core_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void respond_refused(struct web_response *resp, enum core_refusal r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void respond_status(struct web_response *resp, core_status st, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    respond_error_code(resp, core_status_http(st), core_status_code(st), msg, false);
}

static void respond_refused(struct web_response *resp, enum core_refusal r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    respond_error_code(resp, core_refusal_http(r), core_refusal_code(r), msg, false);
}

/* ---- request accessors ---------------------------------------------------------------------- */

const char *web_request_header(const struct web_request *req, const char *name)
{
    return mg_get_header((const struct mg_connection *)req->internal, name);
}

const char *web_request_param(const struct web_request *req, const char *name)
{
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->param_names[i], name) == 0)
            return req->param_values[i];
    return NULL;
}

/* ---- the request handler --------------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes src[0..len) into dst (len + 1 bytes). false on a malformed escape or %00. */
static bool percent_decode(const char *src, size_t len, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '%') {
            if (i + 2 >= len)
                return false;
            int h = hexval(src[i + 1]), l = hexval(src[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return false;
            dst[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            dst[o++] = src[i];
        }
    }
    dst[o] = '\0';
    return true;
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* What civetweb would decide about keeping the connection, from the request alone. */
static bool client_wants_keep_alive(struct mg_connection *conn, const struct mg_request_info *ri)
{
    const char *h = mg_get_header(conn, "Connection");
    if (h)
        return strcasestr(h, "keep-alive") != NULL;
    return ri->http_version && strcmp(ri->http_version, "1.1") == 0;
}

static bool request_has_body(struct mg_connection *conn, const struct mg_request_info *ri)
{
    if (ri->content_length > 0)
        return true;
    const char *te = mg_get_header(conn, "Transfer-Encoding");
    return te && strcasecmp(te, "identity") != 0;
}

/* A body's length must be unambiguous, or a proxy in front and this server can disagree on where
 * the next request starts (request smuggling). civetweb reads the first Content-Length it finds
 * and prefers Transfer-Encoding over it. NULL when the framing is sound, else the problem. */
static const char *framing_problem(const struct mg_request_info *ri)
{
    bool te = false, cl = false;
    unsigned long long length = 0;
    for (int i = 0; i < ri->num_headers; i++) {
        const char *v = ri->http_headers[i].value;
        if (strcasecmp(ri->http_headers[i].name, "Transfer-Encoding") == 0) {
            te = true;
        } else if (strcasecmp(ri->http_headers[i].name, "Content-Length") == 0) {
            size_t digits = strspn(v, "0123456789");
            if (digits == 0 || digits > 18 || v[digits + strspn(v + digits, " \t")] != '\0')
                return "malformed Content-Length header";
            unsigned long long n = strtoull(v, NULL, 10);
            if (cl && n != length)
                return "conflicting Content-Length headers";
            cl = true;
            length = n;
        }
    }
    return te && cl ? "a request cannot have both Transfer-Encoding and Content-Length" : NULL;
}

enum body_result { BODY_OK, BODY_TOO_LARGE, BODY_BROKEN, BODY_NOMEM };

/* Reads the whole request body (Content-Length or chunked) into a NUL-terminated buffer, stopping
 * as soon as it exceeds limit. */
static enum body_result read_body(struct mg_connection *conn, const struct mg_request_info *ri,
                                  size_t limit, char **out, size_t *out_len)
{
    long long cl = ri->content_length;
    size_t cap = cl >= 0 ? (size_t)cl + 1 : 4096;
    size_t len = 0;
    char *buf;

    if (limit == SIZE_MAX) /* "no limit": limit + 1 below must not wrap to 0 */
        limit = SIZE_MAX - 1;
    if (cl >= 0 && (unsigned long long)cl > limit)
        return BODY_TOO_LARGE;
    if (cap > limit + 1)
        cap = limit + 1;
    buf = core_malloc(cap);
    if (!buf)
        return BODY_NOMEM;
    for (;;) {
        if (len + 1 == cap) {
            if (cl >= 0 && len == (size_t)cl)
                break;
            if (len >= limit) { /* chunked body already at the limit and more may follow */
                char probe;
                int n = mg_read(conn, &probe, 1);
                if (n == 0)
                    break;
                core_free(buf);
                return n < 0 ? BODY_BROKEN : BODY_TOO_LARGE;
            }
            size_t ncap = cap * 2 > limit + 1 ? limit + 1 : cap * 2;
            char *grown = core_realloc(buf, ncap);
            if (!grown) {
                core_free(buf);
                return BODY_NOMEM;
            }
            buf = grown;
            cap = ncap;
        }
        int n = mg_read(conn, buf + len, cap - 1 - len);
        if (n < 0) {
            core_free(buf);
            return BODY_BROKEN;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (cl >= 0 && len != (size_t)cl) {
        core_free(buf);
        return BODY_BROKEN;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return BODY_OK;
}

static void send_response(struct mg_connection *conn, const struct mg_request_info *ri,
                          struct web_response *resp, bool keep_alive)
{
    char head[1024];
    const char *reason = mg_get_response_code_text(conn, resp->status);
    int n =
        snprintf(head, sizeof head,
                 "HTTP/1.1 %d %s\r\n"
                 "%s%s%s"
                 "Content-Length: %zu\r\n"
                 "%s"
                 "%s%s%s"
                 "%s\r\n",
                 resp->status, reason ? reason : "", resp->content_type ? "Content-Type: " : "",
                 resp->content_type ? resp->content_type : "", resp->content_type ? "\r\n" : "",
                 resp->body_len,
                 keep_alive ? (strcmp(ri->http_version ? ri->http_version : "", "1.1") == 0
                                   ? ""
                                   : "Connection: keep-alive\r\n")
                            : "Connection: close\r\n",
                 log_request_id() ? "X-Request-Id: " : "", log_request_id() ? log_request_id() : "",
                 log_request_id() ? "\r\n" : "", resp->extra_headers);
    if (n < 0 || (size_t)n >= sizeof head) {
        log_error(COMP, "response header too long status=%d", resp->status);
        return;
    }
    if (mg_write(conn, head, (size_t)n) != n)
        return; /* client went away */
    if (resp->body_len > 0 && strcmp(ri->request_method, "HEAD") != 0)
        mg_write(conn, resp->body, resp->body_len);
}

/* Fills resp->extra_headers with "Allow: ..." listing the methods of every route matching the
 * path, in registration order, without duplicates. */
static void build_allow(const web_server *srv, int n, const char *const *starts, const size_t *lens,
                        struct web_response *resp, char *allow, size_t allow_size)
{
    size_t used = 0;
    allow[0] = '\0';
    for (size_t i = 0; i < srv->nroutes; i++) {
        const struct route *r = &srv->routes[i];
        if (!route_matches(r, n, starts, lens))
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(srv->routes[j].method, r->method) == 0 &&
                   route_matches(&srv->routes[j], n, starts, lens);
        if (seen)
            continue;
        int w = snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", r->method);
        if (w < 0 || (size_t)w >= allow_size - used)
            break;
        used += (size_t)w;
    }
    snprintf(resp->extra_headers, sizeof resp->extra_headers, "Allow: %s\r\n", allow);
}

static void dispatch(web_server *srv, struct mg_connection *conn, const struct mg_request_info *ri,
                     struct web_response *resp, bool *body_unread)
{
    const char *method = ri->request_method;
    const char *path = ri->local_uri_raw;
    const char *starts[MAX_SEGMENTS];
    size_t lens[MAX_SEGMENTS];

    *body_unread = request_has_body(conn, ri);
    if (atomic_load(&srv->stopping)) {
        respond_status(resp, CORE_ERR_UNAVAILABLE, "server is shutting down");
        return;
    }
    const char *framing = framing_problem(ri);
    if (framing) {
        *body_unread = true; /* where the body ends is unknown: close the connection */
        respond_status(resp, CORE_ERR_INVALID, "%s", framing);
        return;
    }
    if (!path || path[0] != '/') {
        respond_status(resp, CORE_ERR_INVALID, "malformed request path");
        return;
    }
    int n = split_path(path, strlen(path), starts, lens, MAX_SEGMENTS);
    const struct route *best = NULL;
    bool path_matched = false;
    for (size_t i = 0; n >= 0 && i < srv->nroutes; i++) {
        const struct route *r = &srv->routes[i];
        if (!route_matches(r, n, starts, lens))
            continue;
        path_matched = true;
        if (strcmp(r->method, method) == 0 && (!best || more_specific(r, best)))
            best = r;
    }
    if (!path_matched) {
        const struct route *near = route_by_case(srv, method, n, starts, lens);
        bool other = near && strcmp(near->method, method) != 0;
        respond_status(resp, CORE_ERR_NOT_FOUND, "no route for %s %s%s%s%s%s%s", method, path,
                       near ? "; did you mean " : "", other ? near->method : "", other ? " " : "",
                       near ? near->tmpl : "", near ? "?" : "");
        return;
    }
    if (!best) {
        char allow[160];
        build_allow(srv, n, starts, lens, resp, allow, sizeof allow);
        respond_refused(resp, CORE_REFUSE_METHOD, "method %s not allowed on %s (allowed: %s)",
                        method, path, allow);
        return;
    }

    /* Path parameters, percent-decoded, in one buffer. */
    size_t decoded_size = strlen(path) + 1;
    char *decoded = core_malloc(decoded_size);
    char *body = NULL;
    size_t body_len = 0;
    struct web_request req = {0};
    req.method = method;
    req.path = path;
    req.query = ri->query_string;
    req.internal = conn;
    if (!decoded) {
        respond_status(resp, CORE_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t off = 0;
    for (size_t i = 0; i < best->nseg; i++) {
        if (!best->is_param[i])
            continue;
        if (!percent_decode(starts[i], lens[i], decoded + off)) {
            respond_status(resp, CORE_ERR_INVALID, "malformed percent-encoding in path %s", path);
            goto done;
        }
        req.param_names[req.nparams] = best->segs[i];
        req.param_values[req.nparams] = decoded + off;
        req.nparams++;
        off += strlen(decoded + off) + 1;
    }

    switch (read_body(conn, ri, srv->opts.body_limit, &body, &body_len)) {
    case BODY_OK:
        *body_unread = false;
        break;
    case BODY_TOO_LARGE:
        respond_status(resp, CORE_ERR_TOO_LARGE, "request body larger than %zu bytes",
                       srv->opts.body_limit);
        goto done;
    case BODY_BROKEN:
        respond_status(resp, CORE_ERR_INVALID, "incomplete request body");
        goto done;
    case BODY_NOMEM:
        respond_status(resp, CORE_ERR_NOMEM, "out of memory reading the request body");
        goto done;
    }
    req.body = body;
    req.body_len = body_len;

    best->fn(best->ud, &req, resp);
    if (resp->status < 100 || resp->status > 599) {
        log_error(COMP, "handler for %s %s left an invalid status %d", best->method, best->tmpl,
                  resp->status);
        resp->extra_headers[0] = '\0';
        respond_error_code(resp, core_status_http(CORE_ERR_INTERNAL),
                           core_status_code(CORE_ERR_INTERNAL), "handler produced no response",
                           true);
    }

done:
    core_free(body);
    core_free(decoded);
}

/* The request's id: the caller's X-Request-Id when it is 1-64 characters of [A-Za-z0-9._-] (the
 * RPC client passes its request's id on), else a new UUID. */
static void take_request_id(struct mg_connection *conn, char id[LOG_REQUEST_ID_MAX + 1])
{
    const char *h = mg_get_header(conn, "X-Request-Id");
    size_t n = h ? strlen(h) : 0;
    bool ok = n > 0 && n <= LOG_REQUEST_ID_MAX &&
              strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789._-") == n;
    if (ok)
        memcpy(id, h, n + 1);
    else
        core_uuid_new(id);
}

/* The head of a streamed response (web_respond_stream), then the handler's writer; the
 * connection closes afterwards. */
static void send_stream(struct mg_connection *conn, struct web_response *resp)
{
    char head[1024];
    int n =
        snprintf(head, sizeof head,
                 "HTTP/1.1 200 OK\r\n"
                 "Content-Type: %s\r\n"
                 "Cache-Control: no-cache\r\n"
                 "Connection: close\r\n"
                 "%s%s%s"
                 "%s\r\n",
                 resp->content_type ? resp->content_type : "application/octet-stream",
                 log_request_id() ? "X-Request-Id: " : "", log_request_id() ? log_request_id() : "",
                 log_request_id() ? "\r\n" : "", resp->extra_headers);
    struct web_stream s = {conn, true};
    if (n > 0 && (size_t)n < sizeof head)
        s.broken = mg_write(conn, head, (size_t)n) != n;
    else
        log_error(COMP, "stream header too long");
    resp->stream->fn(resp->stream->ud, &s);
}

static int on_request(struct mg_connection *conn, void *cbdata)
{
    web_server *srv = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    long long t0 = now_us();
    struct web_response resp = {0};
    bool body_unread = false;
    char id[LOG_REQUEST_ID_MAX + 1];

    take_request_id(conn, id);
    log_request_id_set(id);
    atomic_fetch_add(&srv->inflight, 1);
    dispatch(srv, conn, ri, &resp, &body_unread);
    /* Fairness: civetweb binds a worker thread to a connection while it is kept alive, and
     * connections beyond the thread count wait in a queue. Clients that keep their connections
     * busy would starve the queued ones forever, so once most threads are bound, responses close
     * their connection and the queue moves on. */
    bool crowded = atomic_load(&srv->open_conns) >= srv->crowded_at;
    bool keep_alive = !body_unread && !crowded && client_wants_keep_alive(conn, ri) &&
                      !atomic_load(&srv->stopping);
    if (resp.stream) {
        mg_disable_keep_alive(conn);
        send_stream(conn, &resp);
    } else {
        if (!keep_alive)
            mg_disable_keep_alive(conn);
        send_response(conn, ri, &resp, keep_alive);
    }
    int status = resp.status;
    core_free(resp.body);
    log_debug(COMP, "%s %s status=%d duration_us=%lld", ri->request_method,
              ri->local_uri_raw ? ri->local_uri_raw : "?", status, now_us() - t0);
    log_request_id_set(NULL);
    /* the last request to end during a graceful stop wakes it (the stop looks at inflight under
     * drain_mu, so the broadcast cannot fall between its look and its wait) */
    if (atomic_fetch_sub(&srv->inflight, 1) == 1 && atomic_load(&srv->stopping)) {
        pthread_mutex_lock(&srv->drain_mu);
        pthread_cond_broadcast(&srv->drain_cv);
        pthread_mutex_unlock(&srv->drain_mu);
    }
    return status;
}

/* civetweb refuses some requests before on_request() could see them (a request line or header
 * block over its buffer, a method it does not know such as TRACE, a malformed request line or
 * header, an HTTP version other than 1.x) and calls this to report the error: the client gets
 * the API's JSON error instead of civetweb's plain text, and the connection is closed. */
static int on_http_error(struct mg_connection *conn, int status, const char *errmsg)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *method = status == 400 && ri ? ri->request_method : NULL;
    /* the methods civetweb 1.15 accepts; its parser stops at a method word it does not know, and
     * that word is then NUL-terminated in civetweb's request buffer */
    static const char known[] =
        " GET POST PUT DELETE HEAD OPTIONS CONNECT PATCH PROPFIND MKCOL LOCK UNLOCK "
        "PROPPATCH REPORT ";
    char id[LOG_REQUEST_ID_MAX + 1], refused[40] = "";
    struct web_response resp = {0};
    core_uuid_new(id);
    log_request_id_set(id);
    if (method && method[0] && strlen(method) <= 32 &&
        strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(method)) {
        snprintf(refused, sizeof refused, " %s ", method);
        if (strstr(known, refused))
            refused[0] = '\0';
        else
            snprintf(refused, sizeof refused, "%s", method);
    }
    const char *max = mg_get_option(mg_get_context(conn), "max_request_size");
    if (status == 400 && errmsg && strcmp(errmsg, "Malformed message") == 0) {
        /* civetweb 1.15 says this both for a head that outgrew its buffer and for control bytes */
        respond_status(&resp, CORE_ERR_INVALID,
                       "malformed request head, or request line and headers larger than %s bytes",
                       max ? max : "16384");
    } else if (refused[0]) {
        respond_refused(&resp, CORE_REFUSE_UNKNOWN_VERB, "method %s is not supported", refused);
    } else if (status == 505) {
        respond_refused(&resp, CORE_REFUSE_HTTP_VERSION,
                        "HTTP version not supported (use HTTP/1.1)");
    } else if (status == 411 || status == 400) {
        respond_status(&resp, CORE_ERR_INVALID, "malformed HTTP request");
    } else {
        /* another error page of civetweb's: its status stays, with our format */
        respond_error_code(&resp, status >= 400 && status <= 599 ? status : 500,
                           core_status_code(CORE_ERR_INTERNAL), "the request could not be read",
                           false);
    }
    log_debug(COMP, "civetweb refused a request: %d %s -> %d", status, errmsg ? errmsg : "",
              resp.status);
    struct mg_request_info none = {0}; /* all send_response() needs: HEAD gets no body */
    none.request_method =
        ri && ri->request_method && strcmp(ri->request_method, "HEAD") == 0 ? "HEAD" : "";
    send_response(conn, &none, &resp, false);
    core_free(resp.body);
    log_request_id_set(NULL);
    return 0;
}

static int on_init_connection(const struct mg_connection *conn, void **conn_data)
{
    (void)conn_data;
    web_server *srv = mg_get_user_data(mg_get_context(conn));
    atomic_fetch_add(&srv->open_conns, 1);
    return 0;
}

static void on_connection_closed(const struct mg_connection *conn)
{
    web_server *srv = mg_get_user_data(mg_get_context(conn));
    atomic_fetch_sub(&srv->open_conns, 1);
}

static int on_log_message(const struct mg_connection *conn, const char *message)
{
    web_server *srv = mg_get_user_data(mg_get_context(conn));
    if (srv && atomic_load(&srv->starting) && !srv->start_cause[0])
        core_strlcpy(srv->start_cause, message, sizeof srv->start_cause);
    log_debug(COMP, "civetweb: %s", message);
    return 1;
}

/* The cause in civetweb's complaint, e.g. "Address already in use" from "cannot bind to
 * 127.0.0.1:8080: 98 (Address already in use)"; the whole complaint when it has no "(...)". */
static const char *start_cause(web_server *srv)
{
    char *open = strrchr(srv->start_cause, '(');
    size_t len = strlen(srv->start_cause);
    if (open && len > 0 && srv->start_cause[len - 1] == ')' && open[1] != ')') {
        srv->start_cause[len - 1] = '\0';
        return open + 1;
    }
    return srv->start_cause;
}

/* ---- start / stop ---------------------------------------------------------------------------- */

core_status web_server_start(web_server *srv, core_err *err)
{
    if (srv->started)
        return core_err_set(err, CORE_ERR_INVALID, "web server already started");

    char ports[128], threads[16], timeout[16];
    snprintf(ports, sizeof ports, "%s:%d", srv->host, srv->opts.port);
    snprintf(threads, sizeof threads, "%d", srv->opts.threads);
    /* civetweb's request timeout: the deadline of a connection's first header (from when a worker
     * thread takes it), and of each body read and response write */
    snprintf(timeout, sizeof timeout, "%d",
             srv->opts.header_timeout_ms > 0 ? srv->opts.header_timeout_ms : WEB_HEADER_TIMEOUT_MS);
    const char *options[] = {
        "listening_ports",
        ports,
        "num_threads",
        threads,
        "tcp_nodelay",
        "1",
        "enable_keep_alive",
        "yes",
        "keep_alive_timeout_ms",
        "500",
        "request_timeout_ms",
        timeout,
        "decode_url",
        "no", /* we decode path parameters ourselves, after splitting at '/' */
        NULL,
    };
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.log_message = on_log_message;
    callbacks.init_connection = on_init_connection;
    callbacks.connection_closed = on_connection_closed;
    callbacks.http_error = on_http_error;
    /* keep-alive only while at least a quarter of the threads (one at least) is free */
    srv->crowded_at = srv->opts.threads - srv->opts.threads / 4;
    if (srv->crowded_at >= srv->opts.threads)
        srv->crowded_at = srv->opts.threads - 1;
    if (srv->crowded_at < 1)
        srv->crowded_at = 1;
    struct mg_init_data init = {&callbacks, srv, options};
    char errtext[256] = "";
    unsigned errcode = 0;
    struct mg_error_data errdata = {&errcode, errtext, sizeof errtext};

    srv->start_cause[0] = '\0';
    atomic_store(&srv->starting, true);
    srv->ctx = mg_start2(&init, &errdata);
    atomic_store(&srv->starting, false);
    if (!srv->ctx)
        return core_err_set(err, CORE_ERR_UNAVAILABLE, "cannot listen on %s: %s", ports,
                            srv->start_cause[0] ? start_cause(srv)
                            : errtext[0]        ? errtext
                                                : "civetweb failed to start");
    struct mg_server_port sp;
    memset(&sp, 0, sizeof sp);
    if (mg_get_server_ports(srv->ctx, 1, &sp) != 1) {
        mg_stop(srv->ctx);
        srv->ctx = NULL;
        return core_err_set(err, CORE_ERR_INTERNAL, "cannot learn the listening port of %s", ports);
    }
    srv->port = sp.port;
    mg_set_request_handler(srv->ctx, "/", on_request, srv);
    srv->started = true;
    log_info(COMP, "listening on %s:%d routes=%zu", srv->host, srv->port, srv->nroutes);
    return CORE_OK;
}

int web_server_port(const web_server *srv)
{
    return srv->port;
}

int web_server_inflight(const web_server *srv)
{
    return srv ? atomic_load(&srv->inflight) : 0;
}

int web_server_drain_wakeups(const web_server *srv)
{
    return srv ? atomic_load(&srv->drain_wakeups) : 0;
}

/* civetweb's master thread notices mg_stop() only when its poll() on the listening socket returns,
 * which without traffic takes up to 2 s. This thread connects to the listening socket every 10 ms
 * until the connection is refused (the socket is closed), which wakes the master at once. A poke
 * that arrives before the stop flag is set is an ordinary connection that closes without a
 * request. */
struct poker {
    struct sockaddr_in addr;
    atomic_bool done;
};

static void *poke_thread(void *arg)
{
    struct poker *pk = arg;
    for (int i = 0; i < 1000 && !atomic_load(&pk->done); i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            break;
        int rc = connect(fd, (struct sockaddr *)&pk->addr, sizeof pk->addr);
        close(fd);
        if (rc != 0)
            break;
    }
    return NULL;
}

core_status web_server_on_stop(web_server *srv, void (*fn)(void *), void *ud, core_err *err)
{
    assert(srv && fn && !srv->started);
    if (core_array_grow(&srv->hooks, &srv->hooks_cap, srv->nhooks + 1, sizeof *srv->hooks))
        return core_err_nomem(err);
    srv->hooks[srv->nhooks++] = (struct stop_hook){fn, ud};
    return CORE_OK;
}

void web_server_stop(web_server *srv)
{
    if (!srv || srv->stopped)
        return;
    if (srv->started)
        atomic_store(&srv->stopping, true);
    if (!srv->hooks_ran) {
        srv->hooks_ran = true;
        for (size_t i = 0; i < srv->nhooks; i++)
            srv->hooks[i].fn(srv->hooks[i].ud);
    }
    if (!srv->started)
        return;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += srv->opts.drain_timeout_ms / 1000;
    until.tv_nsec += (long)(srv->opts.drain_timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&srv->drain_mu);
    while (atomic_load(&srv->inflight) > 0) {
        int rc = pthread_cond_timedwait(&srv->drain_cv, &srv->drain_mu, &until);
        atomic_fetch_add(&srv->drain_wakeups, 1);
        if (rc == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&srv->drain_mu);
    int left = atomic_load(&srv->inflight);
    if (left > 0)
        log_warn(COMP, "stopping with %d request(s) still running after %d ms", left,
                 srv->opts.drain_timeout_ms);
    long long t0 = now_us();
    struct poker pk;
    pthread_t poker_th;
    memset(&pk, 0, sizeof pk);
    atomic_init(&pk.done, false);
    pk.addr.sin_family = AF_INET;
    pk.addr.sin_port = htons((uint16_t)srv->port);
    if (inet_pton(AF_INET, srv->host, &pk.addr.sin_addr) != 1 ||
        pk.addr.sin_addr.s_addr == htonl(INADDR_ANY))
        pk.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool poking = pthread_create(&poker_th, NULL, poke_thread, &pk) == 0;
    mg_stop(srv->ctx);
    atomic_store(&pk.done, true);
    if (poking)
        pthread_join(poker_th, NULL);
    srv->ctx = NULL;
    srv->stopped = true;
    log_info(COMP, "stopped %s:%d (civetweb stop took %lld ms)", srv->host, srv->port,
             (now_us() - t0) / 1000);
}

void web_server_free(web_server *srv)
{
    if (!srv)
        return;
    web_server_stop(srv);
    for (size_t i = 0; i < srv->nroutes; i++)
        route_release(&srv->routes[i]);
    core_free(srv->routes);
    for (size_t i = srv->nkept; i-- > 0;)
        srv->kept[i].free_fn(srv->kept[i].ptr);
    core_free(srv->kept);
    core_free(srv->hooks);
    core_free(srv->host);
    pthread_cond_destroy(&srv->drain_cv);
    pthread_mutex_destroy(&srv->drain_mu);
    core_free(srv);
}

core_status web_server_keep(web_server *srv, void *ptr, void (*free_fn)(void *), core_err *err)
{
    assert(srv && free_fn && !srv->started);
    struct kept *grown = core_realloc(srv->kept, (srv->nkept + 1) * sizeof *grown);
    if (!grown) {
        free_fn(ptr);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    }
    srv->kept = grown;
    srv->kept[srv->nkept++] = (struct kept){ptr, free_fn};
    return CORE_OK;
}

void *web_server_kept(const web_server *srv, void (*free_fn)(void *))
{
    assert(srv && free_fn);
    for (size_t i = 0; i < srv->nkept; i++)
        if (srv->kept[i].free_fn == free_fn)
            return srv->kept[i].ptr;
    return NULL;
}
