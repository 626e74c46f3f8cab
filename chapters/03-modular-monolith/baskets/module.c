/* module.c -- wires the baskets module (the book's baskets/module.go). See module.h.
 *
 * Driven adapters first (PostgreSQL repository, RPC clients of stores and ordering), then the
 * application over them, then the driver adapters (the RPC service and the REST routes).
 */
#include "baskets/adapters.h"
#include "baskets/application.h"
#include "baskets/module.h"

struct baskets_state {
    rpc_client *client;     /* this process's RPC port, for stores and ordering */
    struct baskets_app app; /* its ports borrow client and mono->db */
};

static void stop_module(void *state)
{
    struct baskets_state *s = state;
    if (!s)
        return;
    rpc_client_free(s->client);
    core_free(s);
}

static core_status start_module(struct monolith *mono, void **state, core_err *err)
{
    core_status st;
    struct baskets_state *s = core_calloc(1, sizeof *s);
    *state = NULL;
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory starting the baskets module");
    if ((st = monolith_rpc_client(mono, &s->client, err)))
        goto fail;
    baskets__pg_repo(&s->app.baskets, mono->db);
    baskets__stores_client(&s->app.stores, s->client);
    baskets__ordering_client(&s->app.ordering, s->client);
    if ((st = baskets__rpc_register(mono->rpc, &s->app, err)) ||
        (st = baskets__rest_mount(mono->web, mono->rpc, err)))
        goto fail;
    *state = s;
    return CORE_OK;

fail:
    /* main() does not start the servers after a failed start-up, so a registration that already
     * happened never calls into the freed state. */
    stop_module(s);
    return st;
}

const struct module baskets_module = {"baskets", start_module, stop_module};
