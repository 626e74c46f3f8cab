/* handlers.h -- the baskets module's domain event handlers (chapter 04; the book's
 * application/order_handlers.go and handlers/orders.go).
 *
 * Layer: application. A handler reacts to an event the module's own aggregates recorded, after
 * the application saved them (application.h). It takes over a side effect the command used to
 * perform itself: since chapter 04 the checkout command no longer calls ordering; it publishes
 * "baskets.BasketCheckedOut" and the OrderHandlers create the order over RPC.
 *
 *     "baskets.BasketCheckedOut" -> "baskets.OrderHandlers": ordering.CreateOrder with order id =
 *         the event's "aggregate-id" (the basket's id), the payload's customer id, payment id and
 *         items (store and product ids and names, price, quantity).
 *
 * Errors: ordering's error comes back unchanged from the handler; the dispatcher prefixes it with
 * "baskets.OrderHandlers on baskets.BasketCheckedOut: " and returns it to the publishing command,
 * which then takes the checkout back (application.h).
 * An event without its aggregate id or with a payload of another type is CORE_ERR_INTERNAL (a
 * programming error: the domain always records both).
 *
 * Logging: the book's logging decorator ("-->" and "<--" records at debug level) is the core's: the
 * dispatcher logs every call of a handler (ddd.h).
 *
 * Thread-safety: a struct baskets_order_handlers is read-only after set-up; the handler may run
 * on many threads at once if the port allows it (the RPC client does).
 */
#ifndef BASKETS_HANDLERS_H
#define BASKETS_HANDLERS_H

#include "baskets/application.h"
#include "core.h"
#include "ddd.h"

/* The OrderHandlers and the port they call, filled by the caller (the module or a test). The
 * port's self is borrowed and must outlive every call. */
struct baskets_order_handlers {
    struct baskets_ordering_port ordering;
};

/* Subscribes the OrderHandlers h (borrowed; must outlive d's use) to d:
 * "baskets.BasketCheckedOut" under the label "baskets.OrderHandlers". CORE_ERR_NOMEM. */
core_status baskets_register_order_handlers(ddd_dispatcher *d, struct baskets_order_handlers *h,
                                            core_err *err);

#endif /* BASKETS_HANDLERS_H */
