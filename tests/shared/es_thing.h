/* es_thing.h -- the test aggregate of the event-sourcing tests (test_es.c with the in-memory
 * store, it_es.c with PostgreSQL): "test.Thing", with a name, a counter and the number of renames
 * and of notes. Its events and its snapshot are the messages of es_test.proto (package estest):
 *
 *   estest.ThingCreated {name}   sets the name              (thing_create)
 *   estest.ThingCounted {by}     adds by to the counter     (thing_count)
 *   estest.ThingRenamed {name}   sets the name, renames++   (thing_rename)
 *   estest.ThingNoted   {}       notes++                    (thing_note)
 *   estest.ThingV1               the snapshot: all four fields
 *
 * Layer: core test support, linked into the core tests only (not into chapter tests: it needs
 * the estest descriptors, which only the core tests are built with; see mk/core.mk).
 *
 * Thread-safety: the functions may run in several threads at once on different things; the two
 * counters are atomic.
 */
#ifndef ES_THING_H
#define ES_THING_H

#include <stdatomic.h>

#include "core.h"
#include "ddd.h"
#include "es.h"

/* A thing. Caller storage: thing_init() before use, thing_release() after. */
struct thing {
    int padding; /* so that the aggregate is not at offset 0 (agg_offset is really used) */
    struct es_aggregate agg;
    char name[64];
    int count;
    int renames;
    int notes;
};

/* The aggregate type with snapshots "estest.ThingV1". */
extern const struct es_aggregate_type thing_type;
/* The same aggregate without snapshots: loads from events only. */
extern const struct es_aggregate_type thing_type_no_snapshots;
/* The same aggregate expecting a newer snapshot layout, "estest.ThingV2": stored ThingV1
 * snapshots are ignored (thing_register() maps ThingV2 to the ThingV1 message). */
extern const struct es_aggregate_type thing_type_v2;

/* How often the apply function succeeded and the snapshot was restored, over all things since
 * the test last set them (to 0). For checking what a load replayed. */
extern atomic_int thing_events_applied;
extern atomic_int thing_snapshots_applied;

/* Empties t (all zero) and makes it a "test.Thing" without id or events. */
void thing_init(struct thing *t);

/* Releases what t's aggregate holds (pending events). */
void thing_release(struct thing *t);

/* The types' apply function (entity: a struct thing): applies the four events above, each only
 * with its own payload type; any other event is CORE_ERR_INTERNAL "test.Thing: unexpected event
 * <name>" and changes nothing. */
core_status thing_apply(void *entity, const ddd_event *ev, core_err *err);

/* Domain methods: each validates, then raises its event on t (es_aggregate_raise() with
 * thing_type, which records and applies it). thing_create sets the id (blank name ->
 * CORE_ERR_INVALID), thing_count refuses by == 0 (CORE_ERR_INVALID). name is copied. */
core_status thing_create(struct thing *t, const char *id, const char *name, core_err *err);
core_status thing_count(struct thing *t, int by, core_err *err);
core_status thing_rename(struct thing *t, const char *name, core_err *err);
core_status thing_note(struct thing *t, core_err *err);

/* Registers the four events, the snapshot "estest.ThingV1" and the later layout
 * "estest.ThingV2" (with the ThingV1 message, so that its stored snapshots would decode). */
core_status thing_register(es_registry *reg, core_err *err);

/* cmocka assertions: a and b have the same id, version and state. */
void thing_assert_same(const struct thing *a, const struct thing *b);

#endif /* ES_THING_H */
