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
 *   "ordersapi.OrderApproved"  (Ordersapi__OrderApproved)  -> search_app_order_approved()
 *   "ordersapi.OrderRejected"  (Ordersapi__OrderRejected)  -> search_app_order_rejected()
 *   "ordersapi.OrderReadied"   (Ordersapi__OrderReadied)   -> search_app_order_readied()
 *   "ordersapi.OrderCanceled"  (Ordersapi__OrderCanceled)  -> search_app_order_canceled()
 *   "ordersapi.OrderCompleted" (Ordersapi__OrderCompleted) -> search_app_order_completed()
 *
 * Results: those of the application (search/application.h: an upsert, so a redelivered event is
 * harmless). Another event name, or a payload of another type than the name promises, is
 * CORE_ERR_INVALID naming the event.
 *
 * THE SUBSCRIPTION: group SEARCH_ORDERS_GROUP ("search-orders") on ORDERING_ORDER_CHANNEL, the
 * six names above as its filter (other names on the channel are acknowledged unread). A group of
 * its own: the book's search subscribes with the notifications' group "notification-orders", so
 * the two modules share one durable consumer and each order event reaches only one of them
 * (docs/ERRATA.md, D59). A failure of the handler is redelivered with backoff and recorded
 * as dead after the stream's max_deliver (am.h), so an order whose OrderCreated cannot be written
 * now (a module that names it is unreachable) is written on a later delivery.
 *
 * THE UNIT OF WORK (chapter 09). The module subscribes with search_subscribe_handlers_in(): the
 * same four groups, each through search's inbox (tm_event_subscribe on a tm_outbox over schema
 * "search"; search publishes nothing, so that outbox only ever claims inbox rows and the relay
 * does not serve it). Each delivery runs in one transaction: the inbox row, then the handler's
 * writes, on a unit the handler JOINS through the search_units port (the transaction is the
 * subscription's). A message delivered again (same id) is dropped by the inbox: the read model
 * and the caches are written once per message id, whatever the upserts below would do. Each
 * channel is consumed by one group, so each message reaches search through one subscription (the
 * inbox key is the message id alone). A handler failure rolls back its writes and the inbox row;
 * the message comes again or is recorded dead as before (am.h).
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
#include "tm.h"

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
 * names: monolith/messages.h). Errors of am_event_subscribe(). Without an inbox (chapter 08's
 * subscription; the unit tests' in-memory broker). */
core_status search_subscribe_cache_handlers(am_stream *stream, const es_registry *reg,
                                            struct search_cache_handlers *h, core_err *err);

/* ---- THE UNIT OF WORK (chapter 09) ----------------------------------------------------------- */

/* One handler's unit of work, on a transaction it does not own. The port fills it at join:
 * app: the application whose read model writes on the unit's transaction;
 * caches: the cache writers on it. Both valid until commit or rollback. */
struct search_unit {
    struct search_app app;
    struct search_cache_handlers caches;
    void *impl; /* the port's own state of the unit */
};

/* The unit-of-work port (search/adapters.h has the one over PostgreSQL).
 * join: a unit on tx (borrowed; the caller's subscription commits or rolls it back) into *out
 *       (the caller's storage). Errors: CORE_ERR_NOMEM.
 * commit: ends a joined unit after its handler succeeded: frees the unit's state only (tx is
 *       committed by its owner). rollback: the same after a failure. */
struct search_units {
    void *self;
    core_status (*join)(void *self, tm_tx *tx, struct search_unit *out, core_err *err);
    core_status (*commit)(void *self, struct search_unit *u, core_err *err);
    void (*rollback)(void *self, struct search_unit *u);
};

/* The subscriptions of the module (chapter 09): the order handler (SEARCH_ORDERS_GROUP) and the
 * cache handlers (the three cache groups), as the chapter 08 ones above, but through the inbox of
 * ob (borrowed; search's: schema "search") with tm_event_subscribe; each delivery joins a unit of
 * units (borrowed; must outlive the stream) and runs search_handle_order_event() on the unit's
 * app, or the cache write on the unit's caches. reg as above. Errors of tm_event_subscribe(). */
core_status search_subscribe_order_handlers_in(am_stream *stream, tm_outbox *ob,
                                               const es_registry *reg, struct search_units *units,
                                               core_err *err);
core_status search_subscribe_cache_handlers_in(am_stream *stream, tm_outbox *ob,
                                               const es_registry *reg, struct search_units *units,
                                               core_err *err);

#endif /* SEARCH_HANDLERS_H */
