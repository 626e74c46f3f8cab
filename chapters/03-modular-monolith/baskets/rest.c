/* rest.c -- the baskets module's REST routes (the book's api.annotations.yaml).
 * See adapters.h.
 *
 * The gateway does the HTTP work: a "{id}" path parameter fills the request's id field, the JSON
 * body fills the other fields (e.g. {"customerId": "..."}), and the RPC's output message is the
 * JSON response. Errors map to HTTP statuses in the core (core_status_http): a broken rule 400,
 * an unknown basket or product 404.
 */
#include "baskets/adapters.h"
#include "baskets/api.pb-c.h"
#include "gateway.h"

static const struct gw_route routes[] = {
    {"POST", "/api/baskets", "StartBasket"},
    {"GET", "/api/baskets/{id}", "GetBasket"},
    {"DELETE", "/api/baskets/{id}", "CancelBasket"},
    {"PUT", "/api/baskets/{id}/checkout", "CheckoutBasket"},
    {"PUT", "/api/baskets/{id}/addItem", "AddItem"},
    {"PUT", "/api/baskets/{id}/removeItem", "RemoveItem"},
};

core_status baskets__rest_mount(web_server *web, rpc_registry *reg, core_err *err)
{
    return gw_mount(web, reg, &basketspb__basket_service__descriptor, routes,
                    sizeof routes / sizeof routes[0], err);
}
