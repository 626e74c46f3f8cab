/* domain.c -- see domain.h. */
#include <math.h>
#include <string.h>

#include "ordering/domain.h"
#include "ordering/domain_events.pb-c.h"
#include "ordering/snapshots.pb-c.h"
#include "pb.h"

static const char *const status_texts[] = {
    [ORDERING_STATUS_UNKNOWN] = "",
    [ORDERING_STATUS_PENDING] = "pending",
    [ORDERING_STATUS_IN_PROGRESS] = "in-progress",
    [ORDERING_STATUS_READY] = "ready",
    [ORDERING_STATUS_COMPLETED] = "completed",
    [ORDERING_STATUS_CANCELLED] = "cancelled",
};
#define NSTATUS (sizeof status_texts / sizeof status_texts[0])

const char *ordering_status_text(enum ordering_status status)
{
    if ((size_t)status >= NSTATUS)
        return "";
    return status_texts[status];
}

enum ordering_status ordering_status_parse(const char *text)
{
    for (size_t i = 1; text && i < NSTATUS; i++) {
        if (strcmp(text, status_texts[i]) == 0)
            return (enum ordering_status)i;
    }
    return ORDERING_STATUS_UNKNOWN;
}

void ordering_order_init(struct ordering_order *o)
{
    *o = (struct ordering_order)ORDERING_ORDER_INIT;
}

static void item_release(struct ordering_item *it)
{
    core_free(it->store_id);
    core_free(it->product_id);
    core_free(it->store_name);
    core_free(it->product_name);
}

static void items_free(struct ordering_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        item_release(&items[i]);
    core_free(items);
}

void ordering_order_release(struct ordering_order *o)
{
    items_free(o->items, o->nitems);
    es_aggregate_release(&o->agg);
    ordering_order_init(o);
}

/* ---- events --------------------------------------------------------------------------------- */

/* Raises event name with payload (ownership taken; NULL means building it ran out of memory)
 * on the order's aggregate, whose id is first set from o->id: recorded, then applied to o
 * (apply below). On failure nothing is recorded and o is unchanged. */
static core_status record(struct ordering_order *o, const char *name, ProtobufCMessage *payload,
                          core_err *err)
{
    core_status st;
    if (!payload)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory recording %s", name);
    if ((st = ddd_aggregate_set_id(&o->agg.base, o->id, err))) {
        pb_free(payload);
        return st;
    }
    return es_aggregate_raise(&o->agg, o, &ordering_order_type, name, &payload, err);
}

/* The lines items[0..nitems) as OrderItem messages in *out / *n_out (a new array); false when
 * out of memory (what was made is counted in *n_out, so pb_free() of the owner releases it). */
static bool items_payload(const struct ordering_item *items, size_t nitems,
                          Ordering__Domain__OrderItem ***out, size_t *n_out)
{
    if (nitems > 0 && !(*out = core_calloc(nitems, sizeof **out)))
        return false;
    for (size_t i = 0; i < nitems; i++) {
        const struct ordering_item *it = &items[i];
        Ordering__Domain__OrderItem *item = pb_new_of(ordering__domain__order_item);
        if (!item)
            return false;
        (*out)[(*n_out)++] = item; /* counted at once, so pb_free() releases it on failure */
        item->price = it->price;
        item->quantity = it->quantity;
        if (pb_set_string(&item->store_id, it->store_id, NULL) ||
            pb_set_string(&item->product_id, it->product_id, NULL) ||
            pb_set_string(&item->store_name, it->store_name, NULL) ||
            pb_set_string(&item->product_name, it->product_name, NULL))
            return false;
    }
    return true;
}

/* The payload of OrderCreated: a copy of the new order's data, or NULL when out of memory. */
static ProtobufCMessage *created_payload(const char *customer_id, const char *payment_id,
                                         const char *shopping_id, const struct ordering_item *items,
                                         size_t nitems)
{
    Ordering__Domain__OrderCreated *p = pb_new_of(ordering__domain__order_created);
    if (!p)
        return NULL;
    if (pb_set_string(&p->customer_id, customer_id, NULL) ||
        pb_set_string(&p->payment_id, payment_id, NULL) ||
        pb_set_string(&p->shopping_id, shopping_id, NULL) ||
        !items_payload(items, nitems, &p->items, &p->n_items))
        goto fail;
    return &p->base;
fail:
    pb_free(&p->base);
    return NULL;
}

static ProtobufCMessage *canceled_payload(const struct ordering_order *o)
{
    Ordering__Domain__OrderCanceled *p = pb_new_of(ordering__domain__order_canceled);
    if (p && (pb_set_string(&p->customer_id, o->customer_id, NULL) ||
              pb_set_string(&p->payment_id, o->payment_id, NULL))) {
        pb_free(&p->base);
        p = NULL;
    }
    return p ? &p->base : NULL;
}

static ProtobufCMessage *readied_payload(const struct ordering_order *o)
{
    Ordering__Domain__OrderReadied *p = pb_new_of(ordering__domain__order_readied);
    if (p && (pb_set_string(&p->customer_id, o->customer_id, NULL) ||
              pb_set_string(&p->payment_id, o->payment_id, NULL))) {
        pb_free(&p->base);
        p = NULL;
    }
    if (p)
        p->total = ordering_order_total(o);
    return p ? &p->base : NULL;
}

static ProtobufCMessage *completed_payload(const char *invoice_id)
{
    Ordering__Domain__OrderCompleted *p = pb_new_of(ordering__domain__order_completed);
    if (p && pb_set_string(&p->invoice_id, invoice_id, NULL)) {
        pb_free(&p->base);
        p = NULL;
    }
    return p ? &p->base : NULL;
}

static ProtobufCMessage *invoiced_payload(const char *invoice_id)
{
    Ordering__Domain__OrderInvoiced *p = pb_new_of(ordering__domain__order_invoiced);
    if (p && pb_set_string(&p->invoice_id, invoice_id, NULL)) {
        pb_free(&p->base);
        p = NULL;
    }
    return p ? &p->base : NULL;
}

/* Copies an id into a fixed field; what names the field in the error text ("the order id"). */
static core_status set_id(char dst[ORDERING_ID_SIZE], const char *src, const char *what,
                          core_err *err)
{
    if (!src)
        src = "";
    if (strlen(src) > ORDERING_ID_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "%s is too long", what);
    core_strlcpy(dst, src, ORDERING_ID_SIZE);
    return CORE_OK;
}

/* The amount rules of a new order (see ordering_order_check_new). NaN compares false with
 * everything, so !(price >= 0) refuses it too. */
static core_status check_amounts(const struct ordering_item *items, size_t nitems, core_err *err)
{
    double total = 0;
    for (size_t i = 0; i < nitems; i++) {
        if (items[i].quantity <= 0)
            return core_err_set(err, CORE_ERR_INVALID, "the item quantity must be positive");
        if (!(items[i].price >= 0))
            return core_err_set(err, CORE_ERR_INVALID, "the item price cannot be negative");
        if (items[i].price > ORDERING_AMOUNT_MAX)
            return core_err_set(err, CORE_ERR_INVALID, "the item price cannot be over %.4f",
                                ORDERING_AMOUNT_MAX);
        total += items[i].price * (double)items[i].quantity;
    }
    if (!isfinite(total) || total > ORDERING_AMOUNT_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "the order total cannot be over %.4f",
                            ORDERING_AMOUNT_MAX);
    return CORE_OK;
}

core_status ordering_order_check_new(const char *id, const char *customer_id,
                                     const char *payment_id, const struct ordering_item *items,
                                     size_t nitems, core_err *err)
{
    char field[ORDERING_ID_SIZE];
    core_status st;

    if (nitems == 0)
        return core_err_set(err, CORE_ERR_INVALID, "the order has no items");
    if (core_str_blank(customer_id))
        return core_err_set(err, CORE_ERR_INVALID, "the customer id cannot be blank");
    if (core_str_blank(payment_id))
        return core_err_set(err, CORE_ERR_INVALID, "the payment id cannot be blank");
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the order id cannot be blank");
    if ((st = set_id(field, id, "the order id", err)) ||
        (st = set_id(field, customer_id, "the customer id", err)) ||
        (st = set_id(field, payment_id, "the payment id", err)))
        return st;
    return check_amounts(items, nitems, err);
}

core_status ordering_order_create(struct ordering_order *o, const char *id, const char *customer_id,
                                  const char *payment_id, const char *shopping_id,
                                  const struct ordering_item *items, size_t nitems, core_err *err)
{
    char shopping[ORDERING_ID_SIZE], saved_id[ORDERING_ID_SIZE];
    core_status st;

    if (o->status != ORDERING_STATUS_UNKNOWN)
        return core_err_set(err, CORE_ERR_INVALID, "the order cannot be recreated");
    if ((st = ordering_order_check_new(id, customer_id, payment_id, items, nitems, err)) ||
        (st = set_id(shopping, shopping_id, "the shopping id", err)))
        return st;

    memcpy(saved_id, o->id, sizeof saved_id);
    core_strlcpy(o->id, id, sizeof o->id);
    st = record(o, ORDERING_ORDER_CREATED,
                created_payload(customer_id, payment_id, shopping, items, nitems), err);
    if (st) { /* o as it was: its id and its aggregate's (which fitted before) */
        memcpy(o->id, saved_id, sizeof saved_id);
        ddd_aggregate_set_id(&o->agg.base, saved_id, NULL);
    }
    return st;
}

core_status ordering_order_cancel(struct ordering_order *o, core_err *err)
{
    if (o->status != ORDERING_STATUS_PENDING)
        return core_err_set(err, CORE_ERR_INVALID, "the order cannot be cancelled");
    return record(o, ORDERING_ORDER_CANCELED, canceled_payload(o), err);
}

core_status ordering_order_ready(struct ordering_order *o, core_err *err)
{
    if (o->status != ORDERING_STATUS_PENDING && o->status != ORDERING_STATUS_IN_PROGRESS)
        return core_err_set(err, CORE_ERR_INVALID, "the order cannot be readied");
    return record(o, ORDERING_ORDER_READIED, readied_payload(o), err);
}

core_status ordering_order_complete(struct ordering_order *o, const char *invoice_id, core_err *err)
{
    char invoice[ORDERING_ID_SIZE]; /* the order's invoice id once completed */
    core_status st;
    if (o->status != ORDERING_STATUS_READY)
        return core_err_set(err, CORE_ERR_INVALID, "the order cannot be completed");
    core_strlcpy(invoice, o->invoice_id, sizeof invoice);
    if (!core_str_blank(invoice_id)) {
        if ((st = set_id(invoice, invoice_id, "the invoice id", err)))
            return st;
        if (!core_str_blank(o->invoice_id) && strcmp(o->invoice_id, invoice) != 0)
            return core_err_set(err, CORE_ERR_INVALID, "the invoice is not the order's invoice");
    }
    if (core_str_blank(invoice))
        return core_err_set(err, CORE_ERR_INVALID, "the invoice id cannot be blank");
    return record(o, ORDERING_ORDER_COMPLETED, completed_payload(invoice), err);
}

core_status ordering_order_record_invoice(struct ordering_order *o, const char *invoice_id,
                                          core_err *err)
{
    char invoice[ORDERING_ID_SIZE];
    core_status st;
    if (core_str_blank(invoice_id))
        return core_err_set(err, CORE_ERR_INVALID, "the invoice id cannot be blank");
    if ((st = set_id(invoice, invoice_id, "the invoice id", err)))
        return st;
    if (o->status != ORDERING_STATUS_READY)
        return core_err_set(err, CORE_ERR_INVALID, "the order is not ready");
    if (!core_str_blank(o->invoice_id) && strcmp(o->invoice_id, invoice) != 0)
        return core_err_set(err, CORE_ERR_INVALID, "the order already has an invoice");
    return record(o, ORDERING_ORDER_INVOICED, invoiced_payload(invoice), err);
}

double ordering_order_total(const struct ordering_order *o)
{
    double total = 0;
    for (size_t i = 0; i < o->nitems; i++)
        total += o->items[i].price * (double)o->items[i].quantity;
    return total;
}

/* ---- event sourcing: apply, snapshots, registration (chapter 05) ----------------------------- */

/* A stored or raised event that does not fit the order: a programming error, never a client's. */
static core_status bad_data(const struct ordering_order *o, const char *what, core_err *err)
{
    return core_err_set(err, CORE_ERR_INTERNAL, "%s %s: %s", ORDERING_ORDER_AGGREGATE,
                        o->agg.base.id, what);
}

/* Copies an id of a payload into an order field; false when it does not fit. */
static bool copy_id(char dst[ORDERING_ID_SIZE], const char *src)
{
    return core_strlcpy(dst, src ? src : "", ORDERING_ID_SIZE);
}

/* Deep copies of the payload lines in[0..n) in a new array (*out; NULL when n is 0). */
static core_status items_from_payload(Ordering__Domain__OrderItem *const *in, size_t n,
                                      struct ordering_item **out, core_err *err)
{
    *out = NULL;
    if (n == 0)
        return CORE_OK;
    struct ordering_item *copy = core_calloc(n, sizeof *copy);
    if (!copy)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory copying order items");
    for (size_t i = 0; i < n; i++) {
        const Ordering__Domain__OrderItem *src = in[i];
        struct ordering_item *dst = &copy[i];
        if (!src) {
            items_free(copy, n);
            return core_err_set(err, CORE_ERR_INTERNAL, "order item %zu is missing", i);
        }
        dst->store_id = core_strdup(src->store_id ? src->store_id : "");
        dst->product_id = core_strdup(src->product_id ? src->product_id : "");
        dst->store_name = core_strdup(src->store_name ? src->store_name : "");
        dst->product_name = core_strdup(src->product_name ? src->product_name : "");
        dst->price = src->price;
        dst->quantity = src->quantity;
        if (!dst->store_id || !dst->product_id || !dst->store_name || !dst->product_name) {
            items_free(copy, n); /* the rest is zeroed: nothing to free there */
            return core_err_set(err, CORE_ERR_NOMEM, "out of memory copying order items");
        }
    }
    *out = copy;
    return CORE_OK;
}

static core_status apply_created(struct ordering_order *o, const ProtobufCMessage *payload,
                                 core_err *err)
{
    const Ordering__Domain__OrderCreated *m = (const void *)payload;
    char customer[ORDERING_ID_SIZE], payment[ORDERING_ID_SIZE], shopping[ORDERING_ID_SIZE];
    struct ordering_item *items = NULL;
    if (!copy_id(customer, m->customer_id) || !copy_id(payment, m->payment_id) ||
        !copy_id(shopping, m->shopping_id))
        return bad_data(o, "OrderCreated has an id that is too long", err);
    core_status st = items_from_payload(m->items, m->n_items, &items, err);
    if (st)
        return st;
    items_free(o->items, o->nitems);
    o->items = items;
    o->nitems = m->n_items;
    memcpy(o->customer_id, customer, sizeof customer);
    memcpy(o->payment_id, payment, sizeof payment);
    memcpy(o->shopping_id, shopping, sizeof shopping);
    o->invoice_id[0] = '\0';
    o->status = ORDERING_STATUS_PENDING;
    return CORE_OK;
}

static core_status apply_canceled(struct ordering_order *o, const ProtobufCMessage *payload,
                                  core_err *err)
{
    (void)payload;
    (void)err;
    o->status = ORDERING_STATUS_CANCELLED;
    return CORE_OK;
}

static core_status apply_readied(struct ordering_order *o, const ProtobufCMessage *payload,
                                 core_err *err)
{
    (void)payload;
    (void)err;
    o->status = ORDERING_STATUS_READY;
    return CORE_OK;
}

static core_status apply_invoiced(struct ordering_order *o, const ProtobufCMessage *payload,
                                  core_err *err)
{
    const Ordering__Domain__OrderInvoiced *m = (const void *)payload;
    char invoice[ORDERING_ID_SIZE];
    if (!copy_id(invoice, m->invoice_id))
        return bad_data(o, "OrderInvoiced has an invoice id that is too long", err);
    memcpy(o->invoice_id, invoice, sizeof invoice);
    return CORE_OK;
}

static core_status apply_completed(struct ordering_order *o, const ProtobufCMessage *payload,
                                   core_err *err)
{
    const Ordering__Domain__OrderCompleted *m = (const void *)payload;
    char invoice[ORDERING_ID_SIZE];
    if (!copy_id(invoice, m->invoice_id))
        return bad_data(o, "OrderCompleted has an invoice id that is too long", err);
    memcpy(o->invoice_id, invoice, sizeof invoice);
    o->status = ORDERING_STATUS_COMPLETED;
    return CORE_OK;
}

/* Every event of the order: its name, its payload type and what it does. */
static const struct {
    const char *name;
    const ProtobufCMessageDescriptor *desc;
    core_status (*apply)(struct ordering_order *o, const ProtobufCMessage *payload, core_err *err);
} events[] = {
    {ORDERING_ORDER_CREATED, &ordering__domain__order_created__descriptor, apply_created},
    {ORDERING_ORDER_CANCELED, &ordering__domain__order_canceled__descriptor, apply_canceled},
    {ORDERING_ORDER_READIED, &ordering__domain__order_readied__descriptor, apply_readied},
    {ORDERING_ORDER_INVOICED, &ordering__domain__order_invoiced__descriptor, apply_invoiced},
    {ORDERING_ORDER_COMPLETED, &ordering__domain__order_completed__descriptor, apply_completed},
};
#define NEVENTS (sizeof events / sizeof events[0])

/* es_aggregate_type.apply: one event onto the order, all or nothing; o->id follows the
 * aggregate's id (set by es_repo_load or by a rule). */
static core_status apply(void *entity, const ddd_event *event, core_err *err)
{
    struct ordering_order *o = entity;
    for (size_t i = 0; i < NEVENTS; i++) {
        if (strcmp(ddd_event_name(event), events[i].name) != 0)
            continue;
        if (!ddd_event_payload_is(event, events[i].desc))
            return core_err_set(err, CORE_ERR_INTERNAL, "%s %s: event %s without a %s payload",
                                ORDERING_ORDER_AGGREGATE, o->agg.base.id, events[i].name,
                                events[i].desc->name);
        core_status st = events[i].apply(o, ddd_event_payload(event), err);
        if (st == CORE_OK)
            core_strlcpy(o->id, o->agg.base.id, sizeof o->id);
        return st;
    }
    return core_err_set(err, CORE_ERR_INTERNAL, "%s %s: unknown event %s", ORDERING_ORDER_AGGREGATE,
                        o->agg.base.id, ddd_event_name(event));
}

/* es_aggregate_type.to_snapshot: the order as an "ordering.OrderV1". */
static core_status to_snapshot(const void *entity, ProtobufCMessage **out, core_err *err)
{
    const struct ordering_order *o = entity;
    Ordering__Domain__OrderV1 *m = pb_new_of(ordering__domain__order_v1);
    if (!m || pb_set_string(&m->customer_id, o->customer_id, NULL) ||
        pb_set_string(&m->payment_id, o->payment_id, NULL) ||
        pb_set_string(&m->invoice_id, o->invoice_id, NULL) ||
        pb_set_string(&m->shopping_id, o->shopping_id, NULL) ||
        pb_set_string(&m->status, ordering_status_text(o->status), NULL) ||
        !items_payload(o->items, o->nitems, &m->items, &m->n_items)) {
        pb_free(m ? &m->base : NULL);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory making %s", ORDERING_ORDER_V1);
    }
    *out = &m->base;
    return CORE_OK;
}

/* es_aggregate_type.from_snapshot: the order's state from an "ordering.OrderV1", all or
 * nothing. */
static core_status from_snapshot(void *entity, const ProtobufCMessage *snapshot, core_err *err)
{
    struct ordering_order *o = entity;
    struct ordering_order tmp = ORDERING_ORDER_INIT; /* every field but the id and aggregate */
    if (!snapshot || snapshot->descriptor != &ordering__domain__order_v1__descriptor)
        return bad_data(o, "the snapshot is not an " ORDERING_ORDER_V1, err);
    const Ordering__Domain__OrderV1 *m = (const void *)snapshot;
    tmp.status = ordering_status_parse(m->status);
    if (tmp.status == ORDERING_STATUS_UNKNOWN || !copy_id(tmp.customer_id, m->customer_id) ||
        !copy_id(tmp.payment_id, m->payment_id) || !copy_id(tmp.invoice_id, m->invoice_id) ||
        !copy_id(tmp.shopping_id, m->shopping_id))
        return bad_data(o, "the snapshot has an unknown status or an id that is too long", err);
    core_status st = items_from_payload(m->items, m->n_items, &tmp.items, err);
    if (st)
        return st;
    tmp.nitems = m->n_items;
    items_free(o->items, o->nitems);
    o->items = tmp.items;
    o->nitems = tmp.nitems;
    memcpy(o->customer_id, tmp.customer_id, sizeof o->customer_id);
    memcpy(o->payment_id, tmp.payment_id, sizeof o->payment_id);
    memcpy(o->invoice_id, tmp.invoice_id, sizeof o->invoice_id);
    memcpy(o->shopping_id, tmp.shopping_id, sizeof o->shopping_id);
    o->status = tmp.status;
    core_strlcpy(o->id, o->agg.base.id, sizeof o->id);
    return CORE_OK;
}

const struct es_aggregate_type ordering_order_type = {
    .name = ORDERING_ORDER_AGGREGATE,
    .agg_offset = offsetof(struct ordering_order, agg),
    .apply = apply,
    .snapshot_name = ORDERING_ORDER_V1,
    .to_snapshot = to_snapshot,
    .from_snapshot = from_snapshot,
};

core_status ordering_register_types(es_registry *reg, core_err *err)
{
    core_status st = CORE_OK;
    for (size_t i = 0; st == CORE_OK && i < NEVENTS; i++)
        st = es_registry_add(reg, events[i].name, events[i].desc, err);
    if (st == CORE_OK)
        st = es_registry_add(reg, ORDERING_ORDER_V1, &ordering__domain__order_v1__descriptor, err);
    return st;
}
