/* payments/rest.c -- the payments module's REST routes (the book's api.annotations.yaml),
 * served by the gateway from the PaymentsService RPCs: path parameters fill the same-named
 * request fields, the JSON body the rest. */
#include "gateway.h"
#include "payments/adapters.h"
#include "payments/api.pb-c.h"

static const struct gw_route routes[] = {
    {"POST", "/api/payments", "AuthorizePayment"},
    {"PUT", "/api/payments/invoices/{id}/pay", "PayInvoice"},
};

core_status payments_rest_mount(web_server *web, rpc_registry *reg, core_err *err)
{
    return gw_mount(web, reg, &paymentspb__payments_service__descriptor, routes,
                    sizeof routes / sizeof routes[0], err);
}
