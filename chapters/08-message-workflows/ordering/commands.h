/* ordering/commands.h -- the COMMANDS the ordering module answers (chapter 08; the book's
 * ordering/orderingpb/commands.go and internal/handlers/commands.go): the channel, the group, the
 * command names and their payload types (proto/ordering/commands.proto), and the handler.
 *
 * Layer: the module's published contract (the names, for the senders: the create-order saga of
 * cosec) and the driver adapter that turns a command into an application call.
 *
 *   channel ORDERING_COMMAND_CHANNEL "mallbots.ordering.commands", group "ordering-commands"
 *     "ordersapi.ApproveOrder" Ordersapi__ApproveOrder{id, shopping_id}
 *         -> ordering_app_approve_order: pending -> approved, the shopping list recorded,
 *            ordersapi.OrderApproved published                           -> am.Success
 *     "ordersapi.RejectOrder"  Ordersapi__RejectOrder{id}
 *         -> ordering_app_reject_order: pending -> rejected, ordersapi.OrderRejected published
 *                                                                        -> am.Success
 * Neither has a typed reply. The core answers (am.h, "commands and replies"): a broken rule
 * (an unknown order: CORE_ERR_NOT_FOUND; approving a rejected order, rejecting an approved one,
 * a blank shopping id: CORE_ERR_INVALID) is am.Failure at once; an outage (the event store or
 * the broker is away) is retried, and am.Failure only after the group's last delivery.
 *
 * Idempotent (a command whose reply was lost is handled again): approving an order already
 * approved with the same shopping list, or rejecting an order already rejected, changes nothing
 * and answers am.Success again. The one gap: the order was saved but publishing its integration
 * event failed (the broker went away in between); the retry finds the order done and answers
 * am.Success, and the event stays unpublished (the dual-write gap, closed by chapter 09's outbox).
 *
 * Ownership and thread-safety: reg and app are borrowed and must outlive the stream; handlers of
 * one group run one at a time (am.h); the app is thread-safe.
 */
#ifndef ORDERING_COMMANDS_H
#define ORDERING_COMMANDS_H

#include "am.h"
#include "core.h"
#include "es.h"
#include "ordering/application.h"
#include "ordering/commands.pb-c.h"

#define ORDERING_COMMAND_CHANNEL "mallbots.ordering.commands"
#define ORDERING_COMMANDS_GROUP "ordering-commands"

#define ORDERSAPI_APPROVE_ORDER "ordersapi.ApproveOrder"
#define ORDERSAPI_REJECT_ORDER "ordersapi.RejectOrder"

/* Registers the two command names with their payload types in reg (the module has no typed
 * reply). A name already in reg -> CORE_ERR_CONFLICT; CORE_ERR_NOMEM. */
core_status ordering_register_command_types(es_registry *reg, core_err *err);

/* The command handler (am_command_handler_fn), for tests: app is a struct ordering_app; command
 * carries an Ordersapi__ApproveOrder or Ordersapi__RejectOrder (another payload:
 * CORE_ERR_INTERNAL). Never sets *reply. */
core_status ordering_on_command(void *app, const struct am_delivery *d, const ddd_event *command,
                                ddd_event **reply, core_err *err);

/* Subscribes ordering_on_command to ORDERING_COMMAND_CHANNEL as ORDERING_COMMANDS_GROUP
 * (am_command_subscribe), for the two names above. Errors: am_command_subscribe's. */
core_status ordering_subscribe_command_handlers(am_stream *stream, const es_registry *reg,
                                                struct ordering_app *app, core_err *err);

#endif /* ORDERING_COMMANDS_H */
