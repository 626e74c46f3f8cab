/* rpc_server.c -- notificationspb.NotificationsService: each RPC calls the matching application
 * command (the book's notifications/internal/grpc/server.go). Requests are borrowed; responses
 * are empty heap trees owned by the caller. */
#include "notifications/adapters.h"
#include "notifications/api.pb-c.h"
#include "pb.h"

static core_status order_created(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **out,
                                 core_err *err)
{
    const Notificationspb__NotifyOrderCreatedRequest *req =
        (const Notificationspb__NotifyOrderCreatedRequest *)msg;
    core_status st =
        notifications_app_notify_order_created(ud, req->order_id, req->customer_id, err);
    return rpc_empty_response(st, &notificationspb__notify_order_created_response__descriptor, out,
                              err);
}

static core_status order_canceled(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **out,
                                  core_err *err)
{
    const Notificationspb__NotifyOrderCanceledRequest *req =
        (const Notificationspb__NotifyOrderCanceledRequest *)msg;
    core_status st =
        notifications_app_notify_order_canceled(ud, req->order_id, req->customer_id, err);
    return rpc_empty_response(st, &notificationspb__notify_order_canceled_response__descriptor, out,
                              err);
}

static core_status order_ready(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **out,
                               core_err *err)
{
    const Notificationspb__NotifyOrderReadyRequest *req =
        (const Notificationspb__NotifyOrderReadyRequest *)msg;
    core_status st = notifications_app_notify_order_ready(ud, req->order_id, req->customer_id, err);
    return rpc_empty_response(st, &notificationspb__notify_order_ready_response__descriptor, out,
                              err);
}

static const struct rpc_method methods[] = {
    {"NotifyOrderCreated", order_created},
    {"NotifyOrderCanceled", order_canceled},
    {"NotifyOrderReady", order_ready},
};

core_status notifications__rpc_register(rpc_registry *reg, struct notifications_app *app,
                                        core_err *err)
{
    return rpc_registry_add(reg, &notificationspb__notifications_service__descriptor, methods,
                            sizeof methods / sizeof methods[0], app, err);
}
