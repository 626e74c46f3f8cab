/* sec.c -- the saga orchestrator and the store port (see sec.h for the walk and the order of
 * work). The state and the store port are in sec_store.c, the PostgreSQL and memory stores in
 * sec_pg.c and sec_mem.c.
 *
 * A command's id is core_uuid_from("<saga name>/<saga id>/<step>/<a|c>") (a = action, c =
 * compensation), so building the command of a state again gives the same id.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pb.h"
#include "sec.h"

#define LOG_C "sec"

/* ---- orchestrator -----------------------------------------------------------------------------
 */

struct sec_orchestrator {
    const struct sec_saga *saga;
    void *ud;
    sec_store *store;
    am_stream *stream;
    const es_registry *reg;
    tm_outbox *outbox;  /* chapter 09: replies through its inbox; NULL before */
    pthread_mutex_t mu; /* one start or reply at a time */
};

/* Where one start or reply reads and writes: chapter 08's way (conn NULL: the store's own pool,
 * the orchestrator's stream), or a unit of work's (tx's connection and outbox stream). */
struct where {
    pg_conn *conn;     /* NULL: the store's pool */
    am_stream *stream; /* the commands go here */
};

static core_status load_state(sec_orchestrator *o, const struct where *w, const char *id,
                              struct sec_state *out, core_err *err)
{
    return w->conn ? sec_store_load_in(o->store, w->conn, o->saga, id, out, err)
                   : sec_store_load(o->store, o->saga, id, out, err);
}

static core_status save_state(sec_orchestrator *o, const struct where *w,
                              const struct sec_state *st, core_err *err)
{
    return w->conn ? sec_store_save_in(o->store, w->conn, o->saga, st, err)
                   : sec_store_save(o->store, o->saga, st, err);
}

core_status sec_orchestrator_new(sec_orchestrator **out, const struct sec_saga *saga, void *ud,
                                 sec_store *store, am_stream *stream, const es_registry *reg,
                                 core_err *err)
{
    *out = NULL;
    if (!saga || core_str_blank(saga->name) || core_str_blank(saga->reply_channel) ||
        !saga->data_desc || (saga->nsteps && !saga->steps))
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "a saga needs a name, a reply channel and a data type");
    if (!store || !stream || !reg)
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "saga %s: an orchestrator needs a store, a stream and a registry",
                            saga->name);
    sec_orchestrator *o = core_calloc(1, sizeof *o);
    if (!o)
        return core_err_nomem(err);
    o->saga = saga;
    o->ud = ud;
    o->store = store;
    o->stream = stream;
    o->reg = reg;
    pthread_mutex_init(&o->mu, NULL);
    *out = o;
    return CORE_OK;
}

void sec_orchestrator_free(sec_orchestrator *o)
{
    if (!o)
        return;
    pthread_mutex_destroy(&o->mu);
    core_free(o);
}

static const char *dir_text(bool compensating)
{
    return compensating ? " (compensation)" : "";
}

/* The function of step st->step in st's direction, or NULL. */
static sec_command_fn step_fn(const struct sec_saga *saga, int step, bool compensating)
{
    if (step < 0 || (size_t)step >= saga->nsteps)
        return NULL;
    return compensating ? saga->steps[step].compensation : saga->steps[step].action;
}

/* Moves st to the next step with a function in its direction (forward: after st->step; back:
 * before it), or marks it done when there is none. */
static void walk(const struct sec_saga *saga, struct sec_state *st)
{
    int i = st->step;
    for (;;) {
        i += st->compensating ? -1 : 1;
        if (i < 0 || (size_t)i >= saga->nsteps) {
            st->done = true; /* step: -1 or nsteps, past either end */
            st->awaiting[0] = '\0';
            st->step = i;
            return;
        }
        if (step_fn(saga, i, st->compensating)) {
            st->step = i;
            return;
        }
    }
}

/* Builds the command of st's current step (st->step has a function in st's direction) into *out
 * (a new event with its deterministic id and the saga's metadata; caller frees) and its channel. */
static core_status build_command(sec_orchestrator *o, const struct sec_state *st, ddd_event **out,
                                 const char **channel, core_err *err)
{
    const struct sec_saga *saga = o->saga;
    *out = NULL;
    sec_command_fn fn = step_fn(saga, st->step, st->compensating);
    if (!fn)
        return core_err_set(err, CORE_ERR_INTERNAL, "saga %s %s: step %d has no %s", saga->name,
                            st->id, st->step, st->compensating ? "compensation" : "action");
    struct sec_command cmd = {NULL, NULL, NULL};
    core_status s = fn(o->ud, st, &cmd, err);
    if (s) {
        pb_free(cmd.payload);
        return core_err_wrap(err, "saga %s %s: step %d%s", saga->name, st->id, st->step,
                             dir_text(st->compensating));
    }
    if (core_str_blank(cmd.channel) || core_str_blank(cmd.name)) {
        pb_free(cmd.payload);
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "saga %s %s: step %d%s built a command without a channel or name",
                            saga->name, st->id, st->step, dir_text(st->compensating));
    }
    char text[DDD_NAME_MAX + DDD_ID_MAX + 32];
    snprintf(text, sizeof text, "%s/%s/%d/%c", saga->name, st->id, st->step,
             st->compensating ? 'c' : 'a');
    char id[CORE_UUID_LEN + 1];
    core_uuid_from(id, text);
    ddd_event *ev = NULL;
    s = ddd_event_new(&ev, cmd.name, &cmd.payload, err);
    if (!s)
        s = ddd_event_restore(ev, id, ddd_event_occurred_at(ev), err);
    if (!s)
        s = ddd_event_set_metadata(ev, AM_CMD_REPLY_CHANNEL, saga->reply_channel, err);
    if (!s)
        s = ddd_event_set_metadata(ev, SEC_CMD_SAGA_ID, st->id, err);
    if (!s)
        s = ddd_event_set_metadata(ev, SEC_CMD_SAGA_NAME, saga->name, err);
    if (s) {
        ddd_event_free(ev);
        return core_err_wrap(err, "saga %s %s: step %d", saga->name, st->id, st->step);
    }
    *out = ev;
    *channel = cmd.channel;
    return CORE_OK;
}

static core_status send_command(sec_orchestrator *o, const struct where *w,
                                const struct sec_state *st, const ddd_event *cmd,
                                const char *channel, bool again, core_err *err)
{
    core_status s = am_command_send(w->stream, channel, cmd, err);
    if (s)
        return core_err_wrap(err, "saga %s %s: step %d%s: %s not sent", o->saga->name, st->id,
                             st->step, dir_text(st->compensating), ddd_event_name(cmd));
    log_write(LOG_LEVEL_INFO, LOG_C, "saga %s %s: step %d%s -> %s%s", o->saga->name, st->id,
              st->step, dir_text(st->compensating), ddd_event_name(cmd),
              again ? " (sent again)" : "");
    return CORE_OK;
}

/* Sends the command st awaits again (same id), after a stale reply or a repeated start. */
static core_status resend(sec_orchestrator *o, const struct where *w, const struct sec_state *st,
                          core_err *err)
{
    ddd_event *cmd = NULL;
    const char *channel = NULL;
    core_status s = build_command(o, st, &cmd, &channel, err);
    if (!s && strcmp(ddd_event_id(cmd), st->awaiting) != 0)
        s = core_err_set(err, CORE_ERR_INTERNAL,
                         "saga %s %s: step %d%s: the stored awaited command %s is not this step's",
                         o->saga->name, st->id, st->step, dir_text(st->compensating), st->awaiting);
    if (!s)
        s = send_command(o, w, st, cmd, channel, true, err);
    ddd_event_free(cmd);
    return s;
}

/* Walks st on from its current step (see sec.h), saves it, then sends the new step's command. */
static core_status advance(sec_orchestrator *o, const struct where *w, struct sec_state *st,
                           core_err *err)
{
    walk(o->saga, st);
    ddd_event *cmd = NULL;
    const char *channel = NULL;
    core_status s = CORE_OK;
    if (!st->done) {
        s = build_command(o, st, &cmd, &channel, err);
        if (!s)
            core_strlcpy(st->awaiting, ddd_event_id(cmd), sizeof st->awaiting);
    }
    if (!s) {
        s = save_state(o, w, st, err);
        if (s)
            core_err_wrap(err, "saga %s %s: state not saved", o->saga->name, st->id);
    }
    if (!s && cmd)
        s = send_command(o, w, st, cmd, channel, false, err);
    else if (!s)
        log_write(LOG_LEVEL_INFO, LOG_C, "saga %s %s: done%s", o->saga->name, st->id,
                  st->compensating ? " (compensated)" : "");
    ddd_event_free(cmd);
    return s;
}

static core_status start(sec_orchestrator *o, const struct where *w, const char *id,
                         ProtobufCMessage **data, core_err *err)
{
    const struct sec_saga *saga = o->saga;
    ProtobufCMessage *d = *data;
    *data = NULL;
    if (core_str_blank(id) || strlen(id) > DDD_ID_MAX) {
        pb_free(d);
        return core_err_set(err, CORE_ERR_INVALID, "saga %s: the id must be 1 to %d characters",
                            saga->name, DDD_ID_MAX);
    }
    if (!d || d->descriptor != saga->data_desc) {
        pb_free(d);
        return core_err_set(err, CORE_ERR_INTERNAL, "saga %s %s: the data is not a %s", saga->name,
                            id, saga->data_desc->name);
    }
    pthread_mutex_lock(&o->mu);
    struct sec_state st = SEC_STATE_INIT;
    core_status s = load_state(o, w, id, &st, err);
    if (!s) {
        /* a trigger delivered again: the saga runs already */
        pb_free(d);
        if (st.done)
            log_write(LOG_LEVEL_INFO, LOG_C, "saga %s %s: started again, already done", saga->name,
                      id);
        else if (w->conn) /* its command was committed with its state */
            log_write(LOG_LEVEL_INFO, LOG_C, "saga %s %s: started again, runs already (step %d%s)",
                      saga->name, id, st.step, dir_text(st.compensating));
        else
            s = resend(o, w, &st, err);
    } else if (s == CORE_ERR_NOT_FOUND) {
        core_err_clear(err);
        core_strlcpy(st.id, id, sizeof st.id);
        st.data = d;
        log_write(LOG_LEVEL_INFO, LOG_C, "saga %s %s: started", saga->name, id);
        s = advance(o, w, &st, err);
    } else {
        pb_free(d);
        core_err_wrap(err, "saga %s %s: state not loaded", saga->name, id);
    }
    sec_state_release(&st);
    pthread_mutex_unlock(&o->mu);
    return s;
}

core_status sec_orchestrator_start(sec_orchestrator *o, const char *id, ProtobufCMessage **data,
                                   core_err *err)
{
    struct where w = {NULL, o->stream};
    return start(o, &w, id, data, err);
}

core_status sec_orchestrator_start_in(sec_orchestrator *o, tm_tx *tx, const char *id,
                                      ProtobufCMessage **data, core_err *err)
{
    struct where w = {tm_tx_conn(tx), tm_tx_stream(tx)};
    return start(o, &w, id, data, err);
}

/* The handler for reply name in list (NULL-name terminated, may be NULL), or NULL. */
static sec_reply_fn find_handler(const struct sec_reply_handler *list, const char *name)
{
    for (; list && list->name; list++)
        if (strcmp(list->name, name) == 0)
            return list->fn;
    return NULL;
}

/* A reply to the command st awaits: run its handler, then walk on. */
static core_status on_awaited(sec_orchestrator *o, const struct where *w, struct sec_state *st,
                              const ddd_event *reply, core_err *err)
{
    const struct sec_saga *saga = o->saga;
    const char *name = ddd_event_name(reply);
    bool ok = am_reply_succeeded(reply);
    const struct sec_step *step = &saga->steps[st->step];
    sec_reply_fn fn =
        find_handler(st->compensating ? step->compensation_replies : step->action_replies, name);
    if (!fn && strcmp(name, AM_REPLY_SUCCESS) != 0 && strcmp(name, AM_REPLY_FAILURE) != 0)
        return core_err_set(err, CORE_ERR_INVALID,
                            "saga %s %s: step %d%s has no handler for reply %s", saga->name, st->id,
                            st->step, dir_text(st->compensating), name);
    if (fn) {
        core_status s = fn(o->ud, st, reply, err);
        if (s)
            return core_err_wrap(err, "saga %s %s: step %d%s: reply %s", saga->name, st->id,
                                 st->step, dir_text(st->compensating), name);
    }
    if (!ok) {
        const char *why = ddd_event_metadata(reply, AM_REPLY_ERROR);
        if (st->compensating) {
            log_write(LOG_LEVEL_ERROR, LOG_C,
                      "saga %s %s: step %d (compensation) failed and cannot be undone: %s",
                      saga->name, st->id, st->step, why ? why : "(no reason given)");
        } else {
            log_write(LOG_LEVEL_INFO, LOG_C, "saga %s %s: step %d failed, compensating: %s",
                      saga->name, st->id, st->step, why ? why : "(no reason given)");
            st->compensating = true;
        }
    }
    return advance(o, w, st, err);
}

static core_status handle_reply(sec_orchestrator *o, const struct where *w, const ddd_event *reply,
                                core_err *err)
{
    const struct sec_saga *saga = o->saga;
    const char *id = ddd_event_metadata(reply, SEC_REPLY_SAGA_ID);
    const char *sname = ddd_event_metadata(reply, SEC_REPLY_SAGA_NAME);
    const char *cmd_id = ddd_event_metadata(reply, AM_REPLY_COMMAND_ID);
    if (!sname || strcmp(sname, saga->name) != 0)
        return core_err_set(err, CORE_ERR_INVALID, "saga %s: reply %s %s is for saga \"%s\"",
                            saga->name, ddd_event_name(reply), ddd_event_id(reply),
                            sname ? sname : "");
    if (core_str_blank(id) || strlen(id) > DDD_ID_MAX)
        return core_err_set(err, CORE_ERR_INVALID, "saga %s: reply %s %s names no saga id",
                            saga->name, ddd_event_name(reply), ddd_event_id(reply));
    pthread_mutex_lock(&o->mu);
    struct sec_state st = SEC_STATE_INIT;
    core_status s = load_state(o, w, id, &st, err);
    if (s == CORE_ERR_NOT_FOUND)
        s = core_err_set(err, CORE_ERR_INVALID,
                         "saga %s %s: reply %s for a saga that does not "
                         "exist",
                         saga->name, id, ddd_event_name(reply));
    else if (s)
        core_err_wrap(err, "saga %s %s: state not loaded", saga->name, id);
    else if (st.done)
        log_write(LOG_LEVEL_INFO, LOG_C, "saga %s %s: reply %s after the saga is done, ignored",
                  saga->name, id, ddd_event_name(reply));
    else if (!cmd_id || strcmp(cmd_id, st.awaiting) != 0) {
        log_write(LOG_LEVEL_INFO, LOG_C,
                  "saga %s %s: reply %s to command %s, not the awaited %s: ignored", saga->name, id,
                  ddd_event_name(reply), cmd_id ? cmd_id : "(none)", st.awaiting);
        if (!w->conn) /* chapter 09: the awaited command was committed with the state */
            s = resend(o, w, &st, err);
    } else if (st.step < 0 || (size_t)st.step >= saga->nsteps)
        s = core_err_set(err, CORE_ERR_INTERNAL, "saga %s %s: stored step %d out of range",
                         saga->name, id, st.step);
    else
        s = on_awaited(o, w, &st, reply, err);
    sec_state_release(&st);
    pthread_mutex_unlock(&o->mu);
    return s;
}

core_status sec_orchestrator_handle_reply(sec_orchestrator *o, const ddd_event *reply,
                                          core_err *err)
{
    struct where w = {NULL, o->stream};
    return handle_reply(o, &w, reply, err);
}

core_status sec_orchestrator_handle_reply_in(sec_orchestrator *o, tm_tx *tx, const ddd_event *reply,
                                             core_err *err)
{
    struct where w = {tm_tx_conn(tx), tm_tx_stream(tx)};
    return handle_reply(o, &w, reply, err);
}

core_status sec_orchestrator_use_outbox(sec_orchestrator *o, tm_outbox *ob, core_err *err)
{
    if (!ob)
        return core_err_set(err, CORE_ERR_INTERNAL, "saga %s: no outbox given", o->saga->name);
    if (!sec_store_transactional(o->store))
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "saga %s: the outbox needs a store that saves in a transaction "
                            "(the PostgreSQL store)",
                            o->saga->name);
    o->outbox = ob;
    return CORE_OK;
}

static core_status on_reply(void *ud, const struct am_delivery *d, const ddd_event *reply,
                            core_err *err)
{
    (void)d;
    return sec_orchestrator_handle_reply(ud, reply, err);
}

static core_status on_reply_in(void *ud, tm_tx *tx, const struct am_delivery *d,
                               const ddd_event *reply, core_err *err)
{
    (void)d;
    return sec_orchestrator_handle_reply_in(ud, tx, reply, err);
}

core_status sec_orchestrator_subscribe(sec_orchestrator *o, const struct am_sub_opts *opts,
                                       core_err *err)
{
    if (o->outbox)
        return tm_reply_subscribe(o->stream, o->outbox, o->saga->reply_channel, opts, o->reg,
                                  on_reply_in, o, err);
    return am_reply_subscribe(o->stream, o->saga->reply_channel, opts, o->reg, on_reply, o, err);
}
