/* ddd.h -- domain events: the event, the aggregate that records them, the dispatcher that
 * delivers them to handlers inside the process.
 *
 * Layer: core (the C counterpart of the book's internal/ddd package, used from chapter 04 on).
 *
 * The flow a module follows:
 *   1. a domain method changes an entity and records what happened:
 *          ddd_aggregate_add_event(&basket->agg, "baskets.BasketCheckedOut", &payload, err);
 *   2. the application saves the entity; ONLY after a successful save it takes the recorded events
 *      out of the aggregate and publishes them through its publisher (one order everywhere: state
 *      stored first, then events published):
 *          ddd_aggregate_take_events(&basket->agg, &events);
 *          st = ddd_publish(&app->publisher, events.items, events.n, err);
 *          ddd_event_list_release(&events);
 *   3. the publisher is the module's dispatcher (ddd_dispatcher_publisher): it calls every handler
 *      subscribed to each event's name, in registration order. A handler's failure stops the
 *      delivery and comes back to the publisher as its status and message (wrapped with the
 *      handler's and the event's names): nothing is dropped silently.
 *
 * An event's payload is a protobuf message (pb.h heap tree) owned by the event: it carries the
 * data the handlers need, and the same message can later be stored (event sourcing, chapter 05)
 * or sent to other processes (chapter 06) without a second representation.
 *
 * Metadata: string key/value pairs. ddd_aggregate_add_event() stamps "aggregate-name" and
 * "aggregate-id".
 *
 * Thread-safety: an event and an aggregate belong to one thread at a time. A dispatcher is set up
 * (subscribe) by one thread before use; publishing is then thread-safe (handlers may run
 * concurrently on different threads and must be thread-safe themselves).
 */
#ifndef DDD_H
#define DDD_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <time.h>

#include "core.h"

#define DDD_ID_MAX 64      /* longest entity id, in bytes */
#define DDD_NAME_MAX 96    /* longest event or aggregate name */
#define DDD_METADATA_MAX 8 /* metadata entries per event */

/* ---- events -----------------------------------------------------------------------------------
 */

typedef struct ddd_event ddd_event; /* opaque */

/* A new event named `name` (copied) with a fresh UUID and the current time. Takes ownership of
 * *payload (set to NULL), which may be NULL for an event without data. Caller frees with
 * ddd_event_free(). On failure *payload is freed too. */
core_status ddd_event_new(ddd_event **out, const char *name, ProtobufCMessage **payload,
                          core_err *err);

/* Frees the event and its payload. NULL is a no-op. */
void ddd_event_free(ddd_event *event);

const char *ddd_event_id(const ddd_event *event);   /* borrowed, valid while the event lives */
const char *ddd_event_name(const ddd_event *event); /* borrowed */
struct timespec ddd_event_occurred_at(const ddd_event *event);

/* The payload (borrowed; NULL if none). Handlers cast it to the message type the event's name
 * promises, e.g. (const Basketspb__BasketCheckedOut *)ddd_event_payload(ev); the descriptor can be
 * checked with ddd_event_payload_is(). */
const ProtobufCMessage *ddd_event_payload(const ddd_event *event);

/* true when the payload is a message of type desc. */
bool ddd_event_payload_is(const ddd_event *event, const ProtobufCMessageDescriptor *desc);

/* Sets (or replaces) metadata key to value (both copied). More than DDD_METADATA_MAX keys ->
 * CORE_ERR_TOO_LARGE. */
core_status ddd_event_set_metadata(ddd_event *event, const char *key, const char *value,
                                   core_err *err);

/* The value of a metadata key (borrowed), or NULL. */
const char *ddd_event_metadata(const ddd_event *event, const char *key);

/* Number of metadata entries, and entry i (0 <= i < count) as borrowed key and value; for
 * stores and transports that must carry all of an event's metadata. */
size_t ddd_event_metadata_count(const ddd_event *event);
void ddd_event_metadata_at(const ddd_event *event, size_t i, const char **key, const char **value);

/* Overrides id and time (used when an event is rebuilt from storage). id is copied. */
core_status ddd_event_restore(ddd_event *event, const char *id, struct timespec occurred_at,
                              core_err *err);

/* A list of events that owns them. DDD_EVENT_LIST_INIT or zero-initialise. */
struct ddd_event_list {
    ddd_event **items;
    size_t n, cap;
};
#define DDD_EVENT_LIST_INIT                                                                        \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Appends an event; takes ownership of *event (set to NULL), also on failure (then freed). */
core_status ddd_event_list_push(struct ddd_event_list *list, ddd_event **event, core_err *err);

/* Frees every event and the array; the list is empty (and reusable) afterwards. */
void ddd_event_list_release(struct ddd_event_list *list);

/* ---- aggregates -------------------------------------------------------------------------------
 */

/* The part every aggregate embeds: identity plus the events recorded since the last hand-over.
 * Caller storage: DDD_AGGREGATE_INIT("baskets.Basket") or ddd_aggregate_init(); release with
 * ddd_aggregate_release(), which frees events never handed over. */
struct ddd_aggregate {
    char id[DDD_ID_MAX + 1];
    const char *name;             /* static string, e.g. "baskets.Basket" */
    struct ddd_event_list events; /* recorded, not yet handed over */
};
#define DDD_AGGREGATE_INIT(aggregate_name)                                                         \
    {                                                                                              \
        {0}, aggregate_name, DDD_EVENT_LIST_INIT                                                   \
    }

void ddd_aggregate_init(struct ddd_aggregate *agg, const char *name);
void ddd_aggregate_release(struct ddd_aggregate *agg);

/* Sets the aggregate's id (copied). Longer than DDD_ID_MAX -> CORE_ERR_INVALID. */
core_status ddd_aggregate_set_id(struct ddd_aggregate *agg, const char *id, core_err *err);

/* Records a new event named event_name with *payload (ownership taken, set to NULL, freed on
 * failure), stamped with metadata aggregate-name and aggregate-id. */
core_status ddd_aggregate_add_event(struct ddd_aggregate *agg, const char *event_name,
                                    ProtobufCMessage **payload, core_err *err);

/* Hands the recorded events over: appends them to *out (which takes ownership) and leaves the
 * aggregate with none. Call it only after the aggregate was saved. */
core_status ddd_aggregate_take_events(struct ddd_aggregate *agg, struct ddd_event_list *out,
                                      core_err *err);

/* Forgets recorded events (e.g. after a failed save, so a retry does not publish them twice). */
void ddd_aggregate_clear_events(struct ddd_aggregate *agg);

/* ---- dispatcher -------------------------------------------------------------------------------
 */

typedef struct ddd_dispatcher ddd_dispatcher; /* opaque */

/* A handler: reacts to one event. The event is borrowed for the duration of the call. Returns
 * CORE_OK or a failure status with err filled. */
typedef core_status (*ddd_handler_fn)(void *ud, const ddd_event *event, core_err *err);

core_status ddd_dispatcher_new(ddd_dispatcher **out, core_err *err);
void ddd_dispatcher_free(ddd_dispatcher *d);

/* Subscribes fn (with its user data, borrowed) to events named event_name (copied). `label` is a
 * static name for logs and error messages, e.g. "ordering.NotificationHandlers". */
core_status ddd_dispatcher_subscribe(ddd_dispatcher *d, const char *event_name, const char *label,
                                     ddd_handler_fn fn, void *ud, core_err *err);

/* Delivers each event, in order, to the handlers subscribed to its name, in registration order.
 * An event nobody subscribed to is fine (CORE_OK). The first handler failure stops the delivery:
 * its status is returned and err reads "<label> on <event name>: <handler's message>".
 * Each handler's call is enclosed in the enter and leave records of log.h (debug level; the book's
 * logging decorator of the event handlers, here once for all of them), named by the label and the
 * event; the leave record has the handler's own message:
 *     DEBUG ordering: --> Ordering.NotificationHandlers.On(ordering.OrderCreated) event_id=<id>
 *     DEBUG ordering: <-- Ordering.NotificationHandlers.On(ordering.OrderCreated) took=1.208ms */
core_status ddd_dispatcher_publish(ddd_dispatcher *d, ddd_event *const *events, size_t n,
                                   core_err *err);

/* Number of handlers subscribed to event_name (for tests and start-up checks). */
size_t ddd_dispatcher_count(const ddd_dispatcher *d, const char *event_name);

/* ---- publishers: one call, whatever delivers the events ---------------------------------------
 *
 * The in-process dispatcher (chapter 04 on), a message stream such as JetStream (chapter 06) and
 * a transactional outbox (chapter 09) all stand behind the same call:
 *
 *     st = ddd_publish(&app->publisher, events.items, events.n, err);
 *
 * A struct ddd_publisher is a small value: a static ops table and the instance it works on.
 * Applications and es_repo (es.h) keep a copy and never know which kind they hold. The dispatcher
 * makes one with ddd_dispatcher_publisher(). An implementation that needs a scope makes its
 * publisher for that scope: an outbox publisher is made for one open transaction (its impl holds
 * the caller's pg_conn) and lives as long as that transaction.
 *
 * Ops structs that grow (the rule for this one, for es_store_ops in es.h and for the ops structs
 * later chapters add to the core; docs/architecture.md explains it):
 *   - a member is never removed, reordered, renamed or given another meaning or signature;
 *   - a new member is added at the END, and NULL means "not provided": the core checks for it and
 *     falls back to what the older members can do, or, where there is no honest fallback,
 *     refuses with CORE_ERR_INTERNAL naming the ops' kind and the missing operation;
 *   - implementations fill their ops with designated initialisers in static storage
 *     (`static const struct ddd_publisher_ops my_ops = {.kind = "mine", .publish = my_publish};`),
 *     so a member added after they were written is NULL, and they compile unchanged.
 * The core is built from source together with every chapter, so an older implementation always
 * has the current struct layout, with its unknown members NULL; no version field is needed (it
 * would be if ops came from separately compiled plug-ins, as SQLite's VFS do: see "iVersion").
 *
 * Thread-safety: ddd_publish() is as thread-safe as the implementation (the dispatcher's is, after
 * set-up). A struct ddd_publisher may be copied freely; its impl is borrowed. */

struct ddd_publisher_ops {
    const char *kind; /* "dispatcher", "jetstream", "outbox", ... for messages */
    /* Delivers events[0..n) (borrowed for the call), in order; returns the first failure with
     * err filled. Never called with n == 0. */
    core_status (*publish)(void *impl, ddd_event *const *events, size_t n, core_err *err);
};

struct ddd_publisher {
    const struct ddd_publisher_ops *ops; /* static; NULL = no publisher set */
    void *impl;                          /* borrowed; must outlive every call */
};

/* Publishes events[0..n) (borrowed) through p (borrowed). n 0 -> CORE_OK without a call. NULL p,
 * a publisher without ops, or ops without publish -> CORE_ERR_INTERNAL ("no publisher is set",
 * "the <kind> publisher cannot publish"): a wiring mistake. Otherwise the implementation's
 * status and message. */
core_status ddd_publish(const struct ddd_publisher *p, ddd_event *const *events, size_t n,
                        core_err *err);

/* The dispatcher d (borrowed; must outlive every use) as a publisher of kind "dispatcher":
 * ddd_publish() on it is ddd_dispatcher_publish(d, ...). */
struct ddd_publisher ddd_dispatcher_publisher(ddd_dispatcher *d);

#endif /* DDD_H */
