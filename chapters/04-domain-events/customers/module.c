/* customers/module.c -- wires the customers module (the book's customers/module.go): domain event
 * dispatcher and PostgreSQL repository -> application -> RPC service and REST routes. Nothing
 * subscribes to the customers' events in chapter 04; the dispatcher is there for later chapters. */
#include "customers/module.h"

#include "customers/adapters.h"
#include "log.h"

/* Everything the running module owns. */
struct customers_state {
    ddd_dispatcher *events; /* the module's domain events, in process */
    struct customers_app app;
};

static void stop_module(void *state)
{
    struct customers_state *s = state;
    if (s)
        ddd_dispatcher_free(s->events);
    core_free(s);
}

static core_status start_module(struct monolith *mono, void **state, core_err *err)
{
    core_status st;
    struct customers_state *s = core_calloc(1, sizeof *s);
    *state = NULL;
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");

    /* driven adapters */
    if ((st = ddd_dispatcher_new(&s->events, err))) {
        stop_module(s);
        return st;
    }
    s->app.publisher = s->events;
    customers__pg_repo(&s->app.customers, mono->db);

    /* driver adapters */
    if ((st = customers__rpc_register(mono->rpc, &s->app, err)) ||
        (st = customers__rest_mount(mono->web, mono->rpc, err))) {
        /* main() frees the registry without calling it: the stale ud is never used. */
        stop_module(s);
        return st;
    }
    *state = s;
    log_debug("customers", "module ready");
    return CORE_OK;
}

const struct module customers_module = {"customers", start_module, stop_module};
