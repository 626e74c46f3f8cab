/* module.h -- the ordering module: the Order Processing bounded context of MallBots.
 *
 * Owns customer orders from creation to completion. An order is made from a checked-out basket
 * (baskets calls CreateOrder with the basket's id as the order id), carries the basket's items
 * and a payment authorization, and moves pending -> ready -> completed, or pending -> cancelled.
 *
 * Domain events (chapter 04): an order records ordering.OrderCreated, OrderCanceled,
 * OrderReadied and OrderCompleted (payloads: proto/ordering/domain_events.proto); after each save
 * they are published on the module's own dispatcher, whose handlers (handlers.h) now do what
 * chapter 03's commands did themselves.
 * Event sourcing (chapter 05): an order IS its events -- the aggregate "ordering.Order" is loaded
 * from them (and from its snapshot "ordering.OrderV1") and saved by appending new ones, then
 * publishing them. A new event, ordering.OrderInvoiced, records the invoice id as soon as
 * payments created the invoice. Two requests changing the same order at once: the later save
 * answers 409 Conflict.
 *
 * Calls (synchronously, through their RPC services):
 *   customers.AuthorizeCustomer   may the customer order? (CreateOrder)
 *   payments.ConfirmPayment       does the payment authorization exist? (CreateOrder)
 *   depot.CreateShoppingList      schedules the shopping; its id is kept on the order
 *                                 (CreateOrder)
 *   depot.CancelShoppingList      (CancelOrder)
 *   notifications.NotifyOrderCreated / NotifyOrderCanceled / NotifyOrderReady
 *                                 ("ordering.NotificationHandlers", on OrderCreated /
 *                                 OrderCanceled / OrderReadied)
 *   payments.CreateInvoice        the invoice of a ready order, amount = the order's total; its
 *                                 id is kept on the order ("ordering.InvoiceHandlers", on
 *                                 OrderReadied)
 * A handler's error is the command's error, but the order is saved by then (the dual-write
 * problem; the book's answer is the outbox of chapter 09).
 * Called by: baskets (CreateOrder, from its OrderHandlers), depot (ReadyOrder, from its
 * OrderHandlers), payments (CompleteOrder).
 *
 * Tables (chapter 05): ordering.events (stream "ordering.Order", stream_id = the order's id, one
 * row per event, payload as JSON) and ordering.snapshots (the latest "ordering.OrderV1" of an
 * order, written every ES_SNAPSHOT_EVERY versions, default 3). The CRUD table ordering.orders is
 * dropped.
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
