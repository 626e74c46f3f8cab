/* depot/commands.h -- the depot module's COMMANDS and their typed reply (chapter 08): the
 * channel, consumer group, message names and payload types (the book's depot/depotpb, commands
 * part). The payloads are in proto/depot/commands.proto.
 *
 * Layer: the module's published contract. The saga (cosec) includes this header to send the
 * commands and read the reply; nothing else of the depot module is visible to it.
 *
 *   channel DEPOT_COMMAND_CHANNEL "mallbots.depot.commands", group DEPOT_COMMANDS_GROUP
 *     "depotapi.CreateShoppingListCommand"  Depotapi__CreateShoppingList{order_id,
 * items[product_id, store_id, quantity]}
 *                                        -> "depotapi.CreatedShoppingListReply"
 *                                           Depotapi__CreatedShoppingList{id} (the list's id)
 *     "depotapi.CancelShoppingListCommand"  Depotapi__CancelShoppingList{id}  -> am.Success
 *     "depotapi.InitiateShoppingCommand"    Depotapi__InitiateShopping{id}    -> am.Success
 * A broken rule is answered am.Failure (am.h); depot/handlers.h says what each command does.
 */
#ifndef DEPOT_COMMANDS_H
#define DEPOT_COMMANDS_H

#include "core.h"
#include "depot/commands.pb-c.h"
#include "es.h"

#define DEPOT_COMMAND_CHANNEL "mallbots.depot.commands"
#define DEPOT_COMMANDS_GROUP "depot-commands"

#define DEPOTAPI_CREATE_SHOPPING_LIST_COMMAND "depotapi.CreateShoppingListCommand"
#define DEPOTAPI_CANCEL_SHOPPING_LIST_COMMAND "depotapi.CancelShoppingListCommand"
#define DEPOTAPI_INITIATE_SHOPPING_COMMAND "depotapi.InitiateShoppingCommand"
#define DEPOTAPI_CREATED_SHOPPING_LIST_REPLY "depotapi.CreatedShoppingListReply"

/* Registers the three command names and the reply name above with their payload types in reg
 * (the registry am_command_subscribe and am_reply_subscribe decode through). A name already in
 * reg -> CORE_ERR_CONFLICT; CORE_ERR_NOMEM. */
core_status depot_register_command_types(es_registry *reg, core_err *err);

#endif /* DEPOT_COMMANDS_H */
