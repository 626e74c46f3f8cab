/* domain.h -- the ordering module's domain: an order and the rules of its lifecycle.
 *
 * Layer: domain (pure C, no I/O). The C counterpart of the book's ordering/internal/domain.
 *
 * An order is created from the items of a checked-out basket, for a customer and a payment
 * authorization. It starts "pending"; it can be cancelled only while pending; it becomes "ready"
 * when its shopping list is completed and "completed" when its invoice is paid. Every change
 * checks the status it starts from (the book's ready and complete check none, so an order could
 * be completed while pending and readied again once completed: docs/ERRATA.md, D34):
 *     cancel            pending                  -> cancelled
 *     ready             pending or in-progress   -> ready
 *     set_invoice_id    ready (no other invoice)    (the invoice payments made for the order)
 *     complete          ready, with its invoice  -> completed
 * ("in-progress" exists as a status but no operation sets it yet.)
 *
 * Rule violations return CORE_ERR_INVALID with the book's texts:
 *     "the order has no items", "the customer id cannot be blank",
 *     "the payment id cannot be blank", "the order cannot be cancelled"
 * and, workspace additions, "the order id cannot be blank", "the <x> id is too long" for an
 * id longer than ORDERING_ID_MAX characters, the status rules "the order cannot be readied",
 * "the order is not ready", "the order already has an invoice", "the order cannot be
 * completed", "the invoice is not the order's invoice", "the invoice id cannot be blank", and
 * the amount rules of ordering_order_create (D37).
 *
 * Storage: the order's five ids are fixed arrays inside the struct (ids come from clients and
 * other modules and may be any string up to ORDERING_ID_MAX characters, not only UUIDs). The
 * items are a heap array owned by the order; each item's strings are heap strings owned by the
 * order. Everything is allocated with core_malloc and friends.
 *
 * Thread-safety: an order is a plain value; one thread at a time per order. The functions keep
 * no global state.
 */
#ifndef ORDERING_DOMAIN_H
#define ORDERING_DOMAIN_H

#include <stddef.h>

#include "core.h"

/* Longest id accepted (order, customer, payment, shopping list, invoice), in characters. */
#define ORDERING_ID_MAX 64
/* Size of an id buffer, terminator included. */
#define ORDERING_ID_SIZE (ORDERING_ID_MAX + 1)

/* The book's order statuses. UNKNOWN stands for a status text that is none of them. */
enum ordering_status {
    ORDERING_STATUS_UNKNOWN = 0,
    ORDERING_STATUS_PENDING,     /* "pending" */
    ORDERING_STATUS_IN_PROGRESS, /* "in-progress" */
    ORDERING_STATUS_READY,       /* "ready" */
    ORDERING_STATUS_COMPLETED,   /* "completed" */
    ORDERING_STATUS_CANCELLED,   /* "cancelled" */
};

/* The status's text as stored and returned by the API ("pending", ...); "" for UNKNOWN. Static. */
const char *ordering_status_text(enum ordering_status status);

/* The status named by text (exact, lower case); ORDERING_STATUS_UNKNOWN for anything else,
 * NULL included. */
enum ordering_status ordering_status_parse(const char *text);

/* One order line. Inside an order every string is a heap string owned by the order (never
 * NULL). As an input (ordering_order_create, ordering_order_set_items) the strings are borrowed
 * and copied; NULL is taken as "". */
struct ordering_item {
    char *store_id;
    char *product_id;
    char *store_name;
    char *product_name;
    double price;
    int quantity;
};

struct ordering_order {
    char id[ORDERING_ID_SIZE];
    char customer_id[ORDERING_ID_SIZE];
    char payment_id[ORDERING_ID_SIZE];
    char invoice_id[ORDERING_ID_SIZE];  /* "" until payments created the invoice */
    char shopping_id[ORDERING_ID_SIZE]; /* "" until depot created the shopping list */
    struct ordering_item *items;        /* nitems entries, owned */
    size_t nitems;
    enum ordering_status status;
};

/* An empty order (no items, all ids "", status UNKNOWN). */
#define ORDERING_ORDER_INIT                                                                        \
    {                                                                                              \
        {0}, {0}, {0}, {0}, {0}, NULL, 0, ORDERING_STATUS_UNKNOWN                                  \
    }

/* Sets *o to ORDERING_ORDER_INIT. */
void ordering_order_init(struct ordering_order *o);

/* Frees the order's items and resets it to ORDERING_ORDER_INIT; the struct itself is the
 * caller's. Releasing twice is harmless. */
void ordering_order_release(struct ordering_order *o);

/* Largest amount an order may carry: an item's price and the order's total (the invoice of the
 * order is stored in a decimal(9,4) column, payments' PAYMENTS_AMOUNT_MAX). */
#define ORDERING_AMOUNT_MAX 99999.9999

/* The book's domain.CreateOrder: a new pending order with no shopping list and no invoice.
 * Checks, in the book's order: at least one item ("the order has no items"), customer id not
 * blank, payment id not blank; then id not blank and every id at most ORDERING_ID_MAX long;
 * then the amounts (workspace additions, D37), item by item: "the item quantity must be
 * positive", "the item price cannot be negative" (also NaN), "the item price cannot be over
 * 99999.9999"; and last "the order total cannot be over 99999.9999" (the total could not be
 * invoiced, so the order could never become ready).
 * All arguments are borrowed; ids and items are copied. o must be initialized; on success its
 * previous content is released and replaced, on failure o is unchanged.
 * Errors: CORE_ERR_INVALID (texts above), CORE_ERR_NOMEM. */
core_status ordering_order_create(struct ordering_order *o, const char *id, const char *customer_id,
                                  const char *payment_id, const struct ordering_item *items,
                                  size_t nitems, core_err *err);

/* Cancels a pending order (status "cancelled"). Any other status: CORE_ERR_INVALID "the order
 * cannot be cancelled", o unchanged. */
core_status ordering_order_cancel(struct ordering_order *o, core_err *err);

/* Marks a pending or in-progress order "ready" (its shopping list was completed). Any other
 * status: CORE_ERR_INVALID "the order cannot be readied", o unchanged. */
core_status ordering_order_ready(struct ordering_order *o, core_err *err);

/* Marks a ready order "completed" (its invoice was paid). Rules, in this order, each a
 * CORE_ERR_INVALID that leaves o unchanged: status not ready: "the order cannot be completed";
 * invoice_id (borrowed) longer than ORDERING_ID_MAX: "the invoice id is too long"; invoice_id
 * not blank and the order has another invoice: "the invoice is not the order's invoice";
 * neither invoice_id nor the order has one: "the invoice id cannot be blank". invoice_id
 * becomes the order's invoice id when it had none; blank keeps the stored one. */
core_status ordering_order_complete(struct ordering_order *o, const char *invoice_id,
                                    core_err *err);

/* Records the id of the order's shopping list (depot). id is borrowed and copied; longer than
 * ORDERING_ID_MAX: CORE_ERR_INVALID "the shopping id is too long", o unchanged. */
core_status ordering_order_set_shopping_id(struct ordering_order *o, const char *id, core_err *err);

/* Records the id of the invoice payments created for the ready order. id is borrowed and copied.
 * Rules (CORE_ERR_INVALID, o unchanged): blank: "the invoice id cannot be blank"; longer than
 * ORDERING_ID_MAX: "the invoice id is too long"; status not ready: "the order is not ready";
 * the order has another invoice already: "the order already has an invoice" (the same id again
 * is accepted). */
core_status ordering_order_set_invoice_id(struct ordering_order *o, const char *id, core_err *err);

/* Replaces the order's items by copies of items[0..nitems) (borrowed). No rule is checked: this
 * is how a repository restores a stored order. On CORE_ERR_NOMEM o is unchanged. */
core_status ordering_order_set_items(struct ordering_order *o, const struct ordering_item *items,
                                     size_t nitems, core_err *err);

/* Deep copy of src into dst (initialized; its previous content is released on success). On
 * CORE_ERR_NOMEM dst is unchanged. */
core_status ordering_order_copy(struct ordering_order *dst, const struct ordering_order *src,
                                core_err *err);

/* The book's GetTotal: the sum of price * quantity over the items. */
double ordering_order_total(const struct ordering_order *o);

#endif /* ORDERING_DOMAIN_H */
