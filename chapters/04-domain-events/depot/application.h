/* depot/application.h -- the depot module's commands and query (the book's application layer).
 *
 * Layer: application. Every dependency is a port: an ops struct { self, functions } for the
 * shopping-list repository and the stores module (store and product lookups), so unit tests pass
 * fakes and the module wires the Postgres repository and the RPC clients (adapters.h). Each call
 * logs its entry and exit at debug level (the book's logging decorator), component "depot".
 *
 * Domain events (chapter 04): each command applies a domain rule, which records an event on the
 * list (domain.h), saves the list and ONLY then takes the recorded events and publishes them with
 * the module's dispatcher. The ordering module is no longer called by a command: the
 * OrderHandlers (handlers.h) react to depot.ShoppingListCompleted.
 *
 * Errors of a port are passed up with their status; the message gets context where it helps
 * ("building shopping list: store 12 not found"). Nothing is saved when a rule or a port fails.
 * A handler's failure is returned by the command too (the dispatcher prefixes it with
 * "<handlers> on <event>: "), but the list is already saved at that point and stays so: the
 * change and its side effect are two writes without a transaction around them -- the dual-write
 * problem the book solves with an outbox in chapter 09.
 *
 * Thread-safety: a depot_app holds only its ports; it is as thread-safe as they are (the
 * module's adapters are).
 */
#ifndef DEPOT_APPLICATION_H
#define DEPOT_APPLICATION_H

#include <stddef.h>

#include "core.h"
#include "depot/domain.h"

/* Repository of shopping lists. Strings are borrowed for the call. */
struct depot_list_repo {
    void *self;
    /* Inserts a new list (l borrowed); an existing id gives CORE_ERR_CONFLICT. */
    core_status (*save)(void *self, const struct depot_shopping_list *l, core_err *err);
    /* Fills *out, an initialized empty list; on OK the caller releases it with
     * depot_shopping_list_release(), on failure *out is left empty. An unknown id gives
     * CORE_ERR_NOT_FOUND "shopping list <id> not found". */
    core_status (*find)(void *self, const char *id, struct depot_shopping_list *out, core_err *err);
    /* Writes stops, assigned bot and status of an existing list; unknown id ->
     * CORE_ERR_NOT_FOUND. */
    core_status (*update)(void *self, const struct depot_shopping_list *l, core_err *err);
};

/* The stores module, as the depot needs it. On OK *out holds heap strings the caller frees with
 * depot_store_release() / depot_product_release(); on failure *out is left zeroed. */
struct depot_stores_port {
    void *self;
    core_status (*get_store)(void *self, const char *id, struct depot_store *out, core_err *err);
    core_status (*get_product)(void *self, const char *id, struct depot_product *out,
                               core_err *err);
};

/* The ordering module, as the depot needs it: the port of the OrderHandlers (handlers.h). */
struct depot_orders_port {
    void *self;
    /* ordering.ReadyOrder(order_id). */
    core_status (*ready)(void *self, const char *order_id, core_err *err);
};

/* The application: its ports and the module's event dispatcher (must not be NULL), borrowed
 * (they must outlive it). Fill the fields directly. */
struct depot_app {
    struct depot_list_repo lists;
    struct depot_stores_port stores;
    ddd_dispatcher *publisher; /* the recorded events go here after each save */
};

/* A line of the order a shopping list is built from. Strings borrowed. */
struct depot_order_item {
    const char *store_id;
    const char *product_id;
    int quantity;
};

/* Builds and saves an "available" shopping list for order_id under a new UUID (written to
 * out_id), then publishes depot.ShoppingListCreated: for each of the n items, stores.GetStore
 * and stores.GetProduct give the stop's name and location and the product's name. items is
 * borrowed.
 * Errors (CORE_ERR_INVALID), checked before any call to stores: "the order id cannot be blank",
 * "the order id is too long", "the shopping list has no items", "the store id cannot be blank",
 * "the product id cannot be blank", "the item quantity must be positive"; then the stores
 * module's errors (e.g. CORE_ERR_NOT_FOUND) and the rules of depot_shopping_list_add_item(),
 * prefixed "building shopping list"; the repository's; CORE_ERR_NOMEM. */
core_status depot_app_create_shopping_list(struct depot_app *app, const char *order_id,
                                           const struct depot_order_item *items, size_t n,
                                           char out_id[DEPOT_ID_MAX + 1], core_err *err);

/* Cancels a list, saves it, publishes depot.ShoppingListCanceled. Errors: "the shopping list id
 * cannot be blank", unknown id (CORE_ERR_NOT_FOUND), "the shopping list cannot be cancelled",
 * the repository's. */
core_status depot_app_cancel_shopping_list(struct depot_app *app, const char *id, core_err *err);

/* Assigns an available list to bot_id, saves it, publishes depot.ShoppingListAssigned. Errors:
 * "the shopping list id cannot be blank", unknown id, the rules of depot_shopping_list_assign(),
 * the repository's. */
core_status depot_app_assign_shopping_list(struct depot_app *app, const char *id,
                                           const char *bot_id, core_err *err);

/* Completes an assigned list, saves it as "completed", then publishes
 * depot.ShoppingListCompleted, on which the OrderHandlers tell ordering the order is ready
 * (ordering.ReadyOrder). When ordering fails the list stays completed (chapter 03 called ordering
 * first and kept the list assigned). Errors: "the shopping list id cannot be blank", unknown id,
 * "the shopping list cannot be completed", the repository's, the handlers' ("depot.OrderHandlers
 * on depot.ShoppingListCompleted: readying order <order id>: <ordering's message>"). */
core_status depot_app_complete_shopping_list(struct depot_app *app, const char *id, core_err *err);

/* Fills *out (an initialized empty list) with the list id; on OK the caller releases it with
 * depot_shopping_list_release(). Errors: "the shopping list id cannot be blank", the
 * repository's (unknown id -> CORE_ERR_NOT_FOUND). The book's query; no RPC exposes it. */
core_status depot_app_get_shopping_list(struct depot_app *app, const char *id,
                                        struct depot_shopping_list *out, core_err *err);

#endif /* DEPOT_APPLICATION_H */
