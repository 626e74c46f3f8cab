/* baskets/units.c -- the baskets module's units of work on PostgreSQL and its outbox (chapter 09;
 * see baskets__pg_units in baskets/adapters.h), built as stores/units.c is.
 *
 * A unit is one tm_tx (shared/tm.h) and a dispatcher of its own, on which the module's
 * IntegrationEventHandlers (baskets/handlers.h) announce the basket's events on tm_tx_stream():
 * every announcement becomes a row of baskets.outbox in the unit's transaction. So a basket's
 * events (and its snapshot) and its messages commit together; the program's relay publishes the
 * rows after the commit.
 */
#include "baskets/adapters.h"
#include "baskets/handlers.h"

/* Everything one unit owns. */
struct unit {
    tm_tx *tx;
    ddd_dispatcher *events;
};

static core_status unit_begin(void *self, struct baskets_unit *out, core_err *err)
{
    struct unit *u = core_calloc(1, sizeof *u);
    if (!u)
        return core_err_nomem(err);
    core_status st = tm_begin(self, &u->tx, err);
    if (st) {
        core_free(u);
        return st;
    }
    if ((st = ddd_dispatcher_new(&u->events, err)) ||
        (st = baskets_register_integration_handlers(u->events, tm_tx_stream(u->tx), err))) {
        tm_rollback(u->tx);
        ddd_dispatcher_free(u->events);
        core_free(u);
        return st;
    }
    out->conn = tm_tx_conn(u->tx);
    out->events = ddd_dispatcher_publisher(u->events);
    out->impl = u;
    return CORE_OK;
}

static void unit_free(struct baskets_unit *bu)
{
    struct unit *u = bu->impl;
    ddd_dispatcher_free(u->events);
    core_free(u);
    *bu = (struct baskets_unit){0};
}

static core_status unit_commit(void *self, struct baskets_unit *bu, core_err *err)
{
    (void)self;
    core_status st = tm_commit(((struct unit *)bu->impl)->tx, err);
    unit_free(bu);
    return st;
}

static void unit_rollback(void *self, struct baskets_unit *bu)
{
    (void)self;
    tm_rollback(((struct unit *)bu->impl)->tx);
    unit_free(bu);
}

void baskets__pg_units(struct baskets_units *out, tm_outbox *outbox)
{
    out->self = outbox;
    out->begin = unit_begin;
    out->commit = unit_commit;
    out->rollback = unit_rollback;
}
