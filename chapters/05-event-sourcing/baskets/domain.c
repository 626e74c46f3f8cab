/* domain.c -- see domain.h. */
#include <stdint.h>
#include <string.h>

#include "baskets/domain.h"
#include "baskets/domain_events.pb-c.h"
#include "baskets/snapshots.pb-c.h"
#include "pb.h"

static const char *const status_texts[] = {
    [BASKETS_STATUS_UNKNOWN] = "",
    [BASKETS_STATUS_OPEN] = "open",
    [BASKETS_STATUS_CANCELLED] = "cancelled",
    [BASKETS_STATUS_CHECKED_OUT] = "checked_out",
};

const char *baskets_status_text(enum baskets_status st)
{
    if ((size_t)st >= sizeof status_texts / sizeof status_texts[0])
        return "";
    return status_texts[st];
}

bool baskets_status_parse(const char *text, enum baskets_status *out)
{
    for (size_t i = BASKETS_STATUS_OPEN; text && i < sizeof status_texts / sizeof status_texts[0]; i++) {
        if (strcmp(text, status_texts[i]) == 0) {
            *out = (enum baskets_status)i;
            return true;
        }
    }
    return false;
}

void baskets_store_release(struct baskets_store *s)
{
    if (!s)
        return;
    core_free(s->id);
    core_free(s->name);
    core_free(s->location);
    *s = (struct baskets_store)BASKETS_STORE_INIT;
}

void baskets_product_release(struct baskets_product *p)
{
    if (!p)
        return;
    core_free(p->id);
    core_free(p->store_id);
    core_free(p->name);
    *p = (struct baskets_product)BASKETS_PRODUCT_INIT;
}

static void item_release(struct baskets_item *it)
{
    core_free(it->store_id);
    core_free(it->product_id);
    core_free(it->store_name);
    core_free(it->product_name);
    memset(it, 0, sizeof *it);
}

/* Fills dst with copies of the four strings; all or nothing. NULL strings are copied as "". */
static bool item_fill(struct baskets_item *dst, const char *store_id, const char *product_id,
                      const char *store_name, const char *product_name, double price, int quantity)
{
    dst->store_id = core_strdup(store_id ? store_id : "");
    dst->product_id = core_strdup(product_id ? product_id : "");
    dst->store_name = core_strdup(store_name ? store_name : "");
    dst->product_name = core_strdup(product_name ? product_name : "");
    dst->product_price = price;
    dst->quantity = quantity;
    if (dst->store_id && dst->product_id && dst->store_name && dst->product_name)
        return true;
    item_release(dst);
    return false;
}

void baskets_basket_init(struct baskets_basket *b)
{
    *b = (struct baskets_basket)BASKETS_BASKET_INIT;
}

static void drop_items(struct baskets_basket *b)
{
    for (size_t i = 0; i < b->nitems; i++)
        item_release(&b->items[i]);
    core_free(b->items);
    b->items = NULL;
    b->nitems = 0;
    b->cap = 0;
}

void baskets_basket_release(struct baskets_basket *b)
{
    if (!b)
        return;
    drop_items(b);
    es_aggregate_release(&b->agg);
    baskets_basket_init(b);
}

/* ---- events ---------------------------------------------------------------------------------- */

static core_status no_memory(const char *what, core_err *err)
{
    return core_err_set(err, CORE_ERR_NOMEM, "out of memory recording %s", what);
}

/* Raises event `name` with payload (ownership taken; NULL means building it ran out of memory)
 * on b, stamped with b's id: recorded, then applied to b (apply below). On failure nothing is
 * recorded, b is unchanged and the payload is freed. */
static core_status record(struct baskets_basket *b, const char *name, ProtobufCMessage *payload, core_err *err)
{
    core_status st;
    if (!payload)
        return no_memory(name, err);
    if ((st = ddd_aggregate_set_id(&b->agg.base, b->id, err))) {
        pb_free(payload);
        return st;
    }
    return es_aggregate_raise(&b->agg, b, &baskets_basket_type, name, &payload, err);
}

/* A payload line for it with the given quantity, or NULL when out of memory. */
static Baskets__Domain__Item *item_message(const struct baskets_item *it, int quantity)
{
    Baskets__Domain__Item *m = pb_new_of(baskets__domain__item);
    if (!m)
        return NULL;
    m->product_price = it->product_price;
    m->quantity = quantity;
    if (pb_set_string(&m->store_id, it->store_id, NULL) || pb_set_string(&m->product_id, it->product_id, NULL) ||
        pb_set_string(&m->store_name, it->store_name, NULL) ||
        pb_set_string(&m->product_name, it->product_name, NULL)) {
        pb_free(&m->base);
        return NULL;
    }
    return m;
}

static ProtobufCMessage *started_event(const char *customer_id)
{
    Baskets__Domain__BasketStarted *m = pb_new_of(baskets__domain__basket_started);
    if (m && pb_set_string(&m->customer_id, customer_id, NULL)) {
        pb_free(&m->base);
        return NULL;
    }
    return m ? &m->base : NULL;
}

static ProtobufCMessage *item_added_event(const struct baskets_item *line, int quantity)
{
    Baskets__Domain__BasketItemAdded *m = pb_new_of(baskets__domain__basket_item_added);
    if (m && !(m->item = item_message(line, quantity))) {
        pb_free(&m->base);
        return NULL;
    }
    return m ? &m->base : NULL;
}

static ProtobufCMessage *item_removed_event(const char *product_id, int quantity)
{
    Baskets__Domain__BasketItemRemoved *m = pb_new_of(baskets__domain__basket_item_removed);
    if (!m)
        return NULL;
    m->quantity = quantity;
    if (pb_set_string(&m->product_id, product_id, NULL)) {
        pb_free(&m->base);
        return NULL;
    }
    return &m->base;
}

/* The checkout of b with payment_id: the customer, the payment and every line. */
static ProtobufCMessage *checked_out_event(const struct baskets_basket *b, const char *payment_id)
{
    Baskets__Domain__BasketCheckedOut *m = pb_new_of(baskets__domain__basket_checked_out);
    if (!m)
        return NULL;
    if (pb_set_string(&m->customer_id, b->customer_id, NULL) || pb_set_string(&m->payment_id, payment_id, NULL) ||
        !(m->items = core_calloc(b->nitems, sizeof *m->items)))
        goto fail;
    for (; m->n_items < b->nitems; m->n_items++)
        if (!(m->items[m->n_items] = item_message(&b->items[m->n_items], b->items[m->n_items].quantity)))
            goto fail;
    return &m->base;
fail:
    pb_free(&m->base); /* frees the n_items lines made so far */
    return NULL;
}

/* Blank and length check of one id; name is the id's name in the message ("basket", ...). */
static core_status check_id(const char *id, const char *name, core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the %s id cannot be blank", name);
    if (strlen(id) > BASKETS_ID_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "the %s id is too long", name);
    return CORE_OK;
}

core_status baskets_check_id(const char *id, core_err *err)
{
    return check_id(id, "basket", err);
}

core_status baskets_basket_start(struct baskets_basket *b, const char *id, const char *customer_id,
                                 core_err *err)
{
    core_status st;
    if ((st = check_id(id, "basket", err)) || (st = check_id(customer_id, "customer", err)))
        return st;
    baskets_basket_release(b);
    core_strlcpy(b->id, id, sizeof b->id);
    if ((st = record(b, BASKETS_BASKET_STARTED, started_event(customer_id), err)))
        baskets_basket_release(b);
    return st;
}

core_status baskets_basket_cancel(struct baskets_basket *b, core_err *err)
{
    if (b->status != BASKETS_STATUS_OPEN)
        return core_err_set(err, CORE_ERR_INVALID, "the basket cannot be cancelled");
    return record(b, BASKETS_BASKET_CANCELED, pb_new(&baskets__domain__basket_canceled__descriptor), err);
}

core_status baskets_basket_checkout(struct baskets_basket *b, const char *payment_id, core_err *err)
{
    core_status st;
    if (b->status != BASKETS_STATUS_OPEN)
        return core_err_set(err, CORE_ERR_INVALID, "the basket cannot be modified");
    if (b->nitems == 0)
        return core_err_set(err, CORE_ERR_INVALID, "the basket has no items");
    if ((st = check_id(payment_id, "payment", err)))
        return st;
    return record(b, BASKETS_BASKET_CHECKED_OUT, checked_out_event(b, payment_id), err);
}

/* Rules shared by adding and removing. */
static core_status check_change(const struct baskets_basket *b, int quantity, core_err *err)
{
    if (b->status != BASKETS_STATUS_OPEN)
        return core_err_set(err, CORE_ERR_INVALID, "the basket cannot be modified");
    if (quantity < 0)
        return core_err_set(err, CORE_ERR_INVALID, "the item quantity cannot be negative");
    if (quantity == 0)
        return core_err_set(err, CORE_ERR_INVALID, "the item quantity cannot be zero");
    return CORE_OK;
}

static bool grow(struct baskets_basket *b)
{
    if (b->nitems < b->cap)
        return true;
    size_t cap = b->cap ? b->cap * 2 : 4;
    struct baskets_item *items = core_realloc(b->items, cap * sizeof *items);
    if (!items)
        return false;
    b->items = items;
    b->cap = cap;
    return true;
}

static int str_cmp0(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

/* Where a line for (store_name, product_name) belongs: after every line that sorts before or
 * equal to it, so lines with equal names keep their order of arrival. */
static size_t sorted_position(const struct baskets_basket *b, const char *store_name, const char *product_name)
{
    size_t i = 0;
    for (; i < b->nitems; i++) {
        int c = str_cmp0(b->items[i].store_name, store_name);
        if (c == 0)
            c = str_cmp0(b->items[i].product_name, product_name);
        if (c > 0)
            break;
    }
    return i;
}

core_status baskets_basket_add_item(struct baskets_basket *b, const struct baskets_store *store,
                                    const struct baskets_product *product, int quantity, core_err *err)
{
    core_status st = check_change(b, quantity, err);
    if (st)
        return st;

    for (size_t i = 0; i < b->nitems; i++) {
        struct baskets_item *it = &b->items[i];
        if (str_cmp0(it->product_id, product->id) != 0 || str_cmp0(it->store_id, product->store_id) != 0)
            continue;
        if (it->quantity > INT32_MAX - quantity)
            return core_err_set(err, CORE_ERR_INVALID, "the item quantity is too large");
        return record(b, BASKETS_BASKET_ITEM_ADDED, item_added_event(it, quantity), err);
    }

    /* a new line (its strings borrowed for the event, which copies them) */
    const struct baskets_item line = {store->id, product->id, store->name, product->name, product->price,
                                      quantity};
    return record(b, BASKETS_BASKET_ITEM_ADDED, item_added_event(&line, quantity), err);
}

core_status baskets_basket_remove_item(struct baskets_basket *b, const char *product_id, int quantity,
                                       core_err *err)
{
    core_status st = check_change(b, quantity, err);
    if (st)
        return st;

    for (size_t i = 0; i < b->nitems; i++) {
        struct baskets_item *it = &b->items[i];
        if (str_cmp0(it->product_id, product_id) == 0)
            return record(b, BASKETS_BASKET_ITEM_REMOVED, item_removed_event(it->product_id, quantity), err);
    }
    return CORE_OK;
}

const struct baskets_item *baskets_basket_find_item(const struct baskets_basket *b, const char *product_id)
{
    for (size_t i = 0; i < b->nitems; i++)
        if (str_cmp0(b->items[i].product_id, product_id) == 0)
            return &b->items[i];
    return NULL;
}

core_status baskets_basket_push_item(struct baskets_basket *b, const struct baskets_item *item, core_err *err)
{
    struct baskets_item line;
    if (!grow(b) || !item_fill(&line, item->store_id, item->product_id, item->store_name, item->product_name,
                               item->product_price, item->quantity))
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory loading a basket item");
    b->items[b->nitems++] = line;
    return CORE_OK;
}

core_status baskets_basket_copy(struct baskets_basket *dst, const struct baskets_basket *src, core_err *err)
{
    baskets_basket_init(dst);
    memcpy(dst->id, src->id, sizeof dst->id);
    memcpy(dst->customer_id, src->customer_id, sizeof dst->customer_id);
    memcpy(dst->payment_id, src->payment_id, sizeof dst->payment_id);
    dst->status = src->status;
    for (size_t i = 0; i < src->nitems; i++) {
        core_status st = baskets_basket_push_item(dst, &src->items[i], err);
        if (st) {
            baskets_basket_release(dst);
            return st;
        }
    }
    return CORE_OK;
}

/* ---- event sourcing: apply, snapshots, registration (chapter 05) ------------------------------ */

/* A stored or raised event that does not fit the basket: a programming error, never a client's. */
static core_status bad_data(const struct baskets_basket *b, const char *what, core_err *err)
{
    return core_err_set(err, CORE_ERR_INTERNAL, "%s %s: %s", BASKETS_AGGREGATE, b->agg.base.id, what);
}

/* Copies an id of a payload into a basket field; false when it does not fit. */
static bool copy_id(char dst[BASKETS_ID_MAX + 1], const char *src)
{
    return core_strlcpy(dst, src ? src : "", BASKETS_ID_MAX + 1);
}

static core_status apply_started(struct baskets_basket *b, const ProtobufCMessage *payload, core_err *err)
{
    const Baskets__Domain__BasketStarted *m = (const void *)payload;
    char customer_id[BASKETS_ID_MAX + 1];
    if (!copy_id(customer_id, m->customer_id))
        return bad_data(b, "BasketStarted has a customer id that is too long", err);
    drop_items(b);
    memcpy(b->customer_id, customer_id, sizeof customer_id);
    b->payment_id[0] = '\0';
    b->status = BASKETS_STATUS_OPEN;
    return CORE_OK;
}

static core_status apply_item_added(struct baskets_basket *b, const ProtobufCMessage *payload, core_err *err)
{
    const Baskets__Domain__Item *in = ((const Baskets__Domain__BasketItemAdded *)payload)->item;
    if (!in || in->quantity < 1)
        return bad_data(b, "BasketItemAdded has no item or a quantity below 1", err);
    for (size_t i = 0; i < b->nitems; i++) {
        struct baskets_item *it = &b->items[i];
        if (str_cmp0(it->product_id, in->product_id) != 0 || str_cmp0(it->store_id, in->store_id) != 0)
            continue;
        if (it->quantity > INT32_MAX - in->quantity)
            return bad_data(b, "BasketItemAdded makes a line's quantity too large", err);
        it->quantity += in->quantity;
        return CORE_OK;
    }

    struct baskets_item line;
    if (!grow(b) || !item_fill(&line, in->store_id, in->product_id, in->store_name, in->product_name,
                               in->product_price, in->quantity))
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory adding an item");
    size_t at = sorted_position(b, line.store_name, line.product_name);
    memmove(&b->items[at + 1], &b->items[at], (b->nitems - at) * sizeof b->items[0]);
    b->items[at] = line;
    b->nitems++;
    return CORE_OK;
}

static core_status apply_item_removed(struct baskets_basket *b, const ProtobufCMessage *payload, core_err *err)
{
    const Baskets__Domain__BasketItemRemoved *m = (const void *)payload;
    if (m->quantity < 1)
        return bad_data(b, "BasketItemRemoved has a quantity below 1", err);
    for (size_t i = 0; i < b->nitems; i++) {
        struct baskets_item *it = &b->items[i];
        if (str_cmp0(it->product_id, m->product_id) != 0)
            continue;
        if (it->quantity > m->quantity) {
            it->quantity -= m->quantity;
            return CORE_OK;
        }
        item_release(it);
        memmove(&b->items[i], &b->items[i + 1], (b->nitems - i - 1) * sizeof b->items[0]);
        b->nitems--;
        return CORE_OK;
    }
    return CORE_OK; /* a product the basket does not hold: nothing to take out */
}

static core_status apply_canceled(struct baskets_basket *b, const ProtobufCMessage *payload, core_err *err)
{
    (void)payload;
    (void)err;
    drop_items(b);
    b->status = BASKETS_STATUS_CANCELLED;
    return CORE_OK;
}

static core_status apply_checked_out(struct baskets_basket *b, const ProtobufCMessage *payload, core_err *err)
{
    const Baskets__Domain__BasketCheckedOut *m = (const void *)payload;
    char payment_id[BASKETS_ID_MAX + 1];
    if (!copy_id(payment_id, m->payment_id))
        return bad_data(b, "BasketCheckedOut has a payment id that is too long", err);
    memcpy(b->payment_id, payment_id, sizeof payment_id);
    b->status = BASKETS_STATUS_CHECKED_OUT;
    return CORE_OK;
}

/* Every event of the basket: its name, its payload type and what it does. */
static const struct {
    const char *name;
    const ProtobufCMessageDescriptor *desc;
    core_status (*apply)(struct baskets_basket *b, const ProtobufCMessage *payload, core_err *err);
} events[] = {
    {BASKETS_BASKET_STARTED, &baskets__domain__basket_started__descriptor, apply_started},
    {BASKETS_BASKET_ITEM_ADDED, &baskets__domain__basket_item_added__descriptor, apply_item_added},
    {BASKETS_BASKET_ITEM_REMOVED, &baskets__domain__basket_item_removed__descriptor, apply_item_removed},
    {BASKETS_BASKET_CANCELED, &baskets__domain__basket_canceled__descriptor, apply_canceled},
    {BASKETS_BASKET_CHECKED_OUT, &baskets__domain__basket_checked_out__descriptor, apply_checked_out},
};
#define NEVENTS (sizeof events / sizeof events[0])

/* es_aggregate_type.apply: one event onto the basket, all or nothing; b->id follows the
 * aggregate's id (set by es_repo_load or by a rule). */
static core_status apply(void *entity, const ddd_event *event, core_err *err)
{
    struct baskets_basket *b = entity;
    for (size_t i = 0; i < NEVENTS; i++) {
        if (strcmp(ddd_event_name(event), events[i].name) != 0)
            continue;
        if (!ddd_event_payload_is(event, events[i].desc))
            return core_err_set(err, CORE_ERR_INTERNAL, "%s %s: event %s without a %s payload", BASKETS_AGGREGATE,
                                b->agg.base.id, events[i].name, events[i].desc->name);
        core_status st = events[i].apply(b, ddd_event_payload(event), err);
        if (st == CORE_OK)
            core_strlcpy(b->id, b->agg.base.id, sizeof b->id);
        return st;
    }
    return core_err_set(err, CORE_ERR_INTERNAL, "%s %s: unknown event %s", BASKETS_AGGREGATE, b->agg.base.id,
                        ddd_event_name(event));
}

/* es_aggregate_type.to_snapshot: the basket as a "baskets.BasketV1". */
static core_status to_snapshot(const void *entity, ProtobufCMessage **out, core_err *err)
{
    const struct baskets_basket *b = entity;
    Baskets__Domain__BasketV1 *m = pb_new_of(baskets__domain__basket_v1);
    if (!m)
        return no_memory(BASKETS_BASKET_V1, err);
    if (pb_set_string(&m->customer_id, b->customer_id, NULL) || pb_set_string(&m->payment_id, b->payment_id, NULL) ||
        pb_set_string(&m->status, baskets_status_text(b->status), NULL) ||
        (b->nitems > 0 && !(m->items = core_calloc(b->nitems, sizeof *m->items))))
        goto fail;
    for (; m->n_items < b->nitems; m->n_items++)
        if (!(m->items[m->n_items] = item_message(&b->items[m->n_items], b->items[m->n_items].quantity)))
            goto fail;
    *out = &m->base;
    return CORE_OK;
fail:
    pb_free(&m->base);
    return no_memory(BASKETS_BASKET_V1, err);
}

/* es_aggregate_type.from_snapshot: the basket's state from a "baskets.BasketV1", all or nothing. */
static core_status from_snapshot(void *entity, const ProtobufCMessage *snapshot, core_err *err)
{
    struct baskets_basket *b = entity;
    struct baskets_basket tmp = BASKETS_BASKET_INIT; /* customer, payment, status and lines */
    core_status st = CORE_OK;
    if (!snapshot || snapshot->descriptor != &baskets__domain__basket_v1__descriptor)
        return bad_data(b, "the snapshot is not a " BASKETS_BASKET_V1, err);
    const Baskets__Domain__BasketV1 *m = (const void *)snapshot;
    if (!baskets_status_parse(m->status, &tmp.status) || !copy_id(tmp.customer_id, m->customer_id) ||
        !copy_id(tmp.payment_id, m->payment_id))
        return bad_data(b, "the snapshot has an unknown status or an id that is too long", err);
    for (size_t i = 0; st == CORE_OK && i < m->n_items; i++) {
        const Baskets__Domain__Item *in = m->items[i];
        if (!in || in->quantity < 1) {
            st = bad_data(b, "the snapshot has a line with a quantity below 1", err);
            break;
        }
        const struct baskets_item line = {in->store_id, in->product_id, in->store_name, in->product_name,
                                          in->product_price, in->quantity};
        st = baskets_basket_push_item(&tmp, &line, err);
    }
    if (st == CORE_OK) { /* hand tmp's state over to b */
        drop_items(b);
        b->items = tmp.items;
        b->nitems = tmp.nitems;
        b->cap = tmp.cap;
        tmp.items = NULL;
        tmp.nitems = tmp.cap = 0;
        memcpy(b->customer_id, tmp.customer_id, sizeof b->customer_id);
        memcpy(b->payment_id, tmp.payment_id, sizeof b->payment_id);
        b->status = tmp.status;
        core_strlcpy(b->id, b->agg.base.id, sizeof b->id);
    }
    baskets_basket_release(&tmp);
    return st;
}

const struct es_aggregate_type baskets_basket_type = {
    .name = BASKETS_AGGREGATE,
    .agg_offset = offsetof(struct baskets_basket, agg),
    .apply = apply,
    .snapshot_name = BASKETS_BASKET_V1,
    .to_snapshot = to_snapshot,
    .from_snapshot = from_snapshot,
};

core_status baskets_register_types(es_registry *reg, core_err *err)
{
    core_status st = CORE_OK;
    for (size_t i = 0; st == CORE_OK && i < NEVENTS; i++)
        st = es_registry_add(reg, events[i].name, events[i].desc, err);
    if (st == CORE_OK)
        st = es_registry_add(reg, BASKETS_BASKET_V1, &baskets__domain__basket_v1__descriptor, err);
    return st;
}
