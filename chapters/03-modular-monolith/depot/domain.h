/* depot/domain.h -- the depot bounded context's entities and rules: shopping lists.
 *
 * Layer: domain (pure C, no I/O). A shopping list is what a robot works through to collect an
 * order: one stop per store (name, location) with the products to pick there (name, quantity).
 * Its life: "available" -> AssignShoppingList -> "assigned" -> CompleteShoppingList ->
 * "completed"; CancelShoppingList from "available", "assigned" or "active" -> "cancelled".
 * ("active" is one of the book's statuses; nothing in chapter 03 sets it.)
 *
 * Storage: struct depot_shopping_list lives in caller storage: depot_shopping_list_init() (or
 * DEPOT_SHOPPING_LIST_INIT), then depot_shopping_list_release() frees its stops. Its ids are fixed
 * arrays of at most DEPOT_ID_MAX bytes (longer ids are rejected, "the <what> id is too long");
 * the stops and their strings are heap memory owned by the list (core_malloc). Stops and items
 * keep the order in which they were first added.
 *
 * struct depot_store / depot_product are what the depot needs of the stores module: heap
 * strings owned by the struct (core_strdup), freed with depot_store_release /
 * depot_product_release.
 *
 * Rule violations return CORE_ERR_INVALID with the texts below ("the shopping list cannot be
 * cancelled" is the book's chapter-03 text; the assign/complete texts are the book's from
 * chapter 04, where these rules first appear). Allocation failure gives CORE_ERR_NOMEM and
 * leaves the list as it was. Thread-safety: functions touch only their arguments.
 */
#ifndef DEPOT_DOMAIN_H
#define DEPOT_DOMAIN_H

#include <stddef.h>

#include "core.h"

#define DEPOT_ID_MAX 64

/* Shopping list statuses; stored and shown as the book's strings "available", "assigned",
 * "active", "completed", "cancelled". */
enum depot_list_status {
    DEPOT_LIST_AVAILABLE,
    DEPOT_LIST_ASSIGNED,
    DEPOT_LIST_ACTIVE,
    DEPOT_LIST_COMPLETED,
    DEPOT_LIST_CANCELLED,
};

/* A store as the depot sees it. All strings heap-owned (NULL only after release). */
struct depot_store {
    char *id;
    char *name;
    char *location;
};

/* A product as the depot sees it. All strings heap-owned. */
struct depot_product {
    char *id;
    char *store_id;
    char *name;
};

/* One product to pick at a stop. */
struct depot_item {
    char *product_id;
    char *product_name;
    int quantity;
};

/* One store to visit, with its items. */
struct depot_stop {
    char *store_id;
    char *store_name;
    char *store_location;
    struct depot_item *items;
    size_t nitems;
    size_t cap; /* allocated items */
};

struct depot_shopping_list {
    char id[DEPOT_ID_MAX + 1];
    char order_id[DEPOT_ID_MAX + 1];
    char assigned_bot_id[DEPOT_ID_MAX + 1]; /* "" until assigned */
    enum depot_list_status status;
    struct depot_stop *stops;
    size_t nstops;
    size_t cap; /* allocated stops */
};

#define DEPOT_SHOPPING_LIST_INIT                                                                   \
    {                                                                                              \
        {0}, {0}, {0}, DEPOT_LIST_AVAILABLE, NULL, 0, 0                                            \
    }

/* The status's stored text. Never NULL. */
const char *depot_list_status_text(enum depot_list_status status);

/* Parses a stored status text. Returns false (and leaves *out alone) for an unknown text. */
bool depot_list_status_parse(const char *text, enum depot_list_status *out);

/* Frees the strings of a store / product and sets them to NULL. NULL pointer is a no-op. */
void depot_store_release(struct depot_store *store);
void depot_product_release(struct depot_product *product);

/* Empties l (no stops, ids "", status available). l must not hold stops (release it first). */
void depot_shopping_list_init(struct depot_shopping_list *l);

/* Frees l's stops and re-initializes it. NULL is a no-op. */
void depot_shopping_list_release(struct depot_shopping_list *l);

/* Starts a new "available" list without stops for order_id, on an initialized (empty) l.
 * id and order_id are copied. Errors (CORE_ERR_INVALID): "the shopping list id cannot be blank",
 * "the shopping list id is too long", "the order id cannot be blank", "the order id is too long".
 */
core_status depot_shopping_list_create(struct depot_shopping_list *l, const char *id,
                                       const char *order_id, core_err *err);

/* Adds quantity of product, bought at store, to l: to the store's stop (created on first use,
 * with the store's name and location) and to the product's item there (created on first use; a
 * product added again gets its quantity added -- the book keeps only the first quantity).
 * store and product are borrowed; their strings are copied (their ids must not be NULL; other
 * strings may be, and become ""). Errors (CORE_ERR_INVALID):
 * "the item quantity must be positive", "the item quantity is too large" (the sum would
 * overflow an int), "product <id> is not sold by store <id>" (product->store_id is set and
 * differs from store->id); CORE_ERR_NOMEM. */
core_status depot_shopping_list_add_item(struct depot_shopping_list *l,
                                         const struct depot_store *store,
                                         const struct depot_product *product, int quantity,
                                         core_err *err);

/* Cancels a list that is available, assigned or active. Error: "the shopping list cannot be
 * cancelled" (completed or already cancelled). */
core_status depot_shopping_list_cancel(struct depot_shopping_list *l, core_err *err);

/* Assigns an available list to bot_id (copied). Errors: "the bot id cannot be blank", "the bot
 * id is too long", "the shopping list cannot be assigned" (not available). */
core_status depot_shopping_list_assign(struct depot_shopping_list *l, const char *bot_id,
                                       core_err *err);

/* Completes an assigned list. Error: "the shopping list cannot be completed" (not assigned). */
core_status depot_shopping_list_complete(struct depot_shopping_list *l, core_err *err);

#endif /* DEPOT_DOMAIN_H */
