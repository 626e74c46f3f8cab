/* application.c -- see application.h. */
#include "log.h"
#include "notifications/application.h"

#define COMP "notifications"

void notifications_customer_release(struct notifications_customer *c)
{
    core_free(c->name);
    core_free(c->sms_number);
    *c = (struct notifications_customer)NOTIFICATIONS_CUSTOMER_INIT;
}

/* The one command behind the four: kind is "OrderCreated", "OrderCanceled", "OrderReady" or
 * "OrderCompleted". */
static core_status notify(struct notifications_app *app, const char *kind, const char *order_id,
                          const char *customer_id, core_err *err)
{
    struct notifications_customer customer = NOTIFICATIONS_CUSTOMER_INIT;
    core_status st = app->customers.find(app->customers.self, customer_id, &customer, err);
    if (st == CORE_OK && app->sender.send) {
        struct notifications_sms sms = {kind, order_id ? order_id : "", customer_id,
                                        customer.name ? customer.name : "",
                                        customer.sms_number ? customer.sms_number : ""};
        st = app->sender.send(app->sender.self, &sms, err);
    }
    if (st == CORE_OK)
        log_info(COMP, "sending SMS notification=%s order_id=%s customer_name=\"%s\" sms_number=%s",
                 kind, order_id ? order_id : "", customer.name ? customer.name : "",
                 customer.sms_number ? customer.sms_number : "");
    notifications_customer_release(&customer);
    return st;
}

core_status notifications_app_notify_order_created(struct notifications_app *app,
                                                   const char *order_id, const char *customer_id,
                                                   core_err *err)
{
    return notify(app, "OrderCreated", order_id, customer_id, err);
}

core_status notifications_app_notify_order_canceled(struct notifications_app *app,
                                                    const char *order_id, const char *customer_id,
                                                    core_err *err)
{
    return notify(app, "OrderCanceled", order_id, customer_id, err);
}

core_status notifications_app_notify_order_ready(struct notifications_app *app,
                                                 const char *order_id, const char *customer_id,
                                                 core_err *err)
{
    return notify(app, "OrderReady", order_id, customer_id, err);
}

core_status notifications_app_notify_order_completed(struct notifications_app *app,
                                                     const char *order_id, const char *customer_id,
                                                     core_err *err)
{
    return notify(app, "OrderCompleted", order_id, customer_id, err);
}
