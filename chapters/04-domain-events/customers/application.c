/* customers/application.c -- see customers/application.h. */
#include "customers/application.h"

#include "log.h"

#define COMP "customers"

/* The book's logging decorator, entry half. */
static void enter(const char *name)
{
    log_debug(COMP, "--> Customers.%s", name);
}

/* The exit half: logs the outcome and passes st through. */
static core_status leave(const char *name, core_status st, const core_err *err)
{
    if (st)
        log_debug(COMP, "<-- Customers.%s error=\"%s\"", name, err ? err->msg : core_status_text(st));
    else
        log_debug(COMP, "<-- Customers.%s", name);
    return st;
}

/* Takes the events c recorded and publishes them: call it only after c was saved. */
static core_status publish(struct customers_app *app, struct customers_customer *c, core_err *err)
{
    struct ddd_event_list events = DDD_EVENT_LIST_INIT;
    core_status st = ddd_aggregate_take_events(&c->agg, &events, err);
    if (!st)
        st = ddd_dispatcher_publish(app->publisher, events.items, events.n, err);
    ddd_event_list_release(&events);
    return st;
}

/* Loads customer id into the EMPTY *out (blank id -> CORE_ERR_INVALID). */
static core_status load(struct customers_app *app, const char *id, struct customers_customer *out,
                        core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the customer id cannot be blank");
    return app->customers.find(app->customers.self, id, out, err);
}

core_status customers_app_register_customer(struct customers_app *app, const char *id, const char *name,
                                            const char *sms_number, core_err *err)
{
    struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
    enter("RegisterCustomer");
    core_status st = customers_customer_register(&c, id, name, sms_number, err);
    if (!st && !(st = app->customers.save(app->customers.self, &c, err)))
        st = publish(app, &c, err);
    customers_customer_release(&c);
    return leave("RegisterCustomer", st, err);
}

core_status customers_app_authorize_customer(struct customers_app *app, const char *id, core_err *err)
{
    struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
    enter("AuthorizeCustomer");
    core_status st = load(app, id, &c, err);
    if (!st && !(st = customers_customer_authorize(&c, err)))
        st = publish(app, &c, err); /* nothing to save: the book publishes only */
    customers_customer_release(&c);
    return leave("AuthorizeCustomer", st, err);
}

core_status customers_app_get_customer(struct customers_app *app, const char *id,
                                       struct customers_customer *out, core_err *err)
{
    enter("GetCustomer");
    core_status st = load(app, id, out, err);
    if (st)
        customers_customer_release(out);
    return leave("GetCustomer", st, err);
}

/* Loads a customer, applies change to it, saves it and publishes its events (enable/disable). */
static core_status change(struct customers_app *app, const char *id,
                          core_status (*fn)(struct customers_customer *, core_err *), core_err *err)
{
    struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
    core_status st;
    if (!(st = load(app, id, &c, err)) && !(st = fn(&c, err)) &&
        !(st = app->customers.update(app->customers.self, &c, err)))
        st = publish(app, &c, err);
    customers_customer_release(&c);
    return st;
}

core_status customers_app_enable_customer(struct customers_app *app, const char *id, core_err *err)
{
    enter("EnableCustomer");
    return leave("EnableCustomer", change(app, id, customers_customer_enable, err), err);
}

core_status customers_app_disable_customer(struct customers_app *app, const char *id, core_err *err)
{
    enter("DisableCustomer");
    return leave("DisableCustomer", change(app, id, customers_customer_disable, err), err);
}
