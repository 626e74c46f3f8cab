/* customers/rpc_server.c -- customerspb.CustomersService over the customers application (see
 * adapters.h).
 *
 * Each method turns the proto request into an application call and the result into a response
 * heap tree (pb.h). A new customer's id is a random UUID made here, as the book's gRPC server
 * does. Errors of the application pass through unchanged.
 */
#include "customers/adapters.h"

#include "customers/api.pb-c.h"
#include "pb.h"

static core_status register_customer(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                     core_err *err)
{
    const Customerspb__RegisterCustomerRequest *r =
        (const Customerspb__RegisterCustomerRequest *)req;
    Customerspb__RegisterCustomerResponse *out = pb_new_of(customerspb__register_customer_response);
    char id[CORE_UUID_LEN + 1];
    core_status st;
    core_uuid_new(id);
    if (!out)
        st = core_err_nomem(err);
    else if (!(st = pb_set_string(&out->id, id, err)))
        st = customers_app_register_customer(ud, id, r->name, r->sms_number, err);
    if (st) {
        pb_free(out ? &out->base : NULL);
        return st;
    }
    *resp = &out->base;
    return CORE_OK;
}

static core_status authorize_customer(void *ud, const ProtobufCMessage *req,
                                      ProtobufCMessage **resp, core_err *err)
{
    const Customerspb__AuthorizeCustomerRequest *r =
        (const Customerspb__AuthorizeCustomerRequest *)req;
    return rpc_empty_response(customers_app_authorize_customer(ud, r->id, err),
                              &customerspb__authorize_customer_response__descriptor, resp, err);
}

static core_status get_customer(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                core_err *err)
{
    const Customerspb__GetCustomerRequest *r = (const Customerspb__GetCustomerRequest *)req;
    struct customers_customer c = CUSTOMERS_CUSTOMER_INIT;
    Customerspb__GetCustomerResponse *out = NULL;
    Customerspb__Customer *m = NULL;
    core_status st = customers_app_get_customer(ud, r->id, &c, err);
    if (!st) {
        if (!(out = pb_new_of(customerspb__get_customer_response)) ||
            !(m = out->customer = pb_new_of(customerspb__customer)) ||
            !(m->id = core_strdup(c.id)) || !(m->name = core_strdup(c.name)) ||
            !(m->sms_number = core_strdup(c.sms_number)))
            st = core_err_nomem(err);
        else
            m->enabled = c.enabled;
    }
    customers_customer_release(&c);
    if (st) {
        pb_free(out ? &out->base : NULL);
        return st;
    }
    *resp = &out->base;
    return CORE_OK;
}

static core_status enable_customer(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                   core_err *err)
{
    const Customerspb__EnableCustomerRequest *r = (const Customerspb__EnableCustomerRequest *)req;
    return rpc_empty_response(customers_app_enable_customer(ud, r->id, err),
                              &customerspb__enable_customer_response__descriptor, resp, err);
}

static core_status disable_customer(void *ud, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                    core_err *err)
{
    const Customerspb__DisableCustomerRequest *r = (const Customerspb__DisableCustomerRequest *)req;
    return rpc_empty_response(customers_app_disable_customer(ud, r->id, err),
                              &customerspb__disable_customer_response__descriptor, resp, err);
}

static const struct rpc_method methods[] = {
    {"RegisterCustomer", register_customer}, {"AuthorizeCustomer", authorize_customer},
    {"GetCustomer", get_customer},           {"EnableCustomer", enable_customer},
    {"DisableCustomer", disable_customer},
};

core_status customers__rpc_register(rpc_registry *reg, struct customers_app *app, core_err *err)
{
    return rpc_registry_add(reg, &customerspb__customers_service__descriptor, methods,
                            sizeof methods / sizeof methods[0], app, err);
}
