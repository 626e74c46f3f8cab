/* payments/module.h -- the payments module: the "Payments" bounded context of MallBots.
 *
 * It records payment authorizations of customers and manages the invoices of orders:
 *   - AuthorizePayment (REST) stores a payment and returns its id, which the customer then gives
 *     at basket checkout; ConfirmPayment lets ordering check that id when it creates the order.
 *   - CreateInvoice is called by ordering when an order is ready (workspace flow: the book
 *     wires it but never calls it in chapter 03); AdjustInvoice and CancelInvoice change it.
 *   - PayInvoice (REST) pays a pending invoice and then calls ordering.CompleteOrder, which
 *     completes the order.
 *
 * Calls: ordering.CompleteOrder (on PayInvoice), over RPC.
 * Tables: payments.payments(id, customer_id, amount), payments.invoices(id, order_id, amount,
 * status "pending" | "paid" | "canceled").
 * REST routes: POST /api/payments (AuthorizePayment), PUT /api/payments/invoices/{id}/pay
 * (PayInvoice). Every RPC of paymentspb.PaymentsService is served.
 */
#ifndef PAYMENTS_MODULE_H
#define PAYMENTS_MODULE_H

#include "monolith/monolith.h"

extern const struct module payments_module;

#endif /* PAYMENTS_MODULE_H */
