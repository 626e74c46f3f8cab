/* application.h -- the ordering module's commands and queries (the book's ordering application).
 *
 * Layer: application. Each function loads the order from its events (chapter 05: es_repo_load,
 * the latest snapshot plus the events after it), applies the domain rule (domain.h), which raises
 * a domain event on the order, calls the other modules the command still needs itself
 * (CreateOrder: customers, payments, depot; CancelOrder: depot) and saves the order with
 * es_repo_save: the new events are appended to ordering.events at the version the order was
 * loaded at, and ONLY after that the repository publishes them with the module's dispatcher
 * (chapter 04). The side effects the book moved out of the commands run in the event handlers
 * (handlers.h): notifications and the invoice. A failing step before the save leaves the stored
 * order as it was. Errors of the ports and of the domain are passed up unchanged (same status,
 * same message), so a customer module's NOT_FOUND reaches the REST client as a 404 with customers'
 * own message. An id with no events is CORE_ERR_NOT_FOUND "order <id> not found".
 *
 * A handler's failure is returned by the command too (the dispatcher wraps its message:
 * "<handlers> on <event>: <message>"), but the order's events are already stored at that point
 * and stay so: the change and its side effects are two writes without a transaction around them
 * -- the dual-write problem the book solves with an outbox in chapter 09.
 *
 * Optimistic concurrency (chapter 05): when someone else appended to the order between this
 * command's load and its save, nothing is stored and the command fails with CORE_ERR_CONFLICT
 * (HTTP 409) "saving order <id>: ordering.Order <id> was changed by someone else (expected version
 * E, stored version S)"; the caller may send the request again.
 *
 * Ports: struct ordering_app holds the order repository (an es_repo of ordering_order_type over
 * the PostgreSQL event store, with the module's dispatcher as its publisher; the unit tests use
 * the in-memory store) and one ops struct per module its commands call (clients.c), which unit
 * tests fill with fakes. Every port's `self` is passed back unchanged as the first argument. All
 * strings a port receives are borrowed for the call.
 *
 * Logging: every command and query logs "--> Ordering.X" on entry and "<-- Ordering.X" (with the
 * error, if any) on exit at debug level, as the book's logging decorator does.
 *
 * Thread-safety: the app keeps no state of its own; it is as thread-safe as its ports (the real
 * ones are: pg_pool and rpc_client are thread-safe).
 */
#ifndef ORDERING_APPLICATION_H
#define ORDERING_APPLICATION_H

#include <stddef.h>

#include "core.h"
#include "es.h"
#include "ordering/domain.h"

/* customers: may this customer place orders? (AuthorizeCustomer) */
struct ordering_customers {
    void *self;
    core_status (*authorize)(void *self, const char *customer_id, core_err *err);
};

/* payments: the payment authorization exists (ConfirmPayment, called by CreateOrder); a new
 * invoice for a ready order (CreateInvoice, called by the InvoiceHandlers), whose id is written
 * to invoice_id (ORDERING_ID_SIZE bytes). */
struct ordering_payments {
    void *self;
    core_status (*confirm)(void *self, const char *payment_id, core_err *err);
    core_status (*create_invoice)(void *self, const char *order_id, const char *payment_id,
                                  double amount, char *invoice_id, core_err *err);
};

/* depot: the shopping list of an order (CreateShoppingList, for the order id and its items[0..
 * nitems), whose id is written to shopping_id, ORDERING_ID_SIZE bytes) and its cancellation
 * (CancelShoppingList). Chapter 05: the list is made before the order exists (OrderCreated
 * carries its id), so the port takes the order's data rather than an order. */
struct ordering_depot {
    void *self;
    core_status (*create_shopping_list)(void *self, const char *order_id,
                                        const struct ordering_item *items, size_t nitems,
                                        char *shopping_id, core_err *err);
    core_status (*cancel_shopping_list)(void *self, const char *shopping_id, core_err *err);
};

/* notifications: tell the customer about the order (NotifyOrderCreated/Canceled/Ready); the
 * port of the NotificationHandlers (handlers.h). */
struct ordering_notifications {
    void *self;
    core_status (*order_created)(void *self, const char *order_id, const char *customer_id,
                                 core_err *err);
    core_status (*order_canceled)(void *self, const char *order_id, const char *customer_id,
                                  core_err *err);
    core_status (*order_ready)(void *self, const char *order_id, const char *customer_id,
                               core_err *err);
};

/* The application: the order repository and its ports, filled by the caller (module.c or a
 * test) and borrowed by every call. Plain value; no init or release needed. */
struct ordering_app {
    es_repo *orders; /* of ordering_order_type; publishes each save's events (its dispatcher) */
    struct ordering_customers customers;
    struct ordering_payments payments;
    struct ordering_depot depot;
};

/* CreateOrder: a blank id is replaced by a new UUID; the domain rules are checked
 * (ordering_order_check_new); an existing order with that id is CORE_ERR_CONFLICT "order <id>
 * already exists" (checked before any other module is called); then customers.authorize ->
 * payments.confirm -> depot.create_shopping_list -> ordering_order_create raises OrderCreated
 * (status "pending", with the shopping list's id) -> saved (appended as version 1, then published:
 * the notification is sent by a handler). The order's id is written to id_out (ORDERING_ID_SIZE
 * bytes) once the order is stored, even when a handler then fails. When nothing was stored, the
 * shopping list just created is cancelled (best effort) and the save's error is returned. items
 * (nitems entries) and all strings are borrowed. */
core_status ordering_app_create_order(struct ordering_app *app, const char *id,
                                      const char *customer_id, const char *payment_id,
                                      const struct ordering_item *items, size_t nitems,
                                      char *id_out, core_err *err);

/* CancelOrder: load -> cancel (only a pending order, else "the order cannot be cancelled") ->
 * depot.cancel_shopping_list -> save (OrderCanceled appended and published). */
core_status ordering_app_cancel_order(struct ordering_app *app, const char *id, core_err *err);

/* ReadyOrder (called by depot's handlers when the shopping list is completed): load -> ready ->
 * save (OrderReadied appended and published; its handlers notify the customer and create the
 * invoice, whose id they store with ordering_app_record_invoice). */
core_status ordering_app_ready_order(struct ordering_app *app, const char *id, core_err *err);

/* Stores the id of the order's invoice (called by the InvoiceHandlers once payments created it):
 * load -> ordering_order_record_invoice -> save (ordering.OrderInvoiced appended and published;
 * chapter 05: an event-sourced order changes only by events). Errors: not found, "the invoice id
 * cannot be blank", "the invoice id is too long", the repository's. */
core_status ordering_app_record_invoice(struct ordering_app *app, const char *id,
                                        const char *invoice_id, core_err *err);

/* CompleteOrder (called by payments when the invoice is paid): load -> complete with
 * invoice_id (a blank one keeps the stored invoice id) -> save (OrderCompleted appended and
 * published; no handler in chapter 05). */
core_status ordering_app_complete_order(struct ordering_app *app, const char *id,
                                        const char *invoice_id, core_err *err);

/* GetOrder: the order rebuilt from its snapshot and events, written to *out (ORDERING_ORDER_INIT
 * by the caller; release it with ordering_order_release, also on failure). Unknown id:
 * CORE_ERR_NOT_FOUND "order <id> not found". */
core_status ordering_app_get_order(struct ordering_app *app, const char *id,
                                   struct ordering_order *out, core_err *err);

#endif /* ORDERING_APPLICATION_H */
