/* payments/handlers.h -- the payments module's integration event handlers (chapter 07; the
 * book's payments/internal/handlers/integration_events.go and application/order_handlers.go).
 *
 * Layer: application. The OrderHandlers consume ordering's integration events
 * (ordering/events.h) in the consumer group PAYMENTS_ORDERS_GROUP ("payment-orders"):
 *     ordersapi.OrderReadied {id, customer_id, payment_id, total}
 *         -> payments_app_invoice_order(order id, payment id, total): the order's invoice, with
 *            amount = total, announced as paymentsapi.InvoiceCreated
 *     ordersapi.OrderCanceled {id, ...}
 *         -> payments_app_cancel_order_invoice(order id): its pending invoice, if it has one, is
 *            canceled (the book has this handler but its filter never lets the event through:
 *            docs/ERRATA.md, defect 7)
 * Other order events on the channel are acknowledged unread (the subscription's filter).
 *
 * At-least-once delivery: the same OrderReadied may come twice (a redelivery after a failure or
 * a timeout). payments_app_invoice_order is idempotent per order, so the order keeps ONE invoice
 * and the message is acknowledged. Errors are never swallowed: a failing handler (database,
 * broker, a rule such as an amount the invoice cannot hold) NAKs the message, which comes again
 * later and, after the group's last delivery, is recorded as dead by the core (am.h).
 *
 * Thread-safety: handlers of one group run one at a time (am.h); the app is thread-safe.
 */
#ifndef PAYMENTS_HANDLERS_H
#define PAYMENTS_HANDLERS_H

#include "am.h"
#include "core.h"
#include "es.h"
#include "payments/application.h"

#define PAYMENTS_ORDERS_GROUP "payment-orders"

/* The OrderHandlers' handler, for tests: ev must carry an Ordersapi__OrderReadied or
 * Ordersapi__OrderCanceled (else CORE_ERR_INTERNAL); app is a struct payments_app. */
core_status payments_on_order_event(void *app, const struct am_delivery *d, const ddd_event *ev,
                                    core_err *err);

/* Subscribes the OrderHandlers to ordering's channel as PAYMENTS_ORDERS_GROUP; reg (the
 * monolith's registry of integration messages) and app are borrowed and must outlive stream. */
core_status payments_subscribe_order_handlers(am_stream *stream, const es_registry *reg,
                                              struct payments_app *app, core_err *err);

#endif /* PAYMENTS_HANDLERS_H */
