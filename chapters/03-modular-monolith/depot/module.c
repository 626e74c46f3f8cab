/* depot/module.c -- wires the depot module: the repository, the stores and ordering clients, the
 * application, the RPC service and the REST routes. */
#include "depot/adapters.h"
#include "depot/module.h"

struct depot_state {
    rpc_client *rpc; /* owned; one client serves both stores and ordering (same RPC port) */
    struct depot_app app;
};

static void stop(void *state)
{
    struct depot_state *s = state;
    if (!s)
        return;
    rpc_client_free(s->rpc);
    core_free(s);
}

static core_status start(struct monolith *mono, void **state, core_err *err)
{
    *state = NULL;
    struct depot_state *s = core_calloc(1, sizeof *s);
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    core_status st = monolith_rpc_client(mono, &s->rpc, err);
    if (!st) {
        depot_postgres_lists(&s->app.lists, mono->db);
        depot_clients_stores(&s->app.stores, s->rpc);
        depot_clients_orders(&s->app.orders, s->rpc);
        if (!(st = depot_rpc_register(mono->rpc, &s->app, err)))
            st = depot_rest_mount(mono->web, mono->rpc, err);
    }
    if (st) {
        stop(s);
        return st;
    }
    *state = s;
    return CORE_OK;
}

const struct module depot_module = {"depot", start, stop};
