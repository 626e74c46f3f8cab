/* application.h -- the baskets module's commands and queries (chapter 05: event-sourced).
 *
 * Layer: application. Each function loads a basket from its events (es_repo_load: the latest
 * snapshot plus the events after it), applies a domain rule (domain.h), which raises new events,
 * and saves them (es_repo_save: appended to baskets.events at the version the basket was loaded
 * at); AddItem reads the product and its store from the stores module. The stores module is a
 * PORT (an ops struct with a self pointer); the repository is an es_repo over an aggregate store,
 * so the unit tests run this layer with the in-memory store (es_mem_store_new) and a fake stores
 * port, and the module wires PostgreSQL (es_pg_store_new) and the RPC clients (adapters.h).
 *
 * Domain events (chapter 04): the events a command raised are published to the module's
 * dispatcher (ddd.h), whose handlers run before the command returns. CheckoutBasket does not call
 * ordering itself: it checks out, publishes "baskets.BasketCheckedOut", and the OrderHandlers
 * (handlers.h) create the order. A handler's failure is the command's failure: its status and
 * message come back to the caller, wrapped as "baskets.OrderHandlers on baskets.BasketCheckedOut:
 * <ordering's message>".
 *
 * Published, THEN appended (chapter 05's choice for baskets). es_repo_save appends and then
 * publishes (the book's order), so a refused checkout would leave the basket checked out in its
 * stream with no order -- and, the event being stored, no way to try again. So, as in chapter 04,
 * the application publishes the raised events FIRST and appends them
 * only when every handler succeeded (the module's es_repo has no publisher: es_repo_save only
 * appends and snapshots). A refused checkout appends nothing: the basket stays open, can be fixed
 * and retried (chapter 03's behaviour, which its end-to-end tests hold us to), and each event is
 * still published exactly once per successful command. The price: handlers see an event before
 * it is stored. If the append then fails -- a CONFLICT because someone changed the basket while
 * ordering was creating the order, or the database -- the order exists and the basket is still
 * open (a retried checkout then meets ordering's "order <id> already exists"). That is the same
 * dual-write gap chapter 04 has after a failed save; the book closes it in chapter 09
 * (transactional outbox).
 *
 * Optimistic concurrency: two commands that load the same basket version and both save -> the
 * second gets CORE_ERR_CONFLICT (HTTP 409) "saving basket <id>: baskets.Basket <id> was changed by
 * someone else (expected version E, stored version S)", and nothing of it is stored (its handlers
 * have run, though: see above). The caller may simply send the request again.
 *
 * Errors: domain rules give CORE_ERR_INVALID with the spec's texts; an unknown basket (no events)
 * is CORE_ERR_NOT_FOUND "basket <id> not found"; errors of other modules (e.g. stores'
 * CORE_ERR_NOT_FOUND "product <id> not found") are passed up unchanged. When a step fails nothing
 * is saved (nor published).
 *
 * Logging: each command logs "--> Baskets.<Name>" on entry and "<-- Baskets.<Name>" (with the
 * error, if any) on exit at debug level, like the book's logging decorator.
 *
 * Thread-safety: a struct baskets_app is read-only after set-up; its functions may run from any
 * number of threads at once if the ports allow it (the real ones do; es_repo is thread-safe). Two
 * concurrent changes of the SAME basket: one wins, the other gets CORE_ERR_CONFLICT (see above).
 */
#ifndef BASKETS_APPLICATION_H
#define BASKETS_APPLICATION_H

#include "baskets/domain.h"
#include "core.h"
#include "ddd.h"
#include "es.h"

/* The stores module, read-only. */
struct baskets_stores_port {
    void *self;
    /* Fills *out (INIT on entry; on OK the caller releases it with baskets_store_release, on
     * failure it is left INIT). */
    core_status (*get_store)(void *self, const char *id, struct baskets_store *out, core_err *err);
    /* Fills *out (INIT on entry; on OK the caller releases it with baskets_product_release, on
     * failure it is left INIT). */
    core_status (*get_product)(void *self, const char *id, struct baskets_product *out, core_err *err);
};

/* The ordering module (used by the OrderHandlers, handlers.h, since chapter 04). */
struct baskets_ordering_port {
    void *self;
    /* Creates the order of a checked-out basket (borrowed): order id = basket id, with the
     * basket's customer, payment and items. */
    core_status (*create_order)(void *self, const struct baskets_basket *b, core_err *err);
};

/* The application: the basket repository, its ports and the dispatcher it publishes to, filled by
 * the caller (the module or a test). All borrowed; they must outlive every call. baskets is an
 * es_repo of baskets_basket_type created WITHOUT a publisher (the application publishes before
 * it saves, see above); publisher must not be NULL. */
struct baskets_app {
    es_repo *baskets;
    struct baskets_stores_port stores;
    ddd_dispatcher *publisher;
};

/* Starts and saves a new open basket with the given id (the RPC layer generates one) for
 * customer_id. Both borrowed. Errors: the domain's blank/too-long texts; the repository's. */
core_status baskets_app_start_basket(struct baskets_app *app, const char *id, const char *customer_id,
                                     core_err *err);

/* Cancels the open basket id. Errors: "the basket id cannot be blank", not found, "the basket
 * cannot be cancelled". */
core_status baskets_app_cancel_basket(struct baskets_app *app, const char *id, core_err *err);

/* Checks out the open basket id with payment_id: domain rules first, then "baskets.BasketCheckedOut"
 * is published (its handler creates the order, order id = basket id) and, when that succeeded,
 * appended. If a handler fails, nothing is appended -- the basket stays open -- and the handler's
 * error is returned (wrapped with the handler's and the event's names). */
core_status baskets_app_checkout_basket(struct baskets_app *app, const char *id, const char *payment_id,
                                        core_err *err);

/* Adds quantity of product_id to the open basket id. The product and then its store are read from
 * stores (an unknown product: stores' CORE_ERR_NOT_FOUND "product <id> not found"). Errors also:
 * "the product id cannot be blank", the domain's quantity and state rules. */
core_status baskets_app_add_item(struct baskets_app *app, const char *id, const char *product_id, int quantity,
                                 core_err *err);

/* Takes quantity of product_id out of the open basket id (the line goes when it reaches 0). Does
 * not call stores: the basket's line already names the product, so a product deleted from its
 * catalog meanwhile can still be taken out. Errors: "the product id cannot be blank", the
 * domain's rules. */
core_status baskets_app_remove_item(struct baskets_app *app, const char *id, const char *product_id,
                                    int quantity, core_err *err);

/* Loads basket id into *out (INIT on entry; on OK the caller releases it with
 * baskets_basket_release, on failure it is left INIT). Errors: "the basket id cannot be blank",
 * not found. */
core_status baskets_app_get_basket(struct baskets_app *app, const char *id, struct baskets_basket *out,
                                   core_err *err);

#endif /* BASKETS_APPLICATION_H */
