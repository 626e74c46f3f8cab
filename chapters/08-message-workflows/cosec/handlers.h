/* cosec/handlers.h -- what starts a create-order saga: ordering's ordersapi.OrderCreated (the
 * book's cosec/internal/handlers/integration_events.go).
 *
 * Layer: application (driving side). The saga's id is the order's id (the book uses the event's
 * id: docs/ERRATA.md), so a learner finds an order's saga under the order's id in cosec.sagas and
 * in the stream's COMMAND_SAGA_ID metadata, and an OrderCreated delivered twice meets the saga it
 * started already: sec_orchestrator_start() then sends the awaited command again, which is
 * harmless (the stream drops it as a duplicate, the command handlers are idempotent).
 *
 * THE SUBSCRIPTION: group COSEC_ORDERING_GROUP ("cosec-ordering") on ORDERING_ORDER_CHANNEL,
 * filtered to ordersapi.OrderCreated (the other order events are acknowledged unread).
 */
#ifndef COSEC_HANDLERS_H
#define COSEC_HANDLERS_H

#include "am.h"
#include "core.h"
#include "es.h"
#include "sec.h"

/* The handler: starts the saga of the order event (borrowed) announces, on o (ud). Errors of
 * cosec_data_from_order_created (a payload that is no OrderCreated: CORE_ERR_INVALID) and of
 * sec_orchestrator_start (retried by the stream). */
core_status cosec_on_order_created(void *ud, const struct am_delivery *d, const ddd_event *event,
                                   core_err *err);

/* Subscribes cosec_on_order_created over o (borrowed; must outlive the stream's use) as
 * COSEC_ORDERING_GROUP; reg (borrowed) decodes the events. Errors of am_event_subscribe(). */
core_status cosec_subscribe_order_handlers(am_stream *stream, const es_registry *reg,
                                           sec_orchestrator *o, core_err *err);

#endif /* COSEC_HANDLERS_H */
