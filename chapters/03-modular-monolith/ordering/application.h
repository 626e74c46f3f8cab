/* application.h -- the ordering module's commands and queries (the book's ordering application).
 *
 * Layer: application. Each function loads what it needs through a port, applies the domain rule
 * (domain.h), calls the other modules in the book's order and saves the order LAST, so a
 * failing step leaves the stored order as it was. Errors of the ports and of the domain are
 * passed up unchanged (same status, same message), so a customer module's NOT_FOUND reaches the
 * REST client as a 404 with customers' own message.
 *
 * Ports: struct ordering_app holds one ops struct per dependency -- the order repository
 * (postgres.c) and the four modules ordering calls (clients.c). Unit tests fill them with fakes.
 * Every port's `self` is passed back unchanged as the first argument. All strings a port
 * receives are borrowed for the call.
 *
 * Logging: the book's logging decorator ("-->" and "<--" records at debug level) is the core's:
 * rpc_invoke() logs every call of the module's RPC methods (rpc.h, "Logging").
 *
 * Thread-safety: the app keeps no state of its own; it is as thread-safe as its ports (the real
 * ones are: pg_pool and rpc_client are thread-safe).
 */
#ifndef ORDERING_APPLICATION_H
#define ORDERING_APPLICATION_H

#include <stddef.h>

#include "core.h"
#include "ordering/domain.h"

/* The order repository (table ordering.orders). */
struct ordering_order_repo {
    void *self;
    /* Loads order id into *out (initialized by the caller; its previous content is released on
     * success). Unknown id: CORE_ERR_NOT_FOUND "order <id> not found". */
    core_status (*find)(void *self, const char *id, struct ordering_order *out, core_err *err);
    /* Inserts a new order. An order with the same id exists: CORE_ERR_CONFLICT. */
    core_status (*save)(void *self, const struct ordering_order *order, core_err *err);
    /* Overwrites a stored order. Unknown id: CORE_ERR_NOT_FOUND. */
    core_status (*update)(void *self, const struct ordering_order *order, core_err *err);
};

/* customers: may this customer place orders? (AuthorizeCustomer) */
struct ordering_customers {
    void *self;
    core_status (*authorize)(void *self, const char *customer_id, core_err *err);
};

/* payments: the payment authorization exists (ConfirmPayment); a new invoice for a ready order
 * (CreateInvoice), whose id is written to invoice_id (ORDERING_ID_SIZE bytes). */
struct ordering_payments {
    void *self;
    core_status (*confirm)(void *self, const char *payment_id, core_err *err);
    core_status (*create_invoice)(void *self, const char *order_id, const char *payment_id,
                                  double amount, char *invoice_id, core_err *err);
};

/* depot: the shopping list of an order (CreateShoppingList, whose id is written to shopping_id,
 * ORDERING_ID_SIZE bytes) and its cancellation (CancelShoppingList). order is borrowed. */
struct ordering_depot {
    void *self;
    core_status (*create_shopping_list)(void *self, const struct ordering_order *order,
                                        char *shopping_id, core_err *err);
    core_status (*cancel_shopping_list)(void *self, const char *shopping_id, core_err *err);
};

/* notifications: tell the customer about the order (NotifyOrderCreated/Canceled/Ready). */
struct ordering_notifications {
    void *self;
    core_status (*order_created)(void *self, const char *order_id, const char *customer_id,
                                 core_err *err);
    core_status (*order_canceled)(void *self, const char *order_id, const char *customer_id,
                                  core_err *err);
    core_status (*order_ready)(void *self, const char *order_id, const char *customer_id,
                               core_err *err);
};

/* The application: its ports, filled by the caller (module.c or a test) and borrowed by every
 * call. Plain value; no init or release needed. */
struct ordering_app {
    struct ordering_order_repo orders;
    struct ordering_customers customers;
    struct ordering_payments payments;
    struct ordering_depot depot;
    struct ordering_notifications notifications;
};

/* CreateOrder: a blank id is replaced by a new UUID; the domain rules are checked
 * (ordering_order_create); an existing order with that id is CORE_ERR_CONFLICT "order <id>
 * already exists" (checked before any other module is called); then customers.authorize ->
 * payments.confirm -> depot.create_shopping_list (its id is stored on the order) ->
 * notifications.order_created -> orders.save with status "pending". The order's id is written to
 * id_out (ORDERING_ID_SIZE bytes) on success. When the save fails (e.g. a racing checkout saved
 * the same order id first), the shopping list just created is cancelled (best effort) and the
 * save's error is returned. items (nitems entries) and all strings are borrowed. */
core_status ordering_app_create_order(struct ordering_app *app, const char *id,
                                      const char *customer_id, const char *payment_id,
                                      const struct ordering_item *items, size_t nitems,
                                      char *id_out, core_err *err);

/* CancelOrder: orders.find -> cancel (only a pending order, else "the order cannot be
 * cancelled") -> depot.cancel_shopping_list -> notifications.order_canceled -> orders.update. */
core_status ordering_app_cancel_order(struct ordering_app *app, const char *id, core_err *err);

/* ReadyOrder (called by depot when the shopping list is completed): orders.find -> ready ->
 * notifications.order_ready -> payments.create_invoice(order id, payment id, total) -> the
 * invoice id is stored on the order -> orders.update. */
core_status ordering_app_ready_order(struct ordering_app *app, const char *id, core_err *err);

/* CompleteOrder (called by payments when the invoice is paid): orders.find -> complete with
 * invoice_id (a blank one keeps the stored invoice id) -> orders.update. */
core_status ordering_app_complete_order(struct ordering_app *app, const char *id,
                                        const char *invoice_id, core_err *err);

/* GetOrder: the stored order, written to *out (initialized by the caller; release it with
 * ordering_order_release). Unknown id: CORE_ERR_NOT_FOUND "order <id> not found". */
core_status ordering_app_get_order(struct ordering_app *app, const char *id,
                                   struct ordering_order *out, core_err *err);

#endif /* ORDERING_APPLICATION_H */
