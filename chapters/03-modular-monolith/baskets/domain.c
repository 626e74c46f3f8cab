/* domain.c -- see domain.h. */
#include <stdint.h>
#include <string.h>

#include "baskets/domain.h"

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
    for (size_t i = BASKETS_STATUS_OPEN; text && i < sizeof status_texts / sizeof status_texts[0];
         i++) {
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
    baskets_basket_init(b);
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
    core_strlcpy(b->customer_id, customer_id, sizeof b->customer_id);
    b->status = BASKETS_STATUS_OPEN;
    return CORE_OK;
}

core_status baskets_basket_cancel(struct baskets_basket *b, core_err *err)
{
    if (b->status != BASKETS_STATUS_OPEN)
        return core_err_set(err, CORE_ERR_INVALID, "the basket cannot be cancelled");
    drop_items(b);
    b->status = BASKETS_STATUS_CANCELLED;
    return CORE_OK;
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
    core_strlcpy(b->payment_id, payment_id, sizeof b->payment_id);
    b->status = BASKETS_STATUS_CHECKED_OUT;
    return CORE_OK;
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

/* Makes room for one more line. */
static bool grow(struct baskets_basket *b)
{
    return core_array_grow(&b->items, &b->cap, b->nitems + 1, sizeof *b->items) == CORE_OK;
}

static int str_cmp0(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

/* Where a line for (store_name, product_name) belongs: after every line that sorts before or
 * equal to it, so lines with equal names keep their order of arrival. */
static size_t sorted_position(const struct baskets_basket *b, const char *store_name,
                              const char *product_name)
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
                                    const struct baskets_product *product, int quantity,
                                    core_err *err)
{
    core_status st = check_change(b, quantity, err);
    if (st)
        return st;

    for (size_t i = 0; i < b->nitems; i++) {
        struct baskets_item *it = &b->items[i];
        if (str_cmp0(it->product_id, product->id) != 0 ||
            str_cmp0(it->store_id, product->store_id) != 0)
            continue;
        if (it->quantity > INT32_MAX - quantity)
            return core_err_set(err, CORE_ERR_INVALID, "the item quantity is too large");
        it->quantity += quantity;
        return CORE_OK;
    }

    struct baskets_item line;
    if (!grow(b) || !item_fill(&line, store->id, product->id, store->name, product->name,
                               product->price, quantity))
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory adding an item");
    size_t at = sorted_position(b, line.store_name, line.product_name);
    memmove(&b->items[at + 1], &b->items[at], (b->nitems - at) * sizeof b->items[0]);
    b->items[at] = line;
    b->nitems++;
    return CORE_OK;
}

core_status baskets_basket_remove_item(struct baskets_basket *b, const char *product_id,
                                       int quantity, core_err *err)
{
    core_status st = check_change(b, quantity, err);
    if (st)
        return st;

    for (size_t i = 0; i < b->nitems; i++) {
        struct baskets_item *it = &b->items[i];
        if (str_cmp0(it->product_id, product_id) != 0)
            continue;
        if (it->quantity > quantity) {
            it->quantity -= quantity;
            return CORE_OK;
        }
        item_release(it);
        memmove(&b->items[i], &b->items[i + 1], (b->nitems - i - 1) * sizeof b->items[0]);
        b->nitems--;
        return CORE_OK;
    }
    return CORE_OK;
}

const struct baskets_item *baskets_basket_find_item(const struct baskets_basket *b,
                                                    const char *product_id)
{
    for (size_t i = 0; i < b->nitems; i++)
        if (str_cmp0(b->items[i].product_id, product_id) == 0)
            return &b->items[i];
    return NULL;
}

core_status baskets_basket_push_item(struct baskets_basket *b, const struct baskets_item *item,
                                     core_err *err)
{
    struct baskets_item line;
    if (!grow(b) || !item_fill(&line, item->store_id, item->product_id, item->store_name,
                               item->product_name, item->product_price, item->quantity))
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory loading a basket item");
    b->items[b->nitems++] = line;
    return CORE_OK;
}

core_status baskets_basket_copy(struct baskets_basket *dst, const struct baskets_basket *src,
                                core_err *err)
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
