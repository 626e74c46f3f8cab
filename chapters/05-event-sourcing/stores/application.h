/* stores/application.h -- the stores module's commands and queries (the book's application layer).
 *
 * Layer: application. Since chapter 05 the module is split in two sides (CQRS):
 *   - COMMANDS load a Store or a Product from its events through an event-sourced repository
 *     (es.h: es_repo_load = latest snapshot + later events), apply a domain rule (stores/domain.h,
 *     which raises an event) and save it (es_repo_save: append the new events at the loaded
 *     version, then publish them to the module's dispatcher);
 *   - QUERIES read the two READ MODELS, the mall (table stores.stores) and the catalog (table
 *     stores.products), through small ports (ops structs, so unit tests plug in fakes). The read
 *     models are projections: the MallHandlers and CatalogHandlers (stores/handlers.h) update
 *     them from the published events, in the same call, before the command returns.
 * The stores module calls no other module.
 *
 * A handler's failure (say the catalog table is unreachable) is the command's failure, with the
 * events ALREADY STORED: the read model is then behind the event store -- the dual-write problem
 * the book solves in chapter 09 (transactional outbox).
 *
 * Every command and query logs "--> Stores.X" on entry and "<-- Stores.X" on exit (with the error,
 * if any) at debug level, as the book's logging decorator does.
 *
 * Errors: domain rules give CORE_ERR_INVALID with the book's texts; an unknown store or product
 * (no events; a removed product; an id longer than STORES_ID_MAX) gives CORE_ERR_NOT_FOUND
 * "store <id> not found" / "product <id> not found"; someone else saving the same store or
 * product between our load and our save gives CORE_ERR_CONFLICT (HTTP 409) with es.h's message,
 * e.g. "stores.Product p-1 was changed by someone else (expected version 2, stored version 3)";
 * nothing is stored then, and the client may simply retry. Other store and read-model errors are
 * passed up unchanged.
 *
 * Thread-safety: a stores_app is read-only after set-up; its functions may run from many threads
 * at once if the ports allow it (es_repo and the PostgreSQL read models do).
 */
#ifndef STORES_APPLICATION_H
#define STORES_APPLICATION_H

#include <stdbool.h>

#include "core.h"
#include "ddd.h"
#include "es.h"
#include "stores/domain.h"

/* ---- ports -------------------------------------------------------------------------------- */

/* The mall read model (table stores.stores; the book's MallRepository). The MallHandlers write
 * it, the store queries read it.
 * add_store: inserts a new, NOT participating store (strings copied).
 * set_participation, rename_store: change an existing store; unknown id -> CORE_ERR_NOT_FOUND
 *         "store <id> not found".
 * find: fills the EMPTY *out (caller releases it); unknown id -> CORE_ERR_NOT_FOUND.
 * all, all_participating: append every (participating) store to *out, ordered by name then id
 *         (caller releases the list). */
struct stores_mall_repo {
    void *self;
    core_status (*add_store)(void *self, const char *id, const char *name, const char *location, core_err *err);
    core_status (*set_participation)(void *self, const char *id, bool participating, core_err *err);
    core_status (*rename_store)(void *self, const char *id, const char *name, core_err *err);
    core_status (*find)(void *self, const char *id, struct stores_mall_store *out, core_err *err);
    core_status (*all)(void *self, struct stores_mall_store_list *out, core_err *err);
    core_status (*all_participating)(void *self, struct stores_mall_store_list *out, core_err *err);
};

/* The catalog read model (table stores.products; the book's CatalogRepository). The
 * CatalogHandlers write it, the product queries read it.
 * add_product: inserts a new product (strings copied).
 * rebrand, update_price (price += delta), remove: change an existing product; unknown id ->
 *         CORE_ERR_NOT_FOUND "product <id> not found".
 * find: fills the EMPTY *out; unknown id -> CORE_ERR_NOT_FOUND "product <id> not found".
 * catalog: appends the products of store_id to *out, ordered by name then id (none: the list
 *         stays empty). */
struct stores_catalog_repo {
    void *self;
    core_status (*add_product)(void *self, const char *id, const char *store_id, const char *name,
                               const char *description, const char *sku, double price, core_err *err);
    core_status (*rebrand)(void *self, const char *id, const char *name, const char *description,
                           core_err *err);
    core_status (*update_price)(void *self, const char *id, double delta, core_err *err);
    core_status (*remove)(void *self, const char *id, core_err *err);
    core_status (*find)(void *self, const char *id, struct stores_catalog_product *out, core_err *err);
    core_status (*catalog)(void *self, const char *store_id, struct stores_catalog_product_list *out,
                           core_err *err);
};

/* The application: the two event-sourced repositories (of stores_store_type and
 * stores_product_type; they publish to the module's dispatcher) and the two read models, all
 * borrowed (they must outlive the app). */
struct stores_app {
    es_repo *stores;
    es_repo *products;
    struct stores_mall_repo mall;
    struct stores_catalog_repo catalog;
};

/* ---- commands ----------------------------------------------------------------------------- */

/* Creates a store (not participating) with the given id (the RPC layer makes a new UUID) and
 * saves its "stores.StoreCreated". Strings are borrowed. Rules: see stores_store_create(). An id
 * that already has events -> CORE_ERR_CONFLICT. */
core_status stores_app_create_store(struct stores_app *app, const char *id, const char *name,
                                    const char *location, core_err *err);

/* Loads store id, makes it participate and saves "stores.StoreParticipationEnabled".
 * CORE_ERR_INVALID "the store id cannot be blank", CORE_ERR_NOT_FOUND, "the store is already
 * participating", CORE_ERR_CONFLICT. */
core_status stores_app_enable_participation(struct stores_app *app, const char *id, core_err *err);

/* Loads store id, takes it out of the program and saves "stores.StoreParticipationDisabled".
 * CORE_ERR_INVALID "the store id cannot be blank", CORE_ERR_NOT_FOUND, "the store is already not
 * participating", CORE_ERR_CONFLICT. */
core_status stores_app_disable_participation(struct stores_app *app, const char *id, core_err *err);

/* Loads store id, renames it and saves "stores.StoreRebranded" (chapter 05). CORE_ERR_INVALID
 * "the store id cannot be blank", CORE_ERR_NOT_FOUND, "the store name cannot be blank",
 * CORE_ERR_CONFLICT. */
core_status stores_app_rebrand_store(struct stores_app *app, const char *id, const char *name, core_err *err);

/* The input of AddProduct; every string borrowed. description and sku may be NULL. */
struct stores_add_product {
    const char *id; /* the new product's id (the RPC layer makes a new UUID) */
    const char *store_id;
    const char *name;
    const char *description;
    const char *sku;
    double price;
};

/* Adds a product to an existing store's catalog: saves its "stores.ProductAdded". The store must
 * exist (loaded from its events: CORE_ERR_NOT_FOUND "store <id> not found", checked after the
 * blank store id, before the product's rules); then the rules of stores_product_create(). */
core_status stores_app_add_product(struct stores_app *app, const struct stores_add_product *cmd,
                                   core_err *err);

/* Loads product id, gives it a new name and description and saves "stores.ProductRebranded"
 * (chapter 05). CORE_ERR_INVALID "the product id cannot be blank", CORE_ERR_NOT_FOUND "product
 * <id> not found", "the product name cannot be blank", CORE_ERR_CONFLICT. */
core_status stores_app_rebrand_product(struct stores_app *app, const char *id, const char *name,
                                       const char *description, core_err *err);

/* Loads product id and raises its price to price (the NEW price); saves
 * "stores.ProductPriceIncreased" {delta} (chapter 05). CORE_ERR_INVALID "the product id cannot be
 * blank", CORE_ERR_NOT_FOUND, the price rules of stores_product_increase_price() ("the price
 * change would be zero", "the price change would be a decrease", ...), CORE_ERR_CONFLICT. */
core_status stores_app_increase_product_price(struct stores_app *app, const char *id, double price,
                                              core_err *err);

/* The mirror image: saves "stores.ProductPriceDecreased"; "the price change would be an
 * increase" when price is above the current price. */
core_status stores_app_decrease_product_price(struct stores_app *app, const char *id, double price,
                                              core_err *err);

/* Loads product id and saves its "stores.ProductRemoved" (the catalog row goes; the product's
 * events stay, and every later command or query answers not found). CORE_ERR_INVALID "the
 * product id cannot be blank", CORE_ERR_NOT_FOUND "product <id> not found" (also when it was
 * removed already), CORE_ERR_CONFLICT. */
core_status stores_app_remove_product(struct stores_app *app, const char *id, core_err *err);

/* ---- queries (on the read models) --------------------------------------------------------- */

/* Fills the EMPTY *out with store id from the mall (caller releases it with
 * stores_mall_store_release). CORE_ERR_INVALID "the store id cannot be blank",
 * CORE_ERR_NOT_FOUND "store <id> not found". */
core_status stores_app_get_store(struct stores_app *app, const char *id, struct stores_mall_store *out,
                                 core_err *err);

/* Appends every store to *out (caller releases it with stores_mall_store_list_release). On
 * failure *out is left empty. */
core_status stores_app_get_stores(struct stores_app *app, struct stores_mall_store_list *out, core_err *err);

/* Appends every participating store to *out (caller releases it). On failure *out is left empty. */
core_status stores_app_get_participating_stores(struct stores_app *app, struct stores_mall_store_list *out,
                                                core_err *err);

/* Appends the products of store store_id to *out (caller releases it with
 * stores_catalog_product_list_release). Unlike the book (an empty list), a store the mall does
 * not know is CORE_ERR_NOT_FOUND "store <id> not found"; a blank id is CORE_ERR_INVALID "the
 * store id cannot be blank". On failure *out is left empty. */
core_status stores_app_get_catalog(struct stores_app *app, const char *store_id,
                                   struct stores_catalog_product_list *out, core_err *err);

/* Fills the EMPTY *out with product id from the catalog (caller releases it with
 * stores_catalog_product_release). CORE_ERR_INVALID "the product id cannot be blank",
 * CORE_ERR_NOT_FOUND "product <id> not found". */
core_status stores_app_get_product(struct stores_app *app, const char *id, struct stores_catalog_product *out,
                                   core_err *err);

#endif /* STORES_APPLICATION_H */
