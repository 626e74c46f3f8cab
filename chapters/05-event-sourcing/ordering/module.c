/* module.c -- wires the ordering module (the book's ordering/module.go): the domain event
 * dispatcher, driven adapters (chapter 05: the registry of the event and snapshot types, the
 * event store on schema "ordering" and the order repository over it, publishing to the
 * dispatcher; the clients of other modules), the application and its event handlers, then the
 * driver adapters (RPC service, REST routes) and the handlers' subscriptions. */
#include "ordering/adapters.h"
#include "ordering/handlers.h"
#include "ordering/module.h"

struct ordering_state {
    rpc_client *client;         /* to the other modules, over this process's RPC port */
    ddd_dispatcher *dispatcher; /* the module's domain events, in-process */
    es_registry *registry;      /* event and snapshot names -> message types */
    es_store *store;            /* ordering.events, ordering.snapshots; borrows registry */
    es_repo *repo;              /* the orders; borrows store and dispatcher */
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
    es_repo_free(s->repo);
    es_store_free(s->store);
    es_registry_free(s->registry);
    ddd_dispatcher_free(s->dispatcher);
    core_free(s);
}

static core_status module_startup(struct monolith *mono, void **state, core_err *err)
{
    core_status st;
    int snapshot_every = 0;
    struct ordering_state *s = core_calloc(1, sizeof *s);
    *state = NULL;
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory starting the ordering module");

    if ((st = ddd_dispatcher_new(&s->dispatcher, err)) ||
        (st = monolith_rpc_client(mono, &s->client, err)))
        goto fail;
    if ((st = es_snapshot_every_from_env(&snapshot_every, err)) ||
        (st = es_registry_new(&s->registry, err)) ||
        (st = ordering_register_types(s->registry, err)) ||
        (st = es_pg_store_new(&s->store, mono->db, "ordering", s->registry, err)) ||
        (st = es_repo_new(&s->repo, &ordering_order_type, s->store, s->dispatcher, snapshot_every,
                          err)))
        goto fail;
    s->app.orders = s->repo;
    ordering__rpc_customers(&s->app.customers, s->client);
    ordering__rpc_payments(&s->app.payments, s->client);
    ordering__rpc_depot(&s->app.depot, s->client);
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
