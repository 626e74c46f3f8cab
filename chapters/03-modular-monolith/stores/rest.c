/* stores/rest.c -- the stores module's REST routes (the book's api.annotations.yaml).
 *
 * Each route is answered by the REST gateway (gateway.h): path parameters fill the same-named
 * request fields, a JSON body the others, and the response is the JSON of the RPC's output.
 * "/api/stores/participating" and "/api/stores/products/{id}" win over "/api/stores/{id}" and
 * "/api/stores/{store_id}/products" because the router prefers literal segments (web.h).
 */
#include "stores/adapters.h"

#include "gateway.h"
#include "stores/api.pb-c.h"

static const struct gw_route routes[] = {
    {"POST", "/api/stores", "CreateStore"},
    {"GET", "/api/stores", "GetStores"},
    {"GET", "/api/stores/{id}", "GetStore"},
    {"PUT", "/api/stores/{id}/participating", "EnableParticipation"},
    {"DELETE", "/api/stores/{id}/participating", "DisableParticipation"},
    {"GET", "/api/stores/participating", "GetParticipatingStores"},
    {"POST", "/api/stores/{store_id}/products", "AddProduct"},
    {"GET", "/api/stores/products/{id}", "GetProduct"},
    {"DELETE", "/api/stores/products/{id}", "RemoveProduct"},
    {"GET", "/api/stores/{store_id}/products", "GetCatalog"},
};

core_status stores__rest_mount(web_server *srv, rpc_registry *reg, core_err *err)
{
    return gw_mount(srv, reg, &storespb__stores_service__descriptor, routes,
                    sizeof routes / sizeof routes[0], err);
}
