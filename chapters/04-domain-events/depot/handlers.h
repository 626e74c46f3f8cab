/* depot/handlers.h -- the depot module's domain event handlers (chapter 04; the book's
 * depot/internal/application/order_handlers.go and internal/handlers/orders.go).
 *
 * Layer: application. What chapter 03's CompleteShoppingList command did itself now reacts to the
 * event a shopping list records (domain.h), delivered in-process by the module's dispatcher
 * (ddd.h) after the list was saved:
 *
 *   "depot.OrderHandlers"
 *       depot.ShoppingListCompleted -> ordering.ReadyOrder(order id of the payload)
 *
 * The handler still calls ordering over RPC, as the book's does. Its error is ordering's, with
 * the context "readying order <order id>"; the dispatcher prefixes it with the handlers' label and
 * the event's name and returns it to the command, whose list is saved already (the dual-write
 * problem, solved by the book in chapter 09). An event whose payload is not a
 * ShoppingListCompleted, or carries no order id, is CORE_ERR_INTERNAL.
 *
 * Logging: the book's logging decorator ("-->" and "<--" records at debug level) is the core's: the
 * dispatcher logs every call of a handler (ddd.h).
 *
 * Ownership and thread-safety: the handler struct is caller storage (module.c's state) and must
 * outlive the dispatcher it is registered with; the handler keeps no state of its own and is as
 * thread-safe as its port.
 */
#ifndef DEPOT_HANDLERS_H
#define DEPOT_HANDLERS_H

#include "core.h"
#include "ddd.h"
#include "depot/application.h"

/* OrderHandlers: the ordering module's port. */
struct depot_order_handlers {
    struct depot_orders_port orders;
};

/* Subscribes the OrderHandlers to depot.ShoppingListCompleted on d. h is borrowed and must
 * outlive d. Errors: CORE_ERR_NOMEM. */
core_status depot_register_order_handlers(ddd_dispatcher *d, struct depot_order_handlers *h,
                                          core_err *err);

#endif /* DEPOT_HANDLERS_H */
