/* notifications_fakes.c -- see notifications_fakes.h. */
#include <string.h>

#include "notifications_fakes.h"

static core_status customers_find(void *self, const char *customer_id,
                                  struct notifications_customer *out, core_err *err)
{
    struct notifications_fake_customers *f = self;
    f->calls++;
    core_strlcpy(f->last_id, customer_id ? customer_id : "(null)", sizeof f->last_id);
    if (f->fail)
        return core_err_set(err, f->fail, "customers RPC at 127.0.0.1:8085 unreachable");
    if (!customer_id || strcmp(customer_id, "customer-1") != 0)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "customer %s not found",
                            customer_id ? customer_id : "");
    out->name = core_strdup("Buyer #1");
    out->sms_number = core_strdup("555-1212");
    if (!out->name || !out->sms_number) {
        notifications_customer_release(out);
        return core_err_nomem(err);
    }
    return CORE_OK;
}

void notifications_fake_customers_port(struct notifications_customers *out,
                                       struct notifications_fake_customers *f)
{
    *out = (struct notifications_customers){f, customers_find};
}
