/* stores/domain.c -- see stores/domain.h. */
#include <math.h>
#include <string.h>

#include "stores/domain.h"

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

/* ---- Store -------------------------------------------------------------------------------- */

void stores_store_init(struct stores_store *s)
{
    memset(s, 0, sizeof *s);
}

void stores_store_release(struct stores_store *s)
{
    if (!s)
        return;
    core_free(s->name);
    core_free(s->location);
    stores_store_init(s);
}

core_status stores_store_restore(struct stores_store *s, const char *id, const char *name,
                                 const char *location, bool participating, core_err *err)
{
    core_status st = copy_id(s->id, id, "store", err);
    if (st)
        goto fail;
    s->name = core_strdup(name ? name : "");
    s->location = core_strdup(location ? location : "");
    if (!s->name || !s->location) {
        st = core_err_nomem(err);
        goto fail;
    }
    s->participating = participating;
    return CORE_OK;
fail:
    stores_store_release(s);
    return st;
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
    return stores_store_restore(s, id, name, location, false, err);
}

core_status stores_store_enable_participation(struct stores_store *s, core_err *err)
{
    if (s->participating)
        return core_err_set(err, CORE_ERR_INVALID, "the store is already participating");
    s->participating = true;
    return CORE_OK;
}

core_status stores_store_disable_participation(struct stores_store *s, core_err *err)
{
    if (!s->participating)
        return core_err_set(err, CORE_ERR_INVALID, "the store is already not participating");
    s->participating = false;
    return CORE_OK;
}

/* ---- Product ------------------------------------------------------------------------------ */

void stores_product_init(struct stores_product *p)
{
    memset(p, 0, sizeof *p);
}

void stores_product_release(struct stores_product *p)
{
    if (!p)
        return;
    core_free(p->name);
    core_free(p->description);
    core_free(p->sku);
    stores_product_init(p);
}

core_status stores_product_restore(struct stores_product *p, const char *id, const char *store_id,
                                   const char *name, const char *description, const char *sku,
                                   double price, core_err *err)
{
    core_status st;
    if ((st = copy_id(p->id, id, "product", err)) ||
        (st = copy_id(p->store_id, store_id, "store", err)))
        goto fail;
    p->name = core_strdup(name ? name : "");
    p->description = core_strdup(description ? description : "");
    p->sku = core_strdup(sku ? sku : "");
    if (!p->name || !p->description || !p->sku) {
        st = core_err_nomem(err);
        goto fail;
    }
    p->price = price;
    return CORE_OK;
fail:
    stores_product_release(p);
    return st;
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
    /* !(price >= 0) also catches NaN, which no comparison orders. */
    if (!(price >= 0))
        return core_err_set(err, CORE_ERR_INVALID, "the product price cannot be negative");
    if (price > STORES_PRICE_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "the product price cannot be over %.4f",
                            STORES_PRICE_MAX);
    return stores_product_restore(p, id, store_id, name, description, sku, price, err);
}

/* ---- lists -------------------------------------------------------------------------------- */

void stores_store_list_init(struct stores_store_list *l)
{
    memset(l, 0, sizeof *l);
}

void stores_store_list_release(struct stores_store_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->len; i++)
        stores_store_release(&l->items[i]);
    core_free(l->items);
    stores_store_list_init(l);
}

core_status stores_store_list_add(struct stores_store_list *l, struct stores_store *s,
                                  core_err *err)
{
    if (core_array_grow(&l->items, &l->cap, l->len + 1, sizeof *l->items))
        return core_err_nomem(err);
    l->items[l->len++] = *s;
    stores_store_init(s); /* moved */
    return CORE_OK;
}

void stores_product_list_init(struct stores_product_list *l)
{
    memset(l, 0, sizeof *l);
}

void stores_product_list_release(struct stores_product_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->len; i++)
        stores_product_release(&l->items[i]);
    core_free(l->items);
    stores_product_list_init(l);
}

core_status stores_product_list_add(struct stores_product_list *l, struct stores_product *p,
                                    core_err *err)
{
    if (core_array_grow(&l->items, &l->cap, l->len + 1, sizeof *l->items))
        return core_err_nomem(err);
    l->items[l->len++] = *p;
    stores_product_init(p); /* moved */
    return CORE_OK;
}
