/* cosec/saga.h -- the create-order saga (the book's cosec/internal/saga.go): its definition for
 * the core's orchestrator (sec.h) and the start from an OrderCreated.
 *
 * Layer: application. The saga "cosec.CreateOrder" keeps a cosec.CreateOrderData
 * (proto/cosec/saga.proto) and walks these steps; each action is a command to one module, whose
 * reply decides whether the saga goes on or turns back:
 *
 *   step  action (command -> channel)                              compensation
 *   0     -                                                         ordersapi.RejectOrder
 *   1     customersapi.AuthorizeCustomer -> mallbots.customers.commands   -
 *   2     depotapi.CreateShoppingListCommand -> mallbots.depot.commands
 * depotapi.CancelShoppingListCommand (reply depotapi.CreatedShoppingListReply: data.shopping_id) 3
 * paymentsapi.ConfirmPayment (amount = data.total) -> mallbots.payments.commands   - 4
 * depotapi.InitiateShoppingCommand -> mallbots.depot.commands     - 5     ordersapi.ApproveOrder ->
 * mallbots.ordering.commands           -
 *
 * All replies come back on COSEC_REPLY_CHANNEL. A failure at step k runs the compensations of the
 * steps before k, last first: a failure at 3 (the payment does not cover the total) cancels the
 * shopping list (2) and rejects the order (0); a failure at 1 (the customer is disabled) only
 * rejects the order.
 */
#ifndef COSEC_SAGA_H
#define COSEC_SAGA_H

#include "core.h"
#include "ddd.h"
#include "sec.h"

#define COSEC_CREATE_ORDER_SAGA "cosec.CreateOrder"
#define COSEC_REPLY_CHANNEL "mallbots.cosec.replies.CreateOrder"
#define COSEC_REPLIES_GROUP "cosec-replies"
#define COSEC_ORDERING_GROUP "cosec-ordering"
#define COSEC_CREATE_ORDER_DATA "cosec.CreateOrderData" /* the data's name in the registry */

/* The saga's definition (static; its steps need no user data). */
extern const struct sec_saga cosec_create_order_saga;

/* The saga's data for an order, from the ordersapi.OrderCreated event (borrowed): order,
 * customer and payment ids, the items and their total. *out: a new message (pb_free).
 * An event of another type, or without an order id -> CORE_ERR_INVALID. */
core_status cosec_data_from_order_created(const ddd_event *event, ProtobufCMessage **out,
                                          core_err *err);

#endif /* COSEC_SAGA_H */
