/* domain.h -- the ordering module's domain: an order and the rules of its lifecycle.
 *
 * Layer: domain (pure C, no I/O). The C counterpart of the book's ordering/internal/domain.
 *
 * An order is created from the items of a checked-out basket, for a customer and a payment
 * authorization. It starts "pending"; it can be cancelled only while pending; it becomes "ready"
 * when its shopping list is completed and "completed" when its invoice is paid. Like the book's
 * chapter 03, ready and complete check no status ("in-progress" exists as a status but no
 * operation sets it yet).
 *
 * Domain events (chapter 04): an order is an aggregate (struct ddd_aggregate, ddd.h, named
 * "ordering.Order"). Each change records what happened as an event whose payload is a message
 * of ordering/domain_events.proto, stamped with metadata "aggregate-id" = the order's id:
 *     ordering.OrderCreated   {customer_id, payment_id, shopping_id, items}  (record_created)
 *     ordering.OrderCanceled  {customer_id, payment_id}                      (cancel)
 *     ordering.OrderReadied   {customer_id, payment_id, total}               (ready)
 *     ordering.OrderCompleted {invoice_id}                                   (complete)
 * The events stay in o->agg until the application, after saving the order, takes them with
 * ddd_aggregate_take_events() and publishes them. The id lives in o->id (as in chapter 03); the
 * aggregate's copy (o->agg.id) is set from it whenever an event is recorded. Departure from the
 * book, whose events carry a pointer to the order: a payload here is a copy of the data, taken
 * when the event is recorded (see domain_events.proto). A function that records an event can
 * therefore also fail with CORE_ERR_NOMEM; it then leaves the order unchanged.
 *
 * Rule violations return CORE_ERR_INVALID with the book's texts:
 *     "the order has no items", "the customer id cannot be blank",
 *     "the payment id cannot be blank", "the order cannot be cancelled"
 * and, workspace additions, "the order id cannot be blank" and "the <x> id is too long" for an
 * id longer than ORDERING_ID_MAX characters.
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
#include "ddd.h"

/* Longest id accepted (order, customer, payment, shopping list, invoice), in characters. */
#define ORDERING_ID_MAX 64
/* Size of an id buffer, terminator included. */
#define ORDERING_ID_SIZE (ORDERING_ID_MAX + 1)

/* The aggregate's name and the names of its events (static strings). */
#define ORDERING_ORDER_AGGREGATE "ordering.Order"
#define ORDERING_ORDER_CREATED "ordering.OrderCreated"
#define ORDERING_ORDER_CANCELED "ordering.OrderCanceled"
#define ORDERING_ORDER_READIED "ordering.OrderReadied"
#define ORDERING_ORDER_COMPLETED "ordering.OrderCompleted"

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
    struct ddd_aggregate agg; /* the events recorded since the last hand-over */
    char id[ORDERING_ID_SIZE];
    char customer_id[ORDERING_ID_SIZE];
    char payment_id[ORDERING_ID_SIZE];
    char invoice_id[ORDERING_ID_SIZE];  /* "" until payments created the invoice */
    char shopping_id[ORDERING_ID_SIZE]; /* "" until depot created the shopping list */
    struct ordering_item *items;        /* nitems entries, owned */
    size_t nitems;
    enum ordering_status status;
};

/* An empty order (no items, all ids "", status UNKNOWN, no events). */
#define ORDERING_ORDER_INIT                                                                        \
    {                                                                                              \
        DDD_AGGREGATE_INIT(ORDERING_ORDER_AGGREGATE), {0}, {0}, {0}, {0}, {0}, NULL, 0,            \
            ORDERING_STATUS_UNKNOWN                                                                \
    }

/* Sets *o to ORDERING_ORDER_INIT. */
void ordering_order_init(struct ordering_order *o);

/* Frees the order's items and the events it still holds, and resets it to ORDERING_ORDER_INIT;
 * the struct itself is the caller's. Releasing twice is harmless. */
void ordering_order_release(struct ordering_order *o);

/* The book's domain.CreateOrder: a new pending order with no shopping list and no invoice.
 * Checks, in the book's order: at least one item ("the order has no items"), customer id not
 * blank, payment id not blank; then id not blank and every id at most ORDERING_ID_MAX long.
 * All arguments are borrowed; ids and items are copied. o must be initialized; on success its
 * previous content is released and replaced, on failure o is unchanged.
 * Records no event yet: see ordering_order_record_created().
 * Errors: CORE_ERR_INVALID (texts above), CORE_ERR_NOMEM. */
core_status ordering_order_create(struct ordering_order *o, const char *id, const char *customer_id,
                                  const char *payment_id, const struct ordering_item *items,
                                  size_t nitems, core_err *err);

/* Records ordering.OrderCreated {customer_id, payment_id, shopping_id, items} for an order made
 * by ordering_order_create() whose shopping list id is set (ordering_order_set_shopping_id()).
 * The book records OrderCreated inside CreateOrder with a pointer to the order, so its handlers
 * see the shopping id stored afterwards; a data payload is a copy taken now, so here creating an
 * order ends with this call, once depot has scheduled the shopping. CORE_ERR_NOMEM: nothing
 * recorded. */
core_status ordering_order_record_created(struct ordering_order *o, core_err *err);

/* Cancels a pending order (status "cancelled") and records ordering.OrderCanceled. Any other
 * status: CORE_ERR_INVALID "the order cannot be cancelled", o unchanged. */
core_status ordering_order_cancel(struct ordering_order *o, core_err *err);

/* Marks the order "ready" (its shopping list was completed) and records ordering.OrderReadied
 * with the order's total. As in the book, from any status. CORE_ERR_NOMEM: o unchanged. */
core_status ordering_order_ready(struct ordering_order *o, core_err *err);

/* Marks the order "completed" (its invoice was paid), as in the book from any status, and
 * records ordering.OrderCompleted with the order's invoice id.
 * invoice_id (borrowed, copied) replaces the stored invoice id unless it is blank, in which case
 * the id stored by ready-order is kept. An invoice id longer than ORDERING_ID_MAX:
 * CORE_ERR_INVALID "the invoice id is too long", o unchanged. */
core_status ordering_order_complete(struct ordering_order *o, const char *invoice_id,
                                    core_err *err);

/* Records the id of the order's shopping list (depot) / invoice (payments). id is borrowed and
 * copied; longer than ORDERING_ID_MAX: CORE_ERR_INVALID "the shopping id is too long" / "the
 * invoice id is too long", o unchanged. */
core_status ordering_order_set_shopping_id(struct ordering_order *o, const char *id, core_err *err);
core_status ordering_order_set_invoice_id(struct ordering_order *o, const char *id, core_err *err);

/* Replaces the order's items by copies of items[0..nitems) (borrowed). No rule is checked: this
 * is how a repository restores a stored order. On CORE_ERR_NOMEM o is unchanged. */
core_status ordering_order_set_items(struct ordering_order *o, const struct ordering_item *items,
                                     size_t nitems, core_err *err);

/* Deep copy of src into dst (initialized; its previous content is released on success). The
 * recorded events are not copied: dst has none. On CORE_ERR_NOMEM dst is unchanged. */
core_status ordering_order_copy(struct ordering_order *dst, const struct ordering_order *src,
                                core_err *err);

/* The book's GetTotal: the sum of price * quantity over the items. */
double ordering_order_total(const struct ordering_order *o);

#endif /* ORDERING_DOMAIN_H */
