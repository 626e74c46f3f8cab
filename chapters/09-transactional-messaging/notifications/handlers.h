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
 * THE UNIT OF WORK (chapter 09). The module subscribes with notifications_subscribe_handlers_in():
 * the same two groups through notifications.inbox (tm_event_subscribe on a tm_outbox over schema
 * "notifications", which never publishes: the module has no outbox table and the relay does not
 * serve it). Each delivery runs in one transaction: the inbox row, then the handler's writes on a
 * unit JOINED through the notifications_units port: the cache writes, or the notification's row
 * in notifications.sent (application.h, SENDING). So a message id delivered again is dropped by
 * the inbox, and each order event sends its notification once: a count of notifications.sent per
 * (order_id, notification) above 1 would be a notification sent twice. Each channel is consumed
 * by one group, so each message reaches the module through one subscription.
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
#include "tm.h"

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

/* ---- THE UNIT OF WORK (chapter 09) ----------------------------------------------------------- */

/* One handler's unit of work, on a transaction it does not own, filled at join: h is the
 * handlers' state whose cache writers and app (customers reads, sender) work on the unit's
 * transaction; valid until commit or rollback. */
struct notifications_unit {
    struct notifications_handlers h;
    struct notifications_app app; /* h.app points here */
    void *impl;                   /* the port's own state of the unit */
};

/* The unit-of-work port (adapters.h has the one over PostgreSQL).
 * join: a unit on tx (borrowed; the caller's subscription commits or rolls it back) into *out
 *       (the caller's storage). Errors: CORE_ERR_NOMEM.
 * commit: ends a joined unit after its handler succeeded: frees the unit's state only.
 * rollback: the same after a failure. */
struct notifications_units {
    void *self;
    core_status (*join)(void *self, tm_tx *tx, struct notifications_unit *out, core_err *err);
    core_status (*commit)(void *self, struct notifications_unit *u, core_err *err);
    void (*rollback)(void *self, struct notifications_unit *u);
};

/* The module's subscriptions (chapter 09): the two groups above through the inbox of ob
 * (borrowed; schema "notifications") with tm_event_subscribe; each delivery joins a unit of
 * units (borrowed; must outlive the stream) and runs the handler on the unit's h. reg as above.
 * Errors: tm_event_subscribe's. */
core_status notifications_subscribe_handlers_in(am_stream *stream, tm_outbox *ob,
                                                const es_registry *reg,
                                                struct notifications_units *units, core_err *err);

#endif /* NOTIFICATIONS_HANDLERS_H */
