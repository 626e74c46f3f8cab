/* payments/publisher.c -- the invoices' integration events on the stream (chapter 07): the
 * payments_invoice_events port of payments/application.h. See payments/events.h for the
 * messages and their ids, payments/adapters.h for the constructor. */
#include "am.h"
#include "payments/adapters.h"
#include "payments/events.h"
#include "pb.h"

/* Announces payload (taken) as name on the invoices' channel; msg_id NULL = a new UUID
 * (am_event_announce: a broker that is away is CORE_ERR_UNAVAILABLE with the public text of every
 * publisher). */
static core_status publish(am_stream *stream, const char *name, const char *msg_id,
                           ProtobufCMessage *payload, core_err *err)
{
    if (!payload)
        return core_err_nomem(err);
    return am_event_announce(stream, PAYMENTS_INVOICE_CHANNEL, name, &payload, msg_id, NULL, err);
}

static core_status invoice_created(void *self, const struct payments_invoice *inv, core_err *err)
{
    Paymentsapi__InvoiceCreated *m = pb_new_of(paymentsapi__invoice_created);
    if (m && (pb_set_string(&m->id, inv->id, NULL) ||
              pb_set_string(&m->order_id, inv->order_id, NULL))) {
        pb_free(&m->base);
        m = NULL;
    }
    if (m)
        m->amount = inv->amount;
    return publish(self, PAYMENTSAPI_INVOICE_CREATED, inv->id, m ? &m->base : NULL, err);
}

static core_status invoice_paid(void *self, const struct payments_invoice *inv, core_err *err)
{
    Paymentsapi__InvoicePaid *m = pb_new_of(paymentsapi__invoice_paid);
    if (m && (pb_set_string(&m->id, inv->id, NULL) ||
              pb_set_string(&m->order_id, inv->order_id, NULL))) {
        pb_free(&m->base);
        m = NULL;
    }
    return publish(self, PAYMENTSAPI_INVOICE_PAID, NULL, m ? &m->base : NULL, err);
}

void payments_stream_events(struct payments_invoice_events *out, am_stream *stream)
{
    out->self = stream;
    out->created = invoice_created;
    out->paid = invoice_paid;
}
