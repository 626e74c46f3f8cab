/* payments/units.c -- the payments module's units of work on PostgreSQL and its outbox
 * (chapter 09; see payments_pg_units in payments/adapters.h, and stores/units.c, which this file
 * follows).
 *
 * A unit is one tm_tx (shared/tm.h), begun here or joined (a message's), with the module's ports
 * bound to it: the payments and invoices repositories run on tm_tx_conn(), and the invoices'
 * events are announced on tm_tx_stream(), where every publish becomes an outbox row. So an
 * invoice and its message, or a message's effect and its inbox row, commit together. Payments
 * has no domain event dispatcher: the application announces through the events port directly.
 */
#include "payments/adapters.h"

/* Everything one unit owns. */
struct unit {
    tm_tx *tx;
    bool owned;               /* begun here (commit/rollback end tx) or joined */
    struct payments_pg_db db; /* tx = tm_tx_conn(tx) */
};

/* Fills *out with a unit on tx (owned: begun here). On failure tx is left to the caller. */
static core_status unit_open(tm_tx *tx, bool owned, struct payments_unit *out, core_err *err)
{
    struct unit *u = core_calloc(1, sizeof *u);
    if (!u)
        return core_err_nomem(err);
    u->tx = tx;
    u->owned = owned;
    u->db.tx = tm_tx_conn(tx);
    payments_postgres_payments(&out->payments, &u->db);
    payments_postgres_invoices(&out->invoices, &u->db);
    payments_stream_events(&out->events, tm_tx_stream(tx));
    out->impl = u;
    return CORE_OK;
}

static core_status unit_begin(void *self, struct payments_unit *out, core_err *err)
{
    tm_tx *tx = NULL;
    core_status st = tm_begin(self, &tx, err);
    if (!st && (st = unit_open(tx, true, out, err)))
        tm_rollback(tx);
    return st;
}

static core_status unit_join(void *self, tm_tx *tx, struct payments_unit *out, core_err *err)
{
    (void)self;
    return unit_open(tx, false, out, err);
}

static core_status unit_commit(void *self, struct payments_unit *pu, core_err *err)
{
    (void)self;
    struct unit *u = pu->impl;
    core_status st = u->owned ? tm_commit(u->tx, err) : CORE_OK;
    core_free(u);
    *pu = (struct payments_unit){0};
    return st;
}

static void unit_rollback(void *self, struct payments_unit *pu)
{
    (void)self;
    struct unit *u = pu->impl;
    if (u->owned)
        tm_rollback(u->tx);
    core_free(u);
    *pu = (struct payments_unit){0};
}

void payments_pg_units(struct payments_units *out, tm_outbox *outbox)
{
    out->self = outbox;
    out->begin = unit_begin;
    out->join = unit_join;
    out->commit = unit_commit;
    out->rollback = unit_rollback;
}
