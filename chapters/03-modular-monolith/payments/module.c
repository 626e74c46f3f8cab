/* payments/module.c -- wires the payments module: repositories, the ordering client, the
 * application, the RPC service and the REST routes. */
#include "payments/adapters.h"
#include "payments/module.h"

struct payments_state {
    rpc_client *ordering; /* owned */
    struct payments_app app;
};

static void stop(void *state)
{
    struct payments_state *s = state;
    if (!s)
        return;
    rpc_client_free(s->ordering);
    core_free(s);
}

static core_status start(struct monolith *mono, void **state, core_err *err)
{
    *state = NULL;
    struct payments_state *s = core_calloc(1, sizeof *s);
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    core_status st = monolith_rpc_client(mono, &s->ordering, err);
    if (!st) {
        payments_postgres_payments(&s->app.payments, mono->db);
        payments_postgres_invoices(&s->app.invoices, mono->db);
        payments_clients_orders(&s->app.orders, s->ordering);
        if (!(st = payments_rpc_register(mono->rpc, &s->app, err)))
            st = payments_rest_mount(mono->web, mono->rpc, err);
    }
    if (st) {
        stop(s);
        return st;
    }
    *state = s;
    return CORE_OK;
}

const struct module payments_module = {"payments", start, stop};
