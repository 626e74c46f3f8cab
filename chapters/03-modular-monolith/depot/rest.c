/* depot/rest.c -- the depot module's REST routes (the book's api.annotations.yaml), served by
 * the gateway from the DepotService RPCs: path parameters fill the same-named request fields,
 * the JSON body the rest. Cancelling is a POST on the list's path, as in the book. */
#include "depot/adapters.h"
#include "depot/api.pb-c.h"
#include "gateway.h"

static const struct gw_route routes[] = {
    {"POST", "/api/depot/shopping", "CreateShoppingList"},
    {"POST", "/api/depot/shopping/{id}", "CancelShoppingList"},
    {"PUT", "/api/depot/shopping/{id}/assign", "AssignShoppingList"},
    {"PUT", "/api/depot/shopping/{id}/complete", "CompleteShoppingList"},
};

core_status depot_rest_mount(web_server *web, rpc_registry *reg, core_err *err)
{
    return gw_mount(web, reg, &depotpb__depot_service__descriptor, routes,
                    sizeof routes / sizeof routes[0], err);
}
