/* baskets/store_handlers.c -- the StoreHandlers and ProductHandlers (chapter 06; the book's
 * baskets/internal/application/store_handlers.go, product_handlers.go and handlers/stores.go,
 * products.go): the baskets module's first INTEGRATION event consumers. See baskets/handlers.h.
 *
 * In this chapter they only log what arrived, as the book's do: the point is the path a message
 * takes (stores' command -> stores.events -> the stream -> this group's durable consumer -> here).
 * Chapter 07 turns them into local copies of the stores' and products' data.
 */
#include <inttypes.h>

#include "am.h"
#include "baskets/handlers.h"
#include "log.h"
#include "stores/events.h"

/* One log line per message: its name and id, the delivery's facts, and the fields a reader wants
 * to see (the store's or product's id first). */
static core_status on_store_event(void *ud, const struct am_delivery *d, const ddd_event *ev,
                                  core_err *err)
{
    (void)ud;
    (void)err;
    const void *p = ddd_event_payload(ev);
    char what[256] = "";
    if (ddd_event_payload_is(ev, &storesapi__store_created__descriptor)) {
        const Storesapi__StoreCreated *m = p;
        snprintf(what, sizeof what, "store=%s name=\"%s\" location=\"%s\"", m->id, m->name,
                 m->location);
    } else if (ddd_event_payload_is(ev, &storesapi__store_participation_toggled__descriptor)) {
        const Storesapi__StoreParticipationToggled *m = p;
        snprintf(what, sizeof what, "store=%s participating=%s", m->id,
                 m->participating ? "true" : "false");
    } else if (ddd_event_payload_is(ev, &storesapi__store_rebranded__descriptor)) {
        const Storesapi__StoreRebranded *m = p;
        snprintf(what, sizeof what, "store=%s name=\"%s\"", m->id, m->name);
    }
    log_info("baskets", "received %s id=%s %s group=%s delivery=%" PRIu64, d->name, d->id, what,
             d->group, d->delivered);
    return CORE_OK;
}

static core_status on_product_event(void *ud, const struct am_delivery *d, const ddd_event *ev,
                                    core_err *err)
{
    (void)ud;
    (void)err;
    const void *p = ddd_event_payload(ev);
    char what[256] = "";
    if (ddd_event_payload_is(ev, &storesapi__product_added__descriptor)) {
        const Storesapi__ProductAdded *m = p;
        snprintf(what, sizeof what, "product=%s store=%s name=\"%s\" price=%.2f", m->id,
                 m->store_id, m->name, m->price);
    } else if (ddd_event_payload_is(ev, &storesapi__product_rebranded__descriptor)) {
        const Storesapi__ProductRebranded *m = p;
        snprintf(what, sizeof what, "product=%s name=\"%s\"", m->id, m->name);
    } else if (ddd_event_payload_is(ev, &storesapi__product_price_changed__descriptor)) {
        const Storesapi__ProductPriceChanged *m = p;
        snprintf(what, sizeof what, "product=%s delta=%.2f", m->id, m->delta);
    } else if (ddd_event_payload_is(ev, &storesapi__product_removed__descriptor)) {
        const Storesapi__ProductRemoved *m = p;
        snprintf(what, sizeof what, "product=%s", m->id);
    }
    log_info("baskets", "received %s id=%s %s group=%s delivery=%" PRIu64, d->name, d->id, what,
             d->group, d->delivered);
    return CORE_OK;
}

core_status baskets_subscribe_store_handlers(am_stream *stream, const es_registry *reg,
                                             core_err *err)
{
    static const char *const store_events[] = {STORESAPI_STORE_CREATED,
                                               STORESAPI_STORE_PARTICIPATING_TOGGLED,
                                               STORESAPI_STORE_REBRANDED, NULL};
    static const char *const product_events[] = {
        STORESAPI_PRODUCT_ADDED,           STORESAPI_PRODUCT_REBRANDED,
        STORESAPI_PRODUCT_PRICE_INCREASED, STORESAPI_PRODUCT_PRICE_DECREASED,
        STORESAPI_PRODUCT_REMOVED,         NULL};
    struct am_sub_opts stores = AM_SUB_OPTS_INIT, products = AM_SUB_OPTS_INIT;
    stores.group = BASKETS_STORES_GROUP;
    stores.filter = store_events;
    products.group = BASKETS_PRODUCTS_GROUP;
    products.filter = product_events;
    core_status st =
        am_event_subscribe(stream, STORES_STORE_CHANNEL, &stores, reg, on_store_event, NULL, err);
    if (!st)
        st = am_event_subscribe(stream, STORES_PRODUCT_CHANNEL, &products, reg, on_product_event,
                                NULL, err);
    return st;
}
