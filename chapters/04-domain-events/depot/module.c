/* depot/module.c -- wires the depot module: the domain event dispatcher, the repository, the
 * stores and ordering clients, the application and its OrderHandlers, the RPC service, the REST
 * routes and the handlers' subscription. */
#include "depot/adapters.h"
#include "depot/handlers.h"
#include "depot/module.h"

struct depot_state {
    rpc_client *rpc; /* owned; one client serves both stores and ordering (same RPC port) */
    ddd_dispatcher *dispatcher; /* owned; the module's domain events, in-process */
    struct depot_app app;
    struct depot_order_handlers order_handlers;
};

static void stop(void *state)
{
    struct depot_state *s = state;
    if (!s)
        return;
    rpc_client_free(s->rpc);
    ddd_dispatcher_free(s->dispatcher);
    core_free(s);
}

static core_status start(struct monolith *mono, void **state, core_err *err)
{
    *state = NULL;
    struct depot_state *s = core_calloc(1, sizeof *s);
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    core_status st = ddd_dispatcher_new(&s->dispatcher, err);
    if (!st)
        st = monolith_rpc_client(mono, &s->rpc, err);
    if (!st) {
        depot_postgres_lists(&s->app.lists, mono->db);
        depot_clients_stores(&s->app.stores, s->rpc);
        s->app.publisher = s->dispatcher;
        depot_clients_orders(&s->order_handlers.orders, s->rpc);
        if (!(st = depot_rpc_register(mono->rpc, &s->app, err)) &&
            !(st = depot_rest_mount(mono->web, mono->rpc, err)))
            st = depot_register_order_handlers(s->dispatcher, &s->order_handlers, err);
    }
    if (st) {
        stop(s);
        return st;
    }
    *state = s;
    return CORE_OK;
}

const struct module depot_module = {"depot", start, stop};
