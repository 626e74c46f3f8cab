/* stores/integration_handlers.c -- the IntegrationEventHandlers (chapter 06; the book's
 * stores/internal/handlers/integration_events.go): every domain event of a store or a product
 * becomes an integration event published on the stream. See stores/handlers.h. */
#include <string.h>

#include "am.h"
#include "log.h"
#include "pb.h"
#include "stores/domain.h"
#include "stores/domain_events.pb-c.h"
#include "stores/events.h"
#include "stores/handlers.h"

/* What one domain event becomes: a message name, a channel and the payload built from the
 * domain event's payload and the aggregate's id. */
struct translation {
    const char *domain_name;
    const char *name;
    const char *channel;
    const ProtobufCMessageDescriptor *domain_desc;
    ProtobufCMessage *(*build)(const char *id, const void *domain);
};

/* The builders return a new message (pb_free), or NULL when memory ran out. Strings are copied
 * with pb_set_string so that pb_free releases them with the message. */
static bool set_str(char **field, const char *value)
{
    return pb_set_string(field, value, NULL) == CORE_OK;
}

static ProtobufCMessage *build_store_created(const char *id, const void *domain)
{
    const Stores__Domain__StoreCreated *d = domain;
    Storesapi__StoreCreated *m = pb_new_of(storesapi__store_created);
    if (m && set_str(&m->id, id) && set_str(&m->name, d->name) &&
        set_str(&m->location, d->location))
        return &m->base;
    pb_free((ProtobufCMessage *)m);
    return NULL;
}

static ProtobufCMessage *build_participation(const char *id, const void *domain)
{
    const Stores__Domain__StoreParticipationToggled *d = domain;
    Storesapi__StoreParticipationToggled *m = pb_new_of(storesapi__store_participation_toggled);
    if (m && set_str(&m->id, id)) {
        m->participating = d->participating;
        return &m->base;
    }
    pb_free((ProtobufCMessage *)m);
    return NULL;
}

static ProtobufCMessage *build_store_rebranded(const char *id, const void *domain)
{
    const Stores__Domain__StoreRebranded *d = domain;
    Storesapi__StoreRebranded *m = pb_new_of(storesapi__store_rebranded);
    if (m && set_str(&m->id, id) && set_str(&m->name, d->name))
        return &m->base;
    pb_free((ProtobufCMessage *)m);
    return NULL;
}

static ProtobufCMessage *build_product_added(const char *id, const void *domain)
{
    const Stores__Domain__ProductAdded *d = domain;
    Storesapi__ProductAdded *m = pb_new_of(storesapi__product_added);
    if (m && set_str(&m->id, id) && set_str(&m->store_id, d->store_id) &&
        set_str(&m->name, d->name) && set_str(&m->description, d->description) &&
        set_str(&m->sku, d->sku)) {
        m->price = d->price;
        return &m->base;
    }
    pb_free((ProtobufCMessage *)m);
    return NULL;
}

static ProtobufCMessage *build_product_rebranded(const char *id, const void *domain)
{
    const Stores__Domain__ProductRebranded *d = domain;
    Storesapi__ProductRebranded *m = pb_new_of(storesapi__product_rebranded);
    if (m && set_str(&m->id, id) && set_str(&m->name, d->name) &&
        set_str(&m->description, d->description))
        return &m->base;
    pb_free((ProtobufCMessage *)m);
    return NULL;
}

static ProtobufCMessage *build_price_changed(const char *id, const void *domain)
{
    const Stores__Domain__ProductPriceChanged *d = domain;
    Storesapi__ProductPriceChanged *m = pb_new_of(storesapi__product_price_changed);
    if (m && set_str(&m->id, id)) {
        m->delta = d->delta;
        return &m->base;
    }
    pb_free((ProtobufCMessage *)m);
    return NULL;
}

static ProtobufCMessage *build_product_removed(const char *id, const void *domain)
{
    (void)domain;
    Storesapi__ProductRemoved *m = pb_new_of(storesapi__product_removed);
    if (m && set_str(&m->id, id))
        return &m->base;
    pb_free((ProtobufCMessage *)m);
    return NULL;
}

static const struct translation translations[] = {
    {STORES_STORE_CREATED, STORESAPI_STORE_CREATED, STORES_STORE_CHANNEL,
     &stores__domain__store_created__descriptor, build_store_created},
    {STORES_STORE_PARTICIPATION_ENABLED, STORESAPI_STORE_PARTICIPATING_TOGGLED,
     STORES_STORE_CHANNEL, &stores__domain__store_participation_toggled__descriptor,
     build_participation},
    {STORES_STORE_PARTICIPATION_DISABLED, STORESAPI_STORE_PARTICIPATING_TOGGLED,
     STORES_STORE_CHANNEL, &stores__domain__store_participation_toggled__descriptor,
     build_participation},
    {STORES_STORE_REBRANDED, STORESAPI_STORE_REBRANDED, STORES_STORE_CHANNEL,
     &stores__domain__store_rebranded__descriptor, build_store_rebranded},
    {STORES_PRODUCT_ADDED, STORESAPI_PRODUCT_ADDED, STORES_PRODUCT_CHANNEL,
     &stores__domain__product_added__descriptor, build_product_added},
    {STORES_PRODUCT_REBRANDED, STORESAPI_PRODUCT_REBRANDED, STORES_PRODUCT_CHANNEL,
     &stores__domain__product_rebranded__descriptor, build_product_rebranded},
    {STORES_PRODUCT_PRICE_INCREASED, STORESAPI_PRODUCT_PRICE_INCREASED, STORES_PRODUCT_CHANNEL,
     &stores__domain__product_price_changed__descriptor, build_price_changed},
    {STORES_PRODUCT_PRICE_DECREASED, STORESAPI_PRODUCT_PRICE_DECREASED, STORES_PRODUCT_CHANNEL,
     &stores__domain__product_price_changed__descriptor, build_price_changed},
    {STORES_PRODUCT_REMOVED, STORESAPI_PRODUCT_REMOVED, STORES_PRODUCT_CHANNEL,
     &stores__domain__product_removed__descriptor, build_product_removed},
};
#define NTRANSLATIONS (sizeof translations / sizeof translations[0])

static const struct translation *find_translation(const char *domain_name)
{
    for (size_t i = 0; i < NTRANSLATIONS; i++)
        if (strcmp(translations[i].domain_name, domain_name) == 0)
            return &translations[i];
    return NULL;
}

/* Announces the domain event ev as its integration event: the payload built with the
 * aggregate's id, the domain event's id and time (am_event_announce). */
static core_status on_domain_event(void *ud, const ddd_event *ev, core_err *err)
{
    am_stream *stream = ud;
    const struct translation *t = find_translation(ddd_event_name(ev));
    if (!t)
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "stores.IntegrationEventHandlers do not handle %s", ddd_event_name(ev));
    const char *id = ddd_event_metadata(ev, "aggregate-id");
    if (core_str_blank(id) || !ddd_event_payload_is(ev, t->domain_desc))
        return core_err_set(err, CORE_ERR_INTERNAL, "event %s %s has no aggregate id or no %s",
                            ddd_event_name(ev), ddd_event_id(ev), t->domain_desc->short_name);
    ProtobufCMessage *payload = t->build(id, ddd_event_payload(ev));
    if (!payload)
        return core_err_nomem(err);
    struct timespec at = ddd_event_occurred_at(ev);
    return am_event_announce(stream, t->channel, t->name, &payload, ddd_event_id(ev), &at, err);
}

core_status stores_register_integration_handlers(ddd_dispatcher *d, am_stream *stream,
                                                 core_err *err)
{
    core_status st = CORE_OK;
    for (size_t i = 0; i < NTRANSLATIONS && !st; i++)
        st = ddd_dispatcher_subscribe(d, translations[i].domain_name,
                                      "stores.IntegrationEventHandlers", on_domain_event, stream,
                                      err);
    return st;
}
