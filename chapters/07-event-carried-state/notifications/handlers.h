/* handlers.h -- the notifications module's INTEGRATION event handlers (chapter 07; the book's
 * notifications/internal/application/customer_handlers.go, order_handlers.go and
 * handlers/customers.go, orders.go).
 *
 * Layer: application. Two durable consumer groups:
 *   NOTIFICATIONS_CUSTOMERS_GROUP on mallbots.customers.events.Customer: the CustomerHandlers
 *       keep the module's copy of the customers, notifications.customers_cache (id, name,
 *       sms_number), which the Notify* commands read instead of calling customers:
 *       customersapi.CustomerRegistered -> customers.add(id, name, sms_number)
 *       customersapi.CustomerSmsChanged -> customers.change_sms(id, sms_number)
 *       (CustomerEnabled and CustomerDisabled are acknowledged unread: the filter.)
 *   NOTIFICATIONS_ORDERS_GROUP on mallbots.ordering.events.Order: the OrderHandlers send the
 *       order's notifications (they replace the RPC calls ordering made up to chapter 06):
 *       ordersapi.OrderCreated   -> NotifyOrderCreated(id, customer_id)
 *       ordersapi.OrderReadied   -> NotifyOrderReady(id, customer_id)
 *       ordersapi.OrderCanceled  -> NotifyOrderCanceled(id, customer_id)
 *       ordersapi.OrderCompleted -> NotifyOrderCompleted(id, customer_id)
 * seq is the delivery's stream sequence: the cache's rules make every write idempotent
 * (adapters.h). A failure of the cache or of a command (the customer unknown to customers too:
 * CORE_ERR_NOT_FOUND) fails the handler: the message comes again later and, after the last
 * delivery, is recorded as a dead letter (am.h). A notification is at-least-once: an order event
 * delivered twice logs (would send) its SMS twice; chapter 09's inbox makes it once. A payload
 * without its id is CORE_ERR_INVALID.
 *
 * The channels, message names and payload types are the customers' and ordering's published
 * contract (customers/events.h, ordering/events.h); the payloads are decoded through the registry
 * the subscription gets (monolith/messages.h).
 */
#ifndef NOTIFICATIONS_HANDLERS_H
#define NOTIFICATIONS_HANDLERS_H

#include <stdint.h>

#include "am.h"
#include "core.h"
#include "es.h"
#include "notifications/application.h"

#define NOTIFICATIONS_CUSTOMERS_GROUP "notification-customers"
#define NOTIFICATIONS_ORDERS_GROUP "notification-orders"

/* The customers cache as the CustomerHandlers write it (the book's CustomerCacheRepository).
 * Strings borrowed. */
struct notifications_customer_cache {
    void *self;
    core_status (*add)(void *self, const char *id, const char *name, const char *sms_number,
                       uint64_t seq, core_err *err);
    core_status (*change_sms)(void *self, const char *id, const char *sms_number, uint64_t seq,
                              core_err *err);
};

/* The handlers' state, filled by the caller (the module, or a test with fakes); borrowed, must
 * outlive the stream. app's customers port is what the Notify* commands read (the cache). */
struct notifications_handlers {
    struct notifications_customer_cache customers;
    struct notifications_app *app;
};

/* Subscribes the CustomerHandlers and the OrderHandlers h to stream as the two groups above.
 * reg (borrowed; must outlive the stream) gives the payload types of the customers' and
 * ordering's integration events. Errors: am_event_subscribe's. */
core_status notifications_subscribe_handlers(am_stream *stream, const es_registry *reg,
                                             struct notifications_handlers *h, core_err *err);

#endif /* NOTIFICATIONS_HANDLERS_H */
