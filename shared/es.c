/* es.c -- event sourcing: aggregates, the registry, the backend-neutral half of the aggregate
 * store (events <-> records) and the aggregate repository. See es.h.
 *
 * Reading order: aggregates, registry, store front (append encodes events into records, load
 * decodes records into events), repository, ES_SNAPSHOT_EVERY. The backends live in es_pg.c
 * (PostgreSQL) and es_mem.c (in memory).
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "es.h"
#include "log.h"
#include "pb.h"
#include "pbjson.h"

#define VERSION_MAX INT32_MAX /* stream_version is an int column */

/* ---- aggregates -------------------------------------------------------------------------------
 */

void es_aggregate_init(struct es_aggregate *agg, const char *name)
{
    ddd_aggregate_init(&agg->base, name);
    agg->version = 0;
}

void es_aggregate_release(struct es_aggregate *agg)
{
    ddd_aggregate_release(&agg->base);
}

uint64_t es_aggregate_version(const struct es_aggregate *agg)
{
    return agg->version;
}

uint64_t es_aggregate_pending_version(const struct es_aggregate *agg)
{
    return agg->version + agg->base.events.n;
}

/* Frees the last recorded event (undoes a push). */
static void drop_last_event(struct ddd_aggregate *agg)
{
    agg->events.n--;
    ddd_event_free(agg->events.items[agg->events.n]);
    agg->events.items[agg->events.n] = NULL;
}

core_status es_aggregate_raise(struct es_aggregate *agg, void *entity,
                               const struct es_aggregate_type *type, const char *event_name,
                               ProtobufCMessage **payload, core_err *err)
{
    assert((char *)entity + type->agg_offset == (char *)agg);
    if (!payload || !*payload)
        return core_err_set(err, CORE_ERR_INTERNAL, "%s %s: event %s raised without a payload",
                            type->name, agg->base.id, event_name);
    char version[24];
    snprintf(version, sizeof version, "%" PRIu64, es_aggregate_pending_version(agg) + 1);

    /* Record first (the only step that allocates), then apply: if apply fails the event is
     * dropped again, and apply being all-or-nothing leaves the entity as it was. */
    core_status st = ddd_aggregate_add_event(&agg->base, event_name, payload, err);
    if (st)
        return st;
    ddd_event *ev = agg->base.events.items[agg->base.events.n - 1];
    st = ddd_event_set_metadata(ev, "aggregate-version", version, err);
    if (!st)
        st = type->apply(entity, ev, err);
    if (st)
        drop_last_event(&agg->base);
    return st;
}

/* ---- registry ---------------------------------------------------------------------------------
 */

struct reg_entry {
    char *name;
    const ProtobufCMessageDescriptor *desc;
    char *channel; /* NULL: registered without one */
};

struct es_registry {
    struct reg_entry *items;
    size_t n, cap;
};

core_status es_registry_new(es_registry **out, core_err *err)
{
    es_registry *reg = core_calloc(1, sizeof *reg);
    if (!reg)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    *out = reg;
    return CORE_OK;
}

void es_registry_free(es_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n; i++) {
        core_free(reg->items[i].name);
        core_free(reg->items[i].channel);
    }
    core_free(reg->items);
    core_free(reg);
}

const ProtobufCMessageDescriptor *es_registry_lookup(const es_registry *reg, const char *name)
{
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(reg->items[i].name, name) == 0)
            return reg->items[i].desc;
    return NULL;
}

core_status es_registry_add(es_registry *reg, const char *name,
                            const ProtobufCMessageDescriptor *desc, core_err *err)
{
    if (core_str_blank(name) || !desc)
        return core_err_set(err, CORE_ERR_INVALID,
                            "registry: a name and a message type are required");
    if (es_registry_lookup(reg, name))
        return core_err_set(err, CORE_ERR_CONFLICT, "%s is already registered", name);
    if (core_array_grow(&reg->items, &reg->cap, reg->n + 1, sizeof *reg->items))
        return core_err_nomem(err);
    char *copy = core_strdup(name);
    if (!copy)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    reg->items[reg->n++] = (struct reg_entry){copy, desc, NULL};
    return CORE_OK;
}

core_status es_registry_add_on(es_registry *reg, const char *channel, const char *name,
                               const ProtobufCMessageDescriptor *desc, core_err *err)
{
    if (core_str_blank(channel))
        return core_err_set(err, CORE_ERR_INVALID, "registry: %s needs a channel",
                            name ? name : "a message");
    char *copy = core_strdup(channel);
    if (!copy)
        return core_err_nomem(err);
    core_status st = es_registry_add(reg, name, desc, err);
    if (st != CORE_OK) {
        core_free(copy);
        return st;
    }
    reg->items[reg->n - 1].channel = copy;
    return CORE_OK;
}

size_t es_registry_count(const es_registry *reg)
{
    return reg ? reg->n : 0;
}

bool es_registry_at(const es_registry *reg, size_t i, const char **name,
                    const ProtobufCMessageDescriptor **desc, const char **channel)
{
    if (!reg || i >= reg->n)
        return false;
    if (name)
        *name = reg->items[i].name;
    if (desc)
        *desc = reg->items[i].desc;
    if (channel)
        *channel = reg->items[i].channel;
    return true;
}

core_status es_registry_encode(const es_registry *reg, const char *name,
                               const ProtobufCMessage *msg, char **json_out, core_err *err)
{
    const ProtobufCMessageDescriptor *desc = es_registry_lookup(reg, name);
    if (!desc)
        return core_err_set(err, CORE_ERR_INTERNAL, "%s is not registered", name);
    if (!msg)
        return core_err_set(err, CORE_ERR_INTERNAL, "%s: no message (want a %s)", name, desc->name);
    if (msg->descriptor != desc)
        return core_err_set(err, CORE_ERR_INTERNAL, "%s: the message is a %s, want a %s", name,
                            msg->descriptor->name, desc->name);
    return pbjson_encode(msg, json_out, err);
}

core_status es_registry_decode(const es_registry *reg, const char *name, const char *json,
                               size_t len, ProtobufCMessage **out, core_err *err)
{
    const ProtobufCMessageDescriptor *desc = es_registry_lookup(reg, name);
    if (!desc)
        return core_err_set(err, CORE_ERR_INTERNAL, "%s is not registered", name);
    return pbjson_decode(desc, json, len, out, err);
}

/* ---- store front ------------------------------------------------------------------------------
 */

struct es_store {
    const struct es_store_ops *ops;
    void *impl;
    const es_registry *reg;
};

core_status es_store_new(es_store **out, const struct es_store_ops *ops, void *impl,
                         const es_registry *reg, core_err *err)
{
    es_store *s = core_calloc(1, sizeof *s);
    if (!s) {
        ops->free(impl);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    }
    *s = (es_store){ops, impl, reg};
    *out = s;
    return CORE_OK;
}

void es_store_free(es_store *store)
{
    if (!store)
        return;
    store->ops->free(store->impl);
    core_free(store);
}

core_status es_store_conflict(core_err *err, const char *stream_name, const char *stream_id,
                              uint64_t expected_version, uint64_t stored_version)
{
    if (expected_version == 0)
        return core_err_set(err, CORE_ERR_CONFLICT,
                            "%s %s already exists (expected version 0, stored version %" PRIu64 ")",
                            stream_name, stream_id, stored_version);
    return core_err_set(err, CORE_ERR_CONFLICT,
                        "%s %s was changed by someone else (expected version %" PRIu64
                        ", stored version %" PRIu64 ")",
                        stream_name, stream_id, expected_version, stored_version);
}

/* Dumps a JSON value (reference taken) into core_malloc'd text; a NULL value means jansson ran
 * out of memory building it. */
static core_status dump_json(json_t *json, char **out, core_err *err)
{
    if (!json)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    core_status st = pbjson_dump(json, out, NULL, err);
    json_decref(json);
    return st;
}

/* The metadata object stored with an event: all of the event's metadata, with the stream's name,
 * id and the event's version set authoritatively (whatever the event carried). */
static core_status encode_metadata(const ddd_event *ev, const char *stream_name,
                                   const char *stream_id, uint64_t version, char **out,
                                   core_err *err)
{
    char v[24];
    snprintf(v, sizeof v, "%" PRIu64, version);
    json_t *obj = json_object();
    if (!obj)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    int bad = 0;
    for (size_t i = 0; i < ddd_event_metadata_count(ev) && !bad; i++) {
        const char *key, *value;
        ddd_event_metadata_at(ev, i, &key, &value);
        /* json_string() refuses text that is not UTF-8 (and fails when out of memory) */
        bad = json_object_set_new(obj, key, json_string(value));
    }
    if (bad || json_object_set_new(obj, "aggregate-name", json_string(stream_name)) ||
        json_object_set_new(obj, "aggregate-id", json_string(stream_id)) ||
        json_object_set_new(obj, "aggregate-version", json_string(v))) {
        json_decref(obj);
        return core_err_set(err, CORE_ERR_INVALID, "%s %s: metadata is not valid UTF-8",
                            stream_name, stream_id);
    }
    /* load rebuilds every entry with ddd_event_set_metadata(): more would make the stream
     * unloadable */
    if (json_object_size(obj) > DDD_METADATA_MAX) {
        size_t n = json_object_size(obj);
        json_decref(obj);
        return core_err_set(err, CORE_ERR_TOO_LARGE,
                            "%s %s: event %s has %zu metadata entries with the store's own, more "
                            "than %d",
                            stream_name, stream_id, ddd_event_name(ev), n, DDD_METADATA_MAX);
    }
    return dump_json(obj, out, err);
}

static struct timespec truncate_to_us(struct timespec t)
{
    t.tv_nsec -= t.tv_nsec % 1000;
    return t;
}

/* The strings a record points at, owned while the append runs. */
struct owned_record {
    char *data;
    char *metadata;
};

core_status es_store_append(es_store *store, const char *stream_name, const char *stream_id,
                            uint64_t expected_version, ddd_event *const *events, size_t n,
                            core_err *err)
{
    return es_store_append_in(store, NULL, stream_name, stream_id, expected_version, events, n,
                              err);
}

/* es_store_append_in, and with snap not NULL (tx NULL, a backend with append_snapshot) the
 * snapshot stored with the events; its failure alone goes to snap_err. */
static core_status append_events(es_store *store, pg_conn *tx, const char *stream_name,
                                 const char *stream_id, uint64_t expected_version,
                                 ddd_event *const *events, size_t n,
                                 const struct es_snapshot_record *snap, core_err *snap_err,
                                 core_err *err)
{
    if (n == 0)
        return CORE_OK;
    if (tx && !store->ops->append_in) /* a backend from before append_in, or the memory one */
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "the %s store cannot append inside a caller's transaction",
                            store->ops->kind);
    if (expected_version > VERSION_MAX || n > VERSION_MAX - expected_version)
        return core_err_set(err, CORE_ERR_TOO_LARGE, "%s %s: more than %d events", stream_name,
                            stream_id, VERSION_MAX);
    core_status st = CORE_OK;
    struct es_record *recs = core_calloc(n, sizeof *recs);
    struct owned_record *owned = core_calloc(n, sizeof *owned);
    if (!recs || !owned) {
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n && !st; i++) {
        const ddd_event *ev = events[i];
        uint64_t version = expected_version + 1 + i;
        st = es_registry_encode(store->reg, ddd_event_name(ev), ddd_event_payload(ev),
                                &owned[i].data, err);
        if (!st)
            st = encode_metadata(ev, stream_name, stream_id, version, &owned[i].metadata, err);
        recs[i] = (struct es_record){
            .version = version,
            .event_id = ddd_event_id(ev),
            .event_name = ddd_event_name(ev),
            .data = owned[i].data,
            .metadata = owned[i].metadata,
            .occurred_at = truncate_to_us(ddd_event_occurred_at(ev)),
        };
    }
    if (!st && tx)
        st = store->ops->append_in(store->impl, tx, stream_name, stream_id, expected_version, recs,
                                   n, err);
    else if (!st && snap)
        st = store->ops->append_snapshot(store->impl, stream_name, stream_id, expected_version,
                                         recs, n, snap, snap_err, err);
    else if (!st)
        st =
            store->ops->append(store->impl, stream_name, stream_id, expected_version, recs, n, err);
    if (!st)
        log_debug("es", "appended %s %s versions %" PRIu64 "..%" PRIu64, stream_name, stream_id,
                  expected_version + 1, expected_version + n);
done:
    for (size_t i = 0; owned && i < n; i++) {
        core_free(owned[i].data);
        core_free(owned[i].metadata);
    }
    core_free(owned);
    core_free(recs);
    return st;
}

core_status es_store_append_in(es_store *store, pg_conn *tx, const char *stream_name,
                               const char *stream_id, uint64_t expected_version,
                               ddd_event *const *events, size_t n, core_err *err)
{
    return append_events(store, tx, stream_name, stream_id, expected_version, events, n, NULL, NULL,
                         err);
}

/* Sets every string entry of the stored metadata object on ev. */
static core_status restore_metadata(ddd_event *ev, const char *text, core_err *err)
{
    json_error_t jerr;
    json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    core_status st = CORE_OK;
    if (!json_is_object(obj)) {
        st = core_err_set(err, CORE_ERR_INTERNAL, "the metadata is not a JSON object");
    } else {
        const char *key;
        json_t *value;
        json_object_foreach(obj, key, value)
        {
            if (!json_is_string(value)) {
                st = core_err_set(err, CORE_ERR_INTERNAL, "metadata %s is not a string", key);
                break;
            }
            st = ddd_event_set_metadata(ev, key, json_string_value(value), err);
            if (st)
                break;
        }
    }
    json_decref(obj);
    return st;
}

struct load_ctx {
    const es_registry *reg;
    const char *stream_name;
    const char *stream_id;
    uint64_t next_version;
    struct ddd_event_list *out;
};

/* Rebuilds one event from its record and appends it to ctx->out. */
static core_status load_record(void *vctx, const struct es_record *rec, core_err *err)
{
    struct load_ctx *ctx = vctx;
    if (rec->version != ctx->next_version)
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "%s %s: stored versions have a gap (want %" PRIu64 ", found %" PRIu64
                            ")",
                            ctx->stream_name, ctx->stream_id, ctx->next_version, rec->version);
    core_err inner = CORE_ERR_INIT;
    ProtobufCMessage *payload = NULL;
    ddd_event *ev = NULL;
    char version[24];
    snprintf(version, sizeof version, "%" PRIu64, rec->version);
    core_status st = es_registry_decode(ctx->reg, rec->event_name, rec->data, strlen(rec->data),
                                        &payload, &inner);
    if (!st)
        st = ddd_event_new(&ev, rec->event_name, &payload, &inner);
    if (!st)
        st = ddd_event_restore(ev, rec->event_id, rec->occurred_at, &inner);
    if (!st)
        st = restore_metadata(ev, rec->metadata, &inner);
    if (!st)
        st = ddd_event_set_metadata(ev, "aggregate-name", ctx->stream_name, &inner);
    if (!st)
        st = ddd_event_set_metadata(ev, "aggregate-id", ctx->stream_id, &inner);
    if (!st)
        st = ddd_event_set_metadata(ev, "aggregate-version", version, &inner);
    if (!st)
        st = ddd_event_list_push(ctx->out, &ev, &inner); /* takes ev, also on failure */
    ddd_event_free(ev);
    if (st) {
        /* Stored data that does not decode is our fault, not the caller's input: INTERNAL. */
        if (st != CORE_ERR_NOMEM)
            st = CORE_ERR_INTERNAL;
        return core_err_set(err, st, "stored event %s of %s %s version %" PRIu64 ": %s",
                            rec->event_name, ctx->stream_name, ctx->stream_id, rec->version,
                            inner.msg);
    }
    ctx->next_version++;
    return CORE_OK;
}

core_status es_store_load(es_store *store, const char *stream_name, const char *stream_id,
                          uint64_t after_version, struct ddd_event_list *out, core_err *err)
{
    assert(out->n == 0);
    struct load_ctx ctx = {store->reg, stream_name, stream_id, after_version + 1, out};
    core_status st = store->ops->load(store->impl, stream_name, stream_id, after_version,
                                      load_record, &ctx, err);
    if (st)
        ddd_event_list_release(out);
    return st;
}

/* es_store_save_snapshot inside tx (NULL: the store's own). A backend without save_snapshot_in
 * cannot: CORE_ERR_INTERNAL, nothing written (the repository logs it; a snapshot is a cache). */
static core_status save_snapshot_in(es_store *store, pg_conn *tx, const char *stream_name,
                                    const char *stream_id, uint64_t version,
                                    const char *snapshot_name, const ProtobufCMessage *snap,
                                    core_err *err)
{
    if (tx && !store->ops->save_snapshot_in)
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "the %s store cannot save a snapshot inside a caller's transaction",
                            store->ops->kind);
    if (version > VERSION_MAX)
        return core_err_set(err, CORE_ERR_TOO_LARGE, "%s %s: version %" PRIu64 " is too large",
                            stream_name, stream_id, version);
    char *data = NULL;
    core_status st = es_registry_encode(store->reg, snapshot_name, snap, &data, err);
    if (!st) {
        struct es_snapshot_record rec = {version, snapshot_name, data};
        st = tx ? store->ops->save_snapshot_in(store->impl, tx, stream_name, stream_id, &rec, err)
                : store->ops->save_snapshot(store->impl, stream_name, stream_id, &rec, err);
    }
    core_free(data);
    return st;
}

core_status es_store_save_snapshot(es_store *store, const char *stream_name, const char *stream_id,
                                   uint64_t version, const char *snapshot_name,
                                   const ProtobufCMessage *snap, core_err *err)
{
    return save_snapshot_in(store, NULL, stream_name, stream_id, version, snapshot_name, snap, err);
}

void es_snapshot_release(struct es_snapshot *snap)
{
    pb_free(snap->data);
    *snap = (struct es_snapshot)ES_SNAPSHOT_INIT;
}

struct snapshot_ctx {
    const es_registry *reg;
    const char *stream_name;
    const char *stream_id;
    struct es_snapshot *out;
};

static core_status load_snapshot_record(void *vctx, const struct es_snapshot_record *rec,
                                        core_err *err)
{
    struct snapshot_ctx *ctx = vctx;
    core_err inner = CORE_ERR_INIT;
    core_status st = CORE_OK;
    if (!core_strlcpy(ctx->out->name, rec->name, sizeof ctx->out->name))
        st = core_err_set(&inner, CORE_ERR_INTERNAL, "the name is too long");
    if (!st)
        st = es_registry_decode(ctx->reg, rec->name, rec->data, strlen(rec->data), &ctx->out->data,
                                &inner);
    if (st) {
        if (st != CORE_ERR_NOMEM)
            st = CORE_ERR_INTERNAL;
        return core_err_set(err, st, "stored snapshot %.96s of %s %s: %s", rec->name,
                            ctx->stream_name, ctx->stream_id, inner.msg);
    }
    ctx->out->version = rec->version;
    return CORE_OK;
}

core_status es_store_load_snapshot(es_store *store, const char *stream_name, const char *stream_id,
                                   struct es_snapshot *out, core_err *err)
{
    assert(out->data == NULL);
    struct snapshot_ctx ctx = {store->reg, stream_name, stream_id, out};
    core_status st = store->ops->load_snapshot(store->impl, stream_name, stream_id,
                                               load_snapshot_record, &ctx, err);
    if (st)
        es_snapshot_release(out);
    return st;
}

/* ---- repository -------------------------------------------------------------------------------
 */

struct es_repo {
    const struct es_aggregate_type *type;
    es_store *store;
    struct ddd_publisher publisher; /* ops NULL = none */
    uint64_t snapshot_every;
};

core_status es_repo_new(es_repo **out, const struct es_aggregate_type *type, es_store *store,
                        const struct ddd_publisher *publisher, int snapshot_every, core_err *err)
{
    if (snapshot_every < 0)
        return core_err_set(err, CORE_ERR_INVALID, "%s repository: snapshot_every %d is negative",
                            type->name, snapshot_every);
    if (type->snapshot_name && (!type->to_snapshot || !type->from_snapshot))
        return core_err_set(err, CORE_ERR_INVALID,
                            "%s repository: snapshots need to_snapshot and from_snapshot",
                            type->name);
    es_repo *r = core_calloc(1, sizeof *r);
    if (!r)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    *r = (es_repo){type, store, publisher ? *publisher : (struct ddd_publisher){NULL, NULL},
                   snapshot_every ? (uint64_t)snapshot_every : ES_SNAPSHOT_EVERY_DEFAULT};
    *out = r;
    return CORE_OK;
}

void es_repo_free(es_repo *repo)
{
    core_free(repo);
}

static struct es_aggregate *agg_of(const struct es_aggregate_type *type, void *entity)
{
    return (struct es_aggregate *)((char *)entity + type->agg_offset);
}

/* Applies a loaded snapshot (borrowed) when it has the type's snapshot name, else logs that it is
 * ignored. *found tells whether it was applied, *version its version. */
static core_status use_snapshot(es_repo *repo, const char *id, void *entity,
                                const struct es_snapshot *snap, bool *found, uint64_t *version,
                                core_err *err)
{
    const struct es_aggregate_type *type = repo->type;
    if (strcmp(snap->name, type->snapshot_name) != 0) {
        log_info("es", "ignoring snapshot %s of %s %s (want %s): loading all events", snap->name,
                 type->name, id, type->snapshot_name);
        return CORE_OK;
    }
    core_status st = type->from_snapshot(entity, snap->data, err);
    if (st)
        return core_err_wrap(err, "snapshot %s of %s %s", snap->name, type->name, id);
    *found = true;
    *version = snap->version;
    return CORE_OK;
}

/* Applies the stored snapshot, if there is one with the type's snapshot name (the two-call load
 * of a backend without load_stream). *found tells whether one was applied, *version its
 * version. */
static core_status apply_snapshot(es_repo *repo, const char *id, void *entity, bool *found,
                                  uint64_t *version, core_err *err)
{
    const struct es_aggregate_type *type = repo->type;
    struct es_snapshot snap = ES_SNAPSHOT_INIT;
    core_err inner = CORE_ERR_INIT;
    core_status st = es_store_load_snapshot(repo->store, type->name, id, &snap, &inner);
    if (st == CORE_ERR_NOT_FOUND)
        return CORE_OK;
    if (st) {
        if (err)
            *err = inner;
        return st;
    }
    st = use_snapshot(repo, id, entity, &snap, found, version, err);
    es_snapshot_release(&snap);
    return st;
}

/* es_repo_load's state while a backend's load_stream calls back: the snapshot first (if any),
 * then the events after it. */
struct stream_ctx {
    es_repo *repo;
    const char *id;
    void *entity;
    bool found;
    uint64_t version;
    struct load_ctx events; /* next_version follows the snapshot */
};

static core_status stream_snapshot(void *vctx, const struct es_snapshot_record *rec, core_err *err)
{
    struct stream_ctx *c = vctx;
    if (!c->repo->type->snapshot_name)
        return CORE_OK; /* a type without snapshots: every event is loaded */
    struct es_snapshot snap = ES_SNAPSHOT_INIT;
    struct snapshot_ctx sc = {c->repo->store->reg, c->repo->type->name, c->id, &snap};
    core_status st = load_snapshot_record(&sc, rec, err);
    if (!st)
        st = use_snapshot(c->repo, c->id, c->entity, &snap, &c->found, &c->version, err);
    if (!st && c->found)
        c->events.next_version = c->version + 1;
    es_snapshot_release(&snap);
    return st;
}

static core_status stream_event(void *vctx, const struct es_record *rec, core_err *err)
{
    struct stream_ctx *c = vctx;
    return load_record(&c->events, rec, err);
}

core_status es_repo_load(es_repo *repo, const char *id, void *entity, core_err *err)
{
    return es_repo_load_in(repo, NULL, id, entity, err);
}

core_status es_repo_load_in(es_repo *repo, pg_conn *tx, const char *id, void *entity, core_err *err)
{
    const struct es_aggregate_type *type = repo->type;
    const struct es_store_ops *ops = repo->store->ops;
    struct es_aggregate *agg = agg_of(type, entity);
    if (agg->version != 0 || agg->base.events.n != 0 || agg->base.id[0] != '\0')
        return core_err_set(err, CORE_ERR_INTERNAL, "%s: es_repo_load needs an empty entity",
                            type->name);
    if (tx && !ops->load_stream_in) /* a backend from before load_stream_in, or the memory one */
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "the %s store cannot load inside a caller's transaction", ops->kind);
    core_status st = ddd_aggregate_set_id(&agg->base, id, err);
    if (st)
        return st;
    bool found = false;
    uint64_t version = 0;
    struct ddd_event_list events = DDD_EVENT_LIST_INIT;
    if (tx || (type->snapshot_name && ops->load_stream)) {
        /* snapshot and events in one round trip */
        struct stream_ctx c = {repo, agg->base.id, entity, false, 0, {0}};
        c.events = (struct load_ctx){repo->store->reg, type->name, agg->base.id, 1, &events};
        st = tx ? ops->load_stream_in(repo->store->impl, tx, type->name, agg->base.id,
                                      type->snapshot_name, stream_snapshot, stream_event, &c, err)
                : ops->load_stream(repo->store->impl, type->name, agg->base.id, type->snapshot_name,
                                   stream_snapshot, stream_event, &c, err);
        if (st)
            ddd_event_list_release(&events);
        found = c.found;
        version = c.version;
    } else {
        if (type->snapshot_name)
            st = apply_snapshot(repo, id, entity, &found, &version, err);
        if (!st)
            st = es_store_load(repo->store, type->name, id, version, &events, err);
    }
    if (!st && !found && events.n == 0)
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "%s %s not found", type->name, id);
    for (size_t i = 0; i < events.n && !st; i++) {
        st = type->apply(entity, events.items[i], err);
        if (st)
            core_err_wrap(err, "applying %s (version %" PRIu64 ") to %s %s",
                          ddd_event_name(events.items[i]), version + 1 + i, type->name, id);
    }
    if (!st)
        agg->version = version + events.n;
    ddd_event_list_release(&events);
    return st;
}

static void snapshot_not_saved(const struct es_aggregate_type *type, const struct es_aggregate *agg,
                               uint64_t version, const char *why)
{
    log_warn("es", "snapshot of %s %s at version %" PRIu64 " not saved (the events are): %s",
             type->name, agg->base.id, version, why);
}

/* Appends the n pending events and the snapshot due at the version they reach, together (the
 * backend's append_snapshot, tx NULL). A snapshot that cannot be built is logged and the events
 * are appended alone; so is one the backend could not store. The entity already shows the pending
 * events (apply-on-raise), so its snapshot is the state at that version. */
static core_status append_with_snapshot(es_repo *repo, void *entity, struct es_aggregate *agg,
                                        core_err *err)
{
    const struct es_aggregate_type *type = repo->type;
    struct ddd_event_list *pending = &agg->base.events;
    uint64_t version = agg->version + pending->n;
    ProtobufCMessage *snap = NULL;
    char *data = NULL;
    core_err snap_err = CORE_ERR_INIT;
    core_status st = type->to_snapshot(entity, &snap, &snap_err);
    if (!st)
        st = es_registry_encode(repo->store->reg, type->snapshot_name, snap, &data, &snap_err);
    pb_free(snap);
    if (st)
        snapshot_not_saved(type, agg, version, snap_err.msg);
    struct es_snapshot_record rec = {version, type->snapshot_name, data};
    core_err stored = CORE_ERR_INIT;
    st = append_events(repo->store, NULL, type->name, agg->base.id, agg->version, pending->items,
                       pending->n, data ? &rec : NULL, &stored, err);
    if (!st && stored.status != CORE_OK)
        snapshot_not_saved(type, agg, version, stored.msg);
    core_free(data);
    return st;
}

/* Writes a snapshot of the entity at its current version, inside tx (NULL: the store's own).
 * Failures are logged only. */
static void take_snapshot(es_repo *repo, pg_conn *tx, void *entity, const struct es_aggregate *agg)
{
    const struct es_aggregate_type *type = repo->type;
    ProtobufCMessage *snap = NULL;
    core_err err = CORE_ERR_INIT;
    core_status st = type->to_snapshot(entity, &snap, &err);
    if (!st)
        st = save_snapshot_in(repo->store, tx, type->name, agg->base.id, agg->version,
                              type->snapshot_name, snap, &err);
    pb_free(snap);
    if (st)
        snapshot_not_saved(type, agg, agg->version, err.msg);
}

core_status es_repo_save_in(es_repo *repo, pg_conn *tx, void *entity, struct ddd_event_list *saved,
                            core_err *err)
{
    const struct es_aggregate_type *type = repo->type;
    struct es_aggregate *agg = agg_of(type, entity);
    struct ddd_event_list *pending = &agg->base.events;
    size_t n = pending->n;
    if (n == 0)
        return CORE_OK;
    if (core_str_blank(agg->base.id))
        return core_err_set(err, CORE_ERR_INVALID, "cannot save a %s without an id", type->name);
    /* Make room in *saved before the append, so nothing can fail between the append and the
     * hand-over. An empty *saved takes the pending list as it is (no allocation). */
    if (saved->n > 0 &&
        core_array_grow(&saved->items, &saved->cap, saved->n + n, sizeof *saved->items))
        return core_err_nomem(err);
    uint64_t old = agg->version;
    bool due =
        type->snapshot_name && old / repo->snapshot_every != (old + n) / repo->snapshot_every;
    bool together = due && !tx && repo->store->ops->append_snapshot; /* one commit */
    core_status st = together ? append_with_snapshot(repo, entity, agg, err)
                              : es_store_append_in(repo->store, tx, type->name, agg->base.id,
                                                   agg->version, pending->items, n, err);
    if (st)
        return st;
    agg->version += n;
    if (due && !together)
        take_snapshot(repo, tx, entity, agg);
    if (saved->n == 0) {
        core_free(saved->items);
        *saved = *pending;
    } else {
        memcpy(saved->items + saved->n, pending->items, n * sizeof *pending->items);
        saved->n += n;
        core_free(pending->items);
    }
    *pending = (struct ddd_event_list)DDD_EVENT_LIST_INIT;
    return CORE_OK;
}

core_status es_repo_save(es_repo *repo, void *entity, core_err *err)
{
    struct ddd_event_list events = DDD_EVENT_LIST_INIT;
    core_status st = es_repo_save_in(repo, NULL, entity, &events, err);
    if (!st && repo->publisher.ops)
        st = ddd_publish(&repo->publisher, events.items, events.n, err);
    ddd_event_list_release(&events);
    return st;
}

/* ---- configuration ----------------------------------------------------------------------------
 */

core_status es_snapshot_every_from_env(int *out, core_err *err)
{
    const char *text = getenv("ES_SNAPSHOT_EVERY");
    if (!text || !*text) {
        *out = ES_SNAPSHOT_EVERY_DEFAULT;
        return CORE_OK;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < 1 || v > 1000000 || text[0] == '+' ||
        text[0] == ' ')
        return core_err_set(err, CORE_ERR_INVALID,
                            "ES_SNAPSHOT_EVERY: \"%.32s\" is not a whole number from 1 to 1000000",
                            text);
    *out = (int)v;
    return CORE_OK;
}
