/* stores/application.h -- the stores module's commands and queries (the book's application layer).
 *
 * Layer: application. Each function loads entities through a repository PORT, applies a domain
 * rule (stores/domain.h) and saves the result. The ports are small ops structs, so unit tests
 * plug in fakes and the module plugs in PostgreSQL (stores/postgres.c). The stores module calls
 * no other module.
 *
 * Logging: the book's logging decorator ("-->" and "<--" records at debug level) is the core's:
 * rpc_invoke() logs every call of the module's RPC methods (rpc.h, "Logging").
 *
 * Errors: domain rules give CORE_ERR_INVALID with the book's texts; an unknown store or product
 * gives CORE_ERR_NOT_FOUND "store <id> not found" / "product <id> not found"; a repository's
 * error is passed up unchanged.
 *
 * Thread-safety: a stores_app is read-only after set-up; its functions may run from many threads
 * at once if the ports allow it (the PostgreSQL ones do).
 */
#ifndef STORES_APPLICATION_H
#define STORES_APPLICATION_H

#include "core.h"
#include "stores/domain.h"

/* ---- ports -------------------------------------------------------------------------------- */

/* The stores table (the book's StoreRepository).
 * save: inserts a new store (copied); an existing id -> CORE_ERR_CONFLICT.
 * update: writes name, location and participating of an existing store; unknown id ->
 *         CORE_ERR_NOT_FOUND "store <id> not found".
 * find: fills the EMPTY *out (caller releases it); unknown id -> CORE_ERR_NOT_FOUND.
 * find_all: appends every store to *out (caller releases the list). */
struct stores_store_repo {
    void *self;
    core_status (*save)(void *self, const struct stores_store *store, core_err *err);
    core_status (*update)(void *self, const struct stores_store *store, core_err *err);
    core_status (*find)(void *self, const char *id, struct stores_store *out, core_err *err);
    core_status (*find_all)(void *self, struct stores_store_list *out, core_err *err);
};

/* The participating stores (the book's ParticipatingStoreRepository, a read model).
 * find_all: appends every participating store to *out (caller releases the list). */
struct stores_participating_repo {
    void *self;
    core_status (*find_all)(void *self, struct stores_store_list *out, core_err *err);
};

/* The products table (the book's ProductRepository).
 * add: inserts a new product (copied); an existing id -> CORE_ERR_CONFLICT.
 * remove: deletes; unknown id -> CORE_ERR_NOT_FOUND "product <id> not found".
 * find: fills the EMPTY *out; unknown id -> CORE_ERR_NOT_FOUND "product <id> not found".
 * catalog: appends the products of store_id to *out (none: the list stays empty). */
struct stores_product_repo {
    void *self;
    core_status (*add)(void *self, const struct stores_product *product, core_err *err);
    core_status (*remove)(void *self, const char *id, core_err *err);
    core_status (*find)(void *self, const char *id, struct stores_product *out, core_err *err);
    core_status (*catalog)(void *self, const char *store_id, struct stores_product_list *out,
                           core_err *err);
};

/* The application: its ports, borrowed (their self pointers must outlive the app). */
struct stores_app {
    struct stores_store_repo stores;
    struct stores_participating_repo participating;
    struct stores_product_repo products;
};

/* ---- commands ----------------------------------------------------------------------------- */

/* Creates a store (not participating) with the given id (the RPC layer makes a new UUID) and
 * saves it. Strings are borrowed. Rules: see stores_store_create(). */
core_status stores_app_create_store(struct stores_app *app, const char *id, const char *name,
                                    const char *location, core_err *err);

/* Loads store id, makes it participate and saves it. CORE_ERR_INVALID "the store id cannot be
 * blank", CORE_ERR_NOT_FOUND, "the store is already participating". */
core_status stores_app_enable_participation(struct stores_app *app, const char *id, core_err *err);

/* Loads store id, takes it out of the program and saves it. CORE_ERR_INVALID "the store id
 * cannot be blank", CORE_ERR_NOT_FOUND, "the store is already not participating". */
core_status stores_app_disable_participation(struct stores_app *app, const char *id, core_err *err);

/* The input of AddProduct; every string borrowed. description and sku may be NULL. */
struct stores_add_product {
    const char *id; /* the new product's id (the RPC layer makes a new UUID) */
    const char *store_id;
    const char *name;
    const char *description;
    const char *sku;
    double price;
};

/* Adds a product to an existing store's catalog. The store must exist (CORE_ERR_NOT_FOUND
 * "store <id> not found", checked after the blank store id, before the product's rules); then the
 * rules of stores_product_create(). */
core_status stores_app_add_product(struct stores_app *app, const struct stores_add_product *cmd,
                                   core_err *err);

/* Deletes product id. CORE_ERR_INVALID "the product id cannot be blank", CORE_ERR_NOT_FOUND
 * "product <id> not found". */
core_status stores_app_remove_product(struct stores_app *app, const char *id, core_err *err);

/* ---- queries ------------------------------------------------------------------------------ */

/* Fills the EMPTY *out with store id (caller releases it with stores_store_release).
 * CORE_ERR_INVALID "the store id cannot be blank", CORE_ERR_NOT_FOUND "store <id> not found". */
core_status stores_app_get_store(struct stores_app *app, const char *id, struct stores_store *out,
                                 core_err *err);

/* Appends every store to *out (caller releases it with stores_store_list_release). On failure
 * *out is left empty. */
core_status stores_app_get_stores(struct stores_app *app, struct stores_store_list *out,
                                  core_err *err);

/* Appends every participating store to *out (caller releases it). On failure *out is left empty. */
core_status stores_app_get_participating_stores(struct stores_app *app,
                                                struct stores_store_list *out, core_err *err);

/* Appends the products of store store_id to *out (caller releases it with
 * stores_product_list_release). Unlike the book (an empty list), an unknown store is
 * CORE_ERR_NOT_FOUND "store <id> not found"; a blank id is CORE_ERR_INVALID "the store id cannot
 * be blank". On failure *out is left empty. */
core_status stores_app_get_catalog(struct stores_app *app, const char *store_id,
                                   struct stores_product_list *out, core_err *err);

/* Fills the EMPTY *out with product id (caller releases it with stores_product_release).
 * CORE_ERR_INVALID "the product id cannot be blank", CORE_ERR_NOT_FOUND "product <id> not found".
 */
core_status stores_app_get_product(struct stores_app *app, const char *id,
                                   struct stores_product *out, core_err *err);

#endif /* STORES_APPLICATION_H */
