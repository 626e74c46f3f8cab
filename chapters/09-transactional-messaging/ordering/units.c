/* ordering/units.c -- the ordering module's units of work on PostgreSQL and its outbox (chapter
 * 09; see ordering__pg_units in ordering/adapters.h), built as stores/units.c is.
 *
 * A unit is one tm_tx (shared/tm.h) and a dispatcher of its own, on which the module's
 * IntegrationEventHandlers (ordering/handlers.h) announce the order's events on tm_tx_stream():
 * every announcement becomes a row of ordering.outbox in the unit's transaction. So an order's
 * events and its messages commit together. A unit either owns its transaction (begin: a REST or
 * RPC command) or joins a message's (join: the transactional subscriptions of tm.h begin it,
 * claim the inbox row, and commit or roll back after the handler).
 */
#include "ordering/adapters.h"
#include "ordering/handlers.h"

/* Everything one unit owns. */
struct unit {
    tm_tx *tx;
    bool own; /* begun here: commit and rollback end tx too */
    ddd_dispatcher *events;
};

static core_status unit_open(tm_tx *tx, bool own, struct ordering_unit *out, core_err *err)
{
    struct unit *u = core_calloc(1, sizeof *u);
    core_status st;
    if (!u) {
        st = core_err_nomem(err);
        goto fail;
    }
    u->tx = tx;
    u->own = own;
    if ((st = ddd_dispatcher_new(&u->events, err)) ||
        (st = ordering_register_integration_handlers(u->events, tm_tx_stream(tx), err)))
        goto fail;
    out->conn = tm_tx_conn(tx);
    out->events = ddd_dispatcher_publisher(u->events);
    out->impl = u;
    return CORE_OK;
fail:
    if (own)
        tm_rollback(tx);
    if (u)
        ddd_dispatcher_free(u->events);
    core_free(u);
    return st;
}

static core_status unit_begin(void *self, struct ordering_unit *out, core_err *err)
{
    tm_tx *tx = NULL;
    core_status st = tm_begin(self, &tx, err);
    return st ? st : unit_open(tx, true, out, err);
}

static core_status unit_join(void *self, tm_tx *tx, struct ordering_unit *out, core_err *err)
{
    (void)self;
    return unit_open(tx, false, out, err);
}

static void unit_free(struct ordering_unit *ou)
{
    struct unit *u = ou->impl;
    ddd_dispatcher_free(u->events);
    core_free(u);
    *ou = (struct ordering_unit){0};
}

static core_status unit_commit(void *self, struct ordering_unit *ou, core_err *err)
{
    (void)self;
    struct unit *u = ou->impl;
    core_status st = u->own ? tm_commit(u->tx, err) : CORE_OK;
    unit_free(ou);
    return st;
}

static void unit_rollback(void *self, struct ordering_unit *ou)
{
    (void)self;
    struct unit *u = ou->impl;
    if (u->own)
        tm_rollback(u->tx);
    unit_free(ou);
}

void ordering__pg_units(struct ordering_units *out, tm_outbox *outbox)
{
    out->self = outbox;
    out->begin = unit_begin;
    out->join = unit_join;
    out->commit = unit_commit;
    out->rollback = unit_rollback;
}
