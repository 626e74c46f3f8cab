/* httpc.h -- a small HTTP/1.1 client over plain sockets, with keep-alive connection reuse.
 *
 * Layer: core. Used by the RPC client (rpc.h) and by end-to-end tests. Talks to ONE host:port
 * (IPv4 address or name), plain HTTP only. Understands Content-Length and
 * "Transfer-Encoding: chunked" response bodies, keep-alive and "Connection: close". Every socket
 * wait uses poll() with the timeout given to httpc_new(). Responses larger than HTTPC_MAX_RESPONSE
 * bytes are refused (CORE_ERR_TOO_LARGE).
 *
 * Thread-safety: an httpc is thread-safe. It keeps an internal pool of idle keep-alive
 * connections: a request takes one (or opens a new one), and gives it back when the response was
 * read completely and the server did not ask to close. Concurrent requests use different
 * connections. An httpc_response belongs to the thread that got it.
 */
#ifndef HTTPC_H
#define HTTPC_H

#include <stddef.h>

#include "core.h"

typedef struct httpc
    httpc; /* thread-safe: an internal pool of keep-alive connections to ONE host:port */

#define HTTPC_MAX_RESPONSE (16u * 1024u * 1024u) /* header block + body */

/* Creates a client for host:port (host copied). No connection is opened yet. timeout_ms (> 0)
 * bounds connecting and each wait for the server. Caller frees with httpc_free(). */
core_status httpc_new(httpc **out, const char *host, int port, int timeout_ms, core_err *err);

/* Closes the pooled connections and frees. Not while requests run. NULL is a no-op. */
void httpc_free(httpc *c);

/* A response. Caller storage: HTTPC_RESPONSE_INIT, release with httpc_response_release(). */
struct httpc_response {
    int status;
    char *body;
    size_t body_len;
    char *headers; /* raw header block, internal */
};
#define HTTPC_RESPONSE_INIT                                                                        \
    {                                                                                              \
        0, NULL, 0, NULL                                                                           \
    }

/* Sends one request and reads the whole response.
 * method "GET", "POST", ...; path like "/api/baskets?x=1" (borrowed). extra_headers: NULL or a
 * NULL-terminated array of "Name: value" strings (borrowed). Host, Content-Length (when a body is
 * given or the method is POST/PUT/PATCH) are added by the client. body may be NULL (len 0).
 * On OK, resp is filled (body NUL-terminated, core_malloc'd, never NULL): release with
 * httpc_response_release(). Any HTTP status is OK here; the caller looks at resp->status.
 * Connection refused/timeout -> CORE_ERR_UNAVAILABLE; malformed response -> CORE_ERR_IO;
 * response over HTTPC_MAX_RESPONSE -> CORE_ERR_TOO_LARGE. A stale pooled connection (server
 * closed it) is retried once on a fresh connection, only when nothing of the response was read.
 * A server may answer before it has read the whole body (e.g. 413) and close or reset the
 * connection: the answer is still read and returned, also when the close stopped the sending.
 * On failure resp is left empty. */
core_status httpc_request(httpc *c, const char *method, const char *path,
                          const char *const *extra_headers, const void *body, size_t body_len,
                          struct httpc_response *resp, core_err *err);

/* The value of a response header (case-insensitive name), leading/trailing blanks removed; NULL
 * if absent. Borrowed: valid until httpc_response_release(). */
const char *httpc_response_header(const struct httpc_response *resp,
                                  const char *name); /* case-insensitive; NULL if absent */

/* Frees what resp holds and resets it to HTTPC_RESPONSE_INIT. Safe on an INIT or released
 * response. */
void httpc_response_release(struct httpc_response *resp);

#endif /* HTTPC_H */
