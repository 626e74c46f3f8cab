/* ordering/events.h -- the ordering module's INTEGRATION events (chapter 07): the channel,
 * message names and payload types other modules consume from the stream (the book's
 * ordering/orderingpb/events.go). The payloads are in proto/ordering/events.proto.
 *
 * Layer: the module's published contract; other modules include this header to subscribe.
 *
 *   channel ORDERING_ORDER_CHANNEL "mallbots.ordering.events.Order"
 *     "ordersapi.OrderCreated"    Ordersapi__OrderCreated{id, customer_id, payment_id,
 *                                 shopping_id, items[product_id, store_id, price, quantity]}
 *     "ordersapi.OrderReadied"    Ordersapi__OrderReadied{id, customer_id, payment_id, total}
 *     "ordersapi.OrderCanceled"   Ordersapi__OrderCanceled{id, customer_id, payment_id}
 *     "ordersapi.OrderCompleted"  Ordersapi__OrderCompleted{id, customer_id, invoice_id}
 *
 * `id` in the payload is the order's id. The message id of each integration event is the id of
 * the domain event it announces (its row in ordering.events), as for the stores' events.
 * ordering.OrderInvoiced (a workspace event) is not announced.
 */
#ifndef ORDERING_EVENTS_H
#define ORDERING_EVENTS_H

#include "core.h"
#include "es.h"
#include "ordering/events.pb-c.h"

#define ORDERING_ORDER_CHANNEL "mallbots.ordering.events.Order"

#define ORDERSAPI_ORDER_CREATED "ordersapi.OrderCreated"
#define ORDERSAPI_ORDER_READIED "ordersapi.OrderReadied"
#define ORDERSAPI_ORDER_CANCELED "ordersapi.OrderCanceled"
#define ORDERSAPI_ORDER_COMPLETED "ordersapi.OrderCompleted"

/* Registers the four integration event names above with their payload types and channels in reg. A
 * name already in reg -> CORE_ERR_CONFLICT; CORE_ERR_NOMEM. */
core_status ordering_register_integration_types(es_registry *reg, core_err *err);

#endif /* ORDERING_EVENTS_H */
