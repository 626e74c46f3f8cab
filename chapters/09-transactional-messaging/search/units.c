/* search/units.c -- the search module's units of work on PostgreSQL (chapter 09; see
 * search__pg_units in search/adapters.h and "THE UNIT OF WORK" in search/handlers.h).
 *
 * search only writes when a message comes (its RPCs are queries), so a unit is always JOINED on
 * the transaction of a delivery, which tm_event_subscribe owns: it began it with the inbox row
 * and commits it when the handler returns. The unit is the ports of the handlers, pointed at that
 * transaction's connection: the read model (search__pg_orders_in), the names the writer reads
 * (the caches on the connection, with the module's fallback) and the cache writers. The handlers
 * are chapter 07's, given these ports instead of the pooled ones.
 */
#include "search/adapters.h"

/* Everything one unit owns: the caches on the transaction's connection, which the unit's ports
 * borrow. */
struct unit {
    struct search_pg_caches caches;
};

static core_status unit_join(void *self, tm_tx *tx, struct search_unit *out, core_err *err)
{
    const struct search_pg_caches *module = self;
    struct unit *u = core_calloc(1, sizeof *u);
    if (!u)
        return core_err_nomem(err);
    u->caches = *module;
    u->caches.tx = tm_tx_conn(tx);
    *out = (struct search_unit){0};
    search__pg_orders_in(&out->app.orders, u->caches.tx);
    search__cached_names(&out->app.caches, &u->caches);
    search__cache_writers(&out->caches, &u->caches);
    out->impl = u;
    return CORE_OK;
}

static core_status unit_commit(void *self, struct search_unit *su, core_err *err)
{
    (void)self;
    (void)err;
    core_free(su->impl);
    *su = (struct search_unit){0};
    return CORE_OK;
}

static void unit_rollback(void *self, struct search_unit *su)
{
    (void)self;
    core_free(su->impl);
    *su = (struct search_unit){0};
}

void search__pg_units(struct search_units *out, struct search_pg_caches *caches)
{
    out->self = caches;
    out->join = unit_join;
    out->commit = unit_commit;
    out->rollback = unit_rollback;
}
