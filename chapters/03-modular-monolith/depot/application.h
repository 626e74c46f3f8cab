/* depot/application.h -- the depot module's commands and query (the book's application layer).
 *
 * Layer: application. Every dependency is a port: an ops struct { self, functions } for the
 * shopping-list repository, the stores module (store and product lookups) and the ordering module,
 * so unit tests pass fakes and the module wires the Postgres repository and the RPC clients
 * (adapters.h). The core logs the start and end of each call (rpc.h, "Logging").
 *
 * Errors of a port are passed up with their status; the message gets context where it helps
 * ("building shopping list: store 12 not found"). Nothing is saved when a rule or a port fails.
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

/* The ordering module, as the depot needs it. */
struct depot_orders_port {
    void *self;
    /* ordering.ReadyOrder(order_id). */
    core_status (*ready)(void *self, const char *order_id, core_err *err);
};

/* The application: its ports, borrowed (they must outlive it). Fill the fields directly. */
struct depot_app {
    struct depot_list_repo lists;
    struct depot_stores_port stores;
    struct depot_orders_port orders;
};

/* A line of the order a shopping list is built from. Strings borrowed. */
struct depot_order_item {
    const char *store_id;
    const char *product_id;
    int quantity;
};

/* Builds and saves an "available" shopping list for order_id under a new UUID (written to
 * out_id): for each of the n items, stores.GetStore and stores.GetProduct give the stop's name
 * and location and the product's name. items is borrowed.
 * Errors (CORE_ERR_INVALID), checked before any call to stores: "the order id cannot be blank",
 * "the order id is too long", "the shopping list has no items", "the store id cannot be blank",
 * "the product id cannot be blank", "the item quantity must be positive"; then the stores
 * module's errors (e.g. CORE_ERR_NOT_FOUND) and the rules of depot_shopping_list_add_item(),
 * prefixed "building shopping list"; the repository's; CORE_ERR_NOMEM. */
core_status depot_app_create_shopping_list(struct depot_app *app, const char *order_id,
                                           const struct depot_order_item *items, size_t n,
                                           char out_id[DEPOT_ID_MAX + 1], core_err *err);

/* Cancels a list. Errors: "the shopping list id cannot be blank", unknown id
 * (CORE_ERR_NOT_FOUND), "the shopping list cannot be cancelled", the repository's. */
core_status depot_app_cancel_shopping_list(struct depot_app *app, const char *id, core_err *err);

/* Assigns an available list to bot_id. Errors: "the shopping list id cannot be blank", unknown
 * id, the rules of depot_shopping_list_assign(), the repository's. */
core_status depot_app_assign_shopping_list(struct depot_app *app, const char *id,
                                           const char *bot_id, core_err *err);

/* Completes an assigned list, then tells ordering the order is ready (ordering.ReadyOrder), then
 * saves the list as "completed". When ordering fails the list stays assigned. Errors: "the
 * shopping list id cannot be blank", unknown id, "the shopping list cannot be completed",
 * ordering's error prefixed "readying order <order id>", the repository's. */
core_status depot_app_complete_shopping_list(struct depot_app *app, const char *id, core_err *err);

/* Fills *out (an initialized empty list) with the list id; on OK the caller releases it with
 * depot_shopping_list_release(). Errors: "the shopping list id cannot be blank", the
 * repository's (unknown id -> CORE_ERR_NOT_FOUND). The book's query; no RPC exposes it. */
core_status depot_app_get_shopping_list(struct depot_app *app, const char *id,
                                        struct depot_shopping_list *out, core_err *err);

#endif /* DEPOT_APPLICATION_H */
