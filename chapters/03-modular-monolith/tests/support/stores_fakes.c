/* stores_fakes.c -- see stores_fakes.h. */
#include <string.h>

#include "stores_fakes.h"

void stores_fake_init(struct stores_fake_db *f)
{
    memset(f, 0, sizeof *f);
}

void stores_fake_release(struct stores_fake_db *f)
{
    stores_store_list_release(&f->stores);
    stores_product_list_release(&f->products);
    stores_fake_init(f);
}

static core_status maybe_fail(const struct stores_fake_db *f, const char *op, core_err *err)
{
    if (f->fail_op && strcmp(f->fail_op, op) == 0)
        return core_err_set(err, CORE_ERR_IO, "db down");
    return CORE_OK;
}

struct stores_store *stores_fake_store(struct stores_fake_db *f, const char *id)
{
    for (size_t i = 0; i < f->stores.len; i++)
        if (strcmp(f->stores.items[i].id, id) == 0)
            return &f->stores.items[i];
    return NULL;
}

struct stores_product *stores_fake_product(struct stores_fake_db *f, const char *id)
{
    for (size_t i = 0; i < f->products.len; i++)
        if (strcmp(f->products.items[i].id, id) == 0)
            return &f->products.items[i];
    return NULL;
}

static core_status copy_store(const struct stores_store *from, struct stores_store *to,
                              core_err *err)
{
    return stores_store_restore(to, from->id, from->name, from->location, from->participating, err);
}

static core_status copy_product(const struct stores_product *from, struct stores_product *to,
                                core_err *err)
{
    return stores_product_restore(to, from->id, from->store_id, from->name, from->description,
                                  from->sku, from->price, err);
}

/* ---- stores --------------------------------------------------------------------------------- */

static core_status store_save(void *self, const struct stores_store *s, core_err *err)
{
    struct stores_fake_db *f = self;
    struct stores_store copy = STORES_STORE_INIT;
    core_status st;
    if ((st = maybe_fail(f, "store.save", err)))
        return st;
    if (stores_fake_store(f, s->id))
        return core_err_set(err, CORE_ERR_CONFLICT, "store %s exists", s->id);
    if (!(st = copy_store(s, &copy, err)) && !(st = stores_store_list_add(&f->stores, &copy, err)))
        f->writes++;
    stores_store_release(&copy);
    return st;
}

static core_status store_update(void *self, const struct stores_store *s, core_err *err)
{
    struct stores_fake_db *f = self;
    core_status st;
    struct stores_store *row;
    if ((st = maybe_fail(f, "store.update", err)))
        return st;
    if (!(row = stores_fake_store(f, s->id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", s->id);
    stores_store_release(row);
    if (!(st = copy_store(s, row, err)))
        f->writes++;
    return st;
}

static core_status store_find(void *self, const char *id, struct stores_store *out, core_err *err)
{
    struct stores_fake_db *f = self;
    core_status st;
    const struct stores_store *row;
    if ((st = maybe_fail(f, "store.find", err)))
        return st;
    if (!(row = stores_fake_store(f, id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", id);
    return copy_store(row, out, err);
}

/* Appends the stores (all, or the participating ones) to out. A failure after the first store
 * leaves out partly filled: the application must clean that up. */
static core_status list_stores(struct stores_fake_db *f, const char *op, bool only_participating,
                               struct stores_store_list *out, core_err *err)
{
    core_status st = CORE_OK;
    for (size_t i = 0; i < f->stores.len && !st; i++) {
        struct stores_store copy = STORES_STORE_INIT;
        if (only_participating && !f->stores.items[i].participating)
            continue;
        if (i > 0 && (st = maybe_fail(f, op, err)))
            break;
        if (!(st = copy_store(&f->stores.items[i], &copy, err)))
            st = stores_store_list_add(out, &copy, err);
        stores_store_release(&copy);
    }
    if (!st)
        st = maybe_fail(f, op, err);
    return st;
}

static core_status store_find_all(void *self, struct stores_store_list *out, core_err *err)
{
    return list_stores(self, "store.find_all", false, out, err);
}

static core_status participating_find_all(void *self, struct stores_store_list *out, core_err *err)
{
    return list_stores(self, "participating.find_all", true, out, err);
}

/* ---- products ------------------------------------------------------------------------------- */

static core_status product_add(void *self, const struct stores_product *p, core_err *err)
{
    struct stores_fake_db *f = self;
    struct stores_product copy = STORES_PRODUCT_INIT;
    core_status st;
    if ((st = maybe_fail(f, "product.add", err)))
        return st;
    if (!(st = copy_product(p, &copy, err)) &&
        !(st = stores_product_list_add(&f->products, &copy, err)))
        f->writes++;
    stores_product_release(&copy);
    return st;
}

static core_status product_remove(void *self, const char *id, core_err *err)
{
    struct stores_fake_db *f = self;
    core_status st;
    struct stores_product *row;
    if ((st = maybe_fail(f, "product.remove", err)))
        return st;
    if (!(row = stores_fake_product(f, id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
    stores_product_release(row);
    *row = f->products.items[--f->products.len];
    f->writes++;
    return CORE_OK;
}

static core_status product_find(void *self, const char *id, struct stores_product *out,
                                core_err *err)
{
    struct stores_fake_db *f = self;
    core_status st;
    const struct stores_product *row;
    if ((st = maybe_fail(f, "product.find", err)))
        return st;
    if (!(row = stores_fake_product(f, id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
    return copy_product(row, out, err);
}

static core_status product_catalog(void *self, const char *store_id,
                                   struct stores_product_list *out, core_err *err)
{
    struct stores_fake_db *f = self;
    core_status st = CORE_OK;
    for (size_t i = 0; i < f->products.len && !st; i++) {
        struct stores_product copy = STORES_PRODUCT_INIT;
        if (strcmp(f->products.items[i].store_id, store_id) != 0)
            continue;
        if (!(st = copy_product(&f->products.items[i], &copy, err)))
            st = stores_product_list_add(out, &copy, err);
        stores_product_release(&copy);
    }
    if (!st)
        st = maybe_fail(f, "product.catalog", err); /* fails after filling: the app cleans up */
    return st;
}

void stores_fake_repos(struct stores_app *app, struct stores_fake_db *f)
{
    app->stores =
        (struct stores_store_repo){f, store_save, store_update, store_find, store_find_all};
    app->participating = (struct stores_participating_repo){f, participating_find_all};
    app->products =
        (struct stores_product_repo){f, product_add, product_remove, product_find, product_catalog};
}
