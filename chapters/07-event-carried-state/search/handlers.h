/* search/handlers.h -- the search module's handler of ordering's integration events: it feeds
 * the read model (the book's search/internal/handlers/orders.go, with its application's
 * OrderCreated ... OrderCompleted).
 *
 * Layer: application (driving side). One entry point for every order event, so that a
 * subscription (chapter 06's am_event_subscribe, group "search-orders" on
 * mallbots.ordering.events.Order) and the unit tests call the same code:
 *
 *   "ordersapi.OrderCreated"   (Ordersapi__OrderCreated)   -> search_app_order_created(occurred_at)
 *   "ordersapi.OrderReadied"   (Ordersapi__OrderReadied)   -> search_app_order_readied()
 *   "ordersapi.OrderCanceled"  (Ordersapi__OrderCanceled)  -> search_app_order_canceled()
 *   "ordersapi.OrderCompleted" (Ordersapi__OrderCompleted) -> search_app_order_completed()
 *
 * Results: those of the application (search/application.h: an upsert, so a redelivered event is
 * harmless). Another event name, or a payload of another type than the name promises, is
 * CORE_ERR_INVALID naming the event: delivering it again cannot help, so a subscription records
 * CORE_ERR_INVALID as dead at once (*dead in am.h) and redelivers the other errors.
 *
 * Thread-safety: as the application's.
 */
#ifndef SEARCH_HANDLERS_H
#define SEARCH_HANDLERS_H

#include "core.h"
#include "ddd.h"
#include "es.h"
#include "search/application.h"

#define SEARCH_ORDER_CREATED "ordersapi.OrderCreated"
#define SEARCH_ORDER_READIED "ordersapi.OrderReadied"
#define SEARCH_ORDER_CANCELED "ordersapi.OrderCanceled"
#define SEARCH_ORDER_COMPLETED "ordersapi.OrderCompleted"

/* The four names above and a NULL, for a subscription's name filter. */
extern const char *const search_order_event_names[];

/* Registers the four event names with their payload types in reg (for decoding them). Errors of
 * es_registry_add() (CORE_ERR_CONFLICT when a name is already registered). */
core_status search_register_order_events(es_registry *reg, core_err *err);

/* Applies one order event (borrowed) to the read model through app (borrowed). */
core_status search_handle_order_event(struct search_app *app, const ddd_event *event,
                                      core_err *err);

#endif /* SEARCH_HANDLERS_H */
