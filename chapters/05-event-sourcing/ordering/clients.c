/* clients.c -- the ordering module's ports to other modules, over their RPC services (the
 * book's customer, payment, shopping and notification repositories in ordering/internal/grpc).
 *
 * Requests are built on the stack with the generated *__INIT macros and borrow the caller's
 * strings; responses are heap trees freed with pb_free. Remote errors come back with the remote
 * module's status and message and are passed up unchanged.
 */
#include "customers/api.pb-c.h"
#include "depot/api.pb-c.h"
#include "notifications/api.pb-c.h"
#include "ordering/adapters.h"
#include "payments/api.pb-c.h"
#include "pb.h"

/* Copies an id returned by another module into an ORDERING_ID_SIZE buffer. An empty or too long
 * id breaks the contract between the modules: CORE_ERR_INTERNAL. */
static core_status copy_returned_id(char *dst, const char *id, const char *what, core_err *err)
{
    if (!id || !*id)
        return core_err_set(err, CORE_ERR_INTERNAL, "%s: no id returned", what);
    if (!core_strlcpy(dst, id, ORDERING_ID_SIZE))
        return core_err_set(err, CORE_ERR_INTERNAL, "%s: returned id is longer than %d characters",
                            what, ORDERING_ID_MAX);
    return CORE_OK;
}

/* ---- customers ------------------------------------------------------------------------------ */

static core_status authorize_customer(void *self, const char *customer_id, core_err *err)
{
    Customerspb__AuthorizeCustomerRequest req = CUSTOMERSPB__AUTHORIZE_CUSTOMER_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    req.id = (char *)customer_id;
    core_status st = rpc_call(self, &customerspb__customers_service__descriptor,
                              "AuthorizeCustomer", &req.base, &resp, err);
    pb_free(resp);
    return st;
}

void ordering__rpc_customers(struct ordering_customers *out, rpc_client *client)
{
    out->self = client;
    out->authorize = authorize_customer;
}

/* ---- payments ------------------------------------------------------------------------------- */

static core_status confirm_payment(void *self, const char *payment_id, core_err *err)
{
    Paymentspb__ConfirmPaymentRequest req = PAYMENTSPB__CONFIRM_PAYMENT_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    req.id = (char *)payment_id;
    core_status st = rpc_call(self, &paymentspb__payments_service__descriptor, "ConfirmPayment",
                              &req.base, &resp, err);
    pb_free(resp);
    return st;
}

static core_status create_invoice(void *self, const char *order_id, const char *payment_id,
                                  double amount, char *invoice_id, core_err *err)
{
    Paymentspb__CreateInvoiceRequest req = PAYMENTSPB__CREATE_INVOICE_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    req.order_id = (char *)order_id;
    req.payment_id = (char *)payment_id;
    req.amount = amount;
    core_status st = rpc_call(self, &paymentspb__payments_service__descriptor, "CreateInvoice",
                              &req.base, &resp, err);
    if (st == CORE_OK)
        st = copy_returned_id(invoice_id, ((Paymentspb__CreateInvoiceResponse *)resp)->id,
                              "payments.CreateInvoice", err);
    pb_free(resp);
    return st;
}

void ordering__rpc_payments(struct ordering_payments *out, rpc_client *client)
{
    out->self = client;
    out->confirm = confirm_payment;
    out->create_invoice = create_invoice;
}

/* ---- depot ---------------------------------------------------------------------------------- */

static core_status create_shopping_list(void *self, const char *order_id,
                                        const struct ordering_item *order_items, size_t nitems,
                                        char *shopping_id, core_err *err)
{
    Depotpb__CreateShoppingListRequest req = DEPOTPB__CREATE_SHOPPING_LIST_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    Depotpb__OrderItem *items = NULL;
    Depotpb__OrderItem **ptrs = NULL;
    core_status st;

    if (nitems > 0) {
        items = core_calloc(nitems, sizeof *items);
        ptrs = core_calloc(nitems, sizeof *ptrs);
        if (!items || !ptrs) {
            st = core_err_set(err, CORE_ERR_NOMEM,
                              "out of memory building the shopping list request");
            goto done;
        }
    }
    for (size_t i = 0; i < nitems; i++) {
        Depotpb__OrderItem init = DEPOTPB__ORDER_ITEM__INIT;
        items[i] = init;
        items[i].product_id = order_items[i].product_id;
        items[i].store_id = order_items[i].store_id;
        items[i].quantity = order_items[i].quantity;
        ptrs[i] = &items[i];
    }
    req.order_id = (char *)order_id;
    req.n_items = nitems;
    req.items = ptrs;
    if ((st = rpc_call(self, &depotpb__depot_service__descriptor, "CreateShoppingList", &req.base,
                       &resp, err)))
        goto done;
    st = copy_returned_id(shopping_id, ((Depotpb__CreateShoppingListResponse *)resp)->id,
                          "depot.CreateShoppingList", err);
done:
    pb_free(resp);
    core_free(ptrs);
    core_free(items);
    return st;
}

static core_status cancel_shopping_list(void *self, const char *shopping_id, core_err *err)
{
    Depotpb__CancelShoppingListRequest req = DEPOTPB__CANCEL_SHOPPING_LIST_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    req.id = (char *)shopping_id;
    core_status st = rpc_call(self, &depotpb__depot_service__descriptor, "CancelShoppingList",
                              &req.base, &resp, err);
    pb_free(resp);
    return st;
}

void ordering__rpc_depot(struct ordering_depot *out, rpc_client *client)
{
    out->self = client;
    out->create_shopping_list = create_shopping_list;
    out->cancel_shopping_list = cancel_shopping_list;
}

/* ---- notifications -------------------------------------------------------------------------- */

static core_status notify_created(void *self, const char *order_id, const char *customer_id,
                                  core_err *err)
{
    Notificationspb__NotifyOrderCreatedRequest req =
        NOTIFICATIONSPB__NOTIFY_ORDER_CREATED_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    req.order_id = (char *)order_id;
    req.customer_id = (char *)customer_id;
    core_status st = rpc_call(self, &notificationspb__notifications_service__descriptor,
                              "NotifyOrderCreated", &req.base, &resp, err);
    pb_free(resp);
    return st;
}

static core_status notify_canceled(void *self, const char *order_id, const char *customer_id,
                                   core_err *err)
{
    Notificationspb__NotifyOrderCanceledRequest req =
        NOTIFICATIONSPB__NOTIFY_ORDER_CANCELED_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    req.order_id = (char *)order_id;
    req.customer_id = (char *)customer_id;
    core_status st = rpc_call(self, &notificationspb__notifications_service__descriptor,
                              "NotifyOrderCanceled", &req.base, &resp, err);
    pb_free(resp);
    return st;
}

static core_status notify_ready(void *self, const char *order_id, const char *customer_id,
                                core_err *err)
{
    Notificationspb__NotifyOrderReadyRequest req =
        NOTIFICATIONSPB__NOTIFY_ORDER_READY_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    req.order_id = (char *)order_id;
    req.customer_id = (char *)customer_id;
    core_status st = rpc_call(self, &notificationspb__notifications_service__descriptor,
                              "NotifyOrderReady", &req.base, &resp, err);
    pb_free(resp);
    return st;
}

void ordering__rpc_notifications(struct ordering_notifications *out, rpc_client *client)
{
    out->self = client;
    out->order_created = notify_created;
    out->order_canceled = notify_canceled;
    out->order_ready = notify_ready;
}
