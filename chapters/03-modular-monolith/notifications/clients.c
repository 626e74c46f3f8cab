/* clients.c -- the notifications module's port to customers, over its RPC service (the book's
 * notifications/internal/grpc/customer_repository.go). A remote error (NOT_FOUND for an unknown
 * customer, UNAVAILABLE, ...) is passed up unchanged. */
#include "customers/api.pb-c.h"
#include "notifications/adapters.h"
#include "pb.h"

static core_status find_customer(void *self, const char *customer_id,
                                 struct notifications_customer *out, core_err *err)
{
    Customerspb__GetCustomerRequest req = CUSTOMERSPB__GET_CUSTOMER_REQUEST__INIT;
    ProtobufCMessage *msg = NULL;
    struct notifications_customer c = NOTIFICATIONS_CUSTOMER_INIT;
    core_status st;

    req.id = (char *)customer_id;
    if ((st = rpc_call(self, &customerspb__customers_service__descriptor, "GetCustomer", &req.base,
                       &msg, err)))
        goto done;
    const Customerspb__GetCustomerResponse *resp = (const Customerspb__GetCustomerResponse *)msg;
    if (!resp->customer) {
        st = core_err_set(err, CORE_ERR_INTERNAL,
                          "customers.GetCustomer returned no customer for %s", customer_id);
        goto done;
    }
    c.name = core_strdup(resp->customer->name ? resp->customer->name : "");
    c.sms_number = core_strdup(resp->customer->sms_number ? resp->customer->sms_number : "");
    if (!c.name || !c.sms_number) {
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory copying customer %s", customer_id);
        goto done;
    }
    notifications_customer_release(out);
    *out = c;
    c = (struct notifications_customer)NOTIFICATIONS_CUSTOMER_INIT;
done:
    notifications_customer_release(&c);
    pb_free(msg);
    return st;
}

void notifications__rpc_customers(struct notifications_customers *out, rpc_client *client)
{
    out->self = client;
    out->find = find_customer;
}
