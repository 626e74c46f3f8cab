/* search/rest.c -- the search module's REST routes (the book's search api.annotations.yaml).
 *
 * Answered by the REST gateway (gateway.h): the JSON body of POST /api/search/orders fills
 * SearchOrdersRequest ({"filters": {...}, "next": "...", "limit": 20}), the path's {id} fills
 * GetOrderRequest.id, and the response is the JSON of the RPC's output.
 */
#include "search/adapters.h"

#include "gateway.h"
#include "search/api.pb-c.h"

static const struct gw_route routes[] = {
    {"POST", "/api/search/orders", "SearchOrders"},
    {"GET", "/api/search/orders/{id}", "GetOrder"},
};

core_status search__rest_mount(web_server *srv, rpc_registry *reg, core_err *err)
{
    return gw_mount(srv, reg, &searchpb__search_service__descriptor, routes,
                    sizeof routes / sizeof routes[0], err);
}
