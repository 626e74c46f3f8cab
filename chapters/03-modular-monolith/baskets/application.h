/* application.h -- the baskets module's commands and queries (chapter 03).
 *
 * Layer: application. Each function loads a basket through the repository port, applies a domain
 * rule (domain.h) and saves the result; AddItem reads the product and its store from the stores
 * module, CheckoutBasket hands the basket to the ordering module. Every dependency is a PORT (an
 * ops struct with a self pointer), so the unit tests run this layer with fakes and the module
 * wires the real adapters (adapters.h: PostgreSQL, RPC clients).
 *
 * Errors: domain rules give CORE_ERR_INVALID with the book's texts; an unknown basket gives
 * whatever the repository says (the PostgreSQL one: CORE_ERR_NOT_FOUND "basket <id> not found");
 * errors of other modules (e.g. stores' CORE_ERR_NOT_FOUND "product <id> not found") are passed
 * up unchanged. When a step fails nothing is saved.
 *
 * Logging: the book's logging decorator ("-->" and "<--" records at debug level) is the core's:
 * rpc_invoke() logs every call of the module's RPC methods (rpc.h, "Logging").
 *
 * Thread-safety: a struct baskets_app is read-only after set-up; its functions may run from any
 * number of threads at once if the ports allow it (the real ones do). Two concurrent changes of
 * the SAME basket may overwrite each other (last writer wins, as in the book).
 */
#ifndef BASKETS_APPLICATION_H
#define BASKETS_APPLICATION_H

#include "baskets/domain.h"
#include "core.h"

/* Where baskets are kept. */
struct baskets_repo {
    void *self;
    /* Loads basket id into *out (INIT on entry; on OK the caller releases it, on failure it is
     * left INIT). Unknown id: CORE_ERR_NOT_FOUND "basket <id> not found". */
    core_status (*find)(void *self, const char *id, struct baskets_basket *out, core_err *err);
    /* Stores a new basket (borrowed). An existing id: CORE_ERR_CONFLICT. */
    core_status (*save)(void *self, const struct baskets_basket *b, core_err *err);
    /* Overwrites an existing basket (borrowed). Unknown id: CORE_ERR_NOT_FOUND. */
    core_status (*update)(void *self, const struct baskets_basket *b, core_err *err);
};

/* The stores module, read-only. */
struct baskets_stores_port {
    void *self;
    /* Fills *out (INIT on entry; on OK the caller releases it with baskets_store_release, on
     * failure it is left INIT). */
    core_status (*get_store)(void *self, const char *id, struct baskets_store *out, core_err *err);
    /* Fills *out (INIT on entry; on OK the caller releases it with baskets_product_release, on
     * failure it is left INIT). */
    core_status (*get_product)(void *self, const char *id, struct baskets_product *out,
                               core_err *err);
};

/* The ordering module. */
struct baskets_ordering_port {
    void *self;
    /* Creates the order of a checked-out basket (borrowed): order id = basket id, with the
     * basket's customer, payment and items. */
    core_status (*create_order)(void *self, const struct baskets_basket *b, core_err *err);
};

/* The application: its ports, filled by the caller (the module or a test). The ports' selves are
 * borrowed and must outlive every call. */
struct baskets_app {
    struct baskets_repo baskets;
    struct baskets_stores_port stores;
    struct baskets_ordering_port ordering;
};

/* Starts and saves a new open basket with the given id (the RPC layer generates one) for
 * customer_id. Both borrowed. Errors: the domain's blank/too-long texts; the repository's. */
core_status baskets_app_start_basket(struct baskets_app *app, const char *id,
                                     const char *customer_id, core_err *err);

/* Cancels the open basket id. Errors: "the basket id cannot be blank", not found, "the basket
 * cannot be cancelled". */
core_status baskets_app_cancel_basket(struct baskets_app *app, const char *id, core_err *err);

/* Checks out the open basket id with payment_id: domain rules first, then ordering.CreateOrder
 * (order id = basket id), then the basket is saved as checked_out. If ordering fails, the basket
 * stays open and ordering's error is returned unchanged. */
core_status baskets_app_checkout_basket(struct baskets_app *app, const char *id,
                                        const char *payment_id, core_err *err);

/* Adds quantity of product_id to the open basket id. The product and then its store are read from
 * stores (an unknown product: stores' CORE_ERR_NOT_FOUND "product <id> not found"). Errors also:
 * "the product id cannot be blank", the domain's quantity and state rules. */
core_status baskets_app_add_item(struct baskets_app *app, const char *id, const char *product_id,
                                 int quantity, core_err *err);

/* Takes quantity of product_id out of the open basket id (the line goes when it reaches 0). Does
 * not call stores: the basket's line already names the product, so a product deleted from its
 * catalog meanwhile can still be taken out. Errors: "the product id cannot be blank", the
 * domain's rules. */
core_status baskets_app_remove_item(struct baskets_app *app, const char *id, const char *product_id,
                                    int quantity, core_err *err);

/* Loads basket id into *out (INIT on entry; on OK the caller releases it with
 * baskets_basket_release, on failure it is left INIT). Errors: "the basket id cannot be blank",
 * not found. */
core_status baskets_app_get_basket(struct baskets_app *app, const char *id,
                                   struct baskets_basket *out, core_err *err);

#endif /* BASKETS_APPLICATION_H */
