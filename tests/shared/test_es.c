/* test_es.c -- unit tests of es.h with the in-memory store: aggregates (raise = record + apply),
 * the registry, the store's append/load/snapshots, the repository (load, save, conflicts,
 * publishing exactly once, snapshots) and allocation failures.
 *
 * The test aggregate is "test.Thing" of es_thing.h (events and snapshot in es_test.proto).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ddd.h"
#include "es.h"
#include "es_test.pb-c.h"
#include "es_thing.h"
#include "log.h"
#include "pb.h"

/* ---- fixture ------------------------------------------------------------------------------------
 */

struct fx {
    long live;
    es_registry *reg;
    es_store *store;
};

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    f.live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    if (es_registry_new(&f.reg, &err) || thing_register(f.reg, &err) ||
        es_mem_store_new(&f.store, f.reg, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    thing_snapshots_applied = thing_events_applied = 0;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    core_alloc_fail_after(-1);
    es_store_free(f->store);
    es_registry_free(f->reg);
    assert_int_equal(core_alloc_live(), f->live); /* nothing leaked */
    return 0;
}

/* Publishing counters. */
struct counter {
    int calls;
    char ids[16][CORE_UUID_LEN + 1];
    core_status fail_with;
};

static core_status count_handler(void *ud, const ddd_event *ev, core_err *err)
{
    struct counter *c = ud;
    if (c->calls < 16)
        core_strlcpy(c->ids[c->calls], ddd_event_id(ev), sizeof c->ids[0]);
    c->calls++;
    if (c->fail_with)
        return core_err_set(err, c->fail_with, "handler refused");
    return CORE_OK;
}

static ddd_dispatcher *counting_dispatcher(struct counter *c)
{
    ddd_dispatcher *d = NULL;
    assert_int_equal(ddd_dispatcher_new(&d, NULL), CORE_OK);
    const char *names[] = {"estest.ThingCreated", "estest.ThingRenamed", "estest.ThingCounted",
                           "estest.ThingNoted"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(
            ddd_dispatcher_subscribe(d, names[i], "test.Counter", count_handler, c, NULL), CORE_OK);
    return d;
}

/* ---- aggregates
 * ---------------------------------------------------------------------------------- */

static void raise_records_and_applies_at_once(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    struct thing t;
    thing_init(&t);
    assert_int_equal(es_aggregate_version(&t.agg), 0);
    assert_int_equal(es_aggregate_pending_version(&t.agg), 0);

    assert_int_equal(thing_create(&t, "t1", "lamp", &err), CORE_OK);
    assert_string_equal(t.name, "lamp"); /* applied on raise */
    assert_int_equal(thing_count(&t, 5, &err), CORE_OK);
    assert_int_equal(t.count, 5);
    assert_int_equal(thing_count(&t, -2, &err), CORE_OK);
    assert_int_equal(t.count, 3);
    assert_int_equal(es_aggregate_version(&t.agg), 0);
    assert_int_equal(es_aggregate_pending_version(&t.agg), 3);
    assert_int_equal(t.agg.base.events.n, 3);
    const char *versions[] = {"1", "2", "3"};
    for (size_t i = 0; i < 3; i++) {
        const ddd_event *ev = t.agg.base.events.items[i];
        assert_string_equal(ddd_event_metadata(ev, "aggregate-version"), versions[i]);
        assert_string_equal(ddd_event_metadata(ev, "aggregate-name"), "test.Thing");
        assert_string_equal(ddd_event_metadata(ev, "aggregate-id"), "t1");
    }
    /* the version continues from the stored version */
    t.agg.version = 10;
    assert_int_equal(thing_note(&t, &err), CORE_OK);
    assert_string_equal(ddd_event_metadata(t.agg.base.events.items[3], "aggregate-version"), "14");
    assert_int_equal(es_aggregate_pending_version(&t.agg), 14);

    /* a failing apply records nothing and leaves the state alone; the payload is freed */
    ProtobufCMessage *p = pb_new(&estest__thing_noted__descriptor);
    assert_int_equal(es_aggregate_raise(&t.agg, &t, &thing_type, "estest.Unheard", &p, &err),
                     CORE_ERR_INTERNAL);
    assert_null(p);
    assert_non_null(strstr(err.msg, "unexpected event estest.Unheard"));
    assert_int_equal(t.agg.base.events.n, 4);
    assert_int_equal(t.notes, 1);
    /* so does a wrong payload type for a known name */
    p = pb_new(&estest__other__descriptor);
    assert_int_equal(es_aggregate_raise(&t.agg, &t, &thing_type, "estest.ThingCounted", &p, &err),
                     CORE_ERR_INTERNAL);
    assert_int_equal(t.agg.base.events.n, 4);
    assert_int_equal(t.count, 3);

    /* every event has a payload */
    p = NULL;
    assert_int_equal(es_aggregate_raise(&t.agg, &t, &thing_type, "estest.ThingNoted", &p, &err),
                     CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "without a payload"));
    assert_int_equal(es_aggregate_raise(&t.agg, &t, &thing_type, "estest.ThingNoted", NULL, &err),
                     CORE_ERR_INTERNAL);
    assert_int_equal(t.agg.base.events.n, 4);
    thing_release(&t);

    struct es_aggregate a = ES_AGGREGATE_INIT("test.Other");
    assert_string_equal(a.base.name, "test.Other");
    assert_int_equal(a.version, 0);
    es_aggregate_release(&a);
}

/* ---- registry -----------------------------------------------------------------------------------
 */

static void registry_maps_names_to_types(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    assert_ptr_equal(es_registry_lookup(f->reg, "estest.ThingCounted"),
                     &estest__thing_counted__descriptor);
    assert_null(es_registry_lookup(f->reg, "estest.Nope"));

    assert_int_equal(
        es_registry_add(f->reg, "estest.ThingCounted", &estest__other__descriptor, &err),
        CORE_ERR_CONFLICT);
    assert_string_equal(err.msg, "estest.ThingCounted is already registered");
    assert_ptr_equal(es_registry_lookup(f->reg, "estest.ThingCounted"),
                     &estest__thing_counted__descriptor);
    assert_int_equal(es_registry_add(f->reg, "", &estest__other__descriptor, &err),
                     CORE_ERR_INVALID);
    assert_int_equal(es_registry_add(f->reg, "estest.X", NULL, &err), CORE_ERR_INVALID);

    Estest__ThingCounted *c = pb_new_of(estest__thing_counted);
    c->by = 7;
    char *json = NULL;
    assert_int_equal(es_registry_encode(f->reg, "estest.ThingCounted", &c->base, &json, &err),
                     CORE_OK);
    assert_string_equal(json, "{\"by\":7}");
    ProtobufCMessage *back = NULL;
    assert_int_equal(
        es_registry_decode(f->reg, "estest.ThingCounted", json, strlen(json), &back, &err),
        CORE_OK);
    assert_ptr_equal(back->descriptor, &estest__thing_counted__descriptor);
    assert_int_equal(((Estest__ThingCounted *)back)->by, 7);
    pb_free(back);
    core_free(json);

    json = (char *)"untouched";
    assert_int_equal(es_registry_encode(f->reg, "estest.Unknown", &c->base, &json, &err),
                     CORE_ERR_INTERNAL);
    assert_string_equal(err.msg, "estest.Unknown is not registered");
    assert_int_equal(es_registry_encode(f->reg, "estest.ThingCreated", &c->base, &json, &err),
                     CORE_ERR_INTERNAL);
    assert_string_equal(
        err.msg,
        "estest.ThingCreated: the message is a estest.ThingCounted, want a estest.ThingCreated");
    assert_int_equal(es_registry_encode(f->reg, "estest.ThingCreated", NULL, &json, &err),
                     CORE_ERR_INTERNAL);
    assert_string_equal(json, "untouched");
    pb_free(&c->base);

    back = NULL;
    assert_int_equal(es_registry_decode(f->reg, "estest.Unknown", "{}", 2, &back, &err),
                     CORE_ERR_INTERNAL);
    assert_string_equal(err.msg, "estest.Unknown is not registered");
    assert_int_equal(
        es_registry_decode(f->reg, "estest.ThingCounted", "{\"by\":\"x\"}", 10, &back, &err),
        CORE_ERR_INVALID);
    assert_int_equal(
        es_registry_decode(f->reg, "estest.ThingCounted", "{\"nope\":1}", 10, &back, &err),
        CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "nope"));
    assert_null(back);
    /* an empty message encodes as {} and decodes back to an empty message */
    ProtobufCMessage *noted = pb_new(&estest__thing_noted__descriptor);
    assert_int_equal(es_registry_encode(f->reg, "estest.ThingNoted", noted, &json, &err), CORE_OK);
    assert_string_equal(json, "{}");
    assert_int_equal(es_registry_decode(f->reg, "estest.ThingNoted", json, 2, &back, &err),
                     CORE_OK);
    assert_ptr_equal(back->descriptor, &estest__thing_noted__descriptor);
    pb_free(back);
    pb_free(noted);
    core_free(json);
    es_registry_free(NULL);
}

/* ---- store -------------------------------------------------------------------------------------
 */

static ddd_event *new_event(const char *name, ProtobufCMessage *payload)
{
    ddd_event *ev = NULL;
    assert_int_equal(ddd_event_new(&ev, name, &payload, NULL), CORE_OK);
    return ev;
}

static ProtobufCMessage *counted(int by)
{
    Estest__ThingCounted *c = pb_new_of(estest__thing_counted);
    c->by = by;
    return &c->base;
}

static size_t stored_count(es_store *store, const char *id)
{
    struct ddd_event_list l = DDD_EVENT_LIST_INIT;
    assert_int_equal(es_store_load(store, "test.Thing", id, 0, &l, NULL), CORE_OK);
    size_t n = l.n;
    ddd_event_list_release(&l);
    return n;
}

static void store_appends_all_events_in_order(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    ddd_event *evs[4] = {new_event("estest.ThingCounted", counted(1)),
                         new_event("estest.ThingNoted", pb_new(&estest__thing_noted__descriptor)),
                         new_event("estest.ThingCounted", counted(3)),
                         new_event("estest.ThingCounted", counted(4))};
    assert_int_equal(ddd_event_set_metadata(evs[1], "trace-id", "t-42", &err), CORE_OK);
    assert_int_equal(es_store_append(f->store, "test.Thing", "s1", 0, evs, 4, &err), CORE_OK);
    assert_int_equal(es_store_append(f->store, "test.Thing", "s1", 4, evs, 0, &err),
                     CORE_OK); /* no-op */

    struct ddd_event_list l = DDD_EVENT_LIST_INIT;
    assert_int_equal(es_store_load(f->store, "test.Thing", "s1", 0, &l, &err), CORE_OK);
    assert_int_equal(l.n, 4);
    for (size_t i = 0; i < 4; i++) {
        char v[8];
        snprintf(v, sizeof v, "%zu", i + 1);
        assert_string_equal(ddd_event_id(l.items[i]), ddd_event_id(evs[i]));
        assert_string_equal(ddd_event_name(l.items[i]), ddd_event_name(evs[i]));
        assert_string_equal(ddd_event_metadata(l.items[i], "aggregate-version"), v);
        assert_string_equal(ddd_event_metadata(l.items[i], "aggregate-name"), "test.Thing");
        assert_string_equal(ddd_event_metadata(l.items[i], "aggregate-id"), "s1");
        struct timespec a = ddd_event_occurred_at(l.items[i]), b = ddd_event_occurred_at(evs[i]);
        assert_int_equal(a.tv_sec, b.tv_sec);
        assert_int_equal(a.tv_nsec, b.tv_nsec - b.tv_nsec % 1000); /* microseconds */
        assert_ptr_equal(ddd_event_payload(l.items[i])->descriptor,
                         ddd_event_payload(evs[i])->descriptor);
    }
    assert_int_equal(((const Estest__ThingCounted *)ddd_event_payload(l.items[3]))->by, 4);
    assert_string_equal(ddd_event_metadata(l.items[1], "trace-id"), "t-42"); /* all metadata kept */
    assert_null(ddd_event_metadata(l.items[0], "trace-id"));
    ddd_event_list_release(&l);

    /* only the later events */
    assert_int_equal(es_store_load(f->store, "test.Thing", "s1", 2, &l, &err), CORE_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(ddd_event_metadata(l.items[0], "aggregate-version"), "3");
    assert_string_equal(ddd_event_id(l.items[1]), ddd_event_id(evs[3]));
    ddd_event_list_release(&l);
    assert_int_equal(es_store_load(f->store, "test.Thing", "s1", 4, &l, &err), CORE_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(es_store_load(f->store, "test.Thing", "unknown", 0, &l, &err), CORE_OK);
    assert_int_equal(l.n, 0);
    /* streams are keyed by name and id */
    assert_int_equal(es_store_load(f->store, "test.Other", "s1", 0, &l, &err), CORE_OK);
    assert_int_equal(l.n, 0);

    /* a stale expected version stores nothing */
    assert_int_equal(es_store_append(f->store, "test.Thing", "s1", 3, evs, 2, &err),
                     CORE_ERR_CONFLICT);
    assert_string_equal(
        err.msg,
        "test.Thing s1 was changed by someone else (expected version 3, stored version 4)");
    assert_int_equal(es_store_append(f->store, "test.Thing", "s1", 0, evs, 1, &err),
                     CORE_ERR_CONFLICT);
    assert_string_equal(err.msg,
                        "test.Thing s1 already exists (expected version 0, stored version 4)");
    assert_int_equal(es_store_append(f->store, "test.Thing", "s2", 1, evs, 1, &err),
                     CORE_ERR_CONFLICT);
    assert_string_equal(
        err.msg,
        "test.Thing s2 was changed by someone else (expected version 1, stored version 0)");
    assert_int_equal(stored_count(f->store, "s1"), 4);
    assert_int_equal(stored_count(f->store, "s2"), 0);

    /* one unregistered event in a batch: nothing of the batch is stored */
    ddd_event *bad[3] = {new_event("estest.ThingCounted", counted(5)),
                         new_event("estest.Unregistered", counted(6)),
                         new_event("estest.ThingCounted", counted(7))};
    assert_int_equal(es_store_append(f->store, "test.Thing", "s1", 4, bad, 3, &err),
                     CORE_ERR_INTERNAL);
    assert_string_equal(err.msg, "estest.Unregistered is not registered");
    /* nor with a payload of the wrong type */
    ddd_event *wrong = new_event("estest.ThingCreated", counted(1));
    assert_int_equal(es_store_append(f->store, "test.Thing", "s1", 4, &wrong, 1, &err),
                     CORE_ERR_INTERNAL);
    ddd_event_free(wrong);
    assert_int_equal(stored_count(f->store, "s1"), 4);
    /* the next append continues at 5 */
    assert_int_equal(es_store_append(f->store, "test.Thing", "s1", 4, bad, 1, &err), CORE_OK);
    assert_int_equal(stored_count(f->store, "s1"), 5);
    for (size_t i = 0; i < 3; i++)
        ddd_event_free(bad[i]);
    for (size_t i = 0; i < 4; i++)
        ddd_event_free(evs[i]);
}

/* The store adds aggregate-name, -id and -version to what an event carries; an event whose
 * metadata would then exceed DDD_METADATA_MAX could be stored but never loaded again (the whole
 * stream would fail to load), so the append refuses it and stores nothing. */
static void store_refuses_metadata_it_could_not_load(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    ddd_event *ok = new_event("estest.ThingCounted", counted(1));
    ddd_event *big = new_event("estest.ThingCounted", counted(2));
    for (int i = 0; i < DDD_METADATA_MAX; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        if (i < DDD_METADATA_MAX - 3)
            assert_int_equal(ddd_event_set_metadata(ok, key, "v", &err), CORE_OK);
        assert_int_equal(ddd_event_set_metadata(big, key, "v", &err), CORE_OK);
    }
    ddd_event *both[2] = {ok, big};
    assert_int_equal(es_store_append(f->store, "test.Thing", "m1", 0, both, 2, &err),
                     CORE_ERR_TOO_LARGE);
    assert_non_null(strstr(err.msg, "metadata"));
    assert_int_equal(stored_count(f->store, "m1"), 0); /* nothing of the batch */

    /* DDD_METADATA_MAX - 3 own keys plus the store's three: stored and loaded back */
    assert_int_equal(es_store_append(f->store, "test.Thing", "m1", 0, both, 1, &err), CORE_OK);
    struct ddd_event_list l = DDD_EVENT_LIST_INIT;
    assert_int_equal(es_store_load(f->store, "test.Thing", "m1", 0, &l, &err), CORE_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(ddd_event_metadata_count(l.items[0]), DDD_METADATA_MAX);
    assert_string_equal(ddd_event_metadata(l.items[0], "k0"), "v");
    ddd_event_list_release(&l);
    ddd_event_free(ok);
    ddd_event_free(big);
}

static void store_keeps_the_newest_snapshot(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct es_snapshot s = ES_SNAPSHOT_INIT;
    assert_int_equal(es_store_load_snapshot(f->store, "test.Thing", "n1", &s, &err),
                     CORE_ERR_NOT_FOUND);
    assert_null(s.data);

    Estest__ThingV1 *v = pb_new_of(estest__thing_v1);
    v->count = 6;
    assert_int_equal(
        es_store_save_snapshot(f->store, "test.Thing", "n1", 6, "estest.ThingV1", &v->base, &err),
        CORE_OK);
    v->count = 3;
    /* an older one does not replace it */
    assert_int_equal(
        es_store_save_snapshot(f->store, "test.Thing", "n1", 3, "estest.ThingV1", &v->base, &err),
        CORE_OK);
    assert_int_equal(es_store_load_snapshot(f->store, "test.Thing", "n1", &s, &err), CORE_OK);
    assert_int_equal(s.version, 6);
    assert_string_equal(s.name, "estest.ThingV1");
    assert_int_equal(((Estest__ThingV1 *)s.data)->count, 6);
    es_snapshot_release(&s);
    v->count = 9;
    assert_int_equal(
        es_store_save_snapshot(f->store, "test.Thing", "n1", 9, "estest.ThingV1", &v->base, &err),
        CORE_OK);
    assert_int_equal(es_store_load_snapshot(f->store, "test.Thing", "n1", &s, &err), CORE_OK);
    assert_int_equal(s.version, 9);
    assert_int_equal(((Estest__ThingV1 *)s.data)->count, 9);
    es_snapshot_release(&s);
    assert_null(s.data);

    assert_int_equal(
        es_store_save_snapshot(f->store, "test.Thing", "n1", 12, "estest.Nope", &v->base, &err),
        CORE_ERR_INTERNAL);
    assert_int_equal(es_store_save_snapshot(f->store, "test.Thing", "n1", 12, "estest.ThingCounted",
                                            &v->base, &err),
                     CORE_ERR_INTERNAL);
    pb_free(&v->base);
}

/* A backend that serves fixed records (stored data the code cannot read). */
struct fake {
    struct es_record recs[2];
    size_t n;
    bool freed;
};

static core_status fake_load(void *impl, const char *stream_name, const char *stream_id,
                             uint64_t after_version, es_record_fn fn, void *ctx, core_err *err)
{
    struct fake *fk = impl;
    core_status st = CORE_OK;
    for (size_t i = 0; i < fk->n && !st; i++)
        st = fn(ctx, &fk->recs[i], err);
    return st;
}

static core_status fake_load_snapshot(void *impl, const char *stream_name, const char *stream_id,
                                      es_snapshot_record_fn fn, void *ctx, core_err *err)
{
    struct es_snapshot_record rec = {3, "estest.Gone", "{}"};
    return fn(ctx, &rec, err);
}

static void fake_free(void *impl)
{
    ((struct fake *)impl)->freed = true;
}

static const struct es_store_ops fake_ops = {
    .kind = "fake", .load = fake_load, .load_snapshot = fake_load_snapshot, .free = fake_free};

static void store_refuses_stored_data_it_cannot_read(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct fake fk = {.n = 2};
    fk.recs[0] = (struct es_record){1, "e1", "estest.ThingCounted", "{\"by\":1}", "{}", {0, 0}};
    fk.recs[1] = (struct es_record){3, "e3", "estest.ThingCounted", "{\"by\":1}", "{}", {0, 0}};
    es_store *store = NULL;
    assert_int_equal(es_store_new(&store, &fake_ops, &fk, f->reg, &err), CORE_OK);
    struct ddd_event_list l = DDD_EVENT_LIST_INIT;

    assert_int_equal(es_store_load(store, "test.Thing", "x", 0, &l, &err), CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "gap (want 2, found 3)"));
    assert_int_equal(l.n, 0); /* left empty */

    fk.recs[1] =
        (struct es_record){2, "e2", "estest.ThingCounted", "{\"by\":\"many\"}", "{}", {0, 0}};
    assert_int_equal(es_store_load(store, "test.Thing", "x", 0, &l, &err),
                     CORE_ERR_INTERNAL); /* not INVALID */
    assert_non_null(strstr(err.msg, "stored event estest.ThingCounted of test.Thing x version 2"));
    fk.recs[1] = (struct es_record){2, "e2", "estest.Dropped", "{}", "{}", {0, 0}};
    assert_int_equal(es_store_load(store, "test.Thing", "x", 0, &l, &err), CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "estest.Dropped is not registered"));
    fk.recs[1] = (struct es_record){2, "e2", "estest.ThingCounted", "{}", "[1]", {0, 0}};
    assert_int_equal(es_store_load(store, "test.Thing", "x", 0, &l, &err), CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "metadata"));
    fk.recs[1] = (struct es_record){2, "e2", "estest.ThingCounted", "{}", "{\"k\":1}", {0, 0}};
    assert_int_equal(es_store_load(store, "test.Thing", "x", 0, &l, &err), CORE_ERR_INTERNAL);

    /* extra stored metadata comes back; the stream's own keys win */
    fk.recs[1] = (struct es_record){2,
                                    "e2",
                                    "estest.ThingCounted",
                                    "{}",
                                    "{\"trace\":\"abc\",\"aggregate-version\":\"99\"}",
                                    {1700000000, 5000}};
    assert_int_equal(es_store_load(store, "test.Thing", "x", 0, &l, &err), CORE_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(ddd_event_metadata(l.items[1], "trace"), "abc");
    assert_string_equal(ddd_event_metadata(l.items[1], "aggregate-version"), "2");
    assert_string_equal(ddd_event_id(l.items[1]), "e2");
    assert_int_equal(ddd_event_occurred_at(l.items[1]).tv_sec, 1700000000);
    assert_int_equal(ddd_event_occurred_at(l.items[1]).tv_nsec, 5000);
    ddd_event_list_release(&l);

    struct es_snapshot s = ES_SNAPSHOT_INIT;
    assert_int_equal(es_store_load_snapshot(store, "test.Thing", "x", &s, &err), CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "estest.Gone is not registered"));
    assert_null(s.data);
    es_store_free(store);
    assert_true(fk.freed);
}

/* ---- repository
 * ---------------------------------------------------------------------------------- */

static void repo_saves_and_publishes_exactly_once(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct counter c = {0};
    ddd_dispatcher *d = counting_dispatcher(&c);
    struct ddd_publisher pub = ddd_dispatcher_publisher(d);
    es_repo *repo = NULL;
    assert_int_equal(es_repo_new(&repo, &thing_type, f->store, &pub, 0, &err), CORE_OK);

    struct thing t;
    thing_init(&t);
    assert_int_equal(es_repo_save(repo, &t, &err), CORE_OK); /* nothing pending: no-op */
    assert_int_equal(thing_create(&t, "p1", "lamp", &err), CORE_OK);
    assert_int_equal(thing_count(&t, 2, &err), CORE_OK);
    assert_int_equal(thing_rename(&t, "big lamp", &err), CORE_OK);
    char ids[3][CORE_UUID_LEN + 1];
    for (size_t i = 0; i < 3; i++)
        core_strlcpy(ids[i], ddd_event_id(t.agg.base.events.items[i]), sizeof ids[i]);
    assert_int_equal(es_repo_save(repo, &t, &err), CORE_OK);
    assert_int_equal(c.calls, 3); /* each event once */
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(c.ids[i], ids[i]);
    assert_int_equal(t.agg.version, 3);
    assert_int_equal(t.agg.base.events.n, 0); /* no longer pending */
    assert_int_equal(es_aggregate_pending_version(&t.agg), 3);
    assert_int_equal(es_repo_save(repo, &t, &err), CORE_OK); /* again: nothing to do */
    assert_int_equal(c.calls, 3);
    assert_int_equal(stored_count(f->store, "p1"), 3);

    assert_int_equal(thing_count(&t, 1, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &t, &err), CORE_OK);
    assert_int_equal(c.calls, 4);
    assert_int_equal(t.agg.version, 4);
    assert_int_equal(stored_count(f->store, "p1"), 4);
    thing_release(&t);

    /* the stored history rebuilds the same state */
    struct thing u, v;
    thing_init(&u);
    thing_init(&v);
    assert_int_equal(es_repo_load(repo, "p1", &u, &err), CORE_OK);
    assert_int_equal(u.agg.version, 4);
    assert_int_equal(u.agg.base.events.n, 0); /* loaded events are not pending */
    assert_string_equal(u.name, "big lamp");
    assert_int_equal(u.count, 3);
    assert_int_equal(u.renames, 1);
    assert_int_equal(c.calls, 4); /* loading publishes nothing */

    /* a handler failure comes back, but the events are stored and no longer pending */
    c.fail_with = CORE_ERR_UNAVAILABLE;
    assert_int_equal(thing_note(&u, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &u, &err), CORE_ERR_UNAVAILABLE);
    assert_string_equal(err.msg, "test.Counter on estest.ThingNoted: handler refused");
    assert_int_equal(c.calls, 5);
    assert_int_equal(u.agg.version, 5);
    assert_int_equal(u.agg.base.events.n, 0);
    assert_int_equal(stored_count(f->store, "p1"), 5);
    assert_int_equal(es_repo_load(repo, "p1", &v, &err), CORE_OK);
    assert_int_equal(v.notes, 1);
    thing_release(&u);
    thing_release(&v);

    /* without a publisher */
    es_repo *quiet = NULL;
    assert_int_equal(es_repo_new(&quiet, &thing_type, f->store, NULL, 0, &err), CORE_OK);
    thing_init(&t);
    assert_int_equal(thing_create(&t, "p2", "chair", &err), CORE_OK);
    assert_int_equal(es_repo_save(quiet, &t, &err), CORE_OK);
    assert_int_equal(t.agg.version, 1);
    thing_release(&t);
    assert_int_equal(c.calls, 5);

    es_repo_free(quiet);
    es_repo_free(repo);
    es_repo_free(NULL);
    ddd_dispatcher_free(d);
}

static void repo_conflict_stores_and_publishes_nothing(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct counter c = {0};
    ddd_dispatcher *d = counting_dispatcher(&c);
    struct ddd_publisher pub = ddd_dispatcher_publisher(d);
    es_repo *repo = NULL;
    assert_int_equal(es_repo_new(&repo, &thing_type, f->store, &pub, 100, &err), CORE_OK);

    struct thing t, a, b;
    thing_init(&t);
    assert_int_equal(thing_create(&t, "c1", "desk", &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &t, &err), CORE_OK);
    thing_release(&t);

    thing_init(&a);
    thing_init(&b);
    assert_int_equal(es_repo_load(repo, "c1", &a, &err), CORE_OK);
    assert_int_equal(es_repo_load(repo, "c1", &b, &err), CORE_OK);
    assert_int_equal(thing_count(&a, 1, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &a, &err), CORE_OK);
    assert_int_equal(c.calls, 2);

    assert_int_equal(thing_count(&b, 10, &err), CORE_OK);
    assert_int_equal(thing_count(&b, 20, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &b, &err), CORE_ERR_CONFLICT);
    assert_string_equal(
        err.msg,
        "test.Thing c1 was changed by someone else (expected version 1, stored version 2)");
    assert_int_equal(c.calls, 2);             /* nothing published */
    assert_int_equal(b.agg.version, 1);       /* unchanged */
    assert_int_equal(b.agg.base.events.n, 2); /* still pending */
    assert_int_equal(stored_count(f->store, "c1"), 2);
    thing_release(&a);
    thing_release(&b);

    /* creating an aggregate whose id exists */
    thing_init(&t);
    assert_int_equal(thing_create(&t, "c1", "other desk", &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &t, &err), CORE_ERR_CONFLICT);
    assert_string_equal(err.msg,
                        "test.Thing c1 already exists (expected version 0, stored version 2)");
    thing_release(&t);

    /* a thing without an id cannot be saved */
    thing_init(&t);
    assert_int_equal(thing_note(&t, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &t, &err), CORE_ERR_INVALID);
    assert_int_equal(t.agg.base.events.n, 1);
    thing_release(&t);
    /* nor one whose id is blank (white space only), as es.h promises */
    thing_init(&t);
    assert_int_equal(thing_create(&t, "  ", "blank desk", &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &t, &err), CORE_ERR_INVALID);
    assert_int_equal(t.agg.base.events.n, 1);
    assert_int_equal(stored_count(f->store, "  "), 0);
    thing_release(&t);
    assert_int_equal(c.calls, 2);
    es_repo_free(repo);
    ddd_dispatcher_free(d);
}

static void repo_load_of_unknown_id_is_not_found(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    es_repo *repo = NULL;
    assert_int_equal(es_repo_new(&repo, &thing_type, f->store, NULL, 0, &err), CORE_OK);
    struct thing t;
    thing_init(&t);
    assert_int_equal(es_repo_load(repo, "nope", &t, &err), CORE_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "test.Thing nope not found");
    thing_release(&t);
    /* es_repo_load_in: without a transaction it is es_repo_load; the memory store has none */
    thing_init(&t);
    assert_int_equal(es_repo_load_in(repo, NULL, "nope", &t, &err), CORE_ERR_NOT_FOUND);
    thing_release(&t);
    thing_init(&t);
    int not_a_connection = 0;
    assert_int_equal(es_repo_load_in(repo, (pg_conn *)&not_a_connection, "nope", &t, &err),
                     CORE_ERR_INTERNAL);
    assert_string_equal(err.msg, "the memory store cannot load inside a caller's transaction");
    thing_release(&t);

    char long_id[DDD_ID_MAX + 2];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    thing_init(&t);
    assert_int_equal(es_repo_load(repo, long_id, &t, &err), CORE_ERR_INVALID);
    thing_release(&t);

    /* the entity must be empty */
    thing_init(&t);
    assert_int_equal(thing_create(&t, "l1", "x", &err), CORE_OK);
    assert_int_equal(es_repo_load(repo, "l1", &t, &err), CORE_ERR_INTERNAL);
    assert_int_equal(es_repo_save(repo, &t, &err), CORE_OK);
    thing_release(&t);

    assert_int_equal(es_repo_new(&repo, &thing_type, f->store, NULL, -1, &err), CORE_ERR_INVALID);
    static const struct es_aggregate_type half = {"test.Half",      0,    thing_apply,
                                                  "estest.ThingV1", NULL, NULL};
    es_repo *r2 = NULL;
    assert_int_equal(es_repo_new(&r2, &half, f->store, NULL, 0, &err), CORE_ERR_INVALID);
    assert_null(r2);
    es_repo_free(repo);
}

/* Runs one command on thing id: load (or create when version 0), then fn, then save. */
static void command(es_repo *repo, const char *id, int kind, core_err *err)
{
    struct thing t;
    thing_init(&t);
    if (kind == 0) {
        assert_int_equal(thing_create(&t, id, "snap", err), CORE_OK);
    } else {
        assert_int_equal(es_repo_load(repo, id, &t, err), CORE_OK);
        if (kind == 1)
            assert_int_equal(thing_count(&t, 1, err), CORE_OK);
        if (kind == 2) {
            assert_int_equal(thing_count(&t, 2, err), CORE_OK);
            assert_int_equal(thing_note(&t, err), CORE_OK);
        }
        if (kind == 4) {
            assert_int_equal(thing_rename(&t, "r1", err), CORE_OK);
            assert_int_equal(thing_count(&t, 3, err), CORE_OK);
            assert_int_equal(thing_rename(&t, "r2", err), CORE_OK);
            assert_int_equal(thing_count(&t, 4, err), CORE_OK);
        }
    }
    assert_int_equal(es_repo_save(repo, &t, err), CORE_OK);
    thing_release(&t);
}

static uint64_t snapshot_version(es_store *store, const char *id)
{
    struct es_snapshot s = ES_SNAPSHOT_INIT;
    core_status st = es_store_load_snapshot(store, "test.Thing", id, &s, NULL);
    uint64_t v = st == CORE_OK ? s.version : 0;
    es_snapshot_release(&s);
    return v;
}

static void snapshots_every_n_and_load_equals_replay(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    es_repo *repo = NULL, *plain = NULL, *v2 = NULL;
    assert_int_equal(es_repo_new(&repo, &thing_type, f->store, NULL, 3, &err), CORE_OK);
    assert_int_equal(es_repo_new(&plain, &thing_type_no_snapshots, f->store, NULL, 3, &err),
                     CORE_OK);
    assert_int_equal(es_repo_new(&v2, &thing_type_v2, f->store, NULL, 3, &err), CORE_OK);

    command(repo, "s1", 0, &err); /* v1 */
    command(repo, "s1", 1, &err); /* v2 */
    assert_int_equal(snapshot_version(f->store, "s1"), 0);
    command(repo, "s1", 1, &err); /* v3: crossed 3 */
    assert_int_equal(snapshot_version(f->store, "s1"), 3);
    command(repo, "s1", 2, &err); /* v5: 3/3 == 5/3, none */
    assert_int_equal(snapshot_version(f->store, "s1"), 3);
    command(repo, "s1", 1, &err); /* v6 */
    assert_int_equal(snapshot_version(f->store, "s1"), 6);
    command(repo, "s1", 4, &err); /* v10: crossed 9 in one save */
    assert_int_equal(snapshot_version(f->store, "s1"), 10);
    command(repo, "s1", 1, &err); /* v11 */
    assert_int_equal(snapshot_version(f->store, "s1"), 10);

    struct thing from_snap, replayed, ignored;
    thing_init(&from_snap);
    thing_init(&replayed);
    thing_init(&ignored);
    thing_snapshots_applied = thing_events_applied = 0;
    assert_int_equal(es_repo_load(repo, "s1", &from_snap, &err), CORE_OK);
    assert_int_equal(thing_snapshots_applied, 1);
    assert_int_equal(thing_events_applied, 1); /* only the event after the snapshot */
    thing_snapshots_applied = thing_events_applied = 0;
    assert_int_equal(es_repo_load(plain, "s1", &replayed, &err), CORE_OK);
    assert_int_equal(thing_snapshots_applied, 0);
    assert_int_equal(thing_events_applied, 11);
    thing_assert_same(&from_snap, &replayed);
    assert_int_equal(replayed.agg.version, 11);
    assert_int_equal(replayed.count, 1 + 1 + 2 + 1 + 3 + 4 + 1);
    assert_int_equal(replayed.renames, 2);
    assert_int_equal(replayed.notes, 1);
    assert_string_equal(replayed.name, "r2");
    /* a snapshot of another layout is ignored: all events are replayed */
    thing_snapshots_applied = thing_events_applied = 0;
    assert_int_equal(es_repo_load(v2, "s1", &ignored, &err), CORE_OK);
    assert_int_equal(thing_snapshots_applied, 0);
    assert_int_equal(thing_events_applied, 11);
    thing_assert_same(&ignored, &replayed);

    /* the snapshot's state is the state at its version */
    struct es_snapshot s = ES_SNAPSHOT_INIT;
    assert_int_equal(es_store_load_snapshot(f->store, "test.Thing", "s1", &s, &err), CORE_OK);
    assert_int_equal(((Estest__ThingV1 *)s.data)->count, replayed.count - 1);
    es_snapshot_release(&s);

    /* a loaded-from-snapshot entity saves at the right version */
    assert_int_equal(thing_count(&from_snap, 5, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &from_snap, &err), CORE_OK);
    assert_int_equal(from_snap.agg.version, 12);
    assert_int_equal(snapshot_version(f->store, "s1"), 12);
    thing_release(&from_snap);
    thing_release(&replayed);
    thing_release(&ignored);

    /* the default is every 3 */
    command(plain, "s2", 0, &err);
    command(plain, "s2", 2, &err); /* v3 but no snapshots for this type */
    assert_int_equal(snapshot_version(f->store, "s2"), 0);
    es_repo *dflt = NULL;
    assert_int_equal(es_repo_new(&dflt, &thing_type, f->store, NULL, 0, &err), CORE_OK);
    command(dflt, "s2", 1, &err); /* v4 */
    assert_int_equal(snapshot_version(f->store, "s2"), 0);
    command(dflt, "s2", 2, &err); /* v6 */
    assert_int_equal(snapshot_version(f->store, "s2"), 6);
    es_repo_free(dflt);
    es_repo_free(repo);
    es_repo_free(plain);
    es_repo_free(v2);
}

static void snapshot_every_comes_from_the_environment(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    int n = -7;
    unsetenv("ES_SNAPSHOT_EVERY");
    assert_int_equal(es_snapshot_every_from_env(&n, &err), CORE_OK);
    assert_int_equal(n, 3);
    setenv("ES_SNAPSHOT_EVERY", "", 1);
    assert_int_equal(es_snapshot_every_from_env(&n, &err), CORE_OK);
    assert_int_equal(n, 3);
    setenv("ES_SNAPSHOT_EVERY", "50", 1);
    assert_int_equal(es_snapshot_every_from_env(&n, &err), CORE_OK);
    assert_int_equal(n, 50);
    const char *bad[] = {"0", "-1", "x", "5x", " 5", "+5", "1000001", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("ES_SNAPSHOT_EVERY", bad[i], 1);
        n = -7;
        assert_int_equal(es_snapshot_every_from_env(&n, &err), CORE_ERR_INVALID);
        assert_int_equal(n, -7);
        assert_non_null(strstr(err.msg, "ES_SNAPSHOT_EVERY"));
    }
    unsetenv("ES_SNAPSHOT_EVERY");
}

/* ---- transactions the caller owns, and ops structs that grow -----------------------------------
 */

/* Never dereferenced: the stores under test refuse a transaction before they would touch it. */
static pg_conn *const some_tx = (pg_conn *)&some_tx;

/* es_repo_save_in stores and hands the events over unpublished, after any events *saved already
 * holds; the caller publishes them. The in-memory store takes only tx NULL. */
static void repo_save_in_hands_events_over_unpublished(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct counter c = {0};
    ddd_dispatcher *d = counting_dispatcher(&c);
    struct ddd_publisher pub = ddd_dispatcher_publisher(d);
    es_repo *repo = NULL;
    assert_int_equal(es_repo_new(&repo, &thing_type, f->store, &pub, 100, &err), CORE_OK);
    struct ddd_event_list saved = DDD_EVENT_LIST_INIT;
    struct thing t, u;
    thing_init(&t);
    thing_init(&u);

    assert_int_equal(es_repo_save_in(repo, NULL, &t, &saved, &err), CORE_OK); /* nothing pending */
    assert_int_equal(saved.n, 0);
    assert_int_equal(thing_create(&t, "s1", "shelf", &err), CORE_OK);
    assert_int_equal(thing_count(&t, 2, &err), CORE_OK);
    const ddd_event *first = t.agg.base.events.items[0];
    assert_int_equal(es_repo_save_in(repo, NULL, &t, &saved, &err), CORE_OK);
    assert_int_equal(stored_count(f->store, "s1"), 2); /* stored... */
    assert_int_equal(c.calls, 0);                      /* ...not published */
    assert_int_equal(t.agg.version, 2);
    assert_int_equal(t.agg.base.events.n, 0);
    assert_int_equal(saved.n, 2);
    assert_ptr_equal(saved.items[0], first); /* the same events, moved */

    /* a second aggregate's events go after the first's */
    assert_int_equal(thing_create(&u, "s2", "stool", &err), CORE_OK);
    assert_int_equal(es_repo_save_in(repo, NULL, &u, &saved, &err), CORE_OK);
    assert_int_equal(saved.n, 3);
    assert_string_equal(ddd_event_name(saved.items[2]), "estest.ThingCreated");
    assert_string_equal(ddd_event_metadata(saved.items[2], "aggregate-id"), "s2");

    /* the in-memory store cannot join a database transaction: nothing stored, still pending */
    assert_int_equal(thing_note(&t, &err), CORE_OK);
    assert_int_equal(es_repo_save_in(repo, some_tx, &t, &saved, &err), CORE_ERR_INTERNAL);
    assert_string_equal(err.msg, "the memory store cannot append inside a caller's transaction");
    assert_int_equal(t.agg.base.events.n, 1);
    assert_int_equal(t.agg.version, 2);
    assert_int_equal(saved.n, 3);
    assert_int_equal(stored_count(f->store, "s1"), 2);

    /* out of memory anywhere (making room in *saved, encoding): nothing stored, still pending */
    assert_int_equal(thing_rename(&u, "tall stool", &err), CORE_OK);
    core_status st = CORE_ERR_NOMEM;
    int failures = 0;
    for (long n = 0; n < 100 && st; n++) {
        core_alloc_fail_after(n);
        st = es_repo_save_in(repo, NULL, &u, &saved, &err);
        core_alloc_fail_after(-1);
        if (st) {
            failures++;
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_int_equal(u.agg.base.events.n, 1);
            assert_int_equal(saved.n, 3);
            assert_int_equal(stored_count(f->store, "s2"), 1);
        }
    }
    assert_int_equal(st, CORE_OK);
    assert_true(failures > 2);
    assert_int_equal(saved.n, 4);
    assert_int_equal(stored_count(f->store, "s2"), 2);

    /* publishing is the caller's, once it committed */
    assert_int_equal(ddd_publish(&pub, saved.items, saved.n, &err), CORE_OK);
    assert_int_equal(c.calls, 4);
    ddd_event_list_release(&saved);
    thing_release(&t);
    thing_release(&u);
    es_repo_free(repo);
    ddd_dispatcher_free(d);
}

/* A backend as it was written before append_in and save_snapshot_in existed: only the first
 * members, set by designated initialisers. One stream, records copied into fixed arrays. */
#define OLD_MAX 8
struct old_backend {
    char *names[OLD_MAX], *data[OLD_MAX], *meta[OLD_MAX], *ids[OLD_MAX];
    size_t n;
    int appends, appends_in, snapshots;
    char *snap_name, *snap_data;
    uint64_t snap_version;
};

static core_status old_append(void *impl, const char *stream_name, const char *stream_id,
                              uint64_t expected_version, const struct es_record *recs, size_t n,
                              core_err *err)
{
    struct old_backend *b = impl;
    b->appends++;
    if (expected_version != b->n)
        return es_store_conflict(err, stream_name, stream_id, expected_version, b->n);
    assert_true(b->n + n <= OLD_MAX);
    for (size_t i = 0; i < n; i++, b->n++) {
        b->names[b->n] = core_strdup(recs[i].event_name);
        b->data[b->n] = core_strdup(recs[i].data);
        b->meta[b->n] = core_strdup(recs[i].metadata);
        b->ids[b->n] = core_strdup(recs[i].event_id);
    }
    return CORE_OK;
}

static core_status old_load(void *impl, const char *stream_name, const char *stream_id,
                            uint64_t after_version, es_record_fn fn, void *ctx, core_err *err)
{
    struct old_backend *b = impl;
    core_status st = CORE_OK;
    for (size_t i = after_version; i < b->n && !st; i++) {
        struct es_record rec = {i + 1, b->ids[i], b->names[i], b->data[i], b->meta[i], {0, 0}};
        st = fn(ctx, &rec, err);
    }
    return st;
}

static core_status old_save_snapshot(void *impl, const char *stream_name, const char *stream_id,
                                     const struct es_snapshot_record *rec, core_err *err)
{
    struct old_backend *b = impl;
    b->snapshots++;
    core_free(b->snap_name);
    core_free(b->snap_data);
    b->snap_name = core_strdup(rec->name);
    b->snap_data = core_strdup(rec->data);
    b->snap_version = rec->version;
    return CORE_OK;
}

static core_status old_load_snapshot(void *impl, const char *stream_name, const char *stream_id,
                                     es_snapshot_record_fn fn, void *ctx, core_err *err)
{
    struct old_backend *b = impl;
    if (!b->snap_name)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "no snapshot");
    struct es_snapshot_record rec = {b->snap_version, b->snap_name, b->snap_data};
    return fn(ctx, &rec, err);
}

static void old_free(void *impl)
{
    struct old_backend *b = impl;
    for (size_t i = 0; i < b->n; i++) {
        core_free(b->names[i]);
        core_free(b->data[i]);
        core_free(b->meta[i]);
        core_free(b->ids[i]);
    }
    core_free(b->snap_name);
    core_free(b->snap_data);
}

static const struct es_store_ops old_ops = {
    .kind = "old",
    .append = old_append,
    .load = old_load,
    .save_snapshot = old_save_snapshot,
    .load_snapshot = old_load_snapshot,
    .free = old_free,
};

/* Joins the "transaction" by appending at once (a stand-in: the test only counts the calls). */
static core_status half_append_in(void *impl, pg_conn *tx, const char *stream_name,
                                  const char *stream_id, uint64_t expected_version,
                                  const struct es_record *recs, size_t n, core_err *err)
{
    assert_ptr_equal(tx, some_tx);
    ((struct old_backend *)impl)->appends_in++;
    return old_append(impl, stream_name, stream_id, expected_version, recs, n, err);
}

/* A backend that provides append_in but not save_snapshot_in. */
static const struct es_store_ops half_ops = {
    .kind = "half",
    .append = old_append,
    .load = old_load,
    .save_snapshot = old_save_snapshot,
    .load_snapshot = old_load_snapshot,
    .free = old_free,
    .append_in = half_append_in,
};

/* The growth rule (ddd.h): a backend that predates the new members works as before for
 * everything it provides; a caller's transaction, which it cannot join, is refused and nothing is
 * stored; a missing save_snapshot_in only skips the snapshot (a cache). */
static void older_store_ops_still_work(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct old_backend old = {0}, half = {0};
    es_store *store = NULL, *half_store = NULL;
    es_repo *repo = NULL, *half_repo = NULL;
    assert_int_equal(es_store_new(&store, &old_ops, &old, f->reg, &err), CORE_OK);
    assert_int_equal(es_repo_new(&repo, &thing_type, store, NULL, 2, &err), CORE_OK);
    struct ddd_event_list saved = DDD_EVENT_LIST_INIT;
    struct thing t, u;
    thing_init(&t);
    thing_init(&u);

    assert_int_equal(thing_create(&t, "o1", "old lamp", &err), CORE_OK);
    assert_int_equal(thing_count(&t, 3, &err), CORE_OK);
    assert_int_equal(es_repo_save(repo, &t, &err), CORE_OK); /* version 2: a snapshot */
    assert_int_equal(thing_count(&t, 4, &err), CORE_OK);
    assert_int_equal(es_repo_save_in(repo, NULL, &t, &saved, &err), CORE_OK);
    assert_int_equal(old.appends, 2);
    assert_int_equal(old.snapshots, 1);
    assert_int_equal(saved.n, 1);
    assert_int_equal(es_repo_load(repo, "o1", &u, &err), CORE_OK);
    assert_int_equal(u.count, 7);
    assert_int_equal(u.agg.version, 3);

    assert_int_equal(thing_note(&t, &err), CORE_OK);
    assert_int_equal(es_repo_save_in(repo, some_tx, &t, &saved, &err), CORE_ERR_INTERNAL);
    assert_string_equal(err.msg, "the old store cannot append inside a caller's transaction");
    assert_int_equal(old.appends, 2); /* the backend was not called */
    assert_int_equal(t.agg.base.events.n, 1);
    assert_int_equal(
        es_store_append_in(store, some_tx, "test.Thing", "o1", 3, t.agg.base.events.items, 1, &err),
        CORE_ERR_INTERNAL);
    assert_int_equal(old.n, 3);

    /* append_in provided, save_snapshot_in not: the save goes through, the snapshot is skipped */
    assert_int_equal(es_store_new(&half_store, &half_ops, &half, f->reg, &err), CORE_OK);
    assert_int_equal(es_repo_new(&half_repo, &thing_type, half_store, NULL, 2, &err), CORE_OK);
    thing_release(&u);
    thing_init(&u);
    assert_int_equal(thing_create(&u, "h1", "half lamp", &err), CORE_OK);
    assert_int_equal(thing_count(&u, 1, &err), CORE_OK);
    log_init(LOG_LEVEL_ERROR); /* the skipped snapshot is logged as a warning */
    assert_int_equal(es_repo_save_in(half_repo, some_tx, &u, &saved, &err), CORE_OK);
    log_init(LOG_LEVEL_INFO);
    assert_int_equal(half.appends_in, 1);
    assert_int_equal(half.n, 2);
    assert_int_equal(half.snapshots, 0);
    assert_int_equal(u.agg.version, 2);
    assert_int_equal(saved.n, 3);

    ddd_event_list_release(&saved);
    thing_release(&t);
    thing_release(&u);
    es_repo_free(repo);
    es_repo_free(half_repo);
    es_store_free(store);
    es_store_free(half_store);
}

/* ---- allocation failures ------------------------------------------------------------------------
 */

/* Everything once, from scratch; returns the first failure. Frees all it made on every path. */
static core_status scenario(int *published, core_err *err)
{
    es_registry *reg = NULL;
    es_store *store = NULL;
    es_repo *repo = NULL;
    ddd_dispatcher *d = NULL;
    struct counter c = {0};
    struct thing t, u;
    thing_init(&t);
    thing_init(&u);
    core_status st = es_registry_new(&reg, err);
    if (!st)
        st = thing_register(reg, err);
    if (!st)
        st = es_mem_store_new(&store, reg, err);
    if (!st)
        st = ddd_dispatcher_new(&d, err);
    if (!st)
        st = ddd_dispatcher_subscribe(d, "estest.ThingCounted", "test.Counter", count_handler, &c,
                                      err);
    struct ddd_publisher pub = ddd_dispatcher_publisher(d);
    if (!st)
        st = es_repo_new(&repo, &thing_type, store, &pub, 2, err);
    if (!st)
        st = thing_create(&t, "a1", "alloc", err);
    for (int i = 0; i < 3 && !st; i++)
        st = thing_count(&t, i + 1, err);
    if (!st)
        st = es_repo_save(repo, &t, err); /* 4 events, snapshot at 4 */
    if (!st)
        st = es_repo_load(repo, "a1", &u, err);
    if (!st)
        st = thing_rename(&u, "renamed", err);
    if (!st)
        st = es_repo_save(repo, &u, err);
    if (!st && (u.count != 6 || u.agg.version != 5))
        st = core_err_set(err, CORE_ERR_INTERNAL, "wrong state");
    *published = c.calls;
    thing_release(&t);
    thing_release(&u);
    es_repo_free(repo);
    ddd_dispatcher_free(d);
    es_store_free(store);
    es_registry_free(reg);
    return st;
}

static void allocation_failures_leak_nothing(void **state)
{
    (void)state;
    long live = core_alloc_live();
    int published = 0;
    core_err err = CORE_ERR_INIT;
    log_init(LOG_LEVEL_ERROR); /* failed snapshots are logged as warnings */
    int failures = 0;
    core_status st = CORE_ERR_NOMEM;
    for (long n = 0; n < 2000 && st != CORE_OK; n++) {
        core_alloc_fail_after(n);
        st = scenario(&published, &err);
        core_alloc_fail_after(-1);
        assert_int_equal(core_alloc_live(), live);
        if (st != CORE_OK) {
            failures++;
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_true(published == 0 || published == 3); /* all of a save's events or none */
        }
    }
    log_init(LOG_LEVEL_INFO);
    assert_int_equal(st, CORE_OK);
    assert_int_equal(published, 3);
    assert_true(failures > 50); /* the loop did reach the failure paths */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(raise_records_and_applies_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(registry_maps_names_to_types, setup, teardown),
        cmocka_unit_test_setup_teardown(store_appends_all_events_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(store_refuses_metadata_it_could_not_load, setup, teardown),
        cmocka_unit_test_setup_teardown(store_keeps_the_newest_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(store_refuses_stored_data_it_cannot_read, setup, teardown),
        cmocka_unit_test_setup_teardown(repo_saves_and_publishes_exactly_once, setup, teardown),
        cmocka_unit_test_setup_teardown(repo_conflict_stores_and_publishes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(repo_load_of_unknown_id_is_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(repo_save_in_hands_events_over_unpublished, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(older_store_ops_still_work, setup, teardown),
        cmocka_unit_test_setup_teardown(snapshots_every_n_and_load_equals_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(snapshot_every_comes_from_the_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(allocation_failures_leak_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
