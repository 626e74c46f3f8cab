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

/* ---- exercise 03.1: the basket's rules ------------------------------------------------------
 * Write the four rules below. Their contracts are in baskets/domain.h, their tests in the
 * exercise's test_basket_rules.c. Every violation returns CORE_ERR_INVALID with the exact text
 * of the header, and a rule that fails leaves the basket unchanged. Helpers already in this file:
 * check_id() (blank / too long ids, both texts), drop_items() (frees every line), grow() (room
 * for one more line), item_fill() (copies the strings of a new line), item_release() (frees one
 * line's strings), str_cmp0() (strcmp that treats NULL as ""). Add static helpers of your own
 * where the same check would appear twice. */

core_status baskets_basket_cancel(struct baskets_basket *b, core_err *err)
{
    /* TODO(exercise 03.1): only an open basket can be cancelled ("the basket cannot be
     * cancelled"); a cancelled basket keeps no items. */
    (void)b;
    return core_err_set(err, CORE_ERR_INTERNAL, "TODO: exercise 03.1 (baskets_basket_cancel)");
}

core_status baskets_basket_checkout(struct baskets_basket *b, const char *payment_id, core_err *err)
{
    /* TODO(exercise 03.1): check, in this order: the basket is open ("the basket cannot be
     * modified"), it has items ("the basket has no items"), the payment id is valid (check_id
     * gives both of its texts); then record the payment id and mark the basket checked out. */
    (void)b;
    (void)payment_id;
    return core_err_set(err, CORE_ERR_INTERNAL, "TODO: exercise 03.1 (baskets_basket_checkout)");
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

core_status baskets_basket_add_item(struct baskets_basket *b, const struct baskets_store *store,
                                    const struct baskets_product *product, int quantity, core_err *err)
{
    /* TODO(exercise 03.1):
     *  1. the rules shared with remove_item, in this order: the basket is open ("the basket
     *     cannot be modified"), quantity < 0 ("the item quantity cannot be negative"),
     *     quantity == 0 ("the item quantity cannot be zero");
     *  2. a line with the same product id AND store id only gets its quantity raised -- unless
     *     the sum would pass INT32_MAX ("the item quantity is too large"; test before adding:
     *     a signed int overflow is undefined behaviour);
     *  3. otherwise a new line (grow, then item_fill; either can fail: CORE_ERR_NOMEM with the
     *     basket unchanged) goes in at its sorted place: by store name, then product name, and
     *     after the lines that have the same names. */
    (void)b;
    (void)store;
    (void)product;
    (void)quantity;
    return core_err_set(err, CORE_ERR_INTERNAL, "TODO: exercise 03.1 (baskets_basket_add_item)");
}

core_status baskets_basket_remove_item(struct baskets_basket *b, const char *product_id, int quantity,
                                       core_err *err)
{
    /* TODO(exercise 03.1): the same three rules as add_item, then find the line of product_id
     * and take quantity off it. The line goes only when nothing is left (spec section 5: 2 in
     * the basket, remove 1 -> 1 left; remove 2 or more -> the line is gone, its strings freed,
     * the lines after it moved up). A product that is not in the basket is no error and changes
     * nothing. */
    (void)b;
    (void)product_id;
    (void)quantity;
    return core_err_set(err, CORE_ERR_INTERNAL, "TODO: exercise 03.1 (baskets_basket_remove_item)");
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
