/* payments/rpc_server.c -- the paymentspb.PaymentsService implementation: proto requests in,
 * application calls, proto responses (heap trees, pb.h) out. ud is the struct payments_app. */
#include "payments/api.pb-c.h"
#include "payments/adapters.h"
#include "pb.h"

static core_status authorize_payment(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **resp,
                                     core_err *err)
{
    const Paymentspb__AuthorizePaymentRequest *req = (const void *)msg;
    char id[PAYMENTS_ID_MAX + 1];
    Paymentspb__AuthorizePaymentResponse *out = NULL;
    core_status st = payments_app_authorize_payment(ud, req->customer_id, req->amount, id, err);
    if (!st && !(out = pb_new_of(paymentspb__authorize_payment_response)))
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    if (!st)
        st = pb_set_string(&out->id, id, err);
    if (st && out) {
        pb_free(&out->base);
        out = NULL;
    }
    *resp = out ? &out->base : NULL;
    return st;
}

static core_status confirm_payment(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **resp,
                                   core_err *err)
{
    const Paymentspb__ConfirmPaymentRequest *req = (const void *)msg;
    core_status st = payments_app_confirm_payment(ud, req->id, err);
    return rpc_empty_response(st, &paymentspb__confirm_payment_response__descriptor, resp, err);
}

static core_status create_invoice(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **resp,
                                  core_err *err)
{
    const Paymentspb__CreateInvoiceRequest *req = (const void *)msg;
    char id[PAYMENTS_ID_MAX + 1];
    Paymentspb__CreateInvoiceResponse *out = NULL;
    core_status st =
        payments_app_create_invoice(ud, req->order_id, req->payment_id, req->amount, id, err);
    if (!st && !(out = pb_new_of(paymentspb__create_invoice_response)))
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    if (!st)
        st = pb_set_string(&out->id, id, err);
    if (st && out) {
        pb_free(&out->base);
        out = NULL;
    }
    *resp = out ? &out->base : NULL;
    return st;
}

static core_status adjust_invoice(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **resp,
                                  core_err *err)
{
    const Paymentspb__AdjustInvoiceRequest *req = (const void *)msg;
    core_status st = payments_app_adjust_invoice(ud, req->id, req->amount, err);
    return rpc_empty_response(st, &paymentspb__adjust_invoice_response__descriptor, resp, err);
}

static core_status pay_invoice(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **resp,
                               core_err *err)
{
    const Paymentspb__PayInvoiceRequest *req = (const void *)msg;
    core_status st = payments_app_pay_invoice(ud, req->id, err);
    return rpc_empty_response(st, &paymentspb__pay_invoice_response__descriptor, resp, err);
}

static core_status cancel_invoice(void *ud, const ProtobufCMessage *msg, ProtobufCMessage **resp,
                                  core_err *err)
{
    const Paymentspb__CancelInvoiceRequest *req = (const void *)msg;
    core_status st = payments_app_cancel_invoice(ud, req->id, err);
    return rpc_empty_response(st, &paymentspb__cancel_invoice_response__descriptor, resp, err);
}

static const struct rpc_method methods[] = {
    {"AuthorizePayment", authorize_payment},
    {"ConfirmPayment", confirm_payment},
    {"CreateInvoice", create_invoice},
    {"AdjustInvoice", adjust_invoice},
    {"PayInvoice", pay_invoice},
    {"CancelInvoice", cancel_invoice},
};

core_status payments_rpc_register(rpc_registry *reg, struct payments_app *app, core_err *err)
{
    return rpc_registry_add(reg, &paymentspb__payments_service__descriptor, methods,
                            sizeof methods / sizeof methods[0], app, err);
}
