/* am_mem.c -- the in-memory backend of am.h, for unit tests: a broker that keeps streams,
 * messages and durable consumers in process memory behind one mutex, and delivers only when the
 * test calls am_mem_broker_run(), in the test's thread. It follows JetStream where the core above
 * can tell (sequences from 1, dedup by Nats-Msg-Id, one filter subject per durable consumer, a
 * group's subscribers served in turn, delivery counts, NAK = due again, ack = gone) and departs
 * where a test wants determinism (no clocks: see am.h).
 *
 * Messages are heap objects that live as long as the broker, so a delivery can hand out pointers
 * into them while the lock is released for the handler (which may publish).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "am.h"
#include "log.h"

struct mem_msg {
    uint64_t seq;
    char *subject;
    char *msg_id;           /* NULL = none */
    struct am_header *hdrs; /* owned key/value copies; Nats-Msg-Id first when present */
    size_t n_hdrs, cap_hdrs;
    unsigned char *data;
    size_t len;
    int64_t time_ns; /* when it was stored (CLOCK_REALTIME) */
};

struct mem_pending {
    uint64_t seq;
    uint64_t delivered;
    bool in_flight; /* delivered, neither acked nor NAKed yet; false = due */
};

struct mem_attach {
    struct mem_impl *owner;
    am_sub *sub;
};

struct mem_consumer {
    char *group;
    char *filter;
    int ack_wait_ms;
    uint64_t next_seq;           /* next stream sequence to look at for a first delivery */
    struct mem_pending *pending; /* ascending seq */
    size_t n_pending, cap_pending;
    struct mem_attach *attach;
    size_t n_attach, cap_attach, turn;
};

/* A watch (am_stream_watch): no state on the "server" but where it has got to. */
struct mem_watch {
    struct mem_impl *owner;
    char *filter;
    uint64_t next_seq; /* the next sequence to look at */
    am_stored_fn fn;
    void *ud;
    bool busy; /* fn runs now (am_mem_broker_step) */
};

struct mem_stream {
    char *name;
    struct mem_msg **msgs; /* msgs[i]->seq == i + 1 */
    size_t n_msgs, cap_msgs;
    struct mem_consumer **consumers;
    size_t n_consumers, cap_consumers;
    struct mem_watch **watches;
    size_t n_watches, cap_watches;
};

struct am_mem_broker {
    pthread_mutex_t mu;
    struct mem_stream **streams;
    size_t n_streams, cap_streams;
    int fail_publish, fail_ack;
    int last_nak_delay;
};

/* One am_stream's connection to the broker. */
struct mem_impl {
    am_mem_broker *b;
    struct mem_stream *st;
    bool closed;
    size_t in_flight; /* handler calls of this connection's subscriptions running now */
    pthread_cond_t cv;
};

/* What am_sub_deliver gets as token (lives on am_mem_broker_run's stack for the call). */
struct mem_token {
    struct mem_consumer *c;
    uint64_t seq;
};

static core_status nomem(core_err *err)
{
    return core_err_set(err, CORE_ERR_NOMEM, "out of memory in the memory broker");
}

/* ---- broker ---------------------------------------------------------------------------------- */

core_status am_mem_broker_new(am_mem_broker **out, core_err *err)
{
    am_mem_broker *b = core_calloc(1, sizeof *b);
    if (!b || pthread_mutex_init(&b->mu, NULL) != 0) {
        core_free(b);
        return nomem(err);
    }
    b->last_nak_delay = -1;
    *out = b;
    return CORE_OK;
}

static void msg_free(struct mem_msg *m)
{
    for (size_t i = 0; m->hdrs && i < m->cap_hdrs; i++) { /* unused entries are NULL */
        core_free((char *)m->hdrs[i].key);
        core_free((char *)m->hdrs[i].value);
    }
    core_free(m->hdrs);
    core_free(m->subject);
    core_free(m->msg_id);
    core_free(m->data);
    core_free(m);
}

static void consumer_free(struct mem_consumer *c)
{
    core_free(c->group);
    core_free(c->filter);
    core_free(c->pending);
    core_free(c->attach);
    core_free(c);
}

void am_mem_broker_free(am_mem_broker *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_streams; i++) {
        struct mem_stream *st = b->streams[i];
        for (size_t j = 0; j < st->n_msgs; j++)
            msg_free(st->msgs[j]);
        for (size_t j = 0; j < st->n_consumers; j++)
            consumer_free(st->consumers[j]);
        core_free(st->msgs);
        core_free(st->consumers);
        core_free(st->watches); /* empty: every watch was freed (am.h) */
        core_free(st->name);
        core_free(st);
    }
    core_free(b->streams);
    pthread_mutex_destroy(&b->mu);
    core_free(b);
}

static struct mem_stream *find_stream(am_mem_broker *b, const char *name)
{
    for (size_t i = 0; i < b->n_streams; i++)
        if (strcmp(b->streams[i]->name, name) == 0)
            return b->streams[i];
    return NULL;
}

static struct mem_consumer *find_consumer(struct mem_stream *st, const char *group)
{
    for (size_t i = 0; i < st->n_consumers; i++)
        if (strcmp(st->consumers[i]->group, group) == 0)
            return st->consumers[i];
    return NULL;
}

static bool in_stream(const struct mem_stream *st, const char *subject)
{
    size_t n = strlen(st->name);
    return strncmp(subject, st->name, n) == 0 && subject[n] == '.' && subject[n + 1] != '\0';
}

/* Stores a message (lock held). */
static core_status store(am_mem_broker *b, struct mem_stream *st, const char *subject,
                         const char *msg_id, const struct am_header *hdrs, size_t n_hdrs,
                         const unsigned char *data, size_t len, struct am_publish_ack *ack,
                         core_err *err)
{
    if (msg_id) {
        for (size_t i = 0; i < st->n_msgs; i++) {
            if (st->msgs[i]->msg_id && strcmp(st->msgs[i]->msg_id, msg_id) == 0) {
                ack->seq = st->msgs[i]->seq;
                ack->duplicate = true;
                return CORE_OK;
            }
        }
    }
    if (core_array_grow(&st->msgs, &st->cap_msgs, st->n_msgs + 1, sizeof *st->msgs))
        return nomem(err);
    struct mem_msg *m = core_calloc(1, sizeof *m);
    bool ok = m && (m->subject = core_strdup(subject)) != NULL &&
              (!msg_id || (m->msg_id = core_strdup(msg_id)) != NULL) &&
              (m->hdrs = core_calloc(n_hdrs + 1, sizeof *m->hdrs)) != NULL &&
              (len == 0 || (m->data = core_malloc(len)) != NULL);
    if (m && m->hdrs)
        m->cap_hdrs = n_hdrs + 1;
    if (ok && msg_id) {
        ok = (m->hdrs[0].key = core_strdup(AM_MSG_ID_HDR)) != NULL &&
             (m->hdrs[0].value = core_strdup(msg_id)) != NULL;
        m->n_hdrs = 1;
    }
    for (size_t i = 0; ok && i < n_hdrs; i++, m->n_hdrs++)
        ok = (m->hdrs[m->n_hdrs].key = core_strdup(hdrs[i].key)) != NULL &&
             (m->hdrs[m->n_hdrs].value = core_strdup(hdrs[i].value)) != NULL;
    if (!ok) {
        if (m)
            msg_free(m);
        return nomem(err);
    }
    if (len)
        memcpy(m->data, data, len);
    m->len = len;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    m->time_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    m->seq = st->n_msgs + 1;
    st->msgs[st->n_msgs++] = m;
    ack->seq = m->seq;
    ack->duplicate = false;
    (void)b;
    return CORE_OK;
}

core_status am_mem_broker_inject(am_mem_broker *b, const char *stream, const char *subject,
                                 const char *msg_id, const unsigned char *data, size_t len,
                                 core_err *err)
{
    struct am_publish_ack ack;
    core_status st = CORE_OK;
    pthread_mutex_lock(&b->mu);
    struct mem_stream *s = find_stream(b, stream);
    if (!s || !am_subject_valid(subject, false) || !in_stream(s, subject))
        st = core_err_set(err, CORE_ERR_INTERNAL, "no stream stores subject %.128s", subject);
    else
        st = store(b, s, subject, msg_id, NULL, 0, data, len, &ack, err);
    pthread_mutex_unlock(&b->mu);
    return st;
}

void am_mem_broker_expire(am_mem_broker *b)
{
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < b->n_streams; i++)
        for (size_t j = 0; j < b->streams[i]->n_consumers; j++) {
            struct mem_consumer *c = b->streams[i]->consumers[j];
            for (size_t k = 0; k < c->n_pending; k++)
                c->pending[k].in_flight = false;
        }
    pthread_mutex_unlock(&b->mu);
}

void am_mem_broker_fail(am_mem_broker *b, enum am_mem_fault what, int count)
{
    pthread_mutex_lock(&b->mu);
    if (what == AM_MEM_FAIL_PUBLISH)
        b->fail_publish = count;
    else
        b->fail_ack = count;
    pthread_mutex_unlock(&b->mu);
}

int am_mem_broker_last_nak_delay(const am_mem_broker *b)
{
    am_mem_broker *mb = (am_mem_broker *)b;
    pthread_mutex_lock(&mb->mu);
    int d = mb->last_nak_delay;
    pthread_mutex_unlock(&mb->mu);
    return d;
}

/* Picks the next due delivery of consumer c (lock held): a due pending message, else the next
 * stored message its filter matches. Returns the pending entry's index, or -1. */
static long next_due(struct mem_stream *st, struct mem_consumer *c)
{
    for (size_t k = 0; k < c->n_pending; k++)
        if (!c->pending[k].in_flight)
            return (long)k;
    while (c->next_seq <= st->n_msgs) {
        struct mem_msg *m = st->msgs[c->next_seq - 1];
        c->next_seq++;
        if (!am_subject_matches(c->filter, m->subject))
            continue;
        if (core_array_grow(&c->pending, &c->cap_pending, c->n_pending + 1, sizeof *c->pending)) {
            c->next_seq--; /* try again next time */
            return -1;
        }
        c->pending[c->n_pending] = (struct mem_pending){m->seq, 0, false};
        return (long)c->n_pending++;
    }
    return -1;
}

/* The next message watch w has to see (lock held), or NULL; moves w past it. */
static struct mem_msg *next_watched(struct mem_stream *st, struct mem_watch *w)
{
    while (w->next_seq <= st->n_msgs) {
        struct mem_msg *m = st->msgs[w->next_seq - 1];
        w->next_seq++;
        if (am_subject_matches(w->filter, m->subject))
            return m;
    }
    return NULL;
}

/* Makes one delivery to a watch, if one is due (lock held on entry, released on return). */
static bool step_watch(am_mem_broker *b)
{
    struct mem_watch *w = NULL;
    struct mem_msg *m = NULL;
    for (size_t i = 0; !m && i < b->n_streams; i++)
        for (size_t j = 0; !m && j < b->streams[i]->n_watches; j++) {
            w = b->streams[i]->watches[j];
            if (!w->busy)
                m = next_watched(b->streams[i], w);
        }
    if (!m) {
        pthread_mutex_unlock(&b->mu);
        return false;
    }
    w->busy = true;
    struct mem_impl *owner = w->owner;
    pthread_mutex_unlock(&b->mu);
    /* m is immutable and lives as long as the broker; w stays until busy is false again */
    struct am_stored_msg sm = {m->seq,    m->subject, m->msg_id, m->hdrs,
                               m->n_hdrs, m->data,    m->len,    m->time_ns};
    core_err err = CORE_ERR_INIT;
    (void)w->fn(w->ud, &sm, &err);
    pthread_mutex_lock(&b->mu);
    w->busy = false;
    pthread_cond_broadcast(&owner->cv);
    pthread_mutex_unlock(&b->mu);
    return true;
}

bool am_mem_broker_step(am_mem_broker *b)
{
    pthread_mutex_lock(&b->mu);
    struct mem_consumer *c = NULL;
    struct mem_stream *st = NULL;
    long k = -1;
    for (size_t i = 0; k < 0 && i < b->n_streams; i++)
        for (size_t j = 0; k < 0 && j < b->streams[i]->n_consumers; j++) {
            c = b->streams[i]->consumers[j];
            st = b->streams[i];
            if (c->n_attach > 0)
                k = next_due(st, c);
        }
    if (k < 0)
        return step_watch(b); /* unlocks */
    struct mem_pending *p = &c->pending[k];
    p->delivered++;
    p->in_flight = true;
    struct mem_msg *m = st->msgs[p->seq - 1];
    struct mem_attach a = c->attach[c->turn++ % c->n_attach];
    /* more: false, this backend has no release op (each delivery settles within its call) */
    struct am_backend_msg bm = {m->subject, m->data, m->len, p->delivered, m->seq, false};
    struct mem_token token = {c, m->seq};
    a.owner->in_flight++;
    pthread_mutex_unlock(&b->mu);
    am_sub_deliver(a.sub, &bm, &token);
    pthread_mutex_lock(&b->mu);
    a.owner->in_flight--;
    pthread_cond_broadcast(&a.owner->cv);
    pthread_mutex_unlock(&b->mu);
    return true;
}

void am_mem_broker_run(am_mem_broker *b, size_t *n)
{
    size_t count = 0;
    while (am_mem_broker_step(b))
        count++;
    if (n)
        *n = count;
}

/* ---- the backend ops ------------------------------------------------------------------------- */

static core_status mem_publish(void *impl, const char *subject, const char *msg_id,
                               const struct am_header *hdrs, size_t n_hdrs,
                               const unsigned char *data, size_t len, struct am_publish_ack *ack,
                               core_err *err)
{
    struct mem_impl *mi = impl;
    core_status st = CORE_OK;
    pthread_mutex_lock(&mi->b->mu);
    if (mi->closed)
        st = core_err_set(err, CORE_ERR_UNAVAILABLE, "stream %s is closed", mi->st->name);
    else if (mi->b->fail_publish > 0) {
        mi->b->fail_publish--;
        st = core_err_set(err, CORE_ERR_UNAVAILABLE,
                          "the message broker is unavailable (memory broker: injected failure)");
    } else if (!in_stream(mi->st, subject))
        st = core_err_set(err, CORE_ERR_INTERNAL, "no stream stores subject %.128s", subject);
    else
        st = store(mi->b, mi->st, subject, msg_id, hdrs, n_hdrs, data, len, ack, err);
    pthread_mutex_unlock(&mi->b->mu);
    return st;
}

static core_status mem_subscribe(void *impl, const struct am_consumer_cfg *cc, am_sub *sub,
                                 core_err *err)
{
    struct mem_impl *mi = impl;
    struct mem_stream *st = mi->st;
    core_status rc = CORE_OK;
    pthread_mutex_lock(&mi->b->mu);
    struct mem_consumer *c = find_consumer(st, cc->group);
    if (mi->closed) {
        rc = core_err_set(err, CORE_ERR_UNAVAILABLE, "stream %s is closed", st->name);
    } else if (c && strcmp(c->filter, cc->filter_subject) != 0) {
        rc = core_err_set(err, CORE_ERR_CONFLICT, "group %s already consumes %.128s", cc->group,
                          c->filter);
    } else if (!c) {
        if (core_array_grow(&st->consumers, &st->cap_consumers, st->n_consumers + 1,
                            sizeof *st->consumers) ||
            !(c = core_calloc(1, sizeof *c)) || !(c->group = core_strdup(cc->group)) ||
            !(c->filter = core_strdup(cc->filter_subject))) {
            if (c)
                consumer_free(c);
            c = NULL;
            rc = nomem(err);
        } else {
            c->next_seq = 1;
            st->consumers[st->n_consumers++] = c;
        }
    }
    if (rc == CORE_OK) {
        c->ack_wait_ms = cc->ack_wait_ms; /* "updated to these options" */
        if (core_array_grow(&c->attach, &c->cap_attach, c->n_attach + 1, sizeof *c->attach))
            rc = nomem(err);
        else
            c->attach[c->n_attach++] = (struct mem_attach){mi, sub};
    }
    pthread_mutex_unlock(&mi->b->mu);
    return rc;
}

static struct mem_pending *find_pending(struct mem_token *t, size_t *index)
{
    for (size_t k = 0; k < t->c->n_pending; k++)
        if (t->c->pending[k].seq == t->seq) {
            *index = k;
            return &t->c->pending[k];
        }
    return NULL;
}

static core_status mem_ack(void *impl, void *token, core_err *err)
{
    struct mem_impl *mi = impl;
    struct mem_token *t = token;
    core_status st = CORE_OK;
    size_t k;
    pthread_mutex_lock(&mi->b->mu);
    if (mi->b->fail_ack > 0) {
        mi->b->fail_ack--;
        st = core_err_set(err, CORE_ERR_UNAVAILABLE,
                          "the message broker is unavailable (memory broker: injected failure)");
    } else if (find_pending(t, &k)) {
        memmove(&t->c->pending[k], &t->c->pending[k + 1],
                (t->c->n_pending - k - 1) * sizeof *t->c->pending);
        t->c->n_pending--;
    }
    pthread_mutex_unlock(&mi->b->mu);
    return st;
}

static core_status mem_nak(void *impl, void *token, int delay_ms, core_err *err)
{
    struct mem_impl *mi = impl;
    size_t k;
    (void)err;
    pthread_mutex_lock(&mi->b->mu);
    struct mem_pending *p = find_pending(token, &k);
    if (p)
        p->in_flight = false; /* due again at once: the memory broker keeps no clock */
    mi->b->last_nak_delay = delay_ms;
    pthread_mutex_unlock(&mi->b->mu);
    return CORE_OK;
}

static core_status mem_read(void *impl, const char *filter, uint64_t from_seq, am_stored_fn fn,
                            void *ud, core_err *err)
{
    struct mem_impl *mi = impl;
    core_status st = CORE_OK;
    for (uint64_t seq = from_seq ? from_seq : 1; st == CORE_OK; seq++) {
        pthread_mutex_lock(&mi->b->mu);
        struct mem_msg *m = seq <= mi->st->n_msgs ? mi->st->msgs[seq - 1] : NULL;
        pthread_mutex_unlock(&mi->b->mu);
        if (!m)
            break;
        if (!am_subject_matches(filter, m->subject))
            continue;
        /* m is immutable and lives as long as the broker: no lock needed while fn runs */
        struct am_stored_msg sm = {m->seq,    m->subject, m->msg_id, m->hdrs,
                                   m->n_hdrs, m->data,    m->len,    m->time_ns};
        st = fn(ud, &sm, err);
    }
    return st;
}

/* The position of consumer c of stream st (lock held). */
static struct am_group_info consumer_info(const struct mem_stream *st, const struct mem_consumer *c)
{
    struct am_group_info gi = {0, c->n_pending, 0, 0};
    for (uint64_t seq = c->next_seq; seq <= st->n_msgs; seq++)
        if (am_subject_matches(c->filter, st->msgs[seq - 1]->subject))
            gi.pending++;
    for (size_t k = 0; k < c->n_pending; k++)
        if (c->pending[k].delivered > 1)
            gi.redelivered++;
    gi.ack_floor = c->n_pending ? c->pending[0].seq - 1 : c->next_seq - 1;
    return gi;
}

static core_status mem_group_info(void *impl, const char *group, struct am_group_info *out,
                                  core_err *err)
{
    struct mem_impl *mi = impl;
    core_status st = CORE_OK;
    pthread_mutex_lock(&mi->b->mu);
    struct mem_consumer *c = find_consumer(mi->st, group);
    if (!c)
        st =
            core_err_set(err, CORE_ERR_NOT_FOUND, "stream %s has no group %s", mi->st->name, group);
    else
        *out = consumer_info(mi->st, c);
    pthread_mutex_unlock(&mi->b->mu);
    return st;
}

static core_status mem_state(void *impl, struct am_stream_state *out, core_err *err)
{
    struct mem_impl *mi = impl;
    (void)err;
    pthread_mutex_lock(&mi->b->mu);
    out->messages = mi->st->n_msgs;
    out->bytes = 0;
    for (size_t i = 0; i < mi->st->n_msgs; i++)
        out->bytes += mi->st->msgs[i]->len;
    out->first_seq = mi->st->n_msgs ? 1 : 0;
    out->last_seq = mi->st->n_msgs;
    out->consumers = mi->st->n_consumers + mi->st->n_watches;
    pthread_mutex_unlock(&mi->b->mu);
    return CORE_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* fn runs without the lock (it may call the stream): the names are copied first, and each
 * group is looked up again when its turn comes. */
static core_status mem_groups(void *impl, am_group_fn fn, void *ud, core_err *err)
{
    struct mem_impl *mi = impl;
    core_status st = CORE_OK;
    pthread_mutex_lock(&mi->b->mu);
    size_t n = mi->st->n_consumers;
    char **names = core_calloc(n ? n : 1, sizeof *names);
    for (size_t i = 0; names && i < n; i++)
        if (!(names[i] = core_strdup(mi->st->consumers[i]->group)))
            st = nomem(err);
    pthread_mutex_unlock(&mi->b->mu);
    if (!names)
        return nomem(err);
    if (st == CORE_OK)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; st == CORE_OK && i < n; i++) {
        struct am_group_info gi = {0, 0, 0, 0};
        char *filter = NULL;
        pthread_mutex_lock(&mi->b->mu);
        struct mem_consumer *c = find_consumer(mi->st, names[i]);
        if (c) {
            gi = consumer_info(mi->st, c);
            filter = core_strdup(c->filter);
        }
        pthread_mutex_unlock(&mi->b->mu);
        if (c && !filter) {
            st = nomem(err);
        } else if (c) {
            struct am_group_desc g = {names[i], filter, gi};
            st = fn(ud, &g, err);
        }
        core_free(filter);
    }
    for (size_t i = 0; i < n; i++)
        core_free(names[i]);
    core_free(names);
    return st;
}

static core_status mem_watch(void *impl, const char *filter, uint64_t from_seq, am_stored_fn fn,
                             void *ud, void **handle, core_err *err)
{
    struct mem_impl *mi = impl;
    struct mem_watch *w = core_calloc(1, sizeof *w);
    if (!w || !(w->filter = core_strdup(filter))) {
        core_free(w);
        return nomem(err);
    }
    w->owner = mi;
    w->fn = fn;
    w->ud = ud;
    core_status st = CORE_OK;
    pthread_mutex_lock(&mi->b->mu);
    if (mi->closed)
        st = core_err_set(err, CORE_ERR_UNAVAILABLE, "stream %s is closed", mi->st->name);
    else if (core_array_grow(&mi->st->watches, &mi->st->cap_watches, mi->st->n_watches + 1,
                             sizeof *mi->st->watches))
        st = nomem(err);
    if (st == CORE_OK) {
        w->next_seq = from_seq == AM_WATCH_NEW ? mi->st->n_msgs + 1 : from_seq;
        mi->st->watches[mi->st->n_watches++] = w;
    }
    pthread_mutex_unlock(&mi->b->mu);
    if (st != CORE_OK) {
        core_free(w->filter);
        core_free(w);
        return st;
    }
    *handle = w;
    return CORE_OK;
}

static void mem_unwatch(void *impl, void *handle)
{
    struct mem_impl *mi = impl;
    struct mem_watch *w = handle;
    pthread_mutex_lock(&mi->b->mu);
    for (size_t i = 0; i < mi->st->n_watches; i++)
        if (mi->st->watches[i] == w) {
            memmove(&mi->st->watches[i], &mi->st->watches[i + 1],
                    (mi->st->n_watches - i - 1) * sizeof *mi->st->watches);
            mi->st->n_watches--;
            break;
        }
    while (w->busy) /* a delivery on another thread: no new one can start, wait for it to end */
        pthread_cond_wait(&mi->cv, &mi->b->mu);
    pthread_mutex_unlock(&mi->b->mu);
    core_free(w->filter);
    core_free(w);
}

static bool mem_wait_connected(void *impl, int timeout_ms)
{
    struct mem_impl *mi = impl;
    (void)timeout_ms;
    pthread_mutex_lock(&mi->b->mu);
    bool up = !mi->closed;
    pthread_mutex_unlock(&mi->b->mu);
    return up;
}

static core_status mem_close(void *impl, int timeout_ms, bool *abandoned, core_err *err)
{
    struct mem_impl *mi = impl;
    core_status st = CORE_OK;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&mi->b->mu);
    mi->closed = true;
    for (size_t j = 0; j < mi->st->n_consumers; j++) {
        struct mem_consumer *c = mi->st->consumers[j];
        size_t w = 0;
        for (size_t r = 0; r < c->n_attach; r++)
            if (c->attach[r].owner != mi)
                c->attach[w++] = c->attach[r];
        c->n_attach = w;
    }
    int rc = 0;
    while (mi->in_flight > 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&mi->cv, &mi->b->mu, &deadline);
    if (mi->in_flight > 0) {
        *abandoned = true;
        st = core_err_set(err, CORE_ERR_UNAVAILABLE,
                          "stream %s: %zu handlers still running after %d ms", mi->st->name,
                          mi->in_flight, timeout_ms);
    }
    pthread_mutex_unlock(&mi->b->mu);
    return st;
}

static void mem_free(void *impl, bool abandoned)
{
    struct mem_impl *mi = impl;
    if (abandoned)
        return; /* a handler still counts on mi->cv */
    pthread_cond_destroy(&mi->cv);
    core_free(mi);
}

static const struct am_stream_ops mem_ops = {
    .kind = "memory",
    .publish = mem_publish,
    .subscribe = mem_subscribe,
    .ack = mem_ack,
    .nak = mem_nak,
    .read = mem_read,
    .group_info = mem_group_info,
    .wait_connected = mem_wait_connected,
    .close = mem_close,
    .free = mem_free,
    .state = mem_state,
    .groups = mem_groups,
    .watch = mem_watch,
    .unwatch = mem_unwatch,
};

core_status am_mem_stream_new(am_stream **out, am_mem_broker *b, const char *name, core_err *err)
{
    if (!am_name_valid(name))
        return core_err_set(err, CORE_ERR_INVALID,
                            "NATS_STREAM: \"%.80s\" is not a valid stream name (letters, digits, "
                            "'-' and '_', at most %d)",
                            name ? name : "", AM_NAME_MAX);
    struct mem_impl *mi = core_calloc(1, sizeof *mi);
    pthread_condattr_t attr;
    bool cv_ok = false;
    if (mi && pthread_condattr_init(&attr) == 0) {
        cv_ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
                pthread_cond_init(&mi->cv, &attr) == 0;
        pthread_condattr_destroy(&attr);
    }
    if (!cv_ok) {
        core_free(mi);
        return nomem(err);
    }
    mi->b = b;
    core_status st = CORE_OK;
    pthread_mutex_lock(&b->mu);
    struct mem_stream *s = find_stream(b, name);
    if (!s) {
        if (core_array_grow(&b->streams, &b->cap_streams, b->n_streams + 1, sizeof *b->streams) ||
            !(s = core_calloc(1, sizeof *s)) || !(s->name = core_strdup(name))) {
            core_free(s);
            s = NULL;
            st = nomem(err);
        } else {
            b->streams[b->n_streams++] = s;
        }
    }
    pthread_mutex_unlock(&b->mu);
    if (st != CORE_OK) {
        pthread_cond_destroy(&mi->cv);
        core_free(mi);
        return st;
    }
    mi->st = s;
    return am_stream_new(out, &mem_ops, mi, name, err);
}
