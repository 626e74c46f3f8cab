/* depot_fakes.c -- see depot_fakes.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "depot_fakes.h"

/* ---- the repository ------------------------------------------------------------------------ */

/* A deep copy, made the way the domain builds a list. */
static core_status copy_list(struct depot_shopping_list *dst, const struct depot_shopping_list *src,
                             core_err *err)
{
    depot_shopping_list_init(dst);
    core_status st = depot_shopping_list_create(dst, src->id, src->order_id, err);
    for (size_t i = 0; !st && i < src->nstops; i++) {
        const struct depot_stop *stop = &src->stops[i];
        struct depot_store store = {stop->store_id, stop->store_name, stop->store_location};
        for (size_t j = 0; !st && j < stop->nitems; j++) {
            struct depot_product product = {stop->items[j].product_id, stop->store_id,
                                            stop->items[j].product_name};
            st = depot_shopping_list_add_item(dst, &store, &product, stop->items[j].quantity, err);
        }
    }
    memcpy(dst->assigned_bot_id, src->assigned_bot_id, sizeof dst->assigned_bot_id);
    dst->status = src->status;
    if (st)
        depot_shopping_list_release(dst);
    return st;
}

struct depot_shopping_list *depot_fake_list(struct depot_fake_lists *f, const char *id)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->rows[i].id, id) == 0)
            return &f->rows[i];
    return NULL;
}

void depot_fake_lists_release(struct depot_fake_lists *f)
{
    for (size_t i = 0; i < f->n; i++)
        depot_shopping_list_release(&f->rows[i]);
    memset(f, 0, sizeof *f);
}

static core_status list_save(void *self, const struct depot_shopping_list *l, core_err *err)
{
    struct depot_fake_lists *f = self;
    if (f->fail_save)
        return core_err_set(err, f->fail_save, "shopping lists table broken");
    assert_true(f->n < DEPOT_FAKE_LISTS);
    core_status st = copy_list(&f->rows[f->n], l, err);
    if (!st) {
        f->n++;
        f->saves++;
    }
    return st;
}

static core_status list_find(void *self, const char *id, struct depot_shopping_list *out,
                             core_err *err)
{
    struct depot_fake_lists *f = self;
    if (f->fail_find)
        return core_err_set(err, f->fail_find, "shopping lists table broken");
    struct depot_shopping_list *row = depot_fake_list(f, id);
    if (!row)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "shopping list %s not found", id);
    return copy_list(out, row, err);
}

static core_status list_update(void *self, const struct depot_shopping_list *l, core_err *err)
{
    struct depot_fake_lists *f = self;
    if (f->fail_update)
        return core_err_set(err, f->fail_update, "shopping lists table broken");
    struct depot_shopping_list *row = depot_fake_list(f, l->id);
    if (!row)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "shopping list %s not found", l->id);
    struct depot_shopping_list copy;
    core_status st = copy_list(&copy, l, err);
    if (!st) {
        depot_shopping_list_release(row);
        *row = copy;
        f->updates++;
    }
    return st;
}

void depot_fake_lists_port(struct depot_list_repo *out, struct depot_fake_lists *f)
{
    *out = (struct depot_list_repo){f, list_save, list_find, list_update};
}

/* ---- the stores module --------------------------------------------------------------------- */

static const struct {
    const char *id, *name, *location;
} known_stores[] = {{"s1", "Waldorf Books", "West Upper Level"},
                    {"s2", "Nic & Naks", "East Lower Level"}};
static const struct {
    const char *id, *store_id, *name;
} known_products[] = {{"p1", "s1", "EDA with Golang"},
                      {"p2", "s1", "C Interfaces"},
                      {"p3", "s2", "Wizard w/ crystal"}};

static core_status get_store(void *self, const char *id, struct depot_store *out, core_err *err)
{
    struct depot_fake_stores *f = self;
    f->store_calls++;
    if (f->fail)
        return core_err_set(err, f->fail, "stores RPC at 127.0.0.1:8085 unreachable");
    for (size_t i = 0; i < sizeof known_stores / sizeof known_stores[0]; i++) {
        if (strcmp(known_stores[i].id, id) == 0) {
            out->id = core_strdup(known_stores[i].id);
            out->name = core_strdup(known_stores[i].name);
            out->location = core_strdup(known_stores[i].location);
            if (out->id && out->name && out->location)
                return CORE_OK;
            depot_store_release(out);
            return core_err_nomem(err);
        }
    }
    return core_err_set(err, CORE_ERR_NOT_FOUND, "store %s not found", id);
}

static core_status get_product(void *self, const char *id, struct depot_product *out, core_err *err)
{
    struct depot_fake_stores *f = self;
    f->product_calls++;
    if (f->fail)
        return core_err_set(err, f->fail, "stores RPC at 127.0.0.1:8085 unreachable");
    for (size_t i = 0; i < sizeof known_products / sizeof known_products[0]; i++) {
        if (strcmp(known_products[i].id, id) == 0) {
            out->id = core_strdup(known_products[i].id);
            out->store_id = core_strdup(known_products[i].store_id);
            out->name = core_strdup(known_products[i].name);
            if (out->id && out->store_id && out->name)
                return CORE_OK;
            depot_product_release(out);
            return core_err_nomem(err);
        }
    }
    return core_err_set(err, CORE_ERR_NOT_FOUND, "product %s not found", id);
}

void depot_fake_stores_port(struct depot_stores_port *out, struct depot_fake_stores *f)
{
    *out = (struct depot_stores_port){f, get_store, get_product};
}

/* ---- the ordering module ------------------------------------------------------------------- */

static core_status order_ready(void *self, const char *order_id, core_err *err)
{
    struct depot_fake_orders *f = self;
    f->calls++;
    core_strlcpy(f->order_id, order_id, sizeof f->order_id);
    size_t used = strlen(f->log);
    snprintf(f->log + used, sizeof f->log - used, "%sready(%s)", used ? " " : "", order_id);
    if (f->fail)
        return core_err_set(err, f->fail, "the order cannot be readied");
    return CORE_OK;
}

void depot_fake_orders_port(struct depot_orders_port *out, struct depot_fake_orders *f)
{
    *out = (struct depot_orders_port){f, order_ready};
}
