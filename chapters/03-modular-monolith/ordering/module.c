/* module.c -- wires the ordering module (the book's ordering/module.go): driven adapters
 * (repository, clients of other modules), the application, then the driver adapters (RPC service,
 * REST routes). */
#include "ordering/adapters.h"
#include "ordering/module.h"

struct ordering_state {
    rpc_client *client; /* to the other modules, over this process's RPC port */
    struct ordering_app app;
};

static void module_shutdown(void *state)
{
    struct ordering_state *s = state;
    if (!s)
        return;
    rpc_client_free(s->client);
    core_free(s);
}

static core_status module_startup(struct monolith *mono, void **state, core_err *err)
{
    core_status st;
    struct ordering_state *s = core_calloc(1, sizeof *s);
    *state = NULL;
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory starting the ordering module");

    if ((st = monolith_rpc_client(mono, &s->client, err)))
        goto fail;
    ordering__pg_orders(&s->app.orders, mono->db);
    ordering__rpc_customers(&s->app.customers, s->client);
    ordering__rpc_payments(&s->app.payments, s->client);
    ordering__rpc_depot(&s->app.depot, s->client);
    ordering__rpc_notifications(&s->app.notifications, s->client);

    if ((st = ordering__rpc_register(mono->rpc, &s->app, err)) ||
        (st = ordering__rest_mount(mono->web, mono->rpc, err)))
        goto fail;
    *state = s;
    return CORE_OK;
fail:
    module_shutdown(s);
    return st;
}

const struct module ordering_module = {"ordering", module_startup, module_shutdown};
