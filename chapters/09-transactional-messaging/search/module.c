/* search/module.c -- wires the search module (the book's search/module.go): the read model and
 * the caches of the names on PostgreSQL, with the owners over RPC as the caches' fallback ->
 * application -> RPC service and REST routes, and last the subscriptions on the stream
 * (search/handlers.h): the caches' handlers, then ordering's events, once everything their
 * handlers use is in place (deliveries start at once).
 * Chapter 09: the subscriptions receive through search.inbox (a tm_outbox over schema "search",
 * which search never publishes to: it has no outbox table and the relay does not serve it), and
 * each handler writes on a unit joined on the delivery's transaction (search/units.c), so a
 * message's writes and its inbox row commit together and a redelivery has no second effect. */
#include "search/module.h"

#include "log.h"
#include "search/adapters.h"
#include "search/handlers.h"

/* Everything the running module owns. */
struct search_state {
    rpc_client *client;             /* to customers and stores, over this process's RPC port */
    struct search_pg_caches caches; /* the names, with client as the fallback */
    struct search_cache_handlers writers; /* the caches as the handlers write them */
    struct search_app app;
    tm_outbox *inbox;          /* search.inbox (no outbox rows are ever written) */
    struct search_units units; /* borrow caches */
};

static void stop_module(void *state)
{
    struct search_state *s = state;
    if (s) {
        rpc_client_free(s->client);
        tm_outbox_free(s->inbox);
    }
    core_free(s);
}

static core_status start_module(struct monolith *mono, void **state, core_err *err)
{
    core_status st;
    struct search_state *s = core_calloc(1, sizeof *s);
    *state = NULL;
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory starting the search module");

    /* driven adapters */
    if ((st = monolith_rpc_client(mono, &s->client, err)))
        goto fail;
    search__pg_orders(&s->app.orders, mono->db);
    s->caches.db = mono->db;
    search__rpc_caches(&s->caches.fallback, s->client);
    search__cached_names(&s->app.caches, &s->caches);
    search__cache_writers(&s->writers, &s->caches);
    search__pg_units(&s->units, &s->caches);
    if ((st = tm_outbox_new(&s->inbox, mono->db, "search", mono->cfg.nats_stream, err)))
        goto fail;

    /* driver adapters */
    if ((st = search__rpc_register(mono->rpc, &s->app, err)) ||
        (st = search__rest_mount(mono->web, mono->rpc, err)) ||
        (st = search_subscribe_cache_handlers_in(mono->stream, s->inbox, mono->messages, &s->units,
                                                 err)) ||
        (st = search_subscribe_order_handlers_in(mono->stream, s->inbox, mono->messages, &s->units,
                                                 err)))
        goto fail; /* main() frees the registry without calling it: the stale ud is never used */
    *state = s;
    log_debug("search", "module ready");
    return CORE_OK;
fail:
    stop_module(s);
    return st;
}

const struct module search_module = {"search", start_module, stop_module};
