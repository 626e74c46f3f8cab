/* es_mem.c -- the in-memory backend of the aggregate store (see es.h): streams kept in process
 * memory behind one mutex, for unit tests. It keeps the same records the PostgreSQL backend
 * stores (JSON text, microsecond times), so both behave alike above the ops struct.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "es.h"

struct mem_event {
    uint64_t version;
    char *id;
    char *name;
    char *data;
    char *metadata;
    struct timespec occurred_at;
};

struct mem_stream {
    char *name;
    char *id;
    struct mem_event *events; /* events[i] has version i + 1 */
    size_t n, cap;
    bool has_snapshot;
    uint64_t snapshot_version;
    char *snapshot_name;
    char *snapshot_data;
};

struct mem_store {
    pthread_mutex_t mu;
    struct mem_stream **streams;
    size_t n, cap;
};

static void mem_event_release(struct mem_event *ev)
{
    core_free(ev->id);
    core_free(ev->name);
    core_free(ev->data);
    core_free(ev->metadata);
}

static void mem_stream_free(struct mem_stream *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        mem_event_release(&s->events[i]);
    core_free(s->events);
    core_free(s->name);
    core_free(s->id);
    core_free(s->snapshot_name);
    core_free(s->snapshot_data);
    core_free(s);
}

static void mem_free(void *impl)
{
    struct mem_store *m = impl;
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        mem_stream_free(m->streams[i]);
    core_free(m->streams);
    pthread_mutex_destroy(&m->mu);
    core_free(m);
}

/* Called with the mutex held. */
static struct mem_stream *find_stream(struct mem_store *m, const char *name, const char *id)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->streams[i]->name, name) == 0 && strcmp(m->streams[i]->id, id) == 0)
            return m->streams[i];
    return NULL;
}

/* Finds the stream or adds an empty one (mutex held). NULL when out of memory. */
static struct mem_stream *find_or_add_stream(struct mem_store *m, const char *name, const char *id)
{
    struct mem_stream *s = find_stream(m, name, id);
    if (s)
        return s;
    if (core_array_grow(&m->streams, &m->cap, m->n + 1, sizeof *m->streams))
        return NULL;
    s = core_calloc(1, sizeof *s);
    if (!s || !(s->name = core_strdup(name)) || !(s->id = core_strdup(id))) {
        mem_stream_free(s);
        return NULL;
    }
    m->streams[m->n++] = s;
    return s;
}

static core_status mem_append(void *impl, const char *stream_name, const char *stream_id,
                              uint64_t expected_version, const struct es_record *recs, size_t n,
                              core_err *err)
{
    struct mem_store *m = impl;
    core_status st = CORE_OK;
    /* Copy everything first, so that storing cannot fail half-way. */
    struct mem_event *copies = core_calloc(n, sizeof *copies);
    for (size_t i = 0; copies && i < n && !st; i++) {
        copies[i] = (struct mem_event){recs[i].version,
                                       core_strdup(recs[i].event_id),
                                       core_strdup(recs[i].event_name),
                                       core_strdup(recs[i].data),
                                       core_strdup(recs[i].metadata),
                                       recs[i].occurred_at};
        if (!copies[i].id || !copies[i].name || !copies[i].data || !copies[i].metadata)
            st = CORE_ERR_NOMEM;
    }
    if (!copies || st) {
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
        goto done;
    }

    pthread_mutex_lock(&m->mu);
    struct mem_stream *s = find_stream(m, stream_name, stream_id);
    uint64_t stored = s ? s->n : 0;
    if (stored != expected_version) {
        st = es_store_conflict(err, stream_name, stream_id, expected_version, stored);
    } else if (!(s = find_or_add_stream(m, stream_name, stream_id))) {
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    } else if (core_array_grow(&s->events, &s->cap, s->n + n, sizeof *s->events)) {
        st = core_err_nomem(err);
    }
    if (!st) {
        memcpy(s->events + s->n, copies, n * sizeof *copies);
        s->n += n;
        memset(copies, 0, n * sizeof *copies); /* now owned by the stream */
    }
    pthread_mutex_unlock(&m->mu);
done:
    for (size_t i = 0; copies && i < n; i++)
        mem_event_release(&copies[i]);
    core_free(copies);
    return st;
}

static core_status mem_load(void *impl, const char *stream_name, const char *stream_id,
                            uint64_t after_version, es_record_fn fn, void *ctx, core_err *err)
{
    struct mem_store *m = impl;
    core_status st = CORE_OK;
    pthread_mutex_lock(&m->mu);
    const struct mem_stream *s = find_stream(m, stream_name, stream_id);
    for (size_t i = after_version; s && i < s->n && !st; i++) {
        const struct mem_event *e = &s->events[i];
        struct es_record rec = {e->version, e->id, e->name, e->data, e->metadata, e->occurred_at};
        st = fn(ctx, &rec, err);
    }
    pthread_mutex_unlock(&m->mu);
    return st;
}

static core_status mem_save_snapshot(void *impl, const char *stream_name, const char *stream_id,
                                     const struct es_snapshot_record *rec, core_err *err)
{
    struct mem_store *m = impl;
    core_status st = CORE_OK;
    char *name = core_strdup(rec->name);
    char *data = core_strdup(rec->data);
    if (!name || !data) {
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
        goto done;
    }
    pthread_mutex_lock(&m->mu);
    struct mem_stream *s = find_or_add_stream(m, stream_name, stream_id);
    if (!s) {
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    } else if (!s->has_snapshot || s->snapshot_version <= rec->version) {
        core_free(s->snapshot_name);
        core_free(s->snapshot_data);
        s->snapshot_name = name;
        s->snapshot_data = data;
        s->snapshot_version = rec->version;
        s->has_snapshot = true;
        name = data = NULL;
    }
    pthread_mutex_unlock(&m->mu);
done:
    core_free(name);
    core_free(data);
    return st;
}

static core_status mem_load_snapshot(void *impl, const char *stream_name, const char *stream_id,
                                     es_snapshot_record_fn fn, void *ctx, core_err *err)
{
    struct mem_store *m = impl;
    core_status st;
    pthread_mutex_lock(&m->mu);
    const struct mem_stream *s = find_stream(m, stream_name, stream_id);
    if (s && s->has_snapshot) {
        struct es_snapshot_record rec = {s->snapshot_version, s->snapshot_name, s->snapshot_data};
        st = fn(ctx, &rec, err);
    } else {
        st = core_err_set(err, CORE_ERR_NOT_FOUND, "no snapshot of %s %s", stream_name, stream_id);
    }
    pthread_mutex_unlock(&m->mu);
    return st;
}

static const struct es_store_ops mem_ops = {
    .kind = "memory",
    .append = mem_append,
    .load = mem_load,
    .save_snapshot = mem_save_snapshot,
    .load_snapshot = mem_load_snapshot,
    .free = mem_free,
};

core_status es_mem_store_new(es_store **out, const es_registry *reg, core_err *err)
{
    struct mem_store *m = core_calloc(1, sizeof *m);
    if (!m)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        core_free(m);
        return core_err_set(err, CORE_ERR_INTERNAL, "cannot create a mutex");
    }
    return es_store_new(out, &mem_ops, m, reg, err);
}
