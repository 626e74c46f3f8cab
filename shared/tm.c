/* tm.c -- transactional messaging (see tm.h): the tables' DDL, the outbox, the unit of work and
 * its outbox stream, the inbox and the transactional subscriptions. The relay is in tm_relay.c.
 *
 * The schema name is the only text put into SQL: it is checked against [a-z_][a-z0-9_]* and
 * double-quoted, and the statements are built once from constant templates; every value is a
 * parameter. bytea values travel as text parameters in PostgreSQL's hex form ("\x0a1b...").
 *
 * Reading order: names and DDL, the outbox stream's backend, the unit of work, cleanup and
 * backlog, the inbox, the subscriptions.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tm.h"

#define LOG_COMP "tm"

/* ---- names and DDL --------------------------------------------------------------------------- */

bool tm_schema_valid(const char *schema)
{
    size_t n = schema ? strlen(schema) : 0;
    if (n == 0 || n > TM_SCHEMA_MAX || (schema[0] >= '0' && schema[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = schema[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static core_status check_schema(const char *schema, core_err *err)
{
    if (!tm_schema_valid(schema))
        return core_err_set(err, CORE_ERR_INVALID,
                            "schema \"%.80s\" is not a valid outbox schema name ([a-z_][a-z0-9_]*, "
                            "at most %d bytes)",
                            schema ? schema : "", TM_SCHEMA_MAX);
    return CORE_OK;
}

core_status tm_schema_sql(const char *schema, char **out, core_err *err)
{
    core_status st = check_schema(schema, err);
    if (st != CORE_OK)
        return st;
    struct core_buf b = CORE_BUF_INIT;
    core_buf_add_fmt(&b,
                     "CREATE TABLE \"%s\".outbox (\n"
                     "    seq bigint GENERATED ALWAYS AS IDENTITY,\n"
                     "    id text PRIMARY KEY,\n"
                     "    name text NOT NULL, subject text NOT NULL, data bytea NOT NULL,\n"
                     "    created_at timestamptz NOT NULL DEFAULT now(),\n"
                     "    published_at timestamptz);\n"
                     "CREATE INDEX %s_unpublished_idx ON \"%s\".outbox (seq)\n"
                     "    WHERE published_at IS NULL;\n"
                     "CREATE TABLE \"%s\".inbox (\n"
                     "    id text PRIMARY KEY, name text NOT NULL, subject text NOT NULL,\n"
                     "    data bytea NOT NULL,\n"
                     "    received_at timestamptz NOT NULL DEFAULT now());\n",
                     schema, schema, schema, schema);
    if (!(*out = core_buf_detach(&b, NULL)))
        return core_err_nomem(err);
    return CORE_OK;
}

/* data as a bytea parameter in hex form (caller frees with core_free), or NULL (no memory). */
static char *bytea_hex(const unsigned char *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *s = core_malloc(2 * len + 3);
    if (!s)
        return NULL;
    s[0] = '\\';
    s[1] = 'x';
    for (size_t i = 0; i < len; i++) {
        s[2 + 2 * i] = digits[data[i] >> 4];
        s[3 + 2 * i] = digits[data[i] & 15];
    }
    s[2 + 2 * len] = '\0';
    return s;
}

/* ---- the outbox ------------------------------------------------------------------------------ */

#define SQL_MAX 320

struct tm_outbox {
    pg_pool *pool;
    char schema[TM_SCHEMA_MAX + 1];
    char stream[AM_NAME_MAX + 1];
    char sql_outbox[SQL_MAX]; /* INSERT INTO outbox, $1..$4 = id, name, subject, data */
    char sql_inbox[SQL_MAX];  /* INSERT INTO inbox, same parameters, RETURNING id */
};

struct tm_tx {
    tm_outbox *ob;
    pg_conn *conn;
    am_stream *stream; /* over outbox_ops, impl = this tx */
    bool wrote;        /* outbox rows were written: NOTIFY at commit */
    bool broken;       /* a step failed in a way that forbids further writes (see tx_call) */
    core_err broken_err;
};

/* CORE_OK while tx may go on; once it is broken, the failure that broke it (into err). */
static core_status tx_usable(const tm_tx *tx, core_err *err)
{
    if (!tx->broken)
        return CORE_OK;
    if (err)
        *err = tx->broken_err;
    return tx->broken_err.status;
}

core_status tm_outbox_new(tm_outbox **out, pg_pool *pool, const char *schema,
                          const char *stream_name, core_err *err)
{
    core_status st = check_schema(schema, err);
    if (st != CORE_OK)
        return st;
    if (!am_name_valid(stream_name))
        return core_err_set(err, CORE_ERR_INVALID, "outbox %s: \"%.80s\" is not a stream name",
                            schema, stream_name ? stream_name : "");
    tm_outbox *ob = core_calloc(1, sizeof *ob);
    if (!ob)
        return core_err_nomem(err);
    ob->pool = pool;
    core_strlcpy(ob->schema, schema, sizeof ob->schema);
    core_strlcpy(ob->stream, stream_name, sizeof ob->stream);
    snprintf(ob->sql_outbox, sizeof ob->sql_outbox,
             "INSERT INTO \"%s\".outbox (id, name, subject, data) VALUES ($1, $2, $3, $4) "
             "ON CONFLICT (id) DO NOTHING",
             schema);
    snprintf(ob->sql_inbox, sizeof ob->sql_inbox,
             "INSERT INTO \"%s\".inbox (id, name, subject, data) VALUES ($1, $2, $3, $4) "
             "ON CONFLICT (id) DO NOTHING RETURNING id",
             schema);
    *out = ob;
    return CORE_OK;
}

void tm_outbox_free(tm_outbox *ob)
{
    core_free(ob);
}

const char *tm_outbox_schema(const tm_outbox *ob)
{
    return ob->schema;
}

/* Runs an INSERT of the outbox or inbox (sql) with a message's parts; *inserted (may be NULL) =
 * true when a row was added (RETURNING gave one). */
static core_status insert_message(tm_tx *tx, const char *sql, const char *id, const char *name,
                                  const char *subject, const unsigned char *data, size_t len,
                                  bool *inserted, core_err *err)
{
    char *hex = bytea_hex(data, len);
    if (!hex)
        return core_err_nomem(err);
    const char *params[4] = {id, name, subject, hex};
    PGresult *res = NULL;
    core_status st = pg_exec(tx->conn, sql, 4, params, inserted ? &res : NULL, err);
    core_free(hex);
    if (st == CORE_OK && inserted)
        *inserted = PQntuples(res) > 0;
    PQclear(res);
    return st;
}

/* ---- the outbox stream's backend
 * ----------------------------------------------------------------- Publishing writes a row;
 * everything else is refused: this stream is for writing only. */

static core_status refuse(const char *what, core_err *err)
{
    return core_err_set(err, CORE_ERR_INTERNAL,
                        "the outbox stream of a unit of work only publishes; it cannot %s", what);
}

static core_status ob_publish(void *impl, const char *subject, const char *msg_id,
                              const struct am_header *hdrs, size_t n_hdrs,
                              const unsigned char *data, size_t len, struct am_publish_ack *ack,
                              core_err *err)
{
    tm_tx *tx = impl;
    (void)hdrs;
    if (n_hdrs > 0)
        return refuse("publish with headers", err);
    core_status usable = tx_usable(tx, err);
    if (usable != CORE_OK)
        return usable;
    struct am_envelope env = AM_ENVELOPE_INIT;
    core_status st = am_stream_message_unpack(data, len, &env, err);
    if (st == CORE_OK && strcmp(env.id, msg_id) != 0)
        st = core_err_set(err, CORE_ERR_INTERNAL, "message id %s differs from Nats-Msg-Id %s",
                          env.id, msg_id);
    if (st == CORE_OK)
        st = insert_message(tx, tx->ob->sql_outbox, env.id, env.name, subject, env.data, env.len,
                            NULL, err);
    if (st == CORE_OK) {
        tx->wrote = true;
        ack->seq = 0;
        ack->duplicate = false;
        log_debug(LOG_COMP, "outbox %s: %s %s on %s", tx->ob->schema, env.name, env.id, subject);
    }
    am_envelope_release(&env);
    return st;
}

static core_status ob_subscribe(void *impl, const struct am_consumer_cfg *cc, am_sub *sub,
                                core_err *err)
{
    return refuse("subscribe", err);
}

static core_status ob_ack(void *impl, void *token, core_err *err)
{
    return refuse("acknowledge", err);
}

static core_status ob_nak(void *impl, void *token, int delay_ms, core_err *err)
{
    return refuse("NAK", err);
}

static core_status ob_read(void *impl, const char *filter, uint64_t from_seq, am_stored_fn fn,
                           void *ud, core_err *err)
{
    return refuse("read", err);
}

static core_status ob_group_info(void *impl, const char *group, struct am_group_info *out,
                                 core_err *err)
{
    return refuse("report a group", err);
}

static bool ob_wait_connected(void *impl, int timeout_ms)
{
    return true;
}

static core_status ob_close(void *impl, int timeout_ms, bool *abandoned, core_err *err)
{
    return CORE_OK;
}

static void ob_free(void *impl, bool abandoned)
{
    /* impl is the tm_tx, which frees itself */
}

static core_status ob_state(void *impl, struct am_stream_state *out, core_err *err)
{
    return refuse("report its state", err);
}

static core_status ob_groups(void *impl, am_group_fn fn, void *ud, core_err *err)
{
    return refuse("list groups", err);
}

static core_status ob_watch(void *impl, const char *filter, uint64_t from_seq, am_stored_fn fn,
                            void *ud, void **handle, core_err *err)
{
    return refuse("watch", err);
}

static void ob_unwatch(void *impl, void *handle) {}

static const struct am_stream_ops outbox_ops = {
    .kind = "outbox",
    .publish = ob_publish,
    .subscribe = ob_subscribe,
    .ack = ob_ack,
    .nak = ob_nak,
    .read = ob_read,
    .group_info = ob_group_info,
    .wait_connected = ob_wait_connected,
    .close = ob_close,
    .free = ob_free,
    .state = ob_state,
    .groups = ob_groups,
    .watch = ob_watch,
    .unwatch = ob_unwatch,
};

/* ---- the unit of work ------------------------------------------------------------------------ */

static void tx_free(tm_tx *tx)
{
    if (tx->conn)
        pg_release(tx->ob->pool, tx->conn); /* rolls back a transaction left open */
    am_stream_free(tx->stream);
    core_free(tx);
}

core_status tm_begin(tm_outbox *ob, tm_tx **out, core_err *err)
{
    tm_tx *tx = core_calloc(1, sizeof *tx);
    if (!tx)
        return core_err_nomem(err);
    tx->ob = ob;
    core_status st = am_stream_new(&tx->stream, &outbox_ops, tx, ob->stream, err);
    if (st == CORE_OK)
        st = pg_acquire(ob->pool, &tx->conn, err);
    if (st == CORE_OK)
        st = pg_begin(tx->conn, err);
    if (st != CORE_OK) {
        tx_free(tx);
        return core_err_wrap(err, "outbox %s: beginning a unit of work", ob->schema);
    }
    *out = tx;
    return CORE_OK;
}

pg_conn *tm_tx_conn(tm_tx *tx)
{
    return tx->conn;
}

am_stream *tm_tx_stream(tm_tx *tx)
{
    return tx->stream;
}

tm_outbox *tm_tx_outbox(tm_tx *tx)
{
    return tx->ob;
}

core_status tm_commit(tm_tx *tx, core_err *err)
{
    core_status st = tx_usable(tx, err);
    if (st == CORE_OK && tx->wrote) {
        /* the relay's wake-up and the COMMIT in one round trip; delivered at commit */
        const char *params[2] = {TM_NOTIFY_CHANNEL, tx->ob->schema};
        st = pg_commit_after(tx->conn, "SELECT pg_notify($1, $2)", 2, params, err);
    } else if (st == CORE_OK) {
        st = pg_commit(tx->conn, err);
    } else {
        core_err ignored = CORE_ERR_INIT;
        pg_rollback(tx->conn, &ignored);
    }
    tx_free(tx);
    return st;
}

void tm_rollback(tm_tx *tx)
{
    if (!tx)
        return;
    core_err err = CORE_ERR_INIT;
    if (pg_rollback(tx->conn, &err) != CORE_OK)
        log_debug(LOG_COMP, "rollback: %s (the connection is released all the same)", err.msg);
    tx_free(tx);
}

/* ---- cleanup and backlog --------------------------------------------------------------------- */

core_status tm_outbox_cleanup(pg_pool *pool, const char *schema, int64_t keep_ms, long *deleted,
                              core_err *err)
{
    core_status st = check_schema(schema, err);
    if (st != CORE_OK)
        return st;
    char sql[SQL_MAX], keep[24];
    snprintf(sql, sizeof sql,
             "DELETE FROM \"%s\".outbox WHERE published_at IS NOT NULL "
             "AND published_at < now() - $1::bigint * interval '1 millisecond'",
             schema);
    snprintf(keep, sizeof keep, "%" PRId64, keep_ms);
    const char *params[1] = {keep};
    PGresult *res = NULL;
    st = pg_run(pool, sql, 1, params, &res, err);
    if (st == CORE_OK && deleted)
        *deleted = strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return st == CORE_OK ? st : core_err_wrap(err, "outbox %s: cleanup", schema);
}

core_status tm_outbox_backlog(pg_pool *pool, const char *schema, long *waiting,
                              int64_t *oldest_age_ms, core_err *err)
{
    core_status st = check_schema(schema, err);
    if (st != CORE_OK)
        return st;
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql,
             "SELECT count(*), COALESCE(floor(extract(epoch FROM now() - min(created_at)) * "
             "1000), 0)::bigint FROM \"%s\".outbox WHERE published_at IS NULL",
             schema);
    PGresult *res = NULL;
    st = pg_run(pool, sql, 0, NULL, &res, err);
    if (st == CORE_OK) {
        *waiting = strtol(pg_get(res, 0, 0), NULL, 10);
        *oldest_age_ms = strtoll(pg_get(res, 0, 1), NULL, 10);
    }
    PQclear(res);
    return st == CORE_OK ? st : core_err_wrap(err, "outbox %s: backlog", schema);
}

/* ---- the inbox ------------------------------------------------------------------------------- */

core_status tm_inbox_claim(tm_tx *tx, const struct am_delivery *d, const unsigned char *data,
                           size_t len, bool *duplicate, core_err *err)
{
    bool inserted = false;
    core_status st = insert_message(tx, tx->ob->sql_inbox, d->id, d->name, d->subject, data, len,
                                    &inserted, err);
    if (st != CORE_OK)
        return core_err_wrap(err, "inbox %s: claiming %s %s", tx->ob->schema, d->name, d->id);
    *duplicate = !inserted;
    return CORE_OK;
}

/* ---- the subscriptions ----------------------------------------------------------------------- */

enum tm_kind { TM_EVENT, TM_COMMAND, TM_REPLY };

struct tm_sub {
    enum tm_kind kind;
    tm_outbox *ob;
    const es_registry *reg;
    union {
        tm_event_handler_fn event;
        tm_command_handler_fn command;
        tm_reply_handler_fn reply;
    } fn;
    void *ud;
    tm_tx *batch; /* the transaction the batch's deliveries share, until the flush; NULL = none */
};

/* Each delivery of a batch works between a savepoint and its release, so that a failed one
 * leaves nothing in the batch's transaction; the command handler's own savepoint nests in it. */
#define DELIVERY_SAVEPOINT_SQL "SAVEPOINT tm_delivery"
#define DELIVERY_RELEASE_SQL "RELEASE SAVEPOINT tm_delivery"
#define DELIVERY_ROLLBACK_SQL "ROLLBACK TO SAVEPOINT tm_delivery"
#define SAVEPOINT_SQL "SAVEPOINT tm_handler"
#define ROLLBACK_TO_SQL "ROLLBACK TO SAVEPOINT tm_handler"

/* Marks tx broken: nothing more is written in it and it does not commit. */
static void tx_break(tm_tx *tx, const core_err *why, const char *what)
{
    if (tx->broken)
        return;
    tx->broken = true;
    tx->broken_err = *why;
    core_err_wrap(&tx->broken_err, "%s", what);
}

/* Starts delivery d's work in the batch's transaction (begun here when none is open, which costs
 * no round trip: see pg_begin) and claims d in the inbox, after the delivery's savepoint.
 * *claimed = false (and CORE_OK) when d is a duplicate: then nothing is left to do. */
static core_status start_delivery(struct tm_sub *ts, const struct am_delivery *d,
                                  const unsigned char *data, size_t len, bool *claimed,
                                  core_err *err)
{
    *claimed = false;
    if (!ts->batch) {
        core_status st = tm_begin(ts->ob, &ts->batch, err);
        if (st)
            return st;
    }
    tm_tx *tx = ts->batch;
    core_status st = tx_usable(tx, err);
    if (st != CORE_OK)
        return st;
    bool dup = false;
    st = pg_defer(tx->conn, DELIVERY_SAVEPOINT_SQL, err);
    if (st == CORE_OK)
        st = tm_inbox_claim(tx, d, data, len, &dup, err);
    if (st == CORE_OK && dup)
        log_info(LOG_COMP,
                 "inbox %s: %s %s was handled before (group=%s delivery=%" PRIu64 "): skipped",
                 ts->ob->schema, d->name, d->id, d->group, d->delivered);
    *claimed = st == CORE_OK && !dup;
    return st;
}

/* Ends delivery d's work in the batch: kept (st CORE_OK: the savepoint is released with the next
 * statement) or undone (the transaction goes on without it; when even that fails, the batch is
 * broken and its flush fails). Returns st. */
static core_status end_delivery(struct tm_sub *ts, core_status st)
{
    tm_tx *tx = ts->batch;
    if (!tx)
        return st;
    core_err rerr = CORE_ERR_INIT;
    if (st == CORE_OK) {
        if (pg_defer(tx->conn, DELIVERY_RELEASE_SQL, &rerr) != CORE_OK)
            tx_break(tx, &rerr, "releasing a delivery's savepoint");
    } else if (pg_exec(tx->conn, DELIVERY_ROLLBACK_SQL, 0, NULL, NULL, &rerr) != CORE_OK ||
               pg_defer(tx->conn, DELIVERY_RELEASE_SQL, &rerr) != CORE_OK) {
        tx_break(tx, &rerr, "undoing the writes of a failed delivery");
    }
    return st;
}

/* The batch's end (am_flush_fn): commits the work of every delivery since the last flush. */
static core_status flush_batch(void *ud, core_err *err)
{
    struct tm_sub *ts = ud;
    tm_tx *tx = ts->batch;
    ts->batch = NULL;
    return tx ? tm_commit(tx, err) : CORE_OK;
}

static void sub_free(void *ud)
{
    struct tm_sub *ts = ud;
    tm_rollback(ts->batch); /* a batch the stream never flushed (an abandoned close) */
    core_free(ts);
}

/* Events and replies: decode, claim, handler, in the batch's transaction. */
static core_status plain_raw_handler(void *ud, const struct am_delivery *d,
                                     const unsigned char *data, size_t len, bool *dead,
                                     core_err *err)
{
    struct tm_sub *ts = ud;
    ddd_event *ev = NULL;
    core_status st = am_data_unpack(ts->reg, d->id, d->name, data, len, &ev, err);
    if (st != CORE_OK) {
        *dead = st != CORE_ERR_NOMEM; /* bad data does not get better by retrying */
        return st;
    }
    bool claimed = false;
    st = start_delivery(ts, d, data, len, &claimed, err);
    if (st == CORE_OK && claimed)
        st = ts->kind == TM_EVENT ? ts->fn.event(ts->ud, ts->batch, d, ev, err)
                                  : ts->fn.reply(ts->ud, ts->batch, d, ev, err);
    ddd_event_free(ev);
    return end_delivery(ts, st);
}

struct tx_call {
    struct tm_sub *ts;
    tm_tx *tx;
};

/* The command handler as am_command_answer() calls it: in the unit of work, after a savepoint;
 * a failure undoes the handler's writes (the inbox row stays), so that an am.Failure reply can
 * commit without them. When even that fails, the unit is marked broken: nothing more is written
 * and it does not commit. */
static core_status tx_call(void *ud, const struct am_delivery *d, const ddd_event *command,
                           ddd_event **reply, core_err *err)
{
    struct tx_call *c = ud;
    core_status st = c->ts->fn.command(c->ts->ud, c->tx, d, command, reply, err);
    if (st == CORE_OK)
        return CORE_OK;
    core_err rerr = CORE_ERR_INIT;
    if (pg_exec(c->tx->conn, ROLLBACK_TO_SQL, 0, NULL, NULL, &rerr) != CORE_OK)
        tx_break(c->tx, &rerr, "undoing the writes of a failed command handler");
    return st;
}

static core_status command_raw_handler(void *ud, const struct am_delivery *d,
                                       const unsigned char *data, size_t len, bool *dead,
                                       core_err *err)
{
    struct tm_sub *ts = ud;
    bool claimed = false;
    core_status st = start_delivery(ts, d, data, len, &claimed, err);
    if (st == CORE_OK && claimed)
        st = pg_defer(ts->batch->conn, SAVEPOINT_SQL, err);
    if (st == CORE_OK && claimed) {
        struct tx_call c = {ts, ts->batch};
        st = am_command_answer(ts->batch->stream, ts->reg, d, data, len, tx_call, &c, dead, err);
    }
    if (st == CORE_OK && ts->batch)
        st = tx_usable(ts->batch, err); /* the undo of a failed handler failed */
    return end_delivery(ts, st);
}

static core_status subscribe(am_stream *s, tm_outbox *ob, const char *channel,
                             const struct am_sub_opts *opts, const es_registry *reg,
                             struct tm_sub *proto, core_err *err)
{
    struct tm_sub *ts = core_malloc(sizeof *ts);
    if (!ts)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory subscribing");
    *ts = *proto;
    ts->ob = ob;
    ts->reg = reg;
    ts->batch = NULL;
    struct am_sub_opts o = AM_SUB_OPTS_INIT;
    if (opts)
        o = *opts;
    if (o.max_deliver == 0)
        o.max_deliver = TM_MAX_DELIVER_DEFAULT; /* see tm.h: the budget outlasts a restart */
    return am_stream_subscribe_batched(
        s, channel, &o, ts->kind == TM_COMMAND ? command_raw_handler : plain_raw_handler,
        flush_batch, ts, sub_free, err);
}

core_status tm_event_subscribe(am_stream *s, tm_outbox *ob, const char *channel,
                               const struct am_sub_opts *opts, const es_registry *reg,
                               tm_event_handler_fn fn, void *ud, core_err *err)
{
    struct tm_sub p = {.kind = TM_EVENT, .fn.event = fn, .ud = ud};
    return subscribe(s, ob, channel, opts, reg, &p, err);
}

core_status tm_command_subscribe(am_stream *s, tm_outbox *ob, const char *channel,
                                 const struct am_sub_opts *opts, const es_registry *reg,
                                 tm_command_handler_fn fn, void *ud, core_err *err)
{
    struct tm_sub p = {.kind = TM_COMMAND, .fn.command = fn, .ud = ud};
    return subscribe(s, ob, channel, opts, reg, &p, err);
}

core_status tm_reply_subscribe(am_stream *s, tm_outbox *ob, const char *channel,
                               const struct am_sub_opts *opts, const es_registry *reg,
                               tm_reply_handler_fn fn, void *ud, core_err *err)
{
    struct tm_sub p = {.kind = TM_REPLY, .fn.reply = fn, .ud = ud};
    return subscribe(s, ob, channel, opts, reg, &p, err);
}
