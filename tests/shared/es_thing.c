/* es_thing.c -- see es_thing.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "es_test.pb-c.h"
#include "es_thing.h"
#include "pb.h"

atomic_int thing_events_applied;
atomic_int thing_snapshots_applied;

void thing_init(struct thing *t)
{
    memset(t, 0, sizeof *t);
    es_aggregate_init(&t->agg, "test.Thing");
}

void thing_release(struct thing *t)
{
    es_aggregate_release(&t->agg);
}

core_status thing_apply(void *entity, const ddd_event *ev, core_err *err)
{
    struct thing *t = entity;
    const char *name = ddd_event_name(ev);
    const ProtobufCMessage *p = ddd_event_payload(ev);
    if (strcmp(name, "estest.ThingCreated") == 0 &&
        ddd_event_payload_is(ev, &estest__thing_created__descriptor)) {
        core_strlcpy(t->name, ((const Estest__ThingCreated *)p)->name, sizeof t->name);
    } else if (strcmp(name, "estest.ThingRenamed") == 0 &&
               ddd_event_payload_is(ev, &estest__thing_renamed__descriptor)) {
        core_strlcpy(t->name, ((const Estest__ThingRenamed *)p)->name, sizeof t->name);
        t->renames++;
    } else if (strcmp(name, "estest.ThingCounted") == 0 &&
               ddd_event_payload_is(ev, &estest__thing_counted__descriptor)) {
        t->count += ((const Estest__ThingCounted *)p)->by;
    } else if (strcmp(name, "estest.ThingNoted") == 0 &&
               ddd_event_payload_is(ev, &estest__thing_noted__descriptor)) {
        t->notes++;
    } else {
        return core_err_set(err, CORE_ERR_INTERNAL, "test.Thing: unexpected event %s", name);
    }
    thing_events_applied++;
    return CORE_OK;
}

static core_status thing_to_snapshot(const void *entity, ProtobufCMessage **out, core_err *err)
{
    const struct thing *t = entity;
    Estest__ThingV1 *s = pb_new_of(estest__thing_v1);
    if (!s || pb_set_string(&s->name, t->name, err)) {
        pb_free(s ? &s->base : NULL);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    }
    s->count = t->count;
    s->renames = t->renames;
    s->notes = t->notes;
    *out = &s->base;
    return CORE_OK;
}

static core_status thing_from_snapshot(void *entity, const ProtobufCMessage *snap, core_err *err)
{
    struct thing *t = entity;
    if (snap->descriptor != &estest__thing_v1__descriptor)
        return core_err_set(err, CORE_ERR_INTERNAL, "not a ThingV1");
    const Estest__ThingV1 *s = (const Estest__ThingV1 *)snap;
    core_strlcpy(t->name, s->name, sizeof t->name);
    t->count = s->count;
    t->renames = s->renames;
    t->notes = s->notes;
    thing_snapshots_applied++;
    return CORE_OK;
}

const struct es_aggregate_type thing_type = {
    .name = "test.Thing",
    .agg_offset = offsetof(struct thing, agg),
    .apply = thing_apply,
    .snapshot_name = "estest.ThingV1",
    .to_snapshot = thing_to_snapshot,
    .from_snapshot = thing_from_snapshot,
};

const struct es_aggregate_type thing_type_no_snapshots = {
    .name = "test.Thing",
    .agg_offset = offsetof(struct thing, agg),
    .apply = thing_apply,
};

const struct es_aggregate_type thing_type_v2 = {
    .name = "test.Thing",
    .agg_offset = offsetof(struct thing, agg),
    .apply = thing_apply,
    .snapshot_name = "estest.ThingV2",
    .to_snapshot = thing_to_snapshot,
    .from_snapshot = thing_from_snapshot,
};

core_status thing_create(struct thing *t, const char *id, const char *name, core_err *err)
{
    if (core_str_blank(name))
        return core_err_set(err, CORE_ERR_INVALID, "the name cannot be blank");
    core_status st = ddd_aggregate_set_id(&t->agg.base, id, err);
    if (st)
        return st;
    Estest__ThingCreated *p = pb_new_of(estest__thing_created);
    if (!p)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    if ((st = pb_set_string(&p->name, name, err))) {
        pb_free(&p->base);
        return st;
    }
    ProtobufCMessage *m = &p->base;
    return es_aggregate_raise(&t->agg, t, &thing_type, "estest.ThingCreated", &m, err);
}

core_status thing_count(struct thing *t, int by, core_err *err)
{
    if (by == 0)
        return core_err_set(err, CORE_ERR_INVALID, "count by 0");
    Estest__ThingCounted *p = pb_new_of(estest__thing_counted);
    if (!p)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    p->by = by;
    ProtobufCMessage *m = &p->base;
    return es_aggregate_raise(&t->agg, t, &thing_type, "estest.ThingCounted", &m, err);
}

core_status thing_rename(struct thing *t, const char *name, core_err *err)
{
    Estest__ThingRenamed *p = pb_new_of(estest__thing_renamed);
    if (!p)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    core_status st = pb_set_string(&p->name, name, err);
    if (st) {
        pb_free(&p->base);
        return st;
    }
    ProtobufCMessage *m = &p->base;
    return es_aggregate_raise(&t->agg, t, &thing_type, "estest.ThingRenamed", &m, err);
}

core_status thing_note(struct thing *t, core_err *err)
{
    ProtobufCMessage *m = pb_new(&estest__thing_noted__descriptor);
    if (!m)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    return es_aggregate_raise(&t->agg, t, &thing_type, "estest.ThingNoted", &m, err);
}

core_status thing_register(es_registry *reg, core_err *err)
{
    core_status st =
        es_registry_add(reg, "estest.ThingCreated", &estest__thing_created__descriptor, err);
    if (!st)
        st = es_registry_add(reg, "estest.ThingRenamed", &estest__thing_renamed__descriptor, err);
    if (!st)
        st = es_registry_add(reg, "estest.ThingCounted", &estest__thing_counted__descriptor, err);
    if (!st)
        st = es_registry_add(reg, "estest.ThingNoted", &estest__thing_noted__descriptor, err);
    if (!st)
        st = es_registry_add(reg, "estest.ThingV1", &estest__thing_v1__descriptor, err);
    if (!st)
        st = es_registry_add(reg, "estest.ThingV2", &estest__thing_v1__descriptor, err);
    return st;
}

void thing_assert_same(const struct thing *a, const struct thing *b)
{
    assert_string_equal(a->agg.base.id, b->agg.base.id);
    assert_int_equal(a->agg.version, b->agg.version);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->count, b->count);
    assert_int_equal(a->renames, b->renames);
    assert_int_equal(a->notes, b->notes);
}
