/* depot/events.h -- the depot module's INTEGRATION event (chapter 09): the channel, message name
 * and payload type other modules consume from the stream (the book's depot/depotpb/messages.go).
 * The payload is in proto/depot/events.proto.
 *
 * Layer: the module's published contract; other modules include this header to subscribe.
 *
 *   channel DEPOT_SHOPPING_LIST_CHANNEL "mallbots.depot.events.ShoppingList"
 *     "depotapi.ShoppingListCompleted"  Depotapi__ShoppingListCompleted{id, order_id}
 *
 * `id` is the shopping list's id, `order_id` the order's. The message id is the id of the domain
 * event it announces (depot.ShoppingListCompleted, depot/domain.h), so announcing the same
 * completion twice stores one message within the stream's duplicate window.
 */
#ifndef DEPOT_EVENTS_H
#define DEPOT_EVENTS_H

#include "core.h"
#include "depot/events.pb-c.h"
#include "es.h"

#define DEPOT_SHOPPING_LIST_CHANNEL "mallbots.depot.events.ShoppingList"

#define DEPOTAPI_SHOPPING_LIST_COMPLETED "depotapi.ShoppingListCompleted"

/* Registers the integration event name above with its payload type and channel in reg. A name
 * already in reg -> CORE_ERR_CONFLICT; CORE_ERR_NOMEM. */
core_status depot_register_integration_types(es_registry *reg, core_err *err);

#endif /* DEPOT_EVENTS_H */
