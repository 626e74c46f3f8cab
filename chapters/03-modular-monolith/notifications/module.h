/* module.h -- the notifications module: tells customers about their orders.
 *
 * Bounded context: customer notifications. Ordering calls it when an order is created,
 * cancelled or ready; it looks the customer up and "sends" an SMS, which in this workspace is one
 * info log line naming the notification, the order id, the customer's name and SMS number (the
 * book's chapter 03 leaves the three commands empty).
 *
 * Calls: customers.GetCustomer (name and SMS number of the order's customer).
 * Called by: ordering (NotifyOrderCreated, NotifyOrderCanceled, NotifyOrderReady; RPC only).
 * Tables: none. REST routes: none.
 *
 * Layer: composition. Thread-safety: startup/shutdown from main() only; the running module is
 * thread-safe.
 */
#ifndef NOTIFICATIONS_MODULE_H
#define NOTIFICATIONS_MODULE_H

#include "monolith/monolith.h"

extern const struct module notifications_module;

#endif /* NOTIFICATIONS_MODULE_H */
