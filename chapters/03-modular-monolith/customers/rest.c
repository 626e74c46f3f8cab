/* customers/rest.c -- the customers module's REST routes (the book's
 * api.annotations.yaml). AuthorizeCustomer has no route: it is RPC-only (ordering calls it).
 *
 * Each route is answered by the REST gateway (gateway.h): path parameters fill the same-named
 * request fields, a JSON body the others ({"name", "smsNumber"}), and the response is the JSON of
 * the RPC's output.
 */
#include "customers/adapters.h"

#include "customers/api.pb-c.h"
#include "gateway.h"

static const struct gw_route routes[] = {
    {"POST", "/api/customers", "RegisterCustomer"},
    {"GET", "/api/customers/{id}", "GetCustomer"},
    {"PUT", "/api/customers/{id}/enable", "EnableCustomer"},
    {"PUT", "/api/customers/{id}/disable", "DisableCustomer"},
};

core_status customers__rest_mount(web_server *srv, rpc_registry *reg, core_err *err)
{
    return gw_mount(srv, reg, &customerspb__customers_service__descriptor, routes,
                    sizeof routes / sizeof routes[0], err);
}
