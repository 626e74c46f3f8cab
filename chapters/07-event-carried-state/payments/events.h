/* payments/events.h -- the payments module's INTEGRATION events (chapter 07): the channel,
 * message names and payload types other modules consume from the stream (the book's
 * payments/paymentspb/events.go). The payloads are in proto/payments/events.proto.
 *
 * Layer: the module's published contract; other modules include this header to subscribe.
 *
 *   channel PAYMENTS_INVOICE_CHANNEL "mallbots.payments.events.Invoice"
 *     "paymentsapi.InvoiceCreated"  Paymentsapi__InvoiceCreated{id, order_id, amount}
 *                                   (a workspace addition: the invoice of a ready order exists)
 *     "paymentsapi.InvoicePaid"     Paymentsapi__InvoicePaid{id, order_id}
 *
 * `id` in the payload is the invoice's id. Message ids: InvoiceCreated's is the invoice's id (an
 * invoice is created once, so announcing it again, after a redelivery of the order's
 * OrderReadied, stores no second message within the stream's duplicate window); InvoicePaid's
 * is a new UUID (payments keeps no domain events).
 */
#ifndef PAYMENTS_EVENTS_H
#define PAYMENTS_EVENTS_H

#include "core.h"
#include "es.h"
#include "payments/events.pb-c.h"

#define PAYMENTS_INVOICE_CHANNEL "mallbots.payments.events.Invoice"

#define PAYMENTSAPI_INVOICE_CREATED "paymentsapi.InvoiceCreated"
#define PAYMENTSAPI_INVOICE_PAID "paymentsapi.InvoicePaid"

/* Registers the two integration event names above with their payload types and channels in reg. A
 * name already in reg -> CORE_ERR_CONFLICT; CORE_ERR_NOMEM. */
core_status payments_register_integration_types(es_registry *reg, core_err *err);

#endif /* PAYMENTS_EVENTS_H */
