/* search/domain.h -- the search module's values and rules: an order as search shows it, the
 * statuses, the filters of a search and the page token.
 *
 * Layer: domain (pure C, no I/O, no logging). The application (search/application.h) builds
 * orders from ordering's integration events and answers queries with them; the RPC server turns
 * requests into filters and checks them here.
 *
 * THE ORDER (struct search_order) lives in caller storage: SEARCH_ORDER_INIT (or
 * search_order_init()) before use, search_order_release() after. Every string is a core_strdup'd
 * copy owned by the order. created_us is the time of the order, in microseconds since
 * 1970-01-01T00:00:00Z (the occurred_at of its OrderCreated event).
 *
 * STATUSES, in the only order they may follow (search_status_rank()): "New" (0),
 * "Ready For Pickup" (1), "Canceled" (2), "Completed" (3). A status event never lowers the rank of
 * the order's status: a late or redelivered event leaves the order where it is.
 *
 * FILTERS (struct search_filters): all borrowed; each one that is set must hold. Their names in
 * messages are the API's JSON names ("filters.storeIds[1] cannot be blank"), since the client
 * wrote them that way. search_filters_check() gives CORE_ERR_INVALID for:
 *     "filters.customerId is too long"             (over SEARCH_ID_MAX bytes)
 *     "filters.storeIds[i] cannot be blank", "filters.storeIds[i] is too long"
 *     "filters.storeIds has more than 100 ids"     (same for filters.productIds)
 *     "filters.minTotal cannot be negative", "filters.maxTotal cannot be negative"
 *     "filters.minTotal is not a number"           (NaN or infinite; same for maxTotal)
 *     "filters.minTotal is greater than filters.maxTotal"
 *     "filters.after is not earlier than filters.before"
 *     "filters.status \"x\" is not one of: New, Ready For Pickup, Canceled, Completed"
 * A total of 0 is no bound (as in the book, where the fields are plain proto3 doubles); no real
 * order costs 0, so min 0 and "no min" select the same orders, and max 0 would select none.
 *
 * THE PAGE TOKEN ("next"): where the previous page ended, i.e. the (created_us, order_id) of its
 * last order, as unpadded base64url of "1.<created_us>.<order_id>". Clients treat it as opaque.
 * The next page holds the orders strictly after that pair in the order newest first (created_us
 * descending, then order_id descending): keyset paging, so an order added while a client pages
 * never shifts a later page (it is either newer, on a page already read, or it sorts after the
 * token like any other order) and no order is shown twice. search_cursor_decode() refuses
 * anything it did not make: CORE_ERR_INVALID "next is not a page token of this search".
 *
 * Thread-safety: values; one thread at a time per value; the functions keep no state.
 */
#ifndef SEARCH_DOMAIN_H
#define SEARCH_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"

#define SEARCH_STATUS_NEW "New"
#define SEARCH_STATUS_READY "Ready For Pickup"
#define SEARCH_STATUS_CANCELED "Canceled"
#define SEARCH_STATUS_COMPLETED "Completed"

/* Longest id (order, customer, store, product) accepted in a filter or a token, in bytes. */
#define SEARCH_ID_MAX 64
/* Most ids in filters.storeIds and in filters.productIds. */
#define SEARCH_FILTER_IDS_MAX 100
/* Orders per page: when the request says 0, and at most. */
#define SEARCH_LIMIT_DEFAULT 20
#define SEARCH_LIMIT_MAX 100
/* Room for a page token and its NUL (base64url of "1.<20 digits>.<SEARCH_ID_MAX bytes>"). */
#define SEARCH_TOKEN_MAX 128

/* The rank of a status (0-3, see the top), or -1 for a text that is none of the four. */
int search_status_rank(const char *status);

/* One line of an order. */
struct search_item {
    char *product_id;
    char *store_id;
    char *product_name; /* "" when search does not know the product */
    char *store_name;   /* "" when search does not know the store */
    double price;
    int quantity;
};

struct search_order {
    char *order_id;
    char *customer_id;
    char *customer_name; /* "" when search does not know the customer */
    struct search_item *items;
    size_t nitems, cap;
    double total;
    char *status;       /* one of the four SEARCH_STATUS_* texts */
    int64_t created_us; /* the time of the order, microseconds since the epoch */
};
/* clang-format off */
#define SEARCH_ORDER_INIT {NULL, NULL, NULL, NULL, 0, 0, 0, NULL, 0}
/* clang-format on */

void search_order_init(struct search_order *o);

/* Frees what o owns and makes it empty again. NULL is a no-op. */
void search_order_release(struct search_order *o);

/* Sets order_id, customer_id, customer_name and status (copies; NULL is ""). CORE_ERR_NOMEM. */
core_status search_order_set(struct search_order *o, const char *order_id, const char *customer_id,
                             const char *customer_name, const char *status, core_err *err);

/* Appends an item (strings copied; NULL is ""). CORE_ERR_NOMEM (o keeps its earlier items). */
core_status search_order_add_item(struct search_order *o, const char *product_id,
                                  const char *store_id, const char *product_name,
                                  const char *store_name, double price, int quantity,
                                  core_err *err);

/* A list of orders that owns them: SEARCH_ORDER_LIST_INIT, search_order_list_release(). */
struct search_order_list {
    struct search_order *items;
    size_t n, cap;
};
/* clang-format off */
#define SEARCH_ORDER_LIST_INIT {NULL, 0, 0}
/* clang-format on */

/* A new empty order at the end of l (*out borrowed from l). CORE_ERR_NOMEM. */
core_status search_order_list_add(struct search_order_list *l, struct search_order **out,
                                  core_err *err);
void search_order_list_release(struct search_order_list *l);

/* The filters of a search (see the top). Everything borrowed. */
struct search_filters {
    const char *customer_id; /* NULL or "": any customer */
    bool has_after;
    int64_t after_us; /* created strictly after, microseconds since the epoch */
    bool has_before;
    int64_t before_us; /* created strictly before */
    const char *const *store_ids;
    size_t nstore_ids; /* 0: any store; else an item of any of them */
    const char *const *product_ids;
    size_t nproduct_ids; /* 0: any product; else any of them */
    double min_total;    /* 0: no bound; else total >= min_total */
    double max_total;    /* 0: no bound; else total <= max_total */
    const char *status;  /* NULL or "": any status */
};

/* Checks f (see the top for the messages). CORE_OK or CORE_ERR_INVALID. */
core_status search_filters_check(const struct search_filters *f, core_err *err);

/* The page size for the requested limit: 0 -> SEARCH_LIMIT_DEFAULT; 1..SEARCH_LIMIT_MAX as
 * asked; anything else CORE_ERR_INVALID "limit must be between 1 and 100 (0 means 20)". */
core_status search_limit_resolve(int32_t limit, int *out, core_err *err);

/* Where a page ended: the last order's time and id. */
struct search_cursor {
    int64_t created_us;
    char order_id[SEARCH_ID_MAX + 1];
};

/* Writes the token of c into out (SEARCH_TOKEN_MAX bytes). An order id over SEARCH_ID_MAX bytes
 * or empty is CORE_ERR_INTERNAL (ids come from the read model, which checks them). */
core_status search_cursor_encode(const struct search_cursor *c, char out[SEARCH_TOKEN_MAX],
                                 core_err *err);

/* Reads a token made by search_cursor_encode() into *out. Anything else (bad base64url, another
 * layout, a number out of range, an empty or too long id) is CORE_ERR_INVALID "next is not a page
 * token of this search". */
core_status search_cursor_decode(const char *token, struct search_cursor *out, core_err *err);

#endif /* SEARCH_DOMAIN_H */
