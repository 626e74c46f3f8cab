/* customers/units.c -- the customers module's units of work on PostgreSQL and its outbox
 * (chapter 09; see customers__pg_units in customers/adapters.h, and stores/units.c, which this
 * file follows).
 *
 * A unit is one tm_tx (shared/tm.h), begun here or joined (a message's), and a dispatcher of its
 * own on which the module's usual IntegrationEventHandlers (customers/handlers.h) announce on
 * tm_tx_stream(), where every publish becomes an outbox row. The repository runs on
 * tm_tx_conn(). So a command's change and its messages commit together.
 */
#include "customers/adapters.h"
#include "customers/handlers.h"

/* Everything one unit owns. */
struct unit {
    tm_tx *tx;
    bool owned;                /* begun here (commit/rollback end tx) or joined */
    struct customers_pg_db db; /* tx = tm_tx_conn(tx) */
    ddd_dispatcher *events;
};

static void unit_free(struct unit *u)
{
    ddd_dispatcher_free(u->events);
    core_free(u);
}

/* Fills *out with a unit on tx (owned: begun here). On failure tx is left to the caller. */
static core_status unit_open(tm_tx *tx, bool owned, struct customers_unit *out, core_err *err)
{
    struct unit *u = core_calloc(1, sizeof *u);
    if (!u)
        return core_err_nomem(err);
    u->tx = tx;
    u->owned = owned;
    u->db.tx = tm_tx_conn(tx);
    core_status st;
    if ((st = ddd_dispatcher_new(&u->events, err)) ||
        (st = customers_register_integration_handlers(u->events, tm_tx_stream(tx), err))) {
        unit_free(u);
        return st;
    }
    customers__pg_repo(&out->customers, &u->db);
    out->events = ddd_dispatcher_publisher(u->events);
    out->impl = u;
    return CORE_OK;
}

static core_status unit_begin(void *self, struct customers_unit *out, core_err *err)
{
    tm_tx *tx = NULL;
    core_status st = tm_begin(self, &tx, err);
    if (!st && (st = unit_open(tx, true, out, err)))
        tm_rollback(tx);
    return st;
}

static core_status unit_join(void *self, tm_tx *tx, struct customers_unit *out, core_err *err)
{
    (void)self;
    return unit_open(tx, false, out, err);
}

static core_status unit_commit(void *self, struct customers_unit *cu, core_err *err)
{
    (void)self;
    struct unit *u = cu->impl;
    core_status st = u->owned ? tm_commit(u->tx, err) : CORE_OK;
    unit_free(u);
    *cu = (struct customers_unit){0};
    return st;
}

static void unit_rollback(void *self, struct customers_unit *cu)
{
    (void)self;
    struct unit *u = cu->impl;
    if (u->owned)
        tm_rollback(u->tx);
    unit_free(u);
    *cu = (struct customers_unit){0};
}

void customers__pg_units(struct customers_units *out, tm_outbox *outbox)
{
    out->self = outbox;
    out->begin = unit_begin;
    out->join = unit_join;
    out->commit = unit_commit;
    out->rollback = unit_rollback;
}
