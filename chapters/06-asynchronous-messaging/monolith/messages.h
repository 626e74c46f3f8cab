/* monolith/messages.h -- the registry of every integration message of the chapter: message name
 * -> payload type (chapter 06).
 *
 * Layer: composition. A module that publishes integration events declares them in its own
 * events.h (stores/events.h); this file gathers them all in one registry, which main() hands to the
 * modules for their subscriptions (struct monolith's messages) and which the stream tool
 * (cmd/events, `make events`) uses to decode any message on the stream to JSON. A chapter that
 * adds a publishing module adds one line to monolith/messages.c.
 */
#ifndef MONOLITH_MESSAGES_H
#define MONOLITH_MESSAGES_H

#include "core.h"
#include "es.h"

/* Registers every integration message of the chapter in reg (borrowed). CORE_ERR_CONFLICT when a
 * name is already in reg; CORE_ERR_NOMEM. */
core_status monolith_register_messages(es_registry *reg, core_err *err);

#endif /* MONOLITH_MESSAGES_H */
