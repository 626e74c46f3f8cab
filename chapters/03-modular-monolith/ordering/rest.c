/* rest.c -- the ordering module's REST routes (the book's ordering/internal/rest, whose
 * grpc-gateway rules live in api.annotations.yaml). The gateway transcodes JSON to the RPC
 * request (path parameters fill same-named fields, the JSON body the rest) and the RPC response
 * back to JSON, so no JSON is written by hand here.
 */
#include "gateway.h"
#include "ordering/adapters.h"
#include "ordering/api.pb-c.h"

static const struct gw_route routes[] = {
    {"POST", "/api/ordering", "CreateOrder"},
    {"GET", "/api/ordering/{id}", "GetOrder"},
    {"DELETE", "/api/ordering/{id}", "CancelOrder"},
};

core_status ordering__rest_mount(web_server *srv, rpc_registry *reg, core_err *err)
{
    return gw_mount(srv, reg, &orderingpb__ordering_service__descriptor, routes,
                    sizeof routes / sizeof routes[0], err);
}
