/* customers/events.h -- the customers module's INTEGRATION events (chapter 07): the channel,
 * message names and payload types that other modules consume from the stream (the book's
 * customers/customerspb/events.go). The payloads are in proto/customers/events.proto.
 *
 * Layer: the module's published contract. Other modules include this header to subscribe;
 * nothing else of the customers module is visible to them.
 *
 *   channel CUSTOMERS_CUSTOMER_CHANNEL "mallbots.customers.events.Customer"
 *     "customersapi.CustomerRegistered"  Customersapi__CustomerRegistered{id, name, sms_number}
 *     "customersapi.CustomerSmsChanged"  Customersapi__CustomerSmsChanged{id, sms_number}
 *     "customersapi.CustomerEnabled"     Customersapi__CustomerEnabled{id}
 *     "customersapi.CustomerDisabled"    Customersapi__CustomerDisabled{id}
 *
 * `id` in the payload is the customer's id. The message id of each integration event is the id
 * of the domain event it announces (customers/domain.h), as for the stores' events: publishing
 * the same domain event twice stores one message. customers.CustomerAuthorized is not announced
 * (the book's neither).
 */
#ifndef CUSTOMERS_EVENTS_H
#define CUSTOMERS_EVENTS_H

#include "core.h"
#include "customers/events.pb-c.h"
#include "es.h"

#define CUSTOMERS_CUSTOMER_CHANNEL "mallbots.customers.events.Customer"

#define CUSTOMERSAPI_CUSTOMER_REGISTERED "customersapi.CustomerRegistered"
#define CUSTOMERSAPI_CUSTOMER_SMS_CHANGED "customersapi.CustomerSmsChanged"
#define CUSTOMERSAPI_CUSTOMER_ENABLED "customersapi.CustomerEnabled"
#define CUSTOMERSAPI_CUSTOMER_DISABLED "customersapi.CustomerDisabled"

/* Registers the four integration event names above with their payload types and channels in reg
 * (the consumer's registry: am_event_subscribe decodes a message through it). A name already in reg
 * -> CORE_ERR_CONFLICT; CORE_ERR_NOMEM. */
core_status customers_register_integration_types(es_registry *reg, core_err *err);

#endif /* CUSTOMERS_EVENTS_H */
