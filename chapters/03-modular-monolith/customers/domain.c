/* customers/domain.c -- see customers/domain.h. */
#include <string.h>

#include "customers/domain.h"

void customers_customer_init(struct customers_customer *c)
{
    memset(c, 0, sizeof *c);
}

void customers_customer_release(struct customers_customer *c)
{
    if (!c)
        return;
    core_free(c->name);
    core_free(c->sms_number);
    customers_customer_init(c);
}

core_status customers_customer_restore(struct customers_customer *c, const char *id,
                                       const char *name, const char *sms_number, bool enabled,
                                       core_err *err)
{
    core_status st;
    if (!core_strlcpy(c->id, id ? id : "", sizeof c->id)) {
        st = core_err_set(err, CORE_ERR_INVALID, "the customer id is too long");
        goto fail;
    }
    c->name = core_strdup(name ? name : "");
    c->sms_number = core_strdup(sms_number ? sms_number : "");
    if (!c->name || !c->sms_number) {
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
        goto fail;
    }
    c->enabled = enabled;
    return CORE_OK;
fail:
    customers_customer_release(c);
    return st;
}

core_status customers_customer_register(struct customers_customer *c, const char *id,
                                        const char *name, const char *sms_number, core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the customer id cannot be blank");
    if (strlen(id) > CUSTOMERS_ID_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "the customer id is too long");
    if (core_str_blank(name))
        return core_err_set(err, CORE_ERR_INVALID, "the customer name cannot be blank");
    if (core_str_blank(sms_number))
        return core_err_set(err, CORE_ERR_INVALID, "the SMS number cannot be blank");
    return customers_customer_restore(c, id, name, sms_number, true, err);
}

core_status customers_customer_enable(struct customers_customer *c, core_err *err)
{
    if (c->enabled)
        return core_err_set(err, CORE_ERR_INVALID, "the customer is already enabled");
    c->enabled = true;
    return CORE_OK;
}

core_status customers_customer_disable(struct customers_customer *c, core_err *err)
{
    if (!c->enabled)
        return core_err_set(err, CORE_ERR_INVALID, "the customer is already disabled");
    c->enabled = false;
    return CORE_OK;
}

core_status customers_customer_authorize(const struct customers_customer *c, core_err *err)
{
    if (!c->enabled)
        return core_err_set(err, CORE_ERR_INVALID,
                            "customer %s is not authorized: the customer is disabled", c->id);
    return CORE_OK;
}
