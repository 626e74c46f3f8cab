/* sec_store.c -- a saga's state and the store port of sec.h (the backends are sec_pg.c and
 * sec_mem.c). Apart from the orchestrator, so that a program or test that only stores sagas does
 * not link the messaging part. */
#include <string.h>

#include "pb.h"
#include "sec.h"

/* ---- state ------------------------------------------------------------------------------------
 */

void sec_state_init(struct sec_state *st)
{
    memset(st, 0, sizeof *st);
    st->step = -1;
}

void sec_state_release(struct sec_state *st)
{
    if (!st)
        return;
    pb_free(st->data);
    sec_state_init(st);
}

/* ---- store ------------------------------------------------------------------------------------
 */

struct sec_store {
    const struct sec_store_ops *ops;
    void *impl;
};

core_status sec_store_new(sec_store **out, const struct sec_store_ops *ops, void *impl,
                          core_err *err)
{
    *out = NULL;
    sec_store *s = core_calloc(1, sizeof *s);
    if (!s) {
        if (ops && ops->free)
            ops->free(impl);
        return core_err_nomem(err);
    }
    s->ops = ops;
    s->impl = impl;
    *out = s;
    return CORE_OK;
}

void sec_store_free(sec_store *s)
{
    if (!s)
        return;
    if (s->ops && s->ops->free)
        s->ops->free(s->impl);
    core_free(s);
}

void *sec_store_impl(sec_store *s, const struct sec_store_ops *ops)
{
    return s && s->ops == ops ? s->impl : NULL;
}

core_status sec_store_load(sec_store *s, const struct sec_saga *saga, const char *id,
                           struct sec_state *out, core_err *err)
{
    if (!s->ops || !s->ops->load)
        return core_err_set(err, CORE_ERR_INTERNAL, "the saga store cannot load");
    return s->ops->load(s->impl, saga, id, out, err);
}

core_status sec_store_save(sec_store *s, const struct sec_saga *saga, const struct sec_state *st,
                           core_err *err)
{
    if (!s->ops || !s->ops->save)
        return core_err_set(err, CORE_ERR_INTERNAL, "the saga store cannot save");
    return s->ops->save(s->impl, saga, st, err);
}

core_status sec_store_load_in(sec_store *s, pg_conn *conn, const struct sec_saga *saga,
                              const char *id, struct sec_state *out, core_err *err)
{
    if (!s->ops || !s->ops->load_in)
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "the %s saga store cannot load in a transaction",
                            s->ops ? s->ops->kind : "(no)");
    return s->ops->load_in(s->impl, conn, saga, id, out, err);
}

core_status sec_store_save_in(sec_store *s, pg_conn *conn, const struct sec_saga *saga,
                              const struct sec_state *st, core_err *err)
{
    if (!s->ops || !s->ops->save_in)
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "the %s saga store cannot save in a transaction",
                            s->ops ? s->ops->kind : "(no)");
    return s->ops->save_in(s->impl, conn, saga, st, err);
}

bool sec_store_transactional(const sec_store *s)
{
    return s && s->ops && s->ops->load_in && s->ops->save_in;
}
