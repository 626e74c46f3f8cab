/* module.c -- wires the baskets module (the book's baskets/module.go). See module.h.
 *
 * Driven adapters first (the domain event dispatcher; the registry of the event and snapshot
 * types, the event store on schema "baskets" and the basket repository over it -- chapter 05;
 * the RPC clients of stores and ordering), then the application and the event handlers over them,
 * then the driver adapters (the RPC service and the REST routes), and last the handlers'
 * subscriptions. The repository gets no publisher: the application publishes before it appends
 * (application.h).
 */
#include "baskets/adapters.h"
#include "baskets/application.h"
#include "baskets/handlers.h"
#include "baskets/module.h"

struct baskets_state {
    rpc_client *client;                   /* this process's RPC port, for stores and ordering */
    ddd_dispatcher *events;               /* the module's domain events, in process */
    es_registry *registry;                /* event and snapshot names -> message types */
    es_store *store;                      /* baskets.events, baskets.snapshots; borrows registry */
    es_repo *repo;                        /* the baskets; borrows store */
    struct baskets_app app;               /* borrows repo, client and events */
    struct baskets_order_handlers orders; /* its port borrows client */
};

static void stop_module(void *state)
{
    struct baskets_state *s = state;
    if (!s)
        return;
    es_repo_free(s->repo);
    es_store_free(s->store);
    es_registry_free(s->registry);
    ddd_dispatcher_free(s->events);
    rpc_client_free(s->client);
    core_free(s);
}

static core_status start_module(struct monolith *mono, void **state, core_err *err)
{
    core_status st;
    int snapshot_every = 0;
    struct baskets_state *s = core_calloc(1, sizeof *s);
    *state = NULL;
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory starting the baskets module");
    if ((st = ddd_dispatcher_new(&s->events, err)) || (st = monolith_rpc_client(mono, &s->client, err)))
        goto fail;
    if ((st = es_snapshot_every_from_env(&snapshot_every, err)) || (st = es_registry_new(&s->registry, err)) ||
        (st = baskets_register_types(s->registry, err)) ||
        (st = es_pg_store_new(&s->store, mono->db, "baskets", s->registry, err)) ||
        (st = es_repo_new(&s->repo, &baskets_basket_type, s->store, NULL, snapshot_every, err)))
        goto fail;
    s->app.baskets = s->repo;
    baskets__stores_client(&s->app.stores, s->client);
    s->app.publisher = s->events;
    baskets__ordering_client(&s->orders.ordering, s->client);
    if ((st = baskets__rpc_register(mono->rpc, &s->app, err)) || (st = baskets__rest_mount(mono->web, mono->rpc, err)))
        goto fail;
    if ((st = baskets_register_order_handlers(s->events, &s->orders, err)))
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
