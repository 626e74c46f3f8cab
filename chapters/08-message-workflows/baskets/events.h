/* baskets/events.h -- the baskets module's INTEGRATION events (chapter 08): the channel, message
 * names and payload types other modules consume from the stream (the book's
 * baskets/basketspb/events.go). The payloads are in proto/baskets/events.proto.
 *
 * Layer: the module's published contract; other modules include this header to subscribe.
 *
 *   channel BASKETS_BASKET_CHANNEL "mallbots.baskets.events.Basket"
 *     "basketsapi.BasketStarted"    Basketsapi__BasketStarted{id, customer_id}
 *     "basketsapi.BasketCanceled"   Basketsapi__BasketCanceled{id}
 *     "basketsapi.BasketCheckedOut" Basketsapi__BasketCheckedOut{id, customer_id, payment_id,
 *                                   items[store_id, product_id, store_name, product_name, price,
 *                                   quantity]}
 *
 * `id` in the payload is the basket's id. The message id of each integration event is the id of
 * the domain event it announces (its row in baskets.events), as for the stores' and the orders'
 * events. baskets.BasketItemAdded, BasketItemRemoved and BasketCheckoutRejected are not
 * announced (the book announces no item changes either; the rejection is a workspace event).
 */
#ifndef BASKETS_EVENTS_H
#define BASKETS_EVENTS_H

#include "baskets/events.pb-c.h"
#include "core.h"
#include "es.h"

#define BASKETS_BASKET_CHANNEL "mallbots.baskets.events.Basket"

#define BASKETSAPI_BASKET_STARTED "basketsapi.BasketStarted"
#define BASKETSAPI_BASKET_CANCELED "basketsapi.BasketCanceled"
#define BASKETSAPI_BASKET_CHECKED_OUT "basketsapi.BasketCheckedOut"

/* Registers the three integration event names above with their payload types in reg. A name
 * already in reg -> CORE_ERR_CONFLICT; CORE_ERR_NOMEM. */
core_status baskets_register_integration_types(es_registry *reg, core_err *err);

#endif /* BASKETS_EVENTS_H */
