/* application.h -- the notifications module's commands (the book's notifications application).
 *
 * Layer: application. Each command looks the customer up through the customers port and writes
 * the notification that would be sent by SMS as ONE log line at info level, e.g.
 *     INFO  notifications: sending SMS notification=OrderCreated order_id=... customer_name="Buyer
 * #1" sms_number=555-1212 (the book's commands are empty stubs; no SMS provider is connected here
 * either). An error of the customers port -- e.g. CORE_ERR_NOT_FOUND for an unknown customer -- is
 * passed up unchanged and nothing is logged at info level.
 *
 * Logging: the book's logging decorator ("-->" and "<--" records at debug level) is the core's:
 * rpc_invoke() logs every call of the module's RPC methods (rpc.h, "Logging").
 *
 * SENDING (chapter 09). A notification is sent through the sender port: the module's records it as
 * a row of notifications.sent (the SMS a provider would be handed) in the transaction of the
 * message that caused it, together with that message's inbox row, so an order event handled
 * twice cannot send twice; the INFO line is then the trace of the send. No sender (send NULL:
 * the unit tests' apps) is chapter 08's behaviour: the log line only.
 *
 * Thread-safety: no state of its own; as thread-safe as its ports (the real ones are).
 */
#ifndef NOTIFICATIONS_APPLICATION_H
#define NOTIFICATIONS_APPLICATION_H

#include "core.h"

/* What notifications needs to know about a customer (the book's models.Customer). The strings
 * are heap strings (core_malloc) owned by the struct; release with notifications_customer_release.
 */
struct notifications_customer {
    char *name;
    char *sms_number;
};

#define NOTIFICATIONS_CUSTOMER_INIT                                                                \
    {                                                                                              \
        NULL, NULL                                                                                 \
    }

/* Frees the strings and resets *c to NOTIFICATIONS_CUSTOMER_INIT. Releasing twice is harmless. */
void notifications_customer_release(struct notifications_customer *c);

/* customers: looks a customer up (GetCustomer). On success *out (initialized by the caller) is
 * filled with strings the caller releases; on failure it is left empty. customer_id is borrowed. */
struct notifications_customers {
    void *self;
    core_status (*find)(void *self, const char *customer_id, struct notifications_customer *out,
                        core_err *err);
};

/* One notification, as the sender gets it (strings borrowed for the call). */
struct notifications_sms {
    const char *notification; /* "OrderCreated", "OrderCanceled", "OrderReady", "OrderCompleted" */
    const char *order_id;
    const char *customer_id;
    const char *customer_name;
    const char *sms_number;
};

/* sender (chapter 09): sends (records) one notification. Errors: the sender's (the database's). */
struct notifications_sender {
    void *self;
    core_status (*send)(void *self, const struct notifications_sms *sms, core_err *err);
};

/* The application: its ports, filled by the caller and borrowed by every call. Plain value.
 * sender.send may be NULL (the log line only). */
struct notifications_app {
    struct notifications_customers customers;
    struct notifications_sender sender;
};

/* NotifyOrderCreated / NotifyOrderCanceled / NotifyOrderReady: customers.find(customer_id) ->
 * sender.send (when there is one; its failure is the command's) and one info log line naming the
 * notification (OrderCreated, OrderCanceled, OrderReady), the order id, the customer's name and SMS
 * number. Both ids are borrowed. */
core_status notifications_app_notify_order_created(struct notifications_app *app,
                                                   const char *order_id, const char *customer_id,
                                                   core_err *err);
core_status notifications_app_notify_order_canceled(struct notifications_app *app,
                                                    const char *order_id, const char *customer_id,
                                                    core_err *err);
core_status notifications_app_notify_order_ready(struct notifications_app *app,
                                                 const char *order_id, const char *customer_id,
                                                 core_err *err);

/* NotifyOrderCompleted (chapter 07, on ordersapi.OrderCompleted; the book's handler does
 * nothing): the same, notification OrderCompleted. Not an RPC. */
core_status notifications_app_notify_order_completed(struct notifications_app *app,
                                                     const char *order_id, const char *customer_id,
                                                     core_err *err);

#endif /* NOTIFICATIONS_APPLICATION_H */
