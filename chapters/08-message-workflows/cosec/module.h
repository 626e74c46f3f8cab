/* cosec/module.h -- the cosec module (chapter 08): the orchestrator of the create-order saga.
 *
 * Bounded context: the order's creation as a conversation between modules. cosec owns no
 * entity and serves no API: it reacts to ordersapi.OrderCreated by starting the saga
 * "cosec.CreateOrder" for the order (saga id = order id), which sends its commands to
 * customers, depot, payments and ordering and walks on with their replies (cosec/saga.h).
 *
 * Layer: module (composition). This is the module's ONLY public header; main() starts it through
 * cosec_module. Everything else under cosec/ is private to the module and its tests.
 *
 * Consumes: ordersapi.OrderCreated on mallbots.ordering.events.Order (group cosec-ordering), the
 * replies on mallbots.cosec.replies.CreateOrder (group cosec-replies).
 * Sends: customersapi.AuthorizeCustomer, depotapi.CreateShoppingListCommand,
 * CancelShoppingListCommand, InitiateShoppingCommand, paymentsapi.ConfirmPayment,
 * ordersapi.ApproveOrder, RejectOrder.
 * Tables: cosec.sagas (migrations/013_cosec.sql), one row per saga, written after every step.
 *
 * Thread-safety: startup/shutdown from main's thread; the stream calls the handlers from its
 * own threads, one message of a group at a time.
 */
#ifndef COSEC_MODULE_H
#define COSEC_MODULE_H

#include "monolith/monolith.h"

extern const struct module cosec_module;

#endif /* COSEC_MODULE_H */
