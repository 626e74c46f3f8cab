/* test_am.c -- unit tests of am.h on the in-memory broker: the envelope (byte for byte as the
 * book's producer writes it, and a message built with the book-compatible generated structs),
 * publishing (acknowledged, deduplicated, errors reach the caller), subscribing (ack, NAK with
 * backoff and delivery counts, dead letters after max_deliver / for bad data / after lost acks,
 * name filters, durable groups resuming after a restart, groups sharing work), subjects and
 * allocation failures.
 *
 * The payload type is amtest.StoreCreated (am_test.proto), laid out like the book's
 * storespb.StoreCreated and registered under the book's name "storesapi.StoreCreated".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "am.h"
#include "am/message_types.pb-c.h"
#include "am/stream_message.pb-c.h"
#include "am_test.pb-c.h"
#include "ddd.h"
#include "es.h"
#include "log.h"
#include "pb.h"

#define STORE_CREATED "storesapi.StoreCreated"
#define CHANNEL "mallbots.stores.events.Store"
#define ID1 "6f1ad2b0-3c4d-4e5f-8a9b-0c1d2e3f4a5b"

/* ---- fixture --------------------------------------------------------------------------------- */

struct fx {
    long live;
    am_mem_broker *b;
    am_stream *s;
    es_registry *reg;
};

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    f.live = core_alloc_live();
    core_err err = CORE_ERR_INIT;
    if (am_mem_broker_new(&f.b, &err) || am_mem_stream_new(&f.s, f.b, "mallbots", &err) ||
        es_registry_new(&f.reg, &err) ||
        es_registry_add(f.reg, STORE_CREATED, &amtest__store_created__descriptor, &err) ||
        es_registry_add(f.reg, "amtest.Counted", &amtest__counted__descriptor, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    core_alloc_fail_after(-1);
    am_stream_free(f->s);
    am_mem_broker_free(f->b);
    es_registry_free(f->reg);
    assert_int_equal(core_alloc_live(), f->live); /* nothing leaked */
    return 0;
}

/* A storesapi.StoreCreated event with payload {id, name, "West Upper Level"}. */
static ddd_event *store_created(const char *id, const char *name)
{
    Amtest__StoreCreated *p = pb_new_of(amtest__store_created);
    assert_non_null(p);
    assert_int_equal(pb_set_string(&p->id, id, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&p->name, name, NULL), CORE_OK);
    assert_int_equal(pb_set_string(&p->location, "West Upper Level", NULL), CORE_OK);
    ProtobufCMessage *pm = &p->base;
    ddd_event *ev = NULL;
    assert_int_equal(ddd_event_new(&ev, STORE_CREATED, &pm, NULL), CORE_OK);
    return ev;
}

/* Publishes a StoreCreated event named `name` on CHANNEL; returns its id in id_out. */
static void publish_store(am_stream *s, const char *name, char id_out[CORE_UUID_LEN + 1])
{
    ddd_event *ev = store_created("s1", name);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(am_event_publish(s, CHANNEL, ev, &err), CORE_OK);
    if (id_out)
        core_strlcpy(id_out, ddd_event_id(ev), CORE_UUID_LEN + 1);
    ddd_event_free(ev);
}

/* What a handler saw. */
#define REC_MAX 32
struct rec {
    int calls;
    int fail_first;   /* fail this many calls, then succeed */
    bool fail_always; /* fail every call */
    bool dead;        /* (raw handler) ask for a dead letter */
    uint64_t delivered[REC_MAX], seq[REC_MAX];
    char id[REC_MAX][64], name[REC_MAX][96], subject[REC_MAX][128], group[REC_MAX][64];
    char store_name[REC_MAX][64]; /* the payload's name field (event handler) */
    char meta[REC_MAX][128];      /* "k=v;k=v" (event handler) */
    long long occurred_s[REC_MAX];
    long occurred_ns[REC_MAX];
};

static void rec_delivery(struct rec *r, const struct am_delivery *d)
{
    int i = r->calls % REC_MAX; /* the last REC_MAX calls are kept */
    r->delivered[i] = d->delivered;
    r->seq[i] = d->stream_seq;
    core_strlcpy(r->id[i], d->id, sizeof r->id[i]);
    core_strlcpy(r->name[i], d->name, sizeof r->name[i]);
    core_strlcpy(r->subject[i], d->subject, sizeof r->subject[i]);
    core_strlcpy(r->group[i], d->group, sizeof r->group[i]);
}

static core_status rec_result(struct rec *r, core_err *err)
{
    r->calls++;
    if (r->fail_always || r->calls <= r->fail_first)
        return core_err_set(err, CORE_ERR_CONFLICT, "boom %d", r->calls);
    return CORE_OK;
}

static core_status rec_raw(void *ud, const struct am_delivery *d, const unsigned char *data,
                           size_t len, bool *dead, core_err *err)
{
    struct rec *r = ud;
    (void)data;
    (void)len;
    rec_delivery(r, d);
    if (r->dead)
        *dead = true;
    return rec_result(r, err);
}

static core_status rec_event(void *ud, const struct am_delivery *d, const ddd_event *ev,
                             core_err *err)
{
    struct rec *r = ud;
    int i = r->calls % REC_MAX;
    rec_delivery(r, d);
    {
        /* the event carries the delivery's id and name */
        assert_string_equal(ddd_event_id(ev), d->id);
        assert_string_equal(ddd_event_name(ev), d->name);
        if (ddd_event_payload_is(ev, &amtest__store_created__descriptor)) {
            const Amtest__StoreCreated *p = (const Amtest__StoreCreated *)ddd_event_payload(ev);
            core_strlcpy(r->store_name[i], p->name, sizeof r->store_name[i]);
        }
        size_t used = 0;
        r->meta[i][0] = '\0';
        for (size_t k = 0; k < ddd_event_metadata_count(ev); k++) {
            const char *key, *value;
            ddd_event_metadata_at(ev, k, &key, &value);
            used += (size_t)snprintf(r->meta[i] + used, sizeof r->meta[i] - used, "%s%s=%s",
                                     k ? ";" : "", key, value);
            if (used >= sizeof r->meta[i])
                break;
        }
        struct timespec at = ddd_event_occurred_at(ev);
        r->occurred_s[i] = (long long)at.tv_sec;
        r->occurred_ns[i] = at.tv_nsec;
    }
    return rec_result(r, err);
}

static struct am_sub_opts opts_for(const char *group)
{
    struct am_sub_opts o = AM_SUB_OPTS_INIT;
    o.group = group;
    return o;
}

/* Stored messages, as collected by collect(). */
#define STORED_MAX 16
struct stored {
    int n;
    uint64_t seq[STORED_MAX];
    char subject[STORED_MAX][128];
    char reason[STORED_MAX][CORE_ERR_MSG_MAX + 64];
    char orig_subject[STORED_MAX][128], group[STORED_MAX][64], deliveries[STORED_MAX][16];
    char orig_seq[STORED_MAX][24], msg_id[STORED_MAX][64], msg_name[STORED_MAX][96];
    unsigned char data[STORED_MAX][512];
    size_t len[STORED_MAX];
};

static void copy_hdr(char *dst, size_t size, const struct am_stored_msg *m, const char *key)
{
    const char *v = am_stored_header(m, key);
    core_strlcpy(dst, v ? v : "", size);
}

static core_status collect(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct stored *st = ud;
    (void)err;
    int i = st->n++;
    assert_true(i < STORED_MAX);
    st->seq[i] = m->seq;
    core_strlcpy(st->subject[i], m->subject, sizeof st->subject[i]);
    copy_hdr(st->reason[i], sizeof st->reason[i], m, AM_DEAD_HDR_REASON);
    copy_hdr(st->orig_subject[i], sizeof st->orig_subject[i], m, AM_DEAD_HDR_SUBJECT);
    copy_hdr(st->group[i], sizeof st->group[i], m, AM_DEAD_HDR_GROUP);
    copy_hdr(st->deliveries[i], sizeof st->deliveries[i], m, AM_DEAD_HDR_DELIVERIES);
    copy_hdr(st->orig_seq[i], sizeof st->orig_seq[i], m, AM_DEAD_HDR_SEQUENCE);
    copy_hdr(st->msg_id[i], sizeof st->msg_id[i], m, AM_DEAD_HDR_ID);
    copy_hdr(st->msg_name[i], sizeof st->msg_name[i], m, AM_DEAD_HDR_NAME);
    assert_true(m->len <= sizeof st->data[i]);
    if (m->len)
        memcpy(st->data[i], m->data, m->len);
    st->len[i] = m->len;
    return CORE_OK;
}

static core_status count_fn(void *ud, const struct am_stored_msg *m, core_err *err)
{
    (void)m;
    (void)err;
    (*(int *)ud)++;
    return CORE_OK;
}

/* Under allocation failures a message may end as dead only because its chances ran out, never
 * because an out-of-memory was taken for bad data. */
static core_status check_oom_reason(void *ud, const struct am_stored_msg *m, core_err *err)
{
    (void)ud;
    (void)err;
    const char *reason = am_stored_header(m, AM_DEAD_HDR_REASON);
    assert_non_null(reason);
    if (strncmp(reason, "gave up after", 13) != 0)
        fail_msg("dead for the wrong reason: %s", reason);
    return CORE_OK;
}

static void read_all(am_stream *s, const char *filter, struct stored *out)
{
    memset(out, 0, sizeof *out);
    core_err err = CORE_ERR_INIT;
    assert_int_equal(am_stream_read(s, filter, 0, collect, out, &err), CORE_OK);
}

/* ---- envelope -------------------------------------------------------------------------------- */

/* The bytes the book's Go producer writes for this event, worked out by hand from the .proto
 * files and the protobuf encoding rules (tag = field << 3 | wire type; 2 = length-delimited,
 * 0 = varint), not by running protobuf-c. */
static const unsigned char BOOK_PAYLOAD[] = {
    0x0a, 0x02, 's', '1',                                                        /* 1 id */
    0x12, 0x0d, 'W', 'a', 'l', 'd', 'o', 'r', 'f', ' ', 'B', 'o', 'o', 'k', 's', /* 2 name */
    0x1a, 0x10, 'W', 'e', 's', 't', ' ', 'U', 'p', 'p', 'e', 'r', ' ', 'L', 'e', 'v', 'e', 'l',
};
static const unsigned char BOOK_TIMESTAMP[] = {
    0x08, 0x80, 0xe2, 0xcf, 0xaa, 0x06, /* 1 seconds = 1700000000 */
    0x10, 0xf4, 0x03,                   /* 2 nanos = 500 */
};

static void envelope_is_the_books_byte_for_byte(void **state)
{
    (void)state;
    core_err err = CORE_ERR_INIT;
    ddd_event *ev = store_created("s1", "Waldorf Books");
    struct timespec at = {1700000000, 500};
    assert_int_equal(ddd_event_restore(ev, ID1, at, &err), CORE_OK);

    /* EventMessageData{payload = 1, occurred_at = 2, metadata = 3 (empty Struct, present)} */
    unsigned char want_data[2 + sizeof BOOK_PAYLOAD + 2 + sizeof BOOK_TIMESTAMP + 2];
    size_t n = 0;
    want_data[n++] = 0x0a;
    want_data[n++] = sizeof BOOK_PAYLOAD;
    memcpy(want_data + n, BOOK_PAYLOAD, sizeof BOOK_PAYLOAD);
    n += sizeof BOOK_PAYLOAD;
    want_data[n++] = 0x12;
    want_data[n++] = sizeof BOOK_TIMESTAMP;
    memcpy(want_data + n, BOOK_TIMESTAMP, sizeof BOOK_TIMESTAMP);
    n += sizeof BOOK_TIMESTAMP;
    want_data[n++] = 0x1a;
    want_data[n++] = 0x00;

    unsigned char *data = NULL;
    size_t len = 0;
    assert_int_equal(am_data_pack(ev, &data, &len, &err), CORE_OK);
    assert_int_equal(len, sizeof want_data);
    assert_memory_equal(data, want_data, len);

    /* StreamMessage{id = 1, name = 2, data = 3} */
    unsigned char want_msg[2 + 36 + 2 + 22 + 2 + sizeof want_data];
    n = 0;
    want_msg[n++] = 0x0a;
    want_msg[n++] = 36;
    memcpy(want_msg + n, ID1, 36);
    n += 36;
    want_msg[n++] = 0x12;
    want_msg[n++] = 22;
    memcpy(want_msg + n, STORE_CREATED, 22);
    n += 22;
    want_msg[n++] = 0x1a;
    want_msg[n++] = sizeof want_data;
    memcpy(want_msg + n, want_data, sizeof want_data);
    unsigned char *msg = NULL;
    size_t msg_len = 0;
    assert_int_equal(am_stream_message_pack(ID1, STORE_CREATED, data, len, &msg, &msg_len, &err),
                     CORE_OK);
    assert_int_equal(msg_len, sizeof want_msg);
    assert_memory_equal(msg, want_msg, msg_len);

    /* and back */
    struct am_envelope env = AM_ENVELOPE_INIT;
    assert_int_equal(am_stream_message_unpack(msg, msg_len, &env, &err), CORE_OK);
    assert_string_equal(env.id, ID1);
    assert_string_equal(env.name, STORE_CREATED);
    assert_int_equal(env.len, len);
    assert_memory_equal(env.data, data, len);
    am_envelope_release(&env);
    core_free(msg);
    core_free(data);
    ddd_event_free(ev);
}

/* A message as a consumer of the book's schema sees it, built with the generated structs of
 * proto/am (the book's .proto files) and delivered through the stream: every field arrives. */
static void message_built_from_the_books_schema_is_understood(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;

    Amtest__StoreCreated payload = AMTEST__STORE_CREATED__INIT;
    payload.id = "s9";
    payload.name = "Waldorf Books";
    payload.location = "West Upper Level";
    uint8_t payload_buf[128];
    size_t payload_len = protobuf_c_message_pack(&payload.base, payload_buf);

    /* metadata as Go's structpb.NewStruct makes it from a map[string]any: the book's aggregates
     * put an int version in it, which travels as a number */
    Google__Protobuf__Value v[4];
    Google__Protobuf__Struct__FieldsEntry e[4], *ep[4];
    const char *keys[4] = {"aggregate-version", "aggregate-id", "replayed", "nothing"};
    for (int i = 0; i < 4; i++) {
        google__protobuf__value__init(&v[i]);
        google__protobuf__struct__fields_entry__init(&e[i]);
        e[i].key = (char *)keys[i];
        e[i].value = &v[i];
        ep[i] = &e[i];
    }
    v[0].kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
    v[0].number_value = 3;
    v[1].kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
    v[1].string_value = "s9";
    v[2].kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
    v[2].bool_value = 1;
    v[3].kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE;
    Google__Protobuf__Struct md = GOOGLE__PROTOBUF__STRUCT__INIT;
    md.n_fields = 4;
    md.fields = ep;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = 1700000000;
    ts.nanos = 123456789;
    EventMessageData data = EVENT_MESSAGE_DATA__INIT;
    data.payload.data = payload_buf;
    data.payload.len = payload_len;
    data.occurred_at = &ts;
    data.metadata = &md;
    uint8_t data_buf[512];
    size_t data_len = protobuf_c_message_pack(&data.base, data_buf);

    Jetstream__StreamMessage sm = JETSTREAM__STREAM_MESSAGE__INIT;
    sm.id = ID1;
    sm.name = STORE_CREATED;
    sm.data.data = data_buf;
    sm.data.len = data_len;
    uint8_t msg_buf[1024];
    size_t msg_len = protobuf_c_message_pack(&sm.base, msg_buf);
    assert_int_equal(am_mem_broker_inject(f->b, "mallbots", CHANNEL, ID1, msg_buf, msg_len, &err),
                     CORE_OK);

    struct rec r = {0};
    struct am_sub_opts o = opts_for("baskets-stores");
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o, f->reg, rec_event, &r, &err), CORE_OK);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r.calls, 1);
    assert_string_equal(r.id[0], ID1);
    assert_string_equal(r.name[0], STORE_CREATED);
    assert_string_equal(r.subject[0], CHANNEL);
    assert_string_equal(r.group[0], "baskets-stores");
    assert_int_equal(r.delivered[0], 1);
    assert_int_equal(r.seq[0], 1);
    assert_string_equal(r.store_name[0], "Waldorf Books");
    assert_string_equal(r.meta[0], "aggregate-version=3;aggregate-id=s9;replayed=true;nothing=");
    assert_int_equal(r.occurred_s[0], 1700000000);
    assert_int_equal(r.occurred_ns[0], 123456789);
}

static void undecodable_envelopes_are_named(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct am_envelope env = AM_ENVELOPE_INIT;
    const unsigned char garbage[] = {0x0a, 0x7f, 'x'}; /* a string field longer than the data */
    assert_int_equal(am_stream_message_unpack(garbage, sizeof garbage, &env, &err),
                     CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "not a StreamMessage"));
    assert_null(env.id);

    unsigned char *msg = NULL;
    size_t len = 0;
    assert_int_equal(am_stream_message_pack(ID1, "", NULL, 0, &msg, &len, &err), CORE_OK);
    assert_int_equal(am_stream_message_unpack(msg, len, &env, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "has no name"));
    core_free(msg);

    /* EventMessageData level */
    ddd_event *ev = NULL;
    assert_int_equal(am_data_unpack(f->reg, ID1, STORE_CREATED, garbage, sizeof garbage, &ev, &err),
                     CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "not an EventMessageData"));
    assert_int_equal(am_data_unpack(f->reg, ID1, "storesapi.Unknown", NULL, 0, &ev, &err),
                     CORE_ERR_INVALID);
    assert_string_equal(err.msg, "no payload type is registered for storesapi.Unknown");

    /* a payload of another type: field 1 as a string where Counted has an int64 */
    EventMessageData d = EVENT_MESSAGE_DATA__INIT;
    d.payload.data = (uint8_t *)"\x0a\x02hi";
    d.payload.len = 4;
    uint8_t buf[64];
    size_t n = protobuf_c_message_pack(&d.base, buf);
    assert_int_equal(am_data_unpack(f->reg, ID1, "amtest.Counted", buf, n, &ev, &err),
                     CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "the payload is not a amtest.Counted"));

    /* a list in the metadata */
    Google__Protobuf__ListValue list = GOOGLE__PROTOBUF__LIST_VALUE__INIT;
    Google__Protobuf__Value v = GOOGLE__PROTOBUF__VALUE__INIT;
    v.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
    v.list_value = &list;
    Google__Protobuf__Struct__FieldsEntry e = GOOGLE__PROTOBUF__STRUCT__FIELDS_ENTRY__INIT,
                                          *ep = &e;
    e.key = "tags";
    e.value = &v;
    Google__Protobuf__Struct md = GOOGLE__PROTOBUF__STRUCT__INIT;
    md.n_fields = 1;
    md.fields = &ep;
    d.payload.len = 0;
    d.metadata = &md;
    n = protobuf_c_message_pack(&d.base, buf);
    assert_int_equal(am_data_unpack(f->reg, ID1, STORE_CREATED, buf, n, &ev, &err),
                     CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "\"tags\" is a list or struct"));
    assert_null(ev);
}

static void metadata_travels_as_strings(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    ddd_event *ev = store_created("s1", "Waldorf Books");
    assert_int_equal(ddd_event_set_metadata(ev, "aggregate-id", "s1", &err), CORE_OK);
    assert_int_equal(ddd_event_set_metadata(ev, "aggregate-version", "7", &err), CORE_OK);
    unsigned char *data = NULL;
    size_t len = 0;
    assert_int_equal(am_data_pack(ev, &data, &len, &err), CORE_OK);
    ddd_event *back = NULL;
    assert_int_equal(
        am_data_unpack(f->reg, ddd_event_id(ev), STORE_CREATED, data, len, &back, &err), CORE_OK);
    assert_string_equal(ddd_event_metadata(back, "aggregate-id"), "s1");
    assert_string_equal(ddd_event_metadata(back, "aggregate-version"), "7");
    assert_int_equal(ddd_event_occurred_at(back).tv_sec, ddd_event_occurred_at(ev).tv_sec);
    assert_int_equal(ddd_event_occurred_at(back).tv_nsec, ddd_event_occurred_at(ev).tv_nsec);
    const Amtest__StoreCreated *p = (const Amtest__StoreCreated *)ddd_event_payload(back);
    assert_string_equal(p->location, "West Upper Level");
    ddd_event_free(back);
    ddd_event_free(ev);
    core_free(data);
}

/* ---- publishing ------------------------------------------------------------------------------ */

static void publish_is_acknowledged_and_deduplicated(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct am_publish_ack ack = {0, true};
    assert_int_equal(
        am_stream_publish(f->s, CHANNEL, "m-1", "x.Y", (const unsigned char *)"ab", 2, &ack, &err),
        CORE_OK);
    assert_int_equal(ack.seq, 1);
    assert_false(ack.duplicate);
    /* a retry of the same message: stored once */
    assert_int_equal(
        am_stream_publish(f->s, CHANNEL, "m-1", "x.Y", (const unsigned char *)"ab", 2, &ack, &err),
        CORE_OK);
    assert_int_equal(ack.seq, 1);
    assert_true(ack.duplicate);
    assert_int_equal(am_stream_publish(f->s, CHANNEL, "m-2", "x.Y", NULL, 0, &ack, &err), CORE_OK);
    assert_int_equal(ack.seq, 2);
    struct stored st;
    read_all(f->s, NULL, &st);
    assert_int_equal(st.n, 2);
    struct am_envelope env = AM_ENVELOPE_INIT;
    assert_int_equal(am_stream_message_unpack(st.data[0], st.len[0], &env, &err), CORE_OK);
    assert_string_equal(env.id, "m-1");
    assert_memory_equal(env.data, "ab", 2);
    am_envelope_release(&env);
}

static void publish_failures_reach_the_caller(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    const unsigned char d[] = "x";
    assert_int_equal(am_stream_publish(f->s, "other.events", "m", "n", d, 1, NULL, &err),
                     CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "is not a plain subject of stream mallbots"));
    assert_int_equal(am_stream_publish(f->s, "mallbots.a.*", "m", "n", d, 1, NULL, &err),
                     CORE_ERR_INTERNAL);
    assert_int_equal(am_stream_publish(f->s, "mallbots.dead.g", "m", "n", d, 1, NULL, &err),
                     CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "reserved for dead letters"));
    assert_int_equal(am_stream_publish(f->s, CHANNEL, " ", "n", d, 1, NULL, &err),
                     CORE_ERR_INTERNAL);
    assert_int_equal(am_stream_publish(f->s, CHANNEL, "m", "", d, 1, NULL, &err),
                     CORE_ERR_INTERNAL);

    /* the book's defect 4: a failed publish is the caller's error, never swallowed */
    am_mem_broker_fail(f->b, AM_MEM_FAIL_PUBLISH, 1);
    ddd_event *ev = store_created("s1", "Waldorf Books");
    assert_int_equal(am_event_publish(f->s, CHANNEL, ev, &err), CORE_ERR_UNAVAILABLE);
    assert_non_null(strstr(err.msg, "was not published"));
    assert_non_null(strstr(err.msg, STORE_CREATED));
    assert_non_null(strstr(err.msg, ddd_event_id(ev)));
    /* the retry succeeds and stores it once */
    assert_int_equal(am_event_publish(f->s, CHANNEL, ev, &err), CORE_OK);
    assert_int_equal(am_event_publish(f->s, CHANNEL, ev, &err), CORE_OK);
    ddd_event_free(ev);
    struct stored st;
    read_all(f->s, CHANNEL, &st);
    assert_int_equal(st.n, 1);

    /* after close */
    assert_int_equal(am_stream_close(f->s, 100, &err), CORE_OK);
    assert_int_equal(am_stream_publish(f->s, CHANNEL, "m", "n", d, 1, NULL, &err),
                     CORE_ERR_UNAVAILABLE);
    struct am_sub_opts o = opts_for("g");
    struct rec r = {0};
    assert_int_equal(am_stream_subscribe(f->s, CHANNEL, &o, rec_raw, &r, &err),
                     CORE_ERR_UNAVAILABLE);
}

/* am_event_announce: the announced change's id and time travel; a broker that is away gets the
 * public message of a stored but unannounced change. */
static void an_announcement_carries_the_id_and_time_it_is_given(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct timespec at = {1765000000, 123456789};
    Amtest__StoreCreated *p = pb_new_of(amtest__store_created);
    assert_non_null(p);
    assert_int_equal(pb_set_string(&p->id, "s1", NULL), CORE_OK);
    ProtobufCMessage *pm = &p->base;
    assert_int_equal(am_event_announce(f->s, CHANNEL, STORE_CREATED, &pm, "dom-ev-1", &at, &err),
                     CORE_OK);
    assert_null(pm); /* taken */
    /* the same change announced again: stored once */
    p = pb_new_of(amtest__store_created);
    pm = &p->base;
    assert_int_equal(am_event_announce(f->s, CHANNEL, STORE_CREATED, &pm, "dom-ev-1", &at, &err),
                     CORE_OK);
    /* no id: a fresh one */
    p = pb_new_of(amtest__store_created);
    pm = &p->base;
    assert_int_equal(am_event_announce(f->s, CHANNEL, STORE_CREATED, &pm, NULL, NULL, &err),
                     CORE_OK);
    struct stored st;
    read_all(f->s, CHANNEL, &st);
    assert_int_equal(st.n, 2);
    struct am_envelope env = AM_ENVELOPE_INIT;
    ddd_event *ev = NULL;
    assert_int_equal(am_stream_message_unpack(st.data[0], st.len[0], &env, &err), CORE_OK);
    assert_string_equal(env.id, "dom-ev-1");
    assert_int_equal(am_data_unpack(f->reg, env.id, env.name, env.data, env.len, &ev, &err),
                     CORE_OK);
    assert_int_equal(ddd_event_occurred_at(ev).tv_sec, at.tv_sec);
    assert_int_equal(ddd_event_occurred_at(ev).tv_nsec, at.tv_nsec);
    ddd_event_free(ev);
    am_envelope_release(&env);
    assert_int_equal(am_stream_message_unpack(st.data[1], st.len[1], &env, &err), CORE_OK);
    assert_string_not_equal(env.id, "dom-ev-1");
    am_envelope_release(&env);

    am_mem_broker_fail(f->b, AM_MEM_FAIL_PUBLISH, 1);
    p = pb_new_of(amtest__store_created);
    pm = &p->base;
    assert_int_equal(am_event_announce(f->s, CHANNEL, STORE_CREATED, &pm, "dom-ev-2", &at, &err),
                     CORE_ERR_UNAVAILABLE);
    assert_null(pm);
    assert_string_equal(core_err_client_msg(&err), AM_UNPUBLISHED_MSG);
    assert_non_null(strstr(err.msg, "dom-ev-2")); /* the log keeps the details */
}

/* ---- subscribing ----------------------------------------------------------------------------- */

static void handled_messages_are_acknowledged(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    char id1[CORE_UUID_LEN + 1], id2[CORE_UUID_LEN + 1];
    publish_store(f->s, "A", id1);
    publish_store(f->s, "B", id2);
    struct rec r = {0};
    struct am_sub_opts o = opts_for("baskets-stores");
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o, f->reg, rec_event, &r, &err), CORE_OK);
    size_t n = 0;
    am_mem_broker_run(f->b, &n);
    assert_int_equal(n, 2);
    assert_int_equal(r.calls, 2);
    assert_string_equal(r.id[0], id1);
    assert_string_equal(r.store_name[0], "A");
    assert_string_equal(r.id[1], id2);
    assert_int_equal(r.seq[1], 2);
    struct am_group_info gi;
    assert_int_equal(am_stream_group_info(f->s, "baskets-stores", &gi, &err), CORE_OK);
    assert_int_equal(gi.pending, 0);
    assert_int_equal(gi.ack_pending, 0);
    assert_int_equal(gi.ack_floor, 2);
    /* acknowledged means gone: letting the ack wait pass delivers nothing */
    am_mem_broker_expire(f->b);
    am_mem_broker_run(f->b, &n);
    assert_int_equal(n, 0);
    assert_int_equal(am_stream_group_info(f->s, "nobody", &gi, &err), CORE_ERR_NOT_FOUND);
}

static void failures_are_redelivered_with_backoff(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    char id[CORE_UUID_LEN + 1];
    publish_store(f->s, "A", id);
    struct rec r = {.fail_first = 3};
    struct am_sub_opts o = opts_for("g");
    o.retry_delay_ms = 100;
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o, f->reg, rec_event, &r, &err), CORE_OK);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r.calls, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r.delivered[i], (uint64_t)i + 1);
        assert_string_equal(r.id[i], id); /* the same message each time: the idempotency key */
        assert_int_equal(r.seq[i], 1);
    }
    /* delays 100, 200, 400 ms: the last NAK (after delivery 3) asked for 400 */
    assert_int_equal(am_mem_broker_last_nak_delay(f->b), 400);
    struct stored st;
    read_all(f->s, "mallbots.dead.>", &st);
    assert_int_equal(st.n, 0);
}

static void backoff_is_capped(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    publish_store(f->s, "A", NULL);
    struct rec r = {.fail_first = 10};
    struct am_sub_opts o = opts_for("g");
    o.retry_delay_ms = 20000;
    o.max_deliver = 10;
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o, f->reg, rec_event, &r, &err), CORE_OK);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r.calls, 10);
    assert_int_equal(am_mem_broker_last_nak_delay(f->b), AM_RETRY_DELAY_MS_MAX);
}

static void a_message_that_keeps_failing_ends_as_a_dead_letter(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    char id[CORE_UUID_LEN + 1];
    publish_store(f->s, "A", id);
    struct stored orig;
    read_all(f->s, CHANNEL, &orig);
    struct rec r = {.fail_always = true};
    struct am_sub_opts o = opts_for("baskets-stores");
    o.max_deliver = 3;
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o, f->reg, rec_event, &r, &err), CORE_OK);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r.calls, 3); /* max_deliver, then no more */

    struct stored st;
    read_all(f->s, "mallbots.dead.>", &st);
    assert_int_equal(st.n, 1);
    assert_string_equal(st.subject[0], "mallbots.dead.baskets-stores");
    assert_string_equal(st.reason[0], "handler failed on delivery 3 of 3: boom 3");
    assert_string_equal(st.orig_subject[0], CHANNEL);
    assert_string_equal(st.group[0], "baskets-stores");
    assert_string_equal(st.deliveries[0], "3");
    assert_string_equal(st.orig_seq[0], "1");
    assert_string_equal(st.msg_id[0], id);
    assert_string_equal(st.msg_name[0], STORE_CREATED);
    /* the dead letter is the original message, unchanged */
    assert_int_equal(st.len[0], orig.len[0]);
    assert_memory_equal(st.data[0], orig.data[0], orig.len[0]);
    /* and the original is acknowledged */
    struct am_group_info gi;
    assert_int_equal(am_stream_group_info(f->s, "baskets-stores", &gi, &err), CORE_OK);
    assert_int_equal(gi.ack_pending, 0);
    am_mem_broker_expire(f->b);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r.calls, 3);

    /* a subscription on the dead-letter subject consumes them */
    struct rec dl = {0};
    struct am_sub_opts dlo = opts_for("dead-readers");
    assert_int_equal(
        am_stream_subscribe(f->s, "mallbots.dead.baskets-stores", &dlo, rec_raw, &dl, &err),
        CORE_OK);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(dl.calls, 1);
    assert_string_equal(dl.id[0], id);
    assert_string_equal(dl.subject[0], "mallbots.dead.baskets-stores");
}

static void bad_data_is_dead_at_once(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    /* 1. not a StreamMessage at all */
    const unsigned char garbage[] = {0xff, 0xff, 0xff};
    assert_int_equal(
        am_mem_broker_inject(f->b, "mallbots", CHANNEL, "g-1", garbage, sizeof garbage, &err),
        CORE_OK);
    /* 2. a StreamMessage whose name nobody registered */
    assert_int_equal(
        am_stream_publish(f->s, CHANNEL, "u-1", "storesapi.Unheard", NULL, 0, NULL, &err), CORE_OK);
    /* 3. a raw handler that says retrying cannot help */
    assert_int_equal(am_stream_publish(f->s, "mallbots.other.x", "r-1", "x.Y", NULL, 0, NULL, &err),
                     CORE_OK);

    struct rec r = {0};
    struct am_sub_opts o = opts_for("g");
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o, f->reg, rec_event, &r, &err), CORE_OK);
    struct rec raw = {.dead = true, .fail_always = true};
    struct am_sub_opts ro = opts_for("raw");
    assert_int_equal(am_stream_subscribe(f->s, "mallbots.other.x", &ro, rec_raw, &raw, &err),
                     CORE_OK);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r.calls, 0); /* the event handler never saw them */
    assert_int_equal(raw.calls, 1);

    struct stored st;
    read_all(f->s, "mallbots.dead.>", &st);
    assert_int_equal(st.n, 3);
    assert_non_null(strstr(st.reason[0], "not a StreamMessage"));
    assert_string_equal(st.deliveries[0], "1");
    assert_string_equal(st.msg_id[0], ""); /* unknown: the envelope did not decode */
    assert_string_equal(st.reason[1], "cannot be handled: no payload type is registered for "
                                      "storesapi.Unheard");
    assert_string_equal(st.msg_name[1], "storesapi.Unheard");
    assert_string_equal(st.subject[2], "mallbots.dead.raw");
    assert_string_equal(st.reason[2], "cannot be handled: boom 1");
}

/* A handler that never answers in time (here: acknowledgements lost twice) must not keep its
 * message alive forever: the next delivery records it as dead without calling the handler. */
static void unacknowledged_deliveries_end_as_a_dead_letter(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    publish_store(f->s, "A", NULL);
    struct rec r = {0};
    struct am_sub_opts o = opts_for("g");
    o.max_deliver = 2;
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o, f->reg, rec_event, &r, &err), CORE_OK);
    am_mem_broker_fail(f->b, AM_MEM_FAIL_ACK, 2);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r.calls, 1);
    struct am_group_info gi;
    assert_int_equal(am_stream_group_info(f->s, "g", &gi, &err), CORE_OK);
    assert_int_equal(gi.ack_pending, 1); /* delivered, never acknowledged */
    am_mem_broker_expire(f->b);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.delivered[1], 2);
    am_mem_broker_expire(f->b);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r.calls, 2); /* delivery 3 > max_deliver: not handed to the handler */
    struct stored st;
    read_all(f->s, "mallbots.dead.>", &st);
    assert_int_equal(st.n, 1);
    assert_string_equal(st.deliveries[0], "3");
    assert_non_null(strstr(st.reason[0], "after 2 deliveries"));
    assert_int_equal(am_stream_group_info(f->s, "g", &gi, &err), CORE_OK);
    assert_int_equal(gi.ack_pending, 0);
}

/* If the dead letter cannot be written, the message is not lost: it comes back and is recorded
 * then. */
static void a_dead_letter_that_cannot_be_written_is_retried(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    publish_store(f->s, "A", NULL);
    struct rec r = {.fail_always = true};
    struct am_sub_opts o = opts_for("g");
    o.max_deliver = 1;
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o, f->reg, rec_event, &r, &err), CORE_OK);
    am_mem_broker_fail(f->b, AM_MEM_FAIL_PUBLISH, 1);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r.calls, 1);
    struct stored st;
    read_all(f->s, "mallbots.dead.>", &st);
    assert_int_equal(st.n, 1);
    assert_string_equal(st.deliveries[0], "2");
}

static void name_filters_skip_other_events(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(
        am_stream_publish(f->s, CHANNEL, "p-1", "storesapi.StoreRebranded", NULL, 0, NULL, &err),
        CORE_OK);
    publish_store(f->s, "A", NULL);
    struct rec r = {0};
    struct am_sub_opts o = opts_for("g");
    const char *const names[] = {STORE_CREATED, NULL};
    o.filter = names;
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o, f->reg, rec_event, &r, &err), CORE_OK);
    size_t n = 0;
    am_mem_broker_run(f->b, &n);
    assert_int_equal(n, 2);
    assert_int_equal(r.calls, 1); /* the unregistered name was acknowledged unread, not dead */
    assert_string_equal(r.name[0], STORE_CREATED);
    struct stored st;
    read_all(f->s, "mallbots.dead.>", &st);
    assert_int_equal(st.n, 0);
    struct am_group_info gi;
    assert_int_equal(am_stream_group_info(f->s, "g", &gi, &err), CORE_OK);
    assert_int_equal(gi.ack_pending, 0);
}

static void a_wildcard_subscription_does_not_see_dead_letters(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    publish_store(f->s, "A", NULL);
    struct rec failing = {.fail_always = true};
    struct am_sub_opts o = opts_for("g");
    o.max_deliver = 1;
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o, f->reg, rec_event, &failing, &err),
                     CORE_OK);
    am_mem_broker_run(f->b, NULL);
    struct rec all = {0};
    struct am_sub_opts wo = opts_for("tail");
    assert_int_equal(am_stream_subscribe(f->s, "mallbots.>", &wo, rec_raw, &all, &err), CORE_OK);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(all.calls, 1); /* the event, not its dead letter */
    assert_string_equal(all.subject[0], CHANNEL);
}

/* A group is durable: a restarted subscriber gets what was published while it was away, and
 * nothing it had already handled. */
static void a_restarted_group_resumes_where_it_left_off(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    am_stream *sub1 = NULL;
    assert_int_equal(am_mem_stream_new(&sub1, f->b, "mallbots", &err), CORE_OK);
    struct rec r1 = {0};
    struct am_sub_opts o = opts_for("baskets-stores");
    assert_int_equal(am_event_subscribe(sub1, CHANNEL, &o, f->reg, rec_event, &r1, &err), CORE_OK);
    publish_store(f->s, "A", NULL);
    publish_store(f->s, "B", NULL);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r1.calls, 2);
    assert_int_equal(am_stream_close(sub1, 1000, &err), CORE_OK);
    am_stream_free(sub1);

    char c_id[CORE_UUID_LEN + 1], d_id[CORE_UUID_LEN + 1];
    publish_store(f->s, "C", c_id);
    publish_store(f->s, "D", d_id);
    am_mem_broker_run(f->b, NULL); /* nobody subscribed: nothing delivered */
    struct am_group_info gi;
    assert_int_equal(am_stream_group_info(f->s, "baskets-stores", &gi, &err), CORE_OK);
    assert_int_equal(gi.pending, 2);

    am_stream *sub2 = NULL;
    assert_int_equal(am_mem_stream_new(&sub2, f->b, "mallbots", &err), CORE_OK);
    struct rec r2 = {0};
    assert_int_equal(am_event_subscribe(sub2, CHANNEL, &o, f->reg, rec_event, &r2, &err), CORE_OK);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r2.calls, 2);
    assert_string_equal(r2.id[0], c_id);
    assert_string_equal(r2.id[1], d_id);
    am_stream_free(sub2);
}

static void instances_of_a_group_share_the_work(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    am_stream *a = NULL, *b = NULL;
    assert_int_equal(am_mem_stream_new(&a, f->b, "mallbots", &err), CORE_OK);
    assert_int_equal(am_mem_stream_new(&b, f->b, "mallbots", &err), CORE_OK);
    struct rec ra = {0}, rb = {0}, other = {0};
    struct am_sub_opts o = opts_for("g");
    assert_int_equal(am_event_subscribe(a, CHANNEL, &o, f->reg, rec_event, &ra, &err), CORE_OK);
    assert_int_equal(am_event_subscribe(b, CHANNEL, &o, f->reg, rec_event, &rb, &err), CORE_OK);
    struct am_sub_opts o2 = opts_for("g2"); /* another group gets every message */
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o2, f->reg, rec_event, &other, &err),
                     CORE_OK);
    for (int i = 0; i < 10; i++)
        publish_store(f->s, "S", NULL);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(ra.calls + rb.calls, 10);
    assert_int_equal(ra.calls, 5);
    assert_int_equal(other.calls, 10);
    for (int i = 0; i < ra.calls; i++)
        for (int j = 0; j < rb.calls; j++)
            assert_string_not_equal(ra.id[i], rb.id[j]);
    am_stream_free(a);
    am_stream_free(b);
}

/* A handler may publish while the broker delivers (the lock is not held during handlers). */
struct forward {
    am_stream *s;
    int n;
};

static core_status forward_raw(void *ud, const struct am_delivery *d, const unsigned char *data,
                               size_t len, bool *dead, core_err *err)
{
    struct forward *fw = ud;
    char id[32];
    (void)dead;
    snprintf(id, sizeof id, "fwd-%d", ++fw->n);
    return am_stream_publish(fw->s, "mallbots.forwarded", id, d->name, data, len, NULL, err);
}

static void a_handler_can_publish(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct forward fw = {f->s, 0};
    struct rec r = {0};
    struct am_sub_opts o1 = opts_for("fwd"), o2 = opts_for("end");
    assert_int_equal(am_stream_subscribe(f->s, CHANNEL, &o1, forward_raw, &fw, &err), CORE_OK);
    assert_int_equal(
        am_event_subscribe(f->s, "mallbots.forwarded", &o2, f->reg, rec_event, &r, &err), CORE_OK);
    publish_store(f->s, "A", NULL);
    publish_store(f->s, "B", NULL);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(fw.n, 2);
    assert_int_equal(r.calls, 2);
    assert_string_equal(r.id[0], "fwd-1");
    assert_string_equal(r.store_name[1], "B");
}

static void a_group_consumes_one_channel(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct rec r = {0};
    struct am_sub_opts o = opts_for("g");
    assert_int_equal(am_stream_subscribe(f->s, CHANNEL, &o, rec_raw, &r, &err), CORE_OK);
    assert_int_equal(
        am_stream_subscribe(f->s, "mallbots.stores.events.Product", &o, rec_raw, &r, &err),
        CORE_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "group g already consumes " CHANNEL));
    /* also from another connection (the broker's check) */
    am_stream *other = NULL;
    assert_int_equal(am_mem_stream_new(&other, f->b, "mallbots", &err), CORE_OK);
    assert_int_equal(
        am_stream_subscribe(other, "mallbots.stores.events.Product", &o, rec_raw, &r, &err),
        CORE_ERR_CONFLICT);
    am_stream_free(other);
    /* the failed subscriptions left nothing behind: messages go to the first one only */
    assert_int_equal(am_stream_publish(f->s, CHANNEL, "m", "n", NULL, 0, NULL, &err), CORE_OK);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r.calls, 1);
}

static void subscription_options_are_checked(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct rec r = {0};
    struct am_sub_opts o = opts_for("bad.group");
    assert_int_equal(am_stream_subscribe(f->s, CHANNEL, &o, rec_raw, &r, &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "\"bad.group\" is not a valid group name"));
    o.group = NULL;
    assert_int_equal(am_stream_subscribe(f->s, CHANNEL, &o, rec_raw, &r, &err), CORE_ERR_INVALID);
    o = opts_for("g");
    o.max_deliver = -1;
    assert_int_equal(am_stream_subscribe(f->s, CHANNEL, &o, rec_raw, &r, &err), CORE_ERR_INVALID);
    o = opts_for("g");
    const char *const names[] = {STORE_CREATED, "", NULL};
    o.filter = names;
    assert_int_equal(am_stream_subscribe(f->s, CHANNEL, &o, rec_raw, &r, &err), CORE_ERR_INVALID);
    o = opts_for("g");
    assert_int_equal(am_stream_subscribe(f->s, "stores.events", &o, rec_raw, &r, &err),
                     CORE_ERR_INTERNAL);
    assert_int_equal(am_stream_subscribe(f->s, "mallbots..x", &o, rec_raw, &r, &err),
                     CORE_ERR_INTERNAL);
    am_stream *s = NULL;
    assert_int_equal(am_mem_stream_new(&s, f->b, "mall.bots", &err), CORE_ERR_INVALID);
    assert_non_null(strstr(err.msg, "NATS_STREAM"));
}

static void subjects_and_names(void **state)
{
    (void)state;
    assert_true(am_subject_valid("mallbots.stores.events.Store", false));
    assert_false(am_subject_valid("mallbots.*", false));
    assert_true(am_subject_valid("mallbots.*", true));
    assert_true(am_subject_valid("mallbots.>", true));
    assert_false(am_subject_valid("mallbots.>.x", true));
    assert_false(am_subject_valid("mallbots.a*", true));
    assert_false(am_subject_valid("mallbots..x", true));
    assert_false(am_subject_valid("mallbots.", true));
    assert_false(am_subject_valid(".mallbots", true));
    assert_false(am_subject_valid("mall bots", true));
    assert_false(am_subject_valid("", true));
    assert_true(am_subject_matches("mallbots.>", "mallbots.stores.events.Store"));
    assert_false(am_subject_matches("mallbots.>", "mallbots"));
    assert_true(am_subject_matches("mallbots.*.events.*", "mallbots.stores.events.Store"));
    assert_false(am_subject_matches("mallbots.*", "mallbots.stores.events"));
    assert_true(am_subject_matches("a.b", "a.b"));
    assert_false(am_subject_matches("a.b", "a.bc"));
    assert_false(am_subject_matches("a.b.c", "a.b"));
    assert_true(am_name_valid("baskets-stores_1"));
    assert_false(am_name_valid("a.b"));
    assert_false(am_name_valid(""));
    char long_name[AM_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_false(am_name_valid(long_name));
}

/* ---- watches, groups and the stream's state (tools) ------------------------------------------ */

/* What a watch saw. */
struct watched {
    int n;
    int fail_at; /* answer an error on this call (1 = first); 0 = never */
    uint64_t seq[STORED_MAX];
    char subject[STORED_MAX][128];
    char msg_id[STORED_MAX][64];
    int64_t time_ns[STORED_MAX];
};

static core_status watch_fn(void *ud, const struct am_stored_msg *m, core_err *err)
{
    struct watched *w = ud;
    int i = w->n++;
    assert_true(i < STORED_MAX);
    w->seq[i] = m->seq;
    core_strlcpy(w->subject[i], m->subject, sizeof w->subject[i]);
    core_strlcpy(w->msg_id[i], m->msg_id ? m->msg_id : "", sizeof w->msg_id[i]);
    w->time_ns[i] = m->time_ns;
    if (w->fail_at == w->n)
        return core_err_set(err, CORE_ERR_CONFLICT, "enough");
    return CORE_OK;
}

/* A watch from now sees what is stored after it began, in order, on every subject (dead letters
 * too), and consumes nothing: a group that comes later still gets every message. */
static void a_watch_sees_new_messages_and_consumes_nothing(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    publish_store(f->s, "before", NULL);
    struct watched w = {0};
    am_watch *wa = NULL;
    assert_int_equal(am_stream_watch(f->s, NULL, AM_WATCH_NEW, watch_fn, &w, &wa, &err), CORE_OK);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(w.n, 0); /* the message from before is not new */
    char b_id[CORE_UUID_LEN + 1];
    publish_store(f->s, "B", b_id);
    assert_int_equal(am_stream_publish(f->s, "mallbots.other.x", "o-1", "x.Y", NULL, 0, NULL, &err),
                     CORE_OK);
    struct rec failing = {.fail_always = true};
    struct am_sub_opts o = opts_for("g");
    o.max_deliver = 1;
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o, f->reg, rec_event, &failing, &err),
                     CORE_OK);
    am_mem_broker_run(f->b, NULL);
    /* B, the other subject, then the dead letters of "before" and B */
    assert_int_equal(w.n, 4);
    assert_int_equal(w.seq[0], 2);
    assert_string_equal(w.subject[0], CHANNEL);
    assert_string_equal(w.msg_id[0], b_id);
    assert_true(w.time_ns[0] > 0);
    assert_int_equal(w.seq[1], 3);
    assert_string_equal(w.subject[1], "mallbots.other.x");
    assert_string_equal(w.subject[2], "mallbots.dead.g");
    assert_string_equal(w.subject[3], "mallbots.dead.g");
    assert_true(w.seq[2] < w.seq[3]);
    am_watch_free(wa);

    /* nothing consumed: a new group starts at the beginning and gets both events */
    struct rec r = {0};
    struct am_sub_opts o2 = opts_for("later");
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o2, f->reg, rec_event, &r, &err), CORE_OK);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r.calls, 2);
    assert_int_equal(w.n, 4); /* a freed watch sees nothing more */
}

static void a_watch_starts_at_a_sequence_and_filters(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    char ids[3][CORE_UUID_LEN + 1];
    publish_store(f->s, "A", ids[0]);
    assert_int_equal(am_stream_publish(f->s, "mallbots.other.x", "o-1", "x.Y", NULL, 0, NULL, &err),
                     CORE_OK);
    publish_store(f->s, "B", ids[1]);
    publish_store(f->s, "C", ids[2]);
    struct watched w = {0};
    am_watch *wa = NULL;
    assert_int_equal(am_stream_watch(f->s, "mallbots.stores.>", 2, watch_fn, &w, &wa, &err),
                     CORE_OK);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(w.n, 2); /* seq 2 is on another subject */
    assert_int_equal(w.seq[0], 3);
    assert_string_equal(w.msg_id[0], ids[1]);
    assert_int_equal(w.seq[1], 4);
    assert_string_equal(w.msg_id[1], ids[2]);
    publish_store(f->s, "D", NULL); /* and it goes on with what comes */
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(w.n, 3);
    assert_int_equal(w.seq[2], 5);
    am_watch_free(wa);
}

static void a_watch_ends_when_its_function_fails(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct watched w = {.fail_at = 2};
    am_watch *wa = NULL;
    assert_int_equal(am_stream_watch(f->s, CHANNEL, 1, watch_fn, &w, &wa, &err), CORE_OK);
    for (int i = 0; i < 4; i++)
        publish_store(f->s, "A", NULL);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(w.n, 2);
    am_watch_free(wa);
}

static void a_watch_outside_the_stream_is_refused(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct watched w = {0};
    am_watch *wa = NULL;
    assert_int_equal(am_stream_watch(f->s, "other.>", AM_WATCH_NEW, watch_fn, &w, &wa, &err),
                     CORE_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "other.>"));
    assert_null(wa);
    assert_int_equal(am_stream_watch(f->s, "mallbots.a..b", 1, watch_fn, &w, &wa, &err),
                     CORE_ERR_INTERNAL);
    am_watch_free(NULL);
}

/* What am_stream_groups() handed over. */
struct groups_seen {
    int n;
    int stop_at; /* answer an error on this call; 0 = never */
    char group[8][64], subject[8][128];
    struct am_group_info info[8];
};

static core_status group_fn(void *ud, const struct am_group_desc *g, core_err *err)
{
    struct groups_seen *gs = ud;
    int i = gs->n++;
    assert_true(i < 8);
    core_strlcpy(gs->group[i], g->group, sizeof gs->group[i]);
    core_strlcpy(gs->subject[i], g->subject, sizeof gs->subject[i]);
    gs->info[i] = g->info;
    if (gs->stop_at == gs->n)
        return core_err_set(err, CORE_ERR_CONFLICT, "stop here");
    return CORE_OK;
}

static void groups_are_listed_by_name_with_their_positions(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct groups_seen none = {0};
    assert_int_equal(am_stream_groups(f->s, group_fn, &none, &err), CORE_OK);
    assert_int_equal(none.n, 0);

    struct rec z = {.fail_first = 1}, a = {0};
    struct am_sub_opts oz = opts_for("zeta"), oa = opts_for("alpha");
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &oz, f->reg, rec_event, &z, &err), CORE_OK);
    assert_int_equal(am_event_subscribe(f->s, "mallbots.stores.events.Product", &oa, f->reg,
                                        rec_event, &a, &err),
                     CORE_OK);
    publish_store(f->s, "A", NULL);
    publish_store(f->s, "B", NULL);
    assert_true(am_mem_broker_step(f->b)); /* zeta: A fails (NAKed, to come again) */
    struct watched w = {0};
    am_watch *wa = NULL; /* a watch is no group */
    assert_int_equal(am_stream_watch(f->s, NULL, 1, watch_fn, &w, &wa, &err), CORE_OK);

    struct groups_seen gs = {0};
    assert_int_equal(am_stream_groups(f->s, group_fn, &gs, &err), CORE_OK);
    assert_int_equal(gs.n, 2);
    assert_string_equal(gs.group[0], "alpha");
    assert_string_equal(gs.subject[0], "mallbots.stores.events.Product");
    assert_int_equal(gs.info[0].pending, 0);
    assert_string_equal(gs.group[1], "zeta");
    assert_string_equal(gs.subject[1], CHANNEL);
    assert_int_equal(gs.info[1].pending, 1);     /* B */
    assert_int_equal(gs.info[1].ack_pending, 1); /* A */
    assert_int_equal(gs.info[1].ack_floor, 0);

    am_mem_broker_run(f->b, NULL); /* A again (delivery 2: handled), then B */
    memset(&gs, 0, sizeof gs);
    assert_int_equal(am_stream_groups(f->s, group_fn, &gs, &err), CORE_OK);
    assert_int_equal(gs.info[1].pending, 0);
    assert_int_equal(gs.info[1].ack_pending, 0);
    assert_int_equal(gs.info[1].ack_floor, 2);

    struct groups_seen stop = {.stop_at = 1};
    assert_int_equal(am_stream_groups(f->s, group_fn, &stop, &err), CORE_ERR_CONFLICT);
    assert_int_equal(stop.n, 1);
    assert_string_equal(err.msg, "stop here");
    am_watch_free(wa);
}

static void the_stream_state_counts_messages_and_consumers(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct am_stream_state ss;
    assert_int_equal(am_stream_state_get(f->s, &ss, &err), CORE_OK);
    assert_int_equal(ss.messages, 0);
    assert_int_equal(ss.first_seq, 0);
    assert_int_equal(ss.last_seq, 0);
    assert_int_equal(ss.consumers, 0);
    publish_store(f->s, "A", NULL);
    publish_store(f->s, "B", NULL);
    struct rec r = {0};
    struct am_sub_opts o = opts_for("g");
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o, f->reg, rec_event, &r, &err), CORE_OK);
    struct watched w = {0};
    am_watch *wa = NULL;
    assert_int_equal(am_stream_watch(f->s, NULL, AM_WATCH_NEW, watch_fn, &w, &wa, &err), CORE_OK);
    assert_int_equal(am_stream_state_get(f->s, &ss, &err), CORE_OK);
    assert_int_equal(ss.messages, 2);
    assert_int_equal(ss.first_seq, 1);
    assert_int_equal(ss.last_seq, 2);
    assert_true(ss.bytes > 40); /* two StreamMessages with a UUID each */
    assert_int_equal(ss.consumers, 2);
    am_watch_free(wa);
    assert_int_equal(am_stream_state_get(f->s, &ss, &err), CORE_OK);
    assert_int_equal(ss.consumers, 1);
}

/* Starting a watch and listing groups with too little memory: CORE_ERR_NOMEM, no leak (the
 * teardown counts). */
static void watches_and_listings_survive_allocation_failures(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    struct rec r = {0};
    struct am_sub_opts o = opts_for("g");
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o, f->reg, rec_event, &r, &err), CORE_OK);
    publish_store(f->s, "A", NULL);
    bool watch_ok = false, groups_ok = false;
    for (int n = 0; n < 50 && !(watch_ok && groups_ok); n++) {
        struct watched w = {0};
        am_watch *wa = NULL;
        core_alloc_fail_after(n);
        core_status st = am_stream_watch(f->s, NULL, 1, watch_fn, &w, &wa, &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK) {
            watch_ok = true;
            am_watch_free(wa);
        } else {
            assert_int_equal(st, CORE_ERR_NOMEM);
            assert_null(wa);
        }
        struct groups_seen gs = {0};
        core_alloc_fail_after(n);
        st = am_stream_groups(f->s, group_fn, &gs, &err);
        core_alloc_fail_after(-1);
        if (st == CORE_OK) {
            groups_ok = true;
            assert_int_equal(gs.n, 1);
        } else {
            assert_int_equal(st, CORE_ERR_NOMEM);
        }
    }
    assert_true(watch_ok && groups_ok);
}

/* Every allocation failure on the publish and delivery paths gives an error (publish) or a NAK /
 * dead letter (delivery) and leaks nothing (teardown checks the count); the message is never
 * lost: once memory is back, it is handled or recorded as dead. */
static void allocation_failures_leak_nothing(void **state)
{
    struct fx *f = *state;
    struct rec r = {0};
    struct am_sub_opts o = opts_for("g");
    o.max_deliver = 3;
    core_err err = CORE_ERR_INIT;
    assert_int_equal(am_event_subscribe(f->s, CHANNEL, &o, f->reg, rec_event, &r, &err), CORE_OK);
    int ok_at = -1;
    for (int n = 0; n < 200 && ok_at < 0; n++) {
        ddd_event *ev = store_created("s1", "A");
        assert_int_equal(ddd_event_set_metadata(ev, "k", "v", &err), CORE_OK);
        core_alloc_fail_after(n);
        core_status st = am_event_publish(f->s, CHANNEL, ev, &err);
        core_alloc_fail_after(-1);
        ddd_event_free(ev);
        if (st == CORE_OK)
            ok_at = n;
        else
            assert_int_equal(st, CORE_ERR_NOMEM);
    }
    assert_true(ok_at > 0);
    am_mem_broker_run(f->b, NULL);
    assert_int_equal(r.calls, 1);

    /* deliveries: fail the n-th allocation of a delivery, for every n */
    int handled = r.calls, dead = 0, clean_at = -1;
    for (int n = 0; n < 200 && clean_at < 0; n++) {
        char id[CORE_UUID_LEN + 1];
        publish_store(f->s, "B", id);
        core_alloc_fail_after(n);
        for (int i = 0; i < 10 && am_mem_broker_step(f->b); i++) {
        }
        core_alloc_fail_after(-1);
        am_mem_broker_run(f->b, NULL); /* memory is back: whatever is left ends now */
        int n_dead = 0;
        assert_int_equal(am_stream_read(f->s, "mallbots.dead.>", 0, count_fn, &n_dead, &err),
                         CORE_OK);
        assert_true(r.calls > handled || n_dead > dead); /* handled or recorded, not lost */
        if (r.calls > handled && n_dead == dead && r.delivered[(r.calls - 1) % REC_MAX] == 1)
            clean_at = n; /* enough memory for a first-time delivery */
        handled = r.calls;
        dead = n_dead;
    }
    assert_true(clean_at > 0);
    assert_int_equal(am_stream_read(f->s, "mallbots.dead.>", 0, check_oom_reason, NULL, &err),
                     CORE_OK);
}

/* Decoding a valid message with too little memory is CORE_ERR_NOMEM (retried), never
 * CORE_ERR_INVALID (which would make it a dead letter): protobuf-c reports both as NULL. */
static void out_of_memory_is_not_bad_data(void **state)
{
    struct fx *f = *state;
    core_err err = CORE_ERR_INIT;
    ddd_event *ev = store_created("s1", "Waldorf Books");
    assert_int_equal(ddd_event_set_metadata(ev, "k", "v", &err), CORE_OK);
    unsigned char *data = NULL, *msg = NULL;
    size_t len = 0, msg_len = 0;
    assert_int_equal(am_data_pack(ev, &data, &len, &err), CORE_OK);
    assert_int_equal(
        am_stream_message_pack(ddd_event_id(ev), STORE_CREATED, data, len, &msg, &msg_len, &err),
        CORE_OK);
    bool env_ok = false, event_ok = false;
    for (int n = 0; n < 100 && !(env_ok && event_ok); n++) {
        struct am_envelope env = AM_ENVELOPE_INIT;
        core_alloc_fail_after(n);
        core_status st = am_stream_message_unpack(msg, msg_len, &env, &err);
        core_alloc_fail_after(-1);
        assert_true(st == CORE_OK || st == CORE_ERR_NOMEM);
        env_ok = env_ok || st == CORE_OK;
        am_envelope_release(&env);

        ddd_event *back = NULL;
        core_alloc_fail_after(n);
        st = am_data_unpack(f->reg, ddd_event_id(ev), STORE_CREATED, data, len, &back, &err);
        core_alloc_fail_after(-1);
        assert_true(st == CORE_OK || st == CORE_ERR_NOMEM);
        event_ok = event_ok || st == CORE_OK;
        ddd_event_free(back);
    }
    assert_true(env_ok && event_ok);
    core_free(msg);
    core_free(data);
    ddd_event_free(ev);
}

int main(void)
{
    const char *lvl = getenv("LOG_LEVEL");
    log_level l = LOG_LEVEL_ERROR;
    if (lvl)
        log_level_parse(lvl, &l);
    log_init(l);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(envelope_is_the_books_byte_for_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(message_built_from_the_books_schema_is_understood, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(undecodable_envelopes_are_named, setup, teardown),
        cmocka_unit_test_setup_teardown(metadata_travels_as_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(publish_is_acknowledged_and_deduplicated, setup, teardown),
        cmocka_unit_test_setup_teardown(publish_failures_reach_the_caller, setup, teardown),
        cmocka_unit_test_setup_teardown(an_announcement_carries_the_id_and_time_it_is_given, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(handled_messages_are_acknowledged, setup, teardown),
        cmocka_unit_test_setup_teardown(failures_are_redelivered_with_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(backoff_is_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(a_message_that_keeps_failing_ends_as_a_dead_letter, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_data_is_dead_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(unacknowledged_deliveries_end_as_a_dead_letter, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_dead_letter_that_cannot_be_written_is_retried, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(name_filters_skip_other_events, setup, teardown),
        cmocka_unit_test_setup_teardown(a_wildcard_subscription_does_not_see_dead_letters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_restarted_group_resumes_where_it_left_off, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(instances_of_a_group_share_the_work, setup, teardown),
        cmocka_unit_test_setup_teardown(a_handler_can_publish, setup, teardown),
        cmocka_unit_test_setup_teardown(a_group_consumes_one_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(subscription_options_are_checked, setup, teardown),
        cmocka_unit_test(subjects_and_names),
        cmocka_unit_test_setup_teardown(out_of_memory_is_not_bad_data, setup, teardown),
        cmocka_unit_test_setup_teardown(allocation_failures_leak_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(a_watch_sees_new_messages_and_consumes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_watch_starts_at_a_sequence_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(a_watch_ends_when_its_function_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(a_watch_outside_the_stream_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(groups_are_listed_by_name_with_their_positions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_stream_state_counts_messages_and_consumers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(watches_and_listings_survive_allocation_failures, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
