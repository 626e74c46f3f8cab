/* ordering_fakes.c -- see ordering_fakes.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ordering_fakes.h"

static void record(struct ordering_fakes *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void record(struct ordering_fakes *f, const char *fmt, ...)
{
    size_t used = strlen(f->calls);
    va_list ap;
    va_start(ap, fmt);
    if (used > 0 && used < sizeof f->calls - 1)
        f->calls[used++] = ' ';
    vsnprintf(f->calls + used, sizeof f->calls - used, fmt, ap);
    va_end(ap);
}

/* Whether port is the failing one; then err is filled. */
static bool fails(const struct ordering_fakes *f, enum ordering_fake_port port, core_err *err)
{
    if (f->failing != port)
        return false;
    core_err_set(err, f->fail_status, "%s", f->fail_msg);
    return true;
}

void ordering_fake_fail_next(struct ordering_fakes *f, enum ordering_fake_port port, core_status st,
                             const char *msg)
{
    f->failing = port;
    f->fail_status = st;
    f->fail_msg = msg;
}

struct ordering_order *ordering_fake_order(struct ordering_fakes *f, const char *id)
{
    for (size_t i = 0; i < f->norders; i++)
        if (strcmp(f->orders[i].id, id) == 0)
            return &f->orders[i];
    return NULL;
}

void ordering_fake_release(struct ordering_fakes *f)
{
    for (size_t i = 0; i < f->norders; i++)
        ordering_order_release(&f->orders[i]);
    memset(f, 0, sizeof *f);
}

/* ---- the repository ------------------------------------------------------------------------ */

static core_status repo_find(void *self, const char *id, struct ordering_order *out, core_err *err)
{
    struct ordering_fakes *f = self;
    record(f, "find(%s)", id);
    if (fails(f, ORDERING_FAKE_FIND, err))
        return f->fail_status;
    struct ordering_order *o = ordering_fake_order(f, id);
    if (!o)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "order %s not found", id);
    return ordering_order_copy(out, o, err);
}

static core_status repo_save(void *self, const struct ordering_order *order, core_err *err)
{
    struct ordering_fakes *f = self;
    record(f, "save(%s)", order->id);
    void (*meddle)(void) = f->meddle;
    f->meddle = NULL;
    if (meddle)
        meddle();
    if (fails(f, ORDERING_FAKE_SAVE, err))
        return f->fail_status;
    if (ordering_fake_order(f, order->id))
        return core_err_set(err, CORE_ERR_CONFLICT, "order %s already exists", order->id);
    assert_true(f->norders < ORDERING_FAKE_ORDERS);
    struct ordering_order *slot = &f->orders[f->norders];
    core_status st = ordering_order_copy(slot, order, err);
    if (st == CORE_OK) {
        f->norders++;
        f->writes++;
    }
    return st;
}

static core_status repo_update(void *self, const struct ordering_order *order, core_err *err)
{
    struct ordering_fakes *f = self;
    record(f, "update(%s)", order->id);
    if (fails(f, ORDERING_FAKE_UPDATE, err))
        return f->fail_status;
    struct ordering_order *o = ordering_fake_order(f, order->id);
    if (!o)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "order %s not found", order->id);
    core_status st = ordering_order_copy(o, order, err);
    if (st == CORE_OK)
        f->writes++;
    return st;
}

/* ---- the other modules --------------------------------------------------------------------- */

static core_status customers_authorize(void *self, const char *customer_id, core_err *err)
{
    struct ordering_fakes *f = self;
    record(f, "authorize(%s)", customer_id);
    return fails(f, ORDERING_FAKE_AUTHORIZE, err) ? f->fail_status : CORE_OK;
}

static core_status payments_confirm(void *self, const char *payment_id, core_err *err)
{
    struct ordering_fakes *f = self;
    record(f, "confirm(%s)", payment_id);
    return fails(f, ORDERING_FAKE_CONFIRM, err) ? f->fail_status : CORE_OK;
}

static core_status payments_create_invoice(void *self, const char *order_id, const char *payment_id,
                                           double amount, char *invoice_id, core_err *err)
{
    struct ordering_fakes *f = self;
    record(f, "create_invoice(%s,%s)", order_id, payment_id);
    if (fails(f, ORDERING_FAKE_CREATE_INVOICE, err))
        return f->fail_status;
    f->invoice_amount = amount;
    core_strlcpy(invoice_id, "invoice-1", ORDERING_ID_SIZE);
    return CORE_OK;
}

static core_status depot_create_list(void *self, const struct ordering_order *order,
                                     char *shopping_id, core_err *err)
{
    struct ordering_fakes *f = self;
    record(f, "create_shopping_list(%s,%zu items,%s x%d)", order->id, order->nitems,
           order->nitems ? order->items[0].product_id : "-",
           order->nitems ? order->items[0].quantity : 0);
    if (fails(f, ORDERING_FAKE_CREATE_LIST, err))
        return f->fail_status;
    core_strlcpy(shopping_id, "shopping-1", ORDERING_ID_SIZE);
    return CORE_OK;
}

static core_status depot_cancel_list(void *self, const char *shopping_id, core_err *err)
{
    struct ordering_fakes *f = self;
    record(f, "cancel_shopping_list(%s)", shopping_id);
    return fails(f, ORDERING_FAKE_CANCEL_LIST, err) ? f->fail_status : CORE_OK;
}

static core_status notify_created(void *self, const char *order_id, const char *customer_id,
                                  core_err *err)
{
    struct ordering_fakes *f = self;
    record(f, "notify_created(%s,%s)", order_id, customer_id);
    return fails(f, ORDERING_FAKE_NOTIFY_CREATED, err) ? f->fail_status : CORE_OK;
}

static core_status notify_canceled(void *self, const char *order_id, const char *customer_id,
                                   core_err *err)
{
    struct ordering_fakes *f = self;
    record(f, "notify_canceled(%s,%s)", order_id, customer_id);
    return fails(f, ORDERING_FAKE_NOTIFY_CANCELED, err) ? f->fail_status : CORE_OK;
}

static core_status notify_ready(void *self, const char *order_id, const char *customer_id,
                                core_err *err)
{
    struct ordering_fakes *f = self;
    record(f, "notify_ready(%s,%s)", order_id, customer_id);
    return fails(f, ORDERING_FAKE_NOTIFY_READY, err) ? f->fail_status : CORE_OK;
}

void ordering_fake_app(struct ordering_app *app, struct ordering_fakes *f)
{
    app->orders = (struct ordering_order_repo){f, repo_find, repo_save, repo_update};
    app->customers = (struct ordering_customers){f, customers_authorize};
    app->payments = (struct ordering_payments){f, payments_confirm, payments_create_invoice};
    app->depot = (struct ordering_depot){f, depot_create_list, depot_cancel_list};
    app->notifications =
        (struct ordering_notifications){f, notify_created, notify_canceled, notify_ready};
}
