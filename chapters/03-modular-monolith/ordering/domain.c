/* domain.c -- see domain.h. */
#include <math.h>
#include <string.h>

#include "ordering/domain.h"

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
    ordering_order_init(o);
}

/* Deep copies of items[0..n) in a new array (NULL when n is 0). */
static core_status items_copy(const struct ordering_item *items, size_t n,
                              struct ordering_item **out, core_err *err)
{
    *out = NULL;
    if (n == 0)
        return CORE_OK;
    struct ordering_item *copy = core_calloc(n, sizeof *copy);
    if (!copy)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory copying order items");
    for (size_t i = 0; i < n; i++) {
        const struct ordering_item *src = &items[i];
        struct ordering_item *dst = &copy[i];
        dst->store_id = core_strdup(src->store_id ? src->store_id : "");
        dst->product_id = core_strdup(src->product_id ? src->product_id : "");
        dst->store_name = core_strdup(src->store_name ? src->store_name : "");
        dst->product_name = core_strdup(src->product_name ? src->product_name : "");
        dst->price = src->price;
        dst->quantity = src->quantity;
        if (!dst->store_id || !dst->product_id || !dst->store_name || !dst->product_name) {
            items_free(copy, i + 1);
            return core_err_set(err, CORE_ERR_NOMEM, "out of memory copying order items");
        }
    }
    *out = copy;
    return CORE_OK;
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

/* The amount rules of a new order (see ordering_order_create). NaN compares false with
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

core_status ordering_order_create(struct ordering_order *o, const char *id, const char *customer_id,
                                  const char *payment_id, const struct ordering_item *items,
                                  size_t nitems, core_err *err)
{
    struct ordering_order fresh = ORDERING_ORDER_INIT;
    core_status st;

    if (nitems == 0)
        return core_err_set(err, CORE_ERR_INVALID, "the order has no items");
    if (core_str_blank(customer_id))
        return core_err_set(err, CORE_ERR_INVALID, "the customer id cannot be blank");
    if (core_str_blank(payment_id))
        return core_err_set(err, CORE_ERR_INVALID, "the payment id cannot be blank");
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the order id cannot be blank");
    if ((st = set_id(fresh.id, id, "the order id", err)) ||
        (st = set_id(fresh.customer_id, customer_id, "the customer id", err)) ||
        (st = set_id(fresh.payment_id, payment_id, "the payment id", err)) ||
        (st = check_amounts(items, nitems, err)))
        return st;
    if ((st = items_copy(items, nitems, &fresh.items, err)))
        return st;
    fresh.nitems = nitems;
    fresh.status = ORDERING_STATUS_PENDING;

    ordering_order_release(o);
    *o = fresh;
    return CORE_OK;
}

core_status ordering_order_cancel(struct ordering_order *o, core_err *err)
{
    if (o->status != ORDERING_STATUS_PENDING)
        return core_err_set(err, CORE_ERR_INVALID, "the order cannot be cancelled");
    o->status = ORDERING_STATUS_CANCELLED;
    return CORE_OK;
}

core_status ordering_order_ready(struct ordering_order *o, core_err *err)
{
    if (o->status != ORDERING_STATUS_PENDING && o->status != ORDERING_STATUS_IN_PROGRESS)
        return core_err_set(err, CORE_ERR_INVALID, "the order cannot be readied");
    o->status = ORDERING_STATUS_READY;
    return CORE_OK;
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
    memcpy(o->invoice_id, invoice, sizeof invoice);
    o->status = ORDERING_STATUS_COMPLETED;
    return CORE_OK;
}

core_status ordering_order_set_shopping_id(struct ordering_order *o, const char *id, core_err *err)
{
    return set_id(o->shopping_id, id, "the shopping id", err);
}

core_status ordering_order_set_invoice_id(struct ordering_order *o, const char *id, core_err *err)
{
    char invoice[ORDERING_ID_SIZE];
    core_status st;
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the invoice id cannot be blank");
    if ((st = set_id(invoice, id, "the invoice id", err)))
        return st;
    if (o->status != ORDERING_STATUS_READY)
        return core_err_set(err, CORE_ERR_INVALID, "the order is not ready");
    if (!core_str_blank(o->invoice_id) && strcmp(o->invoice_id, invoice) != 0)
        return core_err_set(err, CORE_ERR_INVALID, "the order already has an invoice");
    memcpy(o->invoice_id, invoice, sizeof invoice);
    return CORE_OK;
}

core_status ordering_order_set_items(struct ordering_order *o, const struct ordering_item *items,
                                     size_t nitems, core_err *err)
{
    struct ordering_item *copy;
    core_status st = items_copy(items, nitems, &copy, err);
    if (st)
        return st;
    items_free(o->items, o->nitems);
    o->items = copy;
    o->nitems = nitems;
    return CORE_OK;
}

core_status ordering_order_copy(struct ordering_order *dst, const struct ordering_order *src,
                                core_err *err)
{
    struct ordering_order copy = *src;
    core_status st = items_copy(src->items, src->nitems, &copy.items, err);
    if (st)
        return st;
    ordering_order_release(dst);
    *dst = copy;
    return CORE_OK;
}

double ordering_order_total(const struct ordering_order *o)
{
    double total = 0;
    for (size_t i = 0; i < o->nitems; i++)
        total += o->items[i].price * (double)o->items[i].quantity;
    return total;
}
