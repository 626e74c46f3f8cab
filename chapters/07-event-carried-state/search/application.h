/* search/application.h -- the search module's application: the writer of its read model (one
 * function per order event) and its two queries.
 *
 * Layer: application. Two ports, small ops structs, so unit tests plug in fakes
 * (tests/support/search_fakes.h) and the module plugs in PostgreSQL and RPC:
 *   - struct search_orders_repo: the read model (table search.orders, search/postgres.c);
 *   - struct search_caches: the names of customers, stores and products, which search keeps as
 *     local copies fed by the other modules' integration events, falling back to a call of the
 *     owning module when a copy is missing (event-carried state transfer, chapter 07).
 *
 * THE WRITER. Each order event is applied by an IDEMPOTENT UPSERT, so the same event twice (a
 * redelivery) leaves the row as once, and an event that arrives before the order's OrderCreated
 * is kept, not refused:
 *   ordersapi.OrderCreated   -> the order with its items, the customer's name and the stores' and
 *                               products' names from the caches, total = sum of price x quantity,
 *                               time = the event's occurred_at; the status of a row that already
 *                               exists is kept (it can only be "New" or later), else "New";
 *   ordersapi.OrderReadied   -> status "Ready For Pickup" and the event's total;
 *   ordersapi.OrderCanceled  -> status "Canceled";
 *   ordersapi.OrderCompleted -> status "Completed".
 * A status only moves forward (search/domain.h, "STATUSES"): an older status event arriving late
 * changes nothing. The rule for an order search does not know yet: a status event stores a
 * placeholder row with the status (and the total) and no time; queries do not show it (GET answers
 * 404) until its OrderCreated arrives and fills it in, keeping the later status.
 * A name the caches do not know (CORE_ERR_NOT_FOUND: the customer, store or product is unknown to
 * its owner too, e.g. removed) is stored as "" and the order is still stored: it is found by its
 * ids. Any other failure of a cache (the owner unreachable) or of the repository is the
 * function's error, so the message is delivered again later (chapter 06's redelivery) and nothing
 * half-done is visible (the repository writes an order in one transaction).
 * An event without an order id, an item without a product id, or a quantity below 1 is
 * CORE_ERR_INVALID naming it: delivering it again cannot help (its handler records it as dead).
 *
 * THE QUERIES. search_app_get_order(): blank id CORE_ERR_INVALID "the order id cannot be blank",
 * unknown (or only a placeholder) CORE_ERR_NOT_FOUND "order <id> not found".
 * search_app_search_orders(): checks the filters and the limit (search/domain.h), decodes the page
 * token, asks the repository for one order more than the page holds and, when it got it, returns
 * the token of the page's last order as *next (else ""); orders newest first.
 *
 * Logging: none of its own; rpc_invoke() and the event subscription log every call (rpc.h, am.h).
 * Thread-safety: a search_app is read-only after set-up; its functions may run on many threads at
 * once when the ports allow it (the PostgreSQL and RPC ones do).
 */
#ifndef SEARCH_APPLICATION_H
#define SEARCH_APPLICATION_H

#include <stdint.h>

#include "core.h"
#include "ordering/events.pb-c.h"
#include "search/domain.h"

/* The read model.
 * save_created: writes o (borrowed: order_id, customer_id, customer_name, items, total,
 *     created_us; o->status is ignored) in one transaction: inserts the row with status "New", or
 *     updates a row that exists (a placeholder or the same event again) keeping its status, and
 *     replaces its items.
 * save_status: inserts a placeholder row (order_id, status, total or 0) or updates the status of
 *     the row when status ranks at least as high as the stored one (else leaves it); with
 *     has_total also sets total.
 * find: fills the EMPTY *out with order id (caller releases it); no row, or a placeholder ->
 *     CORE_ERR_NOT_FOUND "order <id> not found".
 * search: appends to out (empty) at most limit orders that match f (checked), newest first,
 *     strictly after *after when after is not NULL; out may be partly filled on failure (the
 *     caller releases it). */
struct search_orders_repo {
    void *self;
    core_status (*save_created)(void *self, const struct search_order *o, core_err *err);
    core_status (*save_status)(void *self, const char *order_id, const char *status, bool has_total,
                               double total, core_err *err);
    core_status (*find)(void *self, const char *order_id, struct search_order *out, core_err *err);
    core_status (*search)(void *self, const struct search_filters *f,
                          const struct search_cursor *after, int limit,
                          struct search_order_list *out, core_err *err);
};

/* The names search shows. Each fills the caller's NULL *name (and *store_id) with a core_malloc'd
 * copy (caller frees with core_free()); an unknown id is CORE_ERR_NOT_FOUND; other errors are the
 * cache's (CORE_ERR_UNAVAILABLE when the fallback call cannot be made). */
struct search_caches {
    void *self;
    core_status (*get_customer)(void *self, const char *id, char **name, core_err *err);
    core_status (*get_store)(void *self, const char *id, char **name, core_err *err);
    core_status (*get_product)(void *self, const char *id, char **name, char **store_id,
                               core_err *err);
};

/* Both ports borrowed; they must outlive the app. */
struct search_app {
    struct search_orders_repo orders;
    struct search_caches caches;
};

/* The writer (see the top). m is borrowed; occurred_us is the event's occurred_at in microseconds
 * since the epoch. */
core_status search_app_order_created(struct search_app *app, const Ordersapi__OrderCreated *m,
                                     int64_t occurred_us, core_err *err);
core_status search_app_order_readied(struct search_app *app, const Ordersapi__OrderReadied *m,
                                     core_err *err);
core_status search_app_order_canceled(struct search_app *app, const Ordersapi__OrderCanceled *m,
                                      core_err *err);
core_status search_app_order_completed(struct search_app *app, const Ordersapi__OrderCompleted *m,
                                       core_err *err);

/* GetOrder: fills the EMPTY *out (caller releases it with search_order_release(), also on
 * failure). */
core_status search_app_get_order(struct search_app *app, const char *id, struct search_order *out,
                                 core_err *err);

/* SearchOrders: fills the EMPTY *out (caller releases it, also on failure) and next (the next
 * page's token, "" on the last page). f and token (NULL or "" = first page) borrowed. */
core_status search_app_search_orders(struct search_app *app, const struct search_filters *f,
                                     const char *token, int32_t limit,
                                     struct search_order_list *out, char next[SEARCH_TOKEN_MAX],
                                     core_err *err);

#endif /* SEARCH_APPLICATION_H */
