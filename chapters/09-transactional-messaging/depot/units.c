/* depot/units.c -- the depot module's units of work on PostgreSQL and its outbox (chapter 09; see
 * depot_pg_units in depot/adapters.h, and stores/units.c, which this file follows).
 *
 * A unit is one tm_tx (shared/tm.h), begun here or joined (a message's), with the module's
 * ports bound to it: the shopping-list repository and the caches run on tm_tx_conn(), and the
 * unit's own dispatcher has the module's usual IntegrationEventHandlers (depot/handlers.h)
 * announce on tm_tx_stream(), where every publish becomes an outbox row. So a command's change
 * and its message, or a cached store and the message's inbox row, commit together.
 */
#include "depot/adapters.h"
#include "depot/handlers.h"

/* Everything one unit owns. */
struct unit {
    tm_tx *tx;
    bool owned;                 /* begun here (commit/rollback end tx) or joined */
    struct depot_pg_db db;      /* tx = tm_tx_conn(tx) */
    struct depot_caches caches; /* the module's, with tx = tm_tx_conn(tx) */
    struct depot_cache_handlers writers;
    ddd_dispatcher *events;
};

static void unit_free(struct unit *u)
{
    ddd_dispatcher_free(u->events);
    core_free(u);
}

/* Fills *out with a unit on tx (owned: begun here). On failure tx is left to the caller. */
static core_status unit_open(struct depot_units_cfg *cfg, tm_tx *tx, bool owned,
                             struct depot_unit *out, core_err *err)
{
    struct unit *u = core_calloc(1, sizeof *u);
    if (!u)
        return core_err_nomem(err);
    u->tx = tx;
    u->owned = owned;
    u->db.tx = tm_tx_conn(tx);
    u->caches = *cfg->caches;
    u->caches.tx = tm_tx_conn(tx);
    core_status st;
    if ((st = ddd_dispatcher_new(&u->events, err)) ||
        (st = depot_register_integration_handlers(u->events, tm_tx_stream(tx), err))) {
        unit_free(u);
        return st;
    }
    depot_postgres_lists(&out->lists, &u->db);
    depot_cached_stores(&out->stores, &u->caches);
    depot_cache_writers(&u->writers, &u->caches);
    out->caches = &u->writers;
    out->events = ddd_dispatcher_publisher(u->events);
    out->impl = u;
    return CORE_OK;
}

static core_status unit_begin(void *self, struct depot_unit *out, core_err *err)
{
    struct depot_units_cfg *cfg = self;
    tm_tx *tx = NULL;
    core_status st = tm_begin(cfg->outbox, &tx, err);
    if (!st && (st = unit_open(cfg, tx, true, out, err)))
        tm_rollback(tx);
    return st;
}

static core_status unit_join(void *self, tm_tx *tx, struct depot_unit *out, core_err *err)
{
    return unit_open(self, tx, false, out, err);
}

static core_status unit_commit(void *self, struct depot_unit *du, core_err *err)
{
    (void)self;
    struct unit *u = du->impl;
    core_status st = u->owned ? tm_commit(u->tx, err) : CORE_OK;
    unit_free(u);
    *du = (struct depot_unit){0};
    return st;
}

static void unit_rollback(void *self, struct depot_unit *du)
{
    (void)self;
    struct unit *u = du->impl;
    if (u->owned)
        tm_rollback(u->tx);
    unit_free(u);
    *du = (struct depot_unit){0};
}

void depot_pg_units(struct depot_units *out, struct depot_units_cfg *cfg)
{
    out->self = cfg;
    out->begin = unit_begin;
    out->join = unit_join;
    out->commit = unit_commit;
    out->rollback = unit_rollback;
}
