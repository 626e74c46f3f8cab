/* module.h -- the ordering module: the Order Processing bounded context of MallBots.
 *
 * Owns customer orders from creation to completion. An order is made from a checked-out basket
 * (baskets calls CreateOrder with the basket's id as the order id), carries the basket's items
 * and a payment authorization, and moves pending -> ready -> completed, or pending -> cancelled.
 *
 * Calls (synchronously, through their RPC services):
 *   customers.AuthorizeCustomer   may the customer order? (create)
 *   payments.ConfirmPayment       does the payment authorization exist? (create)
 *   depot.CreateShoppingList      schedules the shopping; its id is kept on the order (create)
 *   depot.CancelShoppingList      (cancel)
 *   notifications.NotifyOrderCreated / NotifyOrderCanceled / NotifyOrderReady
 *   payments.CreateInvoice        the invoice of a ready order, amount = the order's total;
 *                                 its id is kept on the order (ready)
 * Called by: baskets (CreateOrder), depot (ReadyOrder), payments (CompleteOrder).
 *
 * Tables: ordering.orders(id, customer_id, payment_id, invoice_id, shopping_id, items bytea
 * (JSON), status).
 *
 * REST routes:
 *   POST   /api/ordering        CreateOrder  {items[...], customerId, paymentId} -> {id}
 *   GET    /api/ordering/{id}   GetOrder     -> {order:{id, customerId, paymentId, items,
 *                                               status, shoppingId, invoiceId}}
 *   DELETE /api/ordering/{id}   CancelOrder  -> {}
 * ReadyOrder and CompleteOrder are RPC-only.
 *
 * Layer: composition. Thread-safety: startup/shutdown from main() only; the running module is
 * thread-safe.
 */
#ifndef ORDERING_MODULE_H
#define ORDERING_MODULE_H

#include "monolith/monolith.h"

extern const struct module ordering_module;

#endif /* ORDERING_MODULE_H */
