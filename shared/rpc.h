/* rpc.h -- RPC driven by protobuf-c's generated service descriptors: protobuf over HTTP.
 *
 * Layer: core. The C counterpart of the book's gRPC. A module implements the methods of a
 * protoc-c generated service (ProtobufCServiceDescriptor) as rpc_method_fn functions and
 * registers them in an rpc_registry. The registry serves
 *   - in-process calls (rpc_invoke), used by the REST gateway, and
 *   - remote calls (rpc_server_mount on a web_server, rpc_call from an rpc_client).
 *
 * Wire format: POST /rpc/{service full name}/{method name}, e.g.
 * /rpc/storespb.StoresService/GetStore, request body = packed request message (Content-Type
 * application/x-protobuf). success: 200, body = packed response message (Content-Type
 * application/x-protobuf); failure: HTTP core_status_http(st), header "Rpc-Status:
 * CORE_ERR_NOT_FOUND" (core_status_name), text/plain body = the error message. The client maps the
 * Rpc-Status header back to the same core_status, so errors cross processes unchanged. The error
 * text is core_err_client_msg() (core.h): a message with internal detail (a database's text, an
 * address) crosses as its public words, and the detail is logged by the server, with the request
 * id. rpc_call() sends its thread's request id (log.h) as "X-Request-Id", which the server adopts
 * (web.h), so one id follows a request across modules. A body without "Content-Type:
 * application/x-protobuf" -> 415, Rpc-Status CORE_ERR_INVALID: web pages can make a browser post
 * text/plain or forms to 127.0.0.1 without asking, but not this type.
 *
 * Logging: rpc_invoke(), the path of every call of a method (the RPC server's and the gateway's),
 * writes a debug record when the method starts and one when it ends (log_call_enter/leave in
 * log.h: the book's logging decorator of each module's application, here once for all of them),
 * named by the module, i.e. the service's package without its "pb" ending, and the method:
 *     DEBUG ordering: --> Ordering.CreateOrder req=<id>
 *     DEBUG ordering: <-- Ordering.CreateOrder took=2.412ms req=<id>
 *     DEBUG ordering: <-- Ordering.CreateOrder status=CORE_ERR_CONFLICT error="order 4f0... already
 *                     exists" took=0.391ms req=<id>
 * A call of an unknown or unimplemented method writes neither record.
 *
 * Messages are heap trees (pb.h): requests are borrowed by the callee, responses are owned by the
 * caller, who frees them with pb_free().
 *
 * Thread-safety: an rpc_registry is set up from one thread (rpc_registry_add, rpc_server_mount),
 * then read-only: rpc_invoke and the mounted server may run from any number of threads; the
 * implementations' ud must be thread-safe. An rpc_client is thread-safe.
 */
#ifndef RPC_H
#define RPC_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "core.h"
#include "web.h"

/* A method implementation. req is borrowed (of the method's input type). On OK *resp is a heap
 * tree (pb.h) of the method's output type; the caller frees it with pb_free. On failure: fill
 * err, return its status and leave *resp NULL. */
typedef core_status (*rpc_method_fn)(
    void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
    core_err *err); /* on OK *resp is a heap tree (pb.h) of the method's output type; the caller
                       frees it with pb_free */

struct rpc_method {
    const char *name;
    rpc_method_fn fn;
};

typedef struct rpc_registry
    rpc_registry; /* services of this process; read-only (thread-safe) after setup */

/* Creates an empty registry. Caller frees with rpc_registry_free(). */
core_status rpc_registry_new(rpc_registry **out, core_err *err);

/* Frees the registry (not the implementations' ud). NULL is a no-op. */
void rpc_registry_free(rpc_registry *reg);

/* Registers an implementation of svc (a protoc-c generated ProtobufCServiceDescriptor, e.g.
 * &basketspb__basket_service__descriptor; borrowed, static). methods (n entries) is copied. Each
 * methods[i].name must be a method of svc (else CORE_ERR_INVALID naming it). Methods of svc
 * without an implementation answer CORE_ERR_NOT_FOUND "method X.Y is not implemented". ud is
 * borrowed. Registering the same service twice -> CORE_ERR_CONFLICT. */
core_status rpc_registry_add(rpc_registry *reg, const ProtobufCServiceDescriptor *svc,
                             const struct rpc_method *methods, size_t n, void *ud, core_err *err);

/* Finds a method descriptor by service full name ("basketspb.BasketService") and method name;
 * NULL if none. The descriptor is static (generated code). */
const ProtobufCMethodDescriptor *rpc_registry_method(const rpc_registry *reg, const char *service,
                                                     const char *method);

/* The ending of a method implementation whose response has no fields, given the status of the
 * command it ran: st when it is not CORE_OK (err already says why); otherwise a new empty message
 * of type desc in *resp (the method's caller frees it) and CORE_OK, or CORE_ERR_NOMEM:
 *     return rpc_empty_response(baskets_app_cancel_basket(ud, in->id, err),
 *                               &basketspb__cancel_basket_response__descriptor, resp, err); */
core_status rpc_empty_response(core_status st, const ProtobufCMessageDescriptor *desc,
                               ProtobufCMessage **resp, core_err *err);

/* In-process call: checks req's descriptor is the method's input type (else CORE_ERR_INVALID),
 * calls the implementation, checks *resp type (a wrong one is CORE_ERR_INTERNAL). Unknown
 * service or method -> CORE_ERR_NOT_FOUND. req is borrowed. On OK, caller frees *resp with
 * pb_free. Used by the REST gateway and the RPC server. Logs the call's start and end at debug
 * level (see "Logging" above). */
core_status rpc_invoke(rpc_registry *reg, const char *service, const char *method,
                       const ProtobufCMessage *req, ProtobufCMessage **resp, core_err *err);

/* Serves the registry on a web server (before web_server_start()): POST /rpc/{service}/{method},
 * body = packed request (Content-Type application/x-protobuf, else 415). 200 + packed response;
 * on error: HTTP core_status_http(st), header "Rpc-Status: <core_status_name(st)>", text body =
 * core_err_client_msg() of the error (5xx and internal messages are logged). Malformed body ->
 * 400 CORE_ERR_INVALID; unknown service/method -> 404 CORE_ERR_NOT_FOUND. reg is borrowed and
 * must outlive srv. */
core_status rpc_server_mount(rpc_registry *reg, web_server *srv, core_err *err);

typedef struct rpc_client rpc_client; /* thread-safe; reuses connections (httpc) */

/* A client for the RPC server at host:port (host copied). timeout_ms bounds connecting and each
 * wait for the server. No connection is opened yet. Caller frees with rpc_client_free(). */
core_status rpc_client_new(rpc_client **out, const char *host, int port, int timeout_ms,
                           core_err *err);

/* Closes connections and frees. Not while calls run. NULL is a no-op. */
void rpc_client_free(rpc_client *c);

/* Remote call of svc's method (svc borrowed, req borrowed and of the method's input type, else
 * CORE_ERR_INVALID). On OK *resp is unpacked into a heap tree of the method's output type (caller
 * frees with pb_free). A remote error comes back as the SAME core_status with the remote message
 * (so a NOT_FOUND in stores stays a NOT_FOUND in baskets); unreachable -> CORE_ERR_UNAVAILABLE
 * "stores RPC at 127.0.0.1:8085 unreachable: ..." (the service's package names the server) with
 * the public message "the stores module is unavailable, try again"; a reply that is malformed or
 * larger than HTTPC_MAX_RESPONSE -> CORE_ERR_IO, public "the stores module did not answer
 * properly". */
core_status rpc_call(rpc_client *c, const ProtobufCServiceDescriptor *svc, const char *method,
                     const ProtobufCMessage *req, ProtobufCMessage **resp, core_err *err);

#endif /* RPC_H */
