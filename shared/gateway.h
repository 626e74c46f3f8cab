/* gateway.h -- the REST gateway: JSON routes in front of RPC methods (the C grpc-gateway).
 *
 * Layer: core, above web.h (HTTP routing), rpc.h (method registry) and pbjson.h (transcoding).
 * A module lists its REST routes in a static table, each naming the RPC method that answers it,
 * exactly like the book's api.annotations.yaml:
 *
 *     static const struct gw_route routes[] = {
 *         {"POST", "/api/baskets", "StartBasket"},
 *         {"PUT", "/api/baskets/{id}/addItem", "AddItem"},
 *     };
 *     gw_mount(srv, reg, &basketspb__basket_service__descriptor, routes, 2, &err);
 *
 * A request on a mounted route is answered like this (the grpc-gateway rule `body: "*"`):
 *   1. Content-Type of a non-empty body: "application/json" or any "application/...+json"
 *      (parameters such as "; charset=utf-8" allowed). Any other type -> 415 {"code":3,
 *      "message":"unsupported Content-Type \"application/x-www-form-urlencoded\": send the body
 *      as JSON with -H 'Content-Type: application/json'"}; none -> 415 "missing Content-Type: send
 *      the body as JSON with -H 'Content-Type: application/json'". Why: a web page the learner
 *      opens can make the browser POST a form type, text/plain or an untyped body (fetch() with
 *      a Blob or ArrayBuffer) to 127.0.0.1 without asking; a JSON type needs a CORS preflight,
 *      which this server never grants. `curl -d` sends the form type, so curl needs
 *      -H 'Content-Type: application/json'. Without a body nothing is decoded and the type does
 *      not matter (a cross-site POST without a body reaches only methods whose input is all in
 *      the path: of the book's routes, cancelling a shopping list by its random id).
 *   1b. A path parameter that is not valid UTF-8 once percent-decoded -> 400 "the id is not
 *      valid UTF-8" (named after the parameter), before any layer sees it.
 *   2. The body is decoded with pbjson_decode() into a new message of the method's input type, for
 *      every HTTP method; an empty body is {}. Bad JSON, unknown fields, wrong types -> 400 naming
 *      the problem (pbjson.h).
 *   3. Every path parameter is set with pbjson_set_field_text(): "{id}" fills the input field "id"
 *      (proto or JSON name). A path parameter wins over the same field in the body. A value that
 *      does not parse (e.g. "abc" for an int32) -> 400.
 *   4. rpc_invoke() calls the implementation through the registry.
 *   5. Success -> 200 with pbjson_encode() of the output (grpc-gateway's JSON: camelCase names,
 *      every field present, int64 as strings, enums by name). Failure at any step ->
 *      web_respond_failure(): HTTP core_status_http(st) and {"code": core_status_code(st),
 *      "message": core_err_client_msg(&err)} (e.g. CORE_ERR_NOT_FOUND -> 404 {"code":5,...}).
 *      5xx failures and failures whose message is internal (a database's text, an address: the
 *      client gets the public message, e.g. "the database is unavailable, try again") are logged
 *      with the request id, which the body then carries as "requestId" (web.h).
 * The query string is ignored. 404 (no route), 405 (wrong method) and 413 (body over the limit)
 * come from web.h before the gateway runs.
 *
 * The lab console (console.h): the first gw_mount() on a server also mounts GET /, /console.js,
 * /console.css and /openapi.json there, and every gw_mount() adds its service and route table to
 * the server's catalogue, from which /openapi.json (openapi.h) and the page are made at request
 * time. So every program that mounts REST routes serves the console of exactly those routes, and
 * no list of routes is kept by hand anywhere. A program that serves "/" itself gets
 * CORE_ERR_CONFLICT from its first gw_mount() (after its own route) or from its own web_route()
 * (before).
 *
 * Ownership: gw_mount() allocates one small record per call (the routes' handler data) and hands
 * it over to the web server (web_server_keep), which frees it in web_server_free(); the first
 * call also hands over the catalogue. Nothing is kept in process-wide state.
 *
 * Thread-safety: gw_mount() is a setup call (like web_route()). Request handling runs on web.h's
 * worker threads and is thread-safe as long as the RPC implementations are.
 */
#ifndef GATEWAY_H
#define GATEWAY_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "core.h"
#include "rpc.h"
#include "web.h"

/* The OpenAPI document's info (openapi.h) for the routes of a server. */
#define GW_API_TITLE "MallBots REST API"
#define GW_API_VERSION "1.0"
#define GW_API_DESCRIPTION                                                                         \
    "Every REST route of this program, made from the REST gateway's route tables "                 \
    "(shared/gateway.h) and the request and response messages of each module's api.proto. "        \
    "x-rpc names the RPC method that answers a route (POST /rpc/<x-rpc> on the RPC port)."

/* One REST route: HTTP method, path template (web.h syntax, "{name}" parameters) and the name of
 * the RPC method of the mounted service that answers it. All borrowed: use static strings. */
struct gw_route {
    const char *method; /* "GET", "POST", "PUT", "DELETE", ... */
    const char *path;   /* "/api/baskets/{id}/addItem" */
    const char *rpc;    /* "AddItem" */
};

/* Mounts n routes on srv (before web_server_start()); requests call svc's methods through reg.
 * srv and reg are borrowed and must outlive the serving; svc (generated, static) and routes (a
 * static table) are borrowed. All routes are checked before any is added: a route whose rpc is
 * not a method of svc, or whose path has a {param} that is not a singular scalar field of the
 * method's input message, is a programmer error -> CORE_ERR_INVALID naming the route and the
 * method or field, e.g. 'route PUT /api/baskets/{idx}/addItem: path parameter {idx}: unknown
 * field "idx" in basketspb.AddItemRequest'. web_route() errors (a duplicate route ->
 * CORE_ERR_CONFLICT, a malformed template -> CORE_ERR_INVALID) are passed on, prefixed with the
 * route; routes added before such an error stay mounted. svc need not be registered in reg yet
 * (an unregistered service answers 404 at request time). A table that mounted whole joins the
 * server's catalogue (the console's routes above; their errors are passed on prefixed "the
 * console: "). */
core_status gw_mount(web_server *srv, rpc_registry *reg, const ProtobufCServiceDescriptor *svc,
                     const struct gw_route *routes, size_t n, core_err *err);

#endif /* GATEWAY_H */
