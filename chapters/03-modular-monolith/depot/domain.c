/* depot/domain.c -- see domain.h. */
#include <assert.h>
#include <limits.h>
#include <string.h>

#include "depot/domain.h"

static const char *const status_texts[] = {
    [DEPOT_LIST_AVAILABLE] = "available", [DEPOT_LIST_ASSIGNED] = "assigned",
    [DEPOT_LIST_ACTIVE] = "active",       [DEPOT_LIST_COMPLETED] = "completed",
    [DEPOT_LIST_CANCELLED] = "cancelled",
};
#define NSTATUS (sizeof status_texts / sizeof status_texts[0])

const char *depot_list_status_text(enum depot_list_status status)
{
    return (size_t)status < NSTATUS ? status_texts[status] : "";
}

bool depot_list_status_parse(const char *text, enum depot_list_status *out)
{
    for (size_t i = 0; text && i < NSTATUS; i++) {
        if (strcmp(text, status_texts[i]) == 0) {
            *out = (enum depot_list_status)i;
            return true;
        }
    }
    return false;
}

void depot_store_release(struct depot_store *store)
{
    if (!store)
        return;
    core_free(store->id);
    core_free(store->name);
    core_free(store->location);
    store->id = store->name = store->location = NULL;
}

void depot_product_release(struct depot_product *product)
{
    if (!product)
        return;
    core_free(product->id);
    core_free(product->store_id);
    core_free(product->name);
    product->id = product->store_id = product->name = NULL;
}

static void item_release(struct depot_item *it)
{
    core_free(it->product_id);
    core_free(it->product_name);
}

static void stop_release(struct depot_stop *stop)
{
    for (size_t i = 0; i < stop->nitems; i++)
        item_release(&stop->items[i]);
    core_free(stop->items);
    core_free(stop->store_id);
    core_free(stop->store_name);
    core_free(stop->store_location);
}

void depot_shopping_list_init(struct depot_shopping_list *l)
{
    *l = (struct depot_shopping_list)DEPOT_SHOPPING_LIST_INIT;
}

void depot_shopping_list_release(struct depot_shopping_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nstops; i++)
        stop_release(&l->stops[i]);
    core_free(l->stops);
    depot_shopping_list_init(l);
}

/* Copies a required id into dst (DEPOT_ID_MAX + 1 bytes); what names it in the messages. */
static core_status copy_id(char *dst, const char *id, const char *what, core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the %s id cannot be blank", what);
    if (!core_strlcpy(dst, id, DEPOT_ID_MAX + 1))
        return core_err_set(err, CORE_ERR_INVALID, "the %s id is too long", what);
    return CORE_OK;
}

core_status depot_shopping_list_create(struct depot_shopping_list *l, const char *id,
                                       const char *order_id, core_err *err)
{
    core_status st;
    if ((st = copy_id(l->id, id, "shopping list", err)) ||
        (st = copy_id(l->order_id, order_id, "order", err)))
        return st;
    l->assigned_bot_id[0] = '\0';
    l->status = DEPOT_LIST_AVAILABLE;
    return CORE_OK;
}

static struct depot_stop *find_stop(const struct depot_shopping_list *l, const char *store_id)
{
    for (size_t i = 0; i < l->nstops; i++)
        if (strcmp(l->stops[i].store_id, store_id) == 0)
            return &l->stops[i];
    return NULL;
}

static struct depot_item *find_item(const struct depot_stop *stop, const char *product_id)
{
    for (size_t i = 0; i < stop->nitems; i++)
        if (strcmp(stop->items[i].product_id, product_id) == 0)
            return &stop->items[i];
    return NULL;
}

/* core_strdup that treats NULL as "". */
static char *dup_or_empty(const char *s)
{
    return core_strdup(s ? s : "");
}

core_status depot_shopping_list_add_item(struct depot_shopping_list *l,
                                         const struct depot_store *store,
                                         const struct depot_product *product, int quantity,
                                         core_err *err)
{
    assert(store->id && product->id);
    if (quantity < 1)
        return core_err_set(err, CORE_ERR_INVALID, "the item quantity must be positive");
    if (product->store_id && product->store_id[0] && strcmp(product->store_id, store->id) != 0)
        return core_err_set(err, CORE_ERR_INVALID, "product %s is not sold by store %s",
                            product->id, store->id);

    struct depot_stop *stop = find_stop(l, store->id);
    struct depot_item *existing = stop ? find_item(stop, product->id) : NULL;
    if (existing) {
        if (existing->quantity > INT_MAX - quantity)
            return core_err_set(err, CORE_ERR_INVALID, "the item quantity is too large");
        existing->quantity += quantity;
        return CORE_OK;
    }

    /* Everything new is built aside first, so a failed allocation leaves l unchanged. */
    struct depot_item item = {dup_or_empty(product->id), dup_or_empty(product->name), quantity};
    struct depot_stop fresh = {0};
    if (!item.product_id || !item.product_name)
        goto nomem;
    if (stop) {
        if (core_array_grow(&stop->items, &stop->cap, stop->nitems + 1, sizeof *stop->items))
            goto nomem;
        stop->items[stop->nitems++] = item;
        return CORE_OK;
    }
    fresh.store_id = dup_or_empty(store->id);
    fresh.store_name = dup_or_empty(store->name);
    fresh.store_location = dup_or_empty(store->location);
    if (!fresh.store_id || !fresh.store_name || !fresh.store_location ||
        core_array_grow(&fresh.items, &fresh.cap, 1, sizeof *fresh.items) ||
        core_array_grow(&l->stops, &l->cap, l->nstops + 1, sizeof *l->stops))
        goto nomem;
    fresh.items[0] = item;
    fresh.nitems = 1;
    l->stops[l->nstops++] = fresh;
    return CORE_OK;

nomem:
    item_release(&item);
    stop_release(&fresh); /* nitems is 0: frees only the strings and the empty array */
    return core_err_set(err, CORE_ERR_NOMEM, "out of memory adding product %s to shopping list %s",
                        product->id, l->id);
}

core_status depot_shopping_list_cancel(struct depot_shopping_list *l, core_err *err)
{
    switch (l->status) {
    case DEPOT_LIST_AVAILABLE:
    case DEPOT_LIST_ASSIGNED:
    case DEPOT_LIST_ACTIVE:
        l->status = DEPOT_LIST_CANCELLED;
        return CORE_OK;
    default:
        return core_err_set(err, CORE_ERR_INVALID, "the shopping list cannot be cancelled");
    }
}

core_status depot_shopping_list_assign(struct depot_shopping_list *l, const char *bot_id,
                                       core_err *err)
{
    char bot[DEPOT_ID_MAX + 1];
    core_status st = copy_id(bot, bot_id, "bot", err);
    if (st)
        return st;
    if (l->status != DEPOT_LIST_AVAILABLE)
        return core_err_set(err, CORE_ERR_INVALID, "the shopping list cannot be assigned");
    memcpy(l->assigned_bot_id, bot, sizeof bot);
    l->status = DEPOT_LIST_ASSIGNED;
    return CORE_OK;
}

core_status depot_shopping_list_complete(struct depot_shopping_list *l, core_err *err)
{
    if (l->status != DEPOT_LIST_ASSIGNED)
        return core_err_set(err, CORE_ERR_INVALID, "the shopping list cannot be completed");
    l->status = DEPOT_LIST_COMPLETED;
    return CORE_OK;
}
