/* es.h -- event sourcing: aggregates whose state is the sum of their events, the registry that
 * turns event payloads into stored JSON and back, the aggregate store (PostgreSQL or in memory)
 * and the aggregate repository that loads and saves event-sourced entities.
 *
 * Layer: core, above ddd.h, pg.h and pbjson.h (the C counterpart of the book's internal/es,
 * internal/registry and internal/postgres event/snapshot stores, used from chapter 05 on).
 *
 * The flow a module follows (an event-sourced basket, say):
 *
 *   startup   es_registry_new(&reg); es_registry_add(reg, "baskets.BasketStarted",
 *             &basketspb__basket_started__descriptor, err); ... one per event and snapshot name;
 *             es_pg_store_new(&store, pool, "baskets", reg, err);
 *             struct ddd_publisher events = ddd_dispatcher_publisher(dispatcher);
 *             es_repo_new(&repo, &baskets_basket_type, store, &events, snapshot_every, err);
 *
 *   command   struct baskets_basket b; baskets_basket_init(&b);       (an empty entity)
 *             es_repo_load(repo, id, &b, err);                        (snapshot + later events)
 *             baskets_basket_add_item(&b, ..., err);                  (validates, then raises:)
 *                 es_aggregate_raise(&b.agg, &b, &baskets_basket_type,
 *                                    "baskets.BasketItemAdded", &payload, err);
 *             es_repo_save(repo, &b, err);           (append, maybe snapshot, publish once)
 *             baskets_basket_release(&b);
 *
 * One order everywhere: the events are stored first (committed), then published. A command that
 * must write more in the same transaction (chapter 09: an outbox row, an inbox row) uses
 * es_repo_save_in() inside a transaction it owns, and publishes after the commit:
 *
 *             pg_begin(tx); es_repo_save_in(repo, tx, &b, &saved, err); ...more writes in tx...;
 *             pg_commit(tx); ddd_publish(&publisher, saved.items, saved.n, err);
 *
 * (pg_with_tx() runs such a body: the saved list lives in its ctx, the publish follows it.) A
 * command that must tell a handler's failure from a failed append (chapter 05's baskets, which
 * then takes a refused checkout back) calls es_repo_save_in(repo, NULL, ...) and publishes itself.
 *
 * Between the commit and the publish the events exist only in this process: a crash there loses
 * the publication, never the events (the dual-write gap; chapter 09's outbox closes it by writing
 * the messages in the same transaction).
 *
 * A new aggregate: init the entity, ddd_aggregate_set_id(&b.agg.base, id, err), raise its first
 * event, save (at version 0). Saving version 0 of a stream that exists is a CONFLICT.
 *
 * Apply-on-raise (a choice; the book applies pending events in AggregateRepository.Save): a
 * domain method validates, then raises; es_aggregate_raise() records the event AND applies it to
 * the entity at once, so the entity always shows its pending changes (a method that raises two
 * events sees the first one's effect) and the same apply function rebuilds state on load. The
 * save therefore only stores and publishes. Rule for apply functions: all-or-nothing (check
 * everything, then mutate); the domain method has already validated, so an apply failure means
 * a programmer error (unknown event name, wrong payload type) -> CORE_ERR_INTERNAL.
 *
 * Payloads: every event has a payload message (possibly a message with no fields); raising with
 * a NULL payload is CORE_ERR_INTERNAL. Every event name and snapshot name a store meets must be
 * registered with its message type; the store keeps payloads as pbjson JSON (jsonb column), so a
 * learner can read a stream in psql:
 *     SELECT stream_version, event_name, event_data FROM baskets.events WHERE stream_id = 'b1';
 * (the book stores bytea made by its serde: a documented departure).
 *
 * Versions: an aggregate's version is the number of its events in the store; its pending
 * version adds the events raised since (not yet saved). Event k of a stream (1-based) is stored
 * with stream_version k and carries metadata "aggregate-version" = "k" (decimal text), next to
 * ddd's "aggregate-name" and "aggregate-id". The store stamps the authoritative value on append
 * and on load.
 *
 * Optimistic concurrency: a save appends at the version the entity was loaded at. When someone
 * else appended in between, NOTHING is stored and the save returns CORE_ERR_CONFLICT (HTTP 409)
 * with a message like
 *     baskets.Basket b1 was changed by someone else (expected version 3, stored version 4)
 * The caller reloads and retries or reports the conflict. All events of one save are stored in
 * ONE transaction with versions expected+1..expected+n, in order, or none of them (the book's
 * Ch09-12 store lost events of multi-event saves: regression-tested here).
 *
 * Snapshots: a snapshot is a cache of an entity's state at a version (a message of its own type,
 * e.g. "baskets.BasketV1"), written after a save whose new version crossed a multiple of
 * snapshot_every (old/N != new/N; default 3, env ES_SNAPSHOT_EVERY). Load = latest snapshot
 * (from_snapshot) + the events after it (apply). A snapshot whose stored name differs from the
 * type's snapshot_name (an older layout) is ignored: the entity is rebuilt from all events.
 *
 * Tables, one pair per schema (copy this into the chapter's migration; <schema> e.g. baskets):
 *
 *     CREATE TABLE <schema>.events (
 *         stream_id      text        NOT NULL,
 *         stream_name    text        NOT NULL,
 *         stream_version int         NOT NULL,
 *         event_id       text        NOT NULL,
 *         event_name     text        NOT NULL,
 *         event_data     jsonb       NOT NULL,
 *         metadata       jsonb       NOT NULL,
 *         occurred_at    timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
 *         PRIMARY KEY (stream_id, stream_name, stream_version)
 *     );
 *     CREATE TABLE <schema>.snapshots (
 *         stream_id      text        NOT NULL,
 *         stream_name    text        NOT NULL,
 *         stream_version int         NOT NULL,
 *         snapshot_name  text        NOT NULL,
 *         snapshot_data  jsonb       NOT NULL,
 *         updated_at     timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
 *         PRIMARY KEY (stream_id, stream_name)
 *     );
 *
 * The PRIMARY KEY of events is the real guard against two writers: each append also checks the
 * stream's current version in the statement that inserts the event, and a unique violation of the
 * key (a writer that committed in between) maps to CORE_ERR_CONFLICT as well.
 *
 * Round trips (the PostgreSQL store): es_repo_load is one statement (the snapshot and the events
 * after it); es_repo_save of one event is one statement and so one commit, also when it writes
 * the snapshot due at that version; several events are one transaction (BEGIN, one INSERT each,
 * COMMIT), followed by the snapshot's own statement when one is due.
 *
 * Stored metadata: every metadata entry of the event, as a JSON object, with the three keys above
 * ("aggregate-name", "aggregate-id", "aggregate-version") set by the store. occurred_at is kept to
 * the microsecond (PostgreSQL's precision; the in-memory store truncates the same way). jsonb keeps
 * numbers as exact decimals, so a double of 1e18 or more in a payload comes back as a long integer
 * literal that pbjson (jansson) refuses on load: keep such values out of events.
 *
 * Errors: CORE_ERR_CONFLICT (someone else saved first / the stream exists), CORE_ERR_NOT_FOUND
 * (no such aggregate), CORE_ERR_INTERNAL (programmer errors: unregistered name, wrong payload
 * type, unknown event in apply, stored data that no longer decodes), CORE_ERR_IO /
 * CORE_ERR_UNAVAILABLE (database), CORE_ERR_NOMEM.
 *
 * Thread-safety: a registry is filled by one thread at startup (es_registry_add), then read
 * concurrently. Stores and repositories are thread-safe (the PostgreSQL store uses a pg_pool; the
 * in-memory store a mutex). An entity (and its es_aggregate) belongs to one thread at a time.
 */
#ifndef ES_H
#define ES_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core.h"
#include "ddd.h"
#include "pg.h"

/* ---- event-sourced aggregates ---------------------------------------------------------------- */

/* The part every event-sourced entity embeds (instead of a bare ddd_aggregate):
 *     struct baskets_basket { struct es_aggregate agg; char customer_id[...]; ... };
 * base.events holds the pending events (raised, not yet saved). version = events stored.
 * Caller storage: ES_AGGREGATE_INIT("baskets.Basket") or es_aggregate_init(); release with
 * es_aggregate_release() (frees pending events). */
struct es_aggregate {
    struct ddd_aggregate base;
    uint64_t version;
};
#define ES_AGGREGATE_INIT(aggregate_name)                                                          \
    {                                                                                              \
        DDD_AGGREGATE_INIT(aggregate_name), 0                                                      \
    }

void es_aggregate_init(struct es_aggregate *agg, const char *name);
void es_aggregate_release(struct es_aggregate *agg);

/* Number of events stored for the aggregate (as of its load or last save). */
uint64_t es_aggregate_version(const struct es_aggregate *agg);

/* version + pending events: the version the aggregate will have after a successful save. */
uint64_t es_aggregate_pending_version(const struct es_aggregate *agg);

/* What a module defines once per event-sourced aggregate (static const). All functions receive
 * the entity (the struct that embeds the es_aggregate at agg_offset). */
struct es_aggregate_type {
    const char *name;  /* stream name = aggregate name, e.g. "baskets.Basket" */
    size_t agg_offset; /* offsetof(struct baskets_basket, agg) */

    /* Mutates the entity from one event (borrowed): switch on ddd_event_name(), cast the
     * payload. All-or-nothing. An unknown event name or payload type -> CORE_ERR_INTERNAL. */
    core_status (*apply)(void *entity, const ddd_event *event, core_err *err);

    /* Snapshot message name, e.g. "baskets.BasketV1"; NULL = this aggregate has no snapshots
     * (then to_snapshot/from_snapshot may be NULL). */
    const char *snapshot_name;
    /* Builds a snapshot message of the entity's state (*out: caller frees with pb_free). */
    core_status (*to_snapshot)(const void *entity, ProtobufCMessage **out, core_err *err);
    /* Sets the entity's state from a snapshot (borrowed). The aggregate's id and version are set
     * by the repository, not by this function. */
    core_status (*from_snapshot)(void *entity, const ProtobufCMessage *snapshot, core_err *err);
};

/* Raises an event: records a new event named event_name with *payload (ownership taken, set to
 * NULL, freed on failure), stamped with metadata aggregate-name, aggregate-id and
 * aggregate-version (= the new pending version), then applies it to the entity with
 * type->apply. agg must be the es_aggregate inside entity at type->agg_offset (asserted).
 * On failure (NULL payload -> CORE_ERR_INTERNAL, apply failed, CORE_ERR_NOMEM) nothing is
 * recorded and, apply being all-or-nothing, the entity is unchanged. */
core_status es_aggregate_raise(struct es_aggregate *agg, void *entity,
                               const struct es_aggregate_type *type, const char *event_name,
                               ProtobufCMessage **payload, core_err *err);

/* ---- registry: names <-> message types <-> JSON --------------------------------------------- */

typedef struct es_registry es_registry; /* opaque */

/* An empty registry. Caller frees with es_registry_free(). */
core_status es_registry_new(es_registry **out, core_err *err);
void es_registry_free(es_registry *reg); /* NULL is a no-op */

/* Registers name (copied; an event or snapshot name) for messages of type desc (static,
 * generated). A name registered twice -> CORE_ERR_CONFLICT "<name> is already registered";
 * an empty name or NULL desc -> CORE_ERR_INVALID. Not thread-safe: call at startup. */
core_status es_registry_add(es_registry *reg, const char *name,
                            const ProtobufCMessageDescriptor *desc, core_err *err);

/* Registers name for desc as es_registry_add() does, and records the channel (copied) that
 * messages of this name travel on: the NATS subject an integration event is published on
 * ("mallbots.stores.events.Store"), or the one a command is sent to. The module that declares a
 * message registers it this way (its events.c), so the registry is the one list of message names,
 * their types and their channels: the AsyncAPI document (asyncapi.h) is made from it. A blank
 * channel -> CORE_ERR_INVALID; otherwise as es_registry_add(). */
core_status es_registry_add_on(es_registry *reg, const char *channel, const char *name,
                               const ProtobufCMessageDescriptor *desc, core_err *err);

/* How many names reg holds, and the i-th (0 <= i < count) in registration order: its name, type
 * and channel (NULL when registered without one: event-sourcing payloads, snapshots). Borrowed,
 * valid while reg lives. i out of range -> false. */
size_t es_registry_count(const es_registry *reg);
bool es_registry_at(const es_registry *reg, size_t i, const char **name,
                    const ProtobufCMessageDescriptor **desc, const char **channel);

/* The message type registered for name, or NULL. */
const ProtobufCMessageDescriptor *es_registry_lookup(const es_registry *reg, const char *name);

/* Encodes msg (borrowed), which must be of the type registered for name, as compact pbjson JSON
 * (*json_out: NUL-terminated, caller frees with core_free). Unregistered name -> CORE_ERR_INTERNAL
 * "<name> is not registered"; a message of another type (or NULL) -> CORE_ERR_INTERNAL naming both
 * types; a message pbjson cannot encode (invalid UTF-8) -> CORE_ERR_INVALID. */
core_status es_registry_encode(const es_registry *reg, const char *name,
                               const ProtobufCMessage *msg, char **json_out, core_err *err);

/* Decodes len bytes of JSON into a new message of the type registered for name (*out: caller
 * frees with pb_free). Unregistered name -> CORE_ERR_INTERNAL; JSON that does not fit the type
 * -> CORE_ERR_INVALID with pbjson's message. */
core_status es_registry_decode(const es_registry *reg, const char *name, const char *json,
                               size_t len, ProtobufCMessage **out, core_err *err);

/* ---- aggregate store ----------------------------------------------------------------------- */

typedef struct es_store es_store; /* opaque; two backends: PostgreSQL and in-memory */

/* A store over the tables <schema>.events and <schema>.snapshots (created by the chapter's
 * migration, see the top). pool and reg are borrowed and must outlive the store. schema must
 * match [a-z_][a-z0-9_]* (at most 63 bytes), else CORE_ERR_INVALID; it is quoted into the SQL,
 * values always travel as parameters. No database access happens here. Caller frees with
 * es_store_free(). */
core_status es_pg_store_new(es_store **out, pg_pool *pool, const char *schema,
                            const es_registry *reg, core_err *err);

/* A store that keeps everything in process memory (unit tests). It encodes and decodes payloads
 * through reg exactly like the PostgreSQL store, so unregistered names fail the same way. It
 * cannot join a database transaction: the *_in calls accept only tx NULL. reg is borrowed.
 * Caller frees with es_store_free(). */
core_status es_mem_store_new(es_store **out, const es_registry *reg, core_err *err);

/* Frees the store (the in-memory one with its contents). NULL is a no-op. No call may be
 * running. */
void es_store_free(es_store *store);

/* Appends n events (borrowed; n 0 is a no-op) to the stream (stream_name, stream_id) if the stream
 * is at expected_version (0 = a new stream): event i gets version expected_version + 1 + i. All or
 * nothing, in one transaction. Each payload is encoded through the registry by event name.
 * Errors: CORE_ERR_CONFLICT when the stream is at another version ("<stream_name> <id> was
 * changed by someone else (expected version E, stored version S)", or "... already exists ..."
 * for E = 0); CORE_ERR_INTERNAL for an unregistered event or a payload of the wrong type;
 * CORE_ERR_TOO_LARGE beyond version 2^31-1, or for an event whose metadata together with the
 * three keys the store sets would have more than DDD_METADATA_MAX entries (load could not
 * rebuild it); database statuses. */
core_status es_store_append(es_store *store, const char *stream_name, const char *stream_id,
                            uint64_t expected_version, ddd_event *const *events, size_t n,
                            core_err *err);

/* As es_store_append, inside a transaction the caller owns: tx (borrowed) is a connection between
 * pg_begin() and pg_commit() (e.g. the one pg_with_tx() passes to its body), and the events are
 * stored when the caller commits, together with whatever else it wrote in tx, or not at all.
 * tx NULL is es_store_append (the store's own transaction; the only choice of the in-memory
 * store). On failure nothing of this append is left in tx and tx stays usable: after a CONFLICT
 * the caller may go on, reload or roll back (after a database failure, roll back). Writers of the
 * same stream wait for tx to end (the primary key), so keep the transaction short and make no
 * remote calls inside it.
 * Errors: es_store_append's; a store whose backend cannot join a caller's transaction (the
 * in-memory store, or a backend without append_in) -> CORE_ERR_INTERNAL "the <kind> store cannot
 * append inside a caller's transaction", nothing stored. */
core_status es_store_append_in(es_store *store, pg_conn *tx, const char *stream_name,
                               const char *stream_id, uint64_t expected_version,
                               ddd_event *const *events, size_t n, core_err *err);

/* Loads the events of the stream with version > after_version, in version order, into *out
 * (must be empty; on failure it is left empty). Each event is rebuilt with its stored id, name,
 * payload, metadata and occurred_at; "aggregate-version" holds its version. A stream with no such
 * events gives CORE_OK and an empty list (an unknown stream too: NOT_FOUND is the repository's
 * call). Stored data that no longer decodes or a gap in the versions -> CORE_ERR_INTERNAL. */
core_status es_store_load(es_store *store, const char *stream_name, const char *stream_id,
                          uint64_t after_version, struct ddd_event_list *out, core_err *err);

/* Saves (upserts) the snapshot of a stream: message snap (borrowed) registered as snapshot_name,
 * taken at version. A stored snapshot with a higher version is kept (never goes backwards).
 * Errors as for append's encoding, plus database statuses. */
core_status es_store_save_snapshot(es_store *store, const char *stream_name, const char *stream_id,
                                   uint64_t version, const char *snapshot_name,
                                   const ProtobufCMessage *snap, core_err *err);

/* A loaded snapshot. Caller storage: ES_SNAPSHOT_INIT; es_snapshot_release() frees data. */
struct es_snapshot {
    uint64_t version;            /* stream version the snapshot was taken at */
    char name[DDD_NAME_MAX + 1]; /* snapshot name, e.g. "baskets.BasketV1" */
    ProtobufCMessage *data;      /* owned; of the type registered for name */
};
#define ES_SNAPSHOT_INIT                                                                           \
    {                                                                                              \
        0, {0}, NULL                                                                               \
    }
void es_snapshot_release(struct es_snapshot *snap);

/* Loads the stream's snapshot into *out (which must be empty: ES_SNAPSHOT_INIT). None ->
 * CORE_ERR_NOT_FOUND. A stored name that is not registered or data that no longer decodes ->
 * CORE_ERR_INTERNAL. On failure *out stays empty. */
core_status es_store_load_snapshot(es_store *store, const char *stream_name, const char *stream_id,
                                   struct es_snapshot *out, core_err *err);

/* ---- store backends (the ops struct behind es_store) ----------------------------------------
 * A backend sees events as records whose payload and metadata are already JSON text. The two
 * built-in backends use this; a test may plug in its own (e.g. one that fails on purpose).
 *
 * struct es_store_ops grows by the rule of ddd.h ("Ops structs that grow"): members are never
 * removed or changed, new ones go at the end, NULL means not provided and the core checks before
 * it calls one. A backend written before append_in and save_snapshot_in existed (they came with
 * the seams for chapters 06-09) still compiles and works unchanged for everything but a
 * caller-owned transaction. */

struct es_record {
    uint64_t version;
    const char *event_id;
    const char *event_name;
    const char *data;            /* JSON object (the payload) */
    const char *metadata;        /* JSON object of string values */
    struct timespec occurred_at; /* microsecond precision */
};

struct es_snapshot_record {
    uint64_t version;
    const char *name;
    const char *data; /* JSON object */
};

/* Called by a backend's load for each record, in version order (record borrowed for the call).
 * A non-OK return stops the load, which returns that status. */
typedef core_status (*es_record_fn)(void *ctx, const struct es_record *rec, core_err *err);
typedef core_status (*es_snapshot_record_fn)(void *ctx, const struct es_snapshot_record *rec,
                                             core_err *err);

struct es_store_ops {
    const char *kind; /* "postgres", "memory", ... for messages */
    /* Stores recs[0..n) (versions expected+1..expected+n) atomically, or nothing and
     * CORE_ERR_CONFLICT (message as for es_store_append) when the stream is not at expected. */
    core_status (*append)(void *impl, const char *stream_name, const char *stream_id,
                          uint64_t expected_version, const struct es_record *recs, size_t n,
                          core_err *err);
    /* Calls fn for each record with version > after_version, in version order. */
    core_status (*load)(void *impl, const char *stream_name, const char *stream_id,
                        uint64_t after_version, es_record_fn fn, void *ctx, core_err *err);
    /* Upserts the snapshot unless a stored one has a higher version. */
    core_status (*save_snapshot)(void *impl, const char *stream_name, const char *stream_id,
                                 const struct es_snapshot_record *rec, core_err *err);
    /* Calls fn once with the stored snapshot, or returns CORE_ERR_NOT_FOUND. */
    core_status (*load_snapshot)(void *impl, const char *stream_name, const char *stream_id,
                                 es_snapshot_record_fn fn, void *ctx, core_err *err);
    void (*free)(void *impl); /* frees impl */

    /* Added for transactions the caller owns (es_store_append_in, es_repo_save_in). NULL = not
     * provided: the store then works only with tx NULL (see es_store_append_in). */

    /* As append, inside the caller's open transaction tx (borrowed): nothing is committed here.
     * On failure nothing of this append is left in tx, which stays usable (unless the connection
     * itself failed: then the caller's commit fails too). */
    core_status (*append_in)(void *impl, pg_conn *tx, const char *stream_name,
                             const char *stream_id, uint64_t expected_version,
                             const struct es_record *recs, size_t n, core_err *err);
    /* As save_snapshot, inside tx; on failure nothing of it is left in tx. */
    core_status (*save_snapshot_in)(void *impl, pg_conn *tx, const char *stream_name,
                                    const char *stream_id, const struct es_snapshot_record *rec,
                                    core_err *err);

    /* Added so that es_repo_load costs one round trip. NULL = not provided: the repository then
     * calls load_snapshot and load, one after the other. */

    /* Calls snap_fn once with the stored snapshot, if there is one (whatever its name), then fn
     * for each event in version order: the events after the snapshot's version when the
     * snapshot is named snapshot_name, else every event of the stream. Both callbacks get ctx;
     * a non-OK return stops the load, which returns that status. The snapshot and the events are
     * read at one moment (the PostgreSQL store: one statement), so no append falls between. */
    core_status (*load_stream)(void *impl, const char *stream_name, const char *stream_id,
                               const char *snapshot_name, es_snapshot_record_fn snap_fn,
                               es_record_fn fn, void *ctx, core_err *err);

    /* Added so that a save that writes a snapshot commits once. NULL = not provided: the
     * repository appends, then saves the snapshot (two transactions). */

    /* As append, and stores the snapshot snap (taken at the version the append reaches; the rule
     * of save_snapshot) with the events, in the same transaction where the backend can (the
     * PostgreSQL store: one statement for one event). Returns the append's status. When the
     * events are stored and the snapshot is not, snap_err is filled (a snapshot is only a cache:
     * a failed snapshot never costs the events). */
    core_status (*append_snapshot)(void *impl, const char *stream_name, const char *stream_id,
                                   uint64_t expected_version, const struct es_record *recs,
                                   size_t n, const struct es_snapshot_record *snap,
                                   core_err *snap_err, core_err *err);

    /* Added so that a handler loads inside the transaction it saves in (es_repo_load_in). NULL =
     * not provided: es_repo_load_in then works only with tx NULL. As load_stream, on the caller's
     * open transaction tx (borrowed); snapshot_name may be NULL (a type without snapshots: every
     * event, and snap_fn still sees a stored snapshot, to ignore). */
    core_status (*load_stream_in)(void *impl, pg_conn *tx, const char *stream_name,
                                  const char *stream_id, const char *snapshot_name,
                                  es_snapshot_record_fn snap_fn, es_record_fn fn, void *ctx,
                                  core_err *err);
};

/* For backends: fills err with the standard conflict message and returns CORE_ERR_CONFLICT:
 * "<stream_name> <id> was changed by someone else (expected version E, stored version S)", or
 * "<stream_name> <id> already exists (expected version 0, stored version S)" when E is 0. */
core_status es_store_conflict(core_err *err, const char *stream_name, const char *stream_id,
                              uint64_t expected_version, uint64_t stored_version);

/* A store over a backend: ops borrowed (static), impl owned (freed with ops->free by
 * es_store_free, also when this call fails), reg borrowed. Caller frees with es_store_free(). */
core_status es_store_new(es_store **out, const struct es_store_ops *ops, void *impl,
                         const es_registry *reg, core_err *err);

/* ---- aggregate repository ------------------------------------------------------------------- */

typedef struct es_repo es_repo; /* opaque */

#define ES_SNAPSHOT_EVERY_DEFAULT 3

/* Reads ES_SNAPSHOT_EVERY from the environment into *out: unset or empty ->
 * ES_SNAPSHOT_EVERY_DEFAULT; a decimal integer 1..1000000 -> that value; anything else ->
 * CORE_ERR_INVALID 'ES_SNAPSHOT_EVERY: "x" is not a whole number from 1 to 1000000' (a bad setting
 * stops the start-up, as cfg_load() does; *out untouched). Call from main() before threads. */
core_status es_snapshot_every_from_env(int *out, core_err *err);

/* A repository for aggregates of type (borrowed, static) over store (borrowed). publisher (copied;
 * its impl borrowed; NULL = none) receives the events of every successful es_repo_save (never
 * those of es_repo_save_in). snapshot_every: 0 =
 * ES_SNAPSHOT_EVERY_DEFAULT, < 0 -> CORE_ERR_INVALID; ignored when type->snapshot_name is NULL.
 * Caller frees with es_repo_free(). */
core_status es_repo_new(es_repo **out, const struct es_aggregate_type *type, es_store *store,
                        const struct ddd_publisher *publisher, int snapshot_every, core_err *err);
void es_repo_free(es_repo *repo); /* NULL is a no-op */

/* Loads aggregate id into entity (caller-initialised and empty: no id, version 0, no pending
 * events): sets the id, applies the latest snapshot (if any, and named type->snapshot_name) with
 * from_snapshot, then the later events with apply, and sets the version. The loaded events are
 * not pending. With a backend that has load_stream (the PostgreSQL store) snapshot and events are
 * read together, in one round trip; else with load_snapshot, then load. An id with neither snapshot
 * nor events -> CORE_ERR_NOT_FOUND
 * "<stream name> <id> not found"; an id longer than DDD_ID_MAX -> CORE_ERR_INVALID. On failure
 * the entity is in an unspecified state: release it. */
core_status es_repo_load(es_repo *repo, const char *id, void *entity, core_err *err);

/* As es_repo_load, inside the caller's open transaction tx (borrowed; NULL = es_repo_load): the
 * load sees what tx wrote before it, and a message handler or a command that saves in tx reads
 * and writes on one connection, in one transaction (no second pooled connection, no commit of its
 * own). One round trip. A store whose backend has no load_stream_in (the memory one) and tx not
 * NULL -> CORE_ERR_INTERNAL. */
core_status es_repo_load_in(es_repo *repo, pg_conn *tx, const char *id, void *entity,
                            core_err *err);

/* Saves the entity's pending events: appends them at its version (all or nothing, committed).
 * Then: version += n; a snapshot is written when the version crossed a multiple of
 * snapshot_every, with the events when the backend has append_snapshot (the PostgreSQL store),
 * else after them (a snapshot that fails is logged, not returned: the events are stored and the
 * snapshot is only a cache); the events are taken out of the aggregate and published through the
 * repository's publisher exactly once, then freed. No pending events -> CORE_OK, nothing happens.
 * A blank id -> CORE_ERR_INVALID. It is es_repo_save_in(repo, NULL, ...) followed by ddd_publish.
 * Errors: the append's (CORE_ERR_CONFLICT etc.): nothing stored, nothing published, the events
 * stay pending (release the entity, reload, retry the command). A handler's failure is returned
 * as the publisher reports it, but the events ARE stored and no longer pending: do not save
 * again (a command that must react to a handler's failure uses es_repo_save_in and publishes
 * itself). */
core_status es_repo_save(es_repo *repo, void *entity, core_err *err);

/* Saves the entity's pending events inside the caller's transaction tx (see es_store_append_in;
 * NULL = the store's own transaction, committed on return) and hands them over UNPUBLISHED: they
 * are appended at the entity's version in tx, a snapshot is written in tx when one is due (a
 * backend without save_snapshot_in skips it, logged: a snapshot is only a cache), the version
 * becomes version + n, and the events move from the aggregate to the end of *saved (caller
 * storage, DDD_EVENT_LIST_INIT or holding earlier events; the caller owns them and releases them
 * with ddd_event_list_release). Nothing is published, whatever the repository's publisher: publish
 * *saved once tx is committed, or give them to an outbox inside tx (chapter 09). If the caller
 * rolls tx back instead, nothing was stored: drop *saved unpublished and release the entity
 * (its version no longer matches the store). No pending events -> CORE_OK, *saved unchanged.
 * Errors: es_store_append_in's (nothing of the append left in tx, the events stay pending, *saved
 * unchanged); CORE_ERR_NOMEM; a blank id -> CORE_ERR_INVALID. */
core_status es_repo_save_in(es_repo *repo, pg_conn *tx, void *entity, struct ddd_event_list *saved,
                            core_err *err);

#endif /* ES_H */
