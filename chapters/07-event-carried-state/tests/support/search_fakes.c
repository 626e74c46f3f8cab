/* search_fakes.c -- see search_fakes.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "search_fakes.h"

static bool failing(const char *fail_op, const char *op)
{
    return fail_op && strcmp(fail_op, op) == 0;
}

struct search_fake_row *search_fake_row(struct search_fake_orders *f, const char *id)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->rows[i].order.order_id, id) == 0)
            return &f->rows[i];
    return NULL;
}

/* The row of id, made (empty, a placeholder) when missing. */
static struct search_fake_row *row_for(struct search_fake_orders *f, const char *id, core_err *err)
{
    struct search_fake_row *r = search_fake_row(f, id);
    if (r)
        return r;
    assert_true(f->n < SEARCH_FAKE_ROWS);
    r = &f->rows[f->n];
    search_order_init(&r->order);
    if (search_order_set(&r->order, id, "", "", SEARCH_STATUS_NEW, err))
        return NULL;
    r->placeholder = true;
    f->n++;
    return r;
}

static core_status copy_order(struct search_order *dst, const struct search_order *src,
                              const char *status, core_err *err)
{
    core_status st =
        search_order_set(dst, src->order_id, src->customer_id, src->customer_name, status, err);
    for (size_t i = 0; i < src->nitems && !st; i++) {
        const struct search_item *it = &src->items[i];
        st = search_order_add_item(dst, it->product_id, it->store_id, it->product_name,
                                   it->store_name, it->price, it->quantity, err);
    }
    dst->total = src->total;
    dst->created_us = src->created_us;
    return st;
}

static core_status save_created(void *self, const struct search_order *o, core_err *err)
{
    struct search_fake_orders *f = self;
    struct search_order copy = SEARCH_ORDER_INIT;
    if (failing(f->fail_op, "save_created"))
        return core_err_set(err, CORE_ERR_IO, "db down");
    struct search_fake_row *r = row_for(f, o->order_id, err);
    if (!r)
        return CORE_ERR_NOMEM;
    core_status st = copy_order(&copy, o, r->order.status, err); /* keeps the status */
    if (st) {
        search_order_release(&copy);
        return st;
    }
    search_order_release(&r->order);
    r->order = copy;
    r->placeholder = false;
    f->writes++;
    return CORE_OK;
}

static core_status save_status(void *self, const char *order_id, const char *status, bool has_total,
                               double total, core_err *err)
{
    struct search_fake_orders *f = self;
    if (failing(f->fail_op, "save_status"))
        return core_err_set(err, CORE_ERR_IO, "db down");
    bool existed = search_fake_row(f, order_id) != NULL;
    struct search_fake_row *r = row_for(f, order_id, err);
    if (!r)
        return CORE_ERR_NOMEM;
    if (!existed || search_status_rank(status) >= search_status_rank(r->order.status)) {
        char *s = core_strdup(status);
        if (!s)
            return core_err_nomem(err);
        core_free(r->order.status);
        r->order.status = s;
    }
    if (has_total)
        r->order.total = total;
    f->writes++;
    return CORE_OK;
}

static core_status find(void *self, const char *order_id, struct search_order *out, core_err *err)
{
    struct search_fake_orders *f = self;
    if (failing(f->fail_op, "find"))
        return core_err_set(err, CORE_ERR_IO, "db down");
    struct search_fake_row *r = search_fake_row(f, order_id);
    if (!r || r->placeholder)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "order %s not found", order_id);
    return copy_order(out, &r->order, r->order.status, err);
}

/* true when row a comes before row b, newest first. */
static bool newer(const struct search_order *a, const struct search_order *b)
{
    return a->created_us != b->created_us ? a->created_us > b->created_us
                                          : strcmp(a->order_id, b->order_id) > 0;
}

static core_status search(void *self, const struct search_filters *filters,
                          const struct search_cursor *after, int limit,
                          struct search_order_list *out, core_err *err)
{
    struct search_fake_orders *f = self;
    const struct search_order *last = NULL;
    f->last_limit = limit;
    if (failing(f->fail_op, "search"))
        return core_err_set(err, CORE_ERR_IO, "db down");
    for (int k = 0; k < limit; k++) { /* selection: the next newest row after last */
        const struct search_order *best = NULL;
        for (size_t i = 0; i < f->n; i++) {
            const struct search_order *o = &f->rows[i].order;
            struct search_order cur = {.order_id = after ? (char *)after->order_id : NULL,
                                       .created_us = after ? after->created_us : 0};
            if (f->rows[i].placeholder || (after && !newer(&cur, o)) || (last && !newer(last, o)) ||
                (best && !newer(o, best)) ||
                (filters->status && filters->status[0] && strcmp(filters->status, o->status) != 0))
                continue;
            best = o;
        }
        if (!best)
            break;
        struct search_order *o = NULL;
        core_status st = search_order_list_add(out, &o, err);
        if (st || (st = copy_order(o, best, best->status, err)))
            return st;
        last = best;
    }
    return CORE_OK;
}

void search_fake_orders_port(struct search_orders_repo *out, struct search_fake_orders *f)
{
    out->self = f;
    out->save_created = save_created;
    out->save_status = save_status;
    out->find = find;
    out->search = search;
}

void search_fake_orders_release(struct search_fake_orders *f)
{
    for (size_t i = 0; i < f->n; i++)
        search_order_release(&f->rows[i].order);
    memset(f, 0, sizeof *f);
}

/* ---- caches ---------------------------------------------------------------------------------- */

static const struct search_fake_name *lookup(const struct search_fake_name *list, const char *id)
{
    for (; list && list->id; list++)
        if (strcmp(list->id, id) == 0)
            return list;
    return NULL;
}

static core_status get_name(struct search_fake_caches *f, const char *op,
                            const struct search_fake_name *list, const char *id, char **name,
                            char **store_id, core_err *err)
{
    f->calls++;
    if (failing(f->fail_op, op))
        return core_err_set(err, CORE_ERR_UNAVAILABLE, "owner unreachable");
    const struct search_fake_name *n = lookup(list, id);
    if (!n)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "%s %s not found", op, id);
    if (!(*name = core_strdup(n->name)))
        return core_err_nomem(err);
    if (store_id && !(*store_id = core_strdup(n->store_id ? n->store_id : ""))) {
        core_free(*name);
        *name = NULL;
        return core_err_nomem(err);
    }
    return CORE_OK;
}

static core_status get_customer(void *self, const char *id, char **name, core_err *err)
{
    struct search_fake_caches *f = self;
    return get_name(f, "customer", f->customers, id, name, NULL, err);
}

static core_status get_store(void *self, const char *id, char **name, core_err *err)
{
    struct search_fake_caches *f = self;
    return get_name(f, "store", f->stores, id, name, NULL, err);
}

static core_status get_product(void *self, const char *id, char **name, char **store_id,
                               core_err *err)
{
    struct search_fake_caches *f = self;
    return get_name(f, "product", f->products, id, name, store_id, err);
}

void search_fake_caches_port(struct search_caches *out, struct search_fake_caches *f)
{
    out->self = f;
    out->get_customer = get_customer;
    out->get_store = get_store;
    out->get_product = get_product;
}
