/* payments/commands.h -- the payments module's COMMAND (chapter 08): the channel, consumer
 * group, message name and payload type (the book's payments/paymentspb, commands part). The
 * payload is in proto/payments/commands.proto.
 *
 * Layer: the module's published contract. The saga (cosec) includes this header to send the
 * command; nothing else of the payments module is visible to it.
 *
 *   channel PAYMENTS_COMMAND_CHANNEL "mallbots.payments.commands", group
 *   PAYMENTS_COMMANDS_GROUP
 *     "paymentsapi.ConfirmPayment"  Paymentsapi__ConfirmPayment{id, amount}
 *         -> am.Success when payment id exists and its authorized amount covers amount (the
 *            order's total), else am.Failure (am.h)
 */
#ifndef PAYMENTS_COMMANDS_H
#define PAYMENTS_COMMANDS_H

#include "core.h"
#include "es.h"
#include "payments/commands.pb-c.h"

#define PAYMENTS_COMMAND_CHANNEL "mallbots.payments.commands"
#define PAYMENTS_COMMANDS_GROUP "payment-commands"

#define PAYMENTSAPI_CONFIRM_PAYMENT "paymentsapi.ConfirmPayment"

/* Registers the command name above with its payload type in reg. A name already in reg ->
 * CORE_ERR_CONFLICT; CORE_ERR_NOMEM. */
core_status payments_register_command_types(es_registry *reg, core_err *err);

#endif /* PAYMENTS_COMMANDS_H */
