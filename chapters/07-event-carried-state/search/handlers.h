/* search/handlers.h -- the search module's handler of ordering's integration events: it feeds
 * the read model (the book's search/internal/handlers/orders.go with its application's
 * OrderCreated ... OrderCompleted), and its subscription to them; and the handlers of the
 * customers' and stores' integration events that feed its caches (the book's
 * search/internal/handlers/customers.go, stores.go, products.go; see CACHES below).
 *
 * Layer: application (driving side). One entry point for every order event, so that the
 * subscription and the unit tests call the same code:
 *
 *   "ordersapi.OrderCreated"   (Ordersapi__OrderCreated)   -> search_app_order_created(occurred_at)
 *   "ordersapi.OrderReadied"   (Ordersapi__OrderReadied)   -> search_app_order_readied()
 *   "ordersapi.OrderCanceled"  (Ordersapi__OrderCanceled)  -> search_app_order_canceled()
 *   "ordersapi.OrderCompleted" (Ordersapi__OrderCompleted) -> search_app_order_completed()
 *
 * Results: those of the application (search/application.h: an upsert, so a redelivered event is
 * harmless). Another event name, or a payload of another type than the name promises, is
 * CORE_ERR_INVALID naming the event.
 *
 * THE SUBSCRIPTION: group SEARCH_ORDERS_GROUP ("search-orders") on ORDERING_ORDER_CHANNEL, the
 * four names above as its filter (other names on the channel are acknowledged unread). A group of
 * its own: the book's search subscribes with the notifications' group "notification-orders", so
 * the two modules share one durable consumer and each order event reaches only one of them
 * (docs/ERRATA.md, D59). A failure of the handler is redelivered with backoff and recorded
 * as dead after the stream's max_deliver (am.h), so an order whose OrderCreated cannot be written
 * now (a module that names it is unreachable) is written on a later delivery.
 *
 * Thread-safety: as the application's; the stream may call the handler from its own threads.
 */
#ifndef SEARCH_HANDLERS_H
#define SEARCH_HANDLERS_H

#include <stdint.h>

#include "am.h"
#include "core.h"
#include "ddd.h"
#include "es.h"
#include "search/application.h"

#define SEARCH_ORDERS_GROUP "search-orders"

/* Applies one order event (borrowed) to the read model through app (borrowed). */
core_status search_handle_order_event(struct search_app *app, const ddd_event *event,
                                      core_err *err);

/* Subscribes the handler over app (borrowed; must outlive the stream's use) to the order events
 * on stream as SEARCH_ORDERS_GROUP; reg (borrowed) decodes them (it must know the ordersapi
 * names: ordering_register_integration_types()). Errors of am_event_subscribe(). */
core_status search_subscribe_order_handlers(am_stream *stream, const es_registry *reg,
                                            struct search_app *app, core_err *err);

/* ---- CACHES (chapter 07) -----------------------------------------------------------------
 * The copies of the names search shows, search.customers_cache (id, name), search.stores_cache
 * (id, name) and search.products_cache (id, store_id, name), which the caches port of the
 * application reads instead of calling customers and stores (search/adapters.h, caches.c). Three
 * durable consumer groups of their own:
 *   SEARCH_CUSTOMERS_GROUP on mallbots.customers.events.Customer:
 *       customersapi.CustomerRegistered -> customers.add(id, name)
 *       (search keeps names only: CustomerSmsChanged, CustomerEnabled and CustomerDisabled are
 *       acknowledged unread: the filter.)
 *   SEARCH_STORES_GROUP on mallbots.stores.events.Store:
 *       storesapi.StoreCreated   -> stores.add(id, name)
 *       storesapi.StoreRebranded -> stores.rename(id, name)
 *   SEARCH_PRODUCTS_GROUP on mallbots.stores.events.Product:
 *       storesapi.ProductAdded     -> products.add(id, store_id, name)
 *       storesapi.ProductRebranded -> products.rebrand(id, name)
 *       storesapi.ProductRemoved   -> products.remove(id)
 * seq is the delivery's stream sequence; the caches' rules make every write idempotent
 * (search/adapters.h). A failing write fails the handler (the message comes again later); a
 * payload without its id is CORE_ERR_INVALID. Each write is logged at INFO ("search: cache
 * storesapi.StoreCreated ..."). */
#define SEARCH_CUSTOMERS_GROUP "search-customers"
#define SEARCH_STORES_GROUP "search-stores"
#define SEARCH_PRODUCTS_GROUP "search-products"

/* The caches as the handlers write them. Strings borrowed. */
struct search_customer_cache {
    void *self;
    core_status (*add)(void *self, const char *id, const char *name, uint64_t seq, core_err *err);
};

struct search_store_cache {
    void *self;
    core_status (*add)(void *self, const char *id, const char *name, uint64_t seq, core_err *err);
    core_status (*rename)(void *self, const char *id, const char *name, uint64_t seq,
                          core_err *err);
};

struct search_product_cache {
    void *self;
    core_status (*add)(void *self, const char *id, const char *store_id, const char *name,
                       uint64_t seq, core_err *err);
    core_status (*rebrand)(void *self, const char *id, const char *name, uint64_t seq,
                           core_err *err);
    core_status (*remove)(void *self, const char *id, uint64_t seq, core_err *err);
};

struct search_cache_handlers {
    struct search_customer_cache customers;
    struct search_store_cache stores;
    struct search_product_cache products;
};

/* Subscribes the cache handlers h (borrowed; must outlive the stream) to stream as the three
 * groups above; reg (borrowed) decodes the payloads (it must know the customersapi and storesapi
 * names: monolith/messages.h). Errors of am_event_subscribe(). */
core_status search_subscribe_cache_handlers(am_stream *stream, const es_registry *reg,
                                            struct search_cache_handlers *h, core_err *err);

#endif /* SEARCH_HANDLERS_H */
