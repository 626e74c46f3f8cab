/* web.h -- HTTP server with path-template routing, on civetweb 1.15.
 *
 * Layer: core. The REST gateway and the RPC server (rpc.h) register their handlers here.
 *
 * Life cycle: web_server_new() -> web_route() for every route -> web_server_start() ->
 * ... serving ... -> web_server_stop() (graceful) -> web_server_free().
 *
 * Routing: the raw request path is split at '/' and compared segment by segment with every
 * template. A literal segment must be equal (compared before decoding); a "{name}" segment matches
 * exactly one non-empty segment whose percent-decoded text becomes the parameter `name` (so "%2F"
 * inside a parameter does not split it). Among the templates registered for the request's method
 * that match, the one with a literal segment at the earliest position where they differ wins (so
 * "/api/stores/participating" beats "/api/stores/{id}"). The query string takes no part in
 * matching. A trailing slash makes a different path: "/api/baskets/" does not match "/api/baskets"
 * (404), and "//" gives an empty segment that no parameter matches. Outcomes decided here:
 *   - no template matches the path         -> 404 {"code":5,"message":"no route for GET
 * /api/nope"}; when a template matches once upper and lower case are not told apart, the message
 * names it: "no route for PUT /api/baskets/x/additem; did you mean /api/baskets/{id}/addItem?"
 * (with its method in front when only a route of another method matches so)
 *   - templates match, none for the method -> 405 with "Allow: POST, PUT" (the methods of the
 *                                             matching templates) and
 *                                             {"code":12,"message":"method DELETE not allowed on
 *                                             /api/baskets (allowed: POST, PUT)"}
 *   - a malformed escape or %00 in a param  -> 400 {"code":3,...}
 *   - body over body_limit (Content-Length or while reading a chunked body) -> 413
 *     {"code":8,"message":"request body larger than N bytes"}; the body is NOT read in full and
 *     the connection is closed ("Connection: close")
 *   - a handler that leaves resp->status 0 -> 500 (a bug in the handler, logged as an error)
 *   - after web_server_stop() began         -> 503 {"code":14,"message":"server is shutting down"}
 *   - an ambiguous body length (request smuggling): two Content-Length headers with different
 *     values, a Content-Length that is not a plain number, or Content-Length together with
 *     Transfer-Encoding -> 400 {"code":3,"message":"conflicting Content-Length headers"} (or
 *     "malformed Content-Length header", "a request cannot have both Transfer-Encoding and
 *     Content-Length"), before routing; the connection is closed
 * Requests that civetweb refuses before routing get the same JSON error format (civetweb's
 * http_error callback) and "Connection: close":
 *   - request line + headers over civetweb's buffer (max_request_size, 16 KiB: a 60,000-character
 *     id, a 64 KiB header) -> 400 {"code":3,"message":"malformed request head, or request line
 *     and headers larger than 16384 bytes"} (civetweb reports both cases alike: a control byte
 *     such as a tab in the head is the other)
 *   - a method civetweb does not know (TRACE, FOO) -> 501 {"code":12,"message":"method TRACE is
 *     not supported"}
 *   - a malformed request line or header, a target with control or non-ASCII bytes -> 400
 *     {"code":3,"message":"malformed HTTP request"}; HTTP/2 or /0.9 -> 505
 * Request ids: every request gets an id, the caller's "X-Request-Id" header when it is 1-64
 * characters of [A-Za-z0-9._-] (so the RPC client's calls keep the id of the request they serve),
 * else a new UUID. Every response carries it as "X-Request-Id", every log record written while
 * the request runs ends in " req=<id>" (log.h), and an error body whose detail went to the log
 * (a handler that left no response; web_respond_failure() for a 5xx or an internal message)
 * carries it as "requestId":
 *     503 {"code":14,"message":"the database is unavailable, try again","requestId":"6f1..."}
 * Every response carries Content-Length; JSON ones carry Content-Type: application/json.
 * Stack: civetweb (Debian 1.15) runs handlers on worker threads with a 100 KiB stack (0x19000
 * bytes). Handlers must not recurse on input: pbjson.h and pb.h bound every recursive parse, and
 * JSON responses are written with pbjson_dump() (bounded depth), not jansson's writer.
 * Connections are HTTP/1.1 keep-alive; note that civetweb binds a worker thread to a connection
 * while it is open (idle ones are closed after 500 ms), so `threads` bounds concurrent clients.
 * Connections beyond that wait in civetweb's queue; so that busy kept-alive clients cannot starve
 * them, responses close their connection ("Connection: close") while three quarters or more of
 * the threads are bound to connections. A thread also waits for a connection's first request
 * header: a client that connects and sends nothing, or trickles header lines, holds it until
 * header_timeout_ms has passed since a thread took the connection; then the connection is closed
 * (with civetweb's plain-text 400 when part of a header had arrived). So a server that must stay
 * responsive while N such clients are connected needs more than N threads (the monolith's servers
 * have 1024 each: docs/ERRATA.md D48).
 * Each request is logged at debug level (method, path, status, duration).
 *
 * Thread-safety: web_route() only before web_server_start(), from one thread. Handlers run on
 * civetweb's worker threads (opts.threads of them) concurrently: a handler's ud must be
 * thread-safe. web_server_stop()/web_server_free() from one thread, not from a handler.
 */
#ifndef WEB_H
#define WEB_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core.h"

typedef struct web_server web_server; /* opaque */

struct web_opts {
    const char *host;      /* IPv4 address to listen on, e.g. "127.0.0.1" */
    int port;              /* 0 = an ephemeral port (see web_server_port()) */
    size_t body_limit;     /* largest request body accepted, in bytes */
    int threads;           /* civetweb worker threads */
    int drain_timeout_ms;  /* how long web_server_stop() waits for running handlers */
    int header_timeout_ms; /* how long a connection may take to send its first request header; also
                              bounds each body read and response write; 0 = WEB_HEADER_TIMEOUT_MS */
};

#define WEB_HEADER_TIMEOUT_MS 10000
#define WEB_OPTS_INIT                                                                              \
    {                                                                                              \
        "127.0.0.1", 8080, 1024 * 1024, 8, 5000, WEB_HEADER_TIMEOUT_MS                             \
    }

#define WEB_MAX_PARAMS 8

/* What a handler sees. Everything is borrowed and valid only during the handler call. */
struct web_request {
    const char *method, *path, *query; /* query may be NULL */
    const char *body;
    size_t body_len; /* body is NUL-terminated; "" when none */
    size_t nparams;
    const char *param_names[WEB_MAX_PARAMS];
    const char *param_values[WEB_MAX_PARAMS]; /* path template params, percent-decoded */
    const void *internal;                     /* do not touch (civetweb connection, for headers) */
};

/* What a handler fills, preferably with web_respond*(). status 0 = not filled (-> 500).
 * body is owned by the response (core_malloc'd); the server frees it after sending.
 * content_type is borrowed and must be a static string. extra_headers: zero or more complete
 * "Name: value\r\n" lines. */
struct web_response {
    int status;
    const char *content_type;
    char *body;
    size_t body_len;
    char extra_headers[256];
    struct web_stream_spec *stream; /* set by web_respond_stream(); NULL for a plain response */
};

/* A route handler. Runs on a worker thread; must fill resp. ud is the pointer given to
 * web_route(). */
typedef void (*web_handler_fn)(void *ud, const struct web_request *req, struct web_response *resp);

/* Creates a server (not listening yet). opts is copied (host too). Caller frees with
 * web_server_free(). */
core_status web_server_new(web_server **out, const struct web_opts *opts, core_err *err);

/* Adds a route; only before web_server_start(). method is "GET", "POST", ... (copied);
 * path_template is like "/api/stores/{id}/participating" (copied); ud is borrowed and must
 * outlive the server. A second route with the same method and template, or a template matching
 * exactly the same paths ("/a/{x}" after "/a/{id}") -> CORE_ERR_CONFLICT;
 * a malformed template (not starting with '/', empty or unclosed "{}", more than WEB_MAX_PARAMS
 * parameters) -> CORE_ERR_INVALID. */
core_status web_route(web_server *srv, const char *method, const char *path_template,
                      web_handler_fn fn, void *ud, core_err *err);

/* Hands ptr over to the server: web_server_free() calls free_fn(ptr) after the server stopped, in
 * the reverse order of the calls. For handler data that must live as long as the routes that
 * point at it (the gateway's per-mount records). Only before web_server_start(), from the thread
 * that sets the server up. On failure (CORE_ERR_NOMEM) free_fn(ptr) has already been called, so
 * the caller never owns ptr after this call. */
core_status web_server_keep(web_server *srv, void *ptr, void (*free_fn)(void *), core_err *err);

/* The first pointer handed over to srv with web_server_keep() together with free_fn, or NULL. So
 * a part that mounts routes more than once can find the record it keeps on this server (the
 * gateway's catalogue of every mounted route, which the console reads). Same thread rules as
 * web_server_keep(); the result is borrowed (the server owns it). */
void *web_server_kept(const web_server *srv, void (*free_fn)(void *));

/* Binds and starts serving. A port that cannot be bound -> CORE_ERR_UNAVAILABLE with the cause,
 * e.g. "cannot listen on 127.0.0.1:8080: Address already in use". */
core_status web_server_start(web_server *srv, core_err *err);

/* The bound port (useful with port 0); 0 before a successful start. */
int web_server_port(const web_server *srv);

/* How many requests are being handled right now (0 before a start), e.g. to tell at shutdown
 * how many are being waited for. Any thread. */
int web_server_inflight(const web_server *srv);

/* How many times a graceful stop woke up to look whether the in-flight requests had ended (0
 * before a stop). The stop does not poll: it sleeps until the last in-flight request ends or
 * drain_timeout_ms passes, so this is 1 per stop plus rare spurious wake-ups. For tests. */
int web_server_drain_wakeups(const web_server *srv);

/* Graceful stop: new requests get 503 JSON, waits for in-flight handlers up to
 * drain_timeout_ms (asleep on a condition variable that the last handler to end signals, not
 * polling), then stops civetweb. Idempotent; a no-op on a server never started. */
void web_server_stop(web_server *srv);

/* Stops if needed and frees. NULL is a no-op. */
void web_server_free(web_server *srv);

/* The value of a request header (case-insensitive name); NULL if absent. Borrowed, valid
 * during the handler call. */
const char *web_request_header(const struct web_request *req, const char *name);

/* The value of path parameter `name`; NULL if the template has none by that name. Borrowed. */
const char *web_request_param(const struct web_request *req, const char *name);

/* Fills resp. Takes ownership of body (core_malloc'd, may be NULL when len is 0), freeing a body
 * resp already held. content_type is borrowed (static string). */
void web_respond(struct web_response *resp, int status, const char *content_type,
                 char *body /* takes ownership, core_malloc'd */, size_t len);

/* Fills resp with the compact serialisation of json and Content-Type application/json. Takes
 * the reference to json (NULL or out of memory -> 500). */
void web_respond_json(struct web_response *resp, int status,
                      json_t *json /* takes the reference */);

/* Error response: HTTP core_status_http(st), JSON {"code": core_status_code(st), "message":
 * message}. message is borrowed; bytes of it that are not valid UTF-8 are sent as '?'. */
void web_respond_error(struct web_response *resp, core_status st, const char *message);

/* Error response for a refusal of the HTTP layer (core.h): HTTP core_refusal_http(r), JSON
 * {"code": core_refusal_code(r), "message": message}. */
void web_respond_refusal(struct web_response *resp, enum core_refusal r, const char *message);

/* The edge's answer to a failed call: HTTP core_status_http(err->status) with
 * core_err_client_msg(err) as the message (core.h). When err carries a public message (its msg
 * holds internal detail) or the status is a 5xx, err->msg is logged first ("<what>: <msg>
 * status=..."; error level for 5xx, warn otherwise, with the request id) and the body gets
 * "requestId". what (borrowed) names the call, e.g. "POST /api/stores (storespb.StoresService.
 * CreateStore)". */
void web_respond_failure(struct web_response *resp, const core_err *err, const char *what);

/* ---- streamed responses (server-sent events) ----------------------------------------------
 * A handler may answer with a body of unknown length that it writes as it goes (the lab console's
 * event feed, console.h): web_respond_stream() instead of web_respond(). After the handler has
 * returned, the server sends "200" with content_type, "Cache-Control: no-cache", "Connection:
 * close", the request id and resp->extra_headers, no Content-Length, and then calls fn(ud, s) on
 * the request's worker thread; fn writes with web_stream_write() for as long as it likes, and
 * the connection is closed when fn returns. fn is called exactly once (also when the head could
 * not be sent: then every write fails), so it owns ud and frees it. While fn runs the request is
 * in flight: web_server_stop() waits for it, so a part that streams must end its streams from a
 * stop hook (web_server_on_stop). A write to a client that does not read blocks this worker
 * thread only, at most header_timeout_ms (civetweb's write timeout), then fails. */
typedef struct web_stream web_stream; /* opaque: the connection fn writes to */
typedef void (*web_stream_fn)(void *ud, web_stream *s);
struct web_stream_spec {
    web_stream_fn fn;
    void *ud;
};

/* Makes resp a streamed response (status 200). content_type is borrowed (static string). spec is
 * the handler's (it must stay valid until fn is called: keep it inside ud). Frees a body resp
 * held. */
void web_respond_stream(struct web_response *resp, const char *content_type,
                        struct web_stream_spec *spec);

/* Writes len bytes of data to the client. false when the client has gone away (or the head was
 * never sent): stop writing and return. */
bool web_stream_write(web_stream *s, const char *data, size_t len);

/* Registers fn(ud) to run once when web_server_stop() begins (after new requests are refused,
 * before it waits for the running ones), in registration order; also when the server was never
 * started, so that a part can release what it holds at the same point of a shutdown either way.
 * For parts whose requests would otherwise not end by themselves (streams). Only before
 * web_server_start(), from the setting-up thread. ud is borrowed. CORE_ERR_NOMEM. */
core_status web_server_on_stop(web_server *srv, void (*fn)(void *), void *ud, core_err *err);

#endif /* WEB_H */
