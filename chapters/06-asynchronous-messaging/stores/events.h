/* stores/events.h -- the stores module's INTEGRATION events (chapter 06): the channels, message
 * names and payload types that other modules consume from the stream (the book's
 * stores/storespb/events.go). The payloads are in proto/stores/events.proto.
 *
 * Layer: the module's published contract. Other modules include this header (as the book's
 * modules import storespb) to subscribe; nothing else of the stores module is visible to them.
 *
 *   channel STORES_STORE_CHANNEL   "mallbots.stores.events.Store"
 *     "storesapi.StoreCreated"                Storesapi__StoreCreated{id, name, location}
 *     "storesapi.StoreParticipatingToggled"   Storesapi__StoreParticipationToggled{id,
 * participating} "storesapi.StoreRebranded"              Storesapi__StoreRebranded{id, name}
 *   channel STORES_PRODUCT_CHANNEL "mallbots.stores.events.Product"
 *     "storesapi.ProductAdded"                Storesapi__ProductAdded{id, store_id, name, ...}
 *     "storesapi.ProductRebranded"            Storesapi__ProductRebranded{id, name, description}
 *     "storesapi.ProductPriceIncreased"       Storesapi__ProductPriceChanged{id, delta >= 0}
 *     "storesapi.ProductPriceDecreased"       Storesapi__ProductPriceChanged{id, delta <= 0}
 *     "storesapi.ProductRemoved"              Storesapi__ProductRemoved{id}
 *
 * The message id of each integration event is the id of the domain event it announces (the row
 * in stores.events), so publishing the same domain event twice stores one message (the stream
 * drops a repeated Nats-Msg-Id) and a message can be traced back to the event it came from.
 */
#ifndef STORES_EVENTS_H
#define STORES_EVENTS_H

#include "core.h"
#include "es.h"
#include "stores/events.pb-c.h"

#define STORES_STORE_CHANNEL "mallbots.stores.events.Store"
#define STORES_PRODUCT_CHANNEL "mallbots.stores.events.Product"

#define STORESAPI_STORE_CREATED "storesapi.StoreCreated"
#define STORESAPI_STORE_PARTICIPATING_TOGGLED "storesapi.StoreParticipatingToggled"
#define STORESAPI_STORE_REBRANDED "storesapi.StoreRebranded"
#define STORESAPI_PRODUCT_ADDED "storesapi.ProductAdded"
#define STORESAPI_PRODUCT_REBRANDED "storesapi.ProductRebranded"
#define STORESAPI_PRODUCT_PRICE_INCREASED "storesapi.ProductPriceIncreased"
#define STORESAPI_PRODUCT_PRICE_DECREASED "storesapi.ProductPriceDecreased"
#define STORESAPI_PRODUCT_REMOVED "storesapi.ProductRemoved"

/* Registers the eight integration event names above with their payload types and channels in reg
 * (the consumer's registry: am_event_subscribe decodes a message through it). A name already in reg
 * -> CORE_ERR_CONFLICT; CORE_ERR_NOMEM. */
core_status stores_register_integration_types(es_registry *reg, core_err *err);

#endif /* STORES_EVENTS_H */
