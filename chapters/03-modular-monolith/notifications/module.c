/* module.c -- wires the notifications module (the book's notifications/module.go): the
 * customers client, the application, the RPC service. No repository, no REST routes. */
#include "notifications/adapters.h"
#include "notifications/module.h"

struct notifications_state {
    rpc_client *client; /* to customers, over this process's RPC port */
    struct notifications_app app;
};

static void module_shutdown(void *state)
{
    struct notifications_state *s = state;
    if (!s)
        return;
    rpc_client_free(s->client);
    core_free(s);
}

static core_status module_startup(struct monolith *mono, void **state, core_err *err)
{
    core_status st;
    struct notifications_state *s = core_calloc(1, sizeof *s);
    *state = NULL;
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory starting the notifications module");

    if ((st = monolith_rpc_client(mono, &s->client, err)))
        goto fail;
    notifications__rpc_customers(&s->app.customers, s->client);
    if ((st = notifications__rpc_register(mono->rpc, &s->app, err)))
        goto fail;
    *state = s;
    return CORE_OK;
fail:
    module_shutdown(s);
    return st;
}

const struct module notifications_module = {"notifications", module_startup, module_shutdown};
