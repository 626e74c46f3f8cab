/* stores_fakes.c -- see stores_fakes.h. */
#include <stdlib.h>
#include <string.h>

#include "stores_fakes.h"

void stores_fake_init(struct stores_fake_read_models *f)
{
    memset(f, 0, sizeof *f);
}

void stores_fake_release(struct stores_fake_read_models *f)
{
    stores_mall_store_list_release(&f->stores);
    stores_catalog_product_list_release(&f->products);
    stores_fake_init(f);
}

static core_status maybe_fail(struct stores_fake_read_models *f, const char *op, core_err *err)
{
    if (f->fail_op && strcmp(f->fail_op, op) == 0)
        return core_err_set(err, CORE_ERR_IO, "db down");
    return CORE_OK;
}

struct stores_mall_store *stores_fake_store(struct stores_fake_read_models *f, const char *id)
{
    for (size_t i = 0; i < f->stores.len; i++)
        if (strcmp(f->stores.items[i].id, id) == 0)
            return &f->stores.items[i];
    return NULL;
}

struct stores_catalog_product *stores_fake_product(struct stores_fake_read_models *f,
                                                   const char *id)
{
    for (size_t i = 0; i < f->products.len; i++)
        if (strcmp(f->products.items[i].id, id) == 0)
            return &f->products.items[i];
    return NULL;
}

/* Replaces *field with a copy of value. */
static core_status set_text(char **field, const char *value, core_err *err)
{
    char *copy = core_strdup(value ? value : "");
    if (!copy)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    core_free(*field);
    *field = copy;
    return CORE_OK;
}

/* ---- mall ---------------------------------------------------------------------------------- */

static core_status mall_add_store(void *self, const char *id, const char *name,
                                  const char *location, core_err *err)
{
    struct stores_fake_read_models *f = self;
    struct stores_mall_store row = STORES_MALL_STORE_INIT;
    core_status st = maybe_fail(f, "mall.add_store", err);
    if (!st && stores_fake_store(f, id))
        st = core_err_set(err, CORE_ERR_CONFLICT, "store %s exists", id);
    if (!st && !(st = stores_mall_store_fill(&row, id, name, location, false, err)) &&
        !(st = stores_mall_store_list_add(&f->stores, &row, err)))
        f->writes++;
    stores_mall_store_release(&row);
    return st;
}

static core_status mall_set_participation(void *self, const char *id, bool participating,
                                          core_err *err)
{
    struct stores_fake_read_models *f = self;
    struct stores_mall_store *row;
    core_status st = maybe_fail(f, "mall.set_participation", err);
    if (st)
        return st;
    if (!(row = stores_fake_store(f, id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", id);
    row->participating = participating;
    f->writes++;
    return CORE_OK;
}

static core_status mall_rename_store(void *self, const char *id, const char *name, core_err *err)
{
    struct stores_fake_read_models *f = self;
    struct stores_mall_store *row;
    core_status st = maybe_fail(f, "mall.rename_store", err);
    if (st)
        return st;
    if (!(row = stores_fake_store(f, id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", id);
    if (!(st = set_text(&row->name, name, err)))
        f->writes++;
    return st;
}

static core_status mall_find(void *self, const char *id, struct stores_mall_store *out,
                             core_err *err)
{
    struct stores_fake_read_models *f = self;
    const struct stores_mall_store *row;
    core_status st = maybe_fail(f, "mall.find", err);
    if (st)
        return st;
    if (!(row = stores_fake_store(f, id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", id);
    return stores_mall_store_fill(out, row->id, row->name, row->location, row->participating, err);
}

static int by_store_name(const void *a, const void *b)
{
    const struct stores_mall_store *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->id, y->id);
}

/* Appends the stores (all, or the participating ones) to out, ordered by name then id. A failure
 * comes after the first store: out is left partly filled. */
static core_status list_stores(struct stores_fake_read_models *f, const char *op,
                               bool only_participating, struct stores_mall_store_list *out,
                               core_err *err)
{
    core_status st = CORE_OK;
    size_t first = out->len;
    for (size_t i = 0; i < f->stores.len && !st; i++) {
        const struct stores_mall_store *row = &f->stores.items[i];
        struct stores_mall_store copy = STORES_MALL_STORE_INIT;
        if (only_participating && !row->participating)
            continue;
        if (!(st = stores_mall_store_fill(&copy, row->id, row->name, row->location,
                                          row->participating, err)))
            st = stores_mall_store_list_add(out, &copy, err);
        stores_mall_store_release(&copy);
        if (!st && out->len > first)
            st = maybe_fail(f, op, err);
    }
    if (!st)
        st = maybe_fail(f, op, err);
    if (!st && out->len - first > 1)
        qsort(out->items + first, out->len - first, sizeof *out->items, by_store_name);
    return st;
}

static core_status mall_all(void *self, struct stores_mall_store_list *out, core_err *err)
{
    return list_stores(self, "mall.all", false, out, err);
}

static core_status mall_all_participating(void *self, struct stores_mall_store_list *out,
                                          core_err *err)
{
    return list_stores(self, "mall.all_participating", true, out, err);
}

void stores_fake_mall(struct stores_mall_repo *out, struct stores_fake_read_models *f)
{
    out->self = f;
    out->add_store = mall_add_store;
    out->set_participation = mall_set_participation;
    out->rename_store = mall_rename_store;
    out->find = mall_find;
    out->all = mall_all;
    out->all_participating = mall_all_participating;
}

/* ---- catalog ------------------------------------------------------------------------------- */

static core_status catalog_add_product(void *self, const char *id, const char *store_id,
                                       const char *name, const char *description, const char *sku,
                                       double price, core_err *err)
{
    struct stores_fake_read_models *f = self;
    struct stores_catalog_product row = STORES_CATALOG_PRODUCT_INIT;
    core_status st = maybe_fail(f, "catalog.add_product", err);
    if (!st && stores_fake_product(f, id))
        st = core_err_set(err, CORE_ERR_CONFLICT, "product %s exists", id);
    if (!st &&
        !(st = stores_catalog_product_fill(&row, id, store_id, name, description, sku, price,
                                           err)) &&
        !(st = stores_catalog_product_list_add(&f->products, &row, err)))
        f->writes++;
    stores_catalog_product_release(&row);
    return st;
}

static core_status catalog_rebrand(void *self, const char *id, const char *name,
                                   const char *description, core_err *err)
{
    struct stores_fake_read_models *f = self;
    struct stores_catalog_product *row;
    char *n = NULL, *d = NULL;
    core_status st = maybe_fail(f, "catalog.rebrand", err);
    if (st)
        return st;
    if (!(row = stores_fake_product(f, id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
    if ((st = set_text(&n, name, err)) || (st = set_text(&d, description, err))) {
        core_free(n);
        return st;
    }
    core_free(row->name);
    core_free(row->description);
    row->name = n;
    row->description = d;
    f->writes++;
    return CORE_OK;
}

static core_status catalog_update_price(void *self, const char *id, double delta, core_err *err)
{
    struct stores_fake_read_models *f = self;
    struct stores_catalog_product *row;
    core_status st = maybe_fail(f, "catalog.update_price", err);
    if (st)
        return st;
    if (!(row = stores_fake_product(f, id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
    row->price += delta;
    f->writes++;
    return CORE_OK;
}

static core_status catalog_remove(void *self, const char *id, core_err *err)
{
    struct stores_fake_read_models *f = self;
    struct stores_catalog_product *row;
    core_status st = maybe_fail(f, "catalog.remove", err);
    if (st)
        return st;
    if (!(row = stores_fake_product(f, id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
    stores_catalog_product_release(row);
    *row = f->products.items[--f->products.len];
    f->writes++;
    return CORE_OK;
}

static core_status catalog_find(void *self, const char *id, struct stores_catalog_product *out,
                                core_err *err)
{
    struct stores_fake_read_models *f = self;
    const struct stores_catalog_product *row;
    core_status st = maybe_fail(f, "catalog.find", err);
    if (st)
        return st;
    if (!(row = stores_fake_product(f, id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
    return stores_catalog_product_fill(out, row->id, row->store_id, row->name, row->description,
                                       row->sku, row->price, err);
}

static int by_product_name(const void *a, const void *b)
{
    const struct stores_catalog_product *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->id, y->id);
}

static core_status catalog_catalog(void *self, const char *store_id,
                                   struct stores_catalog_product_list *out, core_err *err)
{
    struct stores_fake_read_models *f = self;
    core_status st = CORE_OK;
    size_t first = out->len;
    for (size_t i = 0; i < f->products.len && !st; i++) {
        const struct stores_catalog_product *row = &f->products.items[i];
        struct stores_catalog_product copy = STORES_CATALOG_PRODUCT_INIT;
        if (strcmp(row->store_id, store_id) != 0)
            continue;
        if (!(st = stores_catalog_product_fill(&copy, row->id, row->store_id, row->name,
                                               row->description, row->sku, row->price, err)))
            st = stores_catalog_product_list_add(out, &copy, err);
        stores_catalog_product_release(&copy);
    }
    if (!st)
        st = maybe_fail(f, "catalog.catalog",
                        err); /* fails after filling: the caller must clean up */
    if (!st && out->len - first > 1)
        qsort(out->items + first, out->len - first, sizeof *out->items, by_product_name);
    return st;
}

void stores_fake_catalog(struct stores_catalog_repo *out, struct stores_fake_read_models *f)
{
    out->self = f;
    out->add_product = catalog_add_product;
    out->rebrand = catalog_rebrand;
    out->update_price = catalog_update_price;
    out->remove = catalog_remove;
    out->find = catalog_find;
    out->catalog = catalog_catalog;
}
