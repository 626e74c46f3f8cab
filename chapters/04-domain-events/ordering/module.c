/* module.c -- wires the ordering module (the book's ordering/module.go): the domain event
 * dispatcher, driven adapters (repository, clients of other modules), the application and its
 * event handlers, then the driver adapters (RPC service, REST routes) and the handlers'
 * subscriptions. */
#include "ordering/adapters.h"
#include "ordering/handlers.h"
#include "ordering/module.h"

struct ordering_state {
    rpc_client *client;         /* to the other modules, over this process's RPC port */
    ddd_dispatcher *dispatcher; /* the module's domain events, in-process */
    struct ordering_app app;
    struct ordering_notification_handlers notification_handlers;
    struct ordering_invoice_handlers invoice_handlers;
};

static void module_shutdown(void *state)
{
    struct ordering_state *s = state;
    if (!s)
        return;
    rpc_client_free(s->client);
    ddd_dispatcher_free(s->dispatcher);
    core_free(s);
}

static core_status module_startup(struct monolith *mono, void **state, core_err *err)
{
    core_status st;
    struct ordering_state *s = core_calloc(1, sizeof *s);
    *state = NULL;
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory starting the ordering module");

    if ((st = ddd_dispatcher_new(&s->dispatcher, err)) ||
        (st = monolith_rpc_client(mono, &s->client, err)))
        goto fail;
    ordering__pg_orders(&s->app.orders, mono->db);
    ordering__rpc_customers(&s->app.customers, s->client);
    ordering__rpc_payments(&s->app.payments, s->client);
    ordering__rpc_depot(&s->app.depot, s->client);
    s->app.publisher = s->dispatcher;
    ordering__rpc_notifications(&s->notification_handlers.notifications, s->client);
    ordering__rpc_payments(&s->invoice_handlers.payments, s->client);
    s->invoice_handlers.app = &s->app;

    if ((st = ordering__rpc_register(mono->rpc, &s->app, err)) ||
        (st = ordering__rest_mount(mono->web, mono->rpc, err)) ||
        (st = ordering_register_notification_handlers(s->dispatcher, &s->notification_handlers,
                                                      err)) ||
        (st = ordering_register_invoice_handlers(s->dispatcher, &s->invoice_handlers, err)))
        goto fail;
    *state = s;
    return CORE_OK;
fail:
    module_shutdown(s);
    return st;
}

const struct module ordering_module = {"ordering", module_startup, module_shutdown};
