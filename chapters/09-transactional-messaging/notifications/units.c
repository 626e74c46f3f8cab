/* units.c -- the notifications module's units of work on PostgreSQL (chapter 09; see
 * notifications__pg_units in adapters.h and "THE UNIT OF WORK" in handlers.h).
 *
 * The module only writes when a message comes (and through its RPC commands, which send on the
 * pool), so a unit is always JOINED on the transaction of a delivery, which tm_event_subscribe
 * owns: it began it with the inbox row and commits it when the handler returns. The unit is the
 * handlers' ports pointed at that transaction's connection: the customers cache (reads and
 * writes) and the sender, whose row in notifications.sent therefore commits with the inbox row.
 */
#include "notifications/adapters.h"

/* Everything one unit owns: the caches on the transaction's connection, which its ports borrow. */
struct unit {
    struct notifications_caches caches;
};

static core_status unit_join(void *self, tm_tx *tx, struct notifications_unit *out, core_err *err)
{
    const struct notifications_caches *module = self;
    struct unit *u = core_calloc(1, sizeof *u);
    if (!u)
        return core_err_nomem(err);
    u->caches = *module;
    u->caches.tx = tm_tx_conn(tx);
    notifications__cached_customers(&out->app.customers, &u->caches);
    notifications__pg_sender_in(&out->app.sender, u->caches.tx);
    notifications__cache_writers(&out->h.customers, &u->caches);
    out->h.app = &out->app;
    out->impl = u;
    return CORE_OK;
}

static core_status unit_commit(void *self, struct notifications_unit *nu, core_err *err)
{
    (void)self;
    (void)err;
    core_free(nu->impl);
    nu->impl = NULL;
    return CORE_OK;
}

static void unit_rollback(void *self, struct notifications_unit *nu)
{
    (void)self;
    core_free(nu->impl);
    nu->impl = NULL;
}

void notifications__pg_units(struct notifications_units *out, struct notifications_caches *caches)
{
    out->self = caches;
    out->join = unit_join;
    out->commit = unit_commit;
    out->rollback = unit_rollback;
}
