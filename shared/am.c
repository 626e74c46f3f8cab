/* am.c -- asynchronous messaging, the backend-neutral half (see am.h): the envelope
 * (StreamMessage, EventMessageData), names and subjects, the stream front (publish, subscribe,
 * close), the handling of one delivery (decode, filter, handler, ack / NAK with backoff / dead
 * letter) and the event layer. The backends live in am_js.c (NATS JetStream) and am_mem.c.
 *
 * Reading order: envelope, names and subjects, stream front, one delivery, events.
 */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "am.h"
#include "am/message_types.pb-c.h"
#include "am/stream_message.pb-c.h"
#include "log.h"
#include "pb.h"

#define LOG_COMP "am"

/* ---- envelope -------------------------------------------------------------------------------- */

/* protobuf-c's unpack returns NULL both for bad bytes and for a failed allocation; the core's
 * allocator remembers which, so that an out-of-memory is retried (NAK) and not taken for bad
 * data (dead letter). Trees made here are freed with pb_free() like any other. */
struct tracked {
    bool failed;
};

static void *tracked_alloc(void *data, size_t size)
{
    void *p = core_malloc(size);
    if (!p)
        ((struct tracked *)data)->failed = true;
    return p;
}

static void tracked_free(void *data, void *p)
{
    (void)data;
    core_free(p);
}

/* pb_unpack() that tells CORE_ERR_NOMEM from CORE_ERR_INVALID (malformed). */
static core_status unpack(const ProtobufCMessageDescriptor *desc, const unsigned char *data,
                          size_t len, ProtobufCMessage **out, core_err *err)
{
    struct tracked t = {false};
    ProtobufCAllocator a = {tracked_alloc, tracked_free, &t};
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, &a, len, data);
    if (!m && t.failed)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory decoding a %s", desc->name);
    if (!m)
        return core_err_set(err, CORE_ERR_INVALID, "malformed protobuf data for %s", desc->name);
    *out = m;
    return CORE_OK;
}

core_status am_stream_message_pack(const char *id, const char *name, const unsigned char *data,
                                   size_t len, unsigned char **out, size_t *out_len, core_err *err)
{
    Jetstream__StreamMessage m = JETSTREAM__STREAM_MESSAGE__INIT;
    m.id = (char *)id;
    m.name = (char *)name;
    m.data.data = (uint8_t *)data;
    m.data.len = data ? len : 0;
    return pb_pack(&m.base, out, out_len, err);
}

void am_envelope_release(struct am_envelope *env)
{
    core_free(env->id);
    core_free(env->name);
    core_free(env->data);
    *env = (struct am_envelope)AM_ENVELOPE_INIT;
}

core_status am_stream_message_unpack(const unsigned char *data, size_t len, struct am_envelope *out,
                                     core_err *err)
{
    ProtobufCMessage *tree = NULL;
    core_err perr = CORE_ERR_INIT;
    core_status ust = unpack(&jetstream__stream_message__descriptor, data, len, &tree, &perr);
    if (ust != CORE_OK)
        return core_err_set(err, ust, "%s%s",
                            ust == CORE_ERR_INVALID ? "not a StreamMessage: " : "", perr.msg);
    const Jetstream__StreamMessage *m = (const Jetstream__StreamMessage *)tree;
    core_status st = CORE_OK;
    if (core_str_blank(m->name))
        st = core_err_set(err, CORE_ERR_INVALID, "not a StreamMessage: the message has no name");
    else if (core_str_blank(m->id))
        st = core_err_set(err, CORE_ERR_INVALID, "not a StreamMessage: %.96s has no id", m->name);
    if (st == CORE_OK) {
        out->id = core_strdup(m->id);
        out->name = core_strdup(m->name);
        out->len = m->data.len;
        if (m->data.len > 0 && (out->data = core_malloc(m->data.len)) != NULL)
            memcpy(out->data, m->data.data, m->data.len);
        if (!out->id || !out->name || (m->data.len > 0 && !out->data)) {
            am_envelope_release(out);
            st = core_err_set(err, CORE_ERR_NOMEM, "out of memory decoding a StreamMessage");
        }
    }
    pb_free(tree);
    return st;
}

core_status am_data_pack(const ddd_event *event, unsigned char **out, size_t *out_len,
                         core_err *err)
{
    EventMessageData d = EVENT_MESSAGE_DATA__INIT;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Google__Protobuf__Struct md = GOOGLE__PROTOBUF__STRUCT__INIT;
    Google__Protobuf__Struct__FieldsEntry entries[DDD_METADATA_MAX];
    Google__Protobuf__Struct__FieldsEntry *entry_ptrs[DDD_METADATA_MAX];
    Google__Protobuf__Value values[DDD_METADATA_MAX];

    size_t n = ddd_event_metadata_count(event);
    for (size_t i = 0; i < n && i < DDD_METADATA_MAX; i++) {
        const char *key, *value;
        ddd_event_metadata_at(event, i, &key, &value);
        google__protobuf__struct__fields_entry__init(&entries[i]);
        google__protobuf__value__init(&values[i]);
        values[i].kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
        values[i].string_value = (char *)value;
        entries[i].key = (char *)key;
        entries[i].value = &values[i];
        entry_ptrs[i] = &entries[i];
    }
    md.n_fields = n;
    md.fields = n ? entry_ptrs : NULL;

    struct timespec at = ddd_event_occurred_at(event);
    ts.seconds = at.tv_sec;
    ts.nanos = (int32_t)at.tv_nsec;

    unsigned char *payload = NULL;
    size_t payload_len = 0;
    const ProtobufCMessage *p = ddd_event_payload(event);
    if (p && pb_pack(p, &payload, &payload_len, err) != CORE_OK)
        return core_err_wrap(err, "%s", ddd_event_name(event));
    d.payload.data = payload;
    d.payload.len = payload_len;
    d.occurred_at = &ts;
    d.metadata = &md; /* always present, as the book's producer sends it */
    core_status st = pb_pack(&d.base, out, out_len, err);
    core_free(payload);
    return st;
}

/* Writes a metadata value as text into buf. false for a list or struct. */
static bool value_text(const Google__Protobuf__Value *v, char *buf, size_t size)
{
    switch (v ? v->kind_case : GOOGLE__PROTOBUF__VALUE__KIND__NOT_SET) {
    case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE:
        core_strlcpy(buf, v->string_value ? v->string_value : "", size);
        return true;
    case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE:
        if (isfinite(v->number_value) && v->number_value == floor(v->number_value) &&
            fabs(v->number_value) < 9007199254740992.0)
            snprintf(buf, size, "%.0f", v->number_value);
        else
            snprintf(buf, size, "%.17g", v->number_value);
        return true;
    case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE:
        core_strlcpy(buf, v->bool_value ? "true" : "false", size);
        return true;
    case GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE:
    case GOOGLE__PROTOBUF__VALUE__KIND__NOT_SET:
        buf[0] = '\0';
        return true;
    default:
        return false;
    }
}

/* Sets the event's time and metadata from the decoded data. */
static core_status restore_event(ddd_event *ev, const char *id, const char *name,
                                 const EventMessageData *d, core_err *err)
{
    struct timespec at = {0, 0};
    if (d->occurred_at) {
        if (d->occurred_at->nanos < 0 || d->occurred_at->nanos > 999999999)
            return core_err_set(err, CORE_ERR_INVALID, "%s %s: occurred_at has %d nanoseconds",
                                name, id, (int)d->occurred_at->nanos);
        at.tv_sec = (time_t)d->occurred_at->seconds;
        at.tv_nsec = d->occurred_at->nanos;
    }
    core_status st = ddd_event_restore(ev, id, at, err);
    if (st != CORE_OK)
        return core_err_set(err, CORE_ERR_INVALID, "%s: id \"%.40s\" is longer than a UUID", name,
                            id);
    for (size_t i = 0; d->metadata && i < d->metadata->n_fields; i++) {
        const Google__Protobuf__Struct__FieldsEntry *e = d->metadata->fields[i];
        char text[512];
        if (!e || !e->key)
            continue;
        if (!value_text(e->value, text, sizeof text))
            return core_err_set(err, CORE_ERR_INVALID,
                                "%s %s: metadata \"%.64s\" is a list or struct; only strings, "
                                "numbers, booleans and null are understood",
                                name, id, e->key);
        st = ddd_event_set_metadata(ev, e->key, text, err);
        if (st == CORE_ERR_TOO_LARGE)
            return core_err_set(err, CORE_ERR_INVALID, "%s %s: more than %d metadata entries", name,
                                id, DDD_METADATA_MAX);
        if (st != CORE_OK)
            return st;
    }
    return CORE_OK;
}

core_status am_data_unpack(const es_registry *reg, const char *id, const char *name,
                           const unsigned char *data, size_t len, ddd_event **out, core_err *err)
{
    ProtobufCMessage *tree = NULL;
    core_err perr = CORE_ERR_INIT;
    core_status st = unpack(&event_message_data__descriptor, data, len, &tree, &perr);
    if (st == CORE_ERR_NOMEM)
        return core_err_set(err, st, "%s", perr.msg);
    if (st != CORE_OK)
        return core_err_set(err, CORE_ERR_INVALID, "%s %s: data is not an EventMessageData", name,
                            id);
    const EventMessageData *d = (const EventMessageData *)tree;
    ddd_event *ev = NULL;
    ProtobufCMessage *payload = NULL;
    const ProtobufCMessageDescriptor *desc = es_registry_lookup(reg, name);
    bool bare =
        !desc && (strcmp(name, AM_REPLY_SUCCESS) == 0 || strcmp(name, AM_REPLY_FAILURE) == 0);
    if (bare && d->payload.len > 0)
        st = core_err_set(err, CORE_ERR_INVALID, "%s %s carries a payload; it has none", name, id);
    else if (bare) { /* am.Success and am.Failure: no payload, nothing to look up */
        if ((st = ddd_event_new(&ev, name, &payload, err)) == CORE_OK)
            st = restore_event(ev, id, name, d, err);
    } else if (!desc)
        st = core_err_set(err, CORE_ERR_INVALID, "no payload type is registered for %s", name);
    else if ((st = unpack(desc, d->payload.data, d->payload.len, &payload, &perr)) != CORE_OK)
        st = st == CORE_ERR_NOMEM
                 ? core_err_set(err, st, "%s", perr.msg)
                 : core_err_set(err, CORE_ERR_INVALID, "%s %s: the payload is not a %s", name, id,
                                desc->name);
    else if ((st = ddd_event_new(&ev, name, &payload, err)) == CORE_OK)
        st = restore_event(ev, id, name, d, err);
    pb_free(tree);
    pb_free(payload); /* NULL unless ddd_event_new was not reached */
    if (st != CORE_OK) {
        ddd_event_free(ev);
        return st;
    }
    *out = ev;
    return CORE_OK;
}

/* ---- names and subjects ---------------------------------------------------------------------- */

bool am_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > AM_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

bool am_subject_valid(const char *subject, bool wildcards)
{
    size_t n = subject ? strlen(subject) : 0;
    if (n == 0 || n > AM_SUBJECT_MAX)
        return false;
    size_t tok_start = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = subject[i];
        if (c == '.' || c == '\0') {
            size_t tok_len = i - tok_start;
            if (tok_len == 0)
                return false;
            const char *tok = subject + tok_start;
            bool star = tok_len == 1 && tok[0] == '*';
            bool gt = tok_len == 1 && tok[0] == '>';
            if (!star && !gt && (memchr(tok, '*', tok_len) || memchr(tok, '>', tok_len)))
                return false; /* a wildcard character inside a token */
            if ((star || gt) && !wildcards)
                return false;
            if (gt && c != '\0')
                return false; /* > only as the last token */
            tok_start = i + 1;
            continue;
        }
        if ((unsigned char)c <= 0x20 || (unsigned char)c >= 0x7f)
            return false;
    }
    return true;
}

bool am_subject_matches(const char *filter, const char *subject)
{
    const char *f = filter, *s = subject;
    for (;;) {
        const char *fe = strchr(f, '.'), *se = strchr(s, '.');
        size_t fl = fe ? (size_t)(fe - f) : strlen(f);
        size_t sl = se ? (size_t)(se - s) : strlen(s);
        if (fl == 1 && f[0] == '>')
            return true; /* > matches one or more remaining tokens; s has at least one */
        if (!(fl == 1 && f[0] == '*') && (fl != sl || memcmp(f, s, fl) != 0))
            return false;
        if (!fe || !se)
            return !fe && !se;
        f = fe + 1;
        s = se + 1;
    }
}

/* ---- stream front ---------------------------------------------------------------------------- */

struct am_sub {
    am_stream *stream;
    char *subject;
    char group[AM_NAME_MAX + 1];
    char **filter; /* NULL = all names */
    size_t n_filter;
    int ack_wait_ms, max_deliver, retry_delay_ms;
    bool takes_dead_letters;                /* subject lies under <stream>.dead. */
    char dead_subject[2 * AM_NAME_MAX + 8]; /* <stream>.dead.<group> */
    am_raw_handler_fn fn;
    void *ud;
    void (*ud_free)(void *ud); /* frees ud with the subscription; NULL = borrowed */
    am_flush_fn flush;         /* batched (am_stream_subscribe_batched); NULL = not */
    /* the batch's deliveries whose handler succeeded, waiting for the flush (the delivery thread
     * alone reads and writes them: calls for one subscription never overlap) */
    struct held {
        void *token;
        uint64_t stream_seq, delivered;
    } held[AM_BATCH_MAX];
    size_t n_held;
};

struct am_stream {
    const struct am_stream_ops *ops;
    void *impl;
    char name[AM_NAME_MAX + 1];
    char dead_prefix[AM_NAME_MAX + 8]; /* "<name>.dead." */
    pthread_mutex_t mu;
    am_sub **subs;
    size_t n_subs, cap_subs;
    bool closed;
    bool abandoned; /* close left handlers running: leave their memory alone */
};

static void sub_free(am_sub *sub)
{
    if (!sub)
        return;
    for (size_t i = 0; i < sub->n_filter; i++)
        core_free(sub->filter[i]);
    core_free(sub->filter);
    core_free(sub->subject);
    if (sub->ud_free)
        sub->ud_free(sub->ud);
    core_free(sub);
}

core_status am_stream_new(am_stream **out, const struct am_stream_ops *ops, void *impl,
                          const char *name, core_err *err)
{
    if (!am_name_valid(name)) {
        ops->free(impl, false);
        return core_err_set(err, CORE_ERR_INVALID,
                            "NATS_STREAM: \"%.80s\" is not a valid stream name (letters, digits, "
                            "'-' and '_', at most %d)",
                            name ? name : "", AM_NAME_MAX);
    }
    am_stream *s = core_calloc(1, sizeof *s);
    if (!s || pthread_mutex_init(&s->mu, NULL) != 0) {
        core_free(s);
        ops->free(impl, false);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory creating a message stream");
    }
    s->ops = ops;
    s->impl = impl;
    core_strlcpy(s->name, name, sizeof s->name);
    snprintf(s->dead_prefix, sizeof s->dead_prefix, "%s.dead.", name);
    *out = s;
    return CORE_OK;
}

const char *am_stream_name(const am_stream *s)
{
    return s->name;
}

core_status am_stream_close(am_stream *s, int timeout_ms, core_err *err)
{
    pthread_mutex_lock(&s->mu);
    bool was_closed = s->closed;
    s->closed = true;
    pthread_mutex_unlock(&s->mu);
    if (was_closed)
        return CORE_OK;
    bool abandoned = false;
    core_status st = s->ops->close(
        s->impl, timeout_ms > 0 ? timeout_ms : AM_CLOSE_TIMEOUT_MS_DEFAULT, &abandoned, err);
    pthread_mutex_lock(&s->mu);
    s->abandoned = abandoned;
    pthread_mutex_unlock(&s->mu);
    return st;
}

bool am_stream_wait_connected(am_stream *s, int timeout_ms)
{
    return s->ops->wait_connected(s->impl, timeout_ms);
}

void am_stream_free(am_stream *s)
{
    if (!s)
        return;
    core_err err = CORE_ERR_INIT;
    if (am_stream_close(s, AM_CLOSE_TIMEOUT_MS_DEFAULT, &err) != CORE_OK)
        log_error(LOG_COMP, "closing stream %s: %s", s->name, err.msg);
    s->ops->free(s->impl, s->abandoned);
    if (s->abandoned) {
        /* a handler may still run and reach its subscription and this stream: keep both */
        log_error(LOG_COMP,
                  "stream %s: handlers still running at shutdown; their memory is left "
                  "allocated",
                  s->name);
        return;
    }
    for (size_t i = 0; i < s->n_subs; i++)
        sub_free(s->subs[i]);
    core_free(s->subs);
    pthread_mutex_destroy(&s->mu);
    core_free(s);
}

/* true when subject lies in the stream: "<name>.<at least one token>". */
static bool inside_stream(const am_stream *s, const char *subject)
{
    size_t n = strlen(s->name);
    return strncmp(subject, s->name, n) == 0 && subject[n] == '.' && subject[n + 1] != '\0';
}

static bool is_dead_subject(const am_stream *s, const char *subject)
{
    return strncmp(subject, s->dead_prefix, strlen(s->dead_prefix)) == 0;
}

static core_status check_subject(const am_stream *s, const char *subject, bool wildcards,
                                 core_err *err)
{
    if (!am_subject_valid(subject, wildcards) || !inside_stream(s, subject))
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "subject \"%.128s\" is not a %ssubject of stream %s (%s.>)",
                            subject ? subject : "", wildcards ? "" : "plain ", s->name, s->name);
    return CORE_OK;
}

/* Publishes an already packed StreamMessage (the raw publish, also used for dead letters). */
static core_status publish_packed(am_stream *s, const char *subject, const char *msg_id,
                                  const struct am_header *hdrs, size_t n_hdrs,
                                  const unsigned char *data, size_t len, struct am_publish_ack *ack,
                                  core_err *err)
{
    struct am_publish_ack local = {0, false};
    /* no check of s->closed: handlers may publish while the stream drains; the backend knows
     * when its connection is gone */
    return s->ops->publish(s->impl, subject, msg_id, hdrs, n_hdrs, data, len, ack ? ack : &local,
                           err);
}

core_status am_stream_publish(am_stream *s, const char *subject, const char *id, const char *name,
                              const unsigned char *data, size_t len, struct am_publish_ack *ack,
                              core_err *err)
{
    core_status st = check_subject(s, subject, false, err);
    if (st != CORE_OK)
        return st;
    if (is_dead_subject(s, subject))
        return core_err_set(err, CORE_ERR_INTERNAL, "subject %.128s is reserved for dead letters",
                            subject);
    if (core_str_blank(id) || core_str_blank(name))
        return core_err_set(err, CORE_ERR_INTERNAL, "a message on %.128s needs an id and a name",
                            subject);
    unsigned char *packed = NULL;
    size_t packed_len = 0;
    if ((st = am_stream_message_pack(id, name, data, len, &packed, &packed_len, err)) != CORE_OK)
        return st;
    struct am_publish_ack local = {0, false};
    st = publish_packed(s, subject, id, NULL, 0, packed, packed_len, &local, err);
    core_free(packed);
    if (st != CORE_OK)
        return core_err_wrap(err, "%.96s %.40s was not published", name, id);
    if (local.duplicate)
        log_info(LOG_COMP, "%s %s was already stored (seq %" PRIu64 "): dropped as a duplicate",
                 name, id, local.seq);
    if (ack)
        *ack = local;
    return CORE_OK;
}

/* Checks what am_stream_publish() checks of one message and packs it (*packed: caller frees). */
static core_status pack_checked(am_stream *s, const struct am_batch_msg *m, unsigned char **packed,
                                size_t *packed_len, core_err *err)
{
    core_status st = check_subject(s, m->subject, false, err);
    if (st != CORE_OK)
        return st;
    if (is_dead_subject(s, m->subject))
        return core_err_set(err, CORE_ERR_INTERNAL, "subject %.128s is reserved for dead letters",
                            m->subject);
    if (core_str_blank(m->id) || core_str_blank(m->name))
        return core_err_set(err, CORE_ERR_INTERNAL, "a message on %.128s needs an id and a name",
                            m->subject);
    return am_stream_message_pack(m->id, m->name, m->data, m->len, packed, packed_len, err);
}

core_status am_stream_publish_batch(am_stream *s, const struct am_batch_msg *msgs, size_t n,
                                    struct am_batch_ack *acks, core_err *err)
{
    if (n == 0)
        return CORE_OK;
    struct am_packed_msg *packed = core_calloc(n, sizeof *packed);
    size_t *index = core_calloc(n, sizeof *index); /* packed[k] is msgs[index[k]] */
    struct am_batch_ack *sent = core_calloc(n, sizeof *sent);
    if (!packed || !index || !sent) {
        core_free(packed);
        core_free(index);
        core_free(sent);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory publishing %zu messages", n);
    }
    core_err first_err = CORE_ERR_INIT; /* the first message refused before sending */
    size_t failed = 0, k = 0;
    for (size_t i = 0; i < n; i++) {
        core_err e = CORE_ERR_INIT;
        unsigned char *data = NULL;
        size_t len = 0;
        acks[i] = (struct am_batch_ack){CORE_OK, 0, false};
        if ((acks[i].status = pack_checked(s, &msgs[i], &data, &len, &e)) != CORE_OK) {
            if (failed++ == 0)
                first_err = e;
            continue;
        }
        packed[k] = (struct am_packed_msg){msgs[i].subject, msgs[i].id, data, len};
        index[k++] = i;
    }
    core_err sent_err = CORE_ERR_INIT; /* the first sent message that was not acknowledged */
    if (k > 0 && s->ops->publish_batch) {
        s->ops->publish_batch(s->impl, packed, k, sent, &sent_err);
    } else {
        for (size_t j = 0; j < k; j++) {
            core_err e = CORE_ERR_INIT;
            struct am_publish_ack a = {0, false};
            sent[j].status = publish_packed(s, packed[j].subject, packed[j].msg_id, NULL, 0,
                                            packed[j].data, packed[j].len, &a, &e);
            sent[j].seq = a.seq;
            sent[j].duplicate = a.duplicate;
            if (sent[j].status != CORE_OK && sent_err.status == CORE_OK)
                sent_err = e;
        }
    }
    for (size_t j = 0; j < k; j++) {
        size_t i = index[j];
        acks[i] = sent[j];
        if (acks[i].status == CORE_OK && acks[i].duplicate)
            log_info(LOG_COMP, "%s %s was already stored (seq %" PRIu64 "): dropped as a duplicate",
                     msgs[i].name, msgs[i].id, acks[i].seq);
        if (acks[i].status != CORE_OK && failed++ == 0 && sent_err.status == CORE_OK)
            core_err_set(&sent_err, acks[i].status, "%s %s: %s", msgs[i].name, msgs[i].id,
                         core_status_text(acks[i].status));
        core_free((void *)packed[j].data);
    }
    core_free(packed);
    core_free(index);
    core_free(sent);
    if (failed == 0)
        return CORE_OK;
    const core_err *why = first_err.status != CORE_OK ? &first_err : &sent_err;
    core_status st = why->status;
    if (err) {
        *err = *why;
        core_err_wrap(err, "%zu of %zu messages were not published", failed, n);
    }
    return st;
}

static core_status check_sub_opts(const struct am_sub_opts *o, core_err *err)
{
    if (!o || !am_name_valid(o->group))
        return core_err_set(err, CORE_ERR_INVALID,
                            "group \"%.80s\" is not a valid group name (letters, digits, '-' and "
                            "'_', at most %d)",
                            o && o->group ? o->group : "", AM_NAME_MAX);
    if (o->ack_wait_ms < 0 || o->max_deliver < 0 || o->retry_delay_ms < 0)
        return core_err_set(
            err, CORE_ERR_INVALID,
            "group %s: ack_wait_ms, max_deliver and retry_delay_ms cannot be negative", o->group);
    for (size_t i = 0; o->filter && o->filter[i]; i++)
        if (core_str_blank(o->filter[i]))
            return core_err_set(err, CORE_ERR_INVALID, "group %s: blank message name in its filter",
                                o->group);
    return CORE_OK;
}

static core_status subscribe_impl(am_stream *s, const char *subject, const struct am_sub_opts *o,
                                  am_raw_handler_fn fn, am_flush_fn flush, void *ud,
                                  void (*ud_free)(void *), core_err *err)
{
    core_status st = check_sub_opts(o, err);
    if (st == CORE_OK)
        st = check_subject(s, subject, true, err);
    am_sub *sub = NULL;
    if (st == CORE_OK && !(sub = core_calloc(1, sizeof *sub)))
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory subscribing");
    if (st != CORE_OK) {
        if (ud_free)
            ud_free(ud);
        return st;
    }
    sub->stream = s;
    sub->fn = fn;
    sub->flush = flush;
    sub->ud = ud;
    sub->ud_free = ud_free;
    core_strlcpy(sub->group, o->group, sizeof sub->group);
    sub->ack_wait_ms = o->ack_wait_ms ? o->ack_wait_ms : AM_ACK_WAIT_MS_DEFAULT;
    sub->max_deliver = o->max_deliver ? o->max_deliver : AM_MAX_DELIVER_DEFAULT;
    sub->retry_delay_ms = o->retry_delay_ms ? o->retry_delay_ms : AM_RETRY_DELAY_MS_DEFAULT;
    sub->takes_dead_letters = is_dead_subject(s, subject);
    snprintf(sub->dead_subject, sizeof sub->dead_subject, "%s%s", s->dead_prefix, o->group);
    if (!(sub->subject = core_strdup(subject)))
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory subscribing");
    if (st == CORE_OK && o->filter) {
        size_t n = 0;
        while (o->filter[n])
            n++;
        if (!(sub->filter = core_calloc(n ? n : 1, sizeof *sub->filter)))
            st = core_err_set(err, CORE_ERR_NOMEM, "out of memory subscribing");
        for (size_t i = 0; st == CORE_OK && i < n; i++, sub->n_filter++)
            if (!(sub->filter[i] = core_strdup(o->filter[i])))
                st = core_err_set(err, CORE_ERR_NOMEM, "out of memory subscribing");
    }

    /* register the subscription before the backend can deliver to it */
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; st == CORE_OK && i < s->n_subs; i++)
        if (strcmp(s->subs[i]->group, sub->group) == 0 && strcmp(s->subs[i]->subject, subject) != 0)
            st =
                core_err_set(err, CORE_ERR_CONFLICT, "group %s already consumes %.128s, not %.128s",
                             sub->group, s->subs[i]->subject, subject);
    if (st == CORE_OK && s->closed)
        st = core_err_set(err, CORE_ERR_UNAVAILABLE, "stream %s is closed", s->name);
    if (st == CORE_OK && core_array_grow(&s->subs, &s->cap_subs, s->n_subs + 1, sizeof *s->subs))
        st = core_err_set(err, CORE_ERR_NOMEM, "out of memory subscribing");
    if (st == CORE_OK)
        s->subs[s->n_subs++] = sub;
    pthread_mutex_unlock(&s->mu);
    if (st != CORE_OK) {
        sub_free(sub);
        return st;
    }

    struct am_consumer_cfg cc = {sub->group, sub->subject, sub->ack_wait_ms};
    st = s->ops->subscribe(s->impl, &cc, sub, err);
    if (st != CORE_OK) {
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < s->n_subs; i++)
            if (s->subs[i] == sub) {
                s->subs[i] = s->subs[--s->n_subs];
                break;
            }
        pthread_mutex_unlock(&s->mu);
        sub_free(sub);
        return core_err_wrap(err, "subscribing group %s to %.128s", o->group, subject);
    }
    log_info(LOG_COMP, "subscribed group=%s subject=%s ack_wait_ms=%d max_deliver=%d", sub->group,
             sub->subject, sub->ack_wait_ms, sub->max_deliver);
    return CORE_OK;
}

core_status am_stream_subscribe(am_stream *s, const char *subject, const struct am_sub_opts *opts,
                                am_raw_handler_fn fn, void *ud, core_err *err)
{
    return subscribe_impl(s, subject, opts, fn, NULL, ud, NULL, err);
}

core_status am_stream_subscribe_owned(am_stream *s, const char *subject,
                                      const struct am_sub_opts *opts, am_raw_handler_fn fn,
                                      void *ud, void (*ud_free)(void *ud), core_err *err)
{
    return subscribe_impl(s, subject, opts, fn, NULL, ud, ud_free, err);
}

core_status am_stream_subscribe_batched(am_stream *s, const char *subject,
                                        const struct am_sub_opts *opts, am_raw_handler_fn fn,
                                        am_flush_fn flush, void *ud, void (*ud_free)(void *ud),
                                        core_err *err)
{
    if (!flush) {
        if (ud_free)
            ud_free(ud);
        return core_err_set(err, CORE_ERR_INVALID, "a batched subscription needs a flush");
    }
    return subscribe_impl(s, subject, opts, fn, flush, ud, ud_free, err);
}

const char *am_stored_header(const struct am_stored_msg *m, const char *key)
{
    for (size_t i = 0; i < m->n_headers; i++)
        if (strcmp(m->headers[i].key, key) == 0)
            return m->headers[i].value;
    return NULL;
}

core_status am_stream_read(am_stream *s, const char *filter, uint64_t from_seq, am_stored_fn fn,
                           void *ud, core_err *err)
{
    char all[AM_NAME_MAX + 3];
    if (!filter) {
        snprintf(all, sizeof all, "%s.>", s->name);
        filter = all;
    }
    core_status st = check_subject(s, filter, true, err);
    if (st == CORE_OK)
        st = s->ops->read(s->impl, filter, from_seq, fn, ud, err);
    return st;
}

core_status am_stream_group_info(am_stream *s, const char *group, struct am_group_info *out,
                                 core_err *err)
{
    if (!am_name_valid(group))
        return core_err_set(err, CORE_ERR_INVALID, "group \"%.80s\" is not a valid group name",
                            group ? group : "");
    return s->ops->group_info(s->impl, group, out, err);
}

core_status am_stream_state_get(am_stream *s, struct am_stream_state *out, core_err *err)
{
    *out = (struct am_stream_state){0, 0, 0, 0, 0};
    return s->ops->state(s->impl, out, err);
}

core_status am_stream_groups(am_stream *s, am_group_fn fn, void *ud, core_err *err)
{
    return s->ops->groups(s->impl, fn, ud, err);
}

struct am_watch {
    am_stream *stream;
    void *handle; /* the backend's */
    am_stored_fn fn;
    void *ud;
    bool ended; /* fn returned an error: no further calls (read and written by the delivery
                   thread only: calls of one watch never overlap) */
};

static core_status watch_deliver(void *ud, const struct am_stored_msg *m, core_err *err)
{
    am_watch *w = ud;
    if (w->ended)
        return CORE_OK;
    core_status st = w->fn(w->ud, m, err);
    if (st != CORE_OK)
        w->ended = true;
    return st;
}

core_status am_stream_watch(am_stream *s, const char *filter, uint64_t from_seq, am_stored_fn fn,
                            void *ud, am_watch **out, core_err *err)
{
    char all[AM_NAME_MAX + 3];
    if (!filter) {
        snprintf(all, sizeof all, "%s.>", s->name);
        filter = all;
    }
    core_status st = check_subject(s, filter, true, err);
    if (st != CORE_OK)
        return st;
    am_watch *w = core_calloc(1, sizeof *w);
    if (!w)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory starting a watch");
    w->stream = s;
    w->fn = fn;
    w->ud = ud;
    st = s->ops->watch(s->impl, filter, from_seq, watch_deliver, w, &w->handle, err);
    if (st != CORE_OK) {
        core_free(w);
        return core_err_wrap(err, "watching %.128s", filter);
    }
    *out = w;
    return CORE_OK;
}

void am_watch_free(am_watch *w)
{
    if (!w)
        return;
    w->stream->ops->unwatch(w->stream->impl, w->handle);
    core_free(w);
}

/* ---- one delivery ---------------------------------------------------------------------------- */

/* The NAK delay after delivery `delivered` failed: retry_delay_ms doubled per earlier delivery. */
static int retry_delay(const am_sub *sub, uint64_t delivered)
{
    long long d = sub->retry_delay_ms;
    for (uint64_t i = 1; i < delivered && d < AM_RETRY_DELAY_MS_MAX; i++)
        d *= 2;
    return d > AM_RETRY_DELAY_MS_MAX ? AM_RETRY_DELAY_MS_MAX : (int)d;
}

/* Acknowledges the delivery token (stream sequence seq; subject and id for the log, NULL when
 * not known); a failure is logged: the message comes again. */
static void ack(am_sub *sub, void *token, uint64_t seq, const char *subject, const char *id)
{
    core_err err = CORE_ERR_INIT;
    if (sub->stream->ops->ack(sub->stream->impl, token, &err) != CORE_OK)
        log_warn(LOG_COMP,
                 "acknowledgement failed, the message will be delivered again: %s group=%s "
                 "subject=%s seq=%" PRIu64 " id=%s",
                 err.msg, sub->group, subject ? subject : "-", seq, id ? id : "-");
}

static void nak(am_sub *sub, void *token, uint64_t seq, int delay_ms)
{
    core_err err = CORE_ERR_INIT;
    if (sub->stream->ops->nak(sub->stream->impl, token, delay_ms, &err) != CORE_OK)
        log_warn(LOG_COMP,
                 "NAK failed, the message comes back after the ack wait: %s group=%s seq=%" PRIu64,
                 err.msg, sub->group, seq);
}

/* Copies text into a header value: one line, control characters replaced by spaces. */
static void header_value(char *dst, size_t size, const char *text)
{
    core_strlcpy(dst, text, size);
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

/* Records the message as dead (see am.h), then acknowledges it; NAKs it when that fails. */
static void dead_letter(am_sub *sub, const struct am_backend_msg *m, void *token,
                        const struct am_envelope *env, const char *reason)
{
    char reason_v[CORE_ERR_MSG_MAX + 64], seq_v[24], deliveries_v[24], msg_id[AM_NAME_MAX + 32];
    header_value(reason_v, sizeof reason_v, reason);
    snprintf(seq_v, sizeof seq_v, "%" PRIu64, m->stream_seq);
    snprintf(deliveries_v, sizeof deliveries_v, "%" PRIu64, m->delivered);
    snprintf(msg_id, sizeof msg_id, "dead-%s-%" PRIu64, sub->group, m->stream_seq);
    struct am_header hdrs[7] = {
        {AM_DEAD_HDR_REASON, reason_v},         {AM_DEAD_HDR_SUBJECT, m->subject},
        {AM_DEAD_HDR_GROUP, sub->group},        {AM_DEAD_HDR_SEQUENCE, seq_v},
        {AM_DEAD_HDR_DELIVERIES, deliveries_v},
    };
    size_t n = 5;
    if (env && env->id) {
        hdrs[n++] = (struct am_header){AM_DEAD_HDR_ID, env->id};
        hdrs[n++] = (struct am_header){AM_DEAD_HDR_NAME, env->name};
    }
    core_err err = CORE_ERR_INIT;
    core_status st = publish_packed(sub->stream, sub->dead_subject, msg_id, hdrs, n, m->data,
                                    m->len, NULL, &err);
    if (st != CORE_OK) {
        log_error(LOG_COMP,
                  "cannot record a dead message, it comes back later: %s group=%s subject=%s "
                  "seq=%" PRIu64 " reason=%s",
                  err.msg, sub->group, m->subject, m->stream_seq, reason_v);
        nak(sub, token, m->stream_seq, retry_delay(sub, m->delivered));
        return;
    }
    log_error(LOG_COMP,
              "dead message recorded on %s: group=%s subject=%s seq=%" PRIu64 " deliveries=%" PRIu64
              " id=%s name=%s reason=%s",
              sub->dead_subject, sub->group, m->subject, m->stream_seq, m->delivered,
              env && env->id ? env->id : "-", env && env->name ? env->name : "-", reason_v);
    ack(sub, token, m->stream_seq, m->subject, env ? env->id : NULL);
}

static bool filter_lists(const am_sub *sub, const char *name)
{
    if (!sub->filter)
        return true;
    for (size_t i = 0; i < sub->n_filter; i++)
        if (strcmp(sub->filter[i], name) == 0)
            return true;
    return false;
}

/* Handles one delivery; true when a batched subscription's handler succeeded and the delivery
 * waits in sub->held for the flush. */
static bool deliver_one(am_sub *sub, const struct am_backend_msg *m, void *token)
{
    am_stream *s = sub->stream;
    if (!sub->takes_dead_letters && is_dead_subject(s, m->subject)) {
        /* a wildcard subscription does not get the dead letters */
        ack(sub, token, m->stream_seq, m->subject, NULL);
        return false;
    }
    char reason[CORE_ERR_MSG_MAX + 64];
    struct am_envelope env = AM_ENVELOPE_INIT;
    core_err err = CORE_ERR_INIT;
    core_status st = am_stream_message_unpack(m->data, m->len, &env, &err);
    if (st != CORE_OK && st != CORE_ERR_NOMEM) {
        dead_letter(sub, m, token, NULL, err.msg);
        return false;
    }
    if (m->delivered > (uint64_t)sub->max_deliver) {
        /* the handler had its max_deliver chances; whatever ended them (an error whose dead
         * letter could not be written, an ack wait that ran out, a crash), this is the end */
        snprintf(reason, sizeof reason,
                 "gave up after %d deliveries without an acknowledgement (the handler failed, "
                 "did not answer within the ack wait of %d ms, or the program stopped while "
                 "handling it)",
                 sub->max_deliver, sub->ack_wait_ms);
        dead_letter(sub, m, token, st == CORE_OK ? &env : NULL, reason);
        am_envelope_release(&env);
        return false;
    }
    if (st == CORE_ERR_NOMEM) {
        nak(sub, token, m->stream_seq, retry_delay(sub, m->delivered));
        return false;
    }
    if (!filter_lists(sub, env.name)) {
        ack(sub, token, m->stream_seq, m->subject, env.id);
        am_envelope_release(&env);
        return false;
    }
    struct am_delivery d = {m->subject,   sub->group,    env.id,          env.name,
                            m->delivered, m->stream_seq, sub->max_deliver};
    bool dead = false;
    core_err herr = CORE_ERR_INIT;
    st = sub->fn(sub->ud, &d, env.data, env.len, &dead, &herr);
    bool held = false;
    if (st == CORE_OK && sub->flush) {
        /* acknowledged at the flush (am_sub_flush), once the batch's work is durable */
        sub->held[sub->n_held++] = (struct held){token, m->stream_seq, m->delivered};
        held = true;
    } else if (st == CORE_OK) {
        ack(sub, token, m->stream_seq, m->subject, env.id);
    } else if (dead) {
        snprintf(reason, sizeof reason, "cannot be handled: %s", herr.msg);
        dead_letter(sub, m, token, &env, reason);
    } else if (m->delivered >= (uint64_t)sub->max_deliver) {
        snprintf(reason, sizeof reason, "handler failed on delivery %" PRIu64 " of %d: %s",
                 m->delivered, sub->max_deliver, herr.msg);
        dead_letter(sub, m, token, &env, reason);
    } else {
        int delay = retry_delay(sub, m->delivered);
        log_warn(LOG_COMP,
                 "handler failed, retrying in %d ms: %s group=%s subject=%s id=%s name=%s "
                 "delivery=%" PRIu64 "/%d",
                 delay, herr.msg, sub->group, m->subject, env.id, env.name, m->delivered,
                 sub->max_deliver);
        nak(sub, token, m->stream_seq, delay);
    }
    am_envelope_release(&env);
    return held;
}

bool am_sub_deliver(am_sub *sub, const struct am_backend_msg *m, void *token)
{
    bool keeps = sub->flush && sub->stream->ops->release; /* a delivery can outlive this call */
    bool held = deliver_one(sub, m, token);
    if (sub->flush && (!keeps || !m->more || sub->n_held >= AM_BATCH_MAX))
        am_sub_flush(sub);
    return held && keeps;
}

void am_sub_flush(am_sub *sub)
{
    if (!sub->flush)
        return;
    const struct am_stream_ops *ops = sub->stream->ops;
    core_err err = CORE_ERR_INIT;
    core_status st = sub->flush(sub->ud, &err);
    if (st != CORE_OK)
        log_warn(LOG_COMP,
                 "a batch of %zu deliveries failed at its end, they will be delivered again: %s "
                 "group=%s",
                 sub->n_held, err.msg, sub->group);
    for (size_t i = 0; i < sub->n_held; i++) {
        struct held *h = &sub->held[i];
        if (st == CORE_OK)
            ack(sub, h->token, h->stream_seq, NULL, NULL);
        else
            nak(sub, h->token, h->stream_seq, retry_delay(sub, h->delivered));
        if (ops->release)
            ops->release(sub->stream->impl, h->token);
    }
    sub->n_held = 0;
}

/* ---- events ---------------------------------------------------------------------------------- */

core_status am_event_publish(am_stream *s, const char *channel, const ddd_event *event,
                             core_err *err)
{
    unsigned char *data = NULL;
    size_t len = 0;
    core_status st = am_data_pack(event, &data, &len, err);
    if (st == CORE_OK)
        st = am_stream_publish(s, channel, ddd_event_id(event), ddd_event_name(event), data, len,
                               NULL, err);
    core_free(data);
    return st;
}

core_status am_event_announce(am_stream *s, const char *channel, const char *name,
                              ProtobufCMessage **payload, const char *id, const struct timespec *at,
                              core_err *err)
{
    ddd_event *ev = NULL;
    core_status st = ddd_event_new(&ev, name, payload, err); /* takes *payload */
    if (!st && (id || at)) {
        char own[DDD_ID_MAX + 1];
        core_strlcpy(own, ddd_event_id(ev), sizeof own);
        st = ddd_event_restore(ev, id ? id : own, at ? *at : ddd_event_occurred_at(ev), err);
    }
    if (!st)
        st = am_event_publish(s, channel, ev, err);
    if (st == CORE_ERR_UNAVAILABLE)
        core_err_public(err, AM_UNPUBLISHED_MSG);
    ddd_event_free(ev);
    return st;
}

struct event_sub {
    const es_registry *reg;
    am_event_handler_fn fn;
    void *ud;
};

static core_status event_raw_handler(void *ud, const struct am_delivery *d,
                                     const unsigned char *data, size_t len, bool *dead,
                                     core_err *err)
{
    struct event_sub *es = ud;
    ddd_event *ev = NULL;
    core_status st = am_data_unpack(es->reg, d->id, d->name, data, len, &ev, err);
    if (st != CORE_OK) {
        *dead = st != CORE_ERR_NOMEM; /* bad data does not get better by retrying */
        return st;
    }
    st = es->fn(es->ud, d, ev, err);
    ddd_event_free(ev);
    return st;
}

core_status am_event_subscribe(am_stream *s, const char *channel, const struct am_sub_opts *opts,
                               const es_registry *reg, am_event_handler_fn fn, void *ud,
                               core_err *err)
{
    struct event_sub *es = core_malloc(sizeof *es);
    if (!es)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory subscribing");
    es->reg = reg;
    es->fn = fn;
    es->ud = ud;
    return subscribe_impl(s, channel, opts, event_raw_handler, NULL, es, core_free, err);
}

/* ---- commands and replies -------------------------------------------------------------------- */

void am_reply_id(const char *command_id, char out[CORE_UUID_LEN + 1])
{
    char text[DDD_ID_MAX + 16];
    snprintf(text, sizeof text, "reply to %s", command_id);
    core_uuid_from(out, text);
}

bool am_reply_succeeded(const ddd_event *reply)
{
    const char *outcome = ddd_event_metadata(reply, AM_REPLY_OUTCOME);
    return outcome && strcmp(outcome, AM_OUTCOME_SUCCESS) == 0;
}

/* The command's reply channel, or NULL when it has none that is a plain subject. */
static const char *reply_channel_of(const ddd_event *command)
{
    const char *ch = ddd_event_metadata(command, AM_CMD_REPLY_CHANNEL);
    return ch && am_subject_valid(ch, false) ? ch : NULL;
}

core_status am_command_send(am_stream *s, const char *channel, const ddd_event *command,
                            core_err *err)
{
    if (!reply_channel_of(command))
        return core_err_set(err, CORE_ERR_INTERNAL,
                            "command %s %s has no reply channel (metadata " AM_CMD_REPLY_CHANNEL
                            ")",
                            ddd_event_name(command), ddd_event_id(command));
    return am_event_publish(s, channel, command, err);
}

/* A failure that is the answer (a rule said no), as opposed to one that retrying may mend. */
static bool is_rule_failure(core_status st)
{
    return st == CORE_ERR_INVALID || st == CORE_ERR_NOT_FOUND || st == CORE_ERR_CONFLICT ||
           st == CORE_ERR_TOO_LARGE;
}

/* Gives reply its id (derived from the command's), outcome and correlation metadata: every
 * COMMAND_* entry of command but COMMAND_NAME as REPLY_*, the command's id and, on a failure,
 * the reason. */
static core_status dress_reply(ddd_event *reply, const ddd_event *command, bool ok,
                               const core_err *why, core_err *err)
{
    char id[CORE_UUID_LEN + 1];
    am_reply_id(ddd_event_id(command), id);
    core_status st = ddd_event_restore(reply, id, ddd_event_occurred_at(reply), err);
    if (!st)
        st = ddd_event_set_metadata(reply, AM_REPLY_OUTCOME,
                                    ok ? AM_OUTCOME_SUCCESS : AM_OUTCOME_FAILURE, err);
    size_t n = ddd_event_metadata_count(command);
    size_t prefix = strlen(AM_CMD_PREFIX);
    for (size_t i = 0; i < n && !st; i++) {
        const char *key, *value;
        ddd_event_metadata_at(command, i, &key, &value);
        if (strncmp(key, AM_CMD_PREFIX, prefix) != 0 || strcmp(key, AM_CMD_NAME) == 0)
            continue;
        char rkey[DDD_NAME_MAX + 8];
        snprintf(rkey, sizeof rkey, AM_REPLY_PREFIX "%s", key + prefix);
        st = ddd_event_set_metadata(reply, rkey, value, err);
    }
    if (!st)
        st = ddd_event_set_metadata(reply, AM_REPLY_COMMAND_ID, ddd_event_id(command), err);
    if (!st && !ok)
        st = ddd_event_set_metadata(reply, AM_REPLY_ERROR,
                                    why->public_msg[0] ? why->public_msg : why->msg, err);
    return st;
}

core_status am_command_answer(am_stream *out, const es_registry *reg, const struct am_delivery *d,
                              const unsigned char *data, size_t len, am_command_handler_fn fn,
                              void *ud, bool *dead, core_err *err)
{
    ddd_event *cmd = NULL, *reply = NULL;
    core_status st = am_data_unpack(reg, d->id, d->name, data, len, &cmd, err);
    if (st != CORE_OK) {
        *dead = st != CORE_ERR_NOMEM;
        return st;
    }
    const char *channel = reply_channel_of(cmd);
    if (!channel) {
        *dead = true; /* nobody to answer: retrying cannot help */
        st = core_err_set(err, CORE_ERR_INVALID,
                          "command %s %s has no reply channel (metadata " AM_CMD_REPLY_CHANNEL ")",
                          d->name, d->id);
        goto done;
    }
    core_err why = CORE_ERR_INIT;
    core_status hst = fn(ud, d, cmd, &reply, &why);
    bool ok = hst == CORE_OK;
    if (!ok) {
        ddd_event_free(reply);
        reply = NULL;
        bool last = d->delivered >= (uint64_t)d->max_deliver;
        if (!is_rule_failure(hst) && !last) { /* an outage: try again later */
            if (err)
                *err = why;
            st = hst;
            goto done;
        }
        log_info(LOG_COMP, "command %s %s failed%s, answering %s: %s", d->name, d->id,
                 is_rule_failure(hst) ? "" : " on its last delivery", AM_REPLY_FAILURE, why.msg);
    }
    if (!reply) {
        ProtobufCMessage *none = NULL;
        if ((st = ddd_event_new(&reply, ok ? AM_REPLY_SUCCESS : AM_REPLY_FAILURE, &none, err)))
            goto done;
    }
    if ((st = dress_reply(reply, cmd, ok, &why, err)) ||
        (st = am_event_publish(out, channel, reply, err)))
        core_err_wrap(err, "answering %s %s", d->name, d->id);
done:
    ddd_event_free(reply);
    ddd_event_free(cmd);
    return st;
}

struct command_sub {
    am_stream *s;
    const es_registry *reg;
    am_command_handler_fn fn;
    void *ud;
};

static core_status command_raw_handler(void *ud, const struct am_delivery *d,
                                       const unsigned char *data, size_t len, bool *dead,
                                       core_err *err)
{
    struct command_sub *cs = ud;
    return am_command_answer(cs->s, cs->reg, d, data, len, cs->fn, cs->ud, dead, err);
}

core_status am_command_subscribe(am_stream *s, const char *channel, const struct am_sub_opts *opts,
                                 const es_registry *reg, am_command_handler_fn fn, void *ud,
                                 core_err *err)
{
    struct command_sub *cs = core_malloc(sizeof *cs);
    if (!cs)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory subscribing");
    cs->s = s;
    cs->reg = reg;
    cs->fn = fn;
    cs->ud = ud;
    return subscribe_impl(s, channel, opts, command_raw_handler, NULL, cs, core_free, err);
}

struct reply_sub {
    const es_registry *reg;
    am_reply_handler_fn fn;
    void *ud;
};

static core_status reply_raw_handler(void *ud, const struct am_delivery *d,
                                     const unsigned char *data, size_t len, bool *dead,
                                     core_err *err)
{
    struct reply_sub *rs = ud;
    ddd_event *reply = NULL;
    core_status st = am_data_unpack(rs->reg, d->id, d->name, data, len, &reply, err);
    if (st != CORE_OK) {
        *dead = st != CORE_ERR_NOMEM;
        return st;
    }
    st = rs->fn(rs->ud, d, reply, err);
    ddd_event_free(reply);
    return st;
}

core_status am_reply_subscribe(am_stream *s, const char *channel, const struct am_sub_opts *opts,
                               const es_registry *reg, am_reply_handler_fn fn, void *ud,
                               core_err *err)
{
    struct reply_sub *rs = core_malloc(sizeof *rs);
    if (!rs)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory subscribing");
    rs->reg = reg;
    rs->fn = fn;
    rs->ud = ud;
    return subscribe_impl(s, channel, opts, reply_raw_handler, NULL, rs, core_free, err);
}
