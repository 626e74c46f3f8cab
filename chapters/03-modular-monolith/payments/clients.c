/* payments/clients.c -- the ordering port over RPC (ordering.CompleteOrder). */
#include "ordering/api.pb-c.h"
#include "payments/adapters.h"
#include "pb.h"

static core_status complete_order(void *self, const char *order_id, const char *invoice_id,
                                  core_err *err)
{
    Orderingpb__CompleteOrderRequest req = ORDERINGPB__COMPLETE_ORDER_REQUEST__INIT;
    req.id = (char *)order_id; /* borrowed for the call; rpc_call does not modify it */
    req.invoice_id = (char *)invoice_id;
    ProtobufCMessage *resp = NULL;
    core_status st = rpc_call(self, &orderingpb__ordering_service__descriptor, "CompleteOrder",
                              &req.base, &resp, err);
    pb_free(resp);
    return st;
}

void payments_clients_orders(struct payments_orders_port *out, rpc_client *client)
{
    out->self = client;
    out->complete = complete_order;
}
