/* customers/handlers.h -- the customers module's domain event handlers (chapter 07; the book's
 * customers/internal/handlers/integration_events.go).
 *
 * Layer: application. "customers.IntegrationEventHandlers" subscribe to the customers' domain
 * events (customers/domain.h) on the module's dispatcher and publish each one as an integration
 * event on the stream (customers/events.h), with the domain event's id and time:
 *     customers.CustomerRegistered  -> customersapi.CustomerRegistered {id, name, sms_number}
 *     customers.CustomerSmsChanged  -> customersapi.CustomerSmsChanged {id, sms_number}
 *     customers.CustomerEnabled     -> customersapi.CustomerEnabled    {id}
 *     customers.CustomerDisabled    -> customersapi.CustomerDisabled   {id}
 * The customer's id is the event's metadata "aggregate-id".
 *
 * Errors: a publish waits for the stream's acknowledgement (am_event_publish); its failure is the
 * command's failure, with the customer already saved: CORE_ERR_UNAVAILABLE carries the public
 * text "the change was saved but not published: the message broker is unavailable" (HTTP 503),
 * as the stores' (chapter 06). An event without an "aggregate-id" or with a payload of another
 * type is CORE_ERR_INTERNAL.
 *
 * Thread-safety: the handlers keep no state; the stream is thread-safe.
 */
#ifndef CUSTOMERS_HANDLERS_H
#define CUSTOMERS_HANDLERS_H

#include "am.h"
#include "core.h"
#include "ddd.h"

/* Subscribes the IntegrationEventHandlers to the four domain events on d; they publish on stream
 * (borrowed; must outlive d). Errors: CORE_ERR_NOMEM. */
core_status customers_register_integration_handlers(ddd_dispatcher *d, am_stream *stream,
                                                    core_err *err);

#endif /* CUSTOMERS_HANDLERS_H */
