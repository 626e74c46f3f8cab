/* customers_fakes.c -- see customers_fakes.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "customers_fakes.h"

void customers_fake_repo_release(struct customers_fake_repo *f)
{
    for (size_t i = 0; i < f->n; i++)
        customers_customer_release(&f->rows[i]);
    memset(f, 0, sizeof *f);
}

struct customers_customer *customers_fake_customer(struct customers_fake_repo *f, const char *id)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->rows[i].id, id) == 0)
            return &f->rows[i];
    return NULL;
}

static core_status maybe_fail(const struct customers_fake_repo *f, const char *op, core_err *err)
{
    if (f->fail_op && strcmp(f->fail_op, op) == 0)
        return core_err_set(err, CORE_ERR_IO, "db down");
    return CORE_OK;
}

static core_status copy(const struct customers_customer *from, struct customers_customer *to,
                        core_err *err)
{
    return customers_customer_restore(to, from->id, from->name, from->sms_number, from->enabled,
                                      err);
}

static core_status repo_save(void *self, const struct customers_customer *c, core_err *err)
{
    struct customers_fake_repo *f = self;
    core_status st;
    if ((st = maybe_fail(f, "save", err)))
        return st;
    if (customers_fake_customer(f, c->id))
        return core_err_set(err, CORE_ERR_CONFLICT, "customer %s exists", c->id);
    assert_true(f->n < CUSTOMERS_FAKE_ROWS);
    if ((st = copy(c, &f->rows[f->n], err)))
        return st;
    f->n++;
    f->writes++;
    return CORE_OK;
}

static core_status repo_find(void *self, const char *id, struct customers_customer *out,
                             core_err *err)
{
    struct customers_fake_repo *f = self;
    core_status st;
    const struct customers_customer *r;
    if ((st = maybe_fail(f, "find", err)))
        return st;
    if (!(r = customers_fake_customer(f, id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "customer %s not found", id);
    return copy(r, out, err);
}

static core_status repo_update(void *self, const struct customers_customer *c, core_err *err)
{
    struct customers_fake_repo *f = self;
    core_status st;
    struct customers_customer *r;
    if ((st = maybe_fail(f, "update", err)))
        return st;
    if (!(r = customers_fake_customer(f, c->id)))
        return core_err_set(err, CORE_ERR_NOT_FOUND, "customer %s not found", c->id);
    customers_customer_release(r);
    if ((st = copy(c, r, err)))
        return st;
    f->writes++;
    return CORE_OK;
}

void customers_fake_repo_port(struct customers_repo *out, struct customers_fake_repo *f)
{
    *out = (struct customers_repo){f, repo_save, repo_find, repo_update};
}
