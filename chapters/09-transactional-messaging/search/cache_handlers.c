/* search/cache_handlers.c -- the search module's handlers of the customers' and stores'
 * integration events (chapter 07; the book's search/internal/handlers/customers.go, stores.go,
 * products.go). See search/handlers.h, "CACHES": each message becomes one write to search's
 * copies of the names it shows.
 */
#include <inttypes.h>

#include "customers/events.h"
#include "log.h"
#include "search/handlers.h"
#include "stores/events.h"

#define COMP "search"

static core_status no_id(const struct am_delivery *d, core_err *err)
{
    return core_err_set(err, CORE_ERR_INVALID, "%s %s has no id", d->name, d->id);
}

static core_status on_customer_event(void *ud, const struct am_delivery *d, const ddd_event *ev,
                                     core_err *err)
{
    struct search_customer_cache *c = &((struct search_cache_handlers *)ud)->customers;
    core_status st = CORE_OK;
    if (ddd_event_payload_is(ev, &customersapi__customer_registered__descriptor)) {
        const Customersapi__CustomerRegistered *m = (const void *)ddd_event_payload(ev);
        if (core_str_blank(m->id))
            return no_id(d, err);
        st = c->add(c->self, m->id, m->name, d->stream_seq, err);
        if (!st)
            log_info(COMP, "cache %s customer=%s name=\"%s\" seq=%" PRIu64, d->name, m->id, m->name,
                     d->stream_seq);
    }
    return st;
}

static core_status on_store_event(void *ud, const struct am_delivery *d, const ddd_event *ev,
                                  core_err *err)
{
    struct search_store_cache *c = &((struct search_cache_handlers *)ud)->stores;
    const void *p = ddd_event_payload(ev);
    core_status st = CORE_OK;
    if (ddd_event_payload_is(ev, &storesapi__store_created__descriptor)) {
        const Storesapi__StoreCreated *m = p;
        if (core_str_blank(m->id))
            return no_id(d, err);
        st = c->add(c->self, m->id, m->name, d->stream_seq, err);
        if (!st)
            log_info(COMP, "cache %s store=%s name=\"%s\" seq=%" PRIu64, d->name, m->id, m->name,
                     d->stream_seq);
    } else if (ddd_event_payload_is(ev, &storesapi__store_rebranded__descriptor)) {
        const Storesapi__StoreRebranded *m = p;
        if (core_str_blank(m->id))
            return no_id(d, err);
        st = c->rename(c->self, m->id, m->name, d->stream_seq, err);
        if (!st)
            log_info(COMP, "cache %s store=%s name=\"%s\" seq=%" PRIu64, d->name, m->id, m->name,
                     d->stream_seq);
    }
    return st;
}

static core_status on_product_event(void *ud, const struct am_delivery *d, const ddd_event *ev,
                                    core_err *err)
{
    struct search_product_cache *c = &((struct search_cache_handlers *)ud)->products;
    const void *p = ddd_event_payload(ev);
    core_status st = CORE_OK;
    if (ddd_event_payload_is(ev, &storesapi__product_added__descriptor)) {
        const Storesapi__ProductAdded *m = p;
        if (core_str_blank(m->id))
            return no_id(d, err);
        st = c->add(c->self, m->id, m->store_id, m->name, d->stream_seq, err);
        if (!st)
            log_info(COMP, "cache %s product=%s store=%s name=\"%s\" seq=%" PRIu64, d->name, m->id,
                     m->store_id, m->name, d->stream_seq);
    } else if (ddd_event_payload_is(ev, &storesapi__product_rebranded__descriptor)) {
        const Storesapi__ProductRebranded *m = p;
        if (core_str_blank(m->id))
            return no_id(d, err);
        st = c->rebrand(c->self, m->id, m->name, d->stream_seq, err);
        if (!st)
            log_info(COMP, "cache %s product=%s name=\"%s\" seq=%" PRIu64, d->name, m->id, m->name,
                     d->stream_seq);
    } else if (ddd_event_payload_is(ev, &storesapi__product_removed__descriptor)) {
        const Storesapi__ProductRemoved *m = p;
        if (core_str_blank(m->id))
            return no_id(d, err);
        st = c->remove(c->self, m->id, d->stream_seq, err);
        if (!st)
            log_info(COMP, "cache %s product=%s seq=%" PRIu64, d->name, m->id, d->stream_seq);
    }
    return st;
}

static const char *const customer_events[] = {CUSTOMERSAPI_CUSTOMER_REGISTERED, NULL};
static const char *const store_events[] = {STORESAPI_STORE_CREATED, STORESAPI_STORE_REBRANDED,
                                           NULL};
static const char *const product_events[] = {STORESAPI_PRODUCT_ADDED, STORESAPI_PRODUCT_REBRANDED,
                                             STORESAPI_PRODUCT_REMOVED, NULL};

/* The options of the three groups: customers, stores, products. */
static void cache_opts(struct am_sub_opts o[3])
{
    for (int i = 0; i < 3; i++)
        o[i] = (struct am_sub_opts)AM_SUB_OPTS_INIT;
    o[0].group = SEARCH_CUSTOMERS_GROUP;
    o[0].filter = customer_events;
    o[1].group = SEARCH_STORES_GROUP;
    o[1].filter = store_events;
    o[2].group = SEARCH_PRODUCTS_GROUP;
    o[2].filter = product_events;
}

core_status search_subscribe_cache_handlers(am_stream *stream, const es_registry *reg,
                                            struct search_cache_handlers *h, core_err *err)
{
    struct am_sub_opts o[3];
    cache_opts(o);
    const struct am_sub_opts *customers = &o[0], *stores = &o[1], *products = &o[2];
    core_status st = am_event_subscribe(stream, CUSTOMERS_CUSTOMER_CHANNEL, customers, reg,
                                        on_customer_event, h, err);
    if (!st)
        st = am_event_subscribe(stream, STORES_STORE_CHANNEL, stores, reg, on_store_event, h, err);
    if (!st)
        st = am_event_subscribe(stream, STORES_PRODUCT_CHANNEL, products, reg, on_product_event, h,
                                err);
    return st;
}

/* ---- chapter 09: in a unit of work ----------------------------------------------------------- */

/* Runs fn (one of the handlers above) on the cache writers of a unit joined on tx. */
static core_status in_unit(struct search_units *units, tm_tx *tx, const struct am_delivery *d,
                           const ddd_event *ev, am_event_handler_fn fn, core_err *err)
{
    struct search_unit u = {0};
    core_status st = units->join(units->self, tx, &u, err);
    if (st)
        return st;
    if ((st = fn(&u.caches, d, ev, err))) {
        units->rollback(units->self, &u);
        return st;
    }
    return units->commit(units->self, &u, err);
}

static core_status on_customer_event_in(void *ud, tm_tx *tx, const struct am_delivery *d,
                                        const ddd_event *ev, core_err *err)
{
    return in_unit(ud, tx, d, ev, on_customer_event, err);
}

static core_status on_store_event_in(void *ud, tm_tx *tx, const struct am_delivery *d,
                                     const ddd_event *ev, core_err *err)
{
    return in_unit(ud, tx, d, ev, on_store_event, err);
}

static core_status on_product_event_in(void *ud, tm_tx *tx, const struct am_delivery *d,
                                       const ddd_event *ev, core_err *err)
{
    return in_unit(ud, tx, d, ev, on_product_event, err);
}

core_status search_subscribe_cache_handlers_in(am_stream *stream, tm_outbox *ob,
                                               const es_registry *reg, struct search_units *units,
                                               core_err *err)
{
    struct am_sub_opts o[3];
    cache_opts(o);
    core_status st = tm_event_subscribe(stream, ob, CUSTOMERS_CUSTOMER_CHANNEL, &o[0], reg,
                                        on_customer_event_in, units, err);
    if (!st)
        st = tm_event_subscribe(stream, ob, STORES_STORE_CHANNEL, &o[1], reg, on_store_event_in,
                                units, err);
    if (!st)
        st = tm_event_subscribe(stream, ob, STORES_PRODUCT_CHANNEL, &o[2], reg, on_product_event_in,
                                units, err);
    return st;
}
