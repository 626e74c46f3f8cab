/* customers/domain.c -- see customers/domain.h. */
#include <string.h>

#include "customers/domain.h"
#include "customers/domain_events.pb-c.h"
#include "pb.h"

void customers_customer_init(struct customers_customer *c)
{
    memset(c, 0, sizeof *c);
    ddd_aggregate_init(&c->agg, CUSTOMERS_AGGREGATE);
}

void customers_customer_release(struct customers_customer *c)
{
    if (!c)
        return;
    core_free(c->name);
    core_free(c->sms_number);
    ddd_aggregate_release(&c->agg);
    customers_customer_init(c);
}

/* Records event `name` with payload (ownership taken; NULL means building it ran out of memory)
 * on c, stamped with c's id. On failure nothing is recorded and the payload is freed. */
static core_status record(struct customers_customer *c, const char *name, ProtobufCMessage *payload,
                          core_err *err)
{
    core_status st;
    if (!payload)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory recording %s", name);
    if ((st = ddd_aggregate_set_id(&c->agg, c->id, err))) {
        pb_free(payload);
        return st;
    }
    return ddd_aggregate_add_event(&c->agg, name, &payload, err);
}

static ProtobufCMessage *registered_event(const char *name, const char *sms_number)
{
    Customers__Domain__CustomerRegistered *m = pb_new_of(customers__domain__customer_registered);
    if (m && (pb_set_string(&m->name, name, NULL) || pb_set_string(&m->sms_number, sms_number, NULL))) {
        pb_free(&m->base);
        return NULL;
    }
    return m ? &m->base : NULL;
}

core_status customers_customer_restore(struct customers_customer *c, const char *id, const char *name,
                                       const char *sms_number, bool enabled, core_err *err)
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

core_status customers_customer_register(struct customers_customer *c, const char *id, const char *name,
                                        const char *sms_number, core_err *err)
{
    if (core_str_blank(id))
        return core_err_set(err, CORE_ERR_INVALID, "the customer id cannot be blank");
    if (strlen(id) > CUSTOMERS_ID_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "the customer id is too long");
    if (core_str_blank(name))
        return core_err_set(err, CORE_ERR_INVALID, "the customer name cannot be blank");
    if (core_str_blank(sms_number))
        return core_err_set(err, CORE_ERR_INVALID, "the SMS number cannot be blank");
    core_status st = customers_customer_restore(c, id, name, sms_number, true, err);
    if (st == CORE_OK && (st = record(c, CUSTOMERS_CUSTOMER_REGISTERED, registered_event(name, sms_number), err)))
        customers_customer_release(c);
    return st;
}

core_status customers_customer_enable(struct customers_customer *c, core_err *err)
{
    if (c->enabled)
        return core_err_set(err, CORE_ERR_INVALID, "the customer is already enabled");
    ProtobufCMessage *enabled = pb_new(&customers__domain__customer_enabled__descriptor);
    core_status st = record(c, CUSTOMERS_CUSTOMER_ENABLED, enabled, err);
    if (st == CORE_OK)
        c->enabled = true;
    return st;
}

core_status customers_customer_disable(struct customers_customer *c, core_err *err)
{
    if (!c->enabled)
        return core_err_set(err, CORE_ERR_INVALID, "the customer is already disabled");
    ProtobufCMessage *disabled = pb_new(&customers__domain__customer_disabled__descriptor);
    core_status st = record(c, CUSTOMERS_CUSTOMER_DISABLED, disabled, err);
    if (st == CORE_OK)
        c->enabled = false;
    return st;
}

core_status customers_customer_authorize(struct customers_customer *c, core_err *err)
{
    if (!c->enabled)
        return core_err_set(err, CORE_ERR_INVALID, "customer %s is not authorized: the customer is disabled",
                            c->id);
    ProtobufCMessage *authorized = pb_new(&customers__domain__customer_authorized__descriptor);
    return record(c, CUSTOMERS_CUSTOMER_AUTHORIZED, authorized, err);
}
