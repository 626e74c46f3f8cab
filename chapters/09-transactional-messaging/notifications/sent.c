/* sent.c -- the notifications module's sender (chapter 09): a notification sent is a row of
 * notifications.sent (see adapters.h, and application.h "SENDING"), written on the pool or on a
 * unit's transaction. */
#include "notifications/adapters.h"

static const char SQL_SEND[] =
    "INSERT INTO notifications.sent (notification, order_id, customer_id, customer_name, "
    "sms_number) VALUES ($1, $2, $3, $4, $5)";

static const char *const *params_of(const struct notifications_sms *sms, const char *p[5])
{
    p[0] = sms->notification;
    p[1] = sms->order_id;
    p[2] = sms->customer_id ? sms->customer_id : "";
    p[3] = sms->customer_name;
    p[4] = sms->sms_number;
    return p;
}

static core_status send_pool(void *self, const struct notifications_sms *sms, core_err *err)
{
    const char *p[5];
    return pg_run(self, SQL_SEND, 5, params_of(sms, p), NULL, err);
}

static core_status send_in(void *self, const struct notifications_sms *sms, core_err *err)
{
    const char *p[5];
    return pg_exec(self, SQL_SEND, 5, params_of(sms, p), NULL, err);
}

void notifications__pg_sender(struct notifications_sender *out, pg_pool *db)
{
    out->self = db;
    out->send = send_pool;
}

void notifications__pg_sender_in(struct notifications_sender *out, pg_conn *tx)
{
    out->self = tx;
    out->send = send_in;
}
