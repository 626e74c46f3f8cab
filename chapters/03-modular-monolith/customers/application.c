/* customers/application.c -- see customers/application.h. */
#include "customers/application.h"

/* Loads customer id into the EMPTY *out (blank id -> CORE_ERR_INVALID). */
static core_status load(struct customers_app *app, const char *id, struct customers_customer *out,
                        core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the customer id cannot be blank");
    return app->customers.find(app->customers.self, id, out, err);
}

core_status customers_app_register_customer(struct customers_app *app, const char *id,
                                            const char *name, const char *sms_number, core_err *err)
{
    struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
    core_status st = customers_customer_register(&c, id, name, sms_number, err);
    if (!st)
        st = app->customers.save(app->customers.self, &c, err);
    customers_customer_release(&c);
    return st;
}

core_status customers_app_authorize_customer(struct customers_app *app, const char *id,
                                             core_err *err)
{
    struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
    core_status st = load(app, id, &c, err);
    if (!st)
        st = customers_customer_authorize(&c, err);
    customers_customer_release(&c);
    return st;
}

core_status customers_app_get_customer(struct customers_app *app, const char *id,
                                       struct customers_customer *out, core_err *err)
{
    core_status st = load(app, id, out, err);
    if (st)
        customers_customer_release(out);
    return st;
}

/* Loads a customer, applies change to it and saves it (enable/disable). */
static core_status change(struct customers_app *app, const char *id,
                          core_status (*fn)(struct customers_customer *, core_err *), core_err *err)
{
    struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
    core_status st;
    if (!(st = load(app, id, &c, err)) && !(st = fn(&c, err)))
        st = app->customers.update(app->customers.self, &c, err);
    customers_customer_release(&c);
    return st;
}

core_status customers_app_enable_customer(struct customers_app *app, const char *id, core_err *err)
{
    return change(app, id, customers_customer_enable, err);
}

core_status customers_app_disable_customer(struct customers_app *app, const char *id, core_err *err)
{
    return change(app, id, customers_customer_disable, err);
}
