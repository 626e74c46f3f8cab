/* am_js.c -- the NATS JetStream backend of am.h, on nats.c 3.4.1.
 *
 * Connection: natsOptions with retry-on-failed-connect and a connected callback, so start-up
 * waits on a condition variable (woken by the callback, bounded by connect_timeout_ms) instead
 * of sleeping between attempts; unlimited reconnects afterwards; pending requests (publish acks,
 * ack confirmations) fail at once when the connection drops (FailRequestsOnDisconnect), and a
 * publish while the connection is down is refused before it reaches nats.c's reconnect buffer.
 *
 * Consumers: js_AddConsumer / js_UpdateConsumer create the group's durable push consumer (deliver
 * group = group, deliver subject "_am.<stream>.<group>", outside the stream), and js_Subscribe
 * BINDS to it (jsSubOptions Stream + Consumer + Queue) with manual acks. A consumer that a
 * subscribe call creates would be deleted by nats.c on drain or unsubscribe; a bound one is not,
 * which is what makes groups survive restarts.
 *
 * Shutdown: each subscription is drained (natsSubscription_DrainTimeout: no new messages, the
 * queued ones are handled), then we wait for nats.c's on-complete callback, after which the
 * message handler never runs again, so the memory it uses can be freed. The connection stays
 * open while subscriptions drain, because handlers acknowledge (a request) and may publish.
 * Connection callbacks (closed, disconnected, ...) use this backend's struct as closure, so it is
 * freed only after the closed callback ran.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "am.h"
#include "log.h"

#define LOG_COMP "am"
#define RECONNECT_WAIT_MS_DEFAULT 250
#define CLOSED_CB_WAIT_MS 5000 /* how long close waits for nats.c's closed callback */

struct js_sub {
    struct js_impl *ji;
    am_sub *front;
    natsSubscription *sub;
    char group[AM_NAME_MAX + 1];
    bool complete; /* nats.c's on-complete callback ran: on_msg will not run again */
    bool stopping; /* close gave up draining: further messages are dropped (redelivered later) */
};

struct js_impl {
    natsConnection *nc;
    jsCtx *js;
    char stream[AM_NAME_MAX + 1];
    char *url;
    int publish_timeout_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC; signalled by every callback that sets a flag below */
    bool connected;    /* the first connection was made */
    bool up;           /* connected now (false while reconnecting and after close) */
    bool closing;      /* close has begun: a disconnect is expected */
    bool closed_cb;    /* nats.c's closed callback ran: no connection callback follows */
    bool leak;         /* something may still use this struct: never free it */
    struct js_sub **subs;
    size_t n_subs, cap_subs;
    /* batches (js_publish_batch): one at a time on one context */
    pthread_mutex_t batch_mu;     /* held for a whole batch */
    pthread_mutex_t batch_ack_mu; /* guards batch and its inflight[] against the ack handler */
    jsCtx *batch_js;              /* made at the first batch, destroyed by free */
    struct js_batch *batch;       /* the batch running now, or NULL */
};

/* ---- time ------------------------------------------------------------------------------------ */

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

static long long ms_until(struct timespec deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(deadline.tv_sec - now.tv_sec) * 1000 +
           (deadline.tv_nsec - now.tv_nsec) / 1000000;
}

/* Waits (ji->mu held) until *flag is true or the deadline passed; returns *flag. */
static bool wait_flag(struct js_impl *ji, const bool *flag, struct timespec deadline)
{
    int rc = 0;
    while (!*flag && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&ji->cv, &ji->mu, &deadline);
    return *flag;
}

/* ---- errors ---------------------------------------------------------------------------------- */

/* nats.c's text of the last error of this thread (copied at the call site: it is overwritten). */
static const char *last_error(char *buf, size_t size, natsStatus s)
{
    natsStatus ls = NATS_OK;
    const char *text = nats_GetLastError(&ls);
    core_strlcpy(buf, text && *text ? text : natsStatus_GetText(s), size);
    return buf;
}

static bool is_connection_status(natsStatus s)
{
    return s == NATS_CONNECTION_CLOSED || s == NATS_CONNECTION_DISCONNECTED ||
           s == NATS_NO_SERVER || s == NATS_NOT_YET_CONNECTED || s == NATS_STALE_CONNECTION ||
           s == NATS_CONNECTION_AUTH_FAILED || s == NATS_DRAINING || s == NATS_IO_ERROR;
}

/* Maps a failed JetStream API call (not a publish) to a status and message. */
static core_status api_error(struct js_impl *ji, natsStatus s, jsErrCode jerr, const char *what,
                             core_err *err)
{
    char text[160];
    last_error(text, sizeof text, s);
    if (s == NATS_TIMEOUT)
        return core_err_set(err, CORE_ERR_UNAVAILABLE,
                            "%s: the server at %s did not answer in time", what, ji->url);
    if (is_connection_status(s))
        return core_err_set(err, CORE_ERR_UNAVAILABLE,
                            "%s: the message broker at %s is unavailable", what, ji->url);
    if (s == NATS_NO_RESPONDERS || jerr == JSNotEnabledErr || jerr == JSNotEnabledForAccountErr)
        return core_err_set(err, CORE_ERR_UNAVAILABLE,
                            "%s: JetStream does not answer at %s (not enabled: start nats-server "
                            "with -js; or still starting)",
                            what, ji->url);
    return core_err_set(err, CORE_ERR_IO, "%s: %s (JetStream error %d)", what, text, (int)jerr);
}

/* ---- connection callbacks -------------------------------------------------------------------- */

static void on_connected(natsConnection *nc, void *closure)
{
    struct js_impl *ji = closure;
    (void)nc;
    pthread_mutex_lock(&ji->mu);
    ji->connected = ji->up = true;
    pthread_cond_broadcast(&ji->cv);
    pthread_mutex_unlock(&ji->mu);
}

static void on_closed(natsConnection *nc, void *closure)
{
    struct js_impl *ji = closure;
    (void)nc;
    pthread_mutex_lock(&ji->mu);
    ji->closed_cb = true;
    ji->up = false;
    pthread_cond_broadcast(&ji->cv);
    pthread_mutex_unlock(&ji->mu);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    struct js_impl *ji = closure;
    (void)nc;
    pthread_mutex_lock(&ji->mu);
    bool expected = ji->closing || !ji->connected;
    ji->up = false;
    pthread_mutex_unlock(&ji->mu);
    if (!expected)
        log_warn(LOG_COMP, "lost the connection to the message broker at %s; reconnecting",
                 ji->url);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    struct js_impl *ji = closure;
    (void)nc;
    pthread_mutex_lock(&ji->mu);
    ji->up = true;
    pthread_cond_broadcast(&ji->cv);
    pthread_mutex_unlock(&ji->mu);
    log_info(LOG_COMP, "reconnected to the message broker at %s", ji->url);
}

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus s, void *closure)
{
    struct js_impl *ji = closure;
    (void)nc;
    (void)sub;
    log_warn(LOG_COMP, "message broker %s: %s (messages not handled are delivered again)", ji->url,
             natsStatus_GetText(s));
}

/* ---- publish --------------------------------------------------------------------------------- */

static core_status js_publish(void *impl, const char *subject, const char *msg_id,
                              const struct am_header *hdrs, size_t n_hdrs,
                              const unsigned char *data, size_t len, struct am_publish_ack *ack,
                              core_err *err)
{
    struct js_impl *ji = impl;
    if (len > INT_MAX)
        return core_err_set(err, CORE_ERR_TOO_LARGE, "a message of %zu bytes is too large", len);
    natsConnStatus cs = natsConnection_Status(ji->nc);
    if (cs != NATS_CONN_STATUS_CONNECTED)
        return core_err_set(
            err, CORE_ERR_UNAVAILABLE, "the message broker is unavailable (%s %s)",
            cs == NATS_CONN_STATUS_CLOSED ? "connection closed to" : "reconnecting to", ji->url);
    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, subject, NULL, (const char *)data, (int)len);
    for (size_t i = 0; s == NATS_OK && i < n_hdrs; i++)
        s = natsMsgHeader_Set(m, hdrs[i].key, hdrs[i].value);
    if (s != NATS_OK) {
        natsMsg_Destroy(m);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory building a message");
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id;
    po.MaxWait = ji->publish_timeout_ms;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    s = js_PublishMsg(&pa, ji->js, m, &po, &jerr);
    natsMsg_Destroy(m);
    core_status st = CORE_OK;
    char text[160];
    if (s == NATS_OK) {
        ack->seq = pa->Sequence;
        ack->duplicate = pa->Duplicate;
    } else if (s == NATS_TIMEOUT) {
        st = core_err_set(err, CORE_ERR_UNAVAILABLE,
                          "no acknowledgement from stream %s within %d ms (message broker %s)",
                          ji->stream, ji->publish_timeout_ms, ji->url);
    } else if (is_connection_status(s)) {
        st = core_err_set(err, CORE_ERR_UNAVAILABLE,
                          "the message broker is unavailable (connection to %s lost)", ji->url);
    } else if (s == NATS_NO_RESPONDERS || jerr == JSNotEnabledErr) {
        st = core_err_set(err, CORE_ERR_UNAVAILABLE,
                          "stream %s does not answer at %s (JetStream still starting, or the "
                          "stream was deleted)",
                          ji->stream, ji->url);
    } else {
        st =
            core_err_set(err, CORE_ERR_IO, "stream %s refused the message: %s (JetStream error %d)",
                         ji->stream, last_error(text, sizeof text, s), (int)jerr);
    }
    jsPubAck_Destroy(pa);
    return st;
}

/* ---- publish a batch --------------------------------------------------------------------------
 * js_PublishMsgAsync sends each message without waiting; nats.c calls the AckHandler of the
 * jsCtx once per message, with the server's acknowledgement or the error (a per-message MaxWait
 * makes a missing answer an error too), on the thread of the context's reply subscription;
 * js_PublishAsyncComplete waits until every handler has returned. One such context serves every
 * batch of the connection, one batch at a time (batch_mu): nats.c gives a context its own reply
 * subscription, with a thread of its own, at its first asynchronous publish, so a context per
 * batch would cost a subscription and a thread per batch. The handler finds the batch running
 * now through ji->batch (NULL between batches: a late answer to an abandoned batch is dropped)
 * and its message by the natsMsg pointer, recorded before the message is handed over. */

struct js_batch {
    natsMsg **inflight; /* inflight[k]: message k until its answer came, then NULL */
    struct am_batch_ack *acks;
    size_t n;
    char first_err[CORE_ERR_MSG_MAX]; /* the first failure's text ("" = none yet) */
};

/* The status of a failed publish (nats.c status, JetStream error code). */
static core_status publish_failure(natsStatus s, jsErrCode jerr)
{
    if (s == NATS_TIMEOUT || is_connection_status(s) || s == NATS_NO_RESPONDERS ||
        jerr == JSNotEnabledErr)
        return CORE_ERR_UNAVAILABLE;
    return CORE_ERR_IO;
}

static void on_batch_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    struct js_impl *ji = closure;
    (void)js;
    pthread_mutex_lock(&ji->batch_ack_mu);
    struct js_batch *b = ji->batch;
    for (size_t k = 0; b && k < b->n; k++) {
        if (b->inflight[k] != msg)
            continue;
        b->inflight[k] = NULL;
        if (pa) {
            b->acks[k] = (struct am_batch_ack){CORE_OK, pa->Sequence, pa->Duplicate};
        } else {
            natsStatus s = pae ? pae->Err : NATS_ERR;
            jsErrCode jerr = pae ? pae->ErrCode : 0;
            b->acks[k].status = publish_failure(s, jerr);
            if (!b->first_err[0])
                snprintf(b->first_err, sizeof b->first_err,
                         "stream %s did not store message %zu of the batch: %s (JetStream "
                         "error %d, message broker %s)",
                         ji->stream, k + 1,
                         pae && pae->ErrText ? pae->ErrText : natsStatus_GetText(s), (int)jerr,
                         ji->url);
        }
        break;
    }
    pthread_mutex_unlock(&ji->batch_ack_mu);
    natsMsg_Destroy(msg);
}

/* The connection's context for batches (ji->batch_mu held): made at the first batch. */
static core_status batch_ctx(struct js_impl *ji, core_err *err)
{
    if (ji->batch_js)
        return CORE_OK;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = ji->publish_timeout_ms;
    jo.PublishAsync.AckHandler = on_batch_ack;
    jo.PublishAsync.AckHandlerClosure = ji;
    natsStatus s = natsConnection_JetStream(&ji->batch_js, ji->nc, &jo);
    if (s == NATS_OK)
        return CORE_OK;
    char text[160];
    ji->batch_js = NULL;
    return core_err_set(err, CORE_ERR_NOMEM, "cannot make a JetStream context: %s",
                        last_error(text, sizeof text, s));
}

static core_status js_publish_batch(void *impl, const struct am_packed_msg *msgs, size_t n,
                                    struct am_batch_ack *acks, core_err *err)
{
    struct js_impl *ji = impl;
    struct js_batch b = {.acks = acks, .n = n};
    for (size_t k = 0; k < n; k++)
        acks[k] = (struct am_batch_ack){CORE_ERR_UNAVAILABLE, 0, false}; /* until answered */
    natsConnStatus cs = natsConnection_Status(ji->nc);
    if (cs != NATS_CONN_STATUS_CONNECTED)
        return core_err_set(
            err, CORE_ERR_UNAVAILABLE, "the message broker is unavailable (%s %s)",
            cs == NATS_CONN_STATUS_CLOSED ? "connection closed to" : "reconnecting to", ji->url);
    if (!(b.inflight = core_calloc(n, sizeof *b.inflight)))
        return core_err_nomem(err);
    pthread_mutex_lock(&ji->batch_mu);
    core_status st = batch_ctx(ji, err);
    jsCtx *js = ji->batch_js;
    if (st == CORE_OK) {
        pthread_mutex_lock(&ji->batch_ack_mu);
        ji->batch = &b;
        pthread_mutex_unlock(&ji->batch_ack_mu);
    }
    char text[160];
    natsStatus s = NATS_OK;
    for (size_t k = 0; st == CORE_OK && k < n; k++) {
        if (msgs[k].len > INT_MAX) {
            acks[k].status = CORE_ERR_TOO_LARGE;
            continue;
        }
        natsMsg *m = NULL;
        s = natsMsg_Create(&m, msgs[k].subject, NULL, (const char *)msgs[k].data, (int)msgs[k].len);
        if (s != NATS_OK) {
            acks[k].status = CORE_ERR_NOMEM;
            continue;
        }
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MsgId = msgs[k].msg_id;
        po.MaxWait = ji->publish_timeout_ms; /* no answer by then: the handler gets a timeout */
        pthread_mutex_lock(&ji->batch_ack_mu);
        b.inflight[k] = m; /* before sending: the answer may come before the call returns */
        pthread_mutex_unlock(&ji->batch_ack_mu);
        s = js_PublishMsgAsync(js, &m, &po);
        if (s == NATS_OK)
            continue;
        /* not sent: the message is still ours */
        last_error(text, sizeof text, s);
        pthread_mutex_lock(&ji->batch_ack_mu);
        b.inflight[k] = NULL;
        if (!b.first_err[0])
            snprintf(b.first_err, sizeof b.first_err,
                     "message %zu of the batch was not sent to %s: %s", k + 1, ji->url, text);
        pthread_mutex_unlock(&ji->batch_ack_mu);
        natsMsg_Destroy(m);
        acks[k].status = publish_failure(s, 0);
        if (is_connection_status(s))
            break; /* the rest would fail the same way; they stay unsent (UNAVAILABLE) */
    }
    if (js) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = ji->publish_timeout_ms + 1000;
        if (js_PublishAsyncComplete(js, &po) == NATS_TIMEOUT) {
            /* answers that never came: take the messages back (their status stays UNAVAILABLE),
             * then wait for handlers that are running right now */
            natsMsgList pending = {NULL, 0};
            if (js_PublishAsyncGetPendingList(&pending, js) == NATS_OK)
                natsMsgList_Destroy(&pending);
            js_PublishAsyncComplete(js, NULL);
        }
        pthread_mutex_lock(&ji->batch_ack_mu);
        ji->batch = NULL; /* from now on an answer to this batch finds no batch */
        pthread_mutex_unlock(&ji->batch_ack_mu);
    }
    pthread_mutex_unlock(&ji->batch_mu);
    core_free(b.inflight);
    if (st == CORE_OK) {
        for (size_t k = 0; k < n && st == CORE_OK; k++)
            if (acks[k].status != CORE_OK)
                st = core_err_set(err, acks[k].status, "%s",
                                  b.first_err[0] ? b.first_err
                                                 : "no acknowledgement from the message broker");
    }
    return st;
}

/* ---- subscribe ------------------------------------------------------------------------------- */

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    struct js_sub *js = closure;
    (void)nc;
    (void)sub;
    pthread_mutex_lock(&js->ji->mu);
    bool stopping = js->stopping;
    pthread_mutex_unlock(&js->ji->mu);
    if (stopping) {
        am_sub_flush(js->front); /* the batch so far is settled first */
        natsMsg_Destroy(msg);    /* not acknowledged: the server delivers it again later */
        return;
    }
    int pending = 0; /* deliveries already here behind this one: a batch goes on */
    natsSubscription_GetPending(sub, &pending, NULL);
    struct am_backend_msg bm = {natsMsg_GetSubject(msg),
                                (const unsigned char *)natsMsg_GetData(msg),
                                (size_t)natsMsg_GetDataLength(msg),
                                1,
                                0,
                                pending > 0};
    jsMsgMetaData *meta = NULL;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        bm.delivered = meta->NumDelivered;
        bm.stream_seq = meta->Sequence.Stream;
    } else {
        log_warn(LOG_COMP, "group %s: a delivery without JetStream metadata on %s", js->group,
                 bm.subject);
    }
    bool kept = am_sub_deliver(js->front, &bm, msg);
    jsMsgMetaData_Destroy(meta);
    if (!kept)
        natsMsg_Destroy(msg); /* else js_release, after the batch's flush */
}

/* Called by nats.c on the subscription's delivery thread after its last delivery. */
static void on_complete(void *closure)
{
    struct js_sub *js = closure;
    am_sub_flush(js->front); /* a batch whose next delivery never came (an unsubscribe) */
    pthread_mutex_lock(&js->ji->mu);
    js->complete = true;
    pthread_cond_broadcast(&js->ji->cv);
    pthread_mutex_unlock(&js->ji->mu);
}

/* Creates the group's durable consumer, or updates it to cfg. */
static core_status ensure_consumer(struct js_impl *ji, jsConsumerConfig *cfg, core_err *err)
{
    char what[AM_NAME_MAX + 64];
    snprintf(what, sizeof what, "consumer %s of stream %s", cfg->Durable, ji->stream);
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, ji->js, ji->stream, cfg->Durable, NULL, &jerr);
    core_status st = CORE_OK;
    if (s == NATS_OK) {
        const char *filter =
            ci->Config && ci->Config->FilterSubject ? ci->Config->FilterSubject : "";
        if (strcmp(filter, cfg->FilterSubject) != 0)
            st = core_err_set(err, CORE_ERR_CONFLICT, "group %s already consumes %.128s",
                              cfg->Durable, *filter ? filter : "every subject");
        jsConsumerInfo_Destroy(ci);
        ci = NULL;
        if (st == CORE_OK &&
            (s = js_UpdateConsumer(&ci, ji->js, ji->stream, cfg, NULL, &jerr)) != NATS_OK)
            st = api_error(ji, s, jerr, what, err);
    } else if (s == NATS_NOT_FOUND) {
        s = js_AddConsumer(&ci, ji->js, ji->stream, cfg, NULL, &jerr);
        if (s != NATS_OK &&
            (jerr == JSConsumerNameExistErr || jerr == JSConsumerExistingActiveErr)) {
            /* another instance of the group created it in between */
            s = js_UpdateConsumer(&ci, ji->js, ji->stream, cfg, NULL, &jerr);
        }
        if (s != NATS_OK)
            st = api_error(ji, s, jerr, what, err);
    } else {
        st = api_error(ji, s, jerr, what, err);
    }
    jsConsumerInfo_Destroy(ci);
    return st;
}

static core_status js_subscribe(void *impl, const struct am_consumer_cfg *cc, am_sub *sub,
                                core_err *err)
{
    struct js_impl *ji = impl;
    char deliver[2 * AM_NAME_MAX + 8];
    snprintf(deliver, sizeof deliver, "_am.%s.%s", ji->stream, cc->group);
    jsConsumerConfig cfg;
    jsConsumerConfig_Init(&cfg);
    cfg.Durable = cc->group;
    cfg.DeliverSubject = deliver;
    cfg.DeliverGroup = cc->group;
    cfg.DeliverPolicy = js_DeliverAll;
    cfg.AckPolicy = js_AckExplicit;
    cfg.AckWait = (int64_t)cc->ack_wait_ms * 1000000; /* nanoseconds */
    cfg.MaxDeliver = -1; /* the core counts deliveries and ends a message itself (am.h) */
    cfg.FilterSubject = cc->filter_subject;
    core_status st = ensure_consumer(ji, &cfg, err);
    if (st != CORE_OK)
        return st;

    struct js_sub *js = core_calloc(1, sizeof *js);
    if (!js)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory subscribing");
    js->ji = ji;
    js->front = sub;
    core_strlcpy(js->group, cc->group, sizeof js->group);
    pthread_mutex_lock(&ji->mu);
    bool room = !core_array_grow(&ji->subs, &ji->cap_subs, ji->n_subs + 1, sizeof *ji->subs);
    pthread_mutex_unlock(&ji->mu);
    if (!room) {
        core_free(js);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory subscribing");
    }

    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = ji->stream;
    so.Consumer = cc->group; /* bind: never create (and so never delete) the consumer here */
    so.Queue = cc->group;
    so.ManualAck = true;
    jsErrCode jerr = 0;
    natsStatus s = js_Subscribe(&js->sub, ji->js, cc->filter_subject, on_msg, js, NULL, &so, &jerr);
    if (s == NATS_OK)
        s = natsSubscription_SetOnCompleteCB(js->sub, on_complete, js);
    if (s != NATS_OK) {
        char what[AM_NAME_MAX + 32];
        snprintf(what, sizeof what, "binding to consumer %s", cc->group);
        st = api_error(ji, s, jerr, what, err);
        if (js->sub) {
            natsSubscription_Unsubscribe(js->sub);
            pthread_mutex_lock(&ji->mu);
            wait_flag(ji, &js->complete, deadline_in(CLOSED_CB_WAIT_MS));
            bool done = js->complete;
            pthread_mutex_unlock(&ji->mu);
            if (!done)
                return st; /* leave js to a handler that may still run */
            natsSubscription_Destroy(js->sub);
        }
        core_free(js);
        return st;
    }
    pthread_mutex_lock(&ji->mu);
    ji->subs[ji->n_subs++] = js;
    pthread_mutex_unlock(&ji->mu);
    return CORE_OK;
}

static core_status js_ack(void *impl, void *token, core_err *err)
{
    struct js_impl *ji = impl;
    /* Sent without waiting for the server's confirmation (a round trip per message, which made
     * each group's deliveries wait on nats-server). While the connection is re-established,
     * nats.c keeps the acknowledgement in its reconnect buffer and sends it after the reconnect,
     * sparing the handler a second delivery. During a shutdown's drain the confirmation is
     * awaited: the server has then recorded every message handled before the close returns, so
     * the group's next instance gets none of them again; while disconnected there, a lost ack
     * only means a redelivery. */
    pthread_mutex_lock(&ji->mu);
    bool closing = ji->closing;
    pthread_mutex_unlock(&ji->mu);
    if (closing && natsConnection_Status(ji->nc) != NATS_CONN_STATUS_CONNECTED)
        return core_err_set(err, CORE_ERR_UNAVAILABLE, "not connected to %s", ji->url);
    jsErrCode jerr = 0;
    natsStatus s = closing ? natsMsg_AckSync(token, NULL, &jerr) : natsMsg_Ack(token, NULL);
    if (s != NATS_OK)
        return core_err_set(err, CORE_ERR_UNAVAILABLE, "the acknowledgement did not reach %s (%s)",
                            ji->url, natsStatus_GetText(s));
    return CORE_OK;
}

static void js_release(void *impl, void *token)
{
    (void)impl;
    natsMsg_Destroy(token);
}

static core_status js_nak(void *impl, void *token, int delay_ms, core_err *err)
{
    struct js_impl *ji = impl;
    natsStatus s = natsMsg_NakWithDelay(token, delay_ms, NULL);
    if (s != NATS_OK)
        return core_err_set(err, CORE_ERR_UNAVAILABLE, "the NAK did not reach %s (%s)", ji->url,
                            natsStatus_GetText(s));
    return CORE_OK;
}

/* ---- read and group info --------------------------------------------------------------------- */

/* Hands one stored message to fn. */
static core_status read_one(natsMsg *m, uint64_t seq, int64_t time_ns, am_stored_fn fn, void *ud,
                            core_err *err)
{
    const char **keys = NULL;
    int n = 0;
    struct am_header *hdrs = NULL;
    if (natsMsgHeader_Keys(m, &keys, &n) != NATS_OK) {
        keys = NULL;
        n = 0;
    }
    if (n > 0 && !(hdrs = core_calloc((size_t)n, sizeof *hdrs))) {
        free((void *)keys); /* allocated by nats.c with malloc */
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory reading the stream");
    }
    const char *msg_id = NULL;
    for (int i = 0; i < n; i++) {
        const char *v = NULL;
        if (natsMsgHeader_Get(m, keys[i], &v) != NATS_OK)
            v = "";
        hdrs[i] = (struct am_header){keys[i], v};
        if (strcmp(keys[i], AM_MSG_ID_HDR) == 0)
            msg_id = v;
    }
    struct am_stored_msg sm = {seq,
                               natsMsg_GetSubject(m),
                               msg_id,
                               hdrs,
                               (size_t)n,
                               (const unsigned char *)natsMsg_GetData(m),
                               (size_t)natsMsg_GetDataLength(m),
                               time_ns};
    core_status st = fn(ud, &sm, err);
    core_free(hdrs);
    free((void *)keys);
    return st;
}

static core_status js_read(void *impl, const char *filter, uint64_t from_seq, am_stored_fn fn,
                           void *ud, core_err *err)
{
    struct js_impl *ji = impl;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, ji->js, ji->stream, NULL, &jerr);
    if (s != NATS_OK)
        return api_error(ji, s, jerr, "reading the stream", err);
    uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    core_status st = CORE_OK;
    for (uint64_t seq = from_seq > first ? from_seq : first;
         st == CORE_OK && seq <= last && seq > 0; seq++) {
        natsMsg *m = NULL;
        s = js_GetMsg(&m, ji->js, ji->stream, seq, NULL, &jerr);
        if (s == NATS_NOT_FOUND)
            continue; /* deleted */
        if (s != NATS_OK)
            return api_error(ji, s, jerr, "reading the stream", err);
        if (am_subject_matches(filter, natsMsg_GetSubject(m)))
            st = read_one(m, seq, natsMsg_GetTime(m), fn, ud, err);
        natsMsg_Destroy(m);
    }
    return st;
}

static core_status js_group_info(void *impl, const char *group, struct am_group_info *out,
                                 core_err *err)
{
    struct js_impl *ji = impl;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, ji->js, ji->stream, group, NULL, &jerr);
    if (s == NATS_NOT_FOUND)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "stream %s has no group %s", ji->stream,
                            group);
    if (s != NATS_OK)
        return api_error(ji, s, jerr, "reading a group's position", err);
    out->pending = ci->NumPending;
    out->ack_pending = (uint64_t)ci->NumAckPending;
    out->redelivered = (uint64_t)ci->NumRedelivered;
    out->ack_floor = ci->AckFloor.Stream;
    jsConsumerInfo_Destroy(ci);
    return CORE_OK;
}

static core_status js_state(void *impl, struct am_stream_state *out, core_err *err)
{
    struct js_impl *ji = impl;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, ji->js, ji->stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND)
        return core_err_set(err, CORE_ERR_NOT_FOUND, "stream %s does not exist at %s", ji->stream,
                            ji->url);
    if (s != NATS_OK)
        return api_error(ji, s, jerr, "reading the stream's state", err);
    out->messages = si->State.Msgs;
    out->bytes = si->State.Bytes;
    out->first_seq = si->State.FirstSeq;
    out->last_seq = si->State.LastSeq;
    out->consumers = si->State.Consumers > 0 ? (uint64_t)si->State.Consumers : 0;
    if (out->messages == 0)
        out->first_seq = out->last_seq = 0; /* the server reports last + 1 as first when empty */
    jsStreamInfo_Destroy(si);
    return CORE_OK;
}

static int by_consumer_name(const void *a, const void *b)
{
    const jsConsumerInfo *x = *(const jsConsumerInfo *const *)a;
    const jsConsumerInfo *y = *(const jsConsumerInfo *const *)b;
    return strcmp(x->Name ? x->Name : "", y->Name ? y->Name : "");
}

static core_status js_groups(void *impl, am_group_fn fn, void *ud, core_err *err)
{
    struct js_impl *ji = impl;
    jsConsumerInfoList *list = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_Consumers(&list, ji->js, ji->stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND)
        return CORE_OK; /* nats.c's answer for a stream without consumers */
    if (s != NATS_OK)
        return api_error(ji, s, jerr, "listing the stream's groups", err);
    if (list->Count > 1)
        qsort(list->List, (size_t)list->Count, sizeof *list->List, by_consumer_name);
    core_status st = CORE_OK;
    for (int i = 0; st == CORE_OK && i < list->Count; i++) {
        const jsConsumerInfo *ci = list->List[i];
        if (!ci->Name || !ci->Config || core_str_blank(ci->Config->Durable))
            continue; /* an ephemeral consumer: a watch, another tool */
        struct am_group_desc g = {ci->Name,
                                  ci->Config->FilterSubject ? ci->Config->FilterSubject : "",
                                  {ci->NumPending, (uint64_t)ci->NumAckPending,
                                   (uint64_t)ci->NumRedelivered, ci->AckFloor.Stream}};
        st = fn(ud, &g, err);
    }
    jsConsumerInfoList_Destroy(list);
    return st;
}

/* ---- watches ----------------------------------------------------------------------------------
 */

struct js_watch {
    struct js_impl *ji;
    natsSubscription *sub;
    am_stored_fn fn;
    void *ud;
    bool complete; /* nats.c's on-complete callback ran (guarded by ji->mu) */
};

static void on_watch_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    struct js_watch *w = closure;
    (void)nc;
    (void)sub;
    jsMsgMetaData *meta = NULL;
    uint64_t seq = 0;
    int64_t time_ns = 0;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        seq = meta->Sequence.Stream;
        time_ns = meta->Timestamp;
    }
    core_err err = CORE_ERR_INIT;
    if (read_one(msg, seq, time_ns, w->fn, w->ud, &err) != CORE_OK)
        log_debug(LOG_COMP, "watch of stream %s: %s", w->ji->stream, err.msg);
    jsMsgMetaData_Destroy(meta);
    natsMsg_Destroy(msg);
}

static void on_watch_complete(void *closure)
{
    struct js_watch *w = closure;
    pthread_mutex_lock(&w->ji->mu);
    w->complete = true;
    pthread_cond_broadcast(&w->ji->cv);
    pthread_mutex_unlock(&w->ji->mu);
}

static void js_unwatch(void *impl, void *handle)
{
    struct js_impl *ji = impl;
    struct js_watch *w = handle;
    if (!w)
        return;
    if (w->sub) {
        /* nats.c deletes the ordered consumer it created when the subscription ends */
        natsSubscription_Unsubscribe(w->sub);
        pthread_mutex_lock(&ji->mu);
        bool done = wait_flag(ji, &w->complete, deadline_in(CLOSED_CB_WAIT_MS));
        pthread_mutex_unlock(&ji->mu);
        if (!done) {
            log_error(LOG_COMP, "watch of stream %s: its callback did not end; left allocated",
                      ji->stream);
            return;
        }
        natsSubscription_Destroy(w->sub);
    }
    core_free(w);
}

static core_status js_watch(void *impl, const char *filter, uint64_t from_seq, am_stored_fn fn,
                            void *ud, void **handle, core_err *err)
{
    struct js_impl *ji = impl;
    struct js_watch *w = core_calloc(1, sizeof *w);
    if (!w)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory starting a watch");
    w->ji = ji;
    w->fn = fn;
    w->ud = ud;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = ji->stream;
    so.Ordered = true; /* ephemeral, no acks, flow control and heartbeats (nats.c sets them) */
    if (from_seq == AM_WATCH_NEW) {
        so.Config.DeliverPolicy = js_DeliverNew;
    } else {
        so.Config.DeliverPolicy = js_DeliverByStartSequence;
        so.Config.OptStartSeq = from_seq;
    }
    jsErrCode jerr = 0;
    natsStatus s = js_Subscribe(&w->sub, ji->js, filter, on_watch_msg, w, NULL, &so, &jerr);
    if (s == NATS_OK)
        s = natsSubscription_SetOnCompleteCB(w->sub, on_watch_complete, w);
    if (s != NATS_OK) {
        core_status st = api_error(ji, s, jerr, "starting an ordered consumer", err);
        js_unwatch(ji, w);
        return st;
    }
    *handle = w;
    return CORE_OK;
}

static bool js_wait_connected(void *impl, int timeout_ms)
{
    struct js_impl *ji = impl;
    struct timespec deadline = deadline_in(timeout_ms > 0 ? timeout_ms : 0);
    /* up is set by the (re)connected callbacks, which nats.c runs a little after the status
     * changed; the status alone tells at once that the connection is down */
    pthread_mutex_lock(&ji->mu);
    int rc = 0;
    bool up;
    while (!(up = ji->up && natsConnection_Status(ji->nc) == NATS_CONN_STATUS_CONNECTED) &&
           rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&ji->cv, &ji->mu, &deadline);
    pthread_mutex_unlock(&ji->mu);
    return up;
}

/* ---- close and free -------------------------------------------------------------------------- */

static core_status js_close(void *impl, int timeout_ms, bool *abandoned, core_err *err)
{
    struct js_impl *ji = impl;
    struct timespec deadline = deadline_in(timeout_ms);
    core_status st = CORE_OK;

    pthread_mutex_lock(&ji->mu);
    ji->closing = true;
    size_t n = ji->n_subs;
    pthread_mutex_unlock(&ji->mu);

    /* 1. every subscription stops receiving and works off what it holds (all in parallel) */
    for (size_t i = 0; i < n; i++)
        if (natsSubscription_DrainTimeout(ji->subs[i]->sub, timeout_ms) != NATS_OK)
            natsSubscription_Unsubscribe(ji->subs[i]->sub); /* connection gone: just stop */
    /* 2. wait for the drains; one not done by the deadline is cut short */
    for (size_t i = 0; i < n; i++) {
        long long left = ms_until(deadline);
        natsStatus s =
            natsSubscription_WaitForDrainCompletion(ji->subs[i]->sub, left > 0 ? left : 1);
        if (s == NATS_TIMEOUT) {
            pthread_mutex_lock(&ji->mu);
            ji->subs[i]->stopping = true;
            pthread_mutex_unlock(&ji->mu);
            natsSubscription_Unsubscribe(ji->subs[i]->sub);
            log_warn(LOG_COMP,
                     "group %s: not drained within %d ms; the rest is delivered again later",
                     ji->subs[i]->group, timeout_ms);
        }
    }
    /* 3. wait until no handler runs any more (nats.c's on-complete callbacks); a handler that is
     *    in the middle of a request to the server (an acknowledgement, a publish) may need up to
     *    the publish timeout beyond the deadline to get its answer or give up */
    size_t running = 0;
    pthread_mutex_lock(&ji->mu);
    long long left = ms_until(deadline);
    struct timespec grace = deadline_in((int)(left > 0 ? left : 0) + ji->publish_timeout_ms + 1000);
    for (size_t i = 0; i < n; i++)
        if (!wait_flag(ji, &ji->subs[i]->complete, grace))
            running++;
    pthread_mutex_unlock(&ji->mu);
    if (running > 0) {
        *abandoned = true;
        st = core_err_set(err, CORE_ERR_UNAVAILABLE,
                          "stream %s: %zu handlers still running after %d ms", ji->stream, running,
                          timeout_ms);
    }

    /* 4. the connection: flush the last acknowledgements, close, wait for the closed callback */
    if (natsConnection_Status(ji->nc) == NATS_CONN_STATUS_CONNECTED)
        natsConnection_FlushTimeout(ji->nc, 1000);
    natsConnection_Close(ji->nc);
    pthread_mutex_lock(&ji->mu);
    if (!wait_flag(ji, &ji->closed_cb, deadline_in(CLOSED_CB_WAIT_MS)))
        ji->leak = true;
    pthread_mutex_unlock(&ji->mu);
    return st;
}

static void js_free(void *impl, bool abandoned)
{
    struct js_impl *ji = impl;
    if (abandoned || ji->leak) {
        log_error(LOG_COMP, "stream %s: the connection's resources are left allocated", ji->stream);
        return;
    }
    for (size_t i = 0; i < ji->n_subs; i++) {
        natsSubscription_Destroy(ji->subs[i]->sub);
        core_free(ji->subs[i]);
    }
    core_free(ji->subs);
    if (ji->batch_js)
        jsCtx_Destroy(ji->batch_js);
    jsCtx_Destroy(ji->js);
    natsConnection_Destroy(ji->nc);
    pthread_mutex_destroy(&ji->batch_ack_mu);
    pthread_mutex_destroy(&ji->batch_mu);
    pthread_cond_destroy(&ji->cv);
    pthread_mutex_destroy(&ji->mu);
    core_free(ji->url);
    core_free(ji);
}

static const struct am_stream_ops js_ops = {
    .kind = "jetstream",
    .publish = js_publish,
    .subscribe = js_subscribe,
    .ack = js_ack,
    .nak = js_nak,
    .read = js_read,
    .group_info = js_group_info,
    .wait_connected = js_wait_connected,
    .close = js_close,
    .free = js_free,
    .state = js_state,
    .groups = js_groups,
    .watch = js_watch,
    .unwatch = js_unwatch,
    .publish_batch = js_publish_batch,
    .release = js_release,
};

/* ---- connect --------------------------------------------------------------------------------- */

static core_status impl_new(struct js_impl **out, const struct am_js_opts *o, core_err *err)
{
    struct js_impl *ji = core_calloc(1, sizeof *ji);
    if (!ji || !(ji->url = core_strdup(o->url))) {
        core_free(ji);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory connecting to the message broker");
    }
    pthread_condattr_t attr;
    bool ok = pthread_mutex_init(&ji->mu, NULL) == 0;
    if (ok && pthread_condattr_init(&attr) == 0) {
        ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&ji->cv, &attr) == 0;
        pthread_condattr_destroy(&attr);
        if (!ok)
            pthread_mutex_destroy(&ji->mu);
    } else if (ok) {
        ok = false;
        pthread_mutex_destroy(&ji->mu);
    }
    if (ok && pthread_mutex_init(&ji->batch_mu, NULL) != 0) {
        ok = false;
        pthread_cond_destroy(&ji->cv);
        pthread_mutex_destroy(&ji->mu);
    }
    if (ok && pthread_mutex_init(&ji->batch_ack_mu, NULL) != 0) {
        ok = false;
        pthread_mutex_destroy(&ji->batch_mu);
        pthread_cond_destroy(&ji->cv);
        pthread_mutex_destroy(&ji->mu);
    }
    if (!ok) {
        core_free(ji->url);
        core_free(ji);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory connecting to the message broker");
    }
    core_strlcpy(ji->stream, o->stream, sizeof ji->stream);
    ji->publish_timeout_ms =
        o->publish_timeout_ms ? o->publish_timeout_ms : AM_PUBLISH_TIMEOUT_MS_DEFAULT;
    *out = ji;
    return CORE_OK;
}

/* Connects (ji->nc), waiting at most connect_timeout_ms for the first connection. */
static core_status js_connect(struct js_impl *ji, const struct am_js_opts *o, core_err *err)
{
    int connect_ms = o->connect_timeout_ms ? o->connect_timeout_ms : AM_CONNECT_TIMEOUT_MS_DEFAULT;
    natsOptions *no = NULL;
    natsStatus s = natsOptions_Create(&no);
    if (s == NATS_OK && (s = natsOptions_SetURL(no, o->url)) != NATS_OK) {
        natsOptions_Destroy(no);
        return core_err_set(err, CORE_ERR_INVALID, "NATS_URL: \"%.128s\" is not a NATS server URL",
                            o->url);
    }
    if (s == NATS_OK)
        s = natsOptions_SetName(no, o->name ? o->name : "mallbots");
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(no, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(no, o->reconnect_wait_ms ? o->reconnect_wait_ms
                                                                  : RECONNECT_WAIT_MS_DEFAULT);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(no, connect_ms < 2000 ? connect_ms : 2000); /* per attempt */
    if (s == NATS_OK)
        s = natsOptions_SetRetryOnFailedConnect(no, true, on_connected, ji);
    if (s == NATS_OK)
        s = natsOptions_SetFailRequestsOnDisconnect(no, true);
    if (s == NATS_OK)
        s = natsOptions_SetClosedCB(no, on_closed, ji);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(no, on_disconnected, ji);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(no, on_reconnected, ji);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(no, on_async_error, ji);
    if (s != NATS_OK) {
        natsOptions_Destroy(no);
        return core_err_set(err, CORE_ERR_NOMEM, "setting up the NATS connection: %s",
                            natsStatus_GetText(s));
    }
    s = natsConnection_Connect(&ji->nc, no);
    natsOptions_Destroy(no);
    if (s == NATS_OK) {
        pthread_mutex_lock(&ji->mu);
        ji->connected = ji->up = true;
        pthread_mutex_unlock(&ji->mu);
        return CORE_OK;
    }
    if (s != NATS_NOT_YET_CONNECTED) {
        char text[160];
        ji->nc = NULL;
        return core_err_set(err, CORE_ERR_INVALID, "NATS_URL: cannot use \"%.128s\": %s", o->url,
                            last_error(text, sizeof text, s));
    }
    pthread_mutex_lock(&ji->mu);
    bool connected = wait_flag(ji, &ji->connected, deadline_in(connect_ms));
    pthread_mutex_unlock(&ji->mu);
    if (!connected)
        return core_err_set(
            err, CORE_ERR_UNAVAILABLE,
            "cannot reach the message broker at %.128s within %d ms (is nats-server "
            "running? make lab-up starts one)",
            o->url, connect_ms);
    return CORE_OK;
}

/* Creates the stream or updates it to this configuration. */
static core_status ensure_stream(struct js_impl *ji, const struct am_js_opts *o, core_err *err)
{
    char subject[AM_NAME_MAX + 3];
    snprintf(subject, sizeof subject, "%s.>", ji->stream);
    const char *subjects[1] = {subject};
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = ji->stream;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Duplicates = (int64_t)(o->duplicate_window_ms ? o->duplicate_window_ms
                                                     : AM_DUPLICATE_WINDOW_MS_DEFAULT) *
                    1000000; /* nanoseconds */
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (o->existing_only) {
        natsStatus s = js_GetStreamInfo(&si, ji->js, ji->stream, NULL, &jerr);
        jsStreamInfo_Destroy(si);
        if (s == NATS_NOT_FOUND)
            return core_err_set(err, CORE_ERR_NOT_FOUND, "stream %s does not exist at %s",
                                ji->stream, ji->url);
        if (s != NATS_OK)
            return api_error(ji, s, jerr, "looking up the stream", err);
        return CORE_OK;
    }
    natsStatus s = js_AddStream(&si, ji->js, &sc, NULL, &jerr);
    if (s != NATS_OK && jerr == JSStreamNameExistErr) {
        jerr = 0;
        s = js_UpdateStream(&si, ji->js, &sc, NULL, &jerr);
    }
    jsStreamInfo_Destroy(si);
    if (s != NATS_OK) {
        char what[AM_NAME_MAX + 48];
        snprintf(what, sizeof what, "creating or updating stream %s", ji->stream);
        return api_error(ji, s, jerr, what, err);
    }
    return CORE_OK;
}

/* Closes a connection that never became a stream, then frees ji (unless a callback may come). */
static void impl_abort(struct js_impl *ji)
{
    if (ji->js)
        jsCtx_Destroy(ji->js);
    if (ji->nc) {
        pthread_mutex_lock(&ji->mu);
        ji->closing = true;
        pthread_mutex_unlock(&ji->mu);
        natsConnection_Close(ji->nc);
        pthread_mutex_lock(&ji->mu);
        bool closed = wait_flag(ji, &ji->closed_cb, deadline_in(CLOSED_CB_WAIT_MS));
        pthread_mutex_unlock(&ji->mu);
        if (!closed)
            return; /* the closed callback may still come and use ji */
        natsConnection_Destroy(ji->nc);
    }
    pthread_mutex_destroy(&ji->batch_ack_mu);
    pthread_mutex_destroy(&ji->batch_mu);
    pthread_cond_destroy(&ji->cv);
    pthread_mutex_destroy(&ji->mu);
    core_free(ji->url);
    core_free(ji);
}

core_status am_js_stream_new(am_stream **out, const struct am_js_opts *opts, core_err *err)
{
    if (!opts || core_str_blank(opts->url))
        return core_err_set(err, CORE_ERR_INVALID, "NATS_URL is not set");
    if (!am_name_valid(opts->stream) || strcmp(opts->stream, "_am") == 0)
        return core_err_set(err, CORE_ERR_INVALID,
                            "NATS_STREAM: \"%.80s\" is not a valid stream name (letters, digits, "
                            "'-' and '_', at most %d)",
                            opts->stream ? opts->stream : "", AM_NAME_MAX);
    if (opts->connect_timeout_ms < 0 || opts->publish_timeout_ms < 0 ||
        opts->duplicate_window_ms < 0 || opts->reconnect_wait_ms < 0)
        return core_err_set(err, CORE_ERR_INVALID, "message broker options cannot be negative");
    struct js_impl *ji = NULL;
    core_status st = impl_new(&ji, opts, err);
    if (st != CORE_OK)
        return st;
    st = js_connect(ji, opts, err);
    if (st == CORE_OK) {
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = ji->publish_timeout_ms; /* milliseconds */
        if (natsConnection_JetStream(&ji->js, ji->nc, &jo) != NATS_OK)
            st = core_err_set(err, CORE_ERR_NOMEM, "out of memory creating a JetStream context");
    }
    if (st == CORE_OK)
        st = ensure_stream(ji, opts, err);
    if (st != CORE_OK) {
        impl_abort(ji);
        return st;
    }
    log_info(LOG_COMP, "connected to %s, stream %s (subjects %s.>)", opts->url, opts->stream,
             opts->stream);
    return am_stream_new(out, &js_ops, ji, opts->stream, err);
}

void am_js_library_close(void)
{
    nats_CloseAndWait(5000);
}
