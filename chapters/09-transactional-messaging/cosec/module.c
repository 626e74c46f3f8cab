/* cosec/module.c -- wires the cosec module (the book's cosec/module.go): the saga store on
 * PostgreSQL (cosec.sagas), the orchestrator of cosec.CreateOrder over the stream, then the two
 * subscriptions, replies first (a saga started by the second may get its first reply at once).
 * Chapter 09: the module's outbox (cosec.outbox, shared/tm.h) is given to the orchestrator, so
 * both subscriptions receive through cosec.inbox and every saga step commits its state and its
 * command in one unit of work (sec.h, "the transactional orchestrator"). */
#include "cosec/module.h"

#include "cosec/handlers.h"
#include "cosec/saga.h"
#include "log.h"
#include "sec.h"

struct cosec_state {
    tm_outbox *outbox;      /* cosec.outbox and cosec.inbox */
    sec_store *store;       /* cosec.sagas */
    sec_orchestrator *saga; /* cosec.CreateOrder; borrows store, the stream, the registry */
};

static void stop_module(void *state)
{
    struct cosec_state *s = state;
    if (!s)
        return;
    sec_orchestrator_free(s->saga);
    sec_store_free(s->store);
    tm_outbox_free(s->outbox);
    core_free(s);
}

static core_status start_module(struct monolith *mono, void **state, core_err *err)
{
    core_status st;
    struct cosec_state *s = core_calloc(1, sizeof *s);
    *state = NULL;
    if (!s)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory starting the cosec module");

    struct am_sub_opts replies = AM_SUB_OPTS_INIT;
    replies.group = COSEC_REPLIES_GROUP;
    if ((st = tm_outbox_new(&s->outbox, mono->db, "cosec", mono->cfg.nats_stream, err)) ||
        (st = sec_pg_store_new(&s->store, mono->db, "cosec", err)) ||
        (st = sec_orchestrator_new(&s->saga, &cosec_create_order_saga, NULL, s->store, mono->stream,
                                   mono->messages, err)) ||
        (st = sec_orchestrator_use_outbox(s->saga, s->outbox, err)) ||
        (st = sec_orchestrator_subscribe(s->saga, &replies, err)) ||
        (st =
             cosec_subscribe_order_handlers(mono->stream, s->outbox, mono->messages, s->saga, err)))
        goto fail;
    *state = s;
    log_debug("cosec", "module ready");
    return CORE_OK;
fail:
    stop_module(s);
    return st;
}

const struct module cosec_module = {"cosec", start_module, stop_module};
