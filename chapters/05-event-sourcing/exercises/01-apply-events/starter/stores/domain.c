/* stores/domain.c -- see stores/domain.h. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "pb.h"
#include "stores/domain.h"
#include "stores/domain_events.pb-c.h"
#include "stores/snapshots.pb-c.h"

/* Copies id into dst (STORES_ID_MAX + 1 bytes); what names the id in the message. */
static core_status copy_id(char *dst, const char *id, const char *what, core_err *err)
{
    if (!core_strlcpy(dst, id ? id : "", STORES_ID_MAX + 1))
        return core_err_set(err, CORE_ERR_INVALID, "the %s id is too long", what);
    return CORE_OK;
}

static core_status check_id(const char *id, const char *what, core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the %s id cannot be blank", what);
    if (strlen(id) > STORES_ID_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "the %s id is too long", what);
    return CORE_OK;
}

static core_status no_memory(core_err *err)
{
    return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
}

/* A price or a price change kept to 4 decimals, the catalog's precision. */
static double money(double v)
{
    return round(v * 10000.0) / 10000.0;
}

/* Replaces *field (owned) with a copy of value (NULL: ""); on NOMEM *field is unchanged. */
static bool replace(char **field, const char *value)
{
    char *copy = core_strdup(value ? value : "");
    if (!copy)
        return false;
    core_free(*field);
    *field = copy;
    return true;
}

/* Raises event `name` with payload (ownership taken; NULL means building it ran out of memory) on
 * the entity, which applies it. On failure nothing is raised and the payload is freed. */
static core_status raise_event(struct es_aggregate *agg, void *entity, const struct es_aggregate_type *type,
                         const char *name, ProtobufCMessage *payload, core_err *err)
{
    if (!payload)
        return no_memory(err);
    return es_aggregate_raise(agg, entity, type, name, &payload, err);
}

/* The error of an apply function that met an event it does not know (a programming error). */
static core_status unexpected(const char *aggregate, const ddd_event *ev, core_err *err)
{
    const ProtobufCMessage *payload = ddd_event_payload(ev);
    return core_err_set(err, CORE_ERR_INTERNAL, "%s received the event %s with an unexpected payload %s",
                        aggregate, ddd_event_name(ev), payload ? payload->descriptor->name : "(none)");
}

static bool is(const ddd_event *ev, const char *name, const ProtobufCMessageDescriptor *desc)
{
    return strcmp(ddd_event_name(ev), name) == 0 && ddd_event_payload_is(ev, desc);
}

core_status stores_register_types(es_registry *reg, core_err *err)
{
    static const struct {
        const char *name;
        const ProtobufCMessageDescriptor *desc;
    } types[] = {
        {STORES_STORE_CREATED, &stores__domain__store_created__descriptor},
        {STORES_STORE_PARTICIPATION_ENABLED, &stores__domain__store_participation_toggled__descriptor},
        {STORES_STORE_PARTICIPATION_DISABLED, &stores__domain__store_participation_toggled__descriptor},
        {STORES_STORE_REBRANDED, &stores__domain__store_rebranded__descriptor},
        {STORES_STORE_SNAPSHOT, &stores__domain__store_v1__descriptor},
        {STORES_PRODUCT_ADDED, &stores__domain__product_added__descriptor},
        {STORES_PRODUCT_REBRANDED, &stores__domain__product_rebranded__descriptor},
        {STORES_PRODUCT_PRICE_INCREASED, &stores__domain__product_price_changed__descriptor},
        {STORES_PRODUCT_PRICE_DECREASED, &stores__domain__product_price_changed__descriptor},
        {STORES_PRODUCT_REMOVED, &stores__domain__product_removed__descriptor},
        {STORES_PRODUCT_SNAPSHOT, &stores__domain__product_v1__descriptor},
    };
    core_status st = CORE_OK;
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !st; i++)
        st = es_registry_add(reg, types[i].name, types[i].desc, err);
    return st;
}

/* ---- Store -------------------------------------------------------------------------------- */

static core_status store_apply(void *entity, const ddd_event *ev, core_err *err)
{
    struct stores_store *s = entity;
    const void *payload = ddd_event_payload(ev);
    if (is(ev, STORES_STORE_CREATED, &stores__domain__store_created__descriptor)) {
        const Stores__Domain__StoreCreated *m = payload;
        char *name = core_strdup(m->name), *location = core_strdup(m->location);
        if (!name || !location) {
            core_free(name);
            core_free(location);
            return no_memory(err);
        }
        core_free(s->name);
        core_free(s->location);
        s->name = name;
        s->location = location;
        s->participating = false;
    } else if (is(ev, STORES_STORE_PARTICIPATION_ENABLED, &stores__domain__store_participation_toggled__descriptor) ||
               is(ev, STORES_STORE_PARTICIPATION_DISABLED,
                  &stores__domain__store_participation_toggled__descriptor)) {
        s->participating = ((const Stores__Domain__StoreParticipationToggled *)payload)->participating;
    } else if (is(ev, STORES_STORE_REBRANDED, &stores__domain__store_rebranded__descriptor)) {
        if (!replace(&s->name, ((const Stores__Domain__StoreRebranded *)payload)->name))
            return no_memory(err);
    } else {
        return unexpected(STORES_STORE_AGGREGATE, ev, err);
    }
    return CORE_OK;
}

static core_status store_to_snapshot(const void *entity, ProtobufCMessage **out, core_err *err)
{
    const struct stores_store *s = entity;
    Stores__Domain__StoreV1 *m = pb_new_of(stores__domain__store_v1);
    if (!m || pb_set_string(&m->name, s->name, NULL) || pb_set_string(&m->location, s->location, NULL)) {
        pb_free(m ? &m->base : NULL);
        return no_memory(err);
    }
    m->participating = s->participating;
    *out = &m->base;
    return CORE_OK;
}

static core_status store_from_snapshot(void *entity, const ProtobufCMessage *snapshot, core_err *err)
{
    struct stores_store *s = entity;
    if (snapshot->descriptor != &stores__domain__store_v1__descriptor)
        return core_err_set(err, CORE_ERR_INTERNAL, "%s received the unexpected snapshot %s",
                            STORES_STORE_AGGREGATE, snapshot->descriptor->name);
    const Stores__Domain__StoreV1 *m = (const Stores__Domain__StoreV1 *)snapshot;
    char *name = core_strdup(m->name), *location = core_strdup(m->location);
    if (!name || !location) {
        core_free(name);
        core_free(location);
        return no_memory(err);
    }
    core_free(s->name);
    core_free(s->location);
    s->name = name;
    s->location = location;
    s->participating = m->participating;
    return CORE_OK;
}

const struct es_aggregate_type stores_store_type = {
    STORES_STORE_AGGREGATE, offsetof(struct stores_store, agg), store_apply,
    STORES_STORE_SNAPSHOT,  store_to_snapshot,                  store_from_snapshot,
};

void stores_store_init(struct stores_store *s)
{
    memset(s, 0, sizeof *s);
    es_aggregate_init(&s->agg, STORES_STORE_AGGREGATE);
}

void stores_store_release(struct stores_store *s)
{
    if (!s)
        return;
    core_free(s->name);
    core_free(s->location);
    es_aggregate_release(&s->agg);
    stores_store_init(s);
}

static ProtobufCMessage *store_created_event(const char *name, const char *location)
{
    Stores__Domain__StoreCreated *m = pb_new_of(stores__domain__store_created);
    if (m && (pb_set_string(&m->name, name, NULL) || pb_set_string(&m->location, location, NULL))) {
        pb_free(&m->base);
        return NULL;
    }
    return m ? &m->base : NULL;
}

core_status stores_store_create(struct stores_store *s, const char *id, const char *name,
                                const char *location, core_err *err)
{
    core_status st = check_id(id, "store", err);
    if (st)
        return st;
    if (core_str_blank(name))
        return core_err_set(err, CORE_ERR_INVALID, "the store name cannot be blank");
    if (core_str_blank(location))
        return core_err_set(err, CORE_ERR_INVALID, "the store location cannot be blank");
    if ((st = ddd_aggregate_set_id(&s->agg.base, id, err)) == CORE_OK)
        st = raise_event(&s->agg, s, &stores_store_type, STORES_STORE_CREATED,
                         store_created_event(name, location), err);
    if (st)
        stores_store_release(s);
    return st;
}

/* Raises "stores.StoreParticipationEnabled" or "...Disabled" with {participating}. */
static core_status toggle_participation(struct stores_store *s, bool participating, core_err *err)
{
    Stores__Domain__StoreParticipationToggled *m = pb_new_of(stores__domain__store_participation_toggled);
    if (m)
        m->participating = participating;
    return raise_event(&s->agg, s, &stores_store_type,
                 participating ? STORES_STORE_PARTICIPATION_ENABLED : STORES_STORE_PARTICIPATION_DISABLED,
                 m ? &m->base : NULL, err);
}

core_status stores_store_enable_participation(struct stores_store *s, core_err *err)
{
    if (s->participating)
        return core_err_set(err, CORE_ERR_INVALID, "the store is already participating");
    return toggle_participation(s, true, err);
}

core_status stores_store_disable_participation(struct stores_store *s, core_err *err)
{
    if (!s->participating)
        return core_err_set(err, CORE_ERR_INVALID, "the store is already not participating");
    return toggle_participation(s, false, err);
}

core_status stores_store_rebrand(struct stores_store *s, const char *name, core_err *err)
{
    if (core_str_blank(name))
        return core_err_set(err, CORE_ERR_INVALID, "the store name cannot be blank");
    Stores__Domain__StoreRebranded *m = pb_new_of(stores__domain__store_rebranded);
    if (m && pb_set_string(&m->name, name, NULL)) {
        pb_free(&m->base);
        m = NULL;
    }
    return raise_event(&s->agg, s, &stores_store_type, STORES_STORE_REBRANDED, m ? &m->base : NULL, err);
}

/* ---- Product ------------------------------------------------------------------------------ */

/* ---- exercise 05.1: the Product as an event-sourced aggregate -------------------------------
 * A product IS its events: stores_product_create() and the other rules below do not change the
 * product themselves, they only RAISE an event (raise_event -> es_aggregate_raise), which calls
 * product_apply() to change it. es_repo_load() rebuilds a product with the same function: the
 * latest snapshot (product_from_snapshot) plus the events after it (product_apply, one by one).
 * product_to_snapshot() makes that snapshot after a save. The Store's three functions above
 * (store_apply, store_to_snapshot, store_from_snapshot) are the model; the contracts are in es.h
 * (struct es_aggregate_type), stores/domain.h (struct stores_product, the table of events) and
 * proto/stores/domain_events.proto and snapshots.proto (the C types are in
 * stores/domain_events.pb-c.h and stores/snapshots.pb-c.h). Helpers already in this file: is(),
 * unexpected(), money(), replace(), no_memory(). Add static helpers of your own where the same
 * code would appear twice. */

static core_status product_apply(void *entity, const ddd_event *ev, core_err *err)
{
    /* TODO(exercise 05.1): change the product (entity) by ONE event, all or nothing:
     *   "stores.ProductAdded" {store_id, name, description, sku, price}
     *        every field from the payload, not removed; a store id longer than STORES_ID_MAX is
     *        CORE_ERR_INTERNAL (stored data no product can have);
     *   "stores.ProductRebranded" {name, description}       both replaced;
     *   "stores.ProductPriceIncreased" and "stores.ProductPriceDecreased" {delta}
     *        price = money(price + delta), kept to 4 decimals like every price;
     *   "stores.ProductRemoved" {store_id}                  removed = true, nothing else changes;
     *   any other name, or a known name with a payload of another type: unexpected().
     * Copy every new string before you free an old one: when a copy fails (CORE_ERR_NOMEM), the
     * product must be exactly as it was. */
    (void)entity;
    (void)ev;
    return core_err_set(err, CORE_ERR_INTERNAL, "TODO: exercise 05.1 (product_apply)");
}

static core_status product_to_snapshot(const void *entity, ProtobufCMessage **out, core_err *err)
{
    /* TODO(exercise 05.1): a new "stores.ProductV1" message (pb_new_of(stores__domain__product_v1))
     * with the product's store_id, name, description, sku, price and removed, in *out (the caller
     * frees it with pb_free). Out of memory: free what you made, return no_memory(err). */
    (void)entity;
    (void)out;
    return core_err_set(err, CORE_ERR_INTERNAL, "TODO: exercise 05.1 (product_to_snapshot)");
}

static core_status product_from_snapshot(void *entity, const ProtobufCMessage *snapshot, core_err *err)
{
    /* TODO(exercise 05.1): the product's state from a "stores.ProductV1" (borrowed), all or
     * nothing, every field including removed (the id and the version are the repository's job).
     * A snapshot of another message type, or one with a store id longer than STORES_ID_MAX:
     * CORE_ERR_INTERNAL, product unchanged. */
    (void)entity;
    (void)snapshot;
    return core_err_set(err, CORE_ERR_INTERNAL, "TODO: exercise 05.1 (product_from_snapshot)");
}

const struct es_aggregate_type stores_product_type = {
    STORES_PRODUCT_AGGREGATE, offsetof(struct stores_product, agg), product_apply,
    STORES_PRODUCT_SNAPSHOT,  product_to_snapshot,                  product_from_snapshot,
};

void stores_product_init(struct stores_product *p)
{
    memset(p, 0, sizeof *p);
    es_aggregate_init(&p->agg, STORES_PRODUCT_AGGREGATE);
}

void stores_product_release(struct stores_product *p)
{
    if (!p)
        return;
    core_free(p->name);
    core_free(p->description);
    core_free(p->sku);
    es_aggregate_release(&p->agg);
    stores_product_init(p);
}

static ProtobufCMessage *product_added_event(const char *store_id, const char *name, const char *description,
                                             const char *sku, double price)
{
    Stores__Domain__ProductAdded *m = pb_new_of(stores__domain__product_added);
    if (!m)
        return NULL;
    m->price = price;
    if (pb_set_string(&m->store_id, store_id, NULL) || pb_set_string(&m->name, name, NULL) ||
        pb_set_string(&m->description, description ? description : "", NULL) ||
        pb_set_string(&m->sku, sku ? sku : "", NULL)) {
        pb_free(&m->base);
        return NULL;
    }
    return &m->base;
}

/* The price rules every price (new or changed) must meet. */
static core_status check_price(double price, core_err *err)
{
    /* !(price >= 0) also catches NaN, which no comparison orders. */
    if (!(price >= 0))
        return core_err_set(err, CORE_ERR_INVALID, "the product price cannot be negative");
    if (price > STORES_PRICE_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "the product price cannot be over %.4f",
                            STORES_PRICE_MAX);
    return CORE_OK;
}

core_status stores_product_create(struct stores_product *p, const char *id, const char *store_id,
                                  const char *name, const char *description, const char *sku,
                                  double price, core_err *err)
{
    core_status st;
    if ((st = check_id(id, "product", err)) || (st = check_id(store_id, "store", err)))
        return st;
    if (core_str_blank(name))
        return core_err_set(err, CORE_ERR_INVALID, "the product name cannot be blank");
    if ((st = check_price(price, err)))
        return st;
    if ((st = ddd_aggregate_set_id(&p->agg.base, id, err)) == CORE_OK)
        st = raise_event(&p->agg, p, &stores_product_type, STORES_PRODUCT_ADDED,
                   product_added_event(store_id, name, description, sku, money(price)), err);
    if (st)
        stores_product_release(p);
    return st;
}

core_status stores_product_rebrand(struct stores_product *p, const char *name, const char *description,
                                   core_err *err)
{
    if (core_str_blank(name))
        return core_err_set(err, CORE_ERR_INVALID, "the product name cannot be blank");
    Stores__Domain__ProductRebranded *m = pb_new_of(stores__domain__product_rebranded);
    if (m && (pb_set_string(&m->name, name, NULL) ||
              pb_set_string(&m->description, description ? description : "", NULL))) {
        pb_free(&m->base);
        m = NULL;
    }
    return raise_event(&p->agg, p, &stores_product_type, STORES_PRODUCT_REBRANDED, m ? &m->base : NULL, err);
}

/* Raises a price change event (increase or decrease) to the new price. */
static core_status change_price(struct stores_product *p, const char *event, double price, core_err *err)
{
    Stores__Domain__ProductPriceChanged *m = pb_new_of(stores__domain__product_price_changed);
    if (m)
        m->delta = money(price - p->price);
    return raise_event(&p->agg, p, &stores_product_type, event, m ? &m->base : NULL, err);
}

/* The rules both price changes share: a valid new price, and a change of the price as it is
 * kept (to 4 decimals): a delta of 0 would store an event that changes nothing. */
static core_status check_price_change(const struct stores_product *p, double price, core_err *err)
{
    core_status st = check_price(price, err);
    if (st)
        return st;
    if (money(price - p->price) == 0)
        return core_err_set(err, CORE_ERR_INVALID, "the price change would be zero");
    return CORE_OK;
}
core_status stores_product_increase_price(struct stores_product *p, double price, core_err *err)
{
    core_status st = check_price_change(p, price, err);
    if (st)
        return st;
    if (price < p->price)
        return core_err_set(err, CORE_ERR_INVALID, "the price change would be a decrease");
    return change_price(p, STORES_PRODUCT_PRICE_INCREASED, price, err);
}

core_status stores_product_decrease_price(struct stores_product *p, double price, core_err *err)
{
    core_status st = check_price_change(p, price, err);
    if (st)
        return st;
    if (price > p->price)
        return core_err_set(err, CORE_ERR_INVALID, "the price change would be an increase");
    return change_price(p, STORES_PRODUCT_PRICE_DECREASED, price, err);
}

core_status stores_product_remove(struct stores_product *p, core_err *err)
{
    Stores__Domain__ProductRemoved *m = pb_new_of(stores__domain__product_removed);
    if (m && pb_set_string(&m->store_id, p->store_id, NULL)) {
        pb_free(&m->base);
        m = NULL;
    }
    return raise_event(&p->agg, p, &stores_product_type, STORES_PRODUCT_REMOVED, m ? &m->base : NULL, err);
}

/* ---- read-model rows ---------------------------------------------------------------------- */

void stores_mall_store_init(struct stores_mall_store *s)
{
    memset(s, 0, sizeof *s);
}

void stores_mall_store_release(struct stores_mall_store *s)
{
    if (!s)
        return;
    core_free(s->name);
    core_free(s->location);
    stores_mall_store_init(s);
}

core_status stores_mall_store_fill(struct stores_mall_store *s, const char *id, const char *name,
                                   const char *location, bool participating, core_err *err)
{
    core_status st = copy_id(s->id, id, "store", err);
    if (st)
        goto fail;
    s->name = core_strdup(name ? name : "");
    s->location = core_strdup(location ? location : "");
    if (!s->name || !s->location) {
        st = no_memory(err);
        goto fail;
    }
    s->participating = participating;
    return CORE_OK;
fail:
    stores_mall_store_release(s);
    return st;
}

void stores_catalog_product_init(struct stores_catalog_product *p)
{
    memset(p, 0, sizeof *p);
}

void stores_catalog_product_release(struct stores_catalog_product *p)
{
    if (!p)
        return;
    core_free(p->name);
    core_free(p->description);
    core_free(p->sku);
    stores_catalog_product_init(p);
}

core_status stores_catalog_product_fill(struct stores_catalog_product *p, const char *id, const char *store_id,
                                        const char *name, const char *description, const char *sku,
                                        double price, core_err *err)
{
    core_status st;
    if ((st = copy_id(p->id, id, "product", err)) || (st = copy_id(p->store_id, store_id, "store", err)))
        goto fail;
    p->name = core_strdup(name ? name : "");
    p->description = core_strdup(description ? description : "");
    p->sku = core_strdup(sku ? sku : "");
    if (!p->name || !p->description || !p->sku) {
        st = no_memory(err);
        goto fail;
    }
    p->price = price;
    return CORE_OK;
fail:
    stores_catalog_product_release(p);
    return st;
}

/* ---- lists -------------------------------------------------------------------------------- */

/* Makes room for one more element of size `size` in *items (len used of *cap). */
static bool grow(void **items, size_t *cap, size_t len, size_t size)
{
    if (len < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *n = core_realloc(*items, ncap * size);
    if (!n)
        return false;
    *items = n;
    *cap = ncap;
    return true;
}

void stores_mall_store_list_init(struct stores_mall_store_list *l)
{
    memset(l, 0, sizeof *l);
}

void stores_mall_store_list_release(struct stores_mall_store_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->len; i++)
        stores_mall_store_release(&l->items[i]);
    core_free(l->items);
    stores_mall_store_list_init(l);
}

core_status stores_mall_store_list_add(struct stores_mall_store_list *l, struct stores_mall_store *s,
                                       core_err *err)
{
    void *items = l->items;
    if (!grow(&items, &l->cap, l->len, sizeof *l->items))
        return no_memory(err);
    l->items = items;
    l->items[l->len++] = *s;
    stores_mall_store_init(s); /* moved */
    return CORE_OK;
}

void stores_catalog_product_list_init(struct stores_catalog_product_list *l)
{
    memset(l, 0, sizeof *l);
}

void stores_catalog_product_list_release(struct stores_catalog_product_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->len; i++)
        stores_catalog_product_release(&l->items[i]);
    core_free(l->items);
    stores_catalog_product_list_init(l);
}

core_status stores_catalog_product_list_add(struct stores_catalog_product_list *l,
                                            struct stores_catalog_product *p, core_err *err)
{
    void *items = l->items;
    if (!grow(&items, &l->cap, l->len, sizeof *l->items))
        return no_memory(err);
    l->items = items;
    l->items[l->len++] = *p;
    stores_catalog_product_init(p); /* moved */
    return CORE_OK;
}
