/* handlers.h -- the ordering module's domain event handlers (chapter 04; the book's
 * ordering/internal/application/{notification,invoice}_handlers.go and internal/handlers).
 *
 * Layer: application. The side effects that chapter 03's commands performed themselves now react
 * to the events an order records (domain.h), delivered in-process by the module's dispatcher
 * (ddd.h) after the order was saved:
 *
 *   "ordering.NotificationHandlers"
 *       ordering.OrderCreated  -> notifications.order_created(order id, customer id)
 *       ordering.OrderReadied  -> notifications.order_ready(order id, customer id)
 *       ordering.OrderCanceled -> notifications.order_canceled(order id, customer id)
 *   "ordering.InvoiceHandlers"
 *       ordering.OrderReadied  -> payments.create_invoice(order id, payment id, total), then
 *                                 ordering_app_record_invoice(order id, invoice id), so the
 *                                 order shows its invoice (GET /api/ordering/{id}: invoiceId;
 *                                 the book creates the invoice but never stores its id)
 *
 * The order id is the event's metadata "aggregate-id"; the rest comes from the payload
 * (ordering/domain_events.proto). The handlers still call the other modules over RPC, as the
 * book's do. They are registered in the book's order, NotificationHandlers first, so on
 * OrderReadied the customer is notified before the invoice is created.
 *
 * Errors: a port's error is returned unchanged; the dispatcher prefixes it with the handlers'
 * label and the event's name and returns it to the command that published the event. The order
 * is saved already at that point (the dual-write problem, solved by the book in chapter 09). An
 * event without an "aggregate-id" or with a payload of another type is CORE_ERR_INTERNAL.
 *
 * Logging: the book's logging decorator ("-->" and "<--" records at debug level) is the core's: the
 * dispatcher logs every call of a handler (ddd.h).
 *
 * Ownership and thread-safety: the handler structs are caller storage (module.c's state) and
 * must outlive the dispatcher they are registered with; the handlers keep no state of their own
 * and are as thread-safe as their ports.
 */
#ifndef ORDERING_HANDLERS_H
#define ORDERING_HANDLERS_H

#include "core.h"
#include "ddd.h"
#include "ordering/application.h"

/* NotificationHandlers: the notifications module's port. */
struct ordering_notification_handlers {
    struct ordering_notifications notifications;
};

/* InvoiceHandlers: the payments module's port (only create_invoice is used) and the application
 * that stores the invoice id on the order (borrowed). */
struct ordering_invoice_handlers {
    struct ordering_payments payments;
    struct ordering_app *app;
};

/* Subscribes the NotificationHandlers to OrderCreated, OrderReadied and OrderCanceled on d.
 * h is borrowed and must outlive d. Errors: CORE_ERR_NOMEM (some events may be subscribed). */
core_status ordering_register_notification_handlers(ddd_dispatcher *d,
                                                    struct ordering_notification_handlers *h,
                                                    core_err *err);

/* Subscribes the InvoiceHandlers to OrderReadied on d. h is borrowed and must outlive d.
 * Errors: CORE_ERR_NOMEM. */
core_status ordering_register_invoice_handlers(ddd_dispatcher *d,
                                               struct ordering_invoice_handlers *h, core_err *err);

#endif /* ORDERING_HANDLERS_H */
