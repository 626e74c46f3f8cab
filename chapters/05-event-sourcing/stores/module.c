/* stores/module.c -- wires the stores module (the book's stores/module.go): the registry of event
 * and snapshot types, the event store over stores.events/stores.snapshots, the domain event
 * dispatcher and the two event-sourced repositories that publish to it, the PostgreSQL read
 * models -> application -> RPC service and REST routes, and last the MallHandlers and
 * CatalogHandlers that keep the read models up to date. */
#include "stores/module.h"

#include "log.h"
#include "stores/adapters.h"
#include "stores/handlers.h"

/* Everything the running module owns. */
struct stores_state {
    es_registry *types;     /* event and snapshot names -> payload message types */
    es_store *store;        /* stores.events and stores.snapshots */
    ddd_dispatcher *events; /* the module's domain events, in process */
    es_repo *stores;        /* stores.Store aggregates */
    es_repo *products;      /* stores.Product aggregates */
    struct stores_app app;  /* its read-model ports borrow mono->db */
};

static void stop_module(void *state)
{
    struct stores_state *s = state;
    if (s) {
        es_repo_free(s->products);
        es_repo_free(s->stores);
        ddd_dispatcher_free(s->events);
        es_store_free(s->store);
        es_registry_free(s->types);
    }
    core_free(s);
}

static core_status start_module(struct monolith *mono, void **state, core_err *err)
{
    core_status st;
    int snapshot_every = 0;
    struct stores_state *s = core_calloc(1, sizeof *s);
    *state = NULL;
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");

    /* driven adapters */
    if ((st = es_snapshot_every_from_env(&snapshot_every, err)) || (st = es_registry_new(&s->types, err)) ||
        (st = stores_register_types(s->types, err)) ||
        (st = es_pg_store_new(&s->store, mono->db, "stores", s->types, err)) ||
        (st = ddd_dispatcher_new(&s->events, err)) ||
        (st = es_repo_new(&s->stores, &stores_store_type, s->store, s->events, snapshot_every, err)) ||
        (st = es_repo_new(&s->products, &stores_product_type, s->store, s->events, snapshot_every, err)))
        goto fail;
    s->app.stores = s->stores;
    s->app.products = s->products;
    stores__pg_mall_repo(&s->app.mall, mono->db);
    stores__pg_catalog_repo(&s->app.catalog, mono->db);

    /* driver adapters, then the read models' subscriptions */
    if ((st = stores__rpc_register(mono->rpc, &s->app, err)) ||
        (st = stores__rest_mount(mono->web, mono->rpc, err)) ||
        (st = stores_register_mall_handlers(s->events, &s->app.mall, err)) ||
        (st = stores_register_catalog_handlers(s->events, &s->app.catalog, err)))
        goto fail;
    *state = s;
    log_debug("stores", "module ready");
    return CORE_OK;

fail:
    /* main() frees the registry without calling it: the stale ud is never used. */
    stop_module(s);
    return st;
}

const struct module stores_module = {"stores", start_module, stop_module};
