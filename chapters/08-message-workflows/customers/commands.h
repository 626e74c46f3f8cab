/* customers/commands.h -- the customers module's COMMAND (chapter 08): the channel, consumer
 * group, message name and payload type (the book's customers/customerspb, commands part). The
 * payload is in proto/customers/commands.proto.
 *
 * Layer: the module's published contract. The saga (cosec) includes this header to send the
 * command; nothing else of the customers module is visible to it.
 *
 *   channel CUSTOMERS_COMMAND_CHANNEL "mallbots.customers.commands", group
 *   CUSTOMERS_COMMANDS_GROUP
 *     "customersapi.AuthorizeCustomer"  Customersapi__AuthorizeCustomer{id}
 *         -> am.Success when customer id exists and is enabled, else am.Failure (am.h)
 */
#ifndef CUSTOMERS_COMMANDS_H
#define CUSTOMERS_COMMANDS_H

#include "core.h"
#include "customers/commands.pb-c.h"
#include "es.h"

#define CUSTOMERS_COMMAND_CHANNEL "mallbots.customers.commands"
#define CUSTOMERS_COMMANDS_GROUP "customer-commands"

#define CUSTOMERSAPI_AUTHORIZE_CUSTOMER "customersapi.AuthorizeCustomer"

/* Registers the command name above with its payload type in reg. A name already in reg ->
 * CORE_ERR_CONFLICT; CORE_ERR_NOMEM. */
core_status customers_register_command_types(es_registry *reg, core_err *err);

#endif /* CUSTOMERS_COMMANDS_H */
