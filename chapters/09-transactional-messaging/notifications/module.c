/* module.c -- wires the notifications module (the book's notifications/module.go): the
 * customers client, the application, the RPC service. No repository, no REST routes.
 * Chapter 07: the application reads the customers from the module's cache (caches.c, asking the
 * customers client only on a miss), and last of all the module subscribes its handlers to the
 * customers' and ordering's events on the stream (handlers.h).
 * Chapter 09: the subscriptions receive through notifications.inbox (a tm_outbox over schema
 * "notifications" that never publishes) on units joined on each delivery's transaction
 * (units.c), and a notification sent is a row of notifications.sent written in that transaction
 * (sent.c), so an order event delivered twice sends once. The RPC commands send on the pool. */
#include "notifications/adapters.h"
#include "notifications/handlers.h"
#include "notifications/module.h"

struct notifications_state {
    rpc_client *client; /* to customers, over this process's RPC port */
    struct notifications_app app;
    struct notifications_caches caches; /* borrows mono->db; its fallback borrows client */
    tm_outbox *inbox;                   /* notifications.inbox (no outbox rows) */
    struct notifications_units units;   /* borrow caches */
};

static void module_shutdown(void *state)
{
    struct notifications_state *s = state;
    if (!s)
        return;
    rpc_client_free(s->client);
    tm_outbox_free(s->inbox);
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
    s->caches.db = mono->db;
    notifications__rpc_customers(&s->caches.fallback, s->client);
    notifications__cached_customers(&s->app.customers, &s->caches);
    notifications__pg_sender(&s->app.sender, mono->db);
    notifications__pg_units(&s->units, &s->caches);
    if ((st = tm_outbox_new(&s->inbox, mono->db, "notifications", mono->cfg.nats_stream, err)) ||
        (st = notifications__rpc_register(mono->rpc, &s->app, err)) ||
        (st = notifications_subscribe_handlers_in(mono->stream, s->inbox, mono->messages, &s->units,
                                                  err)))
        goto fail;
    *state = s;
    return CORE_OK;
fail:
    module_shutdown(s);
    return st;
}

const struct module notifications_module = {"notifications", module_startup, module_shutdown};
