/* stores/module.c -- wires the stores module (the book's stores/module.go): PostgreSQL
 * repositories -> application -> RPC service and REST routes. */
#include "stores/module.h"

#include "log.h"
#include "stores/adapters.h"

/* Everything the running module owns. */
struct stores_state {
    struct stores_app app;
};

static void stop_module(void *state)
{
    core_free(state);
}

static core_status start_module(struct monolith *mono, void **state, core_err *err)
{
    core_status st;
    struct stores_state *s = core_calloc(1, sizeof *s);
    *state = NULL;
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");

    /* driven adapters */
    stores__pg_store_repo(&s->app.stores, mono->db);
    stores__pg_participating_repo(&s->app.participating, mono->db);
    stores__pg_product_repo(&s->app.products, mono->db);

    /* driver adapters */
    if ((st = stores__rpc_register(mono->rpc, &s->app, err)) ||
        (st = stores__rest_mount(mono->web, mono->rpc, err))) {
        /* main() frees the registry without calling it: the stale ud is never used. */
        stop_module(s);
        return st;
    }
    *state = s;
    log_debug("stores", "module ready");
    return CORE_OK;
}

const struct module stores_module = {"stores", start_module, stop_module};
