/* tm.h -- transactional messaging: the OUTBOX (messages a transaction publishes are rows of that
 * transaction, sent to the stream by a relay once it committed) and the INBOX (a received
 * message's id is recorded in the transaction of its handler, so that handling it twice has one
 * effect).
 *
 * Layer: core, above pg.h and am.h (the C counterpart of the book's internal/tm, chapter 09).
 *
 * THE PROBLEM (the dual write): a handler that saves a change and then publishes an event can
 * crash, or meet a broker outage, between the two: the change is stored and nobody is told.
 * Publishing first is no better (the event announces a change that may then fail to commit).
 * The outbox makes the two one write: the event is a row in the same PostgreSQL transaction as
 * the change; either both commit or neither does. A relay then moves committed rows to the stream.
 *
 * THE TABLES: each module's schema holds an outbox and an inbox (tm_schema_sql() gives the DDL;
 * see there). A message is a StreamMessage's parts: id (= Nats-Msg-Id), name, data, and the
 * subject (channel) it goes to.
 *
 * A UNIT OF WORK:
 *     tm_tx *tx = NULL;
 *     tm_begin(module->outbox, &tx, err);                  (a pool connection, BEGIN)
 *     es_repo_save_in(repo, tm_tx_conn(tx), agg, err);      (the caller's own statements)
 *     am_event_publish(tm_tx_stream(tx), channel, ev, err); (an outbox row, same transaction)
 *     tm_commit(tx, err);                                  (NOTIFY, COMMIT; or rolled back)
 * Every publishing call of am.h works on tm_tx_stream(tx) and writes an outbox row instead of
 * publishing; the acknowledgement such a call reports is seq 0, duplicate false (the stream has
 * not seen the message yet). Writing one message id twice (in one transaction or in two) keeps
 * the first row and succeeds (ON CONFLICT DO NOTHING): the same event published twice is one
 * message.
 *
 * THE RELAY (tm_relay_*): one per program, a thread of its own, serving every module schema of
 * the program. Woken by PostgreSQL: tm_commit() runs pg_notify(TM_NOTIFY_CHANNEL, schema), which
 * the server delivers at commit to the relay's LISTEN connection, and the pass that follows
 * looks at that schema only; a poll timer (poll_ms) is only the fallback, a pass over every
 * schema (as after a reconnect). Each pass, per schema, in one transaction: claim up to `batch`
 * unpublished rows in seq order (FOR UPDATE SKIP LOCKED), publish them with asynchronous
 * acknowledgements (am_stream_publish_batch), mark published exactly the rows the stream
 * acknowledged (a duplicate counts), commit. Why this is safe:
 *   - a row is marked only after the stream acknowledged it, so nothing is lost: a broker outage
 *     leaves rows unpublished and they are sent again (the relay backs off meanwhile);
 *   - a relay killed between the acknowledgement and the mark publishes those rows again at its
 *     next pass; the stream's duplicate window (Nats-Msg-Id) drops the second copy, and past the
 *     window the receiver's inbox does;
 *   - two relays (two instances of the program) never publish one row at the same time: a
 *     transaction-level advisory lock per schema lets one relay drain a schema at a time, which
 *     also keeps the publish order of seq across instances (SKIP LOCKED alone would let a second
 *     relay publish rows 101-200 while the first still publishes 1-100); SKIP LOCKED stays as
 *     the row-level guard.
 * Publish order: within a schema, rows leave in seq order, which is the order of their INSERTs;
 * a row whose transaction commits after a later-numbered one was already published goes out
 * after it, and a row the stream did not acknowledge (while later ones were) goes out at the next
 * pass, after them. Consumers must not rely on more order than one aggregate's events written in
 * one unit of work after another.
 * Published rows are deleted once they are older than keep_ms. THE RULE: keep_ms must be longer
 * than the stream's duplicate window (AM_DUPLICATE_WINDOW_MS_DEFAULT): while a row is kept, a
 * second write of its message id is dropped by the outbox itself; once it is deleted, only the
 * stream's window (and then the inbox) is left to drop a repeat. Unpublished rows are never
 * deleted.
 *
 * THE INBOX: tm_event_subscribe(), tm_command_subscribe() and tm_reply_subscribe() wrap a
 * handler in a unit of work: for each delivery, begin; claim the message id in the inbox (INSERT
 * ... ON CONFLICT DO NOTHING); already there -> a duplicate: commit and acknowledge without
 * calling the handler; else run the handler with the transaction; commit; acknowledge. A handler
 * failure rolls everything back (its writes AND the inbox row) and the message is redelivered as
 * am.h describes. A module therefore writes no boilerplate: its handler gets a tm_tx and uses
 * tm_tx_conn() and tm_tx_stream(). The inbox key is the message id alone, so one module (one
 * schema) must consume each message through one subscription (two groups of one module on
 * overlapping channels would see the second delivery as a duplicate).
 *
 * BATCHES: deliveries that arrive together share the unit of work. When the backend has further
 * deliveries of the subscription at hand (a backlog: am.h, am_stream_subscribe_batched), the
 * transaction stays open for them, up to AM_BATCH_MAX, and commits once after the last; only
 * then are they acknowledged (one commit, one WAL flush and one NOTIFY for the lot). Each
 * delivery works between a savepoint and its release: a failed one is rolled back to its
 * savepoint, alone, and redelivered or dead as am.h says, while the others go on; a COMMIT that
 * fails NAKs every delivery of the batch, which all come back (their inbox rows were rolled back
 * with them). An idle subscription's single delivery is a batch of one, as before. So a handler
 * must read what it decides on through tm_tx_conn(tx), never through another pooled connection:
 * an earlier delivery of the same batch may have written it, uncommitted (es.h:
 * es_repo_load_in).
 *
 * Ownership: tm_outbox_new/tm_relay_new copy the names and options they are given; the pool and
 * the stream are borrowed and must outlive what was made on them. A tm_tx is the caller's from
 * tm_begin until tm_commit or tm_rollback, which free it; tm_tx_conn() and tm_tx_stream() are
 * borrowed from it. The transactional subscriptions own their wrapper state (freed with the
 * stream); the handler's ud is borrowed.
 *
 * Thread-safety: a tm_outbox is thread-safe (immutable after tm_outbox_new; the pool is). A
 * tm_tx belongs to the thread that began it, until tm_commit/tm_rollback. The relay runs its own
 * thread; tm_relay_stats() may be called from any thread; start/stop/free from one.
 *
 * Errors: pg.h's statuses for the database (CORE_ERR_UNAVAILABLE when it is down), am.h's for the
 * stream; CORE_ERR_INVALID for a bad schema name or options; CORE_ERR_INTERNAL for an operation
 * the outbox stream does not have (subscribe, read, ...).
 */
#ifndef TM_H
#define TM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "am.h"
#include "core.h"
#include "pg.h"

#define TM_NOTIFY_CHANNEL "tm_outbox" /* NOTIFY channel; the payload is the schema */
#define TM_SCHEMA_MAX 63              /* PostgreSQL's identifier length */
#define TM_BATCH_DEFAULT 100
#define TM_POLL_MS_DEFAULT 5000   /* the fallback when no notification comes */
#define TM_KEEP_MS_DEFAULT 600000 /* 10 min: longer than the stream's duplicate window */
#define TM_BACKOFF_MS_MAX 5000    /* the longest pause after a failed pass */
/* The deliveries a transactional subscription gives a message when its options leave max_deliver
 * 0 (am.h's default is the book's 5). Behind an inbox a redelivery costs nothing and has no
 * second effect, and what makes a delivery fail or go unacknowledged is mostly the system, not
 * the message: a program killed while handling it (+1 each time), a database restarting (every
 * retry during the outage: 1, 2, 4, 8 s ... apart). Five deliveries are spent by a PostgreSQL
 * restart and a crash or two, and the message would be dead although nothing is wrong with it.
 * Ten, with am.h's doubling delays (capped at AM_RETRY_DELAY_MS_MAX), last about four minutes of
 * failures; a message that is refused for good still ends as a dead letter (or, a rule failure
 * of a command, as am.Failure at once). */
#define TM_MAX_DELIVER_DEFAULT 10

/* true when schema is a name the outbox accepts: [a-z_][a-z0-9_]*, at most TM_SCHEMA_MAX bytes
 * (it is written into SQL text, quoted, so only such names are allowed). */
bool tm_schema_valid(const char *schema);

/* The DDL of the outbox and inbox tables in schema (which must exist), into *out (caller frees
 * with core_free). For schema "stores" it is:
 *
 *   CREATE TABLE "stores".outbox (
 *       seq bigint GENERATED ALWAYS AS IDENTITY,  -- publish order
 *       id text PRIMARY KEY,                      -- the message id = Nats-Msg-Id
 *       name text NOT NULL, subject text NOT NULL, data bytea NOT NULL,
 *       created_at timestamptz NOT NULL DEFAULT now(),
 *       published_at timestamptz);
 *   CREATE INDEX stores_unpublished_idx ON "stores".outbox (seq)
 *       WHERE published_at IS NULL;
 *   CREATE TABLE "stores".inbox (
 *       id text PRIMARY KEY, name text NOT NULL, subject text NOT NULL, data bytea NOT NULL,
 *       received_at timestamptz NOT NULL DEFAULT now());
 *
 * A module's migration file holds its own copy of this text (a migration is history: it must not
 * change when the core does); tests and tools call this function. Bad name -> CORE_ERR_INVALID. */
core_status tm_schema_sql(const char *schema, char **out, core_err *err);

/* ---- the outbox and the unit of work --------------------------------------------------------- */

typedef struct tm_outbox tm_outbox; /* opaque: one module's outbox */
typedef struct tm_tx tm_tx;         /* opaque: one unit of work */

/* An outbox for the tables in schema, on pool (borrowed; must outlive it), for messages of the
 * stream stream_name (the real stream's name: subjects are checked against it when written).
 * Caller frees with tm_outbox_free (NULL: no-op). Errors: CORE_ERR_INVALID (names). */
core_status tm_outbox_new(tm_outbox **out, pg_pool *pool, const char *schema,
                          const char *stream_name, core_err *err);
void tm_outbox_free(tm_outbox *ob);

/* The outbox's schema (borrowed). */
const char *tm_outbox_schema(const tm_outbox *ob);

/* Begins a unit of work: borrows a connection of the outbox's pool and runs BEGIN. *out is the
 * caller's until tm_commit or tm_rollback. Errors: pg_acquire's and pg_begin's. */
core_status tm_begin(tm_outbox *ob, tm_tx **out, core_err *err);

/* The transaction's connection (borrowed, valid until commit/rollback): run the unit's own
 * statements on it (es_repo_save_in, es_store_append_in, pg_exec). Do not COMMIT through it. */
pg_conn *tm_tx_conn(tm_tx *tx);

/* The transaction's outbox stream (borrowed, valid until commit/rollback): every am.h publishing
 * call on it (am_stream_publish, am_event_publish, am_event_announce, am_command_send) writes an
 * outbox row in this transaction and reports seq 0, duplicate false. Its other operations
 * (subscribe, read, watch, ...) fail with CORE_ERR_INTERNAL. */
am_stream *tm_tx_stream(tm_tx *tx);

/* The outbox the unit of work writes to (borrowed). */
tm_outbox *tm_tx_outbox(tm_tx *tx);

/* Commits: when outbox rows were written, first pg_notify(TM_NOTIFY_CHANNEL, schema) (delivered
 * by the server at commit), then COMMIT; releases the connection and frees tx, in every case. On
 * failure everything is rolled back and the error returned (pg_commit's; CORE_ERR_IO when a
 * statement of the transaction had failed). */
core_status tm_commit(tm_tx *tx, core_err *err);

/* Rolls back, releases the connection and frees tx. NULL is a no-op. */
void tm_rollback(tm_tx *tx);

/* Published rows of schema older than keep_ms are deleted; *deleted (may be NULL) = how many.
 * The relay calls it; tools and tests may too. */
core_status tm_outbox_cleanup(pg_pool *pool, const char *schema, int64_t keep_ms, long *deleted,
                              core_err *err);

/* How many rows of schema wait to be published and the age of the oldest (0 when none), in ms:
 * the relay's backlog (for tools such as `make events`). */
core_status tm_outbox_backlog(pg_pool *pool, const char *schema, long *waiting,
                              int64_t *oldest_age_ms, core_err *err);

/* ---- the relay ------------------------------------------------------------------------------- */

typedef struct tm_relay tm_relay; /* opaque */

struct tm_relay_opts {
    pg_pool *pool;              /* for the passes (borrowed; must outlive the relay); required */
    const char *conninfo;       /* the same database, for the relay's own LISTEN connection */
    am_stream *stream;          /* the real stream (JetStream), borrowed; required */
    const char *const *schemas; /* NULL-terminated module schemas (copied); at least one */
    int batch;                  /* rows per transaction; 0 = TM_BATCH_DEFAULT */
    int poll_ms;                /* fallback pass without a notification; 0 = TM_POLL_MS_DEFAULT */
    int64_t keep_ms;            /* published rows older are deleted; 0 = TM_KEEP_MS_DEFAULT */
};
/* clang-format off */
#define TM_RELAY_OPTS_INIT {NULL, NULL, NULL, NULL, 0, 0, 0}
/* clang-format on */

/* What the relay did so far (monotonic counters). */
struct tm_relay_stats {
    uint64_t published;      /* rows acknowledged by the stream and marked (duplicates included) */
    uint64_t duplicates;     /* of those, acknowledged as duplicates (already stored) */
    uint64_t batches;        /* transactions that published at least one row */
    uint64_t wakeups_notify; /* passes started by a notification */
    uint64_t wakeups_poll;   /* passes started by the poll timer */
    uint64_t errors;         /* failed passes of a schema (database or broker), and lost LISTEN
                                connections */
};

/* Checks opts and makes the relay (not running yet; its LISTEN connection is opened here, so a
 * wrong conninfo fails at start-up). Caller frees with tm_relay_free. Errors: CORE_ERR_INVALID
 * (options, schema names), pg_pool_new's. */
core_status tm_relay_new(tm_relay **out, const struct tm_relay_opts *opts, core_err *err);

/* Starts the relay's thread, which at once makes a full pass (rows left from before). */
core_status tm_relay_start(tm_relay *r, core_err *err);

/* Wakes the thread and waits for it to end (a pass in progress finishes first; a publish waits
 * at most the stream's publish timeout). No-op when not running. */
void tm_relay_stop(tm_relay *r);

/* Stops if running and frees. NULL is a no-op. */
void tm_relay_free(tm_relay *r);

void tm_relay_stats(tm_relay *r, struct tm_relay_stats *out);

/* ---- the inbox and transactional subscriptions ------------------------------------------------
 */

/* Records delivery d (its id, name, subject) with data/len (StreamMessage.data) in the inbox of
 * tx's outbox schema: INSERT ... ON CONFLICT (id) DO NOTHING. *duplicate = true when the id was
 * there already (the message was handled before: do nothing more). Call it first in the
 * transaction. */
core_status tm_inbox_claim(tm_tx *tx, const struct am_delivery *d, const unsigned char *data,
                           size_t len, bool *duplicate, core_err *err);

/* Handlers of the transactional subscriptions: as am.h's, plus the unit of work tx (borrowed for
 * the call: do not commit or roll it back; it may hold the work of earlier deliveries of the same
 * batch, see BATCHES above). Return CORE_OK to keep the delivery's writes for the commit. */
typedef core_status (*tm_event_handler_fn)(void *ud, tm_tx *tx, const struct am_delivery *d,
                                           const ddd_event *event, core_err *err);
typedef core_status (*tm_command_handler_fn)(void *ud, tm_tx *tx, const struct am_delivery *d,
                                             const ddd_event *command, ddd_event **reply,
                                             core_err *err);
typedef core_status (*tm_reply_handler_fn)(void *ud, tm_tx *tx, const struct am_delivery *d,
                                           const ddd_event *reply, core_err *err);

/* The three subscriptions below take opts as am.h's do, except that max_deliver 0 means
 * TM_MAX_DELIVER_DEFAULT (see there), not am.h's default. */

/* am_event_subscribe() with a unit of work on ob (borrowed; must outlive s), shared by the
 * deliveries of a batch (see BATCHES above): savepoint, inbox claim (a duplicate: fn not called),
 * fn, release; commit after the batch's last delivery, then acknowledge. fn failing rolls back
 * its delivery's writes AND its inbox row, and the message is redelivered (or dead) as am.h
 * describes; a failed commit redelivers the whole batch; messages that do not decode are dead at
 * once, as there. */
core_status tm_event_subscribe(am_stream *s, tm_outbox *ob, const char *channel,
                               const struct am_sub_opts *opts, const es_registry *reg,
                               tm_event_handler_fn fn, void *ud, core_err *err);

/* am_command_subscribe() with a unit of work (in batches, as tm_event_subscribe()): the reply
 * (typed, am.Success or am.Failure, chosen as am.h describes) is written to the transaction's
 * outbox, so the handler's effects and its answer commit together and the answer leaves only after
 * the commit. A rule failure (CORE_ERR_INVALID, NOT_FOUND, CONFLICT, TOO_LARGE) and a failure on
 * the last delivery undo the handler's writes (a savepoint taken after the inbox claim) but commit
 * the inbox row and the am.Failure reply; any other failure rolls everything back and the command
 * is redelivered. */
core_status tm_command_subscribe(am_stream *s, tm_outbox *ob, const char *channel,
                                 const struct am_sub_opts *opts, const es_registry *reg,
                                 tm_command_handler_fn fn, void *ud, core_err *err);

/* am_reply_subscribe() with a unit of work, in batches, as tm_event_subscribe(). */
core_status tm_reply_subscribe(am_stream *s, tm_outbox *ob, const char *channel,
                               const struct am_sub_opts *opts, const es_registry *reg,
                               tm_reply_handler_fn fn, void *ud, core_err *err);

#endif /* TM_H */
