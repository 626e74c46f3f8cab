/* it_am.c -- integration tests of am.h's JetStream backend against a real nats-server.
 *
 * Most tests use the lab's server (NATS_URL, default CFG_DEFAULT_NATS_URL; scripts/lab.sh up),
 * each with a stream of its own ("itam_<test>_<pid>", subjects "itam_<test>_<pid>.>") that the
 * teardown deletes. The tests that stop and start a server run their own nats-server on a free
 * loopback port with a store directory under build/ (or /tmp), both gone afterwards (the server
 * dies with the test process, also when it crashes).
 *
 * Handlers run on nats.c's threads: they never call cmocka asserts (which longjmp), they record
 * what they saw under a mutex and wake the test thread through a condition variable. Waits are
 * bounded (WAIT_MS) so a broken build fails instead of hanging; nothing asserts on durations.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <nats/nats.h>

#include "am.h"
#include "am_test.pb-c.h"
#include "cfg.h"
#include "ddd.h"
#include "es.h"
#include "log.h"
#include "natsd.h"
#include "pb.h"

#define STORE_CREATED "storesapi.StoreCreated"
#define WAIT_MS 30000 /* upper bound of every wait: a failure, not a measurement */

static const char *nats_url(void)
{
    const char *u = getenv("NATS_URL");
    return u && *u ? u : CFG_DEFAULT_NATS_URL;
}

/* A loopback port nobody listens on right now (the kernel's choice of a free one), so that the
 * tests of several people on one machine do not collide. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- waiting on handlers --------------------------------------------------------------------- */

#define SINK_MAX 64
struct sink {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    int fail_first; /* fail this many calls */
    bool fail_always;
    bool gate_closed; /* the first call waits until the test opens the gate */
    bool entered;     /* the first call is waiting at the gate */
    bool finished;    /* the gated call has returned (set just before it returns) */
    char id[SINK_MAX][64];
    char name[SINK_MAX][96];
    char store_name[SINK_MAX][64];
    char meta[SINK_MAX][64];
    uint64_t delivered[SINK_MAX];
    int inst[SINK_MAX]; /* which instance handled it (instances_of_a_group_share_the_work) */
};

static void sink_init(struct sink *s)
{
    memset(s, 0, sizeof *s);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &a);
    pthread_condattr_destroy(&a);
    pthread_mutex_init(&s->mu, NULL);
}

static void sink_release(struct sink *s)
{
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
}

static struct timespec deadline_in(int ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Waits until the sink saw at least n calls; returns the count. */
static int sink_wait_calls(struct sink *s, int n)
{
    struct timespec d = deadline_in(WAIT_MS);
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    while (s->calls < n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&s->cv, &s->mu, &d);
    int calls = s->calls;
    pthread_mutex_unlock(&s->mu);
    return calls;
}

/* Waits until *flag (guarded by s->mu) is true; returns it. */
static bool sink_wait_flag(struct sink *s, const bool *flag)
{
    struct timespec d = deadline_in(WAIT_MS);
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    while (!*flag && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&s->cv, &s->mu, &d);
    bool v = *flag;
    pthread_mutex_unlock(&s->mu);
    return v;
}

static void sink_open_gate(struct sink *s)
{
    pthread_mutex_lock(&s->mu);
    s->gate_closed = false;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Records one call; returns what the handler answers. */
static core_status sink_record(struct sink *s, const struct am_delivery *d, const ddd_event *ev,
                               core_err *err)
{
    pthread_mutex_lock(&s->mu);
    bool gated = s->calls == 0 && s->gate_closed;
    if (gated) {
        s->entered = true;
        pthread_cond_broadcast(&s->cv);
        while (s->gate_closed)
            pthread_cond_wait(&s->cv, &s->mu);
    }
    int i = s->calls % SINK_MAX;
    core_strlcpy(s->id[i], d->id, sizeof s->id[i]);
    core_strlcpy(s->name[i], d->name, sizeof s->name[i]);
    s->delivered[i] = d->delivered;
    s->store_name[i][0] = s->meta[i][0] = '\0';
    if (ev && ddd_event_payload_is(ev, &amtest__store_created__descriptor)) {
        const Amtest__StoreCreated *p = (const Amtest__StoreCreated *)ddd_event_payload(ev);
        core_strlcpy(s->store_name[i], p->name, sizeof s->store_name[i]);
        const char *m = ddd_event_metadata(ev, "trace");
        core_strlcpy(s->meta[i], m ? m : "", sizeof s->meta[i]);
    }
    s->calls++;
    bool fail = s->fail_always || s->calls <= s->fail_first;
    if (gated)
        s->finished = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (fail)
        return core_err_set(err, CORE_ERR_CONFLICT, "refused by the test");
    return CORE_OK;
}

static core_status sink_event(void *ud, const struct am_delivery *d, const ddd_event *ev,
                              core_err *err)
{
    return sink_record(ud, d, ev, err);
}

static core_status sink_raw(void *ud, const struct am_delivery *d, const unsigned char *data,
                            size_t len, bool *dead, core_err *err)
{
    (void)data;
    (void)len;
    (void)dead;
    return sink_record(ud, d, NULL, err);
}

/* ---- fixture --------------------------------------------------------------------------------- */

struct fx {
    long live;
    char stream[AM_NAME_MAX + 1];
    char channel[AM_SUBJECT_MAX + 1]; /* <stream>.stores.events.Store */
    char dead[AM_SUBJECT_MAX + 1];    /* <stream>.dead.> */
    char url[128];                    /* the server of this test */
    am_stream *s;                     /* publisher (and group info) */
    es_registry *reg;
};

static int test_counter;

/* Opens a stream named after the fixture on url. */
static core_status open_stream(struct fx *f, am_stream **out, core_err *err)
{
    struct am_js_opts o = AM_JS_OPTS_INIT;
    o.url = f->url;
    o.stream = f->stream;
    o.connect_timeout_ms = 10000;
    o.name = "it_am";
    return am_js_stream_new(out, &o, err);
}

static int fx_setup_on(void **state, const char *url)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->live = core_alloc_live();
    snprintf(f->stream, sizeof f->stream, "itam_%d_%d", (int)getpid(), ++test_counter);
    snprintf(f->channel, sizeof f->channel, "%s.stores.events.Store", f->stream);
    snprintf(f->dead, sizeof f->dead, "%s.dead.>", f->stream);
    core_strlcpy(f->url, url, sizeof f->url);
    core_err err = CORE_ERR_INIT;
    if (es_registry_new(&f->reg, &err) ||
        es_registry_add(f->reg, STORE_CREATED, &amtest__store_created__descriptor, &err) ||
        open_stream(f, &f->s, &err)) {
        fprintf(stderr, "it_am setup (%s): %s\n", url, err.msg);
        es_registry_free(f->reg);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int fx_setup(void **state)
{
    return fx_setup_on(state, nats_url());
}

/* Deletes the test's stream through a plain nats.c connection. */
static void delete_stream(const char *url, const char *stream)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    if (natsConnection_ConnectTo(&nc, url) == NATS_OK &&
        natsConnection_JetStream(&js, nc, NULL) == NATS_OK)
        js_DeleteStream(js, stream, NULL, NULL);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    am_stream_free(f->s);
    es_registry_free(f->reg);
    delete_stream(f->url, f->stream);
    long live = core_alloc_live();
    int rc = 0;
    if (live != f->live) {
        fprintf(stderr, "it_am: %ld allocations leaked\n", live - f->live);
        rc = -1;
    }
    free(f);
    return rc;
}

static ddd_event *store_created(const char *name)
{
    Amtest__StoreCreated *p = pb_new_of(amtest__store_created);
    assert_non_null(p);
    assert_int_equal(pb_set_string(&p->id, "s1", NULL), CORE_OK);
    assert_int_equal(pb_set_string(&p->name, name, NULL), CORE_OK);
    ProtobufCMessage *pm = &p->base;
    ddd_event *ev = NULL;
    assert_int_equal(ddd_event_new(&ev, STORE_CREATED, &pm, NULL), CORE_OK);
    return ev;
}

static void publish_store(struct fx *f, am_stream *s, const char *name,
                          char id_out[CORE_UUID_LEN + 1])
{
    ddd_event *ev = store_created(name);
    core_err err = CORE_ERR_INIT;
    core_status st = am_event_publish(s, f->channel, ev, &err);
    if (st != CORE_OK)
        fail_msg("publish: %s", err.msg);
    if (id_out)
        core_strlcpy(id_out, ddd_event_id(ev), CORE_UUID_LEN + 1);
    ddd_event_free(ev);
}

static struct am_sub_opts opts_for(const char *group)
{
    struct am_sub_opts o = AM_SUB_OPTS_INIT;
    o.group = group;
    return o;
}

/* Dead letters, as read back from the stream. */
struct dead_list {
    int n;
    char reason[8][CORE_ERR_MSG_MAX + 64], deliveries[8][16], subject[8][128], id[8][64];
};

static core_status collect_dead(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct dead_list *dl = ud;
    (void)err;
    if (dl->n >= 8)
        return CORE_OK;
    const char *r = am_stored_header(m, AM_DEAD_HDR_REASON),
               *d = am_stored_header(m, AM_DEAD_HDR_DELIVERIES),
               *s = am_stored_header(m, AM_DEAD_HDR_SUBJECT),
               *id = am_stored_header(m, AM_DEAD_HDR_ID);
    core_strlcpy(dl->reason[dl->n], r ? r : "", sizeof dl->reason[0]);
    core_strlcpy(dl->deliveries[dl->n], d ? d : "", sizeof dl->deliveries[0]);
    core_strlcpy(dl->subject[dl->n], s ? s : "", sizeof dl->subject[0]);
    core_strlcpy(dl->id[dl->n], id ? id : "", sizeof dl->id[0]);
    dl->n++;
    return CORE_OK;
}

static void read_dead(struct fx *f, struct dead_list *dl)
{
    memset(dl, 0, sizeof *dl);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(am_stream_read(f->s, f->dead, 0, collect_dead, dl, &err), CORE_OK);
}

static void expect_group(struct fx *f, const char *group, uint64_t pending, uint64_t ack_pending)
{
    struct am_group_info gi;
    core_err err = CORE_ERR_INIT;
    core_status st = am_stream_group_info(f->s, group, &gi, &err);
    if (st != CORE_OK)
        fail_msg("group info: %s", err.msg);
    assert_int_equal(gi.pending, pending);
    assert_int_equal(gi.ack_pending, ack_pending);
}

/* ---- our own nats-server (for the tests that stop it) ---------------------------------------- */

/* A test with a nats-server of its own: the group setup/teardown pair owns it, so a failing
 * test still stops the server and removes its store. */
struct srv_fx {
    struct natsd srv;
    struct fx *f; /* on srv, made by the test */
    long live;
};

static int srv_fx_setup(void **state)
{
    struct srv_fx *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    x->live = core_alloc_live();
    if (natsd_init(&x->srv, "it_am") != 0) {
        free(x);
        return -1;
    }
    *state = x;
    return 0;
}

static int srv_fx_teardown(void **state)
{
    struct srv_fx *x = *state;
    int rc = 0;
    if (x->f)
        rc = fx_teardown((void **)&x->f);
    natsd_release(&x->srv);
    if (core_alloc_live() != x->live) {
        fprintf(stderr, "it_am: %ld allocations leaked\n", core_alloc_live() - x->live);
        rc = -1;
    }
    free(x);
    return rc;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void events_are_published_and_consumed(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct sink k;
    sink_init(&k);
    struct am_sub_opts o = opts_for("baskets-stores");
    assert_int_equal(am_event_subscribe(f->s, f->channel, &o, f->reg, sink_event, &k, &err),
                     CORE_OK);
    char ids[3][CORE_UUID_LEN + 1];
    const char *names[3] = {"A", "B", "C"};
    for (int i = 0; i < 3; i++) {
        ddd_event *ev = store_created(names[i]);
        assert_int_equal(ddd_event_set_metadata(ev, "trace", names[i], &err), CORE_OK);
        core_strlcpy(ids[i], ddd_event_id(ev), sizeof ids[i]);
        assert_int_equal(am_event_publish(f->s, f->channel, ev, &err), CORE_OK);
        ddd_event_free(ev);
    }
    assert_int_equal(sink_wait_calls(&k, 3), 3);
    assert_int_equal(am_stream_close(f->s, 10000, &err), CORE_OK);
    for (int i = 0; i < 3; i++) { /* one subscriber: in order */
        assert_string_equal(k.id[i], ids[i]);
        assert_string_equal(k.name[i], STORE_CREATED);
        assert_string_equal(k.store_name[i], names[i]);
        assert_string_equal(k.meta[i], names[i]);
        assert_int_equal(k.delivered[i], 1);
    }
    am_stream_free(f->s);
    assert_int_equal(open_stream(f, &f->s, &err), CORE_OK);
    expect_group(f, "baskets-stores", 0, 0); /* all acknowledged; the group outlived the close */
    sink_release(&k);
}

static void a_retried_publish_is_stored_once(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct am_publish_ack a1, a2;
    assert_int_equal(am_stream_publish(f->s, f->channel, "msg-1", "x.Y", (const unsigned char *)"d",
                                       1, &a1, &err),
                     CORE_OK);
    assert_false(a1.duplicate);
    assert_int_equal(am_stream_publish(f->s, f->channel, "msg-1", "x.Y", (const unsigned char *)"d",
                                       1, &a2, &err),
                     CORE_OK);
    assert_true(a2.duplicate);
    assert_int_equal(a2.seq, a1.seq);
    struct dead_list all; /* reuse the collector to count */
    memset(&all, 0, sizeof all);
    assert_int_equal(am_stream_read(f->s, NULL, 0, collect_dead, &all, &err), CORE_OK);
    assert_int_equal(all.n, 1);
}

/* Reads the Nats-Msg-Id of the first stored message. */
static core_status first_msg_id(void *ud, const struct am_stored_msg *m, core_err *err)
{
    (void)err;
    char *out = ud;
    if (!*out)
        core_strlcpy(out, m->msg_id ? m->msg_id : "(none)", 64);
    return CORE_OK;
}

static void the_message_id_is_the_nats_msg_id(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    char id[CORE_UUID_LEN + 1], seen[64] = "";
    publish_store(f, f->s, "A", id);
    assert_int_equal(am_stream_read(f->s, f->channel, 0, first_msg_id, seen, &err), CORE_OK);
    assert_string_equal(seen, id);
}

static void failed_handlers_are_redelivered_with_counts(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct sink k;
    sink_init(&k);
    k.fail_first = 2;
    struct am_sub_opts o = opts_for("g");
    o.retry_delay_ms = 20;
    assert_int_equal(am_event_subscribe(f->s, f->channel, &o, f->reg, sink_event, &k, &err),
                     CORE_OK);
    char id[CORE_UUID_LEN + 1];
    publish_store(f, f->s, "A", id);
    assert_int_equal(sink_wait_calls(&k, 3), 3);
    assert_int_equal(am_stream_close(f->s, 10000, &err), CORE_OK);
    assert_int_equal(k.calls, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(k.id[i], id);
        assert_int_equal(k.delivered[i], (uint64_t)i + 1);
    }
    am_stream_free(f->s);
    assert_int_equal(open_stream(f, &f->s, &err), CORE_OK);
    expect_group(f, "g", 0, 0);
    struct dead_list dl;
    read_dead(f, &dl);
    assert_int_equal(dl.n, 0);
    sink_release(&k);
}

static void a_message_that_keeps_failing_ends_dead(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct sink k, dead;
    sink_init(&k);
    sink_init(&dead);
    k.fail_always = true;
    struct am_sub_opts o = opts_for("g");
    o.retry_delay_ms = 10;
    o.max_deliver = 3;
    assert_int_equal(am_event_subscribe(f->s, f->channel, &o, f->reg, sink_event, &k, &err),
                     CORE_OK);
    char dead_subject[AM_SUBJECT_MAX + 1];
    snprintf(dead_subject, sizeof dead_subject, "%s.dead.g", f->stream);
    struct am_sub_opts dlo = opts_for("dead-g");
    assert_int_equal(am_stream_subscribe(f->s, dead_subject, &dlo, sink_raw, &dead, &err), CORE_OK);
    char id[CORE_UUID_LEN + 1];
    publish_store(f, f->s, "A", id);
    assert_int_equal(sink_wait_calls(&dead, 1), 1);
    assert_int_equal(am_stream_close(f->s, 10000, &err), CORE_OK);
    assert_int_equal(k.calls, 3);
    assert_int_equal(k.delivered[2], 3);
    assert_string_equal(dead.id[0], id); /* the dead letter carries the original message */
    am_stream_free(f->s);
    assert_int_equal(open_stream(f, &f->s, &err), CORE_OK);
    struct dead_list dl;
    read_dead(f, &dl);
    assert_int_equal(dl.n, 1);
    assert_string_equal(dl.reason[0], "handler failed on delivery 3 of 3: refused by the test");
    assert_string_equal(dl.deliveries[0], "3");
    assert_string_equal(dl.subject[0], f->channel);
    assert_string_equal(dl.id[0], id);
    expect_group(f, "g", 0, 0); /* the original was acknowledged */
    sink_release(&k);
    sink_release(&dead);
}

static void an_undecodable_message_ends_dead(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct sink k;
    sink_init(&k);
    struct am_sub_opts o = opts_for("g");
    assert_int_equal(am_event_subscribe(f->s, f->channel, &o, f->reg, sink_event, &k, &err),
                     CORE_OK);
    /* another producer's garbage, through plain nats.c */
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    assert_int_equal(natsConnection_ConnectTo(&nc, f->url), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    assert_int_equal(js_Publish(NULL, js, f->channel, "\xff\xff\xff", 3, NULL, NULL), NATS_OK);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    /* then a good one: the group carries on */
    publish_store(f, f->s, "B", NULL);
    assert_int_equal(sink_wait_calls(&k, 1), 1);
    assert_int_equal(am_stream_close(f->s, 10000, &err), CORE_OK);
    assert_int_equal(k.calls, 1);
    assert_string_equal(k.store_name[0], "B");
    am_stream_free(f->s);
    assert_int_equal(open_stream(f, &f->s, &err), CORE_OK);
    struct dead_list dl;
    read_dead(f, &dl);
    assert_int_equal(dl.n, 1);
    assert_non_null(strstr(dl.reason[0], "not a StreamMessage"));
    expect_group(f, "g", 0, 0);
    sink_release(&k);
}

/* Deliveries whose handler never answered (here: taken by a client that never acknowledges)
 * end as a dead letter when the group gets the message once more than max_deliver. */
static void unacknowledged_deliveries_end_dead(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct sink k;
    sink_init(&k);
    struct am_sub_opts o = opts_for("g");
    o.max_deliver = 2;
    o.ack_wait_ms = 500;
    /* create the group, then leave */
    am_stream *sub = NULL;
    assert_int_equal(open_stream(f, &sub, &err), CORE_OK);
    assert_int_equal(am_event_subscribe(sub, f->channel, &o, f->reg, sink_event, &k, &err),
                     CORE_OK);
    assert_int_equal(am_stream_close(sub, 10000, &err), CORE_OK);
    am_stream_free(sub);
    char id[CORE_UUID_LEN + 1];
    publish_store(f, f->s, "A", id);

    /* a client that takes the message twice and never acknowledges it */
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsSubscription *ns = NULL;
    assert_int_equal(natsConnection_ConnectTo(&nc, f->url), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = f->stream;
    so.Consumer = "g";
    so.Queue = "g";
    so.ManualAck = true;
    assert_int_equal(js_SubscribeSync(&ns, js, f->channel, NULL, &so, NULL), NATS_OK);
    for (int i = 0; i < 2; i++) {
        natsMsg *m = NULL;
        assert_int_equal(natsSubscription_NextMsg(&m, ns, WAIT_MS), NATS_OK);
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(ns); /* not Unsubscribe: that is not needed for a bound consumer */
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);

    /* the group's next instance: delivery 3 > max_deliver 2 */
    struct sink dead;
    sink_init(&dead);
    char dead_subject[AM_SUBJECT_MAX + 1];
    snprintf(dead_subject, sizeof dead_subject, "%s.dead.g", f->stream);
    struct am_sub_opts dlo = opts_for("dead-g");
    assert_int_equal(am_stream_subscribe(f->s, dead_subject, &dlo, sink_raw, &dead, &err), CORE_OK);
    assert_int_equal(open_stream(f, &sub, &err), CORE_OK);
    assert_int_equal(am_event_subscribe(sub, f->channel, &o, f->reg, sink_event, &k, &err),
                     CORE_OK);
    assert_int_equal(sink_wait_calls(&dead, 1), 1);
    assert_int_equal(am_stream_close(sub, 10000, &err), CORE_OK);
    am_stream_free(sub);
    assert_int_equal(k.calls, 0); /* the handler was not given a third try */
    struct dead_list dl;
    read_dead(f, &dl);
    assert_int_equal(dl.n, 1);
    assert_string_equal(dl.deliveries[0], "3");
    assert_non_null(strstr(dl.reason[0], "gave up after 2 deliveries"));
    expect_group(f, "g", 0, 0);
    sink_release(&k);
    sink_release(&dead);
}

static void a_restarted_group_resumes_without_loss(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct sink k1, k2;
    sink_init(&k1);
    sink_init(&k2);
    struct am_sub_opts o = opts_for("baskets-stores");
    am_stream *sub = NULL;
    assert_int_equal(open_stream(f, &sub, &err), CORE_OK);
    assert_int_equal(am_event_subscribe(sub, f->channel, &o, f->reg, sink_event, &k1, &err),
                     CORE_OK);
    for (int i = 0; i < 5; i++)
        publish_store(f, f->s, "before", NULL);
    assert_int_equal(sink_wait_calls(&k1, 5), 5);
    assert_int_equal(am_stream_close(sub, 10000, &err), CORE_OK);
    am_stream_free(sub);

    char ids[5][CORE_UUID_LEN + 1];
    for (int i = 0; i < 5; i++)
        publish_store(f, f->s, "while away", ids[i]);
    expect_group(f, "baskets-stores", 5, 0);

    assert_int_equal(open_stream(f, &sub, &err), CORE_OK);
    assert_int_equal(am_event_subscribe(sub, f->channel, &o, f->reg, sink_event, &k2, &err),
                     CORE_OK);
    assert_int_equal(sink_wait_calls(&k2, 5), 5);
    assert_int_equal(am_stream_close(sub, 10000, &err), CORE_OK); /* drains: any extra arrives */
    am_stream_free(sub);
    assert_int_equal(k1.calls, 5);
    assert_int_equal(k2.calls, 5); /* exactly the new ones, none of the old */
    for (int i = 0; i < 5; i++)
        assert_string_equal(k2.id[i], ids[i]);
    expect_group(f, "baskets-stores", 0, 0);
    sink_release(&k1);
    sink_release(&k2);
}

/* Two instances of one group record into one sink, each under its own number. */
struct instance {
    struct sink *k;
    int no;
};

static core_status instance_event(void *ud, const struct am_delivery *d, const ddd_event *ev,
                                  core_err *err)
{
    struct instance *in = ud;
    pthread_mutex_lock(&in->k->mu);
    in->k->inst[in->k->calls % SINK_MAX] = in->no;
    pthread_mutex_unlock(&in->k->mu);
    return sink_record(in->k, d, ev, err);
}

static void instances_of_a_group_share_the_work(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct sink k;
    sink_init(&k);
    struct instance ia = {&k, 1}, ib = {&k, 2};
    am_stream *a = NULL, *b = NULL;
    struct am_sub_opts o = opts_for("g");
    assert_int_equal(open_stream(f, &a, &err), CORE_OK);
    assert_int_equal(open_stream(f, &b, &err), CORE_OK);
    assert_int_equal(am_event_subscribe(a, f->channel, &o, f->reg, instance_event, &ia, &err),
                     CORE_OK);
    assert_int_equal(am_event_subscribe(b, f->channel, &o, f->reg, instance_event, &ib, &err),
                     CORE_OK);
    enum { N = 40 };
    for (int i = 0; i < N; i++)
        publish_store(f, f->s, "S", NULL);
    assert_int_equal(sink_wait_calls(&k, N), N);
    assert_int_equal(am_stream_close(a, 10000, &err), CORE_OK);
    assert_int_equal(am_stream_close(b, 10000, &err), CORE_OK);
    am_stream_free(a);
    am_stream_free(b);
    assert_int_equal(k.calls, N); /* no message twice */
    int na = 0, nb = 0;
    for (int i = 0; i < N; i++) {
        na += k.inst[i] == 1;
        nb += k.inst[i] == 2;
        for (int j = 0; j < i; j++)
            assert_string_not_equal(k.id[i], k.id[j]);
    }
    assert_true(na > 0);
    assert_true(nb > 0);
    print_message("work shared: %d and %d of %d\n", na, nb, N);
    expect_group(f, "g", 0, 0);
    sink_release(&k);
}

struct closer {
    am_stream *s;
    struct sink *k;
    bool closing; /* guarded by k->mu */
    core_status st;
    core_err err;
    bool handler_finished_before_return;
};

static void *close_thread(void *arg)
{
    struct closer *c = arg;
    pthread_mutex_lock(&c->k->mu);
    c->closing = true;
    pthread_cond_broadcast(&c->k->cv);
    pthread_mutex_unlock(&c->k->mu);
    c->st = am_stream_close(c->s, 20000, &c->err);
    pthread_mutex_lock(&c->k->mu);
    c->handler_finished_before_return = c->k->finished;
    pthread_mutex_unlock(&c->k->mu);
    return NULL;
}

/* Shutdown drains: the handler holding a message when close begins finishes and its message is
 * acknowledged before close returns; what was not handled goes to the next instance. */
static void close_drains_the_handlers(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct sink k;
    sink_init(&k);
    k.gate_closed = true;
    am_stream *sub = NULL;
    struct am_sub_opts o = opts_for("g");
    assert_int_equal(open_stream(f, &sub, &err), CORE_OK);
    assert_int_equal(am_event_subscribe(sub, f->channel, &o, f->reg, sink_event, &k, &err),
                     CORE_OK);
    char ids[3][CORE_UUID_LEN + 1];
    for (int i = 0; i < 3; i++)
        publish_store(f, f->s, "S", ids[i]);
    assert_true(sink_wait_flag(&k, &k.entered)); /* the first message is in the handler */

    struct closer c = {sub, &k, false, CORE_OK, CORE_ERR_INIT, false};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, close_thread, &c), 0);
    assert_true(sink_wait_flag(&k, &c.closing));
    sink_open_gate(&k);
    pthread_join(t, NULL);
    if (c.st != CORE_OK)
        fail_msg("close: %s", c.err.msg);
    assert_true(c.handler_finished_before_return);
    am_stream_free(sub);
    int handled = k.calls;
    assert_true(handled >= 1);
    /* nothing is left in a handler's hands: what was handled is acknowledged */
    struct am_group_info gi;
    assert_int_equal(am_stream_group_info(f->s, "g", &gi, &err), CORE_OK);
    assert_int_equal(gi.ack_pending, 0);
    assert_int_equal(gi.pending, (uint64_t)(3 - handled));

    /* the next instance gets the rest, and nothing twice */
    struct sink k2;
    sink_init(&k2);
    assert_int_equal(open_stream(f, &sub, &err), CORE_OK);
    assert_int_equal(am_event_subscribe(sub, f->channel, &o, f->reg, sink_event, &k2, &err),
                     CORE_OK);
    assert_int_equal(sink_wait_calls(&k2, 3 - handled), 3 - handled);
    assert_int_equal(am_stream_close(sub, 10000, &err), CORE_OK);
    am_stream_free(sub);
    assert_int_equal(k.calls + k2.calls, 3);
    for (int i = 0; i < k2.calls; i++)
        assert_string_equal(k2.id[i], ids[handled + i]);
    sink_release(&k);
    sink_release(&k2);
}

/* A handler publishes (as a module's integration-event handler does): the publish, a request to
 * the server made from nats.c's delivery thread, completes and the next group gets it. The relay
 * publishes a NEW event (a new id): the same id again would be a duplicate for the whole stream,
 * whatever the subject. */
struct relay {
    am_stream *s;
    char to[AM_SUBJECT_MAX + 1];
    core_status st;
};

static core_status relay_event(void *ud, const struct am_delivery *d, const ddd_event *ev,
                               core_err *err)
{
    struct relay *r = ud;
    (void)d;
    const Amtest__StoreCreated *p = (const Amtest__StoreCreated *)ddd_event_payload(ev);
    Amtest__StoreCreated *copy = pb_new_of(amtest__store_created);
    ProtobufCMessage *pm = copy ? &copy->base : NULL;
    ddd_event *out = NULL;
    if (!copy || pb_set_string(&copy->name, p->name, err) != CORE_OK ||
        ddd_event_new(&out, STORE_CREATED, &pm, err) != CORE_OK) {
        pb_free(pm);
        return r->st = CORE_ERR_NOMEM;
    }
    r->st = am_event_publish(r->s, r->to, out, err);
    ddd_event_free(out);
    return r->st;
}

static void a_handler_can_publish(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct relay r = {f->s, "", CORE_ERR_INTERNAL};
    snprintf(r.to, sizeof r.to, "%s.relayed.Store", f->stream);
    struct sink k;
    sink_init(&k);
    struct am_sub_opts o1 = opts_for("relay"), o2 = opts_for("end");
    assert_int_equal(am_event_subscribe(f->s, f->channel, &o1, f->reg, relay_event, &r, &err),
                     CORE_OK);
    assert_int_equal(am_event_subscribe(f->s, r.to, &o2, f->reg, sink_event, &k, &err), CORE_OK);
    char id[CORE_UUID_LEN + 1];
    publish_store(f, f->s, "A", id);
    assert_int_equal(sink_wait_calls(&k, 1), 1);
    assert_int_equal(am_stream_close(f->s, 10000, &err), CORE_OK);
    assert_int_equal(r.st, CORE_OK);
    assert_string_equal(k.store_name[0], "A");
    assert_string_not_equal(k.id[0], id);
    sink_release(&k);
}

static void misuse_is_refused_before_the_server(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    /* a subject no stream captures: refused here, not with the server's misleading 10076 */
    assert_int_equal(am_stream_publish(f->s, "elsewhere.x", "m", "n", NULL, 0, NULL, &err),
                     CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "is not a plain subject of stream"));
    /* one group, one channel, also across connections */
    struct sink k;
    sink_init(&k);
    struct am_sub_opts o = opts_for("g");
    assert_int_equal(am_event_subscribe(f->s, f->channel, &o, f->reg, sink_event, &k, &err),
                     CORE_OK);
    am_stream *other = NULL;
    assert_int_equal(open_stream(f, &other, &err), CORE_OK);
    char product[AM_SUBJECT_MAX + 1];
    snprintf(product, sizeof product, "%s.stores.events.Product", f->stream);
    assert_int_equal(am_event_subscribe(other, product, &o, f->reg, sink_event, &k, &err),
                     CORE_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "group g already consumes"));
    am_stream_free(other);
    assert_int_equal(am_stream_close(f->s, 10000, &err), CORE_OK);
    sink_release(&k);
}

/* A stream that exists with another configuration is updated at start-up. */
static void an_existing_stream_is_updated(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    assert_int_equal(natsConnection_ConnectTo(&nc, f->url), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    char other[AM_NAME_MAX + 3];
    snprintf(other, sizeof other, "%.60s_b", f->stream);
    char subj[AM_SUBJECT_MAX + 1];
    snprintf(subj, sizeof subj, "%s.only.this", other);
    const char *subjects[1] = {subj};
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = other;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    assert_int_equal(js_AddStream(NULL, js, &sc, NULL, NULL), NATS_OK);

    struct am_js_opts o = AM_JS_OPTS_INIT;
    o.url = f->url;
    o.stream = other;
    o.duplicate_window_ms = 60000;
    am_stream *s = NULL;
    assert_int_equal(am_js_stream_new(&s, &o, &err), CORE_OK);
    assert_int_equal(js_GetStreamInfo(&si, js, other, NULL, NULL), NATS_OK);
    assert_int_equal(si->Config->SubjectsLen, 1);
    char want[AM_SUBJECT_MAX + 1];
    snprintf(want, sizeof want, "%s.>", other);
    assert_string_equal(si->Config->Subjects[0], want);
    assert_int_equal(si->Config->Duplicates, (int64_t)60000 * 1000000);
    assert_int_equal(si->Config->Storage, js_FileStorage);
    jsStreamInfo_Destroy(si);
    am_stream_free(s);
    js_DeleteStream(js, other, NULL, NULL);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

/* What am_stream_groups() handed over. */
struct groups_seen {
    int n;
    char group[8][64], subject[8][128];
    struct am_group_info info[8];
};

static core_status group_fn(void *ud, const struct am_group_desc *g, core_err *err)
{
    struct groups_seen *gs = ud;
    (void)err;
    if (gs->n < 8) {
        core_strlcpy(gs->group[gs->n], g->group, sizeof gs->group[0]);
        core_strlcpy(gs->subject[gs->n], g->subject, sizeof gs->subject[0]);
        gs->info[gs->n] = g->info;
    }
    gs->n++;
    return CORE_OK;
}

/* ---- watches, groups and the stream's state (the stream tool's calls) ------------------------ */

/* What a watch saw (its function runs on nats.c's thread: it only records, under the mutex). */
#define TAP_MAX 16
struct tap {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    uint64_t seq[TAP_MAX];
    char subject[TAP_MAX][128];
    char msg_id[TAP_MAX][64];
    int64_t time_ns[TAP_MAX];
};

static void tap_init(struct tap *t)
{
    memset(t, 0, sizeof *t);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &a);
    pthread_condattr_destroy(&a);
    pthread_mutex_init(&t->mu, NULL);
}

static void tap_release(struct tap *t)
{
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
}

static core_status tap_fn(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct tap *t = ud;
    (void)err;
    pthread_mutex_lock(&t->mu);
    if (t->n < TAP_MAX) {
        t->seq[t->n] = m->seq;
        core_strlcpy(t->subject[t->n], m->subject, sizeof t->subject[0]);
        core_strlcpy(t->msg_id[t->n], m->msg_id ? m->msg_id : "", sizeof t->msg_id[0]);
        t->time_ns[t->n] = m->time_ns;
    }
    t->n++;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    return CORE_OK;
}

/* Waits until the watch saw at least n messages; returns the count. */
static int tap_wait(struct tap *t, int n)
{
    struct timespec d = deadline_in(WAIT_MS);
    pthread_mutex_lock(&t->mu);
    int rc = 0;
    while (t->n < n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&t->cv, &t->mu, &d);
    int got = t->n;
    pthread_mutex_unlock(&t->mu);
    return got;
}

static uint64_t consumers_now(struct fx *f)
{
    struct am_stream_state ss;
    core_err err = CORE_ERR_INIT;
    if (am_stream_state_get(f->s, &ss, &err) != CORE_OK)
        fail_msg("stream state: %s", err.msg);
    return ss.consumers;
}

/* A watch from now gets the messages published after it began, pushed by the server in order,
 * with their sequence, Nats-Msg-Id and time; it is no group, and once freed it has left no
 * consumer on the server. */
static void a_watch_follows_new_messages_and_leaves_nothing(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    publish_store(f, f->s, "before", NULL);
    uint64_t before = consumers_now(f);
    struct tap t;
    tap_init(&t);
    am_watch *w = NULL;
    assert_int_equal(am_stream_watch(f->s, NULL, AM_WATCH_NEW, tap_fn, &t, &w, &err), CORE_OK);
    assert_int_equal(consumers_now(f), before + 1);
    char a[CORE_UUID_LEN + 1], b[CORE_UUID_LEN + 1];
    publish_store(f, f->s, "A", a);
    publish_store(f, f->s, "B", b);
    assert_int_equal(tap_wait(&t, 2), 2);
    pthread_mutex_lock(&t.mu);
    int n = t.n;
    pthread_mutex_unlock(&t.mu);
    assert_int_equal(n, 2); /* "before" is not new */
    assert_int_equal(t.seq[0], 2);
    assert_int_equal(t.seq[1], 3);
    assert_string_equal(t.subject[0], f->channel);
    assert_string_equal(t.msg_id[0], a);
    assert_string_equal(t.msg_id[1], b);
    assert_true(t.time_ns[0] > 1700000000LL * 1000000000LL); /* a time stamp of this century */

    struct groups_seen gs = {0};
    assert_int_equal(am_stream_groups(f->s, group_fn, &gs, &err), CORE_OK);
    assert_int_equal(gs.n, 0); /* the watch's consumer is no group */
    am_watch_free(w);
    assert_int_equal(consumers_now(f), before);
    tap_release(&t);
}

static void a_watch_starts_at_a_sequence_with_a_filter(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    char ids[3][CORE_UUID_LEN + 1], other[AM_SUBJECT_MAX + 1];
    snprintf(other, sizeof other, "%s.other.x", f->stream);
    publish_store(f, f->s, "A", ids[0]);
    assert_int_equal(am_stream_publish(f->s, other, "o-1", "x.Y", NULL, 0, NULL, &err), CORE_OK);
    publish_store(f, f->s, "B", ids[1]);
    publish_store(f, f->s, "C", ids[2]);
    struct tap t;
    tap_init(&t);
    am_watch *w = NULL;
    assert_int_equal(am_stream_watch(f->s, f->channel, 2, tap_fn, &t, &w, &err), CORE_OK);
    assert_int_equal(tap_wait(&t, 2), 2);
    assert_int_equal(t.seq[0], 3); /* 2 is on the other subject */
    assert_string_equal(t.msg_id[0], ids[1]);
    assert_int_equal(t.seq[1], 4);
    assert_string_equal(t.msg_id[1], ids[2]);
    char d[CORE_UUID_LEN + 1];
    publish_store(f, f->s, "D", d); /* it goes on with what comes */
    assert_int_equal(tap_wait(&t, 3), 3);
    assert_int_equal(t.seq[2], 5);
    assert_string_equal(t.msg_id[2], d);
    am_watch_free(w);
    tap_release(&t);
}

static void groups_and_the_stream_state_are_listed(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct sink k;
    sink_init(&k);
    struct am_sub_opts oz = opts_for("zeta"), oa = opts_for("alpha");
    char product[AM_SUBJECT_MAX + 1];
    snprintf(product, sizeof product, "%s.stores.events.Product", f->stream);
    assert_int_equal(am_event_subscribe(f->s, f->channel, &oz, f->reg, sink_event, &k, &err),
                     CORE_OK);
    assert_int_equal(am_event_subscribe(f->s, product, &oa, f->reg, sink_event, &k, &err), CORE_OK);
    publish_store(f, f->s, "A", NULL);
    publish_store(f, f->s, "B", NULL);
    assert_int_equal(sink_wait_calls(&k, 2), 2);
    struct am_stream_state ss;
    assert_int_equal(am_stream_state_get(f->s, &ss, &err), CORE_OK);
    assert_int_equal(ss.messages, 2);
    assert_int_equal(ss.first_seq, 1);
    assert_int_equal(ss.last_seq, 2);
    assert_true(ss.bytes > 0);
    assert_int_equal(ss.consumers, 2);
    /* a call is counted before its acknowledgement is sent: close (which drains, so every
     * acknowledgement is confirmed) before reading the groups' positions */
    assert_int_equal(am_stream_close(f->s, 10000, &err), CORE_OK);
    am_stream_free(f->s);
    assert_int_equal(open_stream(f, &f->s, &err), CORE_OK);
    struct groups_seen gs = {0};
    assert_int_equal(am_stream_groups(f->s, group_fn, &gs, &err), CORE_OK);
    assert_int_equal(gs.n, 2);
    assert_string_equal(gs.group[0], "alpha");
    assert_string_equal(gs.subject[0], product);
    assert_int_equal(gs.info[0].ack_floor, 0);
    assert_string_equal(gs.group[1], "zeta");
    assert_string_equal(gs.subject[1], f->channel);
    assert_int_equal(gs.info[1].pending, 0);
    assert_int_equal(gs.info[1].ack_pending, 0);
    assert_int_equal(gs.info[1].ack_floor, 2);
    sink_release(&k);
}

/* existing_only (the tool's way in): a missing stream is CORE_ERR_NOT_FOUND and is not created;
 * an existing one is used as it is. */
static void existing_only_neither_creates_nor_changes(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    char missing[AM_NAME_MAX + 1];
    snprintf(missing, sizeof missing, "%.56s_none", f->stream);
    struct am_js_opts o = AM_JS_OPTS_INIT;
    o.url = f->url;
    o.stream = missing;
    o.existing_only = true;
    am_stream *s = NULL;
    for (int i = 0; i < 2; i++) { /* twice: the first attempt created nothing */
        assert_int_equal(am_js_stream_new(&s, &o, &err), CORE_ERR_NOT_FOUND);
        assert_non_null(strstr(err.msg, "does not exist"));
        assert_null(s);
    }
    o.stream = f->stream;
    assert_int_equal(am_js_stream_new(&s, &o, &err), CORE_OK);
    struct am_stream_state ss;
    assert_int_equal(am_stream_state_get(s, &ss, &err), CORE_OK);
    assert_int_equal(ss.messages, 0);
    am_stream_free(s);
}

static void an_unreachable_server_fails_start_up_clearly(void **state)
{
    (void)state;
    long live = core_alloc_live();
    char url[64];
    snprintf(url, sizeof url, "nats://127.0.0.1:%d", free_port()); /* nobody listens there */
    struct am_js_opts o = AM_JS_OPTS_INIT;
    o.url = url;
    o.stream = "mallbots";
    o.connect_timeout_ms = 600;
    am_stream *s = NULL;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(am_js_stream_new(&s, &o, &err), CORE_ERR_UNAVAILABLE);
    assert_null(s);
    char want[128];
    snprintf(want, sizeof want, "cannot reach the message broker at %s within 600 ms", url);
    assert_non_null(strstr(err.msg, want));
    o.url = "";
    assert_int_equal(am_js_stream_new(&s, &o, &err), CORE_ERR_INVALID);
    assert_string_equal(err.msg, "NATS_URL is not set");
    o.url = url;
    o.stream = "mall.bots";
    assert_int_equal(am_js_stream_new(&s, &o, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "NATS_STREAM"));
    assert_int_equal(core_alloc_live(), live);
}

struct late {
    struct am_js_opts o;
    am_stream *s;
    core_status st;
    core_err err;
};

static void *late_connect(void *arg)
{
    struct late *l = arg;
    l->st = am_js_stream_new(&l->s, &l->o, &l->err);
    return NULL;
}

/* Start-up keeps trying while the server is not there yet. */
static void start_up_waits_for_a_late_server(void **state)
{
    struct srv_fx *x = *state;
    struct late l = {AM_JS_OPTS_INIT, NULL, CORE_OK, CORE_ERR_INIT};
    l.o.url = x->srv.url;
    l.o.stream = "late";
    l.o.connect_timeout_ms = WAIT_MS;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, late_connect, &l), 0);
    assert_int_equal(natsd_start(&x->srv),
                     0); /* after the first attempt, most likely: the server needs ~20 ms anyway */
    pthread_join(t, NULL);
    if (l.st != CORE_OK)
        fail_msg("start-up: %s", l.err.msg);
    core_err err = CORE_ERR_INIT;
    assert_true(am_stream_wait_connected(l.s, 1));
    assert_int_equal(am_stream_publish(l.s, "late.x", "m", "n", NULL, 0, NULL, &err), CORE_OK);
    am_stream_free(l.s);
}

/* nats-server killed and restarted while a group consumes: acknowledged messages survive in the
 * file store, publishing while the server is away fails with CORE_ERR_UNAVAILABLE, the
 * connection comes back by itself and the group carries on. */
static void a_server_restart_loses_nothing(void **state)
{
    struct srv_fx *x = *state;
    assert_int_equal(natsd_start(&x->srv), 0);
    assert_int_equal(fx_setup_on((void **)&x->f, x->srv.url), 0);
    struct fx *f = x->f;
    core_err err = CORE_ERR_INIT;
    struct sink k;
    sink_init(&k);
    k.gate_closed = true;
    struct am_sub_opts o = opts_for("g");
    o.ack_wait_ms = 1000;
    am_stream *sub = NULL;
    assert_int_equal(open_stream(f, &sub, &err), CORE_OK);
    assert_int_equal(am_event_subscribe(sub, f->channel, &o, f->reg, sink_event, &k, &err),
                     CORE_OK);
    char ids[6][CORE_UUID_LEN + 1];
    for (int i = 0; i < 5; i++)
        publish_store(f, f->s, "S", ids[i]);     /* each acknowledged by the stream */
    assert_true(sink_wait_flag(&k, &k.entered)); /* the first one is in the handler's hands */

    natsd_stop(&x->srv, SIGKILL);
    ddd_event *ev = store_created("while down");
    core_status st = am_event_publish(f->s, f->channel, ev, &err);
    ddd_event_free(ev);
    if (st != CORE_ERR_UNAVAILABLE)
        fail_msg("publish while the server is down: status %d, %s", (int)st, err.msg);
    print_message("publish while the server is down: %s\n", err.msg);

    assert_int_equal(natsd_start(&x->srv), 0);
    sink_open_gate(&k);
    /* all five arrive (the first one maybe twice: its acknowledgement may have been lost) */
    bool seen[5] = {false};
    int distinct = 0;
    for (int want = 5; distinct < 5 && want < SINK_MAX; want++) {
        int calls = sink_wait_calls(&k, want);
        pthread_mutex_lock(&k.mu);
        for (int c = 0; c < calls && c < SINK_MAX; c++)
            for (int i = 0; i < 5; i++)
                if (strcmp(k.id[c], ids[i]) == 0)
                    seen[i] = true;
        distinct = 0;
        for (int i = 0; i < 5; i++)
            distinct += seen[i];
        pthread_mutex_unlock(&k.mu);
        if (calls < want)
            break; /* timed out */
    }
    assert_int_equal(distinct, 5);
    /* the publisher's connection comes back by itself too; then publishing works again */
    assert_true(am_stream_wait_connected(f->s, WAIT_MS));
    int before = sink_wait_calls(&k, 0);
    publish_store(f, f->s, "after", ids[5]);
    assert_true(sink_wait_calls(&k, before + 1) >= before + 1);
    assert_int_equal(am_stream_close(sub, 10000, &err), CORE_OK);
    am_stream_free(sub);
    bool last_seen = false;
    for (int c = 0; c < k.calls && c < SINK_MAX; c++)
        last_seen = last_seen || strcmp(k.id[c], ids[5]) == 0;
    assert_true(last_seen);
    expect_group(f, "g", 0, 0);
    sink_release(&k);
}

/* Shutting down while the server is gone still ends, within the timeout, and frees everything. */
static void close_while_the_server_is_down_ends(void **state)
{
    struct srv_fx *x = *state;
    assert_int_equal(natsd_start(&x->srv), 0);
    assert_int_equal(fx_setup_on((void **)&x->f, x->srv.url), 0);
    struct fx *f = x->f;
    core_err err = CORE_ERR_INIT;
    struct sink k;
    sink_init(&k);
    struct am_sub_opts o = opts_for("g");
    am_stream *sub = NULL;
    assert_int_equal(open_stream(f, &sub, &err), CORE_OK);
    assert_int_equal(am_event_subscribe(sub, f->channel, &o, f->reg, sink_event, &k, &err),
                     CORE_OK);
    publish_store(f, f->s, "A", NULL);
    assert_int_equal(sink_wait_calls(&k, 1), 1);
    natsd_stop(&x->srv, SIGKILL);
    core_status st = am_stream_close(sub, 2000, &err);
    print_message("close without a server: %s\n", st == CORE_OK ? "ok" : err.msg);
    am_stream_free(sub); /* no leak, no crash: the teardown counts the allocations */
    am_stream_free(f->s);
    f->s = NULL;
    x->f = NULL;
    es_registry_free(f->reg);
    free(f);
    sink_release(&k);
}

int main(void)
{
    const char *lvl = getenv("LOG_LEVEL");
    log_level l = LOG_LEVEL_WARN;
    if (lvl)
        log_level_parse(lvl, &l);
    log_init(l);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(events_are_published_and_consumed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(a_retried_publish_is_stored_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(the_message_id_is_the_nats_msg_id, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(failed_handlers_are_redelivered_with_counts, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(a_message_that_keeps_failing_ends_dead, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(an_undecodable_message_ends_dead, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(unacknowledged_deliveries_end_dead, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(a_restarted_group_resumes_without_loss, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(instances_of_a_group_share_the_work, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(close_drains_the_handlers, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(a_handler_can_publish, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(misuse_is_refused_before_the_server, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(an_existing_stream_is_updated, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(a_watch_follows_new_messages_and_leaves_nothing, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(a_watch_starts_at_a_sequence_with_a_filter, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(groups_and_the_stream_state_are_listed, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(existing_only_neither_creates_nor_changes, fx_setup,
                                        fx_teardown),
        cmocka_unit_test(an_unreachable_server_fails_start_up_clearly),
        cmocka_unit_test_setup_teardown(start_up_waits_for_a_late_server, srv_fx_setup,
                                        srv_fx_teardown),
        cmocka_unit_test_setup_teardown(a_server_restart_loses_nothing, srv_fx_setup,
                                        srv_fx_teardown),
        cmocka_unit_test_setup_teardown(close_while_the_server_is_down_ends, srv_fx_setup,
                                        srv_fx_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    am_js_library_close();
    return rc;
}
