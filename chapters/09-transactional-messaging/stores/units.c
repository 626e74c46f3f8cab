/* stores/units.c -- the stores module's units of work on PostgreSQL and its outbox (chapter 09;
 * see stores__pg_units in stores/adapters.h).
 *
 * A unit is one tm_tx (shared/tm.h) and a dispatcher of its own. The dispatcher's handlers are
 * the module's usual ones (stores/handlers.h), subscribed on ports that belong to this
 * transaction: the read models write on tm_tx_conn(), the integration events go to
 * tm_tx_stream(), which turns every publish into an outbox row. So a command's events, its read
 * models and its messages commit together. A dispatcher per unit keeps the handlers free of any
 * notion of a transaction: they are given ports, as in every earlier chapter, and the ports
 * decide where the writes go (the book gets the same effect from a DI container scoped to the
 * request; here the unit is a value the application passes down).
 */
#include "stores/adapters.h"
#include "stores/handlers.h"

/* Everything one unit owns. */
struct unit {
    tm_tx *tx;
    struct stores_pg_db db; /* tx = tm_tx_conn(tx) */
    struct stores_mall_repo mall;
    struct stores_catalog_repo catalog;
    ddd_dispatcher *events;
};

static void unit_free(struct unit *u)
{
    ddd_dispatcher_free(u->events);
    core_free(u);
}

static core_status unit_begin(void *self, struct stores_unit *out, core_err *err)
{
    struct unit *u = core_calloc(1, sizeof *u);
    if (!u)
        return core_err_nomem(err);
    core_status st = tm_begin(self, &u->tx, err);
    if (st) {
        core_free(u);
        return st;
    }
    u->db.tx = tm_tx_conn(u->tx);
    stores__pg_mall_repo(&u->mall, &u->db);
    stores__pg_catalog_repo(&u->catalog, &u->db);
    /* the read models first: the announcement follows the change it announces (handlers.h) */
    if ((st = ddd_dispatcher_new(&u->events, err)) ||
        (st = stores_register_mall_handlers(u->events, &u->mall, err)) ||
        (st = stores_register_catalog_handlers(u->events, &u->catalog, err)) ||
        (st = stores_register_integration_handlers(u->events, tm_tx_stream(u->tx), err))) {
        tm_rollback(u->tx);
        unit_free(u);
        return st;
    }
    out->conn = u->db.tx;
    out->events = ddd_dispatcher_publisher(u->events);
    out->impl = u;
    return CORE_OK;
}

static core_status unit_commit(void *self, struct stores_unit *su, core_err *err)
{
    (void)self;
    struct unit *u = su->impl;
    core_status st = tm_commit(u->tx, err);
    unit_free(u);
    *su = (struct stores_unit){0};
    return st;
}

static void unit_rollback(void *self, struct stores_unit *su)
{
    (void)self;
    struct unit *u = su->impl;
    tm_rollback(u->tx);
    unit_free(u);
    *su = (struct stores_unit){0};
}

void stores__pg_units(struct stores_units *out, tm_outbox *outbox)
{
    out->self = outbox;
    out->begin = unit_begin;
    out->commit = unit_commit;
    out->rollback = unit_rollback;
}
