/* domain.h -- the baskets bounded context's entities and rules (chapter 03).
 *
 * Layer: domain. Pure C: no I/O, no logging, no knowledge of RPC or SQL. The application layer
 * (application.h) loads a basket, applies one of the rules below and saves it again.
 *
 * A basket collects the products a customer picks at a kiosk. It starts "open", and ends either
 * "checked_out" (it became an order) or "cancelled". Only an open basket can change.
 *
 * Rule violations return CORE_ERR_INVALID with the book's texts (the book's chapter 3):
 *     "the basket id cannot be blank"        "the customer id cannot be blank"
 *     "the payment id cannot be blank"       "the basket has no items"
 *     "the basket cannot be modified"        "the basket cannot be cancelled"
 *     "the item quantity cannot be negative"
 * and, where the book has no rule (workspace additions, same status):
 *     "the item quantity cannot be zero"     (adding or removing 0 of a product)
 *     "the item quantity is too large"       (a line would exceed INT32_MAX)
 *     "the basket id is too long", "the customer id is too long", "the payment id is too long"
 *     (ids longer than BASKETS_ID_MAX characters)
 * A failing rule leaves the basket unchanged.
 *
 * Memory: a struct baskets_basket is caller storage with the init/release lifecycle. Ids are fixed
 * arrays inside the struct; the items array and every string of an item are core_malloc'd and
 * owned by the basket (baskets_basket_release frees them). struct baskets_store and struct
 * baskets_product (what the stores module tells us) own their core_strdup'd strings and are freed
 * with baskets_store_release / baskets_product_release.
 *
 * Thread-safety: none needed; an entity is used by one thread at a time.
 */
#ifndef BASKETS_DOMAIN_H
#define BASKETS_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "core.h"

/* Longest id (basket, customer, payment) in characters; ids come from clients as free text. */
#define BASKETS_ID_MAX 64

enum baskets_status {
    BASKETS_STATUS_UNKNOWN = 0, /* a basket that was never started */
    BASKETS_STATUS_OPEN,
    BASKETS_STATUS_CANCELLED,
    BASKETS_STATUS_CHECKED_OUT,
};

/* The stored/returned text of a status: "open", "cancelled", "checked_out"; "" for UNKNOWN. */
const char *baskets_status_text(enum baskets_status st);

/* Parses a text made by baskets_status_text() (not ""). Returns false for anything else. */
bool baskets_status_parse(const char *text, enum baskets_status *out);

/* A store as the baskets context sees it. Strings are owned (core_strdup'd). */
struct baskets_store {
    char *id;
    char *name;
    char *location;
};

/* A product as the baskets context sees it. Strings are owned (core_strdup'd). */
struct baskets_product {
    char *id;
    char *store_id;
    char *name;
    double price;
};

#define BASKETS_STORE_INIT                                                                         \
    {                                                                                              \
        NULL, NULL, NULL                                                                           \
    }
#define BASKETS_PRODUCT_INIT                                                                       \
    {                                                                                              \
        NULL, NULL, NULL, 0.0                                                                      \
    }

/* Frees the strings and resets to the INIT value. NULL and an INIT value are no-ops. */
void baskets_store_release(struct baskets_store *s);
void baskets_product_release(struct baskets_product *p);

/* One product line. The names and the price are copied from stores when the line is created.
 * Strings are owned by the basket that holds the item. */
struct baskets_item {
    char *store_id;
    char *product_id;
    char *store_name;
    char *product_name;
    double product_price;
    int quantity; /* >= 1 */
};

struct baskets_basket {
    char id[BASKETS_ID_MAX + 1];
    char customer_id[BASKETS_ID_MAX + 1];
    char payment_id[BASKETS_ID_MAX + 1]; /* "" until checked out */
    struct baskets_item *items;          /* nitems lines, sorted by store name, product name */
    size_t nitems;
    size_t cap; /* allocated lines */
    enum baskets_status status;
};

#define BASKETS_BASKET_INIT                                                                        \
    {                                                                                              \
        {0}, {0}, {0}, NULL, 0, 0, BASKETS_STATUS_UNKNOWN                                          \
    }

/* Sets *b to the INIT value (an empty, unstarted basket). */
void baskets_basket_init(struct baskets_basket *b);

/* Frees the items and resets *b to the INIT value. NULL is a no-op. */
void baskets_basket_release(struct baskets_basket *b);

/* Checks a basket id given by a client: "the basket id cannot be blank" when NULL/blank, "the
 * basket id is too long" past BASKETS_ID_MAX. The application checks ids before it loads. */
core_status baskets_check_id(const char *id, core_err *err);

/* Starts basket b (which must be INIT or released) with id and customer_id (both copied):
 * status open, no items. Errors: the blank/too-long texts for either id, basket id first. */
core_status baskets_basket_start(struct baskets_basket *b, const char *id, const char *customer_id,
                                 core_err *err);

/* Cancels an open basket: status cancelled, items dropped. Otherwise "the basket cannot be
 * cancelled". */
core_status baskets_basket_cancel(struct baskets_basket *b, core_err *err);

/* Checks out an open basket with at least one item: payment_id (copied) recorded, status
 * checked_out. Errors, in this order: "the basket cannot be modified" (not open), "the basket has
 * no items", "the payment id cannot be blank", "the payment id is too long". */
core_status baskets_basket_checkout(struct baskets_basket *b, const char *payment_id,
                                    core_err *err);

/* Adds quantity of product (sold by store; both borrowed, their strings copied) to an open
 * basket. A product already in the basket (same product and store id) gets its quantity raised;
 * otherwise a new line is inserted at its sorted place (store name, then product name).
 * Errors: "the basket cannot be modified", "the item quantity cannot be negative", "the item
 * quantity cannot be zero", "the item quantity is too large"; CORE_ERR_NOMEM. */
core_status baskets_basket_add_item(struct baskets_basket *b, const struct baskets_store *store,
                                    const struct baskets_product *product, int quantity,
                                    core_err *err);

/* Takes quantity of the product with id product_id (borrowed) out of an open basket. The line is
 * removed only when its quantity reaches 0 (taking more than it holds also removes it). A product
 * that is not in the basket changes nothing and is not an error (as in the book).
 * Errors: "the basket cannot be modified", "the item quantity cannot be negative", "the item
 * quantity cannot be zero". */
core_status baskets_basket_remove_item(struct baskets_basket *b, const char *product_id,
                                       int quantity, core_err *err);

/* The line of product_id in b, or NULL. Borrowed from b. */
const struct baskets_item *baskets_basket_find_item(const struct baskets_basket *b,
                                                    const char *product_id);

/* Deep copy of src into dst (dst INIT or released). CORE_ERR_NOMEM leaves dst INIT. */
core_status baskets_basket_copy(struct baskets_basket *dst, const struct baskets_basket *src,
                                core_err *err);

/* Appends a line as it is (no merge, no sort, no rule): for repositories rebuilding a stored
 * basket. Strings are copied. CORE_ERR_NOMEM leaves b unchanged. */
core_status baskets_basket_push_item(struct baskets_basket *b, const struct baskets_item *item,
                                     core_err *err);

#endif /* BASKETS_DOMAIN_H */
