/* ddd.c -- see ddd.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ddd.h"
#include "log.h"
#include "pb.h"

struct metadata_entry {
    char *key;
    char *value;
};

struct ddd_event {
    char id[CORE_UUID_LEN + 1];
    char *name;
    ProtobufCMessage *payload;
    struct timespec occurred_at;
    struct metadata_entry metadata[DDD_METADATA_MAX];
    size_t nmetadata;
};

/* ---- events -----------------------------------------------------------------------------------
 */

core_status ddd_event_new(ddd_event **out, const char *name, ProtobufCMessage **payload,
                          core_err *err)
{
    ddd_event *ev = core_calloc(1, sizeof *ev);
    if (!ev || !(ev->name = core_strdup(name))) {
        core_free(ev);
        if (payload) {
            pb_free(*payload);
            *payload = NULL;
        }
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory creating event %s", name);
    }
    core_uuid_new(ev->id);
    clock_gettime(CLOCK_REALTIME, &ev->occurred_at);
    if (payload) {
        ev->payload = *payload;
        *payload = NULL;
    }
    *out = ev;
    return CORE_OK;
}

void ddd_event_free(ddd_event *ev)
{
    if (!ev)
        return;
    for (size_t i = 0; i < ev->nmetadata; i++) {
        core_free(ev->metadata[i].key);
        core_free(ev->metadata[i].value);
    }
    pb_free(ev->payload);
    core_free(ev->name);
    core_free(ev);
}

const char *ddd_event_id(const ddd_event *ev)
{
    return ev->id;
}

const char *ddd_event_name(const ddd_event *ev)
{
    return ev->name;
}

struct timespec ddd_event_occurred_at(const ddd_event *ev)
{
    return ev->occurred_at;
}

const ProtobufCMessage *ddd_event_payload(const ddd_event *ev)
{
    return ev->payload;
}

bool ddd_event_payload_is(const ddd_event *ev, const ProtobufCMessageDescriptor *desc)
{
    return ev->payload && ev->payload->descriptor == desc;
}

core_status ddd_event_set_metadata(ddd_event *ev, const char *key, const char *value, core_err *err)
{
    char *v = core_strdup(value);
    if (!v)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ev->nmetadata; i++) {
        if (strcmp(ev->metadata[i].key, key) == 0) {
            core_free(ev->metadata[i].value);
            ev->metadata[i].value = v;
            return CORE_OK;
        }
    }
    if (ev->nmetadata == DDD_METADATA_MAX) {
        core_free(v);
        return core_err_set(err, CORE_ERR_TOO_LARGE, "event %s: more than %d metadata entries",
                            ev->name, DDD_METADATA_MAX);
    }
    char *k = core_strdup(key);
    if (!k) {
        core_free(v);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    }
    ev->metadata[ev->nmetadata].key = k;
    ev->metadata[ev->nmetadata].value = v;
    ev->nmetadata++;
    return CORE_OK;
}

const char *ddd_event_metadata(const ddd_event *ev, const char *key)
{
    for (size_t i = 0; i < ev->nmetadata; i++)
        if (strcmp(ev->metadata[i].key, key) == 0)
            return ev->metadata[i].value;
    return NULL;
}

size_t ddd_event_metadata_count(const ddd_event *ev)
{
    return ev->nmetadata;
}

void ddd_event_metadata_at(const ddd_event *ev, size_t i, const char **key, const char **value)
{
    *key = ev->metadata[i].key;
    *value = ev->metadata[i].value;
}

core_status ddd_event_restore(ddd_event *ev, const char *id, struct timespec occurred_at,
                              core_err *err)
{
    if (!core_strlcpy(ev->id, id, sizeof ev->id))
        return core_err_set(err, CORE_ERR_INVALID, "event id \"%.40s...\" is too long", id);
    ev->occurred_at = occurred_at;
    return CORE_OK;
}

core_status ddd_event_list_push(struct ddd_event_list *list, ddd_event **event, core_err *err)
{
    if (core_array_grow(&list->items, &list->cap, list->n + 1, sizeof *list->items)) {
        ddd_event_free(*event);
        *event = NULL;
        return core_err_nomem(err);
    }
    list->items[list->n++] = *event;
    *event = NULL;
    return CORE_OK;
}

void ddd_event_list_release(struct ddd_event_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        ddd_event_free(list->items[i]);
    core_free(list->items);
    list->items = NULL;
    list->n = list->cap = 0;
}

/* ---- aggregates -------------------------------------------------------------------------------
 */

void ddd_aggregate_init(struct ddd_aggregate *agg, const char *name)
{
    memset(agg, 0, sizeof *agg);
    agg->name = name;
}

void ddd_aggregate_release(struct ddd_aggregate *agg)
{
    ddd_event_list_release(&agg->events);
}

core_status ddd_aggregate_set_id(struct ddd_aggregate *agg, const char *id, core_err *err)
{
    if (!core_strlcpy(agg->id, id, sizeof agg->id))
        return core_err_set(err, CORE_ERR_INVALID, "the %s id is longer than %d characters",
                            agg->name, DDD_ID_MAX);
    return CORE_OK;
}

core_status ddd_aggregate_add_event(struct ddd_aggregate *agg, const char *event_name,
                                    ProtobufCMessage **payload, core_err *err)
{
    ddd_event *ev = NULL;
    core_status st = ddd_event_new(&ev, event_name, payload, err);
    if (!st && !(st = ddd_event_set_metadata(ev, "aggregate-name", agg->name, err)) &&
        !(st = ddd_event_set_metadata(ev, "aggregate-id", agg->id, err)))
        return ddd_event_list_push(&agg->events, &ev, err);
    ddd_event_free(ev);
    return st;
}

core_status ddd_aggregate_take_events(struct ddd_aggregate *agg, struct ddd_event_list *out,
                                      core_err *err)
{
    /* Reserve first so that the hand-over itself cannot fail half-way. */
    if (core_array_grow(&out->items, &out->cap, out->n + agg->events.n, sizeof *out->items))
        return core_err_nomem(err);
    for (size_t i = 0; i < agg->events.n; i++)
        out->items[out->n++] = agg->events.items[i];
    agg->events.n = 0;
    return CORE_OK;
}

void ddd_aggregate_clear_events(struct ddd_aggregate *agg)
{
    for (size_t i = 0; i < agg->events.n; i++)
        ddd_event_free(agg->events.items[i]);
    agg->events.n = 0;
}

/* ---- dispatcher -------------------------------------------------------------------------------
 */

struct subscription {
    char *event_name;
    const char *label;
    ddd_handler_fn fn;
    void *ud;
};

struct ddd_dispatcher {
    struct subscription *subs; /* in registration order */
    size_t n, cap;
};

core_status ddd_dispatcher_new(ddd_dispatcher **out, core_err *err)
{
    ddd_dispatcher *d = core_calloc(1, sizeof *d);
    if (!d)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    *out = d;
    return CORE_OK;
}

void ddd_dispatcher_free(ddd_dispatcher *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        core_free(d->subs[i].event_name);
    core_free(d->subs);
    core_free(d);
}

core_status ddd_dispatcher_subscribe(ddd_dispatcher *d, const char *event_name, const char *label,
                                     ddd_handler_fn fn, void *ud, core_err *err)
{
    if (core_array_grow(&d->subs, &d->cap, d->n + 1, sizeof *d->subs))
        return core_err_nomem(err);
    char *name = core_strdup(event_name);
    if (!name)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    d->subs[d->n++] = (struct subscription){name, label ? label : "handler", fn, ud};
    return CORE_OK;
}

/* Calls s's handler with ev; on failure err (not NULL) says why. Encloses the call in the enter
 * and leave records of log.h: the book's logging decorator of the event handlers, here once for
 * all of them. */
static core_status call_handler(const struct subscription *s, const ddd_event *ev, core_err *err)
{
    struct log_call call;
    log_call_enter(&call, "%s.On(%s) event_id=%s", s->label, ddd_event_name(ev), ddd_event_id(ev));
    core_status st = s->fn(s->ud, ev, err);
    if (st != CORE_OK && err->status != st) /* the handler forgot the detail */
        core_err_set(err, st, "%s", core_status_text(st));
    return log_call_leave(&call, st, err);
}

core_status ddd_dispatcher_publish(ddd_dispatcher *d, ddd_event *const *events, size_t n,
                                   core_err *err)
{
    for (size_t e = 0; e < n; e++) {
        const char *name = ddd_event_name(events[e]);
        for (size_t i = 0; i < d->n; i++) {
            if (strcmp(d->subs[i].event_name, name) != 0)
                continue;
            core_err local = CORE_ERR_INIT;
            core_status st = call_handler(&d->subs[i], events[e], &local);
            if (st) {
                core_err_wrap(&local, "%s on %s", d->subs[i].label, name);
                if (err)
                    *err = local;
                return st;
            }
        }
    }
    return CORE_OK;
}

size_t ddd_dispatcher_count(const ddd_dispatcher *d, const char *event_name)
{
    size_t c = 0;
    for (size_t i = 0; i < d->n; i++)
        c += strcmp(d->subs[i].event_name, event_name) == 0;
    return c;
}

/* ---- publishers -------------------------------------------------------------------------------
 */

core_status ddd_publish(const struct ddd_publisher *p, ddd_event *const *events, size_t n,
                        core_err *err)
{
    if (!p || !p->ops)
        return core_err_set(err, CORE_ERR_INTERNAL, "no publisher is set");
    if (!p->ops->publish)
        return core_err_set(err, CORE_ERR_INTERNAL, "the %s publisher cannot publish",
                            p->ops->kind ? p->ops->kind : "(unnamed)");
    if (n == 0)
        return CORE_OK;
    return p->ops->publish(p->impl, events, n, err);
}

static core_status dispatcher_publish(void *impl, ddd_event *const *events, size_t n, core_err *err)
{
    return ddd_dispatcher_publish(impl, events, n, err);
}

static const struct ddd_publisher_ops dispatcher_ops = {
    .kind = "dispatcher",
    .publish = dispatcher_publish,
};

struct ddd_publisher ddd_dispatcher_publisher(ddd_dispatcher *d)
{
    return (struct ddd_publisher){&dispatcher_ops, d};
}
