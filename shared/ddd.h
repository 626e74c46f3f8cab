/* ddd.h -- domain events: the event, the aggregate that records them, the dispatcher that
 * delivers them to handlers inside the process.
 *
 * Layer: core (the C counterpart of the book's internal/ddd package, used from chapter 04 on).
 *
 * The flow a module follows:
 *   1. a domain method changes an entity and records what happened:
 *          ddd_aggregate_add_event(&basket->agg, "baskets.BasketCheckedOut", &payload, err);
 *   2. the application saves the entity; ONLY after a successful save it takes the recorded events
 *      out of the aggregate and publishes them:
 *          ddd_aggregate_take_events(&basket->agg, &events);
 *          st = ddd_dispatcher_publish(dispatcher, events.items, events.n, err);
 *          ddd_event_list_release(&events);
 *   3. the dispatcher calls every handler subscribed to each event's name, in registration order.
 *      A handler's failure stops the delivery and comes back to the publisher as its status and
 *      message (wrapped with the handler's and the event's names): nothing is dropped silently.
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

#define DDD_ID_MAX 64       /* longest entity id, in bytes */
#define DDD_NAME_MAX 96     /* longest event or aggregate name */
#define DDD_METADATA_MAX 8  /* metadata entries per event */

/* ---- events ----------------------------------------------------------------------------------- */

typedef struct ddd_event ddd_event; /* opaque */

/* A new event named `name` (copied) with a fresh UUID and the current time. Takes ownership of
 * *payload (set to NULL), which may be NULL for an event without data. Caller frees with
 * ddd_event_free(). On failure *payload is freed too. */
core_status ddd_event_new(ddd_event **out, const char *name, ProtobufCMessage **payload, core_err *err);

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
core_status ddd_event_set_metadata(ddd_event *event, const char *key, const char *value, core_err *err);

/* The value of a metadata key (borrowed), or NULL. */
const char *ddd_event_metadata(const ddd_event *event, const char *key);

/* Number of metadata entries, and entry i (0 <= i < count) as borrowed key and value; for
 * stores and transports that must carry all of an event's metadata. */
size_t ddd_event_metadata_count(const ddd_event *event);
void ddd_event_metadata_at(const ddd_event *event, size_t i, const char **key, const char **value);

/* Overrides id and time (used when an event is rebuilt from storage). id is copied. */
core_status ddd_event_restore(ddd_event *event, const char *id, struct timespec occurred_at, core_err *err);

/* A list of events that owns them. DDD_EVENT_LIST_INIT or zero-initialise. */
struct ddd_event_list {
    ddd_event **items;
    size_t n, cap;
};
#define DDD_EVENT_LIST_INIT {NULL, 0, 0}

/* Appends an event; takes ownership of *event (set to NULL), also on failure (then freed). */
core_status ddd_event_list_push(struct ddd_event_list *list, ddd_event **event, core_err *err);

/* Frees every event and the array; the list is empty (and reusable) afterwards. */
void ddd_event_list_release(struct ddd_event_list *list);

/* ---- aggregates ------------------------------------------------------------------------------- */

/* The part every aggregate embeds: identity plus the events recorded since the last hand-over.
 * Caller storage: DDD_AGGREGATE_INIT("baskets.Basket") or ddd_aggregate_init(); release with
 * ddd_aggregate_release(), which frees events never handed over. */
struct ddd_aggregate {
    char id[DDD_ID_MAX + 1];
    const char *name;              /* static string, e.g. "baskets.Basket" */
    struct ddd_event_list events;  /* recorded, not yet handed over */
};
#define DDD_AGGREGATE_INIT(aggregate_name) {{0}, aggregate_name, DDD_EVENT_LIST_INIT}

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
core_status ddd_aggregate_take_events(struct ddd_aggregate *agg, struct ddd_event_list *out, core_err *err);

/* Forgets recorded events (e.g. after a failed save, so a retry does not publish them twice). */
void ddd_aggregate_clear_events(struct ddd_aggregate *agg);

/* ---- dispatcher ------------------------------------------------------------------------------- */

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
 * its status is returned and err reads "<label> on <event name>: <handler's message>". */
core_status ddd_dispatcher_publish(ddd_dispatcher *d, ddd_event *const *events, size_t n, core_err *err);

/* Number of handlers subscribed to event_name (for tests and start-up checks). */
size_t ddd_dispatcher_count(const ddd_dispatcher *d, const char *event_name);

#endif /* DDD_H */
