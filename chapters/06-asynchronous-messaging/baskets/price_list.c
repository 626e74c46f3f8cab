/* baskets/price_list.c -- the price list: the product prices kept from the stores' product events
 * (chapter 06, exercise 06.2). See baskets/price_list.h. */
#include "baskets/price_list.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "log.h"
#include "stores/events.h"

struct entry {
    char id[DDD_ID_MAX + 1];
    double price;
};

struct baskets_price_list {
    pthread_mutex_t mu;
    struct entry *items; /* the products, in no order */
    size_t n, cap;
    char (*applied)[CORE_UUID_LEN + 1]; /* the ids of the messages applied */
    size_t n_applied, cap_applied;
};

core_status baskets_price_list_new(baskets_price_list **out, core_err *err)
{
    baskets_price_list *l = core_calloc(1, sizeof *l);
    if (!l)
        return core_err_nomem(err);
    pthread_mutex_init(&l->mu, NULL);
    *out = l;
    return CORE_OK;
}

void baskets_price_list_free(baskets_price_list *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
    core_free(l->items);
    core_free(l->applied);
    core_free(l);
}

/* ---- helpers (lock held) --------------------------------------------------------------------- */

/* Prices are kept to 4 decimals, as the stores module keeps them. */
static double round4(double v)
{
    return round(v * 10000.0) / 10000.0;
}

/* The entry of product id, or NULL. */
static struct entry *find_product(baskets_price_list *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].id, id) == 0)
            return &l->items[i];
    return NULL;
}

/* True when the message with this id has been applied. */
static bool was_applied(const baskets_price_list *l, const char *msg_id)
{
    for (size_t i = 0; i < l->n_applied; i++)
        if (strcmp(l->applied[i], msg_id) == 0)
            return true;
    return false;
}

/* Makes room for one more product and one more message id, so that nothing can fail once a
 * change has begun. CORE_ERR_NOMEM (the list unchanged). */
static core_status reserve(baskets_price_list *l, core_err *err)
{
    if (core_array_grow(&l->items, &l->cap, l->n + 1, sizeof *l->items) ||
        core_array_grow(&l->applied, &l->cap_applied, l->n_applied + 1, sizeof *l->applied))
        return core_err_nomem(err);
    return CORE_OK;
}

/* Notes msg_id as applied (room reserved; ids longer than a UUID are cut, which am.h never
 * delivers). */
static void remember(baskets_price_list *l, const char *msg_id)
{
    core_strlcpy(l->applied[l->n_applied++], msg_id, sizeof l->applied[0]);
}

/* The product id of a payload: present and short enough, or CORE_ERR_INVALID (bad data). */
static core_status product_id(const char *id, const char *name, core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "%s has no product id", name);
    if (strlen(id) > DDD_ID_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "%s has a product id longer than %d bytes", name,
                            DDD_ID_MAX);
    return CORE_OK;
}

/* ---- the handler ----------------------------------------------------------------------------- */

/* Applies one message to l (lock held), at most once per message id, all or nothing. */
static core_status apply_message(baskets_price_list *l, const struct am_delivery *d,
                                 const ddd_event *ev, core_err *err)
{
    if (was_applied(l, d->id)) {
        log_info("baskets",
                 "price list: %s %s was applied before; delivery %" PRIu64 " changes nothing",
                 d->name, d->id, d->delivered);
        return CORE_OK;
    }
    core_status st = reserve(l, err);
    if (st)
        return st;
    const void *p = ddd_event_payload(ev);
    const char *name = ddd_event_name(ev);
    if (strcmp(name, STORESAPI_PRODUCT_ADDED) == 0 &&
        ddd_event_payload_is(ev, &storesapi__product_added__descriptor)) {
        const Storesapi__ProductAdded *m = p;
        if ((st = product_id(m->id, name, err)))
            return st;
        struct entry *e = find_product(l, m->id);
        if (!e) {
            e = &l->items[l->n++];
            core_strlcpy(e->id, m->id, sizeof e->id);
        }
        e->price = round4(m->price);
    } else if ((strcmp(name, STORESAPI_PRODUCT_PRICE_INCREASED) == 0 ||
                strcmp(name, STORESAPI_PRODUCT_PRICE_DECREASED) == 0) &&
               ddd_event_payload_is(ev, &storesapi__product_price_changed__descriptor)) {
        const Storesapi__ProductPriceChanged *m = p;
        if ((st = product_id(m->id, name, err)))
            return st;
        struct entry *e = find_product(l, m->id);
        if (!e)
            return core_err_set(err, CORE_ERR_NOT_FOUND, "product %s is not in the price list",
                                m->id);
        e->price = round4(e->price + m->delta);
    } else if (strcmp(name, STORESAPI_PRODUCT_REMOVED) == 0 &&
               ddd_event_payload_is(ev, &storesapi__product_removed__descriptor)) {
        const Storesapi__ProductRemoved *m = p;
        if ((st = product_id(m->id, name, err)))
            return st;
        struct entry *e = find_product(l, m->id);
        if (e)
            *e = l->items[--l->n];
    } else {
        return core_err_set(err, CORE_ERR_INTERNAL, "the price list does not handle %s", name);
    }
    remember(l, d->id);
    return CORE_OK;
}

core_status baskets_price_list_handle(void *ud, const struct am_delivery *d, const ddd_event *ev,
                                      core_err *err)
{
    baskets_price_list *l = ud;
    pthread_mutex_lock(&l->mu);
    core_status st = apply_message(l, d, ev, err);
    pthread_mutex_unlock(&l->mu);
    return st;
}

/* ---- reading and subscribing ----------------------------------------------------------------- */

core_status baskets_price_list_price(baskets_price_list *l, const char *product_id, double *price,
                                     core_err *err)
{
    pthread_mutex_lock(&l->mu);
    const struct entry *e = find_product(l, product_id);
    if (e)
        *price = e->price;
    pthread_mutex_unlock(&l->mu);
    return e ? CORE_OK
             : core_err_set(err, CORE_ERR_NOT_FOUND, "product %s is not in the price list",
                            product_id);
}

size_t baskets_price_list_applied(baskets_price_list *l)
{
    pthread_mutex_lock(&l->mu);
    size_t n = l->n_applied;
    pthread_mutex_unlock(&l->mu);
    return n;
}

core_status baskets_subscribe_price_list(am_stream *stream, const es_registry *reg,
                                         baskets_price_list *l, core_err *err)
{
    static const char *const names[] = {STORESAPI_PRODUCT_ADDED, STORESAPI_PRODUCT_PRICE_INCREASED,
                                        STORESAPI_PRODUCT_PRICE_DECREASED,
                                        STORESAPI_PRODUCT_REMOVED, NULL};
    struct am_sub_opts o = AM_SUB_OPTS_INIT;
    o.group = BASKETS_PRICES_GROUP;
    o.filter = names;
    return am_event_subscribe(stream, STORES_PRODUCT_CHANNEL, &o, reg, baskets_price_list_handle, l,
                              err);
}
