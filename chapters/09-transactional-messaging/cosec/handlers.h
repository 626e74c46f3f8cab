/* cosec/handlers.h -- what starts a create-order saga: ordering's ordersapi.OrderCreated (the
 * book's cosec/internal/handlers/integration_events.go).
 *
 * Layer: application (driving side). The saga's id is the order's id (the book uses the event's
 * id: docs/ERRATA.md), so a learner finds an order's saga under the order's id in cosec.sagas and
 * in the stream's COMMAND_SAGA_ID metadata.
 *
 * Chapter 09: the handler runs in the unit of work of its delivery (tm_event_subscribe on the
 * module's outbox): an OrderCreated delivered again is dropped by cosec.inbox, and the saga's
 * first state and first command commit with the inbox row (sec_orchestrator_start_in). Another
 * OrderCreated message for an order whose saga exists is logged and changes nothing.
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
#include "tm.h"

/* The handler: starts the saga of the order event (borrowed) announces, on o (ud), inside tx
 * (borrowed; the subscription commits it; NULL: chapter 08's sec_orchestrator_start, for a rig
 * without a database). Errors of cosec_data_from_order_created (a payload
 * that is no OrderCreated: CORE_ERR_INVALID) and of sec_orchestrator_start_in (the unit of work
 * is rolled back and the event retried by the stream). */
core_status cosec_on_order_created(void *ud, tm_tx *tx, const struct am_delivery *d,
                                   const ddd_event *event, core_err *err);

/* Subscribes cosec_on_order_created over o (borrowed; must outlive the stream's use) as
 * COSEC_ORDERING_GROUP, through the inbox of ob (borrowed; cosec's outbox); reg (borrowed)
 * decodes the events. ob NULL (unit tests on the in-memory broker and store): am_event_subscribe
 * without an inbox, as in chapter 08. Errors of tm_event_subscribe() / am_event_subscribe(). */
core_status cosec_subscribe_order_handlers(am_stream *stream, tm_outbox *ob, const es_registry *reg,
                                           sec_orchestrator *o, core_err *err);

#endif /* COSEC_HANDLERS_H */
