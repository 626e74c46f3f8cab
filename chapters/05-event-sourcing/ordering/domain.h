/* domain.h -- the ordering module's domain: an order and the rules of its lifecycle.
 *
 * Layer: domain (pure C, no I/O). The C counterpart of the book's ordering/internal/domain.
 *
 * An order is created from the items of a checked-out basket, for a customer and a payment
 * authorization. It starts "pending"; it can be cancelled only while pending; it becomes "ready"
 * when its shopping list is completed and "completed" when its invoice is paid. Every change
 * checks the status it starts from (the book's ready and complete check none, so an order could
 * be completed while pending and readied again once completed: docs/ERRATA.md, D?rules-1):
 *     cancel            pending                  -> cancelled
 *     ready             pending or in-progress   -> ready
 *     record_invoice    ready (no other invoice)    (the invoice payments made for the order)
 *     complete          ready, with its invoice  -> completed
 * ("in-progress" exists as a status but no operation sets it yet.) The rules live in the
 * functions that raise the events; applying an event checks no rule, so that every stored
 * history loads as it was recorded.
 *
 * Event sourcing (chapter 05): an order is an event-sourced aggregate (struct es_aggregate,
 * es.h, named "ordering.Order"): its state is the sum of its events. Each rule first VALIDATES,
 * then RAISES what happened as an event whose payload is a message of
 * ordering/domain_events.proto, stamped with metadata "aggregate-id" = the order's id; raising
 * applies the event at once (ordering_order_type.apply), and the same apply rebuilds the order
 * when the repository loads its events:
 *     ordering.OrderCreated   {customer_id, payment_id, shopping_id, items}  (create)
 *                             -> those fields set, no invoice, status "pending"
 *     ordering.OrderCanceled  {customer_id, payment_id}                      (cancel)
 *                             -> status "cancelled"
 *     ordering.OrderReadied   {customer_id, payment_id, total}               (ready)
 *                             -> status "ready"
 *     ordering.OrderInvoiced  {invoice_id}                                   (record_invoice)
 *                             -> invoice id set (a workspace addition, see domain_events.proto)
 *     ordering.OrderCompleted {invoice_id}                                   (complete)
 *                             -> invoice id set, status "completed"
 * An unknown event name or a payload of another type is CORE_ERR_INTERNAL. Snapshots:
 * "ordering.OrderV1" (proto/ordering/snapshots.proto) holds every field but the id.
 * The raised events stay in o->agg until the repository saves (appends) and publishes them. The
 * id lives in o->id (as in chapter 03) and mirrors o->agg.base.id: a rule copies o->id into the
 * aggregate before it raises, and applying an event or a snapshot copies the aggregate's id (set
 * by es_repo_load) into o->id. Departure from the book, whose chapter-04 events carry a pointer to
 * the order: a payload here is a copy of the data (see domain_events.proto). A rule can
 * therefore also fail with CORE_ERR_NOMEM; it then leaves the order unchanged and raises nothing.
 *
 * Rule violations return CORE_ERR_INVALID with the book's texts:
 *     "the order has no items", "the customer id cannot be blank",
 *     "the payment id cannot be blank", "the order cannot be cancelled",
 *     "the order cannot be recreated"
 * and, workspace additions, "the order id cannot be blank", "the invoice id cannot be blank",
 * "the <x> id is too long" for an id longer than ORDERING_ID_MAX characters, the status rules
 * "the order cannot be readied", "the order is not ready", "the order already has an invoice",
 * "the order cannot be completed", "the invoice is not the order's invoice", and the amount
 * rules of ordering_order_check_new (D?rules-4).
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
#include "es.h"

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
#define ORDERING_ORDER_INVOICED "ordering.OrderInvoiced"
/* The snapshot's name (proto/ordering/snapshots.proto). */
#define ORDERING_ORDER_V1 "ordering.OrderV1"

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
 * NULL). As an input (ordering_order_check_new, ordering_order_create) the strings are borrowed
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
    struct es_aggregate agg; /* version, and the events raised since the load */
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
        ES_AGGREGATE_INIT(ORDERING_ORDER_AGGREGATE), {0}, {0}, {0}, {0}, {0}, NULL, 0,             \
            ORDERING_STATUS_UNKNOWN                                                                \
    }

/* The order as an event-sourced aggregate (es.h): name "ordering.Order", apply (above), snapshot
 * "ordering.OrderV1". For es_repo_new(). */
extern const struct es_aggregate_type ordering_order_type;

/* Registers the five event names and the snapshot name with their message types in reg (the
 * module's registry, and the tests'). Errors of es_registry_add (a name registered twice:
 * CORE_ERR_CONFLICT). */
core_status ordering_register_types(es_registry *reg, core_err *err);

/* Sets *o to ORDERING_ORDER_INIT. */
void ordering_order_init(struct ordering_order *o);

/* Frees the order's items and the events it still holds, and resets it to ORDERING_ORDER_INIT;
 * the struct itself is the caller's. Releasing twice is harmless. */
void ordering_order_release(struct ordering_order *o);

/* Largest amount an order may carry: an item's price and the order's total (the invoice of the
 * order is stored in a decimal(9,4) column, payments' PAYMENTS_AMOUNT_MAX). */
#define ORDERING_AMOUNT_MAX 99999.9999

/* The rules of a new order, checked before anything happens (the application checks them before
 * it calls other modules; ordering_order_create checks them again). In the book's order: at least
 * one item ("the order has no items"), customer id not blank, payment id not blank; then id not
 * blank and every id at most ORDERING_ID_MAX long; then the amounts (workspace additions,
 * D?rules-4), item by item: "the item quantity must be positive", "the item price cannot be
 * negative" (also NaN), "the item price cannot be over 99999.9999"; and last "the order total
 * cannot be over 99999.9999" (the total could not be invoiced, so the order could never become
 * ready). All borrowed. Errors: CORE_ERR_INVALID. */
core_status ordering_order_check_new(const char *id, const char *customer_id,
                                     const char *payment_id, const struct ordering_item *items,
                                     size_t nitems, core_err *err);

/* The book's domain.CreateOrder: raises ordering.OrderCreated {customer_id, payment_id,
 * shopping_id, items} on the new order o (INIT, or loaded empty), which becomes "pending" with
 * those ids and copies of the items, and no invoice. shopping_id is the depot's shopping list,
 * created before the order (a data payload is a copy, so it must be known when the event is
 * raised). Checks: o already created (any status) -> "the order cannot be recreated"; the rules
 * of ordering_order_check_new; shopping id at most ORDERING_ID_MAX long ("the shopping id is too
 * long"). All arguments are borrowed. On failure o is unchanged and nothing is raised.
 * Errors: CORE_ERR_INVALID (texts above), CORE_ERR_NOMEM. */
core_status ordering_order_create(struct ordering_order *o, const char *id, const char *customer_id,
                                  const char *payment_id, const char *shopping_id,
                                  const struct ordering_item *items, size_t nitems, core_err *err);

/* Cancels a pending order (status "cancelled"): raises ordering.OrderCanceled. Any other
 * status: CORE_ERR_INVALID "the order cannot be cancelled", o unchanged. */
core_status ordering_order_cancel(struct ordering_order *o, core_err *err);

/* Marks a pending or in-progress order "ready" (its shopping list was completed): raises
 * ordering.OrderReadied with the order's total. Any other status: CORE_ERR_INVALID "the order
 * cannot be readied". On failure (CORE_ERR_NOMEM too) o is unchanged and nothing is raised. */
core_status ordering_order_ready(struct ordering_order *o, core_err *err);

/* Marks a ready order "completed" (its invoice was paid): raises ordering.OrderCompleted with
 * the order's invoice id. Rules, in this order, each a CORE_ERR_INVALID that leaves o unchanged
 * and raises nothing: status not ready: "the order cannot be completed"; invoice_id (borrowed)
 * longer than ORDERING_ID_MAX: "the invoice id is too long"; invoice_id not blank and the order
 * has another invoice: "the invoice is not the order's invoice"; neither invoice_id nor the
 * order has one: "the invoice id cannot be blank". The event carries invoice_id when the order
 * had none; blank keeps the recorded one. */
core_status ordering_order_complete(struct ordering_order *o, const char *invoice_id,
                                    core_err *err);

/* Records the id of the order's invoice (payments created it for the ready order): raises
 * ordering.OrderInvoiced {invoice_id}, which sets o->invoice_id. invoice_id is borrowed. Rules
 * (CORE_ERR_INVALID, o unchanged, nothing raised): blank: "the invoice id cannot be blank";
 * longer than ORDERING_ID_MAX: "the invoice id is too long"; status not ready: "the order is not
 * ready"; the order has another invoice already: "the order already has an invoice" (the same id
 * again is accepted and raises the event again). */
core_status ordering_order_record_invoice(struct ordering_order *o, const char *invoice_id,
                                          core_err *err);

/* The book's GetTotal: the sum of price * quantity over the items. */
double ordering_order_total(const struct ordering_order *o);

#endif /* ORDERING_DOMAIN_H */
