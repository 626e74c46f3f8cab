/* sec.h -- the saga execution coordinator: an orchestrator that walks a saga's steps by sending
 * commands and reacting to their replies, compensating the steps already done when one fails,
 * and keeps the saga's state in a store between two replies.
 *
 * Layer: core, above am.h (commands and replies) and pg.h (the C counterpart of the book's
 * internal/sec package, used from chapter 08 on by the cosec module).
 *
 * A SAGA is a static table (struct sec_saga): a name ("cosec.CreateOrder"), the channel its
 * replies come back on, the protobuf type of its data, and ordered STEPS. A step may have an
 * ACTION (a command sent when walking forward) and a COMPENSATION (a command sent when walking
 * back, to undo what the action did), each with the handlers of its typed replies.
 *
 * The flow a module follows (cosec):
 *
 *   startup   sec_pg_store_new(&store, pool, "cosec", err);
 *             sec_orchestrator_new(&o, &create_order_saga, module, store, stream, reg, err);
 *             struct am_sub_opts so = AM_SUB_OPTS_INIT; so.group = "cosec-replies";
 *             sec_orchestrator_subscribe(o, &so, err);   (the saga's reply channel)
 *   trigger   (an event handler, e.g. on ordersapi.OrderCreated)
 *             sec_orchestrator_start(o, order_id, &data, err);
 *   shutdown  am_stream_close(stream, ...); sec_orchestrator_free(o); sec_store_free(store);
 *
 * THE WALK. A new saga's state is at step -1. Walking FORWARD it goes to the next step that has
 * an action; past the last step the saga is done. Each SUCCESS reply runs the step's handler for
 * that reply's name (am.Success needs none; a typed reply without a handler is an error) and
 * walks forward again. A FAILURE reply turns the saga to compensating and walks BACK from the
 * step before the failed one through the steps that have a compensation; past step 0 the saga is
 * done (compensated). A FAILURE reply to a compensation cannot be undone by the saga: it is
 * logged at ERROR and the walk goes on back.
 *
 * ORDER OF WORK, so that at-least-once delivery and a crash anywhere never leave a saga stuck or
 * doubled:
 *   1. build the next command (the step's function, from the state);
 *   2. give it a DETERMINISTIC id, derived from (saga name, saga id, step, direction), and set
 *      state.awaiting to that id;
 *   3. SAVE the state (the store's upsert);
 *   4. SEND the command (am_command_send) with metadata COMMAND_REPLY_CHANNEL (the saga's reply
 *      channel), COMMAND_SAGA_ID and COMMAND_SAGA_NAME; the reply carries them back as REPLY_*
 *      together with REPLY_COMMAND_ID.
 * A reply whose REPLY_COMMAND_ID is not the awaited id (a late duplicate, or the reply that led to
 * the current step delivered again after a crash between 3 and 4) is acknowledged, and the
 * awaited command is SENT AGAIN: same id, so the stream drops it when it was sent already (within
 * its duplicate window), and command handlers are idempotent when it comes after the window.
 * A reply for a saga that is done is acknowledged and logged. Starting a saga whose id exists
 * sends its awaited command again (a redelivered trigger) and succeeds.
 *
 * ERRORS are never swallowed: a failed load, save, send or reply handler is returned, so the
 * reply (or the trigger) is NAKed and delivered again; the state in the store decides what the
 * redelivery does. A reply for an unknown saga, for another saga name, or with a reply name the
 * step has no handler for is CORE_ERR_INVALID (it is retried up to the subscription's
 * max_deliver and then recorded as a dead letter: am.h's reply handler cannot ask for a dead
 * letter at once).
 *
 * Logging (component "sec"), one INFO record per command sent:
 *     saga cosec.CreateOrder <id>: step 2 -> depotapi.CreateShoppingListCommand
 *     saga cosec.CreateOrder <id>: step 2 (compensation) -> depotapi.CancelShoppingListCommand
 *     saga cosec.CreateOrder <id>: done            / done (compensated)
 *
 * Thread-safety: an orchestrator serialises its own calls (start and reply handling) with a
 * mutex; its step functions run one at a time. A store is thread-safe. One orchestrator per
 * saga per process; several processes may share a reply group (each saga has one command in
 * flight, so its replies come one at a time).
 */
#ifndef SEC_H
#define SEC_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "am.h"
#include "core.h"
#include "ddd.h"
#include "es.h"
#include "pg.h"
#include "tm.h"

#define SEC_CMD_SAGA_ID "COMMAND_SAGA_ID"     /* on every command: the saga's id */
#define SEC_CMD_SAGA_NAME "COMMAND_SAGA_NAME" /* on every command: the saga's name */
#define SEC_REPLY_SAGA_ID "REPLY_SAGA_ID"     /* the same, as the reply carries them back */
#define SEC_REPLY_SAGA_NAME "REPLY_SAGA_NAME"

/* ---- state ------------------------------------------------------------------------------------
 */

/* A saga's state (the book's SagaContext). Caller storage: SEC_STATE_INIT or sec_state_init();
 * sec_state_release() frees data. */
struct sec_state {
    char id[DDD_ID_MAX + 1];          /* the saga's id */
    ProtobufCMessage *data;           /* owned; a message of the saga's data_desc */
    int step;                         /* the current step; -1 before the first */
    bool done;                        /* the walk ended (forward or back) */
    bool compensating;                /* walking back */
    char awaiting[CORE_UUID_LEN + 1]; /* id of the command whose reply the saga waits for;
                                         "" when done */
};
/* clang-format off */
#define SEC_STATE_INIT {{0}, NULL, -1, false, false, {0}}
/* clang-format on */

void sec_state_init(struct sec_state *st);
void sec_state_release(struct sec_state *st); /* frees data; st is as after sec_state_init() */

/* ---- saga definitions -------------------------------------------------------------------------
 */

/* What a step function fills: the command to send. channel and name are static strings; payload
 * is a new message (heap tree, pb.h) the orchestrator takes (also when the step function fails:
 * then it is freed). */
struct sec_command {
    const char *channel; /* e.g. "mallbots.depot.commands" */
    const char *name;    /* e.g. "depotapi.CreateShoppingListCommand" */
    ProtobufCMessage *payload;
};

/* Builds a step's command from the state (borrowed; st->data is the saga's data). ud is the
 * orchestrator's. Returns CORE_OK with *out filled, or a failure with err set (the trigger or
 * reply is then NAKed). */
typedef core_status (*sec_command_fn)(void *ud, const struct sec_state *st, struct sec_command *out,
                                      core_err *err);

/* Handles a reply to a step's command (reply borrowed for the call); may change st->data (e.g.
 * store the id of what the command created), which is saved with the next step. */
typedef core_status (*sec_reply_fn)(void *ud, struct sec_state *st, const ddd_event *reply,
                                    core_err *err);

/* A reply handler of a step: the reply's name (static) and its function. */
struct sec_reply_handler {
    const char *name; /* e.g. "depotapi.CreatedShoppingListReply"; NULL ends a list */
    sec_reply_fn fn;
};

/* One step. Either function may be NULL (no action / no compensation). The reply lists end with
 * an entry whose name is NULL, or are NULL themselves (no typed replies: am.Success and
 * am.Failure need no handler, but may have one). */
struct sec_step {
    sec_command_fn action;
    const struct sec_reply_handler *action_replies;
    sec_command_fn compensation;
    const struct sec_reply_handler *compensation_replies;
};

/* A saga, in static storage. */
struct sec_saga {
    const char *name;                            /* e.g. "cosec.CreateOrder" */
    const char *reply_channel;                   /* e.g. "mallbots.cosec.replies.CreateOrder" */
    const ProtobufCMessageDescriptor *data_desc; /* the type of sec_state.data */
    const struct sec_step *steps;
    size_t nsteps;
};

/* ---- store (the book's SagaStore) ------------------------------------------------------------ */

typedef struct sec_store sec_store; /* opaque */

/* A backend of the store (ops struct rules of ddd.h: members are only ever added at the end). */
struct sec_store_ops {
    const char *kind; /* "postgres", "memory": for messages */
    /* Loads saga's state id into *out (empty, SEC_STATE_INIT): CORE_ERR_NOT_FOUND when none. */
    core_status (*load)(void *impl, const struct sec_saga *saga, const char *id,
                        struct sec_state *out, core_err *err);
    /* Inserts or replaces saga's state st (borrowed). */
    core_status (*save)(void *impl, const struct sec_saga *saga, const struct sec_state *st,
                        core_err *err);
    void (*free)(void *impl);
    /* Chapter 09 (the transactional orchestrator): load and save on conn, a connection in a
     * transaction of the caller's (borrowed). load_in locks the saga's row until that
     * transaction ends (SELECT ... FOR UPDATE), so two units of work on one saga run one after
     * the other. NULL in a backend without a database (the memory store). */
    core_status (*load_in)(void *impl, pg_conn *conn, const struct sec_saga *saga, const char *id,
                           struct sec_state *out, core_err *err);
    core_status (*save_in)(void *impl, pg_conn *conn, const struct sec_saga *saga,
                           const struct sec_state *st, core_err *err);
};

/* A store over a backend: ops borrowed (static), impl owned (freed with ops->free by
 * sec_store_free, also when this call fails). Caller frees *out with sec_store_free(). */
core_status sec_store_new(sec_store **out, const struct sec_store_ops *ops, void *impl,
                          core_err *err);
void sec_store_free(sec_store *s); /* NULL is a no-op */

/* The backend's impl (borrowed), for backends' own functions (sec_mem_store_fail). */
void *sec_store_impl(sec_store *s, const struct sec_store_ops *ops);

/* Loads the state of saga (borrowed) with id (borrowed) into *out (empty; on success out->data is
 * owned by *out: sec_state_release). No such saga -> CORE_ERR_NOT_FOUND; backend errors. */
core_status sec_store_load(sec_store *s, const struct sec_saga *saga, const char *id,
                           struct sec_state *out, core_err *err);

/* Inserts or replaces the state st (borrowed) of saga. Backend errors. */
core_status sec_store_save(sec_store *s, const struct sec_saga *saga, const struct sec_state *st,
                           core_err *err);

/* load and save on conn (borrowed), a connection in the caller's transaction (see the ops
 * load_in/save_in): the PostgreSQL store's statements inside that transaction; load_in locks the
 * row until it ends. A backend without them (the memory store) -> CORE_ERR_INTERNAL. */
core_status sec_store_load_in(sec_store *s, pg_conn *conn, const struct sec_saga *saga,
                              const char *id, struct sec_state *out, core_err *err);
core_status sec_store_save_in(sec_store *s, pg_conn *conn, const struct sec_saga *saga,
                              const struct sec_state *st, core_err *err);

/* true when s has load_in and save_in (can work inside a caller's transaction). */
bool sec_store_transactional(const sec_store *s);

/* The PostgreSQL store: the table <schema>.sagas (pool borrowed, must outlive the store; schema
 * copied, a plain lower-case name [a-z_][a-z0-9_]*, else CORE_ERR_INVALID). data is stored as
 * pbjson JSON (jsonb), so a learner reads a saga in psql. The chapter's migration creates:
 *
 *     CREATE TABLE <schema>.sagas (
 *         id           text        NOT NULL,
 *         name         text        NOT NULL,
 *         data         jsonb       NOT NULL,
 *         step         int         NOT NULL,
 *         done         bool        NOT NULL,
 *         compensating bool        NOT NULL,
 *         awaiting     text        NOT NULL DEFAULT '',
 *         updated_at   timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
 *         PRIMARY KEY (id, name)
 *     );
 *
 * Errors of load and save: pg.h's (CORE_ERR_UNAVAILABLE, CORE_ERR_IO, ... with public messages);
 * stored data that does not decode as the saga's data type -> CORE_ERR_INVALID. */
core_status sec_pg_store_new(sec_store **out, pg_pool *pool, const char *schema, core_err *err);

/* An in-memory store (unit tests): states kept as packed protobuf, copied in and out. */
core_status sec_mem_store_new(sec_store **out, core_err *err);

/* Fault injection (s must be a memory store): the next `count` saves fail with
 * CORE_ERR_UNAVAILABLE, storing nothing. */
void sec_mem_store_fail_save(sec_store *s, int count);

/* ---- orchestrator (the book's Orchestrator) -------------------------------------------------- */

typedef struct sec_orchestrator sec_orchestrator; /* opaque */

/* An orchestrator of saga (borrowed, static), passing ud (borrowed) to its step functions,
 * keeping states in store, sending commands on stream and decoding replies through reg (all
 * borrowed; they must outlive the orchestrator; reg must know every typed reply's name). A saga
 * without a name, reply channel or data type -> CORE_ERR_INTERNAL. Caller frees *out with
 * sec_orchestrator_free() (after the stream was closed). */
core_status sec_orchestrator_new(sec_orchestrator **out, const struct sec_saga *saga, void *ud,
                                 sec_store *store, am_stream *stream, const es_registry *reg,
                                 core_err *err);

void sec_orchestrator_free(sec_orchestrator *o); /* NULL is a no-op */

/* Starts the saga with id (copied) and *data (taken, set to NULL; freed on failure too; a message
 * of the saga's data type, else CORE_ERR_INTERNAL): walks forward to the first step with an
 * action, saves, sends its command (done at once when no step has an action). A saga with this id
 * that exists already: its awaited command is sent again (nothing when it is done), CORE_OK.
 * Errors: the store's, the step function's, am_command_send's. */
core_status sec_orchestrator_start(sec_orchestrator *o, const char *id, ProtobufCMessage **data,
                                   core_err *err);

/* Handles one reply (borrowed), as described at the top: what the reply subscription calls, and
 * what a test or tool may call itself. */
core_status sec_orchestrator_handle_reply(sec_orchestrator *o, const ddd_event *reply,
                                          core_err *err);

/* Subscribes the orchestrator to its saga's reply channel with am_reply_subscribe (opts
 * borrowed; opts->group required, e.g. "cosec-replies"); on an orchestrator given an outbox
 * (sec_orchestrator_use_outbox), with tm_reply_subscribe and sec_orchestrator_handle_reply_in.
 * Errors as am_reply_subscribe / tm_reply_subscribe. */
core_status sec_orchestrator_subscribe(sec_orchestrator *o, const struct am_sub_opts *opts,
                                       core_err *err);

/* ---- the transactional orchestrator (chapter 09) ----------------------------------------------
 *
 * From chapter 09 on, a saga's state and the command it sends commit in ONE transaction: the
 * unit of work (tm.h) of the reply or trigger that moved the saga. The state is loaded (row
 * locked) and saved on tm_tx_conn(tx), the command is written to tm_tx_stream(tx), the module's
 * outbox, and leaves through the relay once the transaction committed. The order of work above
 * (save, then send) becomes: save and write the command row, commit both or neither.
 *
 * What changes on a repeated or stale message:
 *   - a reply or trigger delivered again (same message id) is dropped by the inbox before it
 *     reaches the orchestrator (tm_reply_subscribe, tm_event_subscribe);
 *   - a reply whose REPLY_COMMAND_ID is not the awaited one, and a start of a saga that exists,
 *     are logged and change nothing: the awaited command was committed with the state, so there
 *     is no "saved but not sent" window to repair, and nothing is sent again (a copy would be
 *     dropped by the outbox's or the stream's message id, or the participant's inbox, anyway).
 * Command ids stay deterministic (a retried unit of work writes the same command id).
 *
 * Chapter 08's calls (sec_orchestrator_start, sec_orchestrator_handle_reply) work as before on
 * an orchestrator with an outbox too (state saved through the pool, command sent on the stream
 * given at sec_orchestrator_new).
 */

/* Gives o the outbox ob (borrowed; must outlive o) of the module's schema: from now on
 * sec_orchestrator_subscribe() receives replies through ob's inbox. Call before subscribing.
 * The store must have load_in/save_in (the PostgreSQL store), else CORE_ERR_INTERNAL. */
core_status sec_orchestrator_use_outbox(sec_orchestrator *o, tm_outbox *ob, core_err *err);

/* sec_orchestrator_start() inside the unit of work tx (borrowed; the caller commits or rolls it
 * back): state on tm_tx_conn(tx), the first command to tm_tx_stream(tx). A saga with this id that
 * exists already: logged, nothing written, CORE_OK. Any failure leaves tx to be rolled back. */
core_status sec_orchestrator_start_in(sec_orchestrator *o, tm_tx *tx, const char *id,
                                      ProtobufCMessage **data, core_err *err);

/* sec_orchestrator_handle_reply() inside the unit of work tx (as sec_orchestrator_start_in): the
 * reply handler's changes, the new state and the next command commit with tx. A reply that is
 * not the awaited one, or comes after the saga is done: logged, nothing written, CORE_OK. */
core_status sec_orchestrator_handle_reply_in(sec_orchestrator *o, tm_tx *tx, const ddd_event *reply,
                                             core_err *err);

#endif /* SEC_H */
