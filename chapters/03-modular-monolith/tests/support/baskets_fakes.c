/* baskets_fakes.c -- see baskets_fakes.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "baskets_fakes.h"

/* ---- the repository ------------------------------------------------------------------------ */

struct baskets_basket *baskets_fake_basket(struct baskets_fake_repo *f, const char *id)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->rows[i].id, id) == 0)
            return &f->rows[i];
    return NULL;
}

void baskets_fake_repo_release(struct baskets_fake_repo *f)
{
    for (size_t i = 0; i < f->n; i++)
        baskets_basket_release(&f->rows[i]);
    memset(f, 0, sizeof *f);
}

static core_status repo_find(void *self, const char *id, struct baskets_basket *out, core_err *err)
{
    struct baskets_fake_repo *f = self;
    f->finds++;
    if (f->fail_find)
        return core_err_set(err, f->fail_find, "fake find failed");
    struct baskets_basket *row = baskets_fake_basket(f, id);
    if (!row)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "basket %s not found", id);
    return baskets_basket_copy(out, row, err);
}

static core_status repo_save(void *self, const struct baskets_basket *b, core_err *err)
{
    struct baskets_fake_repo *f = self;
    f->saves++;
    if (f->fail_save)
        return core_err_set(err, f->fail_save, "fake save failed");
    if (baskets_fake_basket(f, b->id))
        return core_err_set(err, CORE_ERR_CONFLICT, "basket %s already exists", b->id);
    assert_true(f->n < BASKETS_FAKE_ROWS);
    core_status st = baskets_basket_copy(&f->rows[f->n], b, err);
    if (st == CORE_OK)
        f->n++;
    return st;
}

static core_status repo_update(void *self, const struct baskets_basket *b, core_err *err)
{
    struct baskets_fake_repo *f = self;
    f->updates++;
    if (f->fail_update)
        return core_err_set(err, f->fail_update, "fake update failed");
    struct baskets_basket *row = baskets_fake_basket(f, b->id);
    if (!row)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "basket %s not found", b->id);
    struct baskets_basket copy;
    core_status st = baskets_basket_copy(&copy, b, err);
    if (st == CORE_OK) {
        baskets_basket_release(row);
        *row = copy;
    }
    return st;
}

void baskets_fake_repo_port(struct baskets_repo *out, struct baskets_fake_repo *f)
{
    *out = (struct baskets_repo){f, repo_find, repo_save, repo_update};
}

/* ---- the stores module --------------------------------------------------------------------- */

static core_status stores_get_store(void *self, const char *id, struct baskets_store *out,
                                    core_err *err)
{
    struct baskets_fake_stores *f = self;
    f->store_calls++;
    core_strlcpy(f->last_store_id, id, sizeof f->last_store_id);
    if (f->fail_store)
        return core_err_set(err, f->fail_store, "stores RPC at 127.0.0.1:8085 unreachable: fake");
    if (strcmp(id, "s-1") != 0)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", id);
    out->id = core_strdup("s-1");
    out->name = core_strdup("Waldorf Books");
    out->location = core_strdup("West Upper Level");
    if (out->id && out->name && out->location)
        return CORE_OK;
    baskets_store_release(out);
    return core_err_nomem(err);
}

static core_status stores_get_product(void *self, const char *id, struct baskets_product *out,
                                      core_err *err)
{
    struct baskets_fake_stores *f = self;
    f->product_calls++;
    if (f->fail_product)
        return core_err_set(err, f->fail_product, "fake product failure");
    const char *name = strcmp(id, "p-1") == 0   ? "EDA with Golang"
                       : strcmp(id, "p-2") == 0 ? "Wizard w/ crystal"
                                                : NULL;
    if (!name)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
    out->id = core_strdup(id);
    out->store_id = core_strdup("s-1");
    out->name = core_strdup(name);
    out->price = strcmp(id, "p-1") == 0 ? 49.99 : 9.99;
    if (out->id && out->store_id && out->name)
        return CORE_OK;
    baskets_product_release(out);
    return core_err_nomem(err);
}

void baskets_fake_stores_port(struct baskets_stores_port *out, struct baskets_fake_stores *f)
{
    *out = (struct baskets_stores_port){f, stores_get_store, stores_get_product};
}

/* ---- the ordering module ------------------------------------------------------------------- */

static core_status ordering_create(void *self, const struct baskets_basket *b, core_err *err)
{
    struct baskets_fake_ordering *f = self;
    f->calls++;
    if (f->fail)
        return core_err_set(err, f->fail, "the customer is not authorized");
    core_strlcpy(f->id, b->id, sizeof f->id);
    core_strlcpy(f->customer_id, b->customer_id, sizeof f->customer_id);
    core_strlcpy(f->payment_id, b->payment_id, sizeof f->payment_id);
    f->nitems = b->nitems;
    f->first_quantity = b->nitems ? b->items[0].quantity : 0;
    f->first_price = b->nitems ? b->items[0].product_price : 0;
    f->status_seen = b->status;
    return CORE_OK;
}

void baskets_fake_ordering_port(struct baskets_ordering_port *out, struct baskets_fake_ordering *f)
{
    *out = (struct baskets_ordering_port){f, ordering_create};
}
