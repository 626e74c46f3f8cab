/* baskets/price_list.h -- the baskets module's price list (chapter 06, exercise 06.2): the price of
 * every product of the mall, kept up to date from the stores module's product events on the
 * stream, as a consumer group of its own. It is the smallest integration event handler that
 * CHANGES something, and so the one that shows what at-least-once delivery asks of a handler.
 *
 * Layer: application (an integration event handler) with its own in-memory state.
 *
 *   group BASKETS_PRICES_GROUP ("baskets-prices") on mallbots.stores.events.Product, filter:
 *     storesapi.ProductAdded            the product's price = the payload's price
 *     storesapi.ProductPriceIncreased   price = price + delta, kept to 4 decimals
 *     storesapi.ProductPriceDecreased   the same (the delta is negative)
 *     storesapi.ProductRemoved          the product leaves the list (unknown: nothing to do)
 *   (storesapi.ProductRebranded does not change a price: the filter acknowledges it unread.)
 *
 * AT LEAST ONCE. The stream delivers a message again when its acknowledgement did not arrive (lost,
 * or the handler took longer than the ack wait), so the handler can see a message it has already
 * applied, possibly after later ones. A price change applied twice moves the price twice, and a
 * ProductAdded applied again undoes the changes that came after it. So the list remembers the id
 * of every message it applied (am_delivery.id, the publisher's message id), and a message whose
 * id it has seen changes nothing and succeeds (it is acknowledged again). A message that FAILS
 * leaves no trace: nothing changed and its id is not remembered, so the redelivery applies it.
 *
 * FAILURES (returned; am.h NAKs the message, redelivers it with the delivery count + 1 and, after
 * max_deliver deliveries, records it as a dead letter on "mallbots.dead.baskets-prices" with the
 * message as its Mallbots-Dead-Reason):
 *   CORE_ERR_NOT_FOUND "product <id> is not in the price list": a price change of a product the
 *       list does not have (its ProductAdded has not been applied yet: on JetStream the next
 *       messages are delivered while a NAKed one waits, so the product may arrive meanwhile);
 *   CORE_ERR_INVALID "<message name> has no product id" / "... has a product id longer than 64
 *       bytes" (bad data: retrying cannot help, and it ends as a dead letter);
 *   CORE_ERR_INTERNAL "the price list does not handle <name>" (a name the filter should have kept
 *       away, or a payload of another type);
 *   CORE_ERR_NOMEM.
 *
 * In memory only: a restart empties the list while the group resumes where it left off, so this
 * list is a lesson, not a cache to rely on (the module does not subscribe it). A real one keeps
 * the prices and the applied message ids in one database transaction (the book's chapter 07 keeps
 * a product cache in PostgreSQL; chapter 09 an inbox of handled message ids).
 *
 * Thread-safety: a list is thread-safe (one mutex): the handler runs on the subscription's
 * thread, baskets_price_list_price() on any.
 */
#ifndef BASKETS_PRICE_LIST_H
#define BASKETS_PRICE_LIST_H

#include <stddef.h>

#include "am.h"
#include "core.h"
#include "ddd.h"
#include "es.h"

#define BASKETS_PRICES_GROUP "baskets-prices"

typedef struct baskets_price_list baskets_price_list; /* opaque */

/* An empty list (*out; caller frees with baskets_price_list_free). CORE_ERR_NOMEM. */
core_status baskets_price_list_new(baskets_price_list **out, core_err *err);

/* NULL is a no-op. Not while the list is subscribed: free the stream first. */
void baskets_price_list_free(baskets_price_list *l);

/* The price of product_id (*price). CORE_ERR_NOT_FOUND "product <id> is not in the price list". */
core_status baskets_price_list_price(baskets_price_list *l, const char *product_id, double *price,
                                     core_err *err);

/* How many messages have changed the list (each applied message counts once, however often it
 * was delivered). */
size_t baskets_price_list_applied(baskets_price_list *l);

/* The handler (am_event_handler_fn; ud = the list), as the header's top describes. */
core_status baskets_price_list_handle(void *ud, const struct am_delivery *d, const ddd_event *ev,
                                      core_err *err);

/* Subscribes the handler for l (borrowed; must outlive the stream) to stream as
 * BASKETS_PRICES_GROUP with the filter above and the default ack wait, max_deliver and retry
 * delay. reg (borrowed; must outlive the stream) must hold the stores' integration event types
 * (stores_register_integration_types). Errors: am_event_subscribe's. */
core_status baskets_subscribe_price_list(am_stream *stream, const es_registry *reg,
                                         baskets_price_list *l, core_err *err);

#endif /* BASKETS_PRICE_LIST_H */
