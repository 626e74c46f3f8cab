/* am.h -- asynchronous messaging: messages published to and consumed from a stream (NATS
 * JetStream, or an in-memory stream in unit tests), with the book's wire format, durable consumer
 * groups, redelivery with backoff and dead letters.
 *
 * Layer: core, above ddd.h and es.h's registry (the C counterpart of the book's internal/am and
 * internal/jetstream packages, used from chapter 06 on).
 *
 * The flow a module follows (chapter 06's stores publish, baskets consume):
 *
 *   startup    struct am_js_opts o = AM_JS_OPTS_INIT;
 *              o.url = cfg.nats_url; o.stream = cfg.nats_stream;
 *              am_js_stream_new(&stream, &o, err);     (connects, creates or updates the stream)
 *   publish    am_event_publish(stream, "mallbots.stores.events.Store", event, err);
 *              (returns once the stream has stored the message, or with the error)
 *   consume    struct am_sub_opts so = AM_SUB_OPTS_INIT; so.group = "baskets-stores";
 *              am_event_subscribe(stream, "mallbots.stores.events.Store", &so, registry,
 *                                 on_store_event, module, err);
 *   shutdown   am_stream_close(stream, timeout_ms, err);  (drains: handlers finish and are acked)
 *              am_stream_free(stream);
 *              am_js_library_close();                    (once, at the very end of main())
 *
 * WIRE FORMAT (the book's, exactly, so a consumer built from the book's .proto files understands
 * these messages and the other way round; the files are in proto/am/):
 *   - one JetStream message per message; subject = the channel, e.g. mallbots.stores.events.Store;
 *     header Nats-Msg-Id = the message id;
 *   - its data: jetstream.StreamMessage{string id = 1; string name = 2; bytes data = 3}, with the
 *     message name, e.g. storesapi.StoreCreated;
 *   - StreamMessage.data: EventMessageData{bytes payload = 1; google.protobuf.Timestamp
 *     occurred_at = 2; google.protobuf.Struct metadata = 3};
 *   - payload: the event's own protobuf message, packed (the book's ProtoSerde).
 * Metadata entries travel as Struct string values (ddd.h's metadata is text); on receipt numbers,
 * booleans and null from other producers become text ("3", "true", ""); a list or struct value
 * makes the message undecodable. Chapter 08's CommandMessageData and ReplyMessageData have the
 * same three fields, so am_data_pack()/am_data_unpack() serve them too.
 *
 * THE STREAM: one JetStream stream, name = NATS_STREAM (default "mallbots"), subjects
 * "<stream>.>", file storage, a duplicate window (default 2 minutes), created or updated at
 * start-up. Every subject published or consumed must lie inside it ("mallbots.x.y"); anything
 * else is refused before it reaches the server (where it would fail with the misleading JetStream
 * error 10076 "JetStream not enabled"). Subjects "<stream>.dead.>" are reserved for dead letters.
 *
 * PUBLISHING waits for the stream's acknowledgement (the book publishes asynchronously and drops
 * failures: docs/ERRATA.md, "Publishing"). A failure is the caller's: CORE_ERR_UNAVAILABLE (HTTP
 * 503) when the server is unreachable, reconnecting or does not answer in time, with a message
 * such as
 *     storesapi.StoreCreated 6f1... was not published: the message broker is unavailable
 *     (reconnecting to nats://127.0.0.1:14222)
 * A message published twice with the same id within the duplicate window is stored once; the
 * second publish succeeds and reports duplicate = true (logged at INFO). So a caller that got an
 * error may simply publish again: if the first attempt did reach the stream after all (it can,
 * when the connection dropped after the message left), the retry is dropped as a duplicate. The
 * window covers the whole stream, not one subject: an id is the identity of one message, so a
 * handler that passes an event on to another channel publishes a new event (a new id).
 *
 * CONSUMING: a subscription belongs to a GROUP (required here; the book's chapter 06 subscribes
 * without one and is delivered the channel's whole history again at every start): one durable
 * JetStream consumer per group, named after it, filtering one channel, explicit acknowledgement,
 * AckWait (default 5 s), sharing the messages among the group's running instances (a deliver
 * group). A subscription that fails is the caller's error (the book ignores it: docs/ERRATA.md,
 * defect 4). The consumer is created or updated at start-up and never deleted by a
 * shutdown, so a restarted program resumes where its group left off. One group consumes one
 * channel (the server refuses to change a durable consumer's filter): subscribing a group to a
 * second channel is CORE_ERR_CONFLICT. A new group starts at the beginning of the stream.
 * For each delivery the core:
 *   1. decodes the StreamMessage (undecodable -> dead letter at once);
 *   2. acknowledges without calling the handler when the subscription has a name filter that
 *      does not list the message's name (the book's MessageFilter);
 *   3. calls the handler with the delivery's facts (struct am_delivery: message id, name,
 *      subject, group, delivery count, stream sequence), so handlers can be idempotent: the same
 *      message can arrive twice (a redelivery after an error, a timeout or a restart);
 *   4. handler OK -> acknowledge (sent without waiting for the server's confirmation, which
 *      would cost a round trip per message: an acknowledgement that gets lost only means a
 *      redelivery, which handlers tolerate anyway; during am_stream_close()'s drain the
 *      confirmation is awaited, so that the group's next instance gets nothing handled again);
 *      handler error -> NAK with a delay (retry_delay_ms, doubled at each delivery, at most
 *      AM_RETRY_DELAY_MS_MAX), so the message comes back later with delivery count + 1;
 *      handler error on delivery max_deliver (default 5), or a handler that asks for it (*dead),
 *      -> DEAD LETTER.
 * A handler that does not answer within AckWait gets its message redelivered meanwhile (maybe to
 * another instance): handlers must tolerate that. The server is told to redeliver without limit
 * (its max_deliver is -1): the core counts the deliveries itself, so a message whose deliveries
 * all timed out (the handler hung, the program crashed on it) is recorded as dead when it comes
 * back the (max_deliver + 1)th time, without calling the handler again; no message loops forever
 * and none disappears unrecorded.
 *
 * DEAD LETTERS: a dead message is published, unchanged (the same StreamMessage bytes), to the
 * subject "<stream>.dead.<group>" in the same stream (file storage, so it survives restarts), with
 * a Nats-Msg-Id of its own and these headers, then the original is acknowledged:
 *     Mallbots-Dead-Reason      why, e.g. "handler failed on delivery 5 of 5: store 1 not found"
 *     Mallbots-Dead-Subject     the original subject (channel)
 *     Mallbots-Dead-Group       the consumer group that gave up
 *     Mallbots-Dead-Sequence    the original's stream sequence
 *     Mallbots-Dead-Deliveries  how many deliveries it got
 *     Mallbots-Dead-Message-Id, Mallbots-Dead-Message-Name   when the StreamMessage decoded
 * It is also logged at ERROR. A learner lists them with am_stream_read(stream, "mallbots.dead.>",
 * ...) (the chapter's stream tool does), or replays one by publishing its StreamMessage again.
 * Subscriptions on other subjects never see dead letters (one with a wildcard filter such as
 * "mallbots.>" skips them); a subscription on "<stream>.dead.<group>" consumes them.
 * If recording the dead letter fails (server gone), the original is NAKed and comes back later.
 *
 * CONNECTION (JetStream backend): start-up keeps trying to reach the server for
 * connect_timeout_ms (default 10 s), then fails with one CORE_ERR_UNAVAILABLE naming the URL.
 * Afterwards a lost connection is re-established without limit; subscriptions resume by
 * themselves; publishes made meanwhile fail at once with CORE_ERR_UNAVAILABLE; messages the
 * server acknowledged are in its file store (nats-server 2.9 fsyncs it every 60 s: a killed
 * server loses nothing, an OS crash can lose the last minute). An acknowledgement that cannot
 * reach the server means a later redelivery, never a loss.
 *
 * SHUTDOWN: am_stream_close() drains: deliveries stop, the handlers already holding or queued
 * with a message finish and their messages are acknowledged, within the timeout; messages not
 * handled by then are simply delivered again later. Then the connection closes.
 *
 * Thread-safety: a stream is thread-safe: publish from any thread, also from inside a handler.
 * Subscribe at start-up. Handlers of one subscription run one at a time, in one thread the
 * backend owns (JetStream: one nats.c thread per subscription; memory: the thread that calls
 * am_mem_broker_run()); handlers of different subscriptions may run concurrently and must be
 * thread-safe towards each other. am_stream_close() and am_stream_free() must not be called from
 * a handler.
 *
 * Errors: CORE_ERR_UNAVAILABLE (server unreachable, reconnecting, no answer in time, stream
 * closed), CORE_ERR_INVALID (bad options: NATS_URL, names), CORE_ERR_CONFLICT (a group already
 * consuming another channel), CORE_ERR_INTERNAL (programmer errors: a subject outside the stream
 * or reserved, a blank id or name), CORE_ERR_IO (the server refused:
 * message too large, stream configuration the server will not change, ...), CORE_ERR_NOMEM.
 */
#ifndef AM_H
#define AM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "ddd.h"
#include "es.h"

#define AM_ACK_WAIT_MS_DEFAULT 5000         /* the book's default AckWait */
#define AM_MAX_DELIVER_DEFAULT 5            /* the book's default MaxRedeliver */
#define AM_RETRY_DELAY_MS_DEFAULT 1000      /* delay before the 2nd delivery after an error */
#define AM_RETRY_DELAY_MS_MAX 60000         /* the longest delay between two deliveries */
#define AM_CONNECT_TIMEOUT_MS_DEFAULT 10000 /* how long start-up tries to reach the server */
#define AM_PUBLISH_TIMEOUT_MS_DEFAULT 5000  /* longest wait for the stream's acknowledgement */
#define AM_DUPLICATE_WINDOW_MS_DEFAULT 120000
#define AM_CLOSE_TIMEOUT_MS_DEFAULT 5000 /* the drain of am_stream_free() without a close */
#define AM_NAME_MAX 64                   /* stream and group names, in bytes */
#define AM_SUBJECT_MAX 255               /* subjects, in bytes */

#define AM_MSG_ID_HDR "Nats-Msg-Id"
#define AM_DEAD_HDR_REASON "Mallbots-Dead-Reason"
#define AM_DEAD_HDR_SUBJECT "Mallbots-Dead-Subject"
#define AM_DEAD_HDR_GROUP "Mallbots-Dead-Group"
#define AM_DEAD_HDR_SEQUENCE "Mallbots-Dead-Sequence"
#define AM_DEAD_HDR_DELIVERIES "Mallbots-Dead-Deliveries"
#define AM_DEAD_HDR_ID "Mallbots-Dead-Message-Id"
#define AM_DEAD_HDR_NAME "Mallbots-Dead-Message-Name"

/* ---- envelope: StreamMessage and EventMessageData -------------------------------------------- */

/* Packs StreamMessage{id, name, data} (all borrowed; data may be NULL when len is 0) into a new
 * buffer (*out, caller frees with core_free). */
core_status am_stream_message_pack(const char *id, const char *name, const unsigned char *data,
                                   size_t len, unsigned char **out, size_t *out_len, core_err *err);

/* A decoded StreamMessage. Caller storage: AM_ENVELOPE_INIT; am_envelope_release() frees it. */
struct am_envelope {
    char *id;            /* owned, never NULL once unpacked */
    char *name;          /* owned, never NULL once unpacked */
    unsigned char *data; /* owned, NULL when len is 0 */
    size_t len;
};
/* clang-format off */
#define AM_ENVELOPE_INIT {NULL, NULL, NULL, 0}
/* clang-format on */
void am_envelope_release(struct am_envelope *env);

/* Decodes len bytes as a StreamMessage into *out (which must be empty). Bytes that are not a
 * StreamMessage, or one with a blank id or name, -> CORE_ERR_INVALID ("not a StreamMessage: ...");
 * CORE_ERR_NOMEM when memory ran out (retried). On failure *out stays empty. */
core_status am_stream_message_unpack(const unsigned char *data, size_t len, struct am_envelope *out,
                                     core_err *err);

/* Packs the EventMessageData of event (borrowed): payload = the event's payload message packed
 * (empty when it has none), occurred_at = its time, metadata = every metadata entry as a string
 * value (an empty Struct when there is none, as the book's producer sends). *out: caller frees
 * with core_free. */
core_status am_data_pack(const ddd_event *event, unsigned char **out, size_t *out_len,
                         core_err *err);

/* Decodes len bytes of EventMessageData of a message with id and name (borrowed) into a new event
 * (*out, caller frees with ddd_event_free) with that id, name, time and metadata, its payload
 * decoded as the message type reg (borrowed) has for name. Errors (all CORE_ERR_INVALID: retrying
 * cannot help): not an EventMessageData; name not registered; a payload that does not decode as
 * the registered type; a metadata value that is a list or struct, more than DDD_METADATA_MAX
 * entries, or an id longer than a UUID. Too little memory is CORE_ERR_NOMEM (retried). */
core_status am_data_unpack(const es_registry *reg, const char *id, const char *name,
                           const unsigned char *data, size_t len, ddd_event **out, core_err *err);

/* ---- streams --------------------------------------------------------------------------------- */

typedef struct am_stream am_stream; /* opaque; backends: JetStream and in-memory */

/* What the stream answered to a publish. */
struct am_publish_ack {
    uint64_t seq;   /* the message's stream sequence (of the first copy for a duplicate) */
    bool duplicate; /* true: a message with this id was already stored; nothing new stored */
};

/* Options of the JetStream backend. AM_JS_OPTS_INIT, then set url and stream. */
struct am_js_opts {
    const char *url;         /* NATS_URL, e.g. "nats://127.0.0.1:14222" or "host:4222"; required */
    const char *stream;      /* NATS_STREAM, [A-Za-z0-9_-], at most AM_NAME_MAX; required */
    const char *name;        /* connection name the server shows (monitoring); NULL = "mallbots" */
    int connect_timeout_ms;  /* 0 = AM_CONNECT_TIMEOUT_MS_DEFAULT */
    int publish_timeout_ms;  /* 0 = AM_PUBLISH_TIMEOUT_MS_DEFAULT; also JetStream API calls */
    int duplicate_window_ms; /* the stream's duplicate window; 0 = AM_DUPLICATE_WINDOW_MS_DEFAULT */
    int reconnect_wait_ms;   /* pause between two connection attempts; 0 = 250 */
    bool existing_only;      /* true: use the stream as it is, never create or update it (tools
                                that only look: cmd/events); no such stream -> CORE_ERR_NOT_FOUND */
};
/* clang-format off */
#define AM_JS_OPTS_INIT {NULL, NULL, NULL, 0, 0, 0, 0, false}
/* clang-format on */

/* Connects to the NATS server at opts->url (trying for connect_timeout_ms), creates the stream
 * opts->stream (subjects "<stream>.>", file storage) or updates it to that configuration, and
 * returns the stream (*out, caller frees with am_stream_free). Errors: CORE_ERR_INVALID for a bad
 * URL or stream name (naming NATS_URL / NATS_STREAM); CORE_ERR_UNAVAILABLE when no server answered
 * in time ("cannot reach the message broker at <url> within <n> ms") or JetStream is not enabled
 * there; CORE_ERR_IO when the server refuses the stream's configuration; with existing_only,
 * CORE_ERR_NOT_FOUND "stream <name> does not exist at <url>". opts is borrowed. */
core_status am_js_stream_new(am_stream **out, const struct am_js_opts *opts, core_err *err);

/* Releases the NATS library's global resources and waits (at most 5 s) for its threads to end.
 * Call once at the end of main(), after every JetStream stream was freed, so leak checkers stay
 * quiet. Not from a handler. */
void am_js_library_close(void);

/* The stream's name (borrowed). */
const char *am_stream_name(const am_stream *s);

/* Drains and closes: no new deliveries; handlers that hold a message or have one queued finish
 * and acknowledge it, for at most timeout_ms (<= 0: AM_CLOSE_TIMEOUT_MS_DEFAULT) in all (plus, for
 * a handler caught in a request to the server, up to the publish timeout); then the connection
 * closes. Publishing afterwards fails (CORE_ERR_UNAVAILABLE). Consumers stay on the
 * server. Messages not handled in time are delivered again later (to this group's next
 * instance). Returns CORE_ERR_UNAVAILABLE when handlers were still running at the deadline (a
 * handler that never returns: the stream then keeps the resources that handler may still touch,
 * and am_stream_free() leaves them allocated). A second call is a no-op. */
core_status am_stream_close(am_stream *s, int timeout_ms, core_err *err);

/* Waits until the stream's connection to the server is up, at most timeout_ms (woken by the
 * connection's own callbacks, no polling); true when it is. For readiness checks, and for tests
 * that stop the server. The memory backend is always up until closed. */
bool am_stream_wait_connected(am_stream *s, int timeout_ms);

/* Frees the stream; drains first (AM_CLOSE_TIMEOUT_MS_DEFAULT) when am_stream_close() was not
 * called. NULL is a no-op. */
void am_stream_free(am_stream *s);

/* Publishes one message: StreamMessage{id, name, data} on subject, with Nats-Msg-Id = id, and
 * waits for the stream's acknowledgement. All arguments borrowed; ack (out) may be NULL.
 * Errors: CORE_ERR_INTERNAL for a blank id or name, or a subject that is not a plain subject
 * inside the stream or lies under "<stream>.dead."; CORE_ERR_UNAVAILABLE (see the top); CORE_ERR_IO
 * when the server refused the message. */
core_status am_stream_publish(am_stream *s, const char *subject, const char *id, const char *name,
                              const unsigned char *data, size_t len, struct am_publish_ack *ack,
                              core_err *err);

/* One message of a batch (am_stream_publish_batch): the parts am_stream_publish() takes, all
 * borrowed. */
struct am_batch_msg {
    const char *subject;
    const char *id;
    const char *name;
    const unsigned char *data;
    size_t len;
};

/* What the stream answered to one message of a batch. */
struct am_batch_ack {
    core_status status; /* CORE_OK: stored, or dropped as a duplicate; else why it was not */
    uint64_t seq;       /* as struct am_publish_ack, when status is CORE_OK */
    bool duplicate;
};

/* Publishes n messages (each as am_stream_publish() would) WITHOUT waiting for one
 * acknowledgement before sending the next, then waits for all of them (at most the publish
 * timeout): the way to move many messages at once (the outbox relay, tm.h). They leave in array
 * order. acks[i] (n entries, caller storage) tells what became of msgs[i]. Returns CORE_OK when
 * every message was acknowledged; else the status of the first one that was not, with err naming
 * it and how many failed. Message i failing does not stop the others, except that once the
 * connection is gone the rest are not sent (their status says so). Backends without a batch
 * operation (the memory backend) publish one by one. A stream's other publishers and the batch
 * may interleave. */
core_status am_stream_publish_batch(am_stream *s, const struct am_batch_msg *msgs, size_t n,
                                    struct am_batch_ack *acks, core_err *err);

/* Subscription options (the book's SubscriberConfig). AM_SUB_OPTS_INIT, then set group. */
struct am_sub_opts {
    const char *group;         /* required: [A-Za-z0-9_-], at most AM_NAME_MAX (copied) */
    const char *const *filter; /* NULL-terminated message names to handle; NULL = all (copied) */
    int ack_wait_ms;           /* 0 = AM_ACK_WAIT_MS_DEFAULT */
    int max_deliver;           /* 0 = AM_MAX_DELIVER_DEFAULT; the handler runs at most this often */
    int retry_delay_ms;        /* 0 = AM_RETRY_DELAY_MS_DEFAULT; doubled at each further delivery */
};
/* clang-format off */
#define AM_SUB_OPTS_INIT {NULL, NULL, 0, 0, 0}
/* clang-format on */

/* The facts of one delivery, borrowed for the duration of a handler call. */
struct am_delivery {
    const char *subject; /* the channel the message was published on */
    const char *group;   /* the subscription's group */
    const char *id;      /* the message id (StreamMessage.id = Nats-Msg-Id): the idempotency key */
    const char *name;    /* the message name, e.g. storesapi.StoreCreated */
    uint64_t delivered;  /* 1 on the first delivery, 2 on the first redelivery, ... */
    uint64_t stream_seq; /* the message's sequence in the stream */
    int max_deliver;     /* delivered == max_deliver: the handler's last try */
};

/* A raw handler: data/len is StreamMessage.data (for events, an EventMessageData). Returns
 * CORE_OK (the message is acknowledged) or a failure with err filled (redelivered later, or dead
 * after max_deliver). Setting *dead = true with a failure records the message as dead at once
 * (retrying cannot help: bad data). */
typedef core_status (*am_raw_handler_fn)(void *ud, const struct am_delivery *d,
                                         const unsigned char *data, size_t len, bool *dead,
                                         core_err *err);

/* Subscribes fn (with ud, borrowed, which must outlive the stream) to subject (a subject inside
 * the stream; wildcards * and > allowed) as group opts->group. Creates the group's durable
 * consumer or updates it to these options (ack_wait), then starts receiving. Errors:
 * CORE_ERR_INVALID for bad options (naming them), CORE_ERR_INTERNAL for a subject outside the
 * stream, CORE_ERR_CONFLICT when the group already consumes another subject, server statuses. */
core_status am_stream_subscribe(am_stream *s, const char *subject, const struct am_sub_opts *opts,
                                am_raw_handler_fn fn, void *ud, core_err *err);

/* am_stream_subscribe() with ud OWNED: the stream frees it with ud_free (not NULL) when it frees
 * the subscription, and at once when subscribing fails. For layers that wrap a handler in
 * state of their own (tm.h's transactional subscriptions). */
core_status am_stream_subscribe_owned(am_stream *s, const char *subject,
                                      const struct am_sub_opts *opts, am_raw_handler_fn fn,
                                      void *ud, void (*ud_free)(void *ud), core_err *err);

/* A batched subscription's flush: ends the work its handler did since the last flush (tm.h:
 * commits the transaction the deliveries shared). */
typedef core_status (*am_flush_fn)(void *ud, core_err *err);

/* The most deliveries of one batch: the stream flushes at least this often. */
#define AM_BATCH_MAX 32

/* am_stream_subscribe_owned() in batches: the handler's CORE_OK is provisional. The stream keeps
 * the delivery's acknowledgement and calls flush (on the delivery thread) after the last
 * delivery the backend has at hand, after AM_BATCH_MAX deliveries, and before the subscription
 * stops; when flush returns CORE_OK every kept delivery is acknowledged, else each is NAKed (it
 * comes back, counted as a further delivery). So a handler can do the work of several
 * deliveries in one transaction and commit once (tm.h), and nothing is acknowledged before it is
 * durable. A handler's failure is settled at once (NAK or dead letter, as am_stream_subscribe
 * says), so its work must not reach the flush (tm.h: a savepoint per delivery). With a backend
 * that cannot keep a delivery beyond its call (no release op: the memory backend) every
 * delivery is a batch of its own: flush follows each handler call. */
core_status am_stream_subscribe_batched(am_stream *s, const char *subject,
                                        const struct am_sub_opts *opts, am_raw_handler_fn fn,
                                        am_flush_fn flush, void *ud, void (*ud_free)(void *ud),
                                        core_err *err);

/* A stored message, as am_stream_read() hands it over (everything borrowed for the call). */
struct am_header {
    const char *key;
    const char *value;
};
struct am_stored_msg {
    uint64_t seq;
    const char *subject;
    const char *msg_id;              /* header Nats-Msg-Id, or NULL */
    const struct am_header *headers; /* every header, Nats-Msg-Id included */
    size_t n_headers;
    const unsigned char *data;
    size_t len;
    int64_t time_ns; /* when the stream stored it: nanoseconds since the epoch (UTC) */
};
typedef core_status (*am_stored_fn)(void *ud, const struct am_stored_msg *m, core_err *err);

/* The value of header key in m (borrowed), or NULL. */
const char *am_stored_header(const struct am_stored_msg *m, const char *key);

/* Calls fn for every message stored in the stream with sequence >= from_seq whose subject
 * matches filter (wildcards allowed; NULL = everything), in order, without consuming anything.
 * A non-OK return from fn stops the walk and is returned. Reads one message per request: meant
 * for tools and tests, not for streams of millions of messages. */
core_status am_stream_read(am_stream *s, const char *filter, uint64_t from_seq, am_stored_fn fn,
                           void *ud, core_err *err);

/* A consumer group's position, as the server knows it. */
struct am_group_info {
    uint64_t pending;     /* messages not yet delivered to the group */
    uint64_t ack_pending; /* delivered, not acknowledged yet (in a handler, or coming again) */
    uint64_t redelivered; /* of those, delivered more than once */
    uint64_t ack_floor;   /* stream sequence up to which everything is acknowledged */
};

/* Fills *out for group (durable consumer) of the stream. No such group -> CORE_ERR_NOT_FOUND. */
core_status am_stream_group_info(am_stream *s, const char *group, struct am_group_info *out,
                                 core_err *err);

/* ---- looking at the stream (tools: cmd/events) ------------------------------------------------
 * What a tool needs to show a learner the stream without changing it: its state, its consumer
 * groups, and a WATCH that follows the messages as they are stored. */

/* The stream's state, as the server knows it. */
struct am_stream_state {
    uint64_t messages;  /* stored now (dead letters included) */
    uint64_t bytes;     /* their size as the server counts it (memory backend: the data bytes) */
    uint64_t first_seq; /* sequence of the oldest stored message (0: none yet) */
    uint64_t last_seq;  /* sequence of the newest (0: none yet) */
    uint64_t consumers; /* consumers on the server: the groups and any watch running now */
};

/* Fills *out for the stream. Errors: CORE_ERR_UNAVAILABLE (server unreachable), CORE_ERR_IO. */
core_status am_stream_state_get(am_stream *s, struct am_stream_state *out, core_err *err);

/* One consumer group as am_stream_groups() hands it over (borrowed for the call). */
struct am_group_desc {
    const char *group;         /* the group's name (its durable consumer's) */
    const char *subject;       /* the one subject (channel) it consumes */
    struct am_group_info info; /* its position, as am_stream_group_info() reports it */
};
typedef core_status (*am_group_fn)(void *ud, const struct am_group_desc *g, core_err *err);

/* Calls fn for every consumer group (durable consumer) of the stream, by name in byte order;
 * ephemeral consumers (watches, other tools) are left out. A non-OK return from fn stops the walk
 * and is returned. A stream without groups calls fn never and returns CORE_OK. */
core_status am_stream_groups(am_stream *s, am_group_fn fn, void *ud, core_err *err);

/* A watch: follows the messages stored in the stream, without consuming anything (nothing is
 * acknowledged, no group's position moves) and without leaving anything on the server once it
 * is freed. JetStream: an ORDERED consumer (ephemeral, no acknowledgements, flow control and
 * heartbeats; messages come in stream order, and nats.c recreates the consumer where a delivery
 * was missed), deleted by am_watch_free(); if the process dies first, the server removes it
 * itself once it sees nobody listening. Memory backend: delivered by am_mem_broker_run() /
 * am_mem_broker_step(), like subscriptions. */
typedef struct am_watch am_watch; /* opaque */

#define AM_WATCH_NEW 0 /* from_seq: only messages stored after the watch began */

/* Starts a watch of the messages whose subject matches filter (wildcards allowed; NULL = the
 * whole stream "<stream>.>", dead letters included: a watch sees every message, unlike a
 * subscription) and whose sequence is >= from_seq (AM_WATCH_NEW: only those stored from now on;
 * 1: everything still stored). fn (with ud, borrowed, which must outlive the watch) gets each
 * message as am_stream_read() hands them over (seq, subject, headers, data, time), one call at a
 * time, in stream order, on a thread the backend owns (JetStream: nats.c's thread of the watch;
 * memory: the thread running am_mem_broker_run()), and is woken by the server's delivery: no
 * polling. A non-OK return from fn ends the deliveries (fn is not called again; free the watch
 * all the same). *out: caller frees with am_watch_free(), before am_stream_close() /
 * am_stream_free(). Errors: CORE_ERR_INTERNAL for a filter outside the stream,
 * CORE_ERR_UNAVAILABLE, CORE_ERR_IO (server statuses), CORE_ERR_NOMEM. */
core_status am_stream_watch(am_stream *s, const char *filter, uint64_t from_seq, am_stored_fn fn,
                            void *ud, am_watch **out, core_err *err);

/* Stops the watch (deletes its consumer on the server), waits for a call of fn still running to
 * return, and frees. Not from fn. NULL is a no-op. */
void am_watch_free(am_watch *w);

/* ---- events (the book's EventStream) --------------------------------------------------------- */

/* Publishes event (borrowed) on channel: EventMessageData (am_data_pack) in a StreamMessage with
 * the event's id and name, and waits for the stream's acknowledgement. Errors as
 * am_stream_publish. */
core_status am_event_publish(am_stream *s, const char *channel, const ddd_event *event,
                             core_err *err);

/* The public message of a failed announcement (see am_event_announce). */
#define AM_UNPUBLISHED_MSG                                                                         \
    "the change was saved but not published: the message broker is unavailable"

/* Announces a change the caller has ALREADY STORED: a new integration event named name (copied)
 * with *payload (taken, set to NULL; freed on failure too), published on channel with
 * am_event_publish. id (copied) and at give the event's id and time, normally those of the domain
 * event it announces, so that publishing the same change twice stores one message; id NULL = a
 * new UUID, at NULL = now. Errors as am_event_publish; CORE_ERR_UNAVAILABLE also gets the public
 * message AM_UNPUBLISHED_MSG, which tells an API client that its change is stored but nobody
 * was told (the dual-write gap that chapter 09's outbox closes); the internal message names the
 * event and the broker. */
core_status am_event_announce(am_stream *s, const char *channel, const char *name,
                              ProtobufCMessage **payload, const char *id, const struct timespec *at,
                              core_err *err);

/* An event handler: the event (id, name, payload decoded through the registry, metadata,
 * occurred_at) and the delivery's facts are borrowed for the call. Results as for a raw handler. */
typedef core_status (*am_event_handler_fn)(void *ud, const struct am_delivery *d,
                                           const ddd_event *event, core_err *err);

/* Subscribes fn to the events on channel as opts->group. reg (borrowed, must outlive the stream)
 * gives each event name's payload type; a message that does not decode (am_data_unpack's errors,
 * an unregistered name among them) is recorded as dead at once: list the names the module
 * handles in opts->filter so that other events on the channel are acknowledged unread. */
core_status am_event_subscribe(am_stream *s, const char *channel, const struct am_sub_opts *opts,
                               const es_registry *reg, am_event_handler_fn fn, void *ud,
                               core_err *err);

/* ---- commands and replies (the book's CommandStream and ReplyStream, chapter 08) ---------------
 * A COMMAND asks one module to do something and to answer. It travels like an event (same
 * StreamMessage, and CommandMessageData has EventMessageData's three fields) on the module's
 * command channel, e.g. mallbots.depot.commands, and its metadata names where the answer goes:
 * AM_CMD_REPLY_CHANNEL (required). A command and a reply are held in a ddd_event: the book's
 * Event, Command and Reply have the same five parts (id, name, payload, metadata, time).
 *
 * The module subscribes a COMMAND HANDLER with am_command_subscribe(); the core runs it for each
 * command and publishes the REPLY on the reply channel:
 *   handler CORE_OK and *reply set (a typed reply, e.g. depotapi.CreatedShoppingListReply)
 *                                                             -> that reply, outcome SUCCESS
 *   handler CORE_OK, no reply                                 -> am.Success (no payload)
 *   handler failed by a rule: CORE_ERR_INVALID, CORE_ERR_NOT_FOUND, CORE_ERR_CONFLICT or
 *   CORE_ERR_TOO_LARGE (the customer is disabled, the payment does not cover the total, ...)
 *                                                             -> am.Failure (no payload)
 *   handler failed otherwise (CORE_ERR_UNAVAILABLE, CORE_ERR_IO, CORE_ERR_NOMEM,
 *   CORE_ERR_INTERNAL: the database is down, ...) -> NAKed and retried like an event; on the
 *   subscription's last delivery                              -> am.Failure
 * so the sender always gets an answer, and a passing outage is not mistaken for a "no" (the book
 * answers am.Failure to any error at once). The command is acknowledged only once its reply is
 * stored in the stream; a reply that cannot be published NAKs the command, whose handler then
 * runs again: COMMAND HANDLERS MUST BE IDEMPOTENT (the same command twice has one effect and the
 * same answer).
 *
 * A reply's metadata: AM_REPLY_OUTCOME = "SUCCESS" or "FAILURE"; every COMMAND_* entry of the
 * command except COMMAND_NAME, renamed REPLY_* (COMMAND_SAGA_ID -> REPLY_SAGA_ID: the book's
 * correlation headers); and, additions of this workspace, AM_REPLY_COMMAND_ID (the command's id,
 * so that a sender can tell an answer to its latest command from a late duplicate of an earlier
 * one) and, on a failure, AM_REPLY_ERROR (the handler's public message, for logs and tools).
 * A reply's id is derived from its command's id (am_reply_id), so the two replies of a command
 * handled twice carry one id and the stream stores the second as a duplicate.
 */
#define AM_CMD_PREFIX "COMMAND_"
#define AM_CMD_NAME "COMMAND_NAME"                   /* never copied to a reply */
#define AM_CMD_REPLY_CHANNEL "COMMAND_REPLY_CHANNEL" /* required on every command */
#define AM_REPLY_PREFIX "REPLY_"
#define AM_REPLY_OUTCOME "REPLY_OUTCOME"
#define AM_REPLY_COMMAND_ID "REPLY_COMMAND_ID"
#define AM_REPLY_ERROR "REPLY_ERROR"
#define AM_OUTCOME_SUCCESS "SUCCESS"
#define AM_OUTCOME_FAILURE "FAILURE"
#define AM_REPLY_SUCCESS "am.Success" /* the reply of a handler that returns none */
#define AM_REPLY_FAILURE "am.Failure" /* the reply of a failed handler */

/* Sends command (borrowed; its metadata must hold AM_CMD_REPLY_CHANNEL, a subject inside the
 * stream) on channel, as am_event_publish() publishes an event: CommandMessageData in a
 * StreamMessage with the command's id and name, waiting for the stream's acknowledgement.
 * Errors as am_event_publish; no reply channel -> CORE_ERR_INTERNAL. */
core_status am_command_send(am_stream *s, const char *channel, const ddd_event *command,
                            core_err *err);

/* A command handler: the command (id, name, payload decoded through the registry, metadata) and
 * the delivery's facts are borrowed for the call. On CORE_OK it may set *reply to a new event
 * (ddd_event_new(reply, "depotapi.CreatedShoppingListReply", &payload, err)), which the core
 * takes: its id, time and metadata are the core's to set. On failure, *reply is ignored (freed
 * if set) and err says why, in words the sender may log. */
typedef core_status (*am_command_handler_fn)(void *ud, const struct am_delivery *d,
                                             const ddd_event *command, ddd_event **reply,
                                             core_err *err);

/* Subscribes fn to the commands on channel as opts->group and answers each as described above.
 * reg (borrowed, must outlive the stream) gives each command name's payload type and each typed
 * reply's; a command that does not decode, or has no reply channel, is a dead letter at once
 * (nobody can be answered). */
core_status am_command_subscribe(am_stream *s, const char *channel, const struct am_sub_opts *opts,
                                 const es_registry *reg, am_command_handler_fn fn, void *ud,
                                 core_err *err);

/* The whole work of am_command_subscribe() for one delivery, for layers that subscribe a raw
 * handler and answer commands themselves (tm.h answers through a transaction's outbox): decodes
 * data/len (StreamMessage.data, a CommandMessageData) as d's command through reg, calls
 * fn(ud, d, command, &reply, err), and publishes the reply the rules above choose on channel of
 * the command's AM_CMD_REPLY_CHANNEL in stream `out`. Returns CORE_OK once the reply is published
 * (acknowledge the command); a handler failure that is to be retried, or a reply that was not
 * published, with err; a command that does not decode or names no reply channel sets *dead. */
core_status am_command_answer(am_stream *out, const es_registry *reg, const struct am_delivery *d,
                              const unsigned char *data, size_t len, am_command_handler_fn fn,
                              void *ud, bool *dead, core_err *err);

/* A reply handler: the reply (am.Success and am.Failure have a NULL payload; a typed reply's is
 * decoded through the registry) and the delivery are borrowed for the call. Results as for an
 * event handler. */
typedef core_status (*am_reply_handler_fn)(void *ud, const struct am_delivery *d,
                                           const ddd_event *reply, core_err *err);

/* Subscribes fn to the replies on channel as opts->group. A reply that does not decode is a dead
 * letter at once. */
core_status am_reply_subscribe(am_stream *s, const char *channel, const struct am_sub_opts *opts,
                               const es_registry *reg, am_reply_handler_fn fn, void *ud,
                               core_err *err);

/* true when reply's metadata says AM_OUTCOME_SUCCESS. */
bool am_reply_succeeded(const ddd_event *reply);

/* The id of the reply to the command command_id (borrowed): a UUID derived from it, the same for
 * the same command, written to out. */
void am_reply_id(const char *command_id, char out[CORE_UUID_LEN + 1]);

/* ---- in-memory backend (unit tests) -------------------------------------------------------------
 * An am_mem_broker plays the server: it stores streams and durable consumers and outlives the
 * am_streams connected to it, so a test can "restart" a subscriber (free its stream, make a new
 * one on the same broker) and see its group resume. Nothing is delivered until the test calls
 * am_mem_broker_run(), which delivers in the calling thread until nothing is due, so tests are
 * deterministic. Differences from JetStream, on purpose: NAK delays are recorded but not waited
 * for (a NAKed message is due at once); the duplicate window never ends; AckWait passes only
 * when the test says so (am_mem_broker_expire). Several streams of one broker subscribed to one
 * group receive that group's messages in turn. */

typedef struct am_mem_broker am_mem_broker; /* opaque */

core_status am_mem_broker_new(am_mem_broker **out, core_err *err);

/* Frees the broker and everything stored. Every am_stream on it must have been freed. */
void am_mem_broker_free(am_mem_broker *b);

/* A stream named name (rules as NATS_STREAM) on broker b (borrowed; must outlive it), created
 * when the broker has none of that name. Caller frees with am_stream_free(). */
core_status am_mem_stream_new(am_stream **out, am_mem_broker *b, const char *name, core_err *err);

/* Delivers every due message to the subscribed groups (each message of a group to one of its
 * subscribers, in turn), handlers running in the calling thread, until nothing is due; *n (may be
 * NULL) = deliveries made. One thread at a time; not from a handler. */
void am_mem_broker_run(am_mem_broker *b, size_t *n);

/* Makes at most one delivery, as am_mem_broker_run() would; false when nothing was due. For
 * tests that must bound the work (a message NAKed again and again is due again at once). */
bool am_mem_broker_step(am_mem_broker *b);

/* Stores raw bytes as if another producer had published them (no StreamMessage added): data
 * (borrowed) on subject of stream name, with Nats-Msg-Id msg_id (NULL = none, no dedup). */
core_status am_mem_broker_inject(am_mem_broker *b, const char *stream, const char *subject,
                                 const char *msg_id, const unsigned char *data, size_t len,
                                 core_err *err);

/* Lets AckWait run out: every delivered message that was neither acknowledged nor NAKed becomes
 * due again. */
void am_mem_broker_expire(am_mem_broker *b);

/* Fault injection: the next `count` publishes (or acknowledgements) fail with
 * CORE_ERR_UNAVAILABLE as if the server had gone away. */
enum am_mem_fault { AM_MEM_FAIL_PUBLISH, AM_MEM_FAIL_ACK };
void am_mem_broker_fail(am_mem_broker *b, enum am_mem_fault what, int count);

/* The delay (ms) of the most recent NAK on the broker, -1 before any (tests see the backoff). */
int am_mem_broker_last_nak_delay(const am_mem_broker *b);

/* ---- backends (the ops struct behind am_stream) -------------------------------------------------
 * A backend moves bytes: it publishes a packed StreamMessage with headers, keeps a durable
 * consumer per group, hands each delivery to am_sub_deliver() and acknowledges or NAKs it when
 * told. Decoding, filtering, retries, backoff and dead letters live in the core above it, the
 * same for every backend. */

typedef struct am_sub am_sub; /* opaque: the core's side of one subscription */

/* What a backend creates or updates for a subscription. */
struct am_consumer_cfg {
    const char *group;          /* durable consumer name = deliver group */
    const char *filter_subject; /* the one subject (wildcards allowed) the group consumes */
    int ack_wait_ms;
};

/* One delivery, as a backend hands it over (borrowed for the call). */
struct am_backend_msg {
    const char *subject;
    const unsigned char *data;
    size_t len;
    uint64_t delivered; /* the server's delivery count, 1 = first */
    uint64_t stream_seq;
    bool more; /* the backend has further deliveries of this subscription at hand right now (a
                  batched subscription then keeps its batch open; only with a release op) */
};

/* A packed StreamMessage to publish (am_stream_publish_batch hands these to a backend). */
struct am_packed_msg {
    const char *subject;
    const char *msg_id; /* the Nats-Msg-Id header */
    const unsigned char *data;
    size_t len;
};

struct am_stream_ops {
    const char *kind; /* "jetstream", "memory": for messages */
    /* Stores data on subject with header Nats-Msg-Id = msg_id plus hdrs; fills *ack. */
    core_status (*publish)(void *impl, const char *subject, const char *msg_id,
                           const struct am_header *hdrs, size_t n_hdrs, const unsigned char *data,
                           size_t len, struct am_publish_ack *ack, core_err *err);
    /* Creates or updates the durable consumer cc->group and starts delivering to sub (borrowed,
     * valid until close has returned) through am_sub_deliver(). */
    core_status (*subscribe)(void *impl, const struct am_consumer_cfg *cc, am_sub *sub,
                             core_err *err);
    /* Acknowledges (without waiting for a confirmation) / NAKs with a delay the delivery
     * identified by token (what the backend passed to am_sub_deliver). */
    core_status (*ack)(void *impl, void *token, core_err *err);
    core_status (*nak)(void *impl, void *token, int delay_ms, core_err *err);
    /* am_stream_read() and am_stream_group_info() (filter already validated). */
    core_status (*read)(void *impl, const char *filter, uint64_t from_seq, am_stored_fn fn,
                        void *ud, core_err *err);
    core_status (*group_info)(void *impl, const char *group, struct am_group_info *out,
                              core_err *err);
    /* am_stream_wait_connected() */
    bool (*wait_connected)(void *impl, int timeout_ms);
    /* Drains as am_stream_close() describes (timeout_ms > 0); afterwards am_sub_deliver() is
     * not called again, unless handlers were still running at the deadline: then it sets
     * *abandoned and returns CORE_ERR_UNAVAILABLE. Closes the connection in any case. */
    core_status (*close)(void *impl, int timeout_ms, bool *abandoned, core_err *err);
    /* Frees impl (after close). abandoned: handlers may still be running; free only what they
     * cannot touch. */
    void (*free)(void *impl, bool abandoned);
    /* am_stream_state_get() and am_stream_groups() (durable consumers only, by name). */
    core_status (*state)(void *impl, struct am_stream_state *out, core_err *err);
    core_status (*groups)(void *impl, am_group_fn fn, void *ud, core_err *err);
    /* am_stream_watch() (filter validated, never NULL): starts delivering to fn(ud, ...) and
     * returns the backend's handle in *handle; unwatch stops it, waits for a running fn, frees. */
    core_status (*watch)(void *impl, const char *filter, uint64_t from_seq, am_stored_fn fn,
                         void *ud, void **handle, core_err *err);
    void (*unwatch)(void *impl, void *handle);
    /* Added later, by the rule of "Ops structs that grow" (docs/architecture.md): implementations
     * fill this struct with designated initialisers, and a member at the end may be NULL.
     * Optional (NULL: the core calls publish for each message): am_stream_publish_batch() for
     * n packed messages (no headers but Nats-Msg-Id), sent without waiting in between; fills
     * every acks[i]; returns the first failure (err) or CORE_OK. */
    core_status (*publish_batch)(void *impl, const struct am_packed_msg *msgs, size_t n,
                                 struct am_batch_ack *acks, core_err *err);
    /* Optional (NULL: no delivery outlives its am_sub_deliver call, and batches hold one): frees
     * a delivery that am_sub_deliver() kept (it returned true), after its ack or NAK. */
    void (*release)(void *impl, void *token);
};

/* A stream over a backend: ops borrowed (static), impl owned (freed with ops->free by
 * am_stream_free, also when this call fails), name = the stream's name (copied). */
core_status am_stream_new(am_stream **out, const struct am_stream_ops *ops, void *impl,
                          const char *name, core_err *err);

/* For backends: handles one delivery (decode, filter, handler, ack/NAK/dead letter through ops
 * with token). m is borrowed for the call. Returns false when the backend may free token's
 * message now; true when a batched subscription kept it (only with ops->release, and only while
 * m->more said more were at hand): the stream acks or NAKs it at the batch's flush, in a later
 * am_sub_deliver() or am_sub_flush() of this subscription, then calls ops->release. Calls for one
 * subscription never overlap. */
bool am_sub_deliver(am_sub *sub, const struct am_backend_msg *m, void *token);

/* For backends: flushes a batched subscription's open batch (see am_stream_subscribe_batched),
 * on its delivery thread: when the subscription stops while deliveries are kept (a drain's end,
 * a delivery dropped because the subscription is stopping). No batch open: nothing happens. */
void am_sub_flush(am_sub *sub);

/* For backends and tools: true when subject is a valid subject (wildcards allowed when
 * wildcards is true), and when subject matches filter (both valid, filter with wildcards). */
bool am_subject_valid(const char *subject, bool wildcards);
bool am_subject_matches(const char *filter, const char *subject);

/* For backends: true when name is a valid stream or group name ([A-Za-z0-9_-], 1..AM_NAME_MAX). */
bool am_name_valid(const char *name);

#endif /* AM_H */
